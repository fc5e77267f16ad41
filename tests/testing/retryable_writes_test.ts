import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Int64 } from "../../src/bson/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { SessionTable, sessionKey } from "../../src/testing/session_table.ts";
import { RawClient, withClient } from "./_client.ts";

type Doc = Record<string, unknown>;

function newLsid(): Doc {
  return { id: new Binary(crypto.getRandomValues(new Uint8Array(16)), 4) };
}

describe("session table", () => {
  test("a row follows the newest txnNumber; statements of older numbers are ignored", () => {
    const lsid = newLsid();
    const key = sessionKey(lsid)!;
    const t = new SessionTable();
    t.record({ key, lsid, txnNumber: 2n, stmtId: 0, outcome: { result: { n: 1 } } });
    assert.deepEqual(t.executed(key, 2n, 0), { n: 1 });
    assert.equal(t.executed(key, 2n, 1), undefined);
    t.record({ key, lsid, txnNumber: 1n, stmtId: 1, outcome: { result: { n: 1 } } });
    assert.equal(t.executed(key, 1n, 1), undefined, "an older txnNumber does not write the row");
    t.record({ key, lsid, txnNumber: 3n, committed: true });
    assert.equal(t.executed(key, 2n, 0), undefined, "a newer txnNumber starts a new row");
    assert.equal(t.get(key)?.committed, true);
    const copy = t.clone();
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(copy.get(key)?.txnNumber, 3n);
  });
});

describe("retryable writes", () => {
  test("a retried insert, update, delete and findAndModify returns the stored result and applies once", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      const insert = { insert: "c", documents: [{ _id: 1, n: 0 }, { _id: 2, n: 0 }], lsid, txnNumber: new Int64(1n) };
      assert.equal((await c.command("test", insert)).n, 2);
      const again = await c.command("test", insert);
      assert.equal(again.ok, 1);
      assert.equal(again.n, 2, "the retry reports the original result");
      assert.equal(again.writeErrors, undefined, "no duplicate key: the statements did not run again");

      const update = {
        update: "c",
        updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }, { q: { _id: 9 }, u: { $inc: { n: 1 } }, upsert: true }],
        lsid,
        txnNumber: new Int64(2n),
      };
      const u1 = await c.command("test", update);
      const u2 = await c.command("test", update);
      assert.equal(u1.n, 2);
      assert.equal(u2.n, 2);
      assert.equal(u2.nModified, 1);
      assert.deepEqual(u2.upserted, [{ index: 1, _id: 9 }]);
      assert.deepEqual(rs.members[0].documents("test.c").find((d) => d._id === 1), { _id: 1, n: 1 });

      const fam = {
        findAndModify: "c",
        query: { _id: 2 },
        update: { $inc: { n: 5 } },
        new: true,
        lsid,
        txnNumber: new Int64(3n),
      };
      const f1 = await c.command("test", fam);
      const f2 = await c.command("test", fam);
      assert.deepEqual(f1.value, { _id: 2, n: 5 });
      assert.deepEqual(f2.value, { _id: 2, n: 5 }, "the stored post-image, not a second $inc");
      assert.deepEqual(f2.lastErrorObject, f1.lastErrorObject);

      const del = { delete: "c", deletes: [{ q: { _id: 1 }, limit: 1 }], lsid, txnNumber: new Int64(4n) };
      assert.equal((await c.command("test", del)).n, 1);
      assert.equal((await c.command("test", del)).n, 1, "the retried delete reports the document it deleted");

      const stale = await c.command("test", { insert: "c", documents: [{ _id: 5 }], lsid, txnNumber: new Int64(2n) });
      assert.equal(stale.ok, 0);
      assert.equal(stale.code, 225);
      assert.equal(stale.codeName, "TransactionTooOld");
      assert.equal(rs.members[0].documents("test.c").some((d) => d._id === 5), false);
      assert.deepEqual(
        rs.members[0].documents("test.c").map((d) => d._id),
        [2, 9],
      );
    });
  });

  test("a statement that failed runs again on retry; one that succeeded does not", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "c", documents: [{ _id: 2 }] });
      const lsid = newLsid();
      const cmd = { insert: "c", documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }], ordered: false, lsid, txnNumber: 1 };
      const first = await c.command("test", cmd);
      assert.equal(first.n, 2);
      assert.equal((first.writeErrors as Doc[])[0].index, 1);
      const second = await c.command("test", cmd);
      assert.equal(second.n, 2);
      assert.equal((second.writeErrors as Doc[])[0].code, 11000, "the failed statement ran again");
    });
  });

  test("without a session, or with a new txnNumber, writes apply again", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const lsid = newLsid();
      const upd = (txnNumber: number) => ({ update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } }, upsert: true }], lsid, txnNumber });
      await c.command("test", upd(1));
      await c.command("test", upd(1));
      await c.command("test", upd(2));
      await c.command("test", { update: "c", updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }] });
      assert.deepEqual(rs.members[0].documents("test.c"), [{ _id: 1, n: 3 }]);
      const find = await c.command("test", { find: "c", lsid, txnNumber: 3 });
      assert.equal(find.code, 50768, "txnNumber on a read without autocommit is refused");
    });
  });

  test("a retry that reaches the new primary after a failover gets the original result, applied once", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 50 });
    const old = await rs.waitForPrimary();
    const lsid = newLsid();
    const fam = {
      findAndModify: "c",
      query: { _id: 1 },
      update: { $inc: { n: 1 } },
      upsert: true,
      new: true,
      lsid,
      txnNumber: new Int64(7n),
    };
    const ins = { insert: "c", documents: [{ _id: 2 }], lsid, txnNumber: new Int64(8n) };
    await withClient(old.host, async (c) => {
      assert.deepEqual((await c.command("test", fam)).value, { _id: 1, n: 1 });
    });
    await rs.waitForReplication();
    await rs.kill(old);
    const next = await rs.waitForPrimary();
    assert.notEqual(next.host, old.host);
    await withClient(next.host, async (c) => {
      const retried = await c.command("test", fam);
      assert.equal(retried.ok, 1);
      assert.deepEqual(retried.value, { _id: 1, n: 1 }, "the original post-image, not n: 2");
      assert.equal((await c.command("test", ins)).n, 1);
      // The table moved to txnNumber 8 on the new primary too.
      assert.equal((await c.command("test", fam)).code, 225);
    });
    assert.deepEqual(next.documents("test.c"), [{ _id: 1, n: 1 }, { _id: 2 }]);
  });

  test("a write error reply carries RetryableWriteError for a retryable write on 4.4+", async () => {
    await using rs = await startReplicaSet({ members: 2 });
    const secondary = rs.members.find((m) => m.state === "SECONDARY")!;
    const c = await RawClient.connect(secondary.host);
    try {
      const retryable = await c.command("test", { insert: "c", documents: [{}], lsid: newLsid(), txnNumber: 1 });
      assert.equal(retryable.code, 10107);
      assert.deepEqual(retryable.errorLabels, ["RetryableWriteError"]);
      const plain = await c.command("test", { insert: "c", documents: [{}] });
      assert.equal(plain.errorLabels, undefined);
    } finally {
      c.close();
    }
  });

  test("onPrimaryTransactionalWrite: the write applies and the reply is lost; a retry gets the stored result", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const host = rs.hosts[0];
    await withClient(host, async (c) => {
      const fp = await c.command("admin", { configureFailPoint: "onPrimaryTransactionalWrite", mode: { times: 1 } });
      assert.equal(fp.ok, 1);
      const plain = await c.command("test", { insert: "c", documents: [{ _id: 0 }] });
      assert.equal(plain.n, 1, "a write without a session is not retryable: the point does not fire");
    });
    const lsid = newLsid();
    const cmd = { insert: "c", documents: [{ _id: 1 }, { _id: 2 }], lsid, txnNumber: new Int64(1n) };
    const lost = await RawClient.connect(host);
    try {
      await assert.rejects(lost.command("test", cmd), /closed/);
    } finally {
      lost.close();
    }
    assert.equal(rs.members[0].documents("test.c").length, 3, "the write applied before the connection closed");
    await withClient(host, async (c) => {
      const retried = await c.command("test", cmd);
      assert.equal(retried.n, 2);
      assert.equal(retried.writeErrors, undefined);
      await c.command("admin", {
        configureFailPoint: "onPrimaryTransactionalWrite",
        mode: "alwaysOn",
        data: { closeConnection: false, failBeforeCommitExceptionCode: 91 },
      });
      const failed = await c.command("test", { insert: "c", documents: [{ _id: 3 }], lsid, txnNumber: new Int64(2n) });
      assert.equal((failed.writeErrors as Doc[])[0].code, 91, "the statement failed before it wrote");
      await c.command("admin", { configureFailPoint: "onPrimaryTransactionalWrite", mode: "off" });
    });
    assert.deepEqual(rs.members[0].documents("test.c").map((d) => d._id), [0, 1, 2]);
  });

  test("onPrimaryTransactionalWrite counts the statements that run, not those answered from the session table", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const host = rs.hosts[0];
    await withClient(host, (c) => c.command("admin", { configureFailPoint: "onPrimaryTransactionalWrite", mode: { times: 2 } }));
    const lsid = newLsid();
    const first = { insert: "c", documents: [{ _id: 1 }], lsid, txnNumber: new Int64(1n) };
    const second = { update: "c", updates: [{ q: { _id: 1 }, u: { $set: { a: 1 } } }], lsid, txnNumber: new Int64(2n) };
    for (const cmd of [first, second]) {
      const lost = await RawClient.connect(host);
      try {
        await assert.rejects(lost.command("test", cmd), /closed/);
      } finally {
        lost.close();
      }
      // The retry is answered from the table: the point does not fire (it has firings left only if it did).
      await withClient(host, async (c) => assert.equal((await c.command("test", cmd)).ok, 1));
    }
    await withClient(host, async (c) => {
      assert.equal((await c.command("test", { insert: "c", documents: [{ _id: 2 }], lsid, txnNumber: 3 })).n, 1, "the point is spent");
    });
    assert.deepEqual(rs.members[0].documents("test.c"), [{ _id: 1, a: 1 }, { _id: 2 }]);
  });

  test("replies carry $clusterTime (placeholder signature) and operationTime from 3.6 (wire 6) on", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const w = await c.command("test", { insert: "c", documents: [{ _id: 1 }] });
      const ct = w.$clusterTime as Doc;
      assert.deepEqual(Object.keys(ct), ["clusterTime", "signature"]);
      assert.deepEqual(ct.signature, { hash: new Binary(new Uint8Array(20)), keyId: 0n });
      assert.deepEqual(w.operationTime, ct.clusterTime, "the write's optime is the newest");
      const later = await c.command("test", { find: "c" });
      assert.deepEqual(later.operationTime, w.operationTime, "a read's operationTime is the last applied optime");
    });
    await using old = await startReplicaSet({ members: 1, maxWireVersion: 5 });
    await withClient(old.hosts[0], async (c) => {
      const r = await c.legacyCommand("admin", { ping: 1 });
      assert.equal(r.$clusterTime, undefined, "3.4 knows no cluster time");
      assert.equal(r.operationTime, undefined);
    });
  });
});
