// Runs the Initial DNS Seedlist Discovery spec vectors end to end, then the
// prose tests of its README.
//
//   DNS_SEEDLIST_SPEC_DIR  a folder holding replica-set/, load-balanced/ and sharded/
//                          (default: tests/spec/initial-dns-seedlist-discovery)
//
// The set-up the README asks for, on loopback:
// - its DNS record table (below, as the README prints it) is served by the
//   project's UDP DNS server (tests/helpers/dns_server.ts), and each client's
//   resolver is pointed at it (the hidden DNS_RESOLVER option);
// - a simulated replica set `repl0` whose three members are named
//   localhost:27017, localhost:27018 and localhost:27019 while they listen on
//   free ports; the client's `socketFactory` (public API) plays the A records
//   and the fixed ports: a name the table gives 127.0.0.1 (or `localhost`) with
//   port 27017..27019 reaches that member, anything else is refused;
// - "started with SSL enabled": the simulator speaks no TLS, so each member
//   has a TLS terminator in front (tests/helpers/tls_terminator.ts) whose
//   certificate names the vectors' hosts; a TLS connection goes through it
//   with the name the driver asked for as SNI and certificate name.
//
// Each file is one test. Sharded and load-balanced vectors are skipped (the
// simulator is a replica set), each with its reason. The closing test prints
// `initial-dns-seedlist-discovery: files F, tests T, passed P, failed X, skipped S`
// and fails unless every file ran or was skipped and none failed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

import { ConfigurationError, ConnectionFailure, MongoError } from "../../src/errors.ts";
import { Connection } from "../../src/client/mod.ts";
import { DNS_RESOLVER, TOPOLOGY_FACTORY, type TopologyFactory } from "../../src/client/_internal.ts";
import { type DnsResolver, systemResolver } from "../../src/net/dns.ts";
import { connectSocket, type Socket, type SocketOptions } from "../../src/net/socket.ts";
import { parseConnectionString } from "../../src/topology/connection_string.ts";
import { lookupOption } from "../../src/topology/options.ts";
import { Topology } from "../../src/topology/topology.ts";
import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { type DnsEntry, type DnsServer, startDnsServer } from "../helpers/dns_server.ts";
import { certSkipReason, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import { startTlsTerminator } from "../helpers/tls_terminator.ts";
import type { TcpServer } from "../helpers/tcp_server.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const specDir = resolve(process.env.DNS_SEEDLIST_SPEC_DIR || join(here, "../spec/initial-dns-seedlist-discovery"));
const LABEL = "initial-dns-seedlist-discovery";
const SUBFOLDERS = ["replica-set", "load-balanced", "sharded"] as const;
const NOT_APPLICABLE: Record<string, string> = {
  "load-balanced": "not applicable: needs mongos servers behind load balancers on ports 27050/27051 (HAProxy on " +
    "8000); the simulator is a replica set",
  "sharded": "not applicable: needs a sharded cluster with mongos servers on ports 27017 and 27018; the simulator " +
    "is a replica set",
};

// The README's record table ("Test Setup"), as printed there.
const RECORD_TABLE = `
localhost.test.build.10gen.cc.            86400  IN A    127.0.0.1
localhost.sub.test.build.10gen.cc.        86400  IN A    127.0.0.1

_mongodb._tcp.test1.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test1.test.build.10gen.cc.    86400  IN SRV  27018  localhost.test.build.10gen.cc.
_mongodb._tcp.test2.test.build.10gen.cc.    86400  IN SRV  27018  localhost.test.build.10gen.cc.
_mongodb._tcp.test2.test.build.10gen.cc.    86400  IN SRV  27019  localhost.test.build.10gen.cc.
_mongodb._tcp.test3.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test5.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test6.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test7.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test8.test.build.10gen.cc.    86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test10.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test11.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test12.test.build.10gen.cc.   86400  IN SRV  27017  localhost.build.10gen.cc.
_mongodb._tcp.test13.test.build.10gen.cc.   86400  IN SRV  27017  test.build.10gen.cc.
_mongodb._tcp.test14.test.build.10gen.cc.   86400  IN SRV  27017  localhost.not-test.build.10gen.cc.
_mongodb._tcp.test15.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.not-build.10gen.cc.
_mongodb._tcp.test16.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.not-10gen.cc.
_mongodb._tcp.test17.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.not-cc.
_mongodb._tcp.test18.test.build.10gen.cc.   86400  IN SRV  27017  localhost.sub.test.build.10gen.cc.
_mongodb._tcp.test19.test.build.10gen.cc.   86400  IN SRV  27017  localhost.evil.build.10gen.cc.
_mongodb._tcp.test19.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test20.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test21.test.build.10gen.cc.   86400  IN SRV  27017  localhost.test.build.10gen.cc.
_customname._tcp.test22.test.build.10gen.cc 86400  IN SRV  27017  localhost.test.build.10gen.cc.
_mongodb._tcp.test23.test.build.10gen.cc.   86400  IN SRV  8000   localhost.test.build.10gen.cc.
_mongodb._tcp.test24.test.build.10gen.cc.   86400  IN SRV  8000   localhost.test.build.10gen.cc.

test5.test.build.10gen.cc.                86400  IN TXT  "replicaSet=repl0&authSource=thisDB"
test6.test.build.10gen.cc.                86400  IN TXT  "replicaSet=repl0"
test6.test.build.10gen.cc.                86400  IN TXT  "authSource=otherDB"
test7.test.build.10gen.cc.                86400  IN TXT  "ssl=false"
test8.test.build.10gen.cc.                86400  IN TXT  "authSource"
test10.test.build.10gen.cc.               86400  IN TXT  "socketTimeoutMS=500"
test11.test.build.10gen.cc.               86400  IN TXT  "replicaS" "et=rep" "l0"
test20.test.build.10gen.cc.               86400  IN TXT  "loadBalanced=true"
test21.test.build.10gen.cc.               86400  IN TXT  "loadBalanced=false"
test24.test.build.10gen.cc.               86400  IN TXT  "loadBalanced=true"
`;

// One record the table leaves out: replica-set/srv-service-name.json expects
// test22 to give test1's two seeds, as the live zone does (test22 was set up as
// a copy of test1 under _customname, mongodb/specifications PR #1073).
const TABLE_ADDITIONS = `
_customname._tcp.test22.test.build.10gen.cc 86400  IN SRV  27018  localhost.test.build.10gen.cc.
`;

/** The table as the DNS server's records: one entry per name, records in table order. */
function parseRecordTable(table: string): Record<string, DnsEntry> {
  const out: Record<string, DnsEntry> = {};
  for (const line of table.split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
    const m = /^(\S+)\s+\d+\s+IN\s+(A|SRV|TXT)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`cannot read the DNS record line ${JSON.stringify(line)}`);
    const name = m[1].replace(/\.$/, "").toLowerCase();
    const entry = out[name] ??= {};
    if (m[2] === "A") (entry.a ??= []).push(m[3].trim());
    else if (m[2] === "SRV") {
      const [port, target] = m[3].trim().split(/\s+/);
      (entry.srv ??= []).push({ target, port: Number(port) });
    } else {
      // Each quoted string is one character-string of the same record.
      (entry.txt ??= []).push([...m[3].matchAll(/"([^"]*)"/g)].map((s) => s[1]));
    }
  }
  return out;
}

const RECORDS = parseRecordTable(RECORD_TABLE + TABLE_ADDITIONS);
// The prose tests' SRV targets (given A records to 127.0.0.1 while those tests run).
const PROSE_NAMES = ["m1.localhost", "m1.mongo.local"];
const MEMBER_NAMES = ["localhost:27017", "localhost:27018", "localhost:27019"];

// deno-lint-ignore no-explicit-any
type Json = any;

interface VectorFile {
  /** `replica-set/one-txt-record.json` */
  name: string;
  path: string;
  skip: string | undefined;
}

function vectorFiles(): VectorFile[] {
  const out: VectorFile[] = [];
  for (const sub of SUBFOLDERS) {
    const dir = join(specDir, sub);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      out.push({ name: `${sub}/${file}`, path: join(dir, file), skip: NOT_APPLICABLE[sub] });
    }
  }
  return out;
}

/** The loopback world the vectors run in: DNS server, simulated set, TLS terminators. */
interface World {
  dns: DnsServer;
  rs: ReplicaSet;
  certs: TestCerts;
  /** Member port as named (27017...) -> where it listens, plain and behind TLS. */
  plain: Map<number, number>;
  tls: Map<number, TcpServer>;
}

async function startWorld(): Promise<World> {
  const dns = await startDnsServer(RECORDS);
  const rs = await startReplicaSet({ name: "repl0", members: MEMBER_NAMES.map((name) => ({ name })) });
  const loopbackNames = Object.entries(RECORDS).filter(([, e]) => e.a?.includes("127.0.0.1")).map(([n]) => n);
  const certs = makeTestCerts({ dnsNames: [...loopbackNames, ...PROSE_NAMES] });
  const plain = new Map<number, number>();
  const tls = new Map<number, TcpServer>();
  for (const m of rs.members) {
    const named = Number(m.name.split(":")[1]);
    plain.set(named, m.port);
    tls.set(named, await startTlsTerminator({ tls: certs, target: { host: "127.0.0.1", port: m.port } }));
  }
  return { dns, rs, certs, plain, tls };
}

async function stopWorld(w: World): Promise<void> {
  for (const t of w.tls.values()) await t.close();
  await w.rs.close();
  await w.dns.close();
  w.certs.remove();
}

/**
 * The client's socket factory: the A records and the fixed ports of the
 * README's set-up. Every request is recorded; a name the DNS table does not
 * send to 127.0.0.1, or a port no member is named with, is refused as a
 * connection failure (what an unreachable host would be).
 */
function loopbackFactory(w: World, opened: SocketOptions[]) {
  return (o: SocketOptions): Promise<Socket> => {
    opened.push(o);
    const host = o.host.toLowerCase();
    const ip = host === "localhost" ? "127.0.0.1" : w.dns.records[host]?.a?.[0];
    const port = ip === "127.0.0.1" ? w.plain.get(o.port) : undefined;
    if (port === undefined) {
      return Promise.reject(
        new ConnectionFailure("no such host or port in the test set-up", { address: `${o.host}:${o.port}` }),
      );
    }
    if (o.tls !== true) return connectSocket({ ...o, host: "127.0.0.1", port });
    return connectSocket({
      ...o,
      host: "127.0.0.1",
      port: w.tls.get(o.port)!.port,
      servername: o.servername ?? o.host,
      tlsCAFile: w.certs.caFile,
    });
  };
}

function clientOptions(
  w: World,
  opened: SocketOptions[],
  inits: Parameters<TopologyFactory>[0][],
  resolver: DnsResolver = systemResolver({ nameServer: { host: "127.0.0.1", port: w.dns.port } }),
) {
  return {
    [DNS_RESOLVER]: resolver,
    // A real Topology; the init is kept to read the credential the client derived.
    [TOPOLOGY_FACTORY]: ((init) => {
      inits.push(init);
      return new Topology(init);
    }) as TopologyFactory,
    socketFactory: loopbackFactory(w, opened),
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: 10_000,
    onWarning: () => {},
  };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** Waits (bounded) until `read()` gives `expected`, then asserts it either way. */
async function eventually(read: () => string[], expected: string[], what: string): Promise<void> {
  for (let i = 0; i < 500 && JSON.stringify(sorted(read())) !== JSON.stringify(sorted(expected)); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(sorted(read()), sorted(expected), what);
}

async function runVector(w: World, v: Json): Promise<void> {
  const opened: SocketOptions[] = [];
  const inits: Parameters<TopologyFactory>[0][] = [];
  let client: Connection | undefined;
  let error: unknown;
  try {
    client = new Connection(v.uri, clientOptions(w, opened, inits));
    await client.connect();
  } catch (e) {
    error = e;
  }
  try {
    if (v.error === true) {
      assert.ok(error !== undefined, "the client was created and connected, but the vector expects an error");
      assert.ok(error instanceof MongoError, `a typed driver error, got ${String(error)}`);
      assert.deepEqual(opened.map((o) => `${o.host}:${o.port}`), [], "no connection is opened after an error");
      return;
    }
    if (error !== undefined) throw error;
    const c = client!;
    const seeds = c.seeds.map(([h, p]) => `${h}:${p}`);
    if (v.seeds !== undefined) assert.deepEqual(sorted(seeds), sorted(v.seeds), "seeds");
    if (v.numSeeds !== undefined) assert.equal(seeds.length, v.numSeeds, "numSeeds");
    assert.equal(inits.length, 1, "one topology");
    assert.deepEqual(sorted(inits[0].seeds.map((h) => `${h.host}:${h.port}`)), sorted(seeds), "the topology's seeds");

    for (const [key, expected] of Object.entries((v.options ?? {}) as Record<string, Json>)) {
      const spec = lookupOption(key);
      assert.ok(spec !== undefined, `option ${key} is known to the driver`);
      assert.deepEqual((c.options as unknown as Record<string, unknown>)[spec.name], expected, `option ${key}`);
    }
    const parsed = parseConnectionString(v.uri);
    for (const [key, expected] of Object.entries((v.parsed_options ?? {}) as Record<string, Json>)) {
      if (key === "user") assert.equal(inits[0].credential?.username, expected, "parsed_options.user");
      else if (key === "password") assert.equal(inits[0].credential?.password, expected, "parsed_options.password");
      else if (key === "db" || key === "auth_database" || key === "defaultDatabase") {
        // The client keeps no default database of its own: its parser's is the parsed value.
        assert.equal(parsed.database, expected, `parsed_options.${key}`);
      } else assert.fail(`parsed_options.${key}: not a field this runner knows`);
    }

    if (v.ping !== false) {
      const reply = await c.db("admin").command("ping");
      assert.equal(reply.ok, 1, "ping");
    }
    if (v.hosts !== undefined) await eventually(() => c.hosts, v.hosts, "hosts");
    if (v.numHosts !== undefined) {
      for (let i = 0; i < 500 && c.hosts.length !== v.numHosts; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(c.hosts.length, v.numHosts, "numHosts");
    }
    // mongodb+srv:// implies TLS unless the URI says otherwise: every socket asked for what the options say.
    assert.ok(opened.length > 0, "the client connected through the socket factory");
    for (const o of opened) assert.equal(o.tls, c.options.tls, `TLS of the connection to ${o.host}:${o.port}`);
  } finally {
    await client?.close();
  }
}

const files = vectorFiles();
const tally = { passed: 0, failed: 0, skipped: 0 };

describe(`${LABEL} spec vectors (${specDir})`, () => {
  let world: World | undefined;
  // Under CI a missing openssl fails the run (startWorld throws) instead of skipping.
  const certSkip = process.env.CI === "true" ? undefined : certSkipReason();
  before(async () => {
    if (certSkip === undefined) world = await startWorld();
  });
  after(async () => {
    if (world !== undefined) await stopWorld(world);
  });

  test(`${LABEL}: the folder holds ${SUBFOLDERS.join("/, ")}/ and at least one vector`, () => {
    assert.ok(existsSync(specDir), `${specDir} does not exist (check DNS_SEEDLIST_SPEC_DIR)`);
    for (const sub of SUBFOLDERS) assert.ok(existsSync(join(specDir, sub)), `${specDir} has no ${sub}/ folder`);
    assert.ok(files.length > 0, `no *.json vector in ${specDir}`);
  });

  for (const f of files) {
    const skip = f.skip ?? certSkip;
    if (skip !== undefined) {
      tally.skipped++;
      console.log(`${LABEL}: skipped ${f.name}: ${skip}`);
      test(f.name, { skip }, () => {});
      continue;
    }
    test(f.name, async () => {
      try {
        await runVector(world!, JSON.parse(readFileSync(f.path, "utf8")));
        tally.passed++;
      } catch (e) {
        tally.failed++;
        throw e;
      }
    });
  }

  test(`${LABEL}: every vector ran or was skipped, and none failed`, () => {
    const run = tally.passed + tally.failed + tally.skipped;
    console.log(
      `${LABEL}: files ${files.length}, tests ${run}, passed ${tally.passed}, failed ${tally.failed}, ` +
        `skipped ${tally.skipped}`,
    );
    assert.ok(files.length > 0, `no vector in ${specDir}`);
    assert.equal(run, files.length, "each file is one test");
    assert.equal(tally.failed, 0, "failed vectors");
  });

  // The README's prose tests, through the client end to end, with the DNS
  // results stubbed as the README assumes (a resolver object in place of the
  // runtime's: Deno's answers *.localhost itself, RFC 6761, so no DNS server
  // would be asked). The client must refuse each answer before any connection
  // (or, for test 1, accept the short host and connect).
  describe("prose tests", () => {
    const skip = certSkip;
    const srvCase = async (
      host: string,
      targets: { target: string; port: number }[],
      check: (c: Connection, error: unknown, opened: SocketOptions[]) => void | Promise<void>,
    ) => {
      const w = world!;
      const asked: string[] = [];
      const stub: DnsResolver = {
        srv: (name) => {
          asked.push(name);
          return name === `_mongodb._tcp.${host}`
            ? Promise.resolve(targets)
            : Promise.reject(new ConnectionFailure("no SRV records", { address: name }));
        },
        txt: () => Promise.resolve([]),
      };
      // The prose targets' A records, for the socket factory.
      w.dns.records = { ...RECORDS, ...Object.fromEntries(PROSE_NAMES.map((n) => [n, { a: ["127.0.0.1"] }])) };
      const opened: SocketOptions[] = [];
      const c = new Connection(`mongodb+srv://${host}`, clientOptions(w, opened, [], stub));
      try {
        const error = await c.connect().then(() => undefined, (e) => e);
        assert.deepEqual(asked, [`_mongodb._tcp.${host}`], `the SRV lookup of ${host} was made`);
        await check(c, error, opened);
      } finally {
        await c.close();
        w.dns.records = RECORDS;
      }
    };
    const refused = (host: string, target: string) =>
      srvCase(host, [{ target, port: 27017 }], (_c, error, opened) => {
        assert.ok(error instanceof ConfigurationError, `${host} -> ${target}: got ${String(error)}`);
        assert.ok(error.message.includes(JSON.stringify(target)) && /refusing to connect/.test(error.message));
        assert.deepEqual(opened, [], "no connection to a refused target");
      });

    test("1. an SRV host of fewer than three labels is allowed (localhost, mongo.local)", { skip }, async () => {
      for (const [host, target] of [["localhost", "m1.localhost"], ["mongo.local", "m1.mongo.local"]]) {
        await srvCase(host, [{ target, port: 27018 }], async (c, error) => {
          assert.equal(error, undefined, `${host}: ${String(error)}`);
          assert.deepEqual(c.seeds, [[target, 27018]]);
          assert.equal((await c.db("admin").command("ping")).ok, 1);
        });
      }
    });

    test("2. a target outside the SRV host's domain is refused", { skip }, async () => {
      await refused("localhost", "localhost.mongodb");
      await refused("mongo.local", "test_1.evil.local");
      await refused("blogs.mongodb.com", "blogs.evil.com");
    });

    test("3. a target identical to an SRV host of fewer than three labels is refused", { skip }, async () => {
      await refused("localhost", "localhost");
      await refused("mongo.local", "mongo.local");
    });

    test("4. a target without the '.' before the shared part of the domain is refused", { skip }, async () => {
      await refused("localhost", "test_1.cluster_1localhost");
      await refused("mongo.local", "test_1.my_hostmongo.local");
      await refused("blogs.mongodb.com", "cluster.testmongodb.com");
    });
  });
});
