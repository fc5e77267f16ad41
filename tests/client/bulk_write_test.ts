// bulkWrite on a fake topology: the six models become insert/update/delete
// commands grouped as the CRUD specification says (ordered: runs in order;
// unordered: by kind), split by maxWriteBatchSize and message size, and a
// BulkWriteError keeps the caller's indexes, every write concern error and
// the ids of the writes that happened.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, ObjectId } from "../../src/bson/mod.ts";
import { BulkWriteError, ConfigurationError, OperationFailure, OptionTypeError, WireProtocolError, WriteConcernError, WriteError } from "../../src/errors.ts";
import type { AnyBulkWriteOperation } from "../../mod.ts";
import { type Call, type Handler, okHandler } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

type Seq = { identifier: string; documents: Document[] };
const seq = (call: Call) => (call.options.sequences as Seq[])[0];
const kind = (call: Call) => Object.keys(call.cmd)[0];

const SIX: AnyBulkWriteOperation[] = [
  { insertOne: { document: { _id: 1, n: 0 } } },
  { insertOne: { document: { n: 9 } } },
  { updateOne: { filter: { _id: 1 }, update: { $inc: { n: 1 } }, hint: "_id_" } },
  {
    updateMany: {
      filter: {},
      update: [{ $set: { seen: true } }],
      arrayFilters: [{ x: 1 }],
      collation: { locale: "en" },
    },
  },
  { replaceOne: { filter: { _id: 2 }, replacement: { n: 5 }, upsert: true } },
  { deleteOne: { filter: { _id: 1 } } },
  { insertOne: { document: { _id: 3 } } },
  { deleteMany: { filter: { n: { $gt: 10 } }, hint: { n: 1 } } },
];

/** Replies like a server: counts from the statements, an upsert for every upsert: true statement. */
const server: Handler = (call) => {
  const s = seq(call);
  if (kind(call) === "update") {
    const upserted = s.documents.flatMap((d, index) => d.upsert === true ? [{ index, _id: `up${index}` }] : []);
    return { ok: 1, n: s.documents.length, nModified: s.documents.length - upserted.length, upserted };
  }
  return okHandler(call);
};

describe("bulkWrite", () => {
  test("ordered: consecutive runs of one kind, in order, with the statements of each model", async () => {
    const { coll, log } = setup(server);
    const r = await coll.bulkWrite(SIX, { writeConcern: { w: "majority" }, comment: "bulk", let: { v: 1 } });
    assert.deepEqual(log.map(kind), ["insert", "update", "delete", "insert", "delete"]);
    assert.ok(log.every((c) => c.via === "conn" && c.server === "a:27017"));
    assert.deepEqual(log[0].cmd, { insert: "people", ordered: true, comment: "bulk", writeConcern: { w: "majority" } });
    assert.deepEqual(log[1].cmd, {
      update: "people",
      ordered: true,
      comment: "bulk",
      let: { v: 1 },
      writeConcern: { w: "majority" },
    });
    assert.equal(seq(log[1]).identifier, "updates");
    assert.deepEqual(seq(log[1]).documents, [
      { q: { _id: 1 }, u: { $inc: { n: 1 } }, multi: false, hint: "_id_" },
      { q: {}, u: [{ $set: { seen: true } }], multi: true, arrayFilters: [{ x: 1 }], collation: { locale: "en" } },
      { q: { _id: 2 }, u: { n: 5 }, multi: false, upsert: true },
    ]);
    assert.deepEqual(seq(log[2]).documents, [{ q: { _id: 1 }, limit: 1 }]);
    assert.deepEqual(seq(log[4]).documents, [{ q: { n: { $gt: 10 } }, limit: 0, hint: { n: 1 } }]);
    const generated = seq(log[0]).documents[1]._id;
    assert.ok(generated instanceof ObjectId);
    assert.equal("_id" in (SIX[1] as { insertOne: { document: Document } }).insertOne.document, false);
    assert.deepEqual(r, {
      acknowledged: true,
      insertedCount: 3,
      matchedCount: 2,
      modifiedCount: 2,
      deletedCount: 2,
      upsertedCount: 1,
      insertedIds: { 0: 1, 1: generated, 6: 3 },
      upsertedIds: { 4: "up2" },
    });
  });

  test("unordered: grouped by kind (inserts, updates, deletes), ordered: false", async () => {
    const { coll, log } = setup(server);
    await coll.bulkWrite(SIX, { ordered: false });
    assert.deepEqual(log.map(kind), ["insert", "update", "delete"]);
    assert.deepEqual(seq(log[0]).documents.map((d) => d._id !== undefined), [true, true, true]);
    assert.equal(seq(log[2]).documents.length, 2);
    assert.equal(log[0].cmd.ordered, false);
  });

  test("batches follow maxWriteBatchSize; a message too large to encode is halved", async () => {
    const { coll, log, primary } = setup((call) => {
      if (seq(call).documents.length > 2) {
        throw new WireProtocolError("cannot encode OP_MSG: exceeds maxMessageSizeBytes");
      }
      return okHandler(call);
    });
    primary.maxWriteBatchSize = 3;
    const ops: AnyBulkWriteOperation[] = Array.from({ length: 7 }, (_, i) => ({ insertOne: { document: { _id: i } } }));
    const r = await coll.bulkWrite(ops);
    assert.deepEqual(log.map((c) => seq(c).documents.map((d) => d._id)), [
      [0, 1, 2],
      [0, 1],
      [2],
      [3, 4, 5],
      [3, 4],
      [5],
      [6],
    ]);
    assert.equal(r.insertedCount, 7);
    assert.equal(Object.keys(r.insertedIds).length, 7);
  });

  test("ordered: a write error stops it; BulkWriteError has the caller's index and the ids that were inserted", async () => {
    const { coll, log, primary } = setup((call) => {
      const docs = seq(call).documents;
      const bad = docs.findIndex((d) => d._id === "dup");
      if (kind(call) !== "insert" || bad < 0) return server(call);
      return {
        ok: 1,
        n: bad,
        writeErrors: [{ index: bad, code: 11000, codeName: "DuplicateKey", errmsg: "E11000 duplicate key error" }],
      };
    });
    primary.maxWriteBatchSize = 2;
    const ops: AnyBulkWriteOperation[] = [
      { deleteOne: { filter: {} } },
      { insertOne: { document: { _id: "a" } } },
      { insertOne: { document: { _id: "b" } } },
      { insertOne: { document: { _id: "dup" } } },
      { insertOne: { document: { _id: "c" } } },
      { updateOne: { filter: {}, update: { $set: { x: 1 } } } },
    ];
    await assert.rejects(coll.bulkWrite(ops), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError);
      assert.ok(e instanceof WriteError && e instanceof OperationFailure);
      assert.equal(e.code, 11000);
      assert.deepEqual(e.writeErrors.map((w) => w.index), [3]);
      assert.deepEqual(e.result.insertedIds, { 1: "a", 2: "b" }, "the failed and the unsent inserts are not in it");
      assert.equal(e.result.insertedCount, 2);
      assert.equal(e.result.deletedCount, 1);
      return true;
    });
    assert.deepEqual(log.map(kind), ["delete", "insert", "insert"], "nothing after the failed batch");

    log.length = 0;
    await assert.rejects(coll.bulkWrite(ops, { ordered: false }), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError);
      assert.deepEqual(e.result.insertedIds, { 1: "a", 2: "b", 4: "c" });
      assert.equal(e.result.matchedCount, 1, "the update ran");
      return true;
    });
  });

  test("write concern errors of every batch are collected; the writes happened", async () => {
    const wce = { code: 64, codeName: "WriteConcernFailed", errmsg: "waiting for replication timed out" };
    const { coll } = setup((call) => {
      const reply = { ...server(call) as Document, writeConcernError: wce };
      throw new WriteConcernError(wce.errmsg, { code: 64, response: reply });
    });
    const ops: AnyBulkWriteOperation[] = [
      { insertOne: { document: { _id: 1 } } },
      { deleteOne: { filter: { _id: 1 } } },
    ];
    await assert.rejects(coll.bulkWrite(ops), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError);
      assert.equal(e.writeErrors.length, 0);
      assert.equal(e.writeConcernErrors.length, 2);
      assert.deepEqual(e.writeConcernErrors[0], wce);
      assert.match(e.message, /write concern error: waiting for replication timed out \(and 1 more\)/);
      assert.deepEqual(e.result.insertedIds, { 0: 1 });
      assert.equal(e.result.deletedCount, 1);
      return true;
    });
    // insertMany with only a write concern error keeps throwing the WriteConcernError itself.
    await assert.rejects(
      coll.insertMany([{ a: 1 }]),
      (e: unknown) => e instanceof WriteConcernError && !(e instanceof BulkWriteError),
    );
  });

  test("malformed models are ConfigurationErrors, wrong types OptionTypeErrors, naming them; nothing is sent", async () => {
    const { coll, log } = setup(server);
    const bad: [unknown, RegExp, (typeof ConfigurationError | typeof OptionTypeError)?][] = [
      [[], /at least one write model/],
      [{}, /an array of write models/, OptionTypeError],
      [[{ insertOne: { document: 1 } }], /bulkWrite model 0 \(insertOne\) document must be a document/, OptionTypeError],
      [[{ insertOne: { doc: {} } }], /unknown bulkWrite model 0 \(insertOne\) field "doc"/],
      [[{ deleteOne: { filter: {} } }, { upsertOne: { filter: {} } }], /bulkWrite model 1: unknown model "upsertOne"/],
      [[{ updateOne: { filter: {}, update: { a: 1 } } }], /update operators such as \$set/],
      [[{ replaceOne: { filter: {}, replacement: { $set: { a: 1 } } } }], /must not contain update operators/],
      [[{ insertOne: { document: {} }, deleteOne: { filter: {} } }], /exactly one of/],
      [[{ updateMany: { filter: {}, update: { $set: { a: 1 } }, upsert: "yes" } }], /upsert must be a boolean/, OptionTypeError],
    ];
    for (const [models, message, cls = ConfigurationError] of bad) {
      await assert.rejects(coll.bulkWrite(models as AnyBulkWriteOperation[]), (e: unknown) => {
        assert.ok(e instanceof cls, String(e));
        assert.match(e.message, message);
        return true;
      });
    }
    await assert.rejects(coll.bulkWrite([{ deleteOne: { filter: {} } }], { orderd: false } as Document), /"orderd"/);
    assert.equal(log.length, 0);
  });
});
