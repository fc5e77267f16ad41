// client.bulkWrite on a fake topology (bulk-write.md): the bulkWrite command on
// admin with ops and nsInfo as document sequences, batches split by
// maxWriteBatchSize and maxMessageSizeBytes (nsInfo per batch), results merged
// with the caller's indexes, the cursor read to its end, ClientBulkWriteError
// with write errors, write concern errors and the partial result, and the
// client-side errors that come before any I/O. Then, on the simulated set
// (MongoDB 8.0): client.bulkWrite as a retryable write (txnNumber, one retry,
// applied once; not with a multi model), its session option, and a collection
// bulk write stopped by a command failure keeping its partial result.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, Int64 } from "../../src/bson/mod.ts";
import {
  AutoReconnect,
  BulkWriteError,
  BulkWriteInterruptedError,
  ConfigurationError,
  OperationFailure,
  WriteConcernError,
} from "../../src/errors.ts";
import { ClientBulkWriteError, type ClientBulkWriteModel, ReplicaSetConnection } from "../../mod.ts";
import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import type { Call } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

type Seq = { identifier: string; documents: Document[] };
const idOf = (op: Document) => (op.document as Document | undefined)?._id;
const seqs = (call: Call) => Object.fromEntries((call.options.sequences as Seq[]).map((s) => [s.identifier, s.documents]));

/** Answers a bulkWrite as the server does: every op succeeds (n 1), unless `fail` names its index in the batch. */
function bulkReply(call: Call, fail: (op: Document, i: number) => boolean = () => false, errorsOnly?: boolean): Document {
  const { ops } = seqs(call);
  const results: Document[] = [];
  const totals = { nErrors: 0, nInserted: 0, nUpserted: 0, nMatched: 0, nModified: 0, nDeleted: 0 };
  for (let i = 0; i < ops.length; i++) {
    if (fail(ops[i], i)) {
      totals.nErrors++;
      results.push({ ok: 0, idx: i, n: 0, code: 11000, errmsg: "E11000 duplicate key error" });
      if (call.cmd.ordered !== false) break;
      continue;
    }
    const kind = Object.keys(ops[i])[0];
    if (kind === "insert") totals.nInserted++;
    else if (kind === "delete") totals.nDeleted++;
    else (totals.nMatched++, totals.nModified++);
    if (!(errorsOnly ?? call.cmd.errorsOnly)) {
      results.push(kind === "update" ? { ok: 1, idx: i, n: 1, nModified: 1 } : { ok: 1, idx: i, n: 1 });
    }
  }
  return { ok: 1, cursor: { id: 0n, firstBatch: results, ns: "admin.$cmd.bulkWrite" }, ...totals };
}

const THREE: ClientBulkWriteModel[] = [
  { insertOne: { namespace: "db.a", document: { _id: 1 } } },
  { updateOne: { namespace: "db.b", filter: { _id: 1 }, update: { $set: { x: 1 } }, sort: { x: 1 } } },
  { deleteMany: { namespace: "db.a", filter: { old: true }, hint: "old_1" } },
];

/** The reply to a bulkWrite of two inserts whose results cursor (id 42) holds the second result for a getMore. */
const firstOfTwo = (): Document => ({
  ok: 1,
  cursor: { id: 42n, firstBatch: [{ ok: 1, idx: 0, n: 1 }], ns: "admin.$cmd.bulkWrite" },
  nErrors: 0,
  nInserted: 2,
});

describe("client bulkWrite", () => {
  test("one bulkWrite command on admin: ops and nsInfo sequences, errorsOnly, ordered, options", async () => {
    const { client, log } = setup((call) => bulkReply(call), {}, 25);
    const r = await client.bulkWrite(THREE, { comment: "c", let: { v: 1 }, bypassDocumentValidation: false });
    assert.equal(log.length, 1);
    assert.equal(log[0].db, "admin");
    assert.deepEqual(log[0].cmd, {
      bulkWrite: 1,
      errorsOnly: true,
      ordered: true,
      bypassDocumentValidation: false,
      comment: "c",
      let: { v: 1 },
    });
    assert.deepEqual(seqs(log[0]), {
      ops: [
        { insert: 0, document: { _id: 1 } },
        { update: 1, filter: { _id: 1 }, updateMods: { $set: { x: 1 } }, multi: false, sort: { x: 1 } },
        { delete: 0, filter: { old: true }, multi: true, hint: "old_1" },
      ],
      nsInfo: [{ ns: "db.a" }, { ns: "db.b" }],
    });
    assert.deepEqual(r, {
      acknowledged: true,
      hasVerboseResults: false,
      insertedCount: 1,
      upsertedCount: 0,
      matchedCount: 1,
      modifiedCount: 1,
      deletedCount: 1,
    });
  });

  test("batches by maxWriteBatchSize, nsInfo per batch, verbose results under the caller's indexes", async () => {
    const { client, log, primary } = setup((call) => bulkReply(call), {}, 25);
    primary.maxWriteBatchSize = 2;
    const r = await client.bulkWrite(THREE, { verboseResults: true });
    assert.deepEqual(log.map((c) => seqs(c).nsInfo), [[{ ns: "db.a" }, { ns: "db.b" }], [{ ns: "db.a" }]]);
    assert.deepEqual(seqs(log[1]).ops[0].delete, 0);
    assert.equal(log[0].cmd.errorsOnly, false);
    assert.deepEqual(r.insertResults, { 0: { insertedId: 1 } });
    assert.deepEqual(r.updateResults, { 1: { matchedCount: 1, modifiedCount: 1 } });
    assert.deepEqual(r.deleteResults, { 2: { deletedCount: 1 } });
    assert.equal(r.deletedCount, 1);
  });

  test("batches by maxMessageSizeBytes (less 1000 bytes); one model too large is refused before any I/O", async () => {
    const { client, log, primary } = setup((call) => bulkReply(call), {}, 25);
    const big = "x".repeat(400);
    const models: ClientBulkWriteModel[] = Array.from({ length: 5 }, (_, i) => ({
      insertOne: { namespace: "db.a", document: { _id: i, big } },
    }));
    primary.maxMessageSizeBytes = 2000; // room for two 400-byte documents a batch
    const r = await client.bulkWrite(models);
    assert.deepEqual(log.map((c) => seqs(c).ops.map(idOf)), [[0, 1], [2, 3], [4]]);
    assert.equal(r.insertedCount, 5);
    log.length = 0;
    primary.maxMessageSizeBytes = 1200;
    await assert.rejects(client.bulkWrite(models), ConfigurationError);
    assert.equal(log.length, 0);
  });

  test("ordered: a write error stops it; ClientBulkWriteError has it by index and the partial result", async () => {
    const { client, log, primary } = setup((call) => bulkReply(call, (op) => idOf(op) === "dup"), {}, 25);
    primary.maxWriteBatchSize = 2;
    const models: ClientBulkWriteModel[] = ["a", "dup", "b", "c"].map((id) => ({
      insertOne: { namespace: "db.a", document: { _id: id } },
    }));
    const e = await client.bulkWrite(models, { verboseResults: true }).then(() => undefined, (e) => e);
    assert.ok(e instanceof ClientBulkWriteError);
    assert.equal(log.length, 1, "no batch after the failed one");
    assert.deepEqual(Object.keys(e.writeErrors), ["1"]);
    assert.equal(e.writeErrors[1].code, 11000);
    assert.deepEqual(e.partialResult?.insertResults, { 0: { insertedId: "a" } });
    assert.equal(e.partialResult?.insertedCount, 1);
  });

  test("unordered: every batch runs; a write concern error is kept and thrown at the end", async () => {
    let calls = 0;
    const { client, log, primary } = setup((call) => {
      const reply = bulkReply(call, (op) => idOf(op) === "dup");
      if (++calls !== 2) return reply;
      // As the connection does with a reply carrying a writeConcernError.
      reply.writeConcernError = { code: 64, codeName: "WriteConcernFailed", errmsg: "waiting timed out" };
      throw new WriteConcernError("waiting timed out", { code: 64, response: reply });
    }, {}, 25);
    primary.maxWriteBatchSize = 2;
    const models: ClientBulkWriteModel[] = ["dup", "a", "b", "c"].map((id) => ({
      insertOne: { namespace: "db.a", document: { _id: id } },
    }));
    const e = await client.bulkWrite(models, { ordered: false }).then(() => undefined, (e) => e);
    assert.ok(e instanceof ClientBulkWriteError);
    assert.equal(log.length, 2);
    assert.deepEqual(Object.keys(e.writeErrors), ["0"]);
    assert.deepEqual(e.writeConcernErrors, [{ code: 64, message: "waiting timed out" }]);
    assert.equal(e.partialResult?.insertedCount, 3);
    assert.equal(e.partialResult?.insertResults, undefined, "summary only without verboseResults");
  });

  test("the results cursor is read to its end with getMore on the same connection", async () => {
    const { client, log } = setup((call) => {
      if (call.cmd.getMore !== undefined) {
        return { ok: 1, cursor: { id: 0n, nextBatch: [{ ok: 1, idx: 1, n: 1 }], ns: "admin.$cmd.bulkWrite" } };
      }
      return firstOfTwo();
    }, {}, 25);
    const r = await client.bulkWrite(
      [1, 2].map((i) => ({ insertOne: { namespace: "db.a", document: { _id: i } } })),
      { verboseResults: true },
    );
    assert.deepEqual(log.map((c) => [c.via, Object.keys(c.cmd)[0]]), [["conn", "bulkWrite"], ["conn", "getMore"]]);
    assert.deepEqual(log[1].cmd, { getMore: 42n, collection: "$cmd.bulkWrite" });
    assert.deepEqual(r.insertResults, { 0: { insertedId: 1 }, 1: { insertedId: 2 } });
  });

  test("a getMore refused by the server is thrown after the results before it, and the cursor is killed", async () => {
    for (const [code, killed] of [[8, true], [43, false]] as const) {
      const { client, log } = setup((call) => {
        if (call.cmd.getMore !== undefined) {
          throw new OperationFailure("no more", { code, response: { ok: 0, code, errmsg: "no more" } });
        }
        if (call.cmd.killCursors !== undefined) return { ok: 1, cursorsKilled: [42n] };
        return firstOfTwo();
      }, {}, 25);
      const e = await client.bulkWrite([1, 2].map((i) => ({ insertOne: { namespace: "db.a", document: { _id: i } } })), {
        verboseResults: true,
      }).then(() => undefined, (e) => e);
      assert.ok(e instanceof ClientBulkWriteError, `code ${code}: ${e}`);
      assert.equal((e.error as OperationFailure).code, code, "the getMore error is the top-level error");
      assert.deepEqual(e.partialResult?.insertResults, { 0: { insertedId: 1 } });
      const names = log.map((c) => Object.keys(c.cmd)[0]);
      assert.deepEqual(names, killed ? ["bulkWrite", "getMore", "killCursors"] : ["bulkWrite", "getMore"], `code ${code}`);
      if (killed) assert.deepEqual(log[2].cmd, { killCursors: "$cmd.bulkWrite", cursors: [42n] });
    }
  });

  test("a command error before any result is thrown as it is", async () => {
    const reply = { ok: 0, code: 8, codeName: "UnknownError", errmsg: "boom" };
    const { client } = setup(() => {
      throw new OperationFailure("boom", { code: 8, codeName: "UnknownError", response: reply });
    }, {}, 25);
    const e = await client.bulkWrite(THREE).then(() => undefined, (e) => e);
    assert.ok(e instanceof OperationFailure);
    assert.equal(e.code, 8);
  });

  test("client-side errors before any I/O: no models, w: 0 with verboseResults or ordered, bad models", async () => {
    const { client, log } = setup((call) => bulkReply(call), {}, 25);
    const insert: ClientBulkWriteModel = { insertOne: { namespace: "db.a", document: {} } };
    await assert.rejects(client.bulkWrite([]), ConfigurationError);
    await assert.rejects(
      client.bulkWrite([insert], { writeConcern: { w: 0 }, ordered: false, verboseResults: true }),
      /Cannot request unacknowledged write concern and verbose results/,
    );
    await assert.rejects(
      client.bulkWrite([insert], { writeConcern: { w: 0 } }),
      /Cannot request unacknowledged write concern and ordered writes/,
    );
    await assert.rejects(
      client.bulkWrite([{ updateOne: { namespace: "db.a", filter: {}, update: { x: 1 } } }]),
      ConfigurationError,
    );
    await assert.rejects(
      client.bulkWrite([{ replaceOne: { namespace: "db.a", filter: {}, replacement: { $set: { x: 1 } } } }]),
      ConfigurationError,
    );
    await assert.rejects(client.bulkWrite([{ insertOne: { namespace: "nodot", document: {} } }]), /database\.collection/);
    await assert.rejects(client.bulkWrite([insert], { verbose: true } as never), /verbose/);
    assert.equal(log.length, 0);
  });

  test("rawData goes to 8.2+ servers only", async () => {
    for (const [wire, sent] of [[27, true], [25, false]] as const) {
      const { client, log } = setup((call) => bulkReply(call), {}, wire);
      await client.bulkWrite(THREE, { rawData: true });
      assert.equal(log[0].cmd.rawData, sent ? true : undefined, `wire ${wire}`);
    }
  });
});

describe("client bulkWrite as a retryable write (simulated set, MongoDB 8.0)", () => {
  let rs: ReplicaSet;
  let c: ReplicaSetConnection;
  const log: Document[] = [];
  const sent = (name: string) => log.filter((cmd) => Object.keys(cmd)[0] === name);
  const txn = (cmd: Document) => (cmd.txnNumber instanceof Int64 ? cmd.txnNumber.value : cmd.txnNumber);
  const lsid = (cmd: Document) => JSON.stringify(Array.from((cmd.lsid as { id: { buffer: Uint8Array } }).id.buffer));
  const failOnce = (data: Document) => c.admin.command({ configureFailPoint: "failCommand", mode: { times: 1 }, data });
  before(async () => {
    rs = await startReplicaSet({ members: 1, name: "cbw", maxWireVersion: 25 });
    c = await ReplicaSetConnection.connect(rs.uri, { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500 });
    c.addEventListener("commandStarted", (e) => log.push(e.command as Document));
  });
  after(async () => {
    await c?.close();
    await rs?.close();
  });

  test("a bulkWrite cut off once is retried with the same lsid and txnNumber; the write is stored once", async () => {
    await failOnce({ failCommands: ["bulkWrite"], closeConnection: true });
    log.length = 0;
    const r = await c.bulkWrite([
      { insertOne: { namespace: "cbw.a", document: { _id: "once" } } },
      { updateOne: { namespace: "cbw.b", filter: { _id: 1 }, update: { $inc: { n: 1 } }, upsert: true } },
    ]);
    assert.equal(r.insertedCount, 1);
    assert.equal(r.upsertedCount, 1);
    const cmds = sent("bulkWrite");
    assert.equal(cmds.length, 2, "sent twice");
    assert.equal(typeof txn(cmds[0]), "bigint");
    assert.equal(txn(cmds[1]), txn(cmds[0]));
    assert.equal(lsid(cmds[1]), lsid(cmds[0]));
    assert.equal(await c.db("cbw").collection("a").countDocuments({ _id: "once" }), 1);
    assert.deepEqual(await c.db("cbw").collection("b").find({}).toArray(), [{ _id: 1, n: 1 }]);
  });

  test("with an updateMany or deleteMany model: no txnNumber, and a network error is not retried", async () => {
    await failOnce({ failCommands: ["bulkWrite"], closeConnection: true });
    log.length = 0;
    const models: ClientBulkWriteModel[] = [
      { insertOne: { namespace: "cbw.multi", document: { _id: 1 } } },
      { updateMany: { namespace: "cbw.multi", filter: {}, update: { $set: { x: 1 } } } },
    ];
    await assert.rejects(c.bulkWrite(models), AutoReconnect);
    assert.equal(sent("bulkWrite").length, 1, "not retried");
    assert.equal(sent("bulkWrite")[0].txnNumber, undefined);
    assert.ok(sent("bulkWrite")[0].lsid !== undefined, "still in a session");
    const r = await c.bulkWrite(models);
    assert.equal(r.insertedCount, 1);
    assert.equal(sent("bulkWrite")[1].txnNumber, undefined);
  });

  test("the session option: each bulkWrite carries its lsid and the session's next txnNumber", async () => {
    const session = c.startSession();
    try {
      log.length = 0;
      for (const i of [1, 2]) {
        const r = await c.bulkWrite([{ insertOne: { namespace: "cbw.sess", document: { _id: i } } }], { session });
        assert.equal(r.insertedCount, 1);
      }
      const cmds = sent("bulkWrite");
      assert.equal(cmds.length, 2);
      const expected = JSON.stringify(Array.from((session.id.id as { buffer: Uint8Array }).buffer));
      for (const cmd of cmds) assert.equal(lsid(cmd), expected);
      assert.equal(txn(cmds[1]), (txn(cmds[0]) as bigint) + 1n);
    } finally {
      await session.endSession();
    }
    await assert.rejects(c.bulkWrite([{ insertOne: { namespace: "cbw.sess", document: {} } }], { session }), /ended/);
  });

  test("a collection bulkWrite stopped by a command failure (ok: 0) keeps its partial result, code and labels", async () => {
    const coll = c.db("cbw").collection("partial");
    await c.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["update"], errorCode: 2, errorLabels: ["SomeLabel"] },
    });
    const e = await coll.bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { x: 1 } } } },
      { deleteOne: { filter: { _id: 1 } } },
    ]).then(() => undefined, (e) => e);
    assert.ok(e instanceof BulkWriteError, String(e));
    assert.ok(e instanceof OperationFailure);
    assert.equal(e.code, 2);
    assert.ok(e.hasErrorLabel("SomeLabel"));
    assert.ok(e.cause instanceof OperationFailure);
    assert.deepEqual(e.writeErrors, []);
    assert.equal(e.result.insertedCount, 1);
    assert.deepEqual(e.result.insertedIds, { 0: 1 });
    assert.equal(e.result.matchedCount, 0);
    assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1 }], "the delete after it never ran");
  });

  test("a collection bulkWrite stopped by a network error after its retry: BulkWriteInterruptedError with the result", async () => {
    const coll = c.db("cbw").collection("interrupted");
    await c.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 2 },
      data: { failCommands: ["update"], closeConnection: true },
    });
    const e = await coll.bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { x: 1 } } } },
    ]).then(() => undefined, (e) => e);
    assert.ok(e instanceof BulkWriteInterruptedError, String(e));
    assert.ok(!(e instanceof OperationFailure), "a client-side error");
    assert.ok(e.cause instanceof AutoReconnect);
    assert.ok(e.hasErrorLabel("RetryableWriteError"));
    assert.equal(e.result.insertedCount, 1);
    assert.deepEqual(e.result.insertedIds, { 0: 1 });
    assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1 }]);
  });
});
