// Change streams on the simulated set, read from its oplog, driven by the
// official Node driver's watch() (npm:mongodb, dev-only).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MongoClient, type ResumeToken } from "mongodb";
import { startReplicaSet } from "../../src/testing/mod.ts";

describe("change streams against the simulated set (official Node driver)", () => {
  test("insert, update, replace, delete, drop, invalidate; resumeAfter; database stream with $match", async () => {
    await using rs = await startReplicaSet({ members: 2 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      const db = client.db("t");
      const c = db.collection<{ _id: number; a?: number; b?: number; sub?: { x: number } }>("cs");
      await db.createCollection("cs");
      const stream = c.watch([], { maxAwaitTimeMS: 100 });
      const dbStream = db.watch([{ $match: { operationType: "insert" } }], { maxAwaitTimeMS: 100 });
      // The streams start when their aggregate ran: make sure it did before writing.
      await stream.tryNext();
      await dbStream.tryNext();
      await c.insertOne({ _id: 1, a: 1, sub: { x: 1 } });
      await c.updateOne({ _id: 1 }, { $set: { "sub.x": 2, b: 3 }, $unset: { a: "" } });
      await c.replaceOne({ _id: 1 }, { a: 9 });
      await db.collection("other").insertOne({ _id: 7 } as never);
      await c.deleteOne({ _id: 1 });
      await c.drop();

      const insert = await stream.next();
      assert.equal(insert.operationType, "insert");
      assert.deepEqual((insert as { fullDocument: unknown }).fullDocument, { _id: 1, a: 1, sub: { x: 1 } });
      assert.deepEqual((insert as { ns: unknown }).ns, { db: "t", coll: "cs" });
      const update = await stream.next() as unknown as { operationType: string; updateDescription: unknown };
      assert.equal(update.operationType, "update");
      assert.deepEqual(update.updateDescription, { updatedFields: { "sub.x": 2, b: 3 }, removedFields: ["a"], truncatedArrays: [] });
      const replace = await stream.next() as unknown as { operationType: string; fullDocument: unknown };
      assert.equal(replace.operationType, "replace");
      assert.deepEqual(replace.fullDocument, { _id: 1, a: 9 });
      const del = await stream.next();
      assert.equal(del.operationType, "delete");
      assert.deepEqual((del as { documentKey: unknown }).documentKey, { _id: 1 });
      assert.equal((await stream.next()).operationType, "drop");
      assert.equal((await stream.next()).operationType, "invalidate");

      // The database stream saw both inserts, in both collections, and nothing else.
      const first = await dbStream.next() as unknown as { ns: { coll: string } };
      const second = await dbStream.next() as unknown as { ns: { coll: string } };
      assert.deepEqual([first.ns.coll, second.ns.coll], ["cs", "other"]);
      await dbStream.close();

      // Resuming after the insert replays what followed it.
      const resumed = c.watch([], { resumeAfter: insert._id as ResumeToken, maxAwaitTimeMS: 100 });
      assert.equal((await resumed.next()).operationType, "update");
      await resumed.close();
      await stream.close();
    } finally {
      await client.close();
    }
  });

  test("fullDocument updateLookup; a bad resume token is InvalidResumeToken", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      const c = client.db("t").collection<{ _id: number; n: number }>("look");
      await c.insertOne({ _id: 1, n: 1 });
      const stream = c.watch([], { fullDocument: "updateLookup", maxAwaitTimeMS: 100 });
      await stream.tryNext();
      await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
      const change = await stream.next() as unknown as { fullDocument: unknown };
      assert.deepEqual(change.fullDocument, { _id: 1, n: 2 });
      await stream.close();
      const bad = c.watch([], { resumeAfter: { _data: "nonsense" } });
      await assert.rejects(bad.next(), (e: { code?: number }) => e.code === 260);
      await bad.close();
    } finally {
      await client.close();
    }
  });

  // mongod labels a change stream getMore's resumable error only once the cursor is checked out:
  // failGetMoreAfterCursorCheckout, not failCommand (which fires before; see the spec's resume-errorLabels tests).
  test("a resumable getMore error (failGetMoreAfterCursorCheckout) is resumed by the driver without losing the event", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      const c = client.db("t").collection<{ _id: number }>("res");
      await client.db("t").createCollection("res");
      const stream = c.watch([], { maxAwaitTimeMS: 100 });
      await stream.tryNext();
      await client.db("admin").command({
        configureFailPoint: "failGetMoreAfterCursorCheckout",
        mode: { times: 1 },
        data: { errorCode: 6 },
      });
      await c.insertOne({ _id: 1 });
      const change = await stream.next() as unknown as { documentKey: unknown };
      assert.deepEqual(change.documentKey, { _id: 1 });
      const aggregates = rs.requests(0).filter((r) => r.command === "aggregate");
      assert.equal(aggregates.length, 2, "the driver re-ran the aggregate to resume");
      await stream.close();
    } finally {
      await client.close();
    }
  });

  test("showExpandedEvents: DDL events, collectionUUID, disambiguatedPaths; arrays in updateDescription", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      const db = client.db("x");
      const plain = db.watch([], { maxAwaitTimeMS: 50 });
      const expanded = db.watch([], { maxAwaitTimeMS: 50, showExpandedEvents: true });
      await plain.tryNext();
      await expanded.tryNext();
      const c = db.collection<{ _id: number; a?: unknown; arr?: unknown[] }>("c");
      await c.insertOne({ _id: 1, a: { "1": 1 }, arr: [1, 2, 3] }); // creates x.c
      await c.updateOne({ _id: 1 }, { $set: { "a.1": 2, "arr.0": 9 } });
      await c.updateOne({ _id: 1 }, { $pop: { arr: 1 } });
      await c.createIndex({ a: 1 }, { name: "a_1" });
      await c.dropIndex("a_1");
      await db.command({ collMod: "c" });
      await db.createCollection("target");
      await c.rename("target", { dropTarget: true });
      const seen: Record<string, unknown>[] = [];
      for (let i = 0; i < 10; i++) seen.push(await expanded.next() as unknown as Record<string, unknown>);
      assert.deepEqual(seen.map((e) => e.operationType), [
        "create", "insert", "update", "update", "createIndexes", "dropIndexes", "modify", "create", "drop", "rename",
      ]);
      const uuid = seen[1].collectionUUID as { sub_type?: number; subType?: number };
      assert.ok(uuid !== undefined, "collectionUUID on expanded streams");
      assert.deepEqual(seen[2].updateDescription, {
        updatedFields: { "a.1": 2, "arr.0": 9 },
        removedFields: [],
        truncatedArrays: [],
        disambiguatedPaths: { "a.1": ["a", "1"], "arr.0": ["arr", 0] },
      });
      assert.deepEqual((seen[3].updateDescription as Record<string, unknown>).truncatedArrays, [{ field: "arr", newSize: 2 }]);
      assert.deepEqual((seen[4].operationDescription as { indexes: { name: string }[] }).indexes.map((i) => i.name), ["a_1"]);
      assert.deepEqual((seen[5].operationDescription as { indexes: { name: string }[] }).indexes.map((i) => i.name), ["a_1"]);
      const rename = seen[9].operationDescription as Record<string, unknown>;
      assert.deepEqual(rename.to, { db: "x", coll: "target" });
      assert.ok(rename.dropTarget !== undefined, "dropTarget: the dropped target's UUID");
      // Without showExpandedEvents: no DDL events, no collectionUUID, no disambiguatedPaths.
      const ops: Record<string, unknown>[] = [];
      for (let i = 0; i < 5; i++) ops.push(await plain.next() as unknown as Record<string, unknown>);
      assert.deepEqual(ops.map((e) => e.operationType), ["insert", "update", "update", "drop", "rename"]);
      assert.equal(ops[0].collectionUUID, undefined);
      assert.equal((ops[1].updateDescription as Record<string, unknown>).disambiguatedPaths, undefined);
      await plain.close();
      await expanded.close();
    } finally {
      await client.close();
    }
  });

  test("pre- and post-images follow changeStreamPreAndPostImages; failGetMoreAfterCursorCheckout is labelled", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      const db = client.db("p");
      await db.createCollection("on", { changeStreamPreAndPostImages: { enabled: true } });
      await db.createCollection("off");
      await db.collection("on").insertOne({ _id: 1, v: 1 } as never);
      await db.collection("off").insertOne({ _id: 1, v: 1 } as never);
      const watch = (coll: string, options: Record<string, unknown>) =>
        db.collection(coll).watch([{ $match: { operationType: { $in: ["update", "delete"] } } }], { maxAwaitTimeMS: 50, ...options });
      const on = watch("on", { fullDocument: "whenAvailable", fullDocumentBeforeChange: "required" });
      const off = watch("off", { fullDocument: "whenAvailable", fullDocumentBeforeChange: "whenAvailable" });
      const required = watch("off", { fullDocumentBeforeChange: "required" });
      await on.tryNext();
      await off.tryNext();
      await required.tryNext();
      for (const coll of ["on", "off"]) {
        await db.collection(coll).updateOne({ _id: 1 } as never, { $set: { v: 2 } });
        await db.collection(coll).deleteOne({ _id: 1 } as never);
      }
      const u = await on.next() as unknown as Record<string, unknown>;
      assert.deepEqual([u.fullDocument, u.fullDocumentBeforeChange], [{ _id: 1, v: 2 }, { _id: 1, v: 1 }]);
      const d = await on.next() as unknown as Record<string, unknown>;
      assert.deepEqual(d.fullDocumentBeforeChange, { _id: 1, v: 2 });
      const u2 = await off.next() as unknown as Record<string, unknown>;
      assert.deepEqual([u2.fullDocument, u2.fullDocumentBeforeChange], [null, null]);
      await assert.rejects(required.next(), (e: { code?: number }) => e.code === 47); // NoMatchingDocument
      for (const s of [on, off, required]) await s.close();

      // mongod labels a change stream getMore's error once the cursor is checked out, never through failCommand.
      const admin = client.db("admin");
      const raw = await db.command({ aggregate: "on", pipeline: [{ $changeStream: {} }], cursor: {} });
      const id = (raw.cursor as { id: unknown }).id;
      await admin.command({ configureFailPoint: "failCommand", mode: { times: 1 }, data: { failCommands: ["getMore"], errorCode: 6 } });
      await assert.rejects(
        db.command({ getMore: id, collection: "on" } as never),
        (e: { code?: number; errorLabels?: string[] }) => e.code === 6 && !(e.errorLabels ?? []).includes("ResumableChangeStreamError"),
      );
      await admin.command({ configureFailPoint: "failGetMoreAfterCursorCheckout", mode: { times: 1 }, data: { errorCode: 6 } });
      await assert.rejects(
        db.command({ getMore: id, collection: "on" } as never),
        (e: { code?: number; errorLabels?: string[] }) => e.code === 6 && (e.errorLabels ?? []).includes("ResumableChangeStreamError"),
      );
    } finally {
      await client.close();
    }
  });
});
