// proxyHost/proxyPort/proxyUsername/proxyPassword end to end: a client
// reaches the simulated replica set only through a SOCKS5 proxy written in the
// tests, monitors and pooled connections alike; the SOCKS5 support
// specification's prose cases (with and without proxy authentication, wrong
// credentials, URI and object options); and the combinations refused at
// construction.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, ServerSelectionError } from "../../src/errors.ts";
import { Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { connectSocket, type SocketOptions } from "../../src/net/socket.ts";
import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { type Socks5Server, startSocks5Server } from "../helpers/socks5_server.ts";

/** The names only the proxy knows map to loopback, as a proxy in another network would resolve them. */
const resolve = (r: { host: string; port: number }) => ({
  host: r.host.endsWith(".zerodep.invalid") ? "127.0.0.1" : r.host,
  port: r.port,
});

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("SOCKS5 proxy options", () => {
  let rs: ReplicaSet;
  let open: Socks5Server;
  let authed: Socks5Server;
  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "px" });
    open = await startSocks5Server({ resolve });
    authed = await startSocks5Server({ resolve, auth: { username: "username", password: "p4ssw0rd" } });
  });
  after(async () => {
    await open.close();
    await authed.close();
    await rs.close();
  });

  test("every connection, monitors and pool, goes through the proxy; names resolve at the proxy", async () => {
    const before = open.requests.length;
    // The seed's name resolves nowhere but at the proxy.
    const seed = `seed.zerodep.invalid:${rs.hosts[0].split(":")[1]}`;
    await using c = await ReplicaSetConnection.connect(
      `mongodb://${seed}/?replicaSet=px&proxyHost=127.0.0.1&proxyPort=${open.port}&serverSelectionTimeoutMS=10000`,
    );
    const coll = c.db("t").collection("proxied");
    await coll.insertOne({ _id: 1 });
    assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1 });
    const requests = () => open.requests.slice(before);
    assert.ok(requests().some((r) => r.atyp === 3 && `${r.host}:${r.port}` === seed), "the seed went as a domain name");
    for (const member of rs.members) {
      const connections = () => new Set(member.requests.map((r) => r.connectionId)).size;
      const proxied = () => requests().filter((r) => r.port === member.port).length;
      await waitFor(`every connection to ${member.host}:${member.port} to be one the proxy made`, () =>
        connections() > 0 && connections() === proxied());
    }
  });

  // The specification's prose table, against a proxy that requires
  // username/p4ssw0rd and one that requires nothing, with a replica set and
  // with directConnection to the name only the proxy maps.
  const mapped = () => `mapped.zerodep.invalid:${rs.hosts[0].split(":")[1]}`;
  const cases: [string, () => string, boolean][] = [
    ["direct, auth proxy, no credentials", () => `${mapped()}/?proxyPort=${authed.port}&directConnection=true`, false],
    ["direct, open proxy", () => `${mapped()}/?proxyPort=${open.port}&directConnection=true`, true],
    ["set, auth proxy, no credentials", () => `${rs.hosts.join(",")}/?proxyPort=${authed.port}`, false],
    ["set, open proxy", () => `${rs.hosts.join(",")}/?proxyPort=${open.port}`, true],
    [
      "direct, auth proxy, wrong credentials",
      () => `${mapped()}/?proxyPort=${authed.port}&proxyUsername=nonexistentuser&proxyPassword=badauth&directConnection=true`,
      false,
    ],
    [
      "direct, open proxy, unused credentials",
      () => `${mapped()}/?proxyPort=${open.port}&proxyUsername=nonexistentuser&proxyPassword=badauth&directConnection=true`,
      true,
    ],
    [
      "set, open proxy, unused credentials",
      () => `${rs.hosts.join(",")}/?proxyPort=${open.port}&proxyUsername=nonexistentuser&proxyPassword=badauth`,
      true,
    ],
    [
      "direct, auth proxy, right credentials",
      () => `${mapped()}/?proxyPort=${authed.port}&proxyUsername=username&proxyPassword=p4ssw0rd&directConnection=true`,
      true,
    ],
    [
      "set, auth proxy, right credentials",
      () => `${rs.hosts.join(",")}/?proxyPort=${authed.port}&proxyUsername=username&proxyPassword=p4ssw0rd`,
      true,
    ],
  ];
  for (const [label, uri, succeeds] of cases) {
    for (const form of ["URI", "object options"] as const) {
      test(`${label} (${form}): ${succeeds ? "succeeds" : "fails"}`, async () => {
        const [hosts, query] = uri().split("/?");
        const params = new URLSearchParams(`proxyHost=127.0.0.1&${query}`);
        // A failure is known at the first check; a short limit keeps the failing cases quick.
        const limit = succeeds ? 10_000 : 1000;
        const timeouts = `serverSelectionTimeoutMS=${limit}`;
        const isDirect = params.get("directConnection") === "true";
        const where = isDirect ? {} : { replicaSet: "px" };
        // A direct connection is this driver's Connection class; a set, ReplicaSetConnection.
        const Client = isDirect ? Connection : ReplicaSetConnection;
        let c: Connection | ReplicaSetConnection;
        if (form === "URI") {
          c = new Client(`mongodb://${hosts}/?${params}&${timeouts}${isDirect ? "" : "&replicaSet=px"}`);
        } else {
          const options: Record<string, unknown> = { ...where, serverSelectionTimeoutMS: limit };
          for (const [k, v] of params) options[k] = k === "proxyPort" ? Number(v) : k === "directConnection" ? true : v;
          c = new Client(`mongodb://${hosts}`, options);
        }
        try {
          const outcome = await c.db("admin").command({ hello: 1 }).then(() => null, (e) => e);
          if (succeeds) {
            assert.equal(outcome, null, `hello failed: ${outcome}`);
          } else {
            assert.ok(outcome instanceof ServerSelectionError, `expected a server selection error, got ${outcome}`);
            assert.match(
              outcome.message,
              /SOCKS5 proxy 127\.0\.0\.1:\d+: the proxy (requires authentication|rejected proxyUsername\/proxyPassword)/,
            );
          }
        } finally {
          await c.close();
        }
      });
    }
  }

  test("proxyHost with a socketFactory is a ConfigurationError at construction", () => {
    assert.throws(
      () =>
        new ReplicaSetConnection("a:1", {
          replicaSet: "x",
          proxyHost: "127.0.0.1",
          socketFactory: (o: SocketOptions) => connectSocket(o),
        }),
      (e: unknown) => e instanceof ConfigurationError && /proxyHost and socketFactory/.test(e.message),
    );
  });
});
