// Change streams end to end against the simulated replica set: events of
// collection, database and client streams; the resume token kept; one
// automatic resume after a failCommand-induced resumable error and across a
// failover (the primary killed) with no change lost or repeated; a second
// consecutive failure surfaces; `break` kills the server cursor; AbortSignal;
// bad options refused before any I/O.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import type { ReplicaSet } from "../../src/testing/mod.ts";
import { ChangeStreamError, ConfigurationError, OperationFailure } from "../../src/errors.ts";
import { type ChangeStreamDocument, ReplicaSetConnection } from "../../src/client/mod.ts";
import type { CommandStartedEvent } from "../../src/client/command_events.ts";
import { guard } from "../helpers/guard.ts";

const FAST = { serverSelectionTimeoutMS: 10_000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };


function commands(c: ReplicaSetConnection): CommandStartedEvent[] {
  const seen: CommandStartedEvent[] = [];
  c.addEventListener("commandStarted", (e: CommandStartedEvent) => void seen.push(e));
  return seen;
}

describe("change streams on one set", () => {
  let rs: ReplicaSet;
  let c: ReplicaSetConnection;
  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "cs" });
    c = await ReplicaSetConnection.connect(rs.uri, FAST);
  });
  after(async () => {
    await c?.close();
    await rs?.close();
  });

  test("a collection stream reports insert, update, replace and delete, in order", async () => {
    const items = c.db("cs1").collection<{ _id: number; n: number }>("items");
    await using stream = await items.watch([], { fullDocument: "updateLookup", maxAwaitTimeMS: 100 }).start();
    await items.insertOne({ _id: 1, n: 1 });
    await items.updateOne({ _id: 1 }, { $set: { n: 2 } });
    const seen: ChangeStreamDocument<{ _id: number; n: number }>[] = [];
    // updateLookup reads the document when the event is read: before the replace.
    for (let i = 0; i < 2; i++) seen.push((await guard(stream.next(), "a change"))!);
    await items.replaceOne({ _id: 1 }, { n: 3 });
    await items.deleteOne({ _id: 1 });
    await c.db("cs1").collection("other").insertOne({ _id: 9 });
    for (let i = 0; i < 2; i++) seen.push((await guard(stream.next(), "a change"))!);
    assert.deepEqual(seen.map((e) => e.operationType), ["insert", "update", "replace", "delete"]);
    const [ins, upd, rep] = seen;
    assert.ok(ins.operationType === "insert" && ins.fullDocument?.n === 1);
    assert.ok(upd.operationType === "update");
    assert.deepEqual(upd.updateDescription?.updatedFields, { n: 2 });
    assert.deepEqual(upd.fullDocument, { _id: 1, n: 2 });
    assert.ok(rep.operationType === "replace" && rep.fullDocument?.n === 3);
    assert.deepEqual(seen[3].operationType === "delete" && seen[3].documentKey, { _id: 1 });
    assert.equal(await stream.tryNext(), null, "the other collection's insert is not in this stream");
  });

  test("a database stream sees every collection of its database; a client stream every database", async () => {
    await using dbStream = await c.db("cs2").watch([], { maxAwaitTimeMS: 100 }).start();
    await using all = await c.watch([{ $match: { "ns.db": { $in: ["cs2", "cs3"] } } }], { maxAwaitTimeMS: 100 }).start();
    await c.db("cs2").collection("a").insertOne({ _id: 1 });
    await c.db("cs2").collection("b").insertOne({ _id: 2 });
    await c.db("cs3").collection("c").insertOne({ _id: 3 });
    const fromDb: Document[] = [await guard(dbStream.next(), "db 1"), await guard(dbStream.next(), "db 2")] as Document[];
    assert.deepEqual(fromDb.map((e) => e.ns), [{ db: "cs2", coll: "a" }, { db: "cs2", coll: "b" }]);
    assert.equal(await dbStream.tryNext(), null, "cs3's insert is not in cs2's stream");
    const fromAll: Document[] = [];
    for (let i = 0; i < 3; i++) fromAll.push((await guard(all.next(), "cluster"))!);
    assert.deepEqual(fromAll.map((e) => (e.documentKey as Document)._id), [1, 2, 3]);
  });

  test("the resume token follows the changes and the batches; resumeAfter continues after it", async () => {
    const items = c.db("cs4").collection("items");
    const stream = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    const opened = stream.resumeToken;
    assert.ok(opened !== null, "the first (empty) batch's postBatchResumeToken is kept");
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const first = await guard(stream.next(), "1");
    assert.notDeepEqual(stream.resumeToken, opened);
    assert.deepEqual(stream.resumeToken, first!._id, "mid-batch: the change's own _id");
    await stream.close();
    assert.equal(await stream.next(), null, "a closed stream returns null");
    await using again = await items.watch([], { resumeAfter: first!._id, maxAwaitTimeMS: 50 }).start();
    const rest = [await guard(again.next(), "2"), await guard(again.next(), "3")];
    assert.deepEqual(rest.map((e) => (e as Document).documentKey), [{ _id: 2 }, { _id: 3 }]);
    // An empty getMore still advances the token (the server's postBatchResumeToken).
    const before = again.resumeToken;
    await c.db("cs4").collection("elsewhere").insertOne({ _id: 1 });
    for (let i = 0; i < 50 && (await again.tryNext()) === null; i++) {
      if (JSON.stringify(again.resumeToken) !== JSON.stringify(before)) break;
    }
    assert.notDeepEqual(again.resumeToken, before, "the token advanced without a change of this collection");
  });

  test("startAfter an invalidate starts a new stream; startAtOperationTime replays from that time", async () => {
    const db = c.db("cs5");
    await db.collection("gone").insertOne({ _id: 0 });
    const stream = await db.collection("gone").watch([], { maxAwaitTimeMS: 50 }).start();
    await db.collection("gone").drop();
    const drop = await guard(stream.next(), "drop");
    assert.equal(drop?.operationType, "drop");
    const invalidate = await guard(stream.next(), "invalidate");
    assert.equal(invalidate?.operationType, "invalidate");
    assert.equal(await guard(stream.next(), "end"), null, "the server ends the stream after invalidate");
    assert.equal(stream.closed, true);
    await db.collection("gone").insertOne({ _id: 1 });
    await using after = db.collection("gone").watch([], { startAfter: invalidate!._id, maxAwaitTimeMS: 50 });
    const ins = await guard(after.next(), "after invalidate");
    assert.deepEqual(ins && (ins as Document).documentKey, { _id: 1 });
    await using replay = db.collection("gone").watch([], { startAtOperationTime: drop!.clusterTime, maxAwaitTimeMS: 50 });
    assert.equal((await guard(replay.next(), "replayed drop"))?.operationType, "drop");
  });

  test("one automatic resume after a resumable getMore error: no change lost or repeated", async () => {
    const items = c.db("cs6").collection("items");
    const seen = commands(c);
    await using stream = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    await items.insertOne({ _id: 1 });
    assert.deepEqual((await guard(stream.next(), "1"))?.documentKey, { _id: 1 });
    await c.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["getMore"], errorCode: 91, errorLabels: ["ResumableChangeStreamError"] },
    });
    await items.insertMany([{ _id: 2 }, { _id: 3 }]);
    const got = [await guard(stream.next(), "2"), await guard(stream.next(), "3")];
    assert.deepEqual(got.map((e) => (e as Document).documentKey), [{ _id: 2 }, { _id: 3 }]);
    assert.equal(await stream.tryNext(), null, "nothing repeated");
    const aggregates = seen.filter((e) => e.commandName === "aggregate" && e.databaseName === "cs6");
    assert.equal(aggregates.length, 2, "the stream was reopened once");
    const stage = ((aggregates[1].command.pipeline as Document[])[0].$changeStream) as Document;
    assert.ok(stage.resumeAfter !== undefined, "the resume used resumeAfter");
  });

  test("a non-resumable error and a failed resume surface, and close the stream", async () => {
    const items = c.db("cs7").collection("items");
    const stream = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    await c.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["getMore"], errorCode: 6 }, // no ResumableChangeStreamError label: not resumable
    });
    await assert.rejects(guard(stream.next(), "getMore error"), (e: unknown) => e instanceof OperationFailure && e.code === 6);
    assert.equal(stream.closed, true);

    // The getMore fails resumably, then the resume's aggregate fails too (234 is no retryable read).
    const again = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    await c.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 2 },
      data: { failCommands: ["getMore", "aggregate"], errorCode: 234, errorLabels: ["ResumableChangeStreamError"] },
    });
    await items.insertOne({ _id: 1 });
    await assert.rejects(guard(again.next(), "second failure"), (e: unknown) => e instanceof OperationFailure && e.code === 234);
    assert.equal(again.closed, true);
  });

  test("break in for await closes the stream and kills its server cursor", async () => {
    const items = c.db("cs8").collection("items");
    const seen = commands(c);
    const stream = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    await items.insertMany([{ _id: 1 }, { _id: 2 }]);
    for await (const change of stream) {
      assert.equal(change.operationType, "insert");
      break;
    }
    assert.equal(stream.closed, true);
    const kill = seen.find((e) => e.commandName === "killCursors" && e.databaseName === "cs8");
    assert.ok(kill !== undefined, "killCursors was sent");
    assert.equal(kill.command.killCursors, "items");
  });

  test("an AbortSignal cancels a waiting next() and closes the stream", async () => {
    const stream = await c.db("cs9").collection("items").watch([], { maxAwaitTimeMS: 200 }).start();
    const controller = new AbortController();
    const waiting = stream.next({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await assert.rejects(guard(waiting, "abort"), /stop/);
    assert.equal(stream.closed, true);
    const aborted = c.db("cs9").collection("items").watch([], { signal: AbortSignal.abort(new Error("early")) });
    await assert.rejects(aborted.start(), /early/);
  });

  test("a pipeline that drops _id: the server's ChangeStreamFatalError, or the driver's ChangeStreamError", async () => {
    const items = c.db("cs10").collection("items");
    const stream = await items.watch([{ $project: { _id: 0 } }], { maxAwaitTimeMS: 50 }).start();
    await items.insertOne({ _id: 1 });
    await assert.rejects(
      guard(stream.next(), "no token"),
      (e: unknown) => (e instanceof OperationFailure || e instanceof ChangeStreamError) && e.code === 280,
    );
    assert.equal(stream.closed, true);
  });

  test("bad options are refused before any I/O", () => {
    const items = c.db("cs11").collection("items");
    assert.throws(() => items.watch([], { fullDocumnt: "updateLookup" } as never), ConfigurationError);
    assert.throws(() => items.watch([], { fullDocument: "sometimes" } as never), ConfigurationError);
    assert.throws(() => items.watch([], { startAtOperationTime: 5 } as never), TypeError);
    assert.throws(() => items.watch({} as never), TypeError);
    assert.throws(() => items.watch([], { batchSize: -1 }), ConfigurationError);
  });
});

describe("change streams across a failover", () => {
  test("the primary is killed: the stream resumes on the new primary, no change lost or repeated", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "csfail" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const items = c.db("fo").collection("items", { writeConcern: { w: "majority" } });
    const seen = commands(c);
    await using stream = await items.watch([], { maxAwaitTimeMS: 50 }).start();
    await items.insertMany([{ _id: 1 }, { _id: 2 }]);
    assert.deepEqual((await guard(stream.next(), "1"))?.documentKey, { _id: 1 });
    await rs.waitForReplication();
    const old = rs.primary!;
    await rs.kill(old);
    await rs.waitForPrimary({ not: old });
    await guard(
      (async () => {
        for (;;) {
          try {
            return await items.insertOne({ _id: 3 });
          } catch { /* until the driver finds the new primary */ }
        }
      })(),
      "insert on the new primary",
    );
    const got = [await guard(stream.next(), "2"), await guard(stream.next(), "3")];
    assert.deepEqual(got.map((e) => (e as Document).documentKey), [{ _id: 2 }, { _id: 3 }]);
    assert.equal(await stream.tryNext(), null, "nothing repeated");
    const opened = seen.filter((e) => e.commandName === "aggregate" && e.databaseName === "fo").map((e) => e.address);
    assert.equal(opened.length, 2, "opened, then resumed once");
    assert.equal(opened[0], old.host, "first on the old primary");
    assert.equal(opened[1], rs.primary!.host, "resumed on the new primary");
  });
});
