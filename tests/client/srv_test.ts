// mongodb+srv:// (the Initial DNS Seedlist Discovery specification): the pure
// rules of src/topology/srv.ts, the runtime resolvers of src/net/dns.ts
// against a real DNS server speaking RFC 1035 over UDP (tests/helpers/
// dns_server.ts), and the client end to end: DNS lookups at first use, TXT
// defaults under the URI's options, then a real Topology discovering a
// simulated replica set. The SRV targets are names under test.build, which no
// resolver knows; the topology's connect hook sends them to 127.0.0.1.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, ConnectionFailure } from "../../src/errors.ts";
import { Connection as WireConnection, type ConnectionOptions, type ServerAddress } from "../../src/net/connection.ts";
import { systemResolver } from "../../src/net/dns.ts";
import { optionsFromTxt, pickSrvHosts, seedsFromSrv, srvQueryName } from "../../src/topology/srv.ts";
import { Topology } from "../../src/topology/topology.ts";
import { type ClientConnectionOptions, Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { DNS_RESOLVER, TOPOLOGY_FACTORY, type TopologyFactory } from "../../src/client/_internal.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { type DnsEntry, startDnsServer } from "../helpers/dns_server.ts";

const targets = (host: string, names: string[]) => seedsFromSrv(host, names.map((target) => ({ target, port: 27017 })));

describe("SRV records (pure rules)", () => {
  test("targets must be in the URI host's domain, one level below at least", () => {
    assert.deepEqual(
      targets("cluster0.example.com", ["a.example.com", "B.Example.COM.", "x.y.example.com"]).map((h) => h.host),
      [
        "a.example.com",
        "b.example.com",
        "x.y.example.com",
      ],
    );
    for (const bad of ["a.evil.com", "example.com", "a.badexample.com", "com", "a.example.com.evil.net"]) {
      assert.throws(
        () => targets("cluster0.example.com", [bad]),
        (e) =>
          e instanceof ConfigurationError && e.message.includes(JSON.stringify(bad)) &&
          /refusing to connect/.test(e.message),
      );
    }
    // Two labels or fewer: the host is the domain, and targets need one more level.
    assert.deepEqual(targets("mongodb.local", ["a.mongodb.local"]).map((h) => h.host), ["a.mongodb.local"]);
    assert.throws(() => targets("mongodb.local", ["mongodb.local"]), ConfigurationError);
    assert.throws(() => targets("mongodb.local", ["a.other.local"]), ConfigurationError);
    assert.deepEqual(targets("localhost", ["m1.localhost"]).map((h) => h.host), ["m1.localhost"]);
    assert.throws(() => targets("localhost", ["localhost"]), ConfigurationError);
    assert.throws(() => seedsFromSrv("c.example.com", [{ target: "a.example.com", port: 0 }]), /invalid port/);
  });

  test("the query name, with the service name", () => {
    assert.equal(srvQueryName("c.example.com"), "_mongodb._tcp.c.example.com");
    assert.equal(srvQueryName("c.example.com", "customname"), "_customname._tcp.c.example.com");
  });

  test("TXT: one record, its strings joined; only authSource, replicaSet and loadBalanced", () => {
    assert.equal(optionsFromTxt("h", []), "");
    assert.equal(optionsFromTxt("h", [["replicaSet=rs0&", "authSource=admin"]]), "replicaSet=rs0&authSource=admin");
    assert.equal(optionsFromTxt("h", [["REPLICASET=rs0&loadBalanced=false"]]), "REPLICASET=rs0&loadBalanced=false");
    assert.throws(() => optionsFromTxt("h", [["replicaSet=a"], ["authSource=b"]]), /2 TXT records/);
    for (const bad of ["ssl=true", "tls=false", "readPreference=secondary", "replicaSet=a&w=2"]) {
      assert.throws(() => optionsFromTxt("h", [[bad]]), /only authSource, replicaSet and loadBalanced/);
    }
  });

  test("srvMaxHosts: all hosts at 0 or above their number, else that many distinct ones, each as likely", () => {
    const hosts = ["a", "b", "c", "d", "e"];
    assert.deepEqual(pickSrvHosts(hosts, 0), hosts);
    assert.deepEqual(pickSrvHosts(hosts, 5), hosts);
    assert.deepEqual(pickSrvHosts(hosts, 9), hosts);
    const counts = new Map(hosts.map((h) => [h, 0]));
    for (let i = 0; i < 10_000; i++) {
      const two = pickSrvHosts(hosts, 2);
      assert.equal(new Set(two).size, 2);
      for (const h of two) counts.set(h, counts.get(h)! + 1);
    }
    // Each is chosen 2/5 of the time: 4000 expected, far outside +-400 only if the shuffle is biased.
    for (const [h, n] of counts) assert.ok(n > 3600 && n < 4400, `${h} chosen ${n} times in 10000`);
  });
});

describe("DNS lookups on this runtime's resolver, against a DNS server on 127.0.0.1", () => {
  test("SRV targets and ports; TXT strings; no TXT record; a name that does not exist", async () => {
    await using server = await dnsServer({
      "_mongodb._tcp.rs.example.com": {
        srv: [{ target: "m1.example.com", port: 27017 }, { target: "m2.example.com.", port: 27018, priority: 5 }],
      },
      "rs.example.com": { txt: [["replicaSet=rs0&authSource=admin"]] },
      "plain.example.com": {},
    });
    const dns = systemResolver({ nameServer: { host: "127.0.0.1", port: server.port } });
    assert.deepEqual(await dns.srv("_mongodb._tcp.rs.example.com"), [
      { target: "m1.example.com", port: 27017 },
      { target: "m2.example.com", port: 27018 },
    ]);
    assert.deepEqual(await dns.txt("rs.example.com"), [["replicaSet=rs0&authSource=admin"]]);
    assert.deepEqual(await dns.txt("plain.example.com"), []);
    assert.deepEqual(await dns.txt("nowhere.example.com"), []);
    await assert.rejects(
      dns.srv("_mongodb._tcp.nowhere.example.com"),
      (e) =>
        e instanceof ConnectionFailure && e.address === "_mongodb._tcp.nowhere.example.com" &&
        /DNS SRV lookup failed/.test(e.message),
    );
    await assert.rejects(dns.srv("_mongodb._tcp.plain.example.com"), ConnectionFailure, "a name without SRV records");
  });

  test("a DNS server that never answers: NetworkTimeout after timeoutMS; an aborted signal wins", async () => {
    const { createSocket } = await import("node:dgram");
    const silent = createSocket("udp4");
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    try {
      const dns = systemResolver({ nameServer: { host: "127.0.0.1", port: silent.address().port } });
      await assert.rejects(
        dns.srv("_mongodb._tcp.x.example.com", { timeoutMS: 200 }),
        (e) =>
          e instanceof ConnectionFailure && e.name === "NetworkTimeout" && /timed out after 200 ms/.test(e.message),
      );
      const reason = new Error("stop");
      await assert.rejects(dns.txt("x.example.com", { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

async function dnsServer(records: Record<string, DnsEntry>) {
  const server = await startDnsServer(records);
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
}

/** A factory that builds a real Topology whose connections go to 127.0.0.1 for names under test.build. */
function loopbackTopology(seen: Parameters<TopologyFactory>[0][]): TopologyFactory {
  const connect = (address: ServerAddress, options: ConnectionOptions) => {
    const a = address as { host: string; port: number };
    const host = a.host.endsWith(".test.build") ? "127.0.0.1" : a.host;
    return WireConnection.connect({ host, port: a.port }, options);
  };
  return (init) => {
    seen.push(init);
    return new Topology({ ...init, connect });
  };
}

describe("mongodb+srv:// clients", () => {
  test("discovers the set from SRV, takes replicaSet and authSource from TXT, TLS on unless the URI says no", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "srvset" });
    const ports = rs.hosts.map((h) => Number(h.split(":")[1]));
    await using dns = await dnsServer({
      "_mongodb._tcp.cluster0.test.build": { srv: ports.map((port, i) => ({ target: `m${i}.test.build`, port })) },
      "cluster0.test.build": { txt: [["replicaSet=srvset&authSource=admin"]] },
    });
    const seen: Parameters<TopologyFactory>[0][] = [];
    const options = {
      [DNS_RESOLVER]: systemResolver({ nameServer: { host: "127.0.0.1", port: dns.port } }),
      [TOPOLOGY_FACTORY]: loopbackTopology(seen),
    } as ClientConnectionOptions;
    await using c = new ReplicaSetConnection("mongodb+srv://cluster0.test.build/app?tls=false", options);
    assert.equal(dns.queries.length, 0, "nothing is looked up before the first use");
    const coll = c.db("app").collection("people");
    await Promise.all([coll.insertOne({ _id: 1 }), coll.insertOne({ _id: 2 })]);
    assert.equal(await coll.countDocuments({}), 2);
    assert.deepEqual(dns.queries, [
      { name: "_mongodb._tcp.cluster0.test.build", type: "SRV" },
      { name: "cluster0.test.build", type: "TXT" },
    ], "one SRV and one TXT lookup for the two racing operations");
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0].seeds.map((h) => `${h.host}:${h.port}`), ports.map((p, i) => `m${i}.test.build:${p}`));
    assert.equal(seen[0].options.replicaSet, "srvset");
    assert.equal(seen[0].options.tls, false, "the URI's tls=false wins over the implied TLS");
    assert.equal(c.options.authSource, "admin");
    assert.deepEqual([...c.hosts].sort(), [...rs.hosts].sort(), "the set's own member list replaces the SRV names");

    const tls = new ReplicaSetConnection("mongodb+srv://cluster0.test.build/", options);
    await assert.rejects(tls.connect({ signal: AbortSignal.timeout(300) }));
    assert.equal(seen.at(-1)!.options.tls, true, "mongodb+srv:// implies TLS");
    await tls.close();
  });

  test("the URI's options win over TXT; srvServiceName and srvMaxHosts are applied", async () => {
    await using dns = await dnsServer({
      "_custom._tcp.c.test.build": { srv: [1, 2, 3, 4].map((i) => ({ target: `m${i}.test.build`, port: 27000 + i })) },
      "c.test.build": { txt: [["authSource=txtdb"]] },
      "_mongodb._tcp.r.test.build": { srv: [1, 2].map((i) => ({ target: `m${i}.test.build`, port: 27000 + i })) },
      "r.test.build": { txt: [["replicaSet=fromtxt"]] },
    });
    const seen: Parameters<TopologyFactory>[0][] = [];
    const options = {
      [DNS_RESOLVER]: systemResolver({ nameServer: { host: "127.0.0.1", port: dns.port } }),
      [TOPOLOGY_FACTORY]: loopbackTopology(seen),
      serverSelectionTimeoutMS: 200,
    } as ClientConnectionOptions;
    const c = new Connection(
      "mongodb+srv://ada:pw@c.test.build/?srvServiceName=custom&srvMaxHosts=2&tls=false",
      options,
    );
    await assert.rejects(c.connect()); // nothing listens on those ports
    await c.close();
    assert.equal(dns.queries[0].name, "_custom._tcp.c.test.build");
    assert.equal(seen[0].seeds.length, 2, "srvMaxHosts=2 of 4 records");
    assert.equal(seen[0].credential?.source, "txtdb", "TXT's authSource");
    assert.equal(seen[0].options.directConnection, false, "a mongodb+srv:// Connection discovers");

    const over = new Connection(
      "mongodb+srv://ada:pw@c.test.build/?srvServiceName=custom&authSource=uridb&tls=false",
      options,
    );
    await assert.rejects(over.connect());
    await over.close();
    assert.equal(seen.at(-1)!.credential?.source, "uridb", "the URI's authSource wins over TXT's");
    assert.equal(seen.at(-1)!.seeds.length, 4);

    // srvMaxHosts > 0 and a replicaSet are checked after the lookups: TXT's counts.
    const both = new Connection("mongodb+srv://r.test.build/?srvMaxHosts=1", options);
    await assert.rejects(
      both.connect(),
      (e) => e instanceof ConfigurationError && /srvMaxHosts.*replicaSet/.test(String(e)),
    );
    await both.close();
  });

  test("records that cannot be used reject the first operation with a typed error; a DNS failure is retried later", async () => {
    await using dns = await dnsServer({
      "_mongodb._tcp.bad.test.build": { srv: [{ target: "evil.example.net", port: 27017 }] },
      "txt.test.build": { txt: [["w=majority"]] },
      "_mongodb._tcp.txt.test.build": { srv: [{ target: "m.test.build", port: 27017 }] },
      "_mongodb._tcp.noname.test.build": { srv: [{ target: "m.test.build", port: 27017 }] },
    });
    const options = {
      [DNS_RESOLVER]: systemResolver({ nameServer: { host: "127.0.0.1", port: dns.port } }),
      [TOPOLOGY_FACTORY]: loopbackTopology([]),
      serverSelectionTimeoutMS: 200,
    } as ClientConnectionOptions;
    const cases: [string, (e: unknown) => boolean][] = [
      [
        "mongodb+srv://bad.test.build/?replicaSet=x",
        (e) => e instanceof ConfigurationError && /evil\.example\.net/.test(String(e)),
      ],
      [
        "mongodb+srv://txt.test.build/?replicaSet=x",
        (e) => e instanceof ConfigurationError && /only authSource/.test(String(e)),
      ],
      [
        "mongodb+srv://noname.test.build/",
        (e) => e instanceof ConfigurationError && /needs the replica set's name/.test(String(e)),
      ],
      [
        "mongodb+srv://missing.test.build/?replicaSet=x",
        (e) => e instanceof ConnectionFailure && /DNS SRV lookup failed/.test(String(e)),
      ],
    ];
    for (const [uri, check] of cases) {
      const c = new ReplicaSetConnection(uri, options);
      const error = await c.db("x").command("ping").then(() => null, (e) => e);
      assert.ok(check(error), `${uri}: ${String(error)}`);
      await c.close();
    }
    // The record appears: the same client looks again at its next operation.
    const c = new ReplicaSetConnection("mongodb+srv://late.test.build/?replicaSet=x", options);
    await assert.rejects(c.connect(), ConnectionFailure);
    dns.records = { ...dns.records, "_mongodb._tcp.late.test.build": { srv: [{ target: "m.test.build", port: 1 }] } };
    await assert.rejects(
      c.connect(),
      (e) => !(e instanceof ConnectionFailure && /DNS/.test(e.message)),
      "got past DNS",
    );
    assert.equal(dns.queries.filter((q) => q.name === "_mongodb._tcp.late.test.build").length, 2);
    await c.close();
  });

  test("a DNS server that never answers: connect(signal) gives up with the reason, close() stops the lookups", async () => {
    const { createSocket } = await import("node:dgram");
    const silent = createSocket("udp4");
    let asked = 0;
    silent.on("message", () => asked++);
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    // A guard against a hang, not a duration check: these settle at once or never.
    const settles = <T>(p: Promise<T>) =>
      Promise.race([p.then(() => "resolved", (e) => e), new Promise((r) => setTimeout(() => r("hung"), 5000))]);
    try {
      const options = {
        [DNS_RESOLVER]: systemResolver({ nameServer: { host: "127.0.0.1", port: silent.address().port } }),
        connectTimeoutMS: 60_000,
      } as ClientConnectionOptions;
      const c = new ReplicaSetConnection("mongodb+srv://slow.test.build/?replicaSet=x", options);
      const stop = new AbortController();
      const connecting = c.connect({ signal: stop.signal });
      for (let i = 0; i < 300 && asked === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(asked > 0, "the lookup was sent");
      const reason = new Error("user gave up");
      stop.abort(reason);
      assert.equal(await settles(connecting), reason);
      const op = c.db("x").command("ping");
      assert.equal(await settles(c.close()), "resolved", "close() does not wait for the DNS timeout");
      const outcome = await settles(op);
      assert.ok(outcome instanceof Error && /is closed/.test(outcome.message), String(outcome));
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
