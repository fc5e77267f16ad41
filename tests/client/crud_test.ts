// Collection writes with a fake topology: the command bodies and document
// sequences sent, `_id` injection on a copy, results, batching, and error
// mapping (writeErrors -> WriteError, writeConcernError -> WriteConcernError).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, ObjectId } from "../../src/bson/mod.ts";
import { AutoReconnect, ConfigurationError, OperationFailure, OptionTypeError, WireProtocolError, WriteConcernError, WriteError } from "../../src/errors.ts";
import { type ClientConnectionOptions, ReplicaSetConnection } from "../../src/client/mod.ts";
import { type Call, fakeSet, type Handler, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

function setup(handler: Handler = okHandler, options: ClientConnectionOptions = {}) {
  const set = fakeSet(handler);
  const client = new ReplicaSetConnection(
    "a:27017",
    { replicaSet: "foo", ...options, [TOPOLOGY_FACTORY]: set.topology.factory() } as ClientConnectionOptions,
  );
  return { client, coll: client.db("test").collection("people"), ...set };
}

const seq = (call: Call) => (call.options.sequences as { identifier: string; documents: Document[] }[])[0];

describe("insertOne / insertMany", () => {
  test("insertOne sends insert with a documents sequence and an _id added on a copy", async () => {
    const { coll, log } = setup();
    const doc = { name: "Ada", age: 36 };
    const r = await coll.insertOne(doc);
    assert.deepEqual(doc, { name: "Ada", age: 36 }, "the caller's document is not modified");
    assert.equal(log.length, 1);
    assert.deepEqual(log[0].cmd, { insert: "people", ordered: true }, "ordered: true, as command monitoring expects");
    assert.equal(log[0].db, "test");
    assert.equal(log[0].via, "command");
    const s = seq(log[0]);
    assert.equal(s.identifier, "documents");
    assert.equal(s.documents.length, 1);
    assert.deepEqual(Object.keys(s.documents[0]), ["_id", "name", "age"], "_id goes first");
    assert.ok(s.documents[0]._id instanceof ObjectId);
    assert.equal(r.acknowledged, true);
    assert.equal(r.insertedId, s.documents[0]._id);
    // An _id of the caller's is kept.
    const r2 = await coll.insertOne({ _id: 7, x: 1 });
    assert.equal(r2.insertedId, 7);
    assert.deepEqual(seq(log[1]).documents[0], { _id: 7, x: 1 });
  });

  test("insertMany batches by maxWriteBatchSize on one connection, ids by position", async () => {
    const { coll, log, primary } = setup();
    primary.maxWriteBatchSize = 2;
    const docs = [{ i: 0 }, { i: 1 }, { _id: "x", i: 2 }, { i: 3 }, { i: 4 }];
    const r = await coll.insertMany(docs, { writeConcern: { w: "majority" } });
    assert.equal(log.length, 3);
    for (const call of log) {
      assert.equal(call.via, "conn");
      assert.equal(call.server, "a:27017");
      assert.deepEqual(call.cmd, { insert: "people", ordered: true, writeConcern: { w: "majority" } });
    }
    assert.deepEqual(log.map((c) => seq(c).documents.map((d) => d.i)), [[0, 1], [2, 3], [4]]);
    assert.equal(r.insertedCount, 5);
    assert.equal(r.insertedIds[2], "x");
    assert.ok(r.insertedIds[0] instanceof ObjectId);
    assert.equal(Object.keys(r.insertedIds).length, 5);
    assert.equal("_id" in docs[0], false);
  });

  test("a batch too large to encode is halved (nothing was sent)", async () => {
    const { coll, log } = setup((call) => {
      const n = seq(call).documents.length;
      if (n > 2) throw new WireProtocolError("cannot encode OP_MSG: the message exceeds maxMessageSizeBytes");
      return { ok: 1, n };
    });
    const r = await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }, { a: 5 }]);
    assert.equal(r.insertedCount, 5);
    assert.deepEqual(log.map((c) => seq(c).documents.length), [5, 3, 2, 1, 2]);
  });

  test("ordered insertMany stops at the first write error; WriteError has indexes in the input", async () => {
    const { coll, log, primary } = setup((call) => {
      const docs = seq(call).documents;
      const bad = docs.findIndex((d) => d.dup === true);
      if (bad < 0) return { ok: 1, n: docs.length };
      return {
        ok: 1,
        n: bad,
        writeErrors: [{ index: bad, code: 11000, codeName: "DuplicateKey", errmsg: "E11000 duplicate key error" }],
      };
    });
    primary.maxWriteBatchSize = 2;
    const docs = [{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4, dup: true }, { a: 5 }, { a: 6 }];
    await assert.rejects(coll.insertMany(docs), (e: unknown) => {
      assert.ok(e instanceof WriteError);
      assert.ok(e instanceof OperationFailure);
      assert.equal(e.code, 11000);
      assert.equal(e.codeName, "DuplicateKey");
      assert.equal(e.writeErrors.length, 1);
      assert.equal(e.writeErrors[0].index, 3);
      assert.equal(e.result.insertedCount, 3);
      return true;
    });
    assert.equal(log.length, 2, "the third batch is not sent");

    log.length = 0;
    await assert.rejects(coll.insertMany(docs, { ordered: false }), (e: unknown) => {
      assert.ok(e instanceof WriteError);
      assert.equal(e.result.insertedCount, 5);
      return true;
    });
    assert.equal(log.length, 3);
    assert.equal(log[0].cmd.ordered, false);
  });

  test("a wrong type is an OptionTypeError, a bad value a ConfigurationError; nothing is sent", async () => {
    const { coll, log } = setup();
    await assert.rejects(coll.insertOne(null as unknown as Document), OptionTypeError);
    await assert.rejects(coll.insertOne([1] as unknown as Document), OptionTypeError);
    await assert.rejects(coll.insertMany([]), ConfigurationError);
    await assert.rejects(coll.insertMany({} as unknown as Document[]), OptionTypeError);
    await assert.rejects(coll.insertMany([{ a: 1 }, 2 as unknown as Document]), /document 1/);
    await assert.rejects(coll.insertOne({}, { writeConcern: { w: 1.5 } }), ConfigurationError);
    assert.equal(log.length, 0);
  });

  test("w: 0 is unacknowledged", async () => {
    const { coll, log } = setup();
    const r = await coll.insertOne({ a: 1 }, { writeConcern: { w: 0 } });
    assert.equal(r.acknowledged, false);
    assert.deepEqual(log[0].cmd.writeConcern, { w: 0 });
    assert.equal(log[0].options.moreToCome, true, "sent with moreToCome: no reply awaited");
    await coll.insertOne({ a: 2 });
    assert.equal(log[1].options.moreToCome, undefined, "an acknowledged write awaits its reply");
  });
});

describe("update / replace / delete", () => {
  test("updateOne, updateMany, replaceOne: statements in an updates sequence, results like today's drivers", async () => {
    const { coll, log } = setup((call) => {
      const u = seq(call).documents[0];
      if (u.upsert === true) return { ok: 1, n: 1, nModified: 0, upserted: [{ index: 0, _id: 42 }] };
      return { ok: 1, n: 3, nModified: 2 };
    });
    const r1 = await coll.updateOne({ a: 1 }, { $set: { b: 2 } }, { arrayFilters: [{ "x.y": 1 }], hint: "a_1" });
    assert.deepEqual(log[0].cmd, { update: "people", ordered: true });
    assert.equal(seq(log[0]).identifier, "updates");
    assert.deepEqual(seq(log[0]).documents, [{
      q: { a: 1 },
      u: { $set: { b: 2 } },
      multi: false,
      arrayFilters: [{ "x.y": 1 }],
      hint: "a_1",
    }]);
    assert.deepEqual(r1, { acknowledged: true, matchedCount: 3, modifiedCount: 2, upsertedCount: 0, upsertedId: null });

    await coll.updateMany({}, [{ $set: { c: 1 } }]);
    assert.deepEqual(seq(log[1]).documents[0], { q: {}, u: [{ $set: { c: 1 } }], multi: true });

    const r3 = await coll.replaceOne({ a: 1 }, { a: 1, z: 0 }, { upsert: true });
    assert.deepEqual(seq(log[2]).documents[0], { q: { a: 1 }, u: { a: 1, z: 0 }, multi: false, upsert: true });
    assert.deepEqual(r3, { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: 42 });
  });

  test("an update without operators, or a replacement with them, is refused before sending", async () => {
    const { coll, log } = setup();
    await assert.rejects(coll.updateOne({}, { b: 2 }), /update operators/);
    await assert.rejects(coll.updateMany({}, {}), ConfigurationError);
    await assert.rejects(coll.updateOne({}, []), ConfigurationError);
    await assert.rejects(coll.replaceOne({}, { $set: { b: 1 } }), /must not contain update operators/);
    await assert.rejects(coll.updateOne(3 as unknown as Document, { $set: {} }), OptionTypeError);
    await assert.rejects(coll.deleteOne(null as unknown as Document), OptionTypeError);
    assert.equal(log.length, 0);
  });

  test("deleteOne / deleteMany send limit 1 / 0 in a deletes sequence", async () => {
    const { coll, log } = setup((call) => ({ ok: 1, n: seq(call).documents[0].limit === 1 ? 1 : 5 }));
    assert.deepEqual(await coll.deleteOne({ a: 1 }), { acknowledged: true, deletedCount: 1 });
    assert.deepEqual(await coll.deleteMany({ a: { $gt: 1 } }, { collation: { locale: "fr" } }), {
      acknowledged: true,
      deletedCount: 5,
    });
    assert.deepEqual(log[0].cmd, { delete: "people", ordered: true });
    assert.equal(seq(log[0]).identifier, "deletes");
    assert.deepEqual(seq(log[0]).documents, [{ q: { a: 1 }, limit: 1 }]);
    assert.deepEqual(seq(log[1]).documents, [{ q: { a: { $gt: 1 } }, limit: 0, collation: { locale: "fr" } }]);
  });
});

describe("error mapping", () => {
  test("writeErrors become a WriteError with the server's code and message", async () => {
    const { coll } = setup(() => ({
      ok: 1,
      n: 0,
      writeErrors: [{ index: 0, code: 121, errmsg: "Document failed validation", errInfo: { failingDocumentId: 1 } }],
    }));
    await assert.rejects(coll.insertOne({ a: 1 }), (e: unknown) => {
      assert.ok(e instanceof WriteError);
      assert.equal(e.code, 121);
      assert.match(e.message, /Document failed validation/);
      assert.deepEqual(e.writeErrors[0].errInfo, { failingDocumentId: 1 });
      return true;
    });
    await assert.rejects(coll.updateOne({}, { $set: { a: 1 } }), WriteError);
    await assert.rejects(coll.deleteMany({}), WriteError);
  });

  test("a writeConcernError is a WriteConcernError; with writeErrors too, a WriteError carrying it", async () => {
    const wce = { code: 64, codeName: "WriteConcernFailed", errmsg: "waiting for replication timed out" };
    let withWriteErrors = false;
    const { coll } = setup(() => {
      const reply: Document = { ok: 1, n: 1, writeConcernError: wce };
      if (withWriteErrors) reply.writeErrors = [{ index: 0, code: 11000, errmsg: "dup" }];
      // The connection throws this for an ok: 1 reply with a writeConcernError.
      throw new WriteConcernError(wce.errmsg, { code: 64, codeName: wce.codeName, response: reply });
    });
    await assert.rejects(coll.insertOne({ a: 1 }), (e: unknown) => {
      assert.ok(e instanceof WriteConcernError);
      assert.equal(e.code, 64);
      assert.equal(e.result.n, 1);
      return true;
    });
    await assert.rejects(coll.insertMany([{ a: 1 }, { a: 2 }]), WriteConcernError);
    withWriteErrors = true;
    await assert.rejects(coll.updateOne({}, { $set: { a: 1 } }), (e: unknown) => {
      assert.ok(e instanceof WriteError);
      assert.equal(e.code, 11000);
      assert.deepEqual(e.writeConcernError, wce);
      return true;
    });
  });

  test("writes are never retried: AutoReconnect reaches the caller after one attempt", async () => {
    const { coll, log, topology } = setup(() => {
      throw new AutoReconnect("connection reset; the operation may or may not have happened", { address: "a:27017" });
    });
    await assert.rejects(coll.insertOne({ a: 1 }), AutoReconnect);
    await assert.rejects(coll.insertMany([{ a: 1 }]), AutoReconnect);
    await assert.rejects(coll.updateOne({}, { $set: { a: 1 } }), AutoReconnect);
    assert.equal(log.length, 3);
    assert.equal(topology.selections.length, 3);
  });

  test("drop: true when dropped, false when the collection did not exist", async () => {
    let exists = true;
    const { coll, log } = setup(() => {
      if (exists) return { ok: 1 };
      throw new OperationFailure("ns not found", {
        code: 26,
        codeName: "NamespaceNotFound",
        response: { ok: 0, code: 26 },
      });
    });
    assert.equal(await coll.drop({ writeConcern: { w: 1 } }), true);
    assert.deepEqual(log[0].cmd, { drop: "people", writeConcern: { w: 1 } });
    exists = false;
    assert.equal(await coll.drop(), false);
  });
});

describe("countDocuments", () => {
  test("aggregates $match, $skip, $limit, $group with $sum: 1", async () => {
    const { coll, log } = setup((call) => ({
      ok: 1,
      cursor: {
        id: 0n,
        ns: "test.people",
        firstBatch: call.cmd.pipeline && (call.cmd.pipeline as Document[]).length > 2 ? [] : [{ _id: 1, n: 12 }],
      },
    }));
    assert.equal(await coll.countDocuments({ a: 1 }), 12);
    assert.deepEqual(log[0].cmd, {
      aggregate: "people",
      pipeline: [{ $match: { a: 1 } }, { $group: { _id: 1, n: { $sum: 1 } } }],
      cursor: {},
    });
    assert.equal(await coll.countDocuments({}, { skip: 2, limit: 5 }), 0);
    assert.deepEqual(log[1].cmd.pipeline, [{ $match: {} }, { $skip: 2 }, { $limit: 5 }, {
      $group: { _id: 1, n: { $sum: 1 } },
    }]);
    await assert.rejects(coll.countDocuments({}, { limit: -1 }), ConfigurationError);
  });
});
