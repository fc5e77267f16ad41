// The official Node driver's application API (npm:mongodb, dev-only) against
// the simulated set: findOneAnd*, bulkWrite, indexes and E11000, distinct,
// countDocuments, $out/$merge, rename, createCollection with a validator.
// The driver parses every reply, so a shape mongod would not send fails here.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MongoBulkWriteError, MongoClient, MongoServerError } from "mongodb";
import { startReplicaSet } from "../../src/testing/mod.ts";
import type { ReplicaSet } from "../../src/testing/mod.ts";

async function withDriver(fn: (client: MongoClient, rs: ReplicaSet) => Promise<void>): Promise<void> {
  await using rs = await startReplicaSet({ members: 2 });
  const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
  try {
    await client.connect();
    await fn(client, rs);
  } finally {
    await client.close();
  }
}

type Doc = { _id: number; a?: number; b?: string; n?: number; xs?: { v: number }[] };

describe("official Node driver application API against the simulator", () => {
  test("findOneAndUpdate / findOneAndReplace / findOneAndDelete", async () => {
    await withDriver(async (client) => {
      const c = client.db("t").collection<Doc>("f");
      await c.insertMany([{ _id: 1, a: 3 }, { _id: 2, a: 1 }, { _id: 3, a: 2 }]);
      const before = await c.findOneAndUpdate({ a: { $gte: 2 } }, { $inc: { a: 10 } }, { sort: { a: 1 } });
      assert.deepEqual(before, { _id: 3, a: 2 });
      const after = await c.findOneAndUpdate({ _id: 3 }, { $inc: { a: 1 } }, {
        returnDocument: "after",
        projection: { _id: 0 },
      });
      assert.deepEqual(after, { a: 13 });
      const meta = await c.findOneAndUpdate({ _id: 9 }, { $set: { a: 9 } }, {
        upsert: true,
        returnDocument: "after",
        includeResultMetadata: true,
      });
      assert.deepEqual(meta.value, { _id: 9, a: 9 });
      assert.equal(meta.lastErrorObject?.updatedExisting, false);
      assert.equal(meta.lastErrorObject?.upserted, 9);
      // Update pipeline and arrayFilters.
      await c.findOneAndUpdate({ _id: 1 }, [{ $set: { n: { $add: ["$a", 1] } } }]);
      assert.equal((await c.findOne({ _id: 1 }))?.n, 4);
      await c.updateOne({ _id: 2 }, { $set: { xs: [{ v: 1 }, { v: 5 }, { v: 7 }] } });
      const filtered = await c.findOneAndUpdate({ _id: 2 }, { $set: { "xs.$[big].v": 0 } }, {
        arrayFilters: [{ "big.v": { $gt: 4 } }],
        returnDocument: "after",
      });
      assert.deepEqual(filtered?.xs, [{ v: 1 }, { v: 0 }, { v: 0 }]);
      await c.updateOne({ _id: 2, "xs.v": 0 }, { $inc: { "xs.$.v": 5 } });
      assert.deepEqual((await c.findOne({ _id: 2 }))?.xs, [{ v: 1 }, { v: 5 }, { v: 0 }]);
      await assert.rejects(
        c.updateOne({ _id: 2 }, { $set: { "xs.$.v": 1 } }),
        (e: MongoServerError) => e.code === 2 && /positional operator/.test(e.message),
      );
      const replaced = await c.findOneAndReplace({ _id: 9 }, { b: "x" }, { returnDocument: "after" });
      assert.deepEqual(replaced, { _id: 9, b: "x" });
      const deleted = await c.findOneAndDelete({}, { sort: { _id: -1 } });
      assert.deepEqual(deleted, { _id: 9, b: "x" });
      assert.equal(await c.countDocuments(), 3);
      assert.equal(await c.findOneAndDelete({ _id: 42 }), null);
    });
  });

  test("createIndex unique, then E11000 with keyPattern/keyValue; listIndexes; dropIndex", async () => {
    await withDriver(async (client, rs) => {
      const c = client.db("t").collection<Doc>("i");
      assert.equal(await c.createIndex({ a: 1 }, { unique: true }), "a_1");
      assert.equal(await c.createIndex({ a: 1, b: -1 }, { sparse: true }), "a_1_b_-1");
      await c.insertOne({ _id: 1, a: 1 });
      const err = await c.insertOne({ _id: 2, a: 1 }).catch((e) => e);
      assert.ok(err instanceof MongoServerError, String(err));
      assert.equal(err.code, 11000);
      assert.deepEqual(err.keyPattern, { a: 1 });
      assert.deepEqual(err.keyValue, { a: 1 });
      assert.equal(err.message, "E11000 duplicate key error collection: t.i index: a_1 dup key: { a: 1 }");
      // An update into a taken key and an upsert are refused the same way.
      await c.insertOne({ _id: 3, a: 3 });
      await assert.rejects(c.updateOne({ _id: 3 }, { $set: { a: 1 } }), (e: MongoServerError) => e.code === 11000);
      await assert.rejects(
        c.findOneAndUpdate({ _id: 3 }, { $set: { a: 1 } }),
        (e: MongoServerError) => e.code === 11000 && e.keyValue?.a === 1,
      );
      const names = (await c.listIndexes().toArray()).map((i) => i.name);
      assert.deepEqual(names, ["_id_", "a_1", "a_1_b_-1"]);
      const info = await c.indexInformation({ full: true }) as { name: string; unique?: boolean; sparse?: boolean }[];
      assert.equal(info.find((i) => i.name === "a_1")?.unique, true);
      assert.equal(info.find((i) => i.name === "a_1_b_-1")?.sparse, true);
      // Index definitions replicate to the secondary.
      await rs.waitForReplication();
      const secondary = rs.secondaries[0];
      const direct = new MongoClient(`mongodb://${secondary.host}/?directConnection=true`);
      try {
        const onSecondary = await direct.db("t").collection("i").listIndexes().toArray();
        assert.deepEqual(onSecondary.map((i) => i.name), ["_id_", "a_1", "a_1_b_-1"]);
      } finally {
        await direct.close();
      }
      await c.dropIndex("a_1");
      await c.insertOne({ _id: 4, a: 1 });
      await assert.rejects(c.dropIndex("nope"), (e: MongoServerError) => e.code === 27);
      await c.dropIndexes();
      assert.deepEqual((await c.listIndexes().toArray()).map((i) => i.name), ["_id_"]);
      await c.insertOne({ _id: 5, a: 1 });
      await assert.rejects(c.createIndex({ a: 1 }, { unique: true }), (e: MongoServerError) => e.code === 11000);
    });
  });

  test("bulkWrite ordered and unordered with a duplicate key: counts and indexes", async () => {
    await withDriver(async (client) => {
      const c = client.db("t").collection<Doc>("b");
      await c.insertOne({ _id: 1 });
      const ordered = await c.bulkWrite([
        { insertOne: { document: { _id: 2 } } },
        { insertOne: { document: { _id: 1 } } },
        { insertOne: { document: { _id: 3 } } },
      ]).catch((e) => e);
      assert.ok(ordered instanceof MongoBulkWriteError, String(ordered));
      assert.equal(ordered.result.insertedCount, 1);
      const orderedErrors = [ordered.writeErrors].flat();
      assert.deepEqual(orderedErrors.map((e) => [e.index, e.code]), [[1, 11000]]);
      assert.equal(await c.countDocuments(), 2);

      const unordered = await c.bulkWrite([
        { insertOne: { document: { _id: 1 } } },
        { insertOne: { document: { _id: 4 } } },
        { updateOne: { filter: { _id: 4 }, update: { $set: { a: 1 } } } },
        { updateOne: { filter: { _id: 5 }, update: { $set: { a: 2 } }, upsert: true } },
        { insertOne: { document: { _id: 2 } } },
        { deleteOne: { filter: { _id: 3 } } },
      ], { ordered: false }).catch((e) => e);
      assert.ok(unordered instanceof MongoBulkWriteError, String(unordered));
      const errs = Array.isArray(unordered.writeErrors) ? unordered.writeErrors : [unordered.writeErrors];
      assert.deepEqual(errs.map((e: { index: number }) => e.index), [0, 4]);
      assert.equal(unordered.result.insertedCount, 1);
      assert.equal(unordered.result.matchedCount, 1);
      assert.equal(unordered.result.modifiedCount, 1);
      assert.equal(unordered.result.upsertedCount, 1);
      assert.equal(unordered.result.deletedCount, 0);
      assert.deepEqual(unordered.result.upsertedIds, { 3: 5 });
    });
  });

  test("distinct, countDocuments, estimatedDocumentCount, aggregate with $out and $merge", async () => {
    await withDriver(async (client) => {
      const db = client.db("t");
      const c = db.collection<Doc>("s");
      await c.insertMany([{ _id: 1, a: 1, b: "x" }, { _id: 2, a: 2, b: "y" }, { _id: 3, a: 2, b: "x" }]);
      assert.deepEqual(await c.distinct("a"), [1, 2]);
      assert.deepEqual(await c.distinct("b", { a: 2 }), ["x", "y"]);
      assert.equal(await c.countDocuments({ a: 2 }), 2);
      assert.equal(await c.countDocuments({}, { skip: 1, limit: 1 }), 1);
      assert.equal(await c.estimatedDocumentCount(), 3);
      const grouped = await c.aggregate([
        { $group: { _id: "$b", total: { $sum: "$a" } } },
        { $sort: { _id: 1 } },
      ]).toArray();
      assert.deepEqual(grouped, [{ _id: "x", total: 3 }, { _id: "y", total: 2 }]);
      await c.aggregate([{ $match: { a: 2 } }, { $addFields: { copied: true } }, { $out: "copy" }]).toArray();
      assert.deepEqual(await db.collection("copy").find().sort({ _id: 1 }).toArray(), [
        { _id: 2, a: 2, b: "y", copied: true },
        { _id: 3, a: 2, b: "x", copied: true },
      ]);
      await db.collection("copy").aggregate([
        { $project: { _id: 1, merged: "$b" } },
        { $merge: { into: "s", whenMatched: "merge", whenNotMatched: "discard" } },
      ]).toArray();
      assert.deepEqual(await c.findOne({ _id: 3 }), { _id: 3, a: 2, b: "x", merged: "x" });
      assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, a: 1, b: "x" });
      // $out is all or nothing: a unique index on the target refusing the result leaves it as it was.
      await db.collection("copy").createIndex({ b: 1 }, { unique: true });
      await assert.rejects(c.aggregate([{ $out: "copy" }]).toArray(), (e: MongoServerError) => e.code === 11000);
      assert.equal(await db.collection("copy").countDocuments(), 2);
      const unwound = await db.aggregate([
        { $documents: [{ xs: [1, 2] }] },
        { $unwind: "$xs" },
        { $replaceWith: { v: "$xs" } },
      ]).toArray();
      assert.deepEqual(unwound, [{ v: 1 }, { v: 2 }]);
      await assert.rejects(c.aggregate([{ $nope: {} }]).toArray(), (e: MongoServerError) => e.code === 40324);
    });
  });

  test("rename, createCollection with a validator, listCollections, drop, listDatabases", async () => {
    await withDriver(async (client, rs) => {
      const db = client.db("t");
      await db.collection<Doc>("old").insertOne({ _id: 1 });
      await db.collection("old").createIndex({ k: 1 });
      await db.collection("old").rename("new");
      assert.deepEqual((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name), ["new"]);
      assert.deepEqual((await db.collection("new").listIndexes().toArray()).map((i) => i.name), ["_id_", "k_1"]);
      await assert.rejects(db.collection("missing").rename("x"), (e: MongoServerError) => e.code === 26);

      const people = await db.createCollection("people", {
        validator: { $jsonSchema: { bsonType: "object", required: ["name"], properties: { age: { bsonType: "int", minimum: 0 } } } },
      });
      await people.insertOne({ name: "Ada", age: 36 });
      const bad = await people.insertOne({ age: -1 }).catch((e) => e);
      assert.ok(bad instanceof MongoServerError, String(bad));
      assert.equal(bad.code, 121);
      assert.equal(bad.errInfo?.failingDocumentId !== undefined, true);
      await people.insertOne({ age: -1 }, { bypassDocumentValidation: true });
      const listed = await db.listCollections({ name: "people" }).toArray();
      assert.deepEqual(Object.keys((listed[0] as { options: object }).options), ["validator"]);
      await assert.rejects(
        db.createCollection("weird", { validator: { $jsonSchema: { oneOf: [] } } }),
        (e: MongoServerError) => e.code === 9 && /oneOf/.test(e.message),
      );

      const capped = await db.createCollection<Doc>("log", { capped: true, size: 4096, max: 2 });
      await capped.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
      assert.deepEqual(await capped.find().toArray(), [{ _id: 2 }, { _id: 3 }]);
      const [stats] = await capped.aggregate([
        { $collStats: { storageStats: {}, count: {} } },
        { $project: { _id: 0, capped: "$storageStats.capped", maxSize: "$storageStats.maxSize", max: "$storageStats.max", count: 1 } },
      ]).toArray();
      assert.deepEqual(stats, { capped: true, maxSize: 4096, max: 2, count: 2 });
      const command = await db.command({ collStats: "log" });
      assert.equal(command.count, 2);
      assert.equal(command.capped, true);
      await assert.rejects(
        db.collection("missing").aggregate([{ $collStats: { storageStats: {} } }]).toArray(),
        (e: MongoServerError) => e.code === 26,
      );
      await assert.rejects(capped.aggregate([{ $collStats: { latencyStats: {} } }]).toArray(), (e: MongoServerError) => e.code === 238);

      await rs.waitForReplication();
      assert.deepEqual(rs.secondaries[0].documents("t.new"), [{ _id: 1 }]);
      assert.equal(await db.collection("new").drop(), true);
      const names = (await client.db().admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
      assert.ok(names.includes("t"));
      const filtered = await client.db().admin().listDatabases({ filter: { name: "t" } });
      assert.deepEqual(filtered.databases.map((d) => d.name), ["t"]);
      assert.equal(await db.dropDatabase(), true);
      assert.deepEqual(await db.listCollections().toArray(), []);
    });
  });

  test("tailable awaitData cursor on a capped collection sees later inserts", async () => {
    await withDriver(async (client) => {
      const db = client.db("t");
      const log = await db.createCollection<Doc>("log", { capped: true, size: 4096 });
      await log.insertOne({ _id: 1 });
      await db.collection("plain").insertOne({});
      await assert.rejects(
        db.collection("plain").find({}, { tailable: true }).next(),
        (e: MongoServerError) => e.code === 2 && /non capped/.test(e.message),
      );
      const cursor = log.find({ _id: { $ne: 2 } }, { tailable: true, awaitData: true, maxAwaitTimeMS: 200 });
      try {
        assert.deepEqual(await cursor.next(), { _id: 1 });
        // The cursor waits (awaitData) across empty getMores until a match arrives.
        const pending = cursor.next();
        await log.insertMany([{ _id: 2 }, { _id: 3 }]);
        assert.deepEqual(await pending, { _id: 3 });
        assert.equal(cursor.closed, false);
      } finally {
        await cursor.close();
      }
    });
  });

  test("collation: en at strength 1-3 for match, sort, count, update and delete; others refused", async () => {
    await withDriver(async (client) => {
      const c = client.db("t").collection<Doc>("coll");
      await c.insertMany([{ _id: 1, b: "b" }, { _id: 2, b: "B" }, { _id: 3, b: "a" }, { _id: 4, b: "\u00e1" }]);
      const simple = await c.find({}).sort({ b: 1 }).toArray();
      assert.deepEqual(simple.map((d) => d._id), [2, 3, 1, 4], "binary order without a collation");
      const en = await c.find({}, { collation: { locale: "en" } }).sort({ b: 1, _id: 1 }).toArray();
      assert.deepEqual(en.map((d) => d._id), [3, 4, 1, 2]);
      assert.equal(await c.countDocuments({ b: "B" }), 1);
      assert.equal(await c.countDocuments({ b: "B" }, { collation: { locale: "en", strength: 2 } }), 2);
      assert.equal(await c.countDocuments({ b: "A" }, { collation: { locale: "en", strength: 2 } }), 1);
      assert.equal(await c.countDocuments({ b: "A" }, { collation: { locale: "en", strength: 1 } }), 2);
      const updated = await c.updateMany({ b: "B" }, { $set: { n: 1 } }, { collation: { locale: "en", strength: 1 } });
      assert.equal(updated.modifiedCount, 2);
      const deleted = await c.deleteMany({ b: "A" }, { collation: { locale: "en", strength: 1 } });
      assert.equal(deleted.deletedCount, 2);
      await assert.rejects(
        c.find({}, { collation: { locale: "fr" } }).toArray(),
        (e: MongoServerError) => e.code === 2 && /"fr"/.test(e.message),
      );
      await assert.rejects(
        c.find({}, { collation: { locale: "en", caseFirst: "upper" } }).toArray(),
        (e: MongoServerError) => e.code === 2 && /caseFirst/.test(e.message),
      );
    });
  });

  test("views: reads run the pipeline; writes and indexes are CommandNotSupportedOnView", async () => {
    await withDriver(async (client) => {
      const db = client.db("t");
      await db.collection<Doc>("src").insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 5 }, { _id: 3, a: 9 }]);
      const view = await db.createCollection<Doc>("big", { viewOn: "src", pipeline: [{ $match: { a: { $gt: 2 } } }] });
      assert.deepEqual(await view.find({}, { projection: { a: 1 } }).sort({ a: -1 }).toArray(), [{ _id: 3, a: 9 }, { _id: 2, a: 5 }]);
      assert.equal(await view.countDocuments({ a: { $lt: 6 } }), 1);
      assert.equal(await view.estimatedDocumentCount(), 2);
      assert.deepEqual(await view.distinct("a"), [5, 9]);
      const info = await db.listCollections({ name: "big" }).toArray();
      assert.equal(info[0].type, "view");
      await assert.rejects(view.insertOne({ _id: 4 }), (e: MongoServerError) => e.code === 166);
      await assert.rejects(view.createIndex({ a: 1 }), (e: MongoServerError) => e.code === 166);
    });
  });

  test("collMod index prepareUnique / unique with violations; clustered index; search index commands", async () => {
    await withDriver(async (client) => {
      const db = client.db("t");
      const c = db.collection<Doc & { x?: number }>("m");
      await c.insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 1 }]);
      await c.createIndex({ x: 1 });
      await db.command({ collMod: "m", index: { keyPattern: { x: 1 }, prepareUnique: true } });
      await assert.rejects(c.insertOne({ _id: 3, x: 1 }), (e: MongoServerError) => e.code === 11000);
      const err = await db.command({ collMod: "m", index: { keyPattern: { x: 1 }, unique: true } }).catch((e) => e);
      assert.equal(err?.code, 359, String(err));
      assert.deepEqual(err.errorResponse.violations, [{ ids: [1, 2] }]);
      await c.deleteOne({ _id: 2 });
      const ok = await db.command({ collMod: "m", index: { keyPattern: { x: 1 }, unique: true } });
      assert.equal(ok.unique_new, true);
      assert.equal((await c.listIndexes().toArray()).find((i) => i.name === "x_1")?.unique, true);

      await db.createCollection("clustered", { clusteredIndex: { key: { _id: 1 }, unique: true, name: "by id" } });
      const [idx] = await db.collection("clustered").listIndexes().toArray();
      assert.equal(idx.name, "by id");
      assert.equal(idx.clustered, true);
      await db.createCollection("images", { changeStreamPreAndPostImages: { enabled: true } });
      const [images] = await db.listCollections({ name: "images" }).toArray();
      assert.deepEqual((images as { options: object }).options, { changeStreamPreAndPostImages: { enabled: true } });

      await assert.rejects(
        c.createSearchIndex({ name: "s", definition: { mappings: { dynamic: true } } }),
        (e: MongoServerError) => e.code === 31082 && /Atlas/.test(e.message),
      );
    });
  });
});
