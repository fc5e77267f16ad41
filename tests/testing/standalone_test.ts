// The simulated standalone mongod (`startStandalone`): its hello, what it
// refuses as a mongod without --replSet refuses it (codes and messages of
// mongod's initialize_operation_session_info.cpp, read_concern_mongod.cpp,
// write_concern.cpp and the $changeStream stage), kill and restart, and this
// driver discovering it as a Single topology, directly or by discovery.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, Int64, UUID } from "../../src/bson/mod.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { Connection } from "../../src/client/mod.ts";
import { startStandalone } from "../../src/testing/mod.ts";
import { eventually, withClient } from "./_client.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };
const lsid = () => ({ id: new UUID() });

describe("simulated standalone: hello", () => {
  test("hello: writable, no replica-set fields, sessions supported", async () => {
    await using server = await startStandalone();
    await withClient(server.host, async (c) => {
      const hello = await c.command("admin", { hello: 1 });
      assert.equal(hello.ok, 1);
      assert.equal(hello.isWritablePrimary, true);
      for (const k of ["setName", "hosts", "secondary", "primary", "me", "isreplicaset", "msg", "info"]) {
        assert.equal(k in hello, false, `no ${k}`);
      }
      assert.equal(hello.logicalSessionTimeoutMinutes, 30);
      assert.equal(hello.maxWireVersion, 21);
      assert.ok(hello.topologyVersion !== undefined);
      // No cluster time gossip without replication.
      assert.equal(hello.$clusterTime, undefined);
      const legacy = await c.legacyCommand("admin", { isMaster: 1 });
      assert.equal(legacy.ismaster, true);
      assert.equal(legacy.setName, undefined);
      const inserted = await c.command("db", { insert: "c", documents: [{ _id: 1 }] });
      assert.equal(inserted.n, 1);
      assert.equal(inserted.$clusterTime, undefined);
      assert.equal(inserted.operationTime, undefined);
    });
    assert.equal(server.server.state, "PRIMARY");
    assert.deepEqual(server.server.documents("db.c"), [{ _id: 1 }]);
  });

  test("the configured version: 4.2 answers with maxWireVersion 8", async () => {
    await using server = await startStandalone({ maxWireVersion: 8 });
    await withClient(server.host, async (c) => {
      const hello = await c.legacyCommand("admin", { isMaster: 1 });
      assert.equal(hello.maxWireVersion, 8);
      assert.equal(hello.topologyVersion, undefined, "topologyVersion arrived with 4.4");
      assert.equal((await c.legacyCommand("admin", { buildInfo: 1 })).version, "4.2.0");
    });
  });

  test("bad options are refused", async () => {
    await assert.rejects(startStandalone({ maxWireVersion: 99 }), ConfigurationError);
    await assert.rejects(startStandalone({ compressors: ["snappy"] }), ConfigurationError);
    await assert.rejects(startStandalone({ users: [] }), ConfigurationError);
  });
});

describe("simulated standalone: what mongod without --replSet refuses", () => {
  const refused = (reply: Document, code: number, errmsg: string) => {
    assert.equal(reply.ok, 0, JSON.stringify(reply));
    assert.equal(reply.code, code);
    assert.equal(reply.errmsg, errmsg);
  };

  test("transaction numbers: retryable writes and transactions", async () => {
    await using server = await startStandalone();
    await withClient(server.host, async (c) => {
      const msg = "Transaction numbers are only allowed on a replica set member or mongos";
      const retryable = await c.command("db", {
        insert: "c",
        documents: [{ _id: 1 }],
        lsid: lsid(),
        txnNumber: new Int64(1n),
      });
      refused(retryable, 20, msg);
      assert.equal(retryable.codeName, "IllegalOperation");
      const txn = await c.command("db", {
        find: "c",
        lsid: lsid(),
        txnNumber: new Int64(1n),
        startTransaction: true,
        autocommit: false,
      });
      refused(txn, 20, msg);
      // Nothing was written, and a session without a transaction number is fine.
      assert.deepEqual(server.server.documents("db.c"), []);
      assert.equal((await c.command("db", { insert: "c", documents: [{ _id: 2 }], lsid: lsid() })).ok, 1);
    });
  });

  test("$changeStream, replSetGetStatus and the other replSet commands", async () => {
    await using server = await startStandalone();
    await withClient(server.host, async (c) => {
      const watch = await c.command("db", { aggregate: "c", pipeline: [{ $changeStream: {} }], cursor: {} });
      refused(watch, 40573, "The $changeStream stage is only supported on replica sets");
      const status = await c.command("admin", { replSetGetStatus: 1 });
      refused(status, 76, "not running with --replSet");
      assert.equal(status.codeName, "NoReplicationEnabled");
      refused(await c.command("admin", { replSetGetConfig: 1 }), 76, "not running with --replSet");
      refused(await c.command("admin", { replSetStepDown: 10 }), 76, "not running with --replSet");
      refused(
        await c.command("admin", { replSetInitiate: {} }),
        76,
        "This node was not started with replication enabled.",
      );
    });
  });

  test("read concerns: majority runs; snapshot and linearizable need a replica set", async () => {
    await using server = await startStandalone();
    await withClient(server.host, async (c) => {
      await c.command("db", { insert: "c", documents: [{ _id: 1 }] });
      const majority = await c.command("db", { find: "c", readConcern: { level: "majority" } });
      assert.equal(majority.ok, 1);
      assert.deepEqual((majority.cursor as Document).firstBatch, [{ _id: 1 }]);
      refused(
        await c.command("db", { find: "c", readConcern: { level: "snapshot" } }),
        123,
        "node needs to be a replica set member to use readConcern: snapshot",
      );
      refused(
        await c.command("db", { find: "c", readConcern: { level: "linearizable" } }),
        123,
        "node needs to be a replica set member to use read concern",
      );
    });
    // Before 5.0 a snapshot read outside a transaction is refused for that first.
    await using old = await startStandalone({ maxWireVersion: 9 });
    await withClient(old.host, async (c) => {
      refused(
        await c.command("db", { find: "c", readConcern: { level: "snapshot" } }),
        72,
        "readConcern level snapshot is only valid in multi-statement transactions",
      );
    });
  });

  test("write concerns: w above 1 or a tag are refused, majority runs", async () => {
    await using server = await startStandalone();
    await withClient(server.host, async (c) => {
      refused(
        await c.command("db", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: 2 } }),
        2,
        "cannot use 'w' > 1 when a host is not replicated",
      );
      refused(
        await c.command("db", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: "dc" } }),
        2,
        "cannot use non-majority 'w' mode dc when a host is not a member of a replica set",
      );
      const ok = await c.command("db", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: "majority" } });
      assert.equal(ok.ok, 1);
      assert.equal(ok.writeConcernError, undefined);
    });
    assert.deepEqual(server.server.documents("db.c"), [{ _id: 1 }]);
  });

  test("fail points, authentication and the request log work as on a member", async () => {
    await using server = await startStandalone({ users: [{ user: "ada", password: "pencil" }], scramIterations: 4096 });
    await withClient(server.host, async (c) => {
      const unauth = await c.command("db", { find: "c" });
      assert.equal(unauth.code, 13);
    });
    await using conn = await Connection.connect(`mongodb://ada:pencil@${server.host}/`, FAST);
    await conn.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["find"], errorCode: 2 },
    });
    await assert.rejects(conn.db("db").collection("c").find({}).toArray(), (e: Error & { code?: number }) => e.code === 2);
    assert.deepEqual(await conn.db("db").collection("c").find({}).toArray(), []);
    assert.ok(server.requests.some((r) => r.command === "configureFailPoint"));
  });
});

describe("simulated standalone: this driver", () => {
  for (const direct of [true, false]) {
    test(`directConnection=${direct}: a Single topology that reads and writes`, async () => {
      await using server = await startStandalone();
      const conn = new Connection(`mongodb://${server.host}/?directConnection=${direct}`, FAST);
      const types: string[] = [];
      conn.addEventListener("topologyDescriptionChanged", (e) => types.push(e.newDescription.type));
      try {
        await conn.connect();
        const coll = conn.db("db").collection("c");
        // Retryable writes are on by default: the driver must not send a txnNumber to a standalone.
        await coll.insertOne({ _id: 1, x: 1 });
        await coll.updateOne({ _id: 1 }, { $set: { x: 2 } });
        assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1, x: 2 }]);
        const inserts = server.requests.filter((r) => r.command === "insert" || r.command === "update");
        assert.equal(inserts.length, 2);
        assert.ok(inserts.every((r) => r.body.txnNumber === undefined), "no txnNumber");
        assert.ok(inserts.every((r) => r.body.lsid !== undefined), "sessions are supported");
        // Direct: Single from the start; discovery: Unknown, then Single once the standalone answers.
        await eventually(() => types.includes("Single"));
        assert.equal(types[types.length - 1], "Single");
        if (!direct) assert.ok(types.includes("Unknown"), types.join());
      } finally {
        await conn.close();
      }
    });
  }

  test("kill and restart: the data stays, the driver reconnects", async () => {
    await using server = await startStandalone();
    await using conn = await Connection.connect(`mongodb://${server.host}/`, FAST);
    const coll = conn.db("db").collection("c");
    await coll.insertOne({ _id: 1 });
    await server.kill();
    assert.equal(server.server.state, "DOWN");
    assert.equal(server.server.alive, false);
    await server.restart();
    assert.equal(server.server.state, "PRIMARY");
    assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1 }]);
    await server.close();
    await assert.rejects(server.restart(), ConfigurationError);
  });

  test("a change stream and a transaction through the driver fail with the server's refusal", async () => {
    await using server = await startStandalone();
    await using conn = await Connection.connect(`mongodb://${server.host}/`, FAST);
    await assert.rejects(
      conn.db("db").collection("c").watch().start(),
      (e: Error & { code?: number }) => e.code === 40573,
    );
    const session = conn.startSession();
    try {
      session.startTransaction();
      await assert.rejects(
        conn.db("db").collection("c").insertOne({ _id: 1 }, { session }),
        (e: Error & { code?: number }) => e.code === 20,
      );
    } finally {
      await session.endSession();
    }
    assert.deepEqual(server.server.documents("db.c"), []);
  });
});
