// The official Node driver (npm:mongodb, dev-only) runs its own retryable
// writes and transactions against the simulator: if it cannot, or the data
// ends up wrong, the simulator's sessions are wrong.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { eventually } from "./_client.ts";

type Doc = { _id: number; n?: number; name?: string };

function clientFor(hosts: readonly string[], name: string): MongoClient {
  return new MongoClient(
    `mongodb://${hosts.join(",")}/?replicaSet=${name}&serverSelectionTimeoutMS=10000&heartbeatFrequencyMS=500`,
  );
}

describe("official Node driver: retryable writes and transactions on the simulated replica set", () => {
  test("failCommand closes the connection once on an insert: the retry stores the document once", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "rw" });
    const client = clientFor(rs.hosts, "rw");
    try {
      await client.connect();
      const coll = client.db("test").collection("c");
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], closeConnection: true },
      });
      rs.clearLog();
      const r = await coll.insertOne({ _id: 1 as never, name: "Ada" });
      assert.equal(r.insertedId, 1);
      const inserts = rs.primary!.requests.filter((q) => q.command === "insert");
      assert.equal(inserts.length, 2, "the driver retried");
      assert.deepEqual(inserts[0].body.lsid, inserts[1].body.lsid);
      assert.equal(Number(inserts[0].body.txnNumber), Number(inserts[1].body.txnNumber), "with the same txnNumber");
      await rs.waitForReplication();
      for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 1, name: "Ada" }]);
    } finally {
      await client.close();
    }
  });

  test("onPrimaryTransactionalWrite loses the reply of an applied insertMany: the retry does not insert twice", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "rw" });
    const client = clientFor(rs.hosts, "rw");
    try {
      await client.connect();
      const coll = client.db("test").collection<Doc>("c");
      await client.db("admin").command({ configureFailPoint: "onPrimaryTransactionalWrite", mode: { times: 1 } });
      rs.clearLog();
      const r = await coll.insertMany([{ _id: 1 }, { _id: 2 }]);
      assert.equal(r.insertedCount, 2, "the retry reports both documents (a re-insert would be E11000)");
      assert.equal(rs.primary!.requests.filter((q) => q.command === "insert").length, 2, "the driver retried");
      assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1 }, { _id: 2 }]);
    } finally {
      await client.close();
    }
  });

  for (const how of ["kill", "stepDown"] as const) {
    test(`a write whose reply is lost to a ${how} is retried on the new primary: original result, applied once`, async () => {
      await using rs = await startReplicaSet({ members: 3, name: "rw", electionDelayMS: 100 });
      const primary = await rs.waitForPrimary();
      const [s1, s2] = rs.secondaries;
      const client = clientFor(rs.hosts, "rw");
      try {
        await client.connect();
        await client.db("test").command({ ping: 1 });
        // With one secondary down, w: 3 keeps the primary waiting after the
        // write applied and reached s1: the reply is pending when it goes.
        await rs.kill(s2);
        const coll = client.db("test").collection<Doc>("c", { writeConcern: { w: 3, wtimeoutMS: 20000 } });
        const pending = coll.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { upsert: true, returnDocument: "after" });
        await eventually(() => s1.documents("test.c").length === 1);
        if (how === "kill") {
          await rs.kill(primary);
          await rs.restart(s2);
          await rs.waitForPrimary();
          await rs.restart(primary); // w: 3 needs it back
        } else {
          rs.stepDown(primary, 30);
          await rs.restart(s2);
        }
        const result = await pending;
        assert.deepEqual(result, { _id: 1, n: 1 }, "the stored post-image, not a second $inc");
        const next = await rs.waitForPrimary();
        assert.notEqual(next.host, primary.host);
        const served = rs.members.filter((m) => m.requests.some((q) => q.command === "findAndModify")).map((m) => m.host);
        assert.ok(served.includes(next.host), `the retry reached the new primary ${next.host}; findAndModify went to ${served}`);
        await rs.waitForReplication();
        for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 1, n: 1 }], m.host);
      } finally {
        await client.close();
      }
    });
  }

  test("a transaction's writes are invisible until commit, then all visible on the secondaries", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "tx", replicationLagMS: 30 });
    const client = clientFor(rs.hosts, "tx");
    try {
      await client.connect();
      const coll = client.db("test").collection<Doc>("c");
      await coll.insertOne({ _id: 0, n: 0 });
      const session = client.startSession();
      try {
        session.startTransaction({ readConcern: { level: "snapshot" }, writeConcern: { w: "majority" } });
        await coll.insertOne({ _id: 1 }, { session });
        await coll.updateOne({ _id: 0 }, { $set: { n: 1 } }, { session });
        assert.equal(await coll.countDocuments({}, { session }), 2, "the transaction sees its own writes");
        assert.deepEqual(await coll.find({}).toArray(), [{ _id: 0, n: 0 }], "others do not");
        await session.commitTransaction();
      } finally {
        await session.endSession();
      }
      assert.deepEqual(await coll.find({}).toArray(), [{ _id: 0, n: 1 }, { _id: 1 }]);
      const secondary = rs.secondaries[0];
      await eventually(() => secondary.documents("test.c").length === 2);
      // The commit is one oplog entry: a secondary never holds part of it.
      assert.deepEqual(secondary.documents("test.c"), [{ _id: 0, n: 1 }, { _id: 1 }]);
      const fromSecondary = await coll.find({}, { readPreference: "secondary" }).toArray();
      assert.equal(fromSecondary.length, 2);
    } finally {
      await client.close();
    }
  });

  test("withTransaction commits through a TransientTransactionError and through a WriteConflict", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "tx" });
    const client = clientFor(rs.hosts, "tx");
    try {
      await client.connect();
      const coll = client.db("test").collection<Doc>("c");
      await coll.insertOne({ _id: 1, n: 0 });
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], errorCode: 251, errorLabels: ["TransientTransactionError"] },
      });
      let attempts = 0;
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          attempts++;
          await coll.insertOne({ _id: 2 }, { session });
          await coll.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session });
        });
        assert.equal(attempts, 2, "the first attempt met the transient error");
        assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1, n: 1 }, { _id: 2 }]);

        // A real WriteConflict: another transaction holds the document on the first attempt.
        const other = client.startSession();
        try {
          attempts = 0;
          await session.withTransaction(async () => {
            attempts++;
            if (attempts === 1) {
              other.startTransaction();
              await coll.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { session: other });
            } else if (other.inTransaction()) {
              await other.commitTransaction();
            }
            await coll.updateOne({ _id: 1 }, { $inc: { n: 100 } }, { session });
          });
        } finally {
          await other.endSession();
        }
        assert.equal(attempts, 2, "the WriteConflict made withTransaction retry");
        assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1, n: 111 });
      } finally {
        await session.endSession();
      }
    } finally {
      await client.close();
    }
  });

  test("a commit whose connection closes is retried and applies once", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "tx" });
    const client = clientFor(rs.hosts, "tx");
    try {
      await client.connect();
      const coll = client.db("test").collection<Doc>("c");
      await coll.insertOne({ _id: 0 });
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["commitTransaction"], closeConnection: true },
      });
      const session = client.startSession();
      try {
        session.startTransaction();
        await coll.insertOne({ _id: 1 }, { session });
        await session.commitTransaction();
      } finally {
        await session.endSession();
      }
      const commits = rs.primary!.requests.filter((q) => q.command === "commitTransaction");
      assert.equal(commits.length, 2, "the driver retried the commit");
      assert.deepEqual(await coll.find({}).toArray(), [{ _id: 0 }, { _id: 1 }]);
    } finally {
      await client.close();
    }
  });

  test("a snapshot session keeps reading the data as of its first read", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "tx" });
    const client = clientFor(rs.hosts, "tx");
    try {
      await client.connect();
      const coll = client.db("test").collection<Doc>("c", { writeConcern: { w: "majority" } });
      await coll.insertOne({ _id: 1, n: 11 });
      const session = client.startSession({ snapshot: true });
      try {
        assert.deepEqual(await coll.find({}, { session }).toArray(), [{ _id: 1, n: 11 }]);
        await coll.updateOne({ _id: 1 }, { $inc: { n: 1 } });
        assert.deepEqual(await coll.find({}, { session }).toArray(), [{ _id: 1, n: 11 }]);
        assert.deepEqual(await coll.distinct("n", {}, { session }), [11]);
      } finally {
        await session.endSession();
      }
      assert.deepEqual(await coll.find({}).toArray(), [{ _id: 1, n: 12 }]);
      const finds = rs.primary!.requests.filter((q) => q.command === "find" && q.body.readConcern !== undefined);
      assert.ok(finds.some((q) => (q.body.readConcern as Record<string, unknown>).atClusterTime !== undefined), "the driver sent atClusterTime");
    } finally {
      await client.close();
    }
  });
});
