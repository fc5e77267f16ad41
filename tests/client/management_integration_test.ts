// Index and collection management end to end, against the simulated replica
// set over real sockets (issue 11's remaining E2E cases): dropIndex and
// dropIndexes, rename, a capped collection read by a tailable cursor with
// tryNext, a unique index over existing duplicates (E11000 from createIndex),
// bulkWrite's writeConcernErrors from a failCommand fail point, and
// createIndexes with commitQuorum as the server receives it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { AutoReconnect, BulkWriteError, Connection, OperationFailure, ReadPreference, ReplicaSetConnection } from "../../mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

describe("index and collection management against the simulated set", () => {
  let rs: ReplicaSet;
  let conn: ReplicaSetConnection;
  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "mgmt" });
    conn = await ReplicaSetConnection.connect(rs.uri, FAST);
  });
  after(async () => {
    await conn?.close();
    await rs?.close();
  });

  const names = async (db: string, coll: string) =>
    (await conn.db(db).collection(coll).listIndexes().toArray()).map((i) => i.name);

  test("dropIndex by name and by key pattern, dropIndexes keeps _id_, a missing index is IndexNotFound (27)", async () => {
    const c = conn.db("mgmt").collection("drops");
    await c.createIndexes([{ key: { a: 1 } }, { key: { b: -1 } }, { key: { c: 1 }, name: "by_c" }]);
    assert.deepEqual(await names("mgmt", "drops"), ["_id_", "a_1", "b_-1", "by_c"]);
    await c.dropIndex("a_1");
    await c.dropIndex({ b: -1 });
    assert.deepEqual(await names("mgmt", "drops"), ["_id_", "by_c"]);
    await assert.rejects(c.dropIndex("a_1"), (e: unknown) => e instanceof OperationFailure && e.code === 27);
    await c.createIndex({ d: 1 });
    await c.dropIndexes();
    assert.deepEqual(await names("mgmt", "drops"), ["_id_"]);
  });

  test("rename moves the documents and indexes; an existing target is NamespaceExists (48) unless dropTarget", async () => {
    const db = conn.db("mgmt");
    const from = db.collection("ren_from");
    await from.insertMany([{ _id: 1 }, { _id: 2 }]);
    await from.createIndex({ x: 1 });
    await db.collection("ren_taken").insertOne({ _id: "other" });
    await assert.rejects(from.rename("ren_taken"), (e: unknown) => e instanceof OperationFailure && e.code === 48);
    const moved = await from.rename("ren_to");
    assert.equal(moved.name, "ren_to");
    assert.deepEqual((await moved.find({}).toArray()).map((d) => d._id), [1, 2]);
    assert.deepEqual(await names("mgmt", "ren_to"), ["_id_", "x_1"]);
    assert.equal((await db.listCollectionNames()).includes("ren_from"), false);
    const over = await moved.rename("ren_taken", { dropTarget: true });
    assert.deepEqual((await over.find({}).toArray()).map((d) => d._id), [1, 2], "the target was replaced");
  });

  test("a capped collection keeps its newest documents; a tailable cursor's tryNext sees later inserts", async () => {
    const db = conn.db("mgmt");
    const log = await db.createCollection("capped_log", { capped: true, size: 4096, max: 3 });
    await log.insertMany([1, 2, 3, 4].map((i) => ({ _id: i })));
    assert.deepEqual((await log.find({}).toArray()).map((d) => d._id), [2, 3, 4], "max 3: the oldest is gone");
    const cursor = log.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 50 });
    try {
      assert.deepEqual((await cursor.tryNext())?._id, 2);
      assert.deepEqual((await cursor.tryNext())?._id, 3);
      assert.deepEqual((await cursor.tryNext())?._id, 4);
      assert.equal(await cursor.tryNext(), null, "nothing new: null, the cursor stays open");
      await log.insertOne({ _id: 5 });
      let next = null;
      for (let i = 0; i < 50 && next === null; i++) next = await cursor.tryNext();
      assert.equal(next?._id, 5);
    } finally {
      await cursor.close();
    }
  });

  test("a unique index over documents that already collide is refused with E11000 (11000), nothing created", async () => {
    const c = conn.db("mgmt").collection("dups");
    await c.insertMany([{ _id: 1, email: "a@x" }, { _id: 2, email: "a@x" }]);
    await assert.rejects(c.createIndex({ email: 1 }, { unique: true }), (e: unknown) => {
      assert.ok(e instanceof OperationFailure, String(e));
      assert.equal(e.code, 11000);
      assert.match(e.message, /E11000 duplicate key error/);
      return true;
    });
    assert.deepEqual(await names("mgmt", "dups"), ["_id_"]);
    assert.equal(await c.createIndex({ email: 1 }), "email_1", "a non-unique index is fine");
  });

  test("bulkWrite: a write concern error from failCommand is a BulkWriteError with writeConcernErrors and the writes done", async () => {
    const c = conn.db("mgmt").collection("wce");
    await conn.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], writeConcernError: { code: 64, errmsg: "waiting for replication timed out" } },
    });
    try {
      await assert.rejects(
        c.bulkWrite([{ insertOne: { document: { _id: 1 } } }, { insertOne: { document: { _id: 2 } } }]),
        (e: unknown) => {
          assert.ok(e instanceof BulkWriteError, String(e));
          assert.equal(e.writeErrors.length, 0);
          assert.equal(e.writeConcernErrors.length, 1);
          assert.equal(e.writeConcernErrors[0].code, 64);
          assert.equal(e.result.insertedCount, 2, "the inserts happened");
          return true;
        },
      );
    } finally {
      await conn.admin.command({ configureFailPoint: "failCommand", mode: "off" });
    }
    assert.equal(await c.countDocuments({}), 2);
  });

  test("createIndexes with commitQuorum: the server receives it with the indexes", async () => {
    const c = conn.db("mgmt").collection("quorum");
    assert.deepEqual(await c.createIndexes([{ key: { q: 1 } }], { commitQuorum: "majority" }), ["q_1"]);
    assert.equal(await c.createIndex({ r: 1 }, { commitQuorum: 2 }), "r_1");
    const sent = rs.requests(rs.primary!).filter((r) =>
      r.command === "createIndexes" && r.body.createIndexes === "quorum"
    );
    assert.deepEqual(
      sent.map((r) =>
        Number.isInteger(Number(r.body.commitQuorum)) ? Number(r.body.commitQuorum) : r.body.commitQuorum
      ),
      ["majority", 2],
    );
    assert.deepEqual(await names("mgmt", "quorum"), ["_id_", "q_1", "r_1"]);
  });
});

describe("an aggregate with $out or $merge and a secondary read preference (crud.md)", () => {
  for (const [version, wire, onSecondary] of [["7.0", 21, true], ["4.4", 9, false]] as const) {
    test(`MongoDB ${version}: it runs on ${onSecondary ? "a secondary, writing through the primary" : "the primary"}`, async () => {
      await using rs = await startReplicaSet({ members: 3, name: `out${wire}`, maxWireVersion: wire });
      const conn = await ReplicaSetConnection.connect(rs.uri, FAST);
      try {
        const db = conn.db("agg");
        await db.collection("src").insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 2 }], { writeConcern: { w: 3 } });
        const src = db.collection("src", { readPreference: ReadPreference.SECONDARY_ONLY });
        assert.deepEqual(await src.aggregate([{ $match: { x: 2 } }, { $out: "dst" }]).toArray(), []);
        await src.aggregate([{ $match: { x: 1 } }, { $merge: { into: "dst" } }]).toArray();
        const ran = rs.members.filter((m) => rs.requests(m).some((r) => r.command === "aggregate"));
        assert.ok(ran.length > 0);
        for (const m of ran) assert.equal(m.state === "PRIMARY", !onSecondary, `${m.host} ran one, as ${m.state}`);
        const stored = await db.collection("dst").find({}, { sort: { _id: 1 } }).toArray();
        assert.deepEqual(stored, [{ _id: 1, x: 1 }, { _id: 2, x: 2 }], "the primary has the output");
      } finally {
        await conn.close();
      }
    });
  }

  test("a secondary of MongoDB 4.4 refuses $out itself: NotWritablePrimary (10107, raised as AutoReconnect)", async () => {
    await using rs = await startReplicaSet({ members: 2, name: "out44", maxWireVersion: 9 });
    await rs.waitForPrimary();
    const secondary = await Connection.connect(`mongodb://${rs.secondaries[0].host}/?directConnection=true`, FAST);
    try {
      const c = secondary.db("agg").collection("src", { readPreference: ReadPreference.SECONDARY });
      await assert.rejects(c.aggregate([{ $out: "dst" }]).toArray(), (e: unknown) => e instanceof AutoReconnect && /code 10107/.test(e.message));
    } finally {
      await secondary.close();
    }
  });
});
