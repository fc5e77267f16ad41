// The application API against the simulated replica set (src/testing) over
// real sockets: findOneAnd*, distinct and estimatedDocumentCount as a
// server answers them. Command shapes are in api_test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { BulkWriteError, ReplicaSetConnection } from "../../mod.ts";

const FAST = {
  serverSelectionTimeoutMS: 5000,
  heartbeatFrequencyMS: 500,
  connectTimeoutMS: 2000,
};

describe("the application API against the simulated set", () => {
  let rs: ReplicaSet;
  let conn: ReplicaSetConnection;
  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "foo" });
    conn = await ReplicaSetConnection.connect(rs.uri, FAST);
  });
  after(async () => {
    await conn?.close();
    await rs?.close();
  });

  test("findOneAndUpdate / Replace / Delete return the document before or after", async () => {
    interface Counter {
      _id: string;
      seq: number;
    }
    const counters = conn.db("api").collection<Counter>("counters");
    const first = await counters.findOneAndUpdate({ _id: "orders" }, {
      $inc: { seq: 1 },
    }, {
      upsert: true,
      returnDocument: "after",
    });
    assert.deepEqual(first, { _id: "orders", seq: 1 });
    const before = await counters.findOneAndUpdate({ _id: "orders" }, {
      $inc: { seq: 1 },
    });
    assert.deepEqual(
      before,
      { _id: "orders", seq: 1 },
      "returnDocument defaults to before",
    );
    const replaced = await counters.findOneAndReplace({ _id: "orders" }, {
      seq: 10,
    }, {
      returnDocument: "after",
      projection: { _id: 0 },
    });
    assert.deepEqual(replaced, { seq: 10 });
    assert.equal(
      await counters.findOneAndUpdate({ _id: "none" }, { $set: { seq: 0 } }),
      null,
    );
    await counters.insertOne({ _id: "a", seq: 5 });
    const deleted = await counters.findOneAndDelete({}, { sort: { seq: -1 } });
    assert.deepEqual(
      deleted,
      { _id: "orders", seq: 10 },
      "sort picks the highest",
    );
    assert.equal(await counters.countDocuments(), 1);
  });

  test("distinct and estimatedDocumentCount", async () => {
    const people = conn.db("api").collection("people");
    await people.insertMany([
      { city: "Paris", tags: ["a", "b"] },
      { city: "Rome", tags: ["b"] },
      { city: "Paris", tags: [] },
    ]);
    const cities = await people.distinct("city");
    assert.deepEqual([...cities].sort(), ["Paris", "Rome"]);
    assert.deepEqual([...await people.distinct("tags")].sort(), ["a", "b"]);
    assert.deepEqual(await people.distinct("city", { tags: "a" }), ["Paris"]);
    assert.equal(await people.estimatedDocumentCount(), 3);
  });

  test("bulkWrite: the six models, and a duplicate key in an ordered and an unordered bulk write", async () => {
    const items = conn.db("api").collection<{ _id: number; n?: number }>("items");
    const r = await items.bulkWrite([
      { insertOne: { document: { _id: 1, n: 1 } } },
      { insertOne: { document: { _id: 2, n: 2 } } },
      { updateOne: { filter: { _id: 1 }, update: { $inc: { n: 10 } } } },
      { updateMany: { filter: {}, update: { $set: { seen: true } } } },
      { replaceOne: { filter: { _id: 3 }, replacement: { n: 3 }, upsert: true } },
      { deleteOne: { filter: { _id: 2 } } },
      { deleteMany: { filter: { n: { $gt: 100 } } } },
    ]);
    assert.equal(r.insertedCount, 2);
    assert.equal(r.matchedCount, 3);
    assert.equal(r.modifiedCount, 3);
    assert.equal(r.upsertedCount, 1);
    assert.deepEqual(r.upsertedIds, { 4: 3 });
    assert.equal(r.deletedCount, 1);
    assert.deepEqual(await items.find({}, { sort: { _id: 1 } }).toArray(), [
      { _id: 1, n: 11, seen: true },
      { _id: 3, n: 3 },
    ]);
    const dupes = [
      { insertOne: { document: { _id: 10 } } },
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 11 } } },
    ];
    await assert.rejects(items.bulkWrite(dupes), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError, String(e));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.writeErrors.map((w) => w.index), [1]);
      assert.deepEqual(e.result.insertedIds, { 0: 10 });
      return true;
    });
    assert.equal(await items.countDocuments({ _id: 11 }), 0, "ordered: stopped at the duplicate");
    await items.deleteOne({ _id: 10 });
    await assert.rejects(items.bulkWrite(dupes, { ordered: false }), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError);
      assert.deepEqual(e.result.insertedIds, { 0: 10, 2: 11 });
      assert.equal(e.result.insertedCount, 2);
      return true;
    });
  });

  test("indexes, createCollection, listCollectionNames, dropCollection, listDatabaseNames", async () => {
    const db = conn.db("api_admin");
    const events = await db.createCollection<{ at: number }>("events");
    assert.deepEqual(await db.listCollectionNames(), ["events"]);
    assert.equal(await events.createIndex({ at: -1 }, { unique: true }), "at_-1");
    assert.deepEqual(await events.createIndexes([{ key: { a: 1, b: 1 } }]), ["a_1_b_1"]);
    const indexes = await events.listIndexes({ batchSize: 1 }).toArray();
    assert.deepEqual(indexes.map((i) => i.name), ["_id_", "at_-1", "a_1_b_1"]);
    assert.deepEqual(indexes[1].key, { at: -1 });
    assert.equal(indexes[1].unique, true);
    assert.ok((await conn.listDatabaseNames()).includes("api_admin"));
    assert.equal(await db.dropCollection("events"), true);
    assert.deepEqual(await db.listCollectionNames(), []);
  });
});
