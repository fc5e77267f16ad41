// The simulated sharded cluster (src/testing/sharded_cluster.ts, mongos.ts):
// mongos hello, routing to the shard, per-mongos fail points and cursors,
// transactions and their recoveryToken, and our driver through two mongoses.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Binary, Int64 } from "../../src/bson/mod.ts";
import { Connection } from "../../src/client/mod.ts";
import { startShardedCluster } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

type Doc = Record<string, unknown>;

function newLsid(): Doc {
  return { id: new Binary(crypto.getRandomValues(new Uint8Array(16)), 4) };
}

function txn(lsid: Doc, txnNumber: number, first = false): Doc {
  return { lsid, txnNumber: new Int64(BigInt(txnNumber)), autocommit: false, ...(first ? { startTransaction: true } : {}) };
}

describe("simulated sharded cluster", () => {
  test("each mongos answers hello as mongos: isdbgrid, no setName, its version's maxWireVersion", async () => {
    await using cluster = await startShardedCluster({ mongoses: 2, maxWireVersion: 17, shard: { members: 1 } });
    assert.equal(cluster.uri, `mongodb://${cluster.hosts.join(",")}/`);
    for (const host of cluster.hosts) {
      await withClient(host, async (c) => {
        const hello = await c.command("admin", { hello: 1 });
        assert.equal(hello.msg, "isdbgrid");
        assert.equal(hello.isWritablePrimary, true);
        assert.equal(hello.setName, undefined);
        assert.equal(hello.hosts, undefined);
        assert.equal(hello.logicalSessionTimeoutMinutes, 30);
        assert.equal(hello.maxWireVersion, 17);
        const info = await c.command("admin", { buildInfo: 1 });
        assert.equal(info.version, "6.0.0");
        const status = await c.command("admin", { serverStatus: 1 });
        assert.equal(status.process, "mongos");
      });
    }
  });

  test("bad options are refused with a ConfigurationError", async () => {
    await assert.rejects(startShardedCluster({ mongoses: 0 }), /mongoses must be an integer in \[1, 10\]/);
    await assert.rejects(startShardedCluster({ shard: { maxWireVersion: 5 } }), /\[6, 27\]/);
    await assert.rejects(
      startShardedCluster({ users: [{ user: "a", password: "b" }], shard: { users: [{ user: "a", password: "b" }] } }),
      /users once/,
    );
  });

  test("writes go to the shard's primary, reads by their $readPreference; the mongos logs what it received", async () => {
    await using cluster = await startShardedCluster({ mongoses: 1 });
    const primary = await cluster.shard.waitForPrimary();
    await withClient(cluster.hosts[0], async (c) => {
      const w = await c.command("test", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: 3 } });
      assert.equal(w.ok, 1, String(w.errmsg));
      assert.ok(cluster.shard.requests(primary).some((r) => r.command === "insert"));
      const r = await c.command("test", { find: "c", filter: {} }, { readPreference: { mode: "secondary" } });
      assert.deepEqual((r.cursor as Doc).firstBatch, [{ _id: 1 }]);
      const onSecondary = cluster.shard.secondaries.filter((s) => cluster.shard.requests(s).some((q) => q.command === "find"));
      assert.equal(onSecondary.length, 1, "the secondary read reached one secondary");
      assert.ok(!cluster.shard.requests(primary).some((q) => q.command === "find"));
    });
    assert.deepEqual(cluster.requests(0).filter((r) => r.command !== "hello").map((r) => r.command), ["insert", "find"]);
  });

  test("a fail point set on one mongos fails only the commands through it", async () => {
    await using cluster = await startShardedCluster({ mongoses: 2 });
    await withClient(cluster.hosts[0], async (a) => {
      await withClient(cluster.hosts[1], async (b) => {
        const set = await a.command("admin", {
          configureFailPoint: "failCommand",
          mode: { times: 1 },
          data: { failCommands: ["insert"], errorCode: 91 },
        });
        assert.equal(set.ok, 1);
        const viaB = await b.command("test", { insert: "c", documents: [{ _id: 1 }] });
        assert.equal(viaB.ok, 1);
        const viaA = await a.command("test", { insert: "c", documents: [{ _id: 2 }], lsid: newLsid(), txnNumber: new Int64(1n) });
        assert.equal(viaA.ok, 0);
        assert.equal(viaA.code, 91);
        assert.deepEqual(viaA.errorLabels, ["RetryableWriteError"]);
        const again = await a.command("test", { insert: "c", documents: [{ _id: 2 }] });
        assert.equal(again.ok, 1, "times: 1 is spent");
      });
    });
  });

  test("cursor ids belong to the mongos that opened them", async () => {
    await using cluster = await startShardedCluster({ mongoses: 2 });
    await withClient(cluster.hosts[0], async (a) => {
      await withClient(cluster.hosts[1], async (b) => {
        await a.command("test", { insert: "c", documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] });
        const first = await a.command("test", { find: "c", batchSize: 1 });
        const id = (first.cursor as Doc).id as Int64;
        const elsewhere = await b.command("test", { getMore: id, collection: "c" });
        assert.equal(elsewhere.ok, 0);
        assert.equal(elsewhere.code, 43, "CursorNotFound on another mongos");
        const more = await a.command("test", { getMore: id, collection: "c" });
        assert.deepEqual((more.cursor as Doc).nextBatch, [{ _id: 2 }, { _id: 3 }]);
        const killed = await a.command("test", { killCursors: "c", cursors: [id] });
        assert.deepEqual(killed.cursorsNotFound, [id], "an exhausted cursor is gone");
      });
    });
  });

  test("a transaction: recoveryToken on each reply; a commit elsewhere needs it; a retried commit recovers through another mongos", async () => {
    await using cluster = await startShardedCluster({ mongoses: 2 });
    await withClient(cluster.hosts[0], async (a) => {
      await withClient(cluster.hosts[1], async (b) => {
        const lsid = newLsid();
        const ins = await a.command("test", { insert: "c", documents: [{ _id: 1 }], ...txn(lsid, 1, true) });
        assert.equal(ins.ok, 1, String(ins.errmsg));
        const token = ins.recoveryToken as Doc;
        assert.deepEqual(token, { recoveryShardId: "shard0" });
        const stranger = await b.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
        assert.equal(stranger.code, 251, "a mongos that never saw it and has no token: NoSuchTransaction");
        assert.deepEqual(stranger.errorLabels, ["TransientTransactionError"]);
        const early = await b.command("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token });
        assert.equal(early.code, 251, "recovery does not commit a transaction nobody began committing");
        const commit = await a.command("admin", { commitTransaction: 1, ...txn(lsid, 1) });
        assert.equal(commit.ok, 1, String(commit.errmsg));
        const retried = await b.command("admin", { commitTransaction: 1, ...txn(lsid, 1), recoveryToken: token });
        assert.equal(retried.ok, 1, `the other mongos recovers the commit: ${String(retried.errmsg)}`);
        const found = await b.command("test", { find: "c" });
        assert.deepEqual((found.cursor as Doc).firstBatch, [{ _id: 1 }]);
      });
    });
  });

  test("our driver reads and writes through two mongoses, and survives a mongos kill", async () => {
    await using cluster = await startShardedCluster({
      mongoses: 2,
      users: [{ user: "ada", password: "pencil" }],
      shard: { scramIterations: 4096 },
    });
    const client = await Connection.connect(cluster.uri.replace("mongodb://", "mongodb://ada:pencil@"), {
      serverSelectionTimeoutMS: 5000,
      heartbeatFrequencyMS: 500,
    });
    try {
      const coll = client.db("test").collection("c");
      await coll.insertMany([{ _id: 1 }, { _id: 2 }]);
      assert.equal((await coll.find({}).toArray()).length, 2);
      await cluster.kill(0);
      await coll.insertOne({ _id: 3 });
      assert.deepEqual((await coll.find({}).toArray()).map((d) => d._id), [1, 2, 3]);
      assert.ok(cluster.requests(1).some((r) => r.command === "insert"), "the second mongos took the writes");
      await cluster.restart(0);
      assert.equal(cluster.mongos(0).alive, true);
    } finally {
      await client.close();
    }
  });
});
