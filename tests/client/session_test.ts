// Sessions and retryable writes against the simulated replica set: implicit
// and explicit sessions (lsid on every command, the LIFO pool, endSessions at
// close), $clusterTime gossip, causal consistency, cursors keeping their
// session, retryable writes (one retry, same txnNumber, applied once), and
// session misuse rejected before any I/O.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, Int64, Timestamp } from "../../src/bson/mod.ts";
import { AutoReconnect, ConfigurationError, OperationFailure, SessionError } from "../../src/errors.ts";
import { ClientSession, type ReplicaSetConnection as RSC, ReplicaSetConnection } from "../../src/client/mod.ts";
import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { ServerSessionPool } from "../../src/client/server_session_pool.ts";
import { rejectsWith } from "../helpers/rejects.ts";
import { fakeSet, TOPOLOGY_FACTORY } from "./_fake_topology.ts";
import { serverDescriptionFromHello } from "../../src/topology/server_description.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

/** The commands a client starts, as sent. */
function record(c: RSC): Document[] {
  const log: Document[] = [];
  c.addEventListener("commandStarted", (e) => log.push(e.command as Document));
  return log;
}

function lsidHex(cmd: Document | undefined): string | undefined {
  const id = (cmd?.lsid as { id?: { buffer: Uint8Array } } | undefined)?.id;
  return id === undefined ? undefined : Array.from(id.buffer, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A command's txnNumber (a bigint as sent; an Int64 once decoded). */
function txn(cmd: Document): bigint | undefined {
  const t = cmd.txnNumber;
  return t instanceof Int64 ? t.value : typeof t === "bigint" ? t : undefined;
}

function named(log: Document[], name: string): Document[] {
  return log.filter((c) => Object.keys(c)[0] === name);
}

function failOnce(c: RSC, data: Document, times = 1): Promise<Document> {
  return c.admin.command({ configureFailPoint: "failCommand", mode: { times }, data });
}

describe("sessions and retryable writes (simulated set)", () => {
  let rs: ReplicaSet;
  let c: RSC;
  let log: Document[];
  before(async () => {
    rs = await startReplicaSet({ members: 3, name: "sess" });
    c = await ReplicaSetConnection.connect(rs.uri, FAST);
    log = record(c);
  });
  after(async () => {
    await c?.close();
    await rs?.close();
  });

  test("every command carries an lsid; implicit sessions come back from the pool (LIFO); w: 0 sends none", async () => {
    const coll = c.db("s").collection("implicit");
    log.length = 0;
    await coll.insertOne({ _id: 1 });
    await coll.findOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $set: { a: 1 } });
    await c.db("s").command({ ping: 1 });
    const ids = log.map(lsidHex);
    assert.equal(ids.length, 4);
    assert.ok(ids.every((id) => id !== undefined), "an lsid on every command");
    assert.equal(new Set(ids).size, 1, "one server session, reused (LIFO)");
    log.length = 0;
    await coll.insertOne({ _id: 2 }, { writeConcern: { w: 0 } });
    assert.equal(log[0].lsid, undefined, "no lsid on an unacknowledged write");
    assert.equal(log[0].txnNumber, undefined, "no txnNumber either");
  });

  test("$clusterTime is gossiped and advanced from replies; an explicit session reads causally", async () => {
    const coll = c.db("s").collection("causal");
    await using session = c.startSession();
    assert.equal(session.isImplicit, false);
    assert.equal(session.supports.causalConsistency, true);
    log.length = 0;
    await coll.insertOne({ _id: 1 }, { session });
    const ot = session.operationTime;
    assert.ok(ot instanceof Timestamp, "operationTime taken from the reply");
    assert.ok(session.clusterTime !== undefined);
    await coll.findOne({ _id: 1 }, { session });
    const find = named(log, "find")[0];
    assert.deepEqual((find.readConcern as Document).afterClusterTime, ot, "the read waits for the session's write");
    assert.ok(find.$clusterTime !== undefined, "$clusterTime sent");
    assert.equal(lsidHex(find), lsidHex(named(log, "insert")[0]), "the session's lsid on both");
    // advanceClusterTime keeps the later time only.
    const before = session.clusterTime!;
    session.advanceClusterTime({ clusterTime: new Timestamp({ t: 1, i: 1 }), signature: {} });
    assert.equal(session.clusterTime, before);
    assert.throws(() => session.advanceClusterTime({} as never), ConfigurationError);
  });

  test("a cursor keeps its session for getMore and killCursors; the implicit one returns to the pool", async () => {
    const coll = c.db("s").collection("cursor");
    await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    log.length = 0;
    const cursor = coll.find({}).batchSize(3);
    await cursor.next();
    await cursor.next();
    await cursor.next();
    await cursor.next(); // a getMore
    await cursor.close(); // killCursors
    const [find] = named(log, "find");
    const [getMore] = named(log, "getMore");
    const [kill] = named(log, "killCursors");
    assert.ok(getMore !== undefined && kill !== undefined);
    assert.equal(lsidHex(getMore), lsidHex(find));
    assert.equal(lsidHex(kill), lsidHex(find));
    await coll.findOne({});
    assert.equal(lsidHex(named(log, "find")[1]), lsidHex(find), "the cursor's session went back to the pool");
  });

  test("a write cut off once is retried with the same lsid and txnNumber and applied once", async () => {
    const coll = c.db("s").collection("retry");
    await failOnce(c, { failCommands: ["insert"], closeConnection: true });
    log.length = 0;
    const r = await coll.insertOne({ _id: "once" });
    assert.equal(r.insertedId, "once");
    const inserts = named(log, "insert");
    assert.equal(inserts.length, 2, "sent twice");
    assert.equal(lsidHex(inserts[0]), lsidHex(inserts[1]));
    assert.equal(typeof txn(inserts[0]), "bigint");
    assert.equal(txn(inserts[0]), txn(inserts[1]));
    assert.equal(await coll.countDocuments({ _id: "once" }), 1);
    // findOneAndUpdate and a bulk write without multi statements are retried too; updateMany is not.
    await failOnce(c, { failCommands: ["findAndModify"], closeConnection: true });
    assert.deepEqual(await coll.findOneAndUpdate({ _id: "once" }, { $set: { n: 1 } }, { returnDocument: "after" }), {
      _id: "once",
      n: 1,
    });
    await failOnce(c, { failCommands: ["update"], closeConnection: true });
    log.length = 0;
    await assert.rejects(coll.updateMany({}, { $inc: { n: 1 } }), AutoReconnect);
    assert.equal(named(log, "update").length, 1, "updateMany runs once");
    assert.equal(named(log, "update")[0].txnNumber, undefined);
  });

  test("bulkWrite: every write command has its own txnNumber and is retried on its own", async () => {
    const coll = c.db("s").collection("batches");
    await coll.insertOne({ _id: "u" });
    log.length = 0;
    await failOnce(c, { failCommands: ["update"], closeConnection: true });
    const r = await coll.bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { updateOne: { filter: { _id: "u" }, update: { $inc: { n: 1 } } } },
      { insertOne: { document: { _id: 2 } } },
    ]);
    assert.equal(r.insertedCount, 2);
    assert.equal(r.modifiedCount, 1);
    const sent = log.filter((cmd) => ["insert", "update"].includes(Object.keys(cmd)[0]));
    assert.deepEqual(sent.map((cmd) => Object.keys(cmd)[0]), ["insert", "update", "update", "insert"]);
    const numbers = sent.map((cmd) => txn(cmd) ?? -1n);
    assert.equal(numbers[1], numbers[2], "the retried update keeps its txnNumber");
    assert.ok(numbers[0] < numbers[1] && numbers[2] < numbers[3], "a new txnNumber per write command");
    assert.equal(new Set(sent.map(lsidHex)).size, 1, "one session for the whole bulk write");
    assert.deepEqual(await coll.findOne({ _id: "u" }), { _id: "u", n: 1 }, "the update applied once");
    // With an updateMany in it, the bulk write is not retryable: no txnNumber.
    log.length = 0;
    await coll.bulkWrite([{ updateMany: { filter: {}, update: { $set: { m: 1 } } } }]);
    assert.equal(named(log, "update")[0].txnNumber, undefined);
  });

  test("retryable error labels: a retry that fails with NoWritesPerformed reports the first error", async () => {
    const coll = c.db("s").collection("labels");
    await failOnce(c, { failCommands: ["insert"], errorCode: 91, errorLabels: ["RetryableWriteError", "NoWritesPerformed"] }, 2);
    log.length = 0;
    const e = await rejectsWith(coll.insertOne({ _id: 1 }), AutoReconnect);
    assert.equal(named(log, "insert").length, 2, "retried once");
    assert.ok(e.cause instanceof OperationFailure && e.cause.code === 91, `the server's error 91, got ${e.cause}`);
    assert.ok(e.hasErrorLabel("RetryableWriteError") && e.hasErrorLabel("NoWritesPerformed"));
    // Without the label (4.4+), a state-change code is not retried.
    await failOnce(c, { failCommands: ["insert"], errorCode: 91, errorLabels: [] });
    log.length = 0;
    const plainError = await rejectsWith(coll.insertOne({ _id: 2 }), AutoReconnect);
    assert.equal(named(log, "insert").length, 1, "not retried");
    assert.equal(plainError.hasErrorLabel("RetryableWriteError"), false);
  });

  test("retryWrites=false: no txnNumber, the AutoReconnect reaches the caller", async () => {
    await using plain = await ReplicaSetConnection.connect(rs.uri, { ...FAST, retryWrites: false });
    const plog = record(plain);
    await failOnce(plain, { failCommands: ["insert"], closeConnection: true });
    await assert.rejects(plain.db("s").collection("plain").insertOne({ _id: 1 }), AutoReconnect);
    const inserts = named(plog, "insert");
    assert.equal(inserts.length, 1);
    assert.equal(inserts[0].txnNumber, undefined);
    assert.ok(inserts[0].lsid !== undefined, "still in an implicit session");
  });

  test("a network error makes the server session dirty: it is not reused", async () => {
    await using plain = await ReplicaSetConnection.connect(rs.uri, { ...FAST, retryWrites: false });
    const plog = record(plain);
    const coll = plain.db("s").collection("dirty");
    await coll.insertOne({ _id: 1 });
    const first = lsidHex(named(plog, "insert")[0]);
    await failOnce(plain, { failCommands: ["insert"], closeConnection: true });
    await assert.rejects(coll.insertOne({ _id: 2 }), AutoReconnect);
    assert.equal(lsidHex(named(plog, "insert")[1]), first, "the pooled session was used");
    await coll.insertOne({ _id: 3 });
    assert.notEqual(lsidHex(named(plog, "insert")[2]), first, "the dirty one was dropped");
    // An explicit session reports it.
    await using session = plain.startSession();
    await failOnce(plain, { failCommands: ["insert"], closeConnection: true });
    await assert.rejects(coll.insertOne({ _id: 4 }, { session }), AutoReconnect);
    assert.equal(session.isDirty, true);
  });

  test("misuse is a SessionError before anything is sent", async () => {
    const coll = c.db("s").collection("misuse");
    const ended = c.startSession();
    await ended.endSession();
    await ended.endSession(); // idempotent
    assert.equal(ended.hasEnded, true);
    await using other = new ReplicaSetConnection(rs.uri, FAST);
    const foreign = other.startSession();
    await using live = c.startSession();
    log.length = 0;
    await rejectsWith(coll.insertOne({ a: 1 }, { session: ended }), SessionError, /ended/);
    assert.throws(() => coll.find({}, { session: ended }), SessionError);
    await rejectsWith(coll.findOne({}, { session: foreign }), SessionError, /another client/);
    await rejectsWith(coll.insertOne({ a: 1 }, { session: live, writeConcern: { w: 0 } }), SessionError, /unacknowledged/);
    await rejectsWith(c.db("s").command({ ping: 1 }, { session: "x" as never }), ConfigurationError);
    assert.throws(() => c.startSession({ snapshot: true, causalConsistency: true }), ConfigurationError);
    assert.throws(() => c.startSession({ nope: 1 } as never), ConfigurationError);
    assert.equal(log.length, 0, "nothing was sent");
    // A closed client: its sessions are over, and no new one starts.
    await using closing = await ReplicaSetConnection.connect(rs.uri, FAST);
    const s = closing.startSession();
    await closing.close();
    assert.equal(s.hasEnded, true);
    await rejectsWith(closing.db("s").collection("x").findOne({}, { session: s }), SessionError);
    assert.throws(() => closing.startSession(), SessionError);
    assert.ok(s instanceof ClientSession);
  });

  test("close() ends the pooled sessions with endSessions", async () => {
    const closing = await ReplicaSetConnection.connect(rs.uri, FAST);
    const clog = record(closing);
    const s1 = closing.startSession();
    const s2 = closing.startSession();
    await closing.db("s").command({ ping: 1 }, { session: s1 });
    await closing.db("s").command({ ping: 1 }, { session: s2 });
    await s1.endSession();
    await s2.endSession();
    await closing.close();
    const [end] = named(clog, "endSessions");
    assert.ok(end !== undefined, "endSessions sent");
    assert.equal((end.endSessions as unknown[]).length, 2);
    assert.equal(end.lsid, undefined, "endSessions itself carries no lsid");
  });
});

test("the server session pool: LIFO, stale sessions dropped, endSessions in batches of 10,000", () => {
  const pool = new ServerSessionPool();
  const a = pool.acquire(30);
  const b = pool.acquire(30);
  pool.release(a, 30);
  pool.release(b, 30);
  assert.equal(pool.acquire(30), b);
  assert.equal(pool.acquire(30), a);
  const dirty = pool.acquire(30);
  dirty.isDirty = true;
  pool.release(dirty, 30);
  assert.equal(pool.size, 0, "a dirty session is dropped");
  const stale = pool.acquire(30);
  stale.lastUse -= 29.5 * 60_000;
  pool.release(stale, 30);
  assert.equal(pool.size, 0, "less than a minute left: dropped");
  const many = Array.from({ length: 25_000 }, () => pool.acquire(30));
  for (const s of many) pool.release(s, 30);
  const commands = pool.drain();
  assert.deepEqual(commands.map((c) => (c.endSessions as unknown[]).length), [10_000, 10_000, 5_000]);
  assert.equal(pool.size, 0);
});

describe("servers without sessions or snapshot reads", () => {
  test("wire 5 (MongoDB 3.4): no lsid, no txnNumber, no $clusterTime; an explicit session is refused", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "old", maxWireVersion: 5 });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const log = record(c);
    const coll = c.db("s").collection("old");
    await coll.insertOne({ _id: 1 });
    await coll.findOne({ _id: 1 });
    assert.ok(log.length >= 2);
    for (const cmd of log) {
      assert.equal(cmd.lsid, undefined);
      assert.equal(cmd.txnNumber, undefined);
      assert.equal(cmd.$clusterTime, undefined);
    }
    await using session = c.startSession();
    await rejectsWith(coll.findOne({ _id: 1 }, { session }), SessionError, /does not support sessions/);
  });

  test("wire 12 (MongoDB 4.4): a snapshot read is a SessionError before it is sent", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "fourfour", maxWireVersion: 12 });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const log = record(c);
    await using session = c.startSession({ snapshot: true });
    assert.equal(session.snapshotEnabled, true);
    assert.equal(session.supports.causalConsistency, false);
    await rejectsWith(c.db("s").collection("x").findOne({}, { session }), SessionError, /Snapshot reads require MongoDB 5\.0/);
    assert.equal(named(log, "find").length, 0);
  });
});

test("IllegalOperation (20) 'Transaction numbers ...' is rewritten to say what to do (retryable writes spec)", async () => {
  const { topology, primary, log } = fakeSet(() => {
    throw new OperationFailure("Transaction numbers are only allowed on a replica set member or mongos", {
      code: 20,
      codeName: "IllegalOperation",
      response: { ok: 0, code: 20 },
    });
  });
  primary.description = serverDescriptionFromHello(primary.address, {
    ok: 1,
    isWritablePrimary: true,
    setName: "foo",
    me: primary.address,
    maxWireVersion: 17,
    logicalSessionTimeoutMinutes: 30,
  }, { roundTripTime: 1 });
  await using c = new ReplicaSetConnection("a:27017", { replicaSet: "foo", [TOPOLOGY_FACTORY]: () => topology } as never);
  const e = await rejectsWith(c.db("s").collection("x").insertOne({ a: 1 }), OperationFailure, /retryWrites=false/);
  assert.equal(e.code, 20);
  assert.ok(e.cause instanceof OperationFailure, "the server's error as cause");
  assert.equal(log.length, 1, "not retried");
  assert.ok(log[0].cmd.txnNumber !== undefined && log[0].cmd.lsid !== undefined);
});
