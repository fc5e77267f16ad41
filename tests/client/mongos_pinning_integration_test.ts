// Sharded transactions end to end, against the simulated sharded cluster
// (src/testing/sharded_cluster.ts: two mongoses over one replica-set shard):
// a transaction through two mongoses runs and commits on the mongos it is
// pinned to; after a transient error the session is unpinned and the retried
// transaction may go to the other mongos; a commit whose mongos was killed is
// retried through the other one with the recoveryToken, which finds the
// transaction's outcome.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { AutoReconnect, MongoError } from "../../src/errors.ts";
import { Connection } from "../../src/client/mod.ts";
import { pinnedServer } from "../../src/client/mongos_pinning.ts";
import { type ShardedCluster, startShardedCluster } from "../../src/testing/mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

/** The transaction's commands each mongos received, by name. */
function transactionCommands(cluster: ShardedCluster, host: string): string[] {
  return cluster.requests(host).filter((r) => (r.body as Document).autocommit === false).map((r) => r.command);
}

describe("sharded transactions (simulated cluster of two mongoses)", () => {
  let cluster: ShardedCluster;
  let checker: Connection;
  before(async () => {
    cluster = await startShardedCluster({ mongoses: 2, shard: { members: 3 } });
    checker = await Connection.connect(cluster.uri, FAST);
  });
  after(async () => {
    await checker?.close();
    await cluster?.close();
  });

  async function ids(coll: string): Promise<unknown[]> {
    return (await checker.db("pin").collection(coll).find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id);
  }

  test("every command of the transaction, and its commit, go to the mongos of its first command", async () => {
    await checker.db("pin").command({ create: "a" });
    await using client = await Connection.connect(cluster.uri, FAST);
    const coll = client.db("pin").collection("a");
    // Both mongoses are known (and so selectable) before the transaction starts.
    await Promise.all([0, 1, 2, 3].map(() => coll.findOne({})));
    cluster.clearLog();
    await using session = client.startSession();
    session.startTransaction();
    for (let i = 1; i <= 6; i++) await coll.insertOne({ _id: i }, { session });
    assert.equal((await coll.find({}, { session }).toArray()).length, 6);
    const pinned = pinnedServer(session)!.address;
    await session.commitTransaction();
    const other = cluster.hosts.find((h) => h !== pinned)!;
    assert.deepEqual(transactionCommands(cluster, pinned), [
      ...Array(6).fill("insert"),
      "find",
      "commitTransaction",
    ]);
    assert.deepEqual(transactionCommands(cluster, other), [], "nothing of the transaction on the other mongos");
    const commit = cluster.requests(pinned).find((r) => r.command === "commitTransaction")!.body as Document;
    assert.ok(commit.recoveryToken !== undefined, "the commit carries the recoveryToken");
    assert.deepEqual(await ids("a"), [1, 2, 3, 4, 5, 6]);
  });

  test("a transient error unpins the session: the transaction is retried through the other mongos", async () => {
    await checker.db("pin").command({ create: "b" });
    await using client = await Connection.connect(cluster.uri, FAST);
    const coll = client.db("pin").collection("b");
    await Promise.all([0, 1, 2, 3].map(() => coll.findOne({})));
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const first = pinnedServer(session)!.address;
    await cluster.kill(first);
    try {
      const error = await coll.insertOne({ _id: 2 }, { session }).then(() => undefined, (e) => e);
      assert.ok(error instanceof MongoError, `a network error, got ${error}`);
      assert.ok(error.hasErrorLabel("TransientTransactionError"));
      assert.equal(pinnedServer(session), undefined, "unpinned after the transient error");
      await session.abortTransaction();
      // The whole transaction again: selection can only find the other mongos now.
      session.startTransaction();
      await coll.insertOne({ _id: 1 }, { session });
      await coll.insertOne({ _id: 2 }, { session });
      const second = pinnedServer(session)!.address;
      assert.notEqual(second, first);
      await session.commitTransaction();
      assert.deepEqual(await ids("b"), [1, 2]);
    } finally {
      await cluster.restart(first);
    }
  });

  test("after its mongos is killed, the commit is retried through another mongos with the recoveryToken", async () => {
    await checker.db("pin").command({ create: "c" });
    await using client = await Connection.connect(cluster.uri, FAST);
    const coll = client.db("pin").collection("c");
    await Promise.all([0, 1, 2, 3].map(() => coll.findOne({})));
    await using session = client.startSession();
    session.startTransaction({ writeConcern: { w: "majority" } });
    await coll.insertOne({ _id: 1 }, { session });
    await coll.insertOne({ _id: 2 }, { session });
    await session.commitTransaction(); // committed through the pinned mongos: the session stays pinned
    const pinned = pinnedServer(session)!.address;
    const other = cluster.hosts.find((h) => h !== pinned)!;
    cluster.clearLog();
    await cluster.kill(pinned);
    try {
      // Committing again (as after a lost reply): the pinned mongos is dead, the retry selects the other one,
      // which finds the outcome from the recoveryToken.
      await session.commitTransaction();
      const commits = cluster.requests(other).filter((r) => r.command === "commitTransaction");
      assert.equal(commits.length, 1, "the retried commit went to the other mongos");
      const body = commits[0].body as Document;
      assert.ok(body.recoveryToken !== undefined, "with the recoveryToken");
      assert.deepEqual((body.writeConcern as Document).w, "majority");
      assert.equal(pinnedServer(session), undefined, "the retry unpinned the session");
      assert.deepEqual(await ids("c"), [1, 2]);
    } finally {
      await cluster.restart(pinned);
    }
  });

  test("a commit that never reached the pinned mongos: another one cannot commit it (NoSuchTransaction, transient)", async () => {
    await checker.db("pin").command({ create: "e" });
    await using client = await Connection.connect(cluster.uri, FAST);
    const coll = client.db("pin").collection("e");
    await Promise.all([0, 1, 2, 3].map(() => coll.findOne({})));
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const pinned = pinnedServer(session)!.address;
    await cluster.kill(pinned);
    try {
      const error = await session.commitTransaction().then(() => undefined, (e) => e);
      assert.ok(error instanceof MongoError, `an error, got ${error}`);
      assert.ok(error.hasErrorLabel("TransientTransactionError"), `labels: ${error.errorLabels}`);
      assert.ok(!error.hasErrorLabel("UnknownTransactionCommitResult"));
      assert.equal(pinnedServer(session), undefined);
      assert.deepEqual(await ids("e"), [], "nothing committed");
    } finally {
      await cluster.restart(pinned);
    }
  });

  test("without a recoveryToken another mongos cannot find the transaction (the token is what recovers it)", async () => {
    await checker.db("pin").command({ create: "d" });
    await using client = await Connection.connect(cluster.uri, FAST);
    const coll = client.db("pin").collection("d");
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const pinned = pinnedServer(session)!.address;
    const other = cluster.hosts.find((h) => h !== pinned)!;
    // The same commit, by hand, on the other mongos and without the token.
    await using direct = await Connection.connect(`mongodb://${other}/?directConnection=true`, FAST);
    const txnNumber = (cluster.requests(pinned).findLast((r) => r.command === "insert")!.body as Document).txnNumber;
    const error = await direct.admin.command({
      commitTransaction: 1,
      lsid: session.id,
      txnNumber,
      autocommit: false,
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof MongoError && !(error instanceof AutoReconnect), `an error reply, got ${error}`);
    await session.abortTransaction();
  });
});
