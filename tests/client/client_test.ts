// ReplicaSetConnection / Connection with a fake topology: seeds, options,
// properties as the guide shows them, printed forms, inheritance of read
// preference and write concern, Database.command, closing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, MongoError, OperationFailure, OptionTypeError } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { type ClientConnectionOptions, Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { type Call, FakeServer, fakeSet, FakeTopology, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

function withFake(topology: FakeTopology, options: ClientConnectionOptions = {}): ClientConnectionOptions {
  return { ...options, [TOPOLOGY_FACTORY]: topology.factory() } as ClientConnectionOptions;
}

function rsc(options: ClientConnectionOptions = {}, handler = okHandler) {
  const set = fakeSet(handler);
  const client = new ReplicaSetConnection("a:27017", withFake(set.topology, { replicaSet: "foo", ...options }));
  return { client, ...set };
}

describe("ReplicaSetConnection construction", () => {
  test("accepts every seed form of the guide", () => {
    const cases: [ConstructorParameters<typeof ReplicaSetConnection>[0], [string, number][]][] = [
      ["morton.local", [["morton.local", 27017]]],
      ["morton.local:27018", [["morton.local", 27018]]],
      [["morton.local", 27019], [["morton.local", 27019]]],
      [["a:1", "b:2"], [["a", 1], ["b", 2]]],
      ["a:1,b:2,c", [["a", 1], ["b", 2], ["c", 27017]]],
      ["mongodb://a,b:27018,c/db?replicaSet=foo", [["a", 27017], ["b", 27018], ["c", 27017]]],
    ];
    for (const [seeds, expected] of cases) {
      const t = new FakeTopology([]);
      const c = new ReplicaSetConnection(seeds, withFake(t, { replicaSet: "foo" }));
      assert.deepEqual(c.seeds, expected, String(seeds));
      assert.equal(t.init?.options.replicaSet, "foo");
      assert.equal(t.init?.options.directConnection, false);
      assert.equal(t.init?.seeds.length, expected.length);
    }
  });

  test("requires a replica set name, naming the option", () => {
    assert.throws(() => new ReplicaSetConnection("a:1", withFake(new FakeTopology([]))), (e: unknown) => {
      assert.ok(e instanceof ConfigurationError);
      assert.match(e.message, /replicaSet/);
      return true;
    });
    // From the URI is enough.
    const c = new ReplicaSetConnection("mongodb://a:1/?replicaSet=rs", withFake(new FakeTopology([])));
    assert.equal(c.options.replicaSet, "rs");
  });

  test("code options override URI options; bad options are ConfigurationErrors", () => {
    const t = new FakeTopology([]);
    const c = new ReplicaSetConnection(
      "mongodb://a,b/?replicaSet=foo&readPreference=secondary&serverSelectionTimeoutMS=100",
      withFake(t, { serverSelectionTimeoutMS: 250, readPreference: ReadPreference.PRIMARY }),
    );
    assert.equal(c.options.serverSelectionTimeoutMS, 250);
    assert.equal(c.readPreference.mode, "primary");
    assert.equal(t.init?.options.serverSelectionTimeoutMS, 250);
    assert.throws(
      () => new ReplicaSetConnection("a", withFake(t, { replicaSet: "foo", maxPoolSize: "x" as unknown as number })),
      OptionTypeError,
    );
    assert.throws(
      () => new ReplicaSetConnection("a", withFake(t, { replicaSet: "foo", directConnection: true })),
      ConfigurationError,
    );
    assert.throws(() => new ReplicaSetConnection("", withFake(t, { replicaSet: "foo" })), ConfigurationError);
    assert.throws(
      () => new ReplicaSetConnection("a", withFake(t, { replicaSet: "foo", writeConcern: { w: -1 } })),
      ConfigurationError,
    );
    assert.throws(
      () =>
        new ReplicaSetConnection("a", withFake(t, { replicaSet: "foo", readPreference: "Secondary" as "secondary" })),
      ConfigurationError,
    );
  });

  test("read preference: object, legacy name, URI tags; write concern from URI", () => {
    const t = new FakeTopology([]);
    const c = new ReplicaSetConnection(
      "mongodb://a/?replicaSet=foo&readPreference=nearest&readPreferenceTags=dc:ny&w=majority&journal=true&wTimeoutMS=50",
      withFake(t),
    );
    assert.equal(c.readPreference.mode, "nearest");
    assert.deepEqual(c.readPreference.tags, [{ dc: "ny" }]);
    assert.deepEqual(c.writeConcern, { w: "majority", j: true, wtimeout: 50 });
    const d = new ReplicaSetConnection("a", withFake(t, { replicaSet: "foo", readPreference: "SECONDARY_ONLY" }));
    assert.equal(d.readPreference, ReadPreference.SECONDARY_ONLY);
    assert.equal(t.init?.options.readPreference, "secondary");
  });
});

describe("Connection", () => {
  test("one seed and no replicaSet is a direct connection", () => {
    const t = new FakeTopology([]);
    new Connection("localhost", 27017, withFake(t));
    assert.equal(t.init?.options.directConnection, true);
    assert.deepEqual(t.init?.seeds.map((s) => [s.host, s.port]), [["localhost", 27017]]);
    new Connection(["h", 1], withFake(t));
    assert.equal(t.init?.options.directConnection, true);
  });

  test("several seeds, or a replicaSet, mean discovery", () => {
    const t = new FakeTopology([]);
    new Connection("a:1,b:2", withFake(t));
    assert.equal(t.init?.options.directConnection, false);
    new Connection("a:1", withFake(t, { replicaSet: "foo" }));
    assert.equal(t.init?.options.directConnection, false);
  });

  test("slaveOk makes the default read preference SECONDARY", () => {
    const t = new FakeTopology([]);
    assert.equal(new Connection("a", withFake(t, { slaveOk: true })).readPreference, ReadPreference.SECONDARY);
    assert.equal(new Connection("a", withFake(t, { secondaryOk: true })).readPreference, ReadPreference.SECONDARY);
    assert.equal(new Connection("a", withFake(t)).readPreference, ReadPreference.PRIMARY);
    assert.throws(() => new Connection("a", withFake(t, { slaveOk: "yes" as unknown as boolean })), OptionTypeError);
  });

  test("host and port are the one server's on a direct connection (even a secondary)", async () => {
    const log: Call[] = [];
    const server = new FakeServer("m:27018", "ghost", 17, log, okHandler);
    const t = new FakeTopology([server], "Single");
    const c = new Connection("m:27018", withFake(t));
    assert.equal(c.host, "m");
    assert.equal(c.port, 27018);
    assert.equal(c.primary, null);
    // replSetInitiate as in the guide: the command goes to that server.
    const config = { _id: "foo", members: [{ _id: 0, host: "m:27018" }] };
    await c.admin.command("replSetInitiate", config);
    assert.deepEqual(log[0].cmd, { replSetInitiate: config });
    assert.equal(log[0].db, "admin");
  });
});

describe("properties and printed form", () => {
  test("hosts, primary, secondaries, arbiters, host/port follow the topology", () => {
    const { client, topology } = rsc();
    topology.servers.push(new FakeServer("d:27017", "arbiter", 17, [], okHandler));
    assert.deepEqual(client.hosts, ["a:27017", "b:27017", "c:27017"]);
    assert.deepEqual(client.primary, ["a", 27017]);
    assert.deepEqual(client.secondaries, [["b", 27017], ["c", 27017]]);
    assert.deepEqual(client.arbiters, [["d", 27017]]);
    assert.equal(client.host, "a");
    assert.equal(client.port, 27017);
    topology.servers.shift();
    topology.type = "ReplicaSetNoPrimary";
    assert.equal(client.primary, null);
    assert.equal(client.host, null);
    assert.equal(client.port, null);
  });

  test("toString and the inspect hooks print like the guide", () => {
    const { client } = rsc();
    const expected = "ReplicaSetConnection(['a:27017', 'b:27017', 'c:27017'])";
    assert.equal(String(client), expected);
    const c = client as unknown as Record<symbol, () => string>;
    assert.equal(c[Symbol.for("Deno.customInspect")](), expected);
    assert.equal(c[Symbol.for("nodejs.util.inspect.custom")](), expected);
    assert.equal(String(client.db("test")), `Database(${expected}, 'test')`);
    assert.equal(String(client.db("test").collection("x")), `Collection(Database(${expected}, 'test'), 'x')`);
  });

  test("IPv6 addresses split into host and port", () => {
    const t = new FakeTopology([new FakeServer("[::1]:27018", "primary", 17, [], okHandler)]);
    const c = new ReplicaSetConnection("[::1]:27018", withFake(t, { replicaSet: "foo" }));
    assert.deepEqual(c.primary, ["::1", 27018]);
  });
});

describe("read preference and write concern inheritance", () => {
  test("read preference: operation > collection > database > client", async () => {
    const { client, topology, log } = rsc({ readPreference: ReadPreference.SECONDARY });
    const last = () => topology.selections[topology.selections.length - 1].selector.readPreference;
    const db = client.db("test");
    await db.collection("c").findOne();
    assert.equal(last(), ReadPreference.SECONDARY);
    assert.equal(log[log.length - 1].options.readPreference, ReadPreference.SECONDARY);
    assert.equal(log[log.length - 1].server.startsWith("a:"), false, "a SECONDARY read goes to a secondary");
    const db2 = client.db("test", { readPreference: "nearest" });
    await db2.collection("c").findOne();
    assert.equal(last().mode, "nearest");
    await db2.collection("c", { readPreference: ReadPreference.PRIMARY_PREFERRED }).findOne();
    assert.equal(last().mode, "primaryPreferred");
    await db2.collection("c", { readPreference: ReadPreference.PRIMARY_PREFERRED }).findOne({}, {
      readPreference: ReadPreference.SECONDARY_ONLY,
    });
    assert.equal(last().mode, "secondary");
    // A later change of the client's default reaches existing databases without their own.
    client.readPreference = "primary";
    await db.collection("c").findOne();
    assert.equal(last().mode, "primary");
    assert.equal(log[log.length - 1].server, "a:27017");
  });

  test("write concern: operation > collection > database > client, sent as writeConcern", async () => {
    const { client, log } = rsc({ writeConcern: { w: 1 } });
    const sent = () => log[log.length - 1].cmd.writeConcern;
    await client.db("t").collection("c").insertOne({ x: 1 });
    assert.deepEqual(sent(), { w: 1 });
    const db = client.db("t", { writeConcern: { w: 2, j: true } });
    await db.collection("c").insertOne({ x: 1 });
    assert.deepEqual(sent(), { w: 2, j: true });
    const coll = db.collection("c", { writeConcern: { w: "majority", wtimeout: 100 } });
    await coll.deleteOne({ x: 1 });
    assert.deepEqual(sent(), { w: "majority", wtimeout: 100 });
    await coll.updateOne({ x: 1 }, { $set: { y: 1 } }, { writeConcern: { w: 3 } });
    assert.deepEqual(sent(), { w: 3 });
    // No write concern anywhere: none sent (the server's default).
    const { client: plain, log: log2 } = rsc();
    await plain.db("t").collection("c").insertOne({ x: 1 });
    assert.equal("writeConcern" in log2[0].cmd, false);
    assert.throws(() => plain.db("t", { writeConcern: { w: 0, j: true } }), ConfigurationError);
  });

  test("writes select for a write and go to the primary whatever the read preference", async () => {
    const { client, topology, log } = rsc({ readPreference: ReadPreference.SECONDARY_ONLY });
    await client.db("t").collection("c").insertOne({ x: 1 });
    assert.equal(topology.selections[0].selector.operation, "write");
    assert.equal(log[0].server, "a:27017");
    assert.equal(log[0].options.operation, "write");
  });
});

describe("Database.command", () => {
  test("PyMongo forms: a name, a name and a value, a document", async () => {
    const { client, log, topology } = rsc({ readPreference: ReadPreference.SECONDARY });
    await client.admin.command("ping");
    assert.deepEqual(log[0].cmd, { ping: 1 });
    const config = { _id: "foo", members: [] };
    await client.admin.command("replSetInitiate", config);
    assert.deepEqual(log[1].cmd, { replSetInitiate: config });
    await client.db("x").command({ count: "c", query: {} });
    assert.deepEqual(log[2].cmd, { count: "c", query: {} });
    assert.equal(log[2].db, "x");
    // runCommand reads from the primary unless told otherwise, ignoring the client default.
    for (const s of topology.selections) assert.equal(s.selector.readPreference.mode, "primary");
    await client.admin.command("ping", 1, { readPreference: ReadPreference.SECONDARY_ONLY });
    assert.equal(topology.selections[3].selector.readPreference.mode, "secondary");
    assert.equal(log[3].server.startsWith("a:"), false);
    await assert.rejects(client.admin.command({}), ConfigurationError);
    await assert.rejects(client.admin.command(42 as unknown as string), OptionTypeError);
  });

  test("server errors come back as OperationFailure with code and codeName", async () => {
    const { client } = rsc({}, () => {
      throw new OperationFailure("no such command: 'nope'", {
        code: 59,
        codeName: "CommandNotFound",
        response: { ok: 0, code: 59, codeName: "CommandNotFound", errmsg: "no such command: 'nope'" },
      });
    });
    await assert.rejects(client.admin.command("nope"), (e: unknown) => {
      assert.ok(e instanceof OperationFailure);
      assert.equal(e.code, 59);
      assert.equal(e.codeName, "CommandNotFound");
      return true;
    });
  });

  test("listDatabases and listCollections (with getMore) read the server's lists", async () => {
    const { client, log } = rsc({}, (call) => {
      const name = Object.keys(call.cmd)[0];
      if (name === "listDatabases") return { ok: 1, databases: [{ name: "admin", sizeOnDisk: 1, empty: false }] };
      if (name === "listCollections") {
        return {
          ok: 1,
          cursor: { id: 7n, ns: "t.$cmd.listCollections", firstBatch: [{ name: "a", type: "collection" }] },
        };
      }
      if (name === "getMore") {
        return { ok: 1, cursor: { id: 0n, ns: "t.$cmd.listCollections", nextBatch: [{ name: "b" }] } };
      }
      return { ok: 1 };
    });
    assert.deepEqual((await client.listDatabases()).map((d) => d.name), ["admin"]);
    assert.deepEqual(log[0].cmd, { listDatabases: 1 });
    assert.equal(log[0].db, "admin");
    const colls = await client.db("t").listCollections({}, { nameOnly: true });
    assert.deepEqual(colls.map((c) => c.name), ["a", "b"]);
    assert.deepEqual(log[1].cmd, { listCollections: 1, filter: {}, cursor: {}, nameOnly: true });
    assert.deepEqual(log[2].cmd, { getMore: 7n, collection: "$cmd.listCollections" });
    assert.equal(log[2].server, log[1].server);
  });

  test("database names are checked", () => {
    const { client } = rsc();
    for (const bad of ["", "a.b", "a b", "a$", "x/y", 3 as unknown as string]) {
      assert.throws(() => client.db(bad), ConfigurationError, String(bad));
    }
    assert.equal(client.db("ok"), client.db("ok"));
  });
});

describe("connect and close", () => {
  test("connect() starts the topology with the client's read preference and returns the client", async () => {
    const { client, topology } = rsc({ readPreference: ReadPreference.SECONDARY_ONLY });
    assert.equal(await client.connect(), client);
    assert.equal(topology.connects[0].readPreference, ReadPreference.SECONDARY_ONLY);
  });

  test("close() closes the topology; later operations reject with MongoError", async () => {
    const { client, topology } = rsc();
    await client.close();
    assert.equal(topology.isClosed, true);
    assert.equal(client.isClosed, true);
    await assert.rejects(client.db("t").collection("c").findOne(), MongoError);
    await assert.rejects(client.admin.command("ping"), /closed/);
    await assert.rejects(client.connect(), MongoError);
    await client.close(); // idempotent
  });

  test("await using closes the client", async () => {
    const set = fakeSet(okHandler);
    {
      await using c = new ReplicaSetConnection("a", withFake(set.topology, { replicaSet: "foo" }));
      assert.equal(c.isClosed, false);
    }
    assert.equal(set.topology.isClosed, true);
  });

  test("an aborted signal rejects with its reason before anything is sent", async () => {
    const { client, log } = rsc();
    const reason = new Error("stop");
    const ac = new AbortController();
    ac.abort(reason);
    await assert.rejects(client.db("t").collection("c").findOne({}, { signal: ac.signal }), (e) => e === reason);
    await assert.rejects(client.db("t").collection("c").insertOne({}, { signal: ac.signal }), (e) => e === reason);
    await assert.rejects(client.admin.command("ping", 1, { signal: ac.signal }), (e) => e === reason);
    assert.equal(log.length, 0);
    await assert.rejects(
      client.db("t").collection("c").findOne({}, { signal: "x" as unknown as AbortSignal }),
      OptionTypeError,
    );
  });
});
