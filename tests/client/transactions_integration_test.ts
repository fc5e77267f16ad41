// Transactions through the driver against the simulated replica set
// (src/testing): what each command of a transaction carries on the wire,
// commit/abort, bad input before any I/O, and the peer proof of issue 12:
// withTransaction committing through a transient error, and a commit retried
// after a network error applying once. Judged from the members' request logs
// and their stored documents.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import type { RequestLogEntry } from "../../src/testing/mod.ts";
import { TransactionError } from "../../src/errors.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const FAST = { serverSelectionTimeoutMS: 20_000, heartbeatFrequencyMS: 500, connectTimeoutMS: 5000 };

function sent(log: readonly RequestLogEntry[], ...names: string[]): RequestLogEntry[] {
  return log.filter((r) => names.includes(r.command));
}

describe("transactions on the simulated set", () => {
  test("the commands of a transaction: startTransaction + readConcern on the first only; writeConcern on commit", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "txn1" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, writeConcern: { w: 1 } });
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: 0 });
    await using s = c.startSession();
    s.startTransaction({ readConcern: { level: "snapshot" }, writeConcern: { w: "majority" } });
    assert.equal(s.inTransaction(), true);
    assert.equal(s.transaction.state, "STARTING_TRANSACTION");
    const primary = await rs.waitForPrimary();
    rs.clearLog();
    await coll.insertOne({ _id: 1 }, { session: s });
    assert.equal(s.transaction.state, "TRANSACTION_IN_PROGRESS");
    assert.deepEqual((await coll.find({}, { session: s }).toArray()).map((d) => d._id), [0, 1]);
    assert.deepEqual((await coll.find({}).toArray()).map((d) => d._id), [0], "not visible outside before commit");
    await s.commitTransaction();
    assert.equal(s.transaction.state, "TRANSACTION_COMMITTED");
    assert.deepEqual((await coll.find({}).toArray()).map((d) => d._id), [0, 1]);
    const log = sent(rs.requests(primary.host), "insert", "find", "commitTransaction")
      .filter((r) =>
        r.body.lsid !== undefined && (r.body.lsid as { id: unknown }).id !== undefined && r.body.txnNumber !== undefined
      );
    const [insert, find, commit] = log;
    assert.equal(insert.command, "insert");
    assert.equal(insert.body.startTransaction, true);
    assert.equal(insert.body.autocommit, false);
    assert.deepEqual(insert.body.readConcern, { level: "snapshot" });
    assert.equal(insert.body.writeConcern, undefined, "no writeConcern inside a transaction");
    assert.equal(find.command, "find");
    assert.equal(find.body.startTransaction, undefined);
    assert.equal(find.body.readConcern, undefined);
    assert.equal(commit.command, "commitTransaction");
    assert.deepEqual(commit.body.writeConcern, { w: "majority" });
    assert.equal(commit.body.autocommit, false);
    assert.equal(String(commit.body.txnNumber), String(insert.body.txnNumber));
  });

  test("a cursor's getMore runs in the transaction; endSession aborts a transaction in progress", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "txn5" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const s = c.startSession();
    s.startTransaction();
    rs.clearLog();
    await coll.insertOne({ _id: 4 }, { session: s });
    const txnNumber = String(sent(rs.requests(0), "insert")[0].body.txnNumber);
    const ids = (await coll.find({}, { session: s, batchSize: 1, sort: { _id: 1 } }).toArray()).map((d) => d._id);
    assert.deepEqual(ids, [1, 2, 3, 4], "the transaction reads its own write, batch by batch");
    const getMores = sent(rs.requests(0), "getMore");
    assert.ok(getMores.length >= 3);
    for (const g of getMores) {
      assert.equal(g.body.autocommit, false);
      assert.equal(String(g.body.txnNumber), txnNumber);
    }
    rs.clearLog();
    await s.endSession();
    assert.equal(sent(rs.requests(0), "abortTransaction").length, 1, "endSession aborted the transaction");
    assert.equal(s.transaction.state, "TRANSACTION_ABORTED");
    assert.deepEqual((await coll.find({}).toArray()).map((d) => d._id), [1, 2, 3]);
  });

  test("bad input is a TransactionError before any I/O", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "txn2" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await using s = c.startSession();
    await rejectsWith(s.commitTransaction(), TransactionError, /No transaction started/);
    await rejectsWith(s.abortTransaction(), TransactionError, /No transaction started/);
    assert.throws(
      () => s.startTransaction({ writeConcern: { w: 0 } }),
      /transactions do not support unacknowledged write concern/,
    );
    s.startTransaction();
    assert.throws(() => s.startTransaction(), TransactionError);
    rs.clearLog();
    assert.throws(() => coll.find({}, { session: s, readPreference: "secondary" }), /must be primary/);
    await rejectsWith(
      coll.distinct("x", {}, { session: s, readConcern: { level: "local" } }),
      TransactionError,
      /Cannot set read concern/,
    );
    await rejectsWith(
      coll.insertOne({ _id: 1 }, { session: s, writeConcern: { w: 1 } }),
      TransactionError,
      /Cannot set write concern/,
    );
    assert.equal(s.transaction.state, "STARTING_TRANSACTION");
    assert.deepEqual(sent(rs.requests(0), "find", "insert"), [], "nothing was sent");
    await s.abortTransaction();
    assert.equal(s.transaction.state, "TRANSACTION_ABORTED");
  });

  test("withTransaction commits through a TransientTransactionError on insert (the callback runs twice, one document)", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "txn3" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: "seed" });
    await c.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["insert"], errorCode: 112, errorLabels: ["TransientTransactionError"] },
    });
    await using s = c.startSession();
    let runs = 0;
    const result = await s.withTransaction(async (session) => {
      runs++;
      await coll.insertOne({ _id: 1 }, { session });
      await coll.updateOne({ _id: "seed" }, { $inc: { n: 1 } }, { session });
      return "committed";
    });
    assert.equal(result, "committed");
    assert.equal(runs, 2);
    assert.deepEqual(await coll.find({}, { sort: { _id: 1 } }).toArray(), [{ _id: 1 }, { _id: "seed", n: 1 }]);
  });

  test("a commit cut off by a network error is retried and applies once", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "txn4" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: "seed", n: 0 });
    await using s = c.startSession();
    s.startTransaction();
    await coll.updateOne({ _id: "seed" }, { $inc: { n: 1 } }, { session: s });
    await coll.insertOne({ _id: 1 }, { session: s });
    await c.db("admin").command({
      configureFailPoint: "failCommand",
      mode: { times: 1 },
      data: { failCommands: ["commitTransaction"], closeConnection: true },
    });
    const primary = await rs.waitForPrimary();
    rs.clearLog();
    await s.commitTransaction();
    const commits = sent(rs.requests(primary.host), "commitTransaction");
    assert.equal(commits.length, 2, "the commit was sent again");
    const retried = commits[1].body.writeConcern as { w: unknown; wtimeout: unknown };
    assert.equal(retried.w, "majority");
    assert.equal(Number(retried.wtimeout), 10_000);
    assert.deepEqual(await coll.find({}, { sort: { _id: 1 } }).toArray(), [{ _id: 1 }, { _id: "seed", n: 1 }]);
    await s.commitTransaction(); // committing again returns the same outcome
    assert.deepEqual(await coll.find({}, { sort: { _id: 1 } }).toArray(), [{ _id: 1 }, { _id: "seed", n: 1 }]);
  });
});
