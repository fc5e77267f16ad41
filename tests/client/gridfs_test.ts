// GridFS against the simulated replica set: round trips of the sizes around a
// chunk boundary and of several megabytes, the indexes created before the
// first write, revisions by name, byte ranges, the typed errors of missing
// files and corrupt chunks, abort deleting what was written, a read retried
// after a retryable error, and bad input refused before any I/O.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import {
  Binary,
  ChunkIsMissingError,
  ChunkIsWrongSizeError,
  CommandStartedEvent,
  ConfigurationError,
  type Database,
  ExtraChunkError,
  FileNotFoundError,
  GridFSBucket,
  ObjectId,
  OperationTimeoutError,
  OptionTypeError,
  ReplicaSetConnection,
  RevisionNotFoundError,
} from "../../mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

/** `n` bytes of a repeating pattern that differs per `seed`. */
function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** The first index where `a` and `b` differ (-1: equal); cheaper than deepEqual on megabytes. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Resolves once the clock has moved past `t` (uploadDate has millisecond resolution). */
async function clockPast(t: number): Promise<void> {
  for (let i = 0; i < 1000 && Date.now() <= t; i++) await new Promise((r) => setTimeout(r, 1));
}

describe("GridFSBucket against the simulated set", () => {
  let rs: ReplicaSet;
  let conn: ReplicaSetConnection;
  let seen: CommandStartedEvent[] = [];
  let dbCount = 0;
  const freshDb = (): Database => conn.db(`gridfs_${++dbCount}`);

  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "gridfs" });
    conn = await ReplicaSetConnection.connect(rs.uri, FAST);
    conn.addEventListener("commandStarted", (e: CommandStartedEvent) => void seen.push(e));
  });
  after(async () => {
    await conn?.close();
    await rs?.close();
  });

  test("round trips of 0, 1, chunkSize, chunkSize+1 bytes and 3 MB store the chunks the spec says", async () => {
    const db = freshDb();
    const bucket = new GridFSBucket(db, { chunkSizeBytes: 1000 });
    for (const [size, chunkSizeBytes] of [[0, 1000], [1, 1000], [1000, 1000], [1001, 1000], [3 * 1024 * 1024 + 5, 255 * 1024]]) {
      const data = bytes(size as number, size as number);
      const id = await bucket.upload(`f${size}`, data, { chunkSizeBytes });
      assert.ok(id instanceof ObjectId);
      const back = await bucket.download(id);
      assert.equal(back.length, size);
      assert.equal(firstDiff(back, data), -1, `content of ${size} bytes`);
      const file = await bucket.filesCollection.findOne({ _id: id });
      assert.equal(file?.length, size);
      assert.equal(file?.chunkSize, chunkSizeBytes);
      assert.equal(file?.filename, `f${size}`);
      assert.ok(file?.uploadDate instanceof Date);
      assert.equal(file?.md5, undefined, "no md5 is computed");
      const chunks = await bucket.chunksCollection.find({ files_id: id }, { sort: { n: 1 } }).toArray();
      const per = chunkSizeBytes;
      assert.equal(chunks.length, Math.ceil((size as number) / per), `chunks of ${size} bytes`);
      chunks.forEach((c, i) => {
        assert.equal(c.n, i);
        assert.ok(c.data instanceof Binary && c.data.subType === 0);
        assert.equal(c.data.length, i < chunks.length - 1 ? per : (size as number) - per * i);
      });
    }
    // The default chunk size is 255 KiB.
    const big = new GridFSBucket(db, { bucketName: "big" });
    const id = await big.upload("x", bytes(300 * 1024));
    assert.equal(await big.chunksCollection.countDocuments({ files_id: id }), 2);
    assert.equal((await big.find({ _id: id }).toArray())[0].chunkSize, 255 * 1024);
    // More chunks than a first batch holds (101): the download reads on with getMore.
    const many = new GridFSBucket(db, { bucketName: "many", chunkSizeBytes: 100 });
    const data = bytes(25_050);
    const manyId = await many.upload("m", data);
    seen = [];
    assert.equal(firstDiff(await many.download(manyId), data), -1);
    assert.ok(seen.some((e) => e.commandName === "getMore" && e.command.collection === "many.chunks"));
  });

  test("a streamed upload in odd-sized writes, with id, metadata and the files document on the stream", async () => {
    const bucket = new GridFSBucket(freshDb(), { chunkSizeBytes: 7 });
    const upload = bucket.openUploadStream("s.bin", { id: "custom", metadata: { owner: "ada" } });
    assert.equal(upload.id, "custom");
    const data = bytes(50);
    const writer = upload.getWriter();
    for (const [a, b] of [[0, 3], [3, 4], [4, 20], [20, 21], [21, 50]]) await writer.write(data.slice(a, b));
    await writer.close();
    assert.equal(upload.gridFSFile?.length, 50);
    assert.deepEqual(await bucket.download("custom"), data);
    const [f] = await bucket.find({ "metadata.owner": "ada" }).toArray();
    assert.equal(f._id, "custom");
    assert.deepEqual(f.metadata, { owner: "ada" });
  });

  test("the indexes are created once, before the first write, after a primary read of the files collection", async () => {
    const db = freshDb();
    const bucket = new GridFSBucket(db);
    seen = [];
    await bucket.upload("a", bytes(10));
    const names = seen.filter((e) => e.databaseName === db.name).map((e) => e.commandName);
    assert.deepEqual(names.slice(0, 5), ["find", "listIndexes", "createIndexes", "listIndexes", "createIndexes"]);
    assert.deepEqual(names.slice(5), ["insert", "insert"]);
    const fileIdx = await bucket.filesCollection.listIndexes().toArray();
    assert.ok(fileIdx.some((i) => JSON.stringify(i.key) === '{"filename":1,"uploadDate":1}'));
    const chunkIdx = await bucket.chunksCollection.listIndexes().toArray();
    assert.ok(chunkIdx.some((i) => JSON.stringify(i.key) === '{"files_id":1,"n":1}' && i.unique === true));
    seen = [];
    await bucket.upload("b", bytes(10));
    assert.deepEqual(seen.filter((e) => e.databaseName === db.name).map((e) => e.commandName), ["insert", "insert"]);
    // A new bucket over a non-empty files collection checks, and creates nothing.
    seen = [];
    await new GridFSBucket(db).upload("c", bytes(1));
    assert.deepEqual(seen.filter((e) => e.databaseName === db.name).map((e) => e.commandName), ["find", "insert", "insert"]);
    // Indexes that exist (given as doubles, as the shell makes them) are not created again.
    const db2 = freshDb();
    await db2.collection("fs.files").createIndex({ filename: 1.5 - 0.5, uploadDate: 1 });
    await db2.collection("fs.chunks").createIndex({ files_id: 1, n: 1 }, { unique: true });
    seen = [];
    await new GridFSBucket(db2).upload("d", bytes(1));
    assert.equal(seen.filter((e) => e.commandName === "createIndexes").length, 0);
  });

  test("downloadByName picks revisions by upload date; missing names and revisions are typed errors", async () => {
    const bucket = new GridFSBucket(freshDb());
    for (let i = 0; i < 3; i++) {
      const id = await bucket.upload("r.txt", bytes(5, i));
      const f = await bucket.filesCollection.findOne({ _id: id });
      await clockPast((f?.uploadDate as Date).getTime());
    }
    for (const [revision, seed] of [[0, 0], [1, 1], [2, 2], [-1, 2], [-2, 1], [-3, 0]]) {
      assert.deepEqual(await bucket.downloadByName("r.txt", { revision }), bytes(5, seed), `revision ${revision}`);
    }
    assert.deepEqual(await bucket.downloadByName("r.txt"), bytes(5, 2), "the newest by default");
    await assert.rejects(bucket.downloadByName("r.txt", { revision: 3 }), (e: unknown) => {
      assert.ok(e instanceof RevisionNotFoundError, String(e));
      assert.equal(e.revision, 3);
      return true;
    });
    await assert.rejects(bucket.downloadByName("r.txt", { revision: -4 }), RevisionNotFoundError);
    await assert.rejects(bucket.downloadByName("nope"), (e: unknown) => e instanceof FileNotFoundError && e.filename === "nope");
    await assert.rejects(bucket.download(new ObjectId()), FileNotFoundError);
  });

  test("byte ranges read only the chunks they cover", async () => {
    const bucket = new GridFSBucket(freshDb(), { chunkSizeBytes: 10 });
    const data = bytes(95);
    const id = await bucket.upload("range", data);
    for (const [start, end] of [[0, 95], [0, 10], [5, 25], [10, 20], [94, 95], [40, 40], [95, 95], [33, 90]]) {
      assert.deepEqual(await bucket.download(id, { start, end }), data.slice(start, end), `[${start}, ${end})`);
    }
    seen = [];
    await bucket.download(id, { start: 50 });
    const chunkFind = seen.find((e) => e.commandName === "find" && e.command.find === "fs.chunks");
    assert.deepEqual(chunkFind?.command.filter, { files_id: id, n: { $gte: 5 } });
    await assert.rejects(bucket.download(id, { start: 96 }), ConfigurationError);
    await assert.rejects(bucket.download(id, { end: 100 }), ConfigurationError);
    assert.throws(() => bucket.openDownloadStream(id, { start: 5, end: 4 }), ConfigurationError);
    assert.throws(() => bucket.openDownloadStream(id, { start: -1 }), ConfigurationError);
  });

  test("missing, wrong-size and extra chunks are ChunkIsMissing, ChunkIsWrongSize and ExtraChunk errors", async () => {
    const bucket = new GridFSBucket(freshDb(), { chunkSizeBytes: 4 });
    const chunks = bucket.chunksCollection;
    const mk = () => bucket.upload("c", bytes(10));
    const midGone = await mk();
    await chunks.deleteOne({ files_id: midGone, n: 1 });
    await assert.rejects(bucket.download(midGone), (e: unknown) => e instanceof ChunkIsMissingError && e.n === 1);
    const lastGone = await mk();
    await chunks.deleteOne({ files_id: lastGone, n: 2 });
    await assert.rejects(bucket.download(lastGone), (e: unknown) => e instanceof ChunkIsMissingError && e.n === 2);
    const short = await mk();
    await chunks.updateOne({ files_id: short, n: 0 }, { $set: { data: new Binary(bytes(3)) } });
    await assert.rejects(bucket.download(short), (e: unknown) => {
      assert.ok(e instanceof ChunkIsWrongSizeError, String(e));
      assert.deepEqual([e.n, e.expected, e.actual], [0, 4, 3]);
      return true;
    });
    const longLast = await mk();
    await chunks.updateOne({ files_id: longLast, n: 2 }, { $set: { data: new Binary(bytes(4)) } });
    await assert.rejects(bucket.download(longLast), (e: unknown) => e instanceof ChunkIsWrongSizeError && e.n === 2);
    const extra = await mk();
    await chunks.insertOne({ files_id: extra, n: 3, data: new Binary(bytes(4)) });
    await assert.rejects(bucket.download(extra), (e: unknown) => e instanceof ExtraChunkError && e.n === 3);
    // A zero-length file reads no chunks, so a stray empty chunk is not looked at.
    const empty = await bucket.upload("e", new Uint8Array(0));
    await chunks.insertOne({ files_id: empty, n: 0, data: new Binary(new Uint8Array(0)) });
    assert.deepEqual(await bucket.download(empty), new Uint8Array(0));
  });

  test("abort deletes the chunks written and leaves no files document; later writes fail", async () => {
    const bucket = new GridFSBucket(freshDb(), { chunkSizeBytes: 4 });
    const upload = bucket.openUploadStream("gone");
    const writer = upload.getWriter();
    await writer.write(bytes(10));
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: upload.id }), 2);
    await writer.abort(new Error("changed my mind"));
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: upload.id }), 0);
    assert.equal(await bucket.filesCollection.countDocuments({ _id: upload.id }), 0);
    await assert.rejects(writer.write(bytes(1)));
    // A source that fails: its error is rethrown and the chunks are deleted.
    const boom = new Error("source failed");
    let id: unknown;
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        if (id === undefined) {
          id = "set";
          c.enqueue(bytes(9));
        } else c.error(boom);
      },
    });
    await assert.rejects(bucket.uploadFromStream("bad", source, { id: "fromSource" }), (e: unknown) => e === boom);
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: "fromSource" }), 0);
    assert.equal(await bucket.filesCollection.countDocuments({ _id: "fromSource" }), 0);
  });

  test("a download whose find fails once with a retryable error is retried", async () => {
    const bucket = new GridFSBucket(freshDb());
    const id = await bucket.upload("retry", bytes(20));
    await conn.admin.command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["find"], errorCode: 10107 },
    });
    try {
      seen = [];
      assert.deepEqual(await bucket.download(id), bytes(20));
      const finds = seen.filter((e) => e.commandName === "find").map((e) => e.command.find);
      assert.deepEqual(finds, ["fs.files", "fs.files", "fs.chunks"]);
    } finally {
      await conn.admin.command({ configureFailPoint: "failCommand", mode: "off" });
    }
  });

  test("timeoutMS caps a whole download and an upload stream's life, not each command", async () => {
    const bucket = new GridFSBucket(freshDb(), { chunkSizeBytes: 4 });
    const id = await bucket.upload("t", bytes(10));
    // Each find is blocked 150 ms: under a 250 ms limit alone, over it together (the files lookup, then the chunks).
    const block = () =>
      conn.admin.command({
        configureFailPoint: "failCommand",
        mode: { times: 2 },
        data: { failCommands: ["find"], blockConnection: true, blockTimeMS: 150 },
      });
    await block();
    try {
      await assert.rejects(bucket.download(id, { timeoutMS: 250 }), OperationTimeoutError);
      await block();
      assert.deepEqual(await bucket.download(id, { timeoutMS: 0 }), bytes(10), "0: no limit");
    } finally {
      await conn.admin.command({ configureFailPoint: "failCommand", mode: "off" });
    }
    // An upload stream's limit runs from its opening: once it has passed, the next insert is refused.
    const upload = new GridFSBucket(bucket.database, { bucketName: "t", timeoutMS: 50 }).openUploadStream("late");
    const opened = performance.now();
    while (performance.now() - opened < 60) await new Promise((r) => setTimeout(r, 5));
    await assert.rejects(upload.getWriter().write(bytes(300 * 1024)), (e: unknown) => {
      assert.ok(e instanceof OperationTimeoutError, String(e));
      assert.equal(e.phase, "gridfs");
      return true;
    });
    assert.throws(() => bucket.openUploadStream("x", { timeoutMS: -1 }), ConfigurationError);
  });

  test("find, rename, renameByName, delete, deleteByName and drop", async () => {
    const db = freshDb();
    const bucket = new GridFSBucket(db, { bucketName: "docs", chunkSizeBytes: 3 });
    const a = await bucket.upload("a", bytes(7));
    const b1 = await bucket.upload("b", bytes(2));
    const b2 = await bucket.upload("b", bytes(2));
    assert.deepEqual((await bucket.find({}, { sort: { filename: 1 }, limit: 2 }).toArray()).map((f) => f.filename), ["a", "b"]);
    await bucket.rename(a, "a2");
    assert.deepEqual(await bucket.downloadByName("a2"), bytes(7));
    await assert.rejects(bucket.rename(new ObjectId(), "x"), FileNotFoundError);
    await bucket.renameByName("b", "c");
    assert.equal((await bucket.find({ filename: "c" }).toArray()).length, 2);
    await assert.rejects(bucket.renameByName("b", "c"), FileNotFoundError);
    await bucket.delete(a);
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: a }), 0);
    await assert.rejects(bucket.delete(a), FileNotFoundError);
    await bucket.deleteByName("c");
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: { $in: [b1, b2] } }), 0);
    assert.equal(await bucket.filesCollection.countDocuments({}), 0);
    await assert.rejects(bucket.deleteByName("c"), FileNotFoundError);
    await bucket.upload("z", bytes(1));
    await bucket.drop();
    const names = await db.listCollectionNames();
    assert.ok(!names.includes("docs.files") && !names.includes("docs.chunks"), String(names));
    // After a drop the next upload creates the indexes again.
    await bucket.upload("z", bytes(1));
    assert.equal((await bucket.chunksCollection.listIndexes().toArray()).length, 2);
  });

  test("an aborted signal cancels a download and an upload; bad input is refused before any I/O", async () => {
    const bucket = new GridFSBucket(freshDb());
    const id = await bucket.upload("s", bytes(3));
    const reason = new Error("stop");
    const ac = new AbortController();
    ac.abort(reason);
    await assert.rejects(bucket.download(id, { signal: ac.signal }), (e: unknown) => e === reason);
    await assert.rejects(bucket.upload("t", bytes(3), { signal: ac.signal }), (e: unknown) => e === reason);
    await assert.rejects(bucket.delete(id, { signal: ac.signal }), (e: unknown) => e === reason);
    // A signal that aborts mid-upload cancels it and deletes the chunks already written.
    const mid = new AbortController();
    const cancelled = bucket.openUploadStream("mid", { chunkSizeBytes: 4, signal: mid.signal });
    const w = cancelled.getWriter();
    await w.write(bytes(8));
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: cancelled.id }), 2);
    mid.abort(reason);
    await assert.rejects(w.write(bytes(8)), (e: unknown) => e === reason);
    assert.equal(await bucket.chunksCollection.countDocuments({ files_id: cancelled.id }), 0);
    assert.throws(() => new GridFSBucket(conn.db("x"), { chunkSizeBytes: 0 }), ConfigurationError);
    assert.throws(() => new GridFSBucket(conn.db("x"), { bucketName: "" }), ConfigurationError);
    assert.throws(() => new GridFSBucket(conn.db("x"), { chunkSize: 5 } as never), ConfigurationError);
    assert.throws(() => bucket.openUploadStream("u", { chunkSizeBytes: 1.5 }), ConfigurationError);
    assert.throws(() => bucket.openUploadStream("u", { metadata: [] as never }), OptionTypeError);
    assert.throws(() => bucket.openDownloadStreamByName("u", { revision: 0.5 }), ConfigurationError);
    await assert.rejects(bucket.uploadFromStream("u", 42 as never), OptionTypeError);
    const writer = bucket.openUploadStream("u").getWriter();
    await assert.rejects(writer.write("text" as never), OptionTypeError);
  });
});
