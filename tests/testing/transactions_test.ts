import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Int64 } from "../../src/bson/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { RawClient, withClient } from "./_client.ts";

type Doc = Record<string, unknown>;

function newLsid(): Doc {
  return { id: new Binary(crypto.getRandomValues(new Uint8Array(16)), 4) };
}

// The fields of statement `n` of transaction `txnNumber`.
function txn(lsid: Doc, txnNumber: number, first = false): Doc {
  return { lsid, txnNumber: new Int64(BigInt(txnNumber)), autocommit: false, ...(first ? { startTransaction: true } : {}) };
}

async function ids(c: RawClient, extra: Doc = {}, coll = "c"): Promise<unknown[]> {
  const r = await c.command("test", { find: coll, ...extra });
  assert.equal(r.ok, 1, String(r.errmsg));
  return ((r.cursor as Doc).firstBatch as Doc[]).map((d) => d._id);
}

describe("transactions", () => {
  test("writes are invisible to others until commit, then applied at once on every member", async () => {
    await using rs = await startReplicaSet({ members: 3, replicationLagMS: 20 });
    const primary = await rs.waitForPrimary();
    await withClient(primary.host, async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 0 }] });
      const lsid = newLsid();
      const a = await c.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 1, true) });
      assert.equal(a.ok, 1, String(a.errmsg));
      const b = await c.command("test", { update: "c", updates: [{ q: { _id: 0 }, u: { $set: { x: 1 } } }], ...txn(lsid, 1) });
      assert.equal(b.nModified, 1);
      assert.deepEqual(await ids(c, txn(lsid, 1)), [0, 1], "the transaction reads its own writes");
      assert.deepEqual(await ids(c), [0], "others do not see them");
      assert.deepEqual(primary.documents("test.c"), [{ _id: 0 }]);
      const commit = await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1), writeConcern: { w: "majority" } });
      assert.equal(commit.ok, 1, String(commit.errmsg));
      assert.deepEqual(await ids(c), [0, 1]);
      const again = await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      assert.equal(again.ok, 1, "a retried commit succeeds again");
    });
    await rs.waitForReplication();
    for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 0, x: 1 }, { _id: 1 }], m.host);
  });

  test("snapshot reads: a transaction does not see writes committed after it started", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 1 }] });
      const lsid = newLsid();
      assert.deepEqual(await ids(c, { ...txn(lsid, 1, true), readConcern: { level: "snapshot" } }), [1]);
      await c.command("test", { insert: "c", documents: [{ _id: 2 }] });
      assert.deepEqual(await ids(c, txn(lsid, 1)), [1]);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) })).ok, 1);
    });
  });

  test("abortTransaction drops the writes; later statements get NoSuchTransaction", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 1, true) });
      assert.equal((await c.command("admin", { abortTransaction: 1, ...txn(lsid, 1) })).ok, 1);
      assert.deepEqual(await ids(c), []);
      const late = await c.command("test", { insert: "c", documents: [{ _id: 2 }], ...txn(lsid, 1) });
      assert.equal(late.code, 251);
      assert.deepEqual(late.errorLabels, ["TransientTransactionError"]);
      const commit = await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      assert.equal(commit.code, 251);
      assert.deepEqual(commit.errorLabels, ["TransientTransactionError"]);
      const unknown = await c.command("test", { find: "c", ...txn(lsid, 5) });
      assert.equal(unknown.codeName, "NoSuchTransaction");
      const old = await c.command("test", { find: "c", ...txn(lsid, 0, true) });
      assert.equal(old.codeName, "TransactionTooOld");
    });
  });

  test("txnNumber rules: one number per transaction, older numbers refused, a statement after commit", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 3, true) });
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 3) })).ok, 1);
      const after = await c.command("test", { find: "c", ...txn(lsid, 3) });
      assert.equal(after.codeName, "TransactionCommitted");
      const restart = await c.command("test", { find: "c", ...txn(lsid, 3, true) });
      assert.equal(restart.code, 117, "a transaction number is used once");
      const retryable = await c.command("test", { insert: "c", documents: [{ _id: 2 }], lsid, txnNumber: new Int64(2n) });
      assert.equal(retryable.codeName, "TransactionTooOld");
      // A retryable write with a newer number aborts the open transaction.
      await c.command("test", { insert: "c", documents: [{ _id: 3 }], ...txn(lsid, 4, true) });
      assert.equal((await c.command("test", { insert: "c", documents: [{ _id: 4 }], lsid, txnNumber: new Int64(5n) })).n, 1);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 4) })).codeName, "TransactionTooOld");
      assert.deepEqual(await ids(c), [1, 4]);
    });
  });

  test("two transactions writing one document: the second gets WriteConflict and is aborted", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 1, n: 0 }] });
      const [s1, s2] = [newLsid(), newLsid()];
      const inc = { update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }] };
      assert.equal((await c.command("test", { ...inc, ...txn(s1, 1, true) })).nModified, 1);
      const second = await c.command("test", { ...inc, ...txn(s2, 1, true) });
      assert.equal(second.ok, 0);
      assert.equal(second.code, 112);
      assert.equal(second.codeName, "WriteConflict");
      assert.deepEqual(second.errorLabels, ["TransientTransactionError"]);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(s2, 1) })).code, 251);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(s1, 1) })).ok, 1);
      // After the first committed, a transaction that started before the commit conflicts too.
      const s3 = newLsid();
      await c.command("test", { find: "c", ...txn(s3, 1, true) });
      await c.command("test", inc);
      assert.equal((await c.command("test", { ...inc, ...txn(s3, 1) })).code, 112);
      // A new one sees the committed value.
      assert.equal((await c.command("test", { ...inc, ...txn(s2, 2, true) })).nModified, 1);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(s2, 2) })).ok, 1);
      assert.deepEqual(rs.members[0].documents("test.c"), [{ _id: 1, n: 3 }]);
    });
  });

  test("a write outside transactions waits for the transaction holding its document", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const c = await RawClient.connect(rs.hosts[0]);
    const other = await RawClient.connect(rs.hosts[0]);
    try {
      await c.command("test", { insert: "c", documents: [{ _id: 1, n: 0 }] });
      const lsid = newLsid();
      await c.command("test", { update: "c", updates: [{ q: { _id: 1 }, u: { $set: { n: 10 } } }], ...txn(lsid, 1, true) });
      const timedOut = await other.command("test", { update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }], maxTimeMS: 50 });
      assert.equal(timedOut.codeName, "MaxTimeMSExpired");
      const waiting = other.command("test", { update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }] });
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) })).ok, 1);
      assert.equal((await waiting).nModified, 1);
      assert.deepEqual(rs.members[0].documents("test.c"), [{ _id: 1, n: 11 }]);
    } finally {
      c.close();
      other.close();
    }
  });

  test("commands not allowed in a transaction, readConcern and writeConcern rules", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      const count = await c.command("test", { count: "c", ...txn(lsid, 1, true) });
      assert.equal(count.code, 263);
      assert.equal(count.codeName, "OperationNotSupportedInTransaction");
      const drop = await c.command("test", { drop: "c", ...txn(lsid, 2, true) });
      assert.equal(drop.code, 263);
      const out = await c.command("test", { aggregate: "c", pipeline: [{ $out: "d" }], cursor: {}, ...txn(lsid, 3, true) });
      assert.equal(out.code, 263);
      const level = await c.command("test", { find: "c", ...txn(lsid, 4, true), readConcern: { level: "linearizable" } });
      assert.equal(level.code, 72);
      await c.command("test", { find: "c", ...txn(lsid, 5, true) });
      const rc = await c.command("test", { find: "c", ...txn(lsid, 5), readConcern: { level: "local" } });
      assert.equal(rc.code, 72);
      await c.command("test", { find: "c", ...txn(lsid, 6, true) });
      const wc = await c.command("test", { insert: "c", documents: [{}], ...txn(lsid, 6), writeConcern: { w: 1 } });
      assert.equal(wc.code, 72);
      const notAdmin = await c.command("test", { commitTransaction: 1, ...txn(lsid, 6) });
      assert.equal(notAdmin.code, 13);
      const noTxn = await c.command("admin", { commitTransaction: 1 });
      assert.equal(noTxn.code, 72);
    });
  });

  test("a collection is created implicitly (and explicitly) inside a transaction", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      assert.equal((await c.command("test", { create: "made", ...txn(lsid, 1, true) })).ok, 1);
      assert.equal((await c.command("test", { insert: "implicit", documents: [{ _id: 1 }], ...txn(lsid, 1) })).n, 1);
      const names = async () => {
        const r = await c.command("test", { listCollections: 1, nameOnly: true });
        return ((r.cursor as Doc).firstBatch as Doc[]).map((d) => d.name).sort();
      };
      assert.deepEqual(await names(), []);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) })).ok, 1);
      assert.deepEqual(await names(), ["implicit", "made"]);
    });
  });

  test("a write error aborts the transaction", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 1 }] });
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: 2 }], ...txn(lsid, 1, true) });
      const dup = await c.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 1) });
      assert.equal((dup.writeErrors as Doc[])[0].code, 11000);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) })).code, 251);
      assert.deepEqual(await ids(c), [1]);
    });
  });

  test("step-down, kill, killSessions, killAllSessions and endSessions abort open transactions", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 30 });
    const primary = await rs.waitForPrimary();
    await withClient(primary.host, async (c) => {
      const [a, b, d] = [newLsid(), newLsid(), newLsid()];
      for (const s of [a, b, d]) await c.command("test", { insert: "c", documents: [{}], ...txn(s, 1, true) });
      assert.equal((await c.command("admin", { killSessions: [a] })).ok, 1);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(a, 1) })).code, 251);
      assert.equal((await c.command("admin", { endSessions: [b] })).ok, 1);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(b, 1) })).code, 251);
      assert.equal((await c.command("admin", { killAllSessions: [] })).ok, 1);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(d, 1) })).code, 251);
      await c.command("test", { insert: "c", documents: [{}], ...txn(a, 2, true) });
    });
    rs.stepDown(primary, 10);
    const next = await rs.waitForPrimary();
    await withClient(primary.host, async (c) => {
      const r = await c.command("admin", { commitTransaction: 1, ...txn(newLsid(), 1) });
      assert.equal(r.code, 10107);
      assert.deepEqual(r.errorLabels, ["RetryableWriteError"]);
    });
    await withClient(next.host, async (c) => {
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: "k" }], ...txn(lsid, 1, true) });
      await rs.kill(next);
    });
    const third = await rs.waitForPrimary();
    await rs.waitForReplication();
    assert.deepEqual(third.documents("test.c"), [], "no transaction committed");
  });

  test("a commit retried on the new primary after a failover succeeds; the writes are there once", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 30 });
    const primary = await rs.waitForPrimary();
    const lsid = newLsid();
    await withClient(primary.host, async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }], ...txn(lsid, 4, true) });
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 4), writeConcern: { w: 3 } })).ok, 1);
    });
    await rs.kill(primary);
    const next = await rs.waitForPrimary();
    await withClient(next.host, async (c) => {
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 4) })).ok, 1);
      assert.equal((await c.command("admin", { abortTransaction: 1, ...txn(lsid, 4) })).codeName, "TransactionCommitted");
      assert.deepEqual(await ids(c), [1, 2]);
    });
  });

  test("failCommand applies to commitTransaction; the transaction survives and a retried commit applies it", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const fp = await c.command("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["commitTransaction"], errorCode: 91 },
      });
      assert.equal(fp.ok, 1);
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 1, true) });
      const failed = await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      assert.equal(failed.code, 91);
      assert.deepEqual(failed.errorLabels, ["RetryableWriteError"]);
      assert.deepEqual(await ids(c), []);
      assert.equal((await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) })).ok, 1);
      assert.deepEqual(await ids(c), [1]);
      await c.command("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], errorCode: 112 },
      });
      const conflict = await c.command("test", { insert: "c", documents: [{ _id: 2 }], ...txn(lsid, 2, true) });
      assert.deepEqual(conflict.errorLabels, ["TransientTransactionError"]);
      // A write concern error inside a transaction gets no label (mongod labels command errors only).
      await c.command("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], writeConcernError: { code: 91, errmsg: "Replication is being shut down" } },
      });
      const wce = await c.command("test", { insert: "c", documents: [{ _id: 3 }], ...txn(lsid, 3, true) });
      assert.equal((wce.writeConcernError as Doc).code, 91);
      assert.equal(wce.errorLabels, undefined);
      await c.command("admin", {
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["commitTransaction"], writeConcernError: { code: 91, errmsg: "Replication is being shut down" } },
      });
      const commitWce = await c.command("admin", { commitTransaction: 1, ...txn(lsid, 3) });
      assert.deepEqual(commitWce.errorLabels, ["RetryableWriteError"], "a commit's write concern error is retryable");
    });
  });

  test("a change stream reports a transaction's writes with its lsid and txnNumber", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const open = await c.command("test", { aggregate: "c", pipeline: [{ $changeStream: {} }], cursor: {} });
      const id = (open.cursor as Doc).id;
      const lsid = newLsid();
      await c.command("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }], ...txn(lsid, 1, true) });
      await c.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
      const more = await c.command("test", { getMore: id, collection: "c", maxTimeMS: 500 });
      const events = (more.cursor as Doc).nextBatch as Doc[];
      assert.deepEqual(events.map((e) => (e.documentKey as Doc)._id), [1, 2]);
      assert.equal(Number(events[0].txnNumber), 1);
      const sent = (lsid.id as Binary).buffer;
      assert.deepEqual(new Uint8Array(((events[1].lsid as Doc).id as { buffer: Uint8Array }).buffer), new Uint8Array(sent));
      assert.notDeepEqual(events[0]._id, events[1]._id);
      // Resuming after the transaction's first event gives the rest of it.
      const resumed = await c.command("test", {
        aggregate: "c",
        pipeline: [{ $changeStream: { resumeAfter: events[0]._id } }],
        cursor: {},
      });
      const next = await c.command("test", { getMore: (resumed.cursor as Doc).id, collection: "c", maxTimeMS: 200 });
      const rest = [...((resumed.cursor as Doc).firstBatch as Doc[]), ...((next.cursor as Doc).nextBatch as Doc[])];
      assert.deepEqual(rest.map((e) => (e.documentKey as Doc)._id), [2]);
    });
  });

  test("snapshot reads outside transactions read at atClusterTime and report it (5.0+)", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 1, x: 11 }] });
      const first = await c.command("test", { find: "c", readConcern: { level: "snapshot" } });
      assert.equal(first.ok, 1, String(first.errmsg));
      const at = (first.cursor as Doc).atClusterTime;
      assert.ok(at !== undefined, "the cursor reports the time it read at");
      await c.command("test", { update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { x: 1 } } }] });
      await c.command("test", { insert: "c", documents: [{ _id: 2, x: 22 }] });
      const again = await c.command("test", { find: "c", readConcern: { level: "snapshot", atClusterTime: at } });
      assert.deepEqual((again.cursor as Doc).firstBatch, [{ _id: 1, x: 11 }], "the data as it was at that time");
      assert.deepEqual((again.cursor as Doc).atClusterTime, at);
      const agg = await c.command("test", {
        aggregate: "c",
        pipeline: [{ $count: "n" }],
        cursor: {},
        readConcern: { level: "snapshot", atClusterTime: at },
      });
      assert.deepEqual((agg.cursor as Doc).firstBatch, [{ n: 1 }]);
      const distinct = await c.command("test", { distinct: "c", key: "x", readConcern: { level: "snapshot", atClusterTime: at } });
      assert.deepEqual(distinct.values, [11]);
      assert.deepEqual(distinct.atClusterTime, at);
      const now = await c.command("test", { distinct: "c", key: "x", readConcern: { level: "snapshot" } });
      assert.deepEqual(now.values, [12, 22]);
      const insert = await c.command("test", { insert: "c", documents: [{}], readConcern: { level: "snapshot" } });
      assert.equal(insert.code, 72);
    });
    await using old = await startReplicaSet({ members: 1, maxWireVersion: 9 });
    await withClient(old.hosts[0], async (c) => {
      const r = await c.command("test", { find: "c", readConcern: { level: "snapshot" } });
      assert.equal(r.code, 72, "4.4 allows the snapshot level only in transactions");
    });
  });
});
