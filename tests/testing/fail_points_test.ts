// configureFailPoint / failCommand on the simulated set, driven by the
// official Node driver (npm:mongodb, dev-only): what it reports is what a
// driver sees from mongod.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MongoClient, MongoServerError } from "mongodb";
import { startReplicaSet } from "../../src/testing/mod.ts";

async function withClient(
  uri: string,
  fn: (client: MongoClient) => Promise<void>,
): Promise<void> {
  const client = new MongoClient(`${uri}&serverSelectionTimeoutMS=5000&retryWrites=false&retryReads=false`);
  try {
    await client.connect();
    await fn(client);
  } finally {
    await client.close();
  }
}

describe("configureFailPoint failCommand", () => {
  test("times: the next insert fails with the configured code and labels, then inserts work", async () => {
    await using rs = await startReplicaSet({ members: 2 });
    await withClient(rs.uri, async (client) => {
      const admin = client.db("admin");
      const reply = await admin.command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], errorCode: 91, errorLabels: ["Custom"] },
      });
      assert.equal(reply.ok, 1);
      const coll = client.db("t").collection("c");
      const err = await coll.insertOne({ _id: 1 } as never).catch((e) => e);
      assert.ok(err instanceof MongoServerError, String(err));
      assert.equal(err.code, 91);
      assert.equal(err.codeName, "ShutdownInProgress");
      assert.equal(err.errmsg, "Failing command via 'failCommand' failpoint");
      assert.ok(err.hasErrorLabel("Custom"));
      assert.equal(rs.primary!.documents("t.c").length, 0, "the failed insert wrote nothing");
      await coll.insertOne({ _id: 2 } as never);
      assert.equal(rs.primary!.documents("t.c").length, 1);
    });
  });

  test("skip, alwaysOn and off; only the listed commands; count reports firings", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.uri, async (client) => {
      const admin = client.db("admin");
      const coll = client.db("t").collection("c");
      await admin.command({
        configureFailPoint: "failCommand",
        mode: { skip: 2 },
        data: { failCommands: ["find"], errorCode: 2 },
      });
      await coll.insertOne({ a: 1 });
      await coll.findOne({});
      await coll.findOne({});
      await assert.rejects(coll.findOne({}), (e: MongoServerError) => e.code === 2);
      await assert.rejects(coll.findOne({}), (e: MongoServerError) => e.code === 2);
      const off = await admin.command({ configureFailPoint: "failCommand", mode: "off" });
      assert.equal(off.count, 2);
      assert.deepEqual((await coll.findOne({}, { projection: { _id: 0 } })), { a: 1 });

      await admin.command({
        configureFailPoint: "failCommand",
        mode: "alwaysOn",
        data: { failCommands: ["delete"], errorCode: 11602 },
      });
      for (let i = 0; i < 3; i++) await assert.rejects(coll.deleteOne({}), (e: MongoServerError) => e.code === 11602);
      await admin.command({ configureFailPoint: "failCommand", mode: "off" });
      assert.equal((await coll.deleteOne({})).deletedCount, 1);
    });
  });

  test("closeConnection closes the connection without a reply; appName limits it to one client", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.uri, async (client) => {
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], closeConnection: true, appName: "victim" },
      });
      // Another application's insert is untouched.
      await client.db("t").collection("c").insertOne({ _id: "other" } as never);
      await withClient(`${rs.uri}&appName=victim`, async (victim) => {
        const err = await victim.db("t").collection("c").insertOne({ _id: "v" } as never).catch((e) => e);
        assert.equal(err?.name, "MongoNetworkError", String(err));
        // Fired once: the next one goes through.
        await victim.db("t").collection("c").insertOne({ _id: "v2" } as never);
      });
      assert.deepEqual(rs.primary!.documents("t.c").map((d) => d._id), ["other", "v2"]);
    });
  });

  test("blockConnection delays; writeConcernError runs the write and reports the error", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.uri, async (client) => {
      const admin = client.db("admin");
      await admin.command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["ping"], blockConnection: true, blockTimeMS: 300 },
      });
      const started = Date.now();
      await admin.command({ ping: 1 });
      const took = Date.now() - started;
      assert.ok(took >= 250, `ping was held ${took} ms`);

      await admin.command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: {
          failCommands: ["insert"],
          writeConcernError: { code: 100, codeName: "UnsatisfiableWriteConcern", errmsg: "Not enough data-bearing nodes" },
        },
      });
      const err = await client.db("t").collection("c").insertOne({ _id: 1 } as never).catch((e) => e);
      assert.equal(err?.name, "MongoWriteConcernError", String(err));
      assert.equal(err.code, 100);
      assert.equal(err.result?.n, 1);
      assert.equal(rs.primary!.documents("t.c").length, 1, "the write happened");
    });
  });

  test("per member, admin only, and an unknown fail point is refused", async () => {
    await using rs = await startReplicaSet({ members: 2 });
    await withClient(rs.uri, async (client) => {
      await assert.rejects(
        client.db("t").command({ configureFailPoint: "failCommand", mode: "off" }),
        (e: MongoServerError) => e.code === 13,
      );
      await assert.rejects(
        client.db("admin").command({ configureFailPoint: "noSuchPoint", mode: "alwaysOn" }),
        (e: MongoServerError) => e.code === 2 && /noSuchPoint not found/.test(e.message),
      );
      // Set on the primary only: a find on the secondary is not affected.
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: "alwaysOn",
        data: { failCommands: ["find"], errorCode: 8 },
      });
      await client.db("t").collection("c").insertOne({ _id: 1 } as never, { writeConcern: { w: 2 } });
      assert.deepEqual(await client.db("t").collection("c").find({}, { readPreference: "secondary" }).toArray(), [{
        _id: 1,
      }]);
      await assert.rejects(client.db("t").collection("c").findOne({}), (e: MongoServerError) => e.code === 8);
    });
  });

  test("a retryable write's retryable code gets RetryableWriteError, and the driver retries it", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=5000`);
    try {
      await client.connect();
      await client.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["insert"], errorCode: 189 },
      });
      await client.db("t").collection("c").insertOne({ _id: 1 } as never);
      const inserts = rs.requests(0).filter((r) => r.command === "insert");
      assert.equal(inserts.length, 2, "the driver retried once");
      assert.equal(rs.primary!.documents("t.c").length, 1);
    } finally {
      await client.close();
    }
  });

  test("authentication commands are subject to it too (saslContinue)", async () => {
    await using rs = await startReplicaSet({ members: 1, users: [{ user: "ada", password: "pencil" }], scramIterations: 4096 });
    const uri = `mongodb://ada:pencil@${rs.hosts[0]}/?replicaSet=${rs.name}&serverSelectionTimeoutMS=3000`;
    const admin = new MongoClient(uri);
    try {
      await admin.connect();
      await admin.db("admin").command({
        configureFailPoint: "failCommand",
        mode: { times: 1 },
        data: { failCommands: ["saslContinue"], errorCode: 18, appName: "victim" },
      });
      const victim = new MongoClient(`${uri}&appName=victim`);
      try {
        const err = await victim.connect().then(() => victim.db("t").command({ ping: 1 })).catch((e) => e);
        assert.ok(err instanceof Error, "the victim's authentication failed");
        assert.match(String(err.message ?? err), /Failing command via 'failCommand' failpoint|Authentication failed/);
      } finally {
        await victim.close();
      }
      const count = await admin.db("admin").command({ configureFailPoint: "failCommand", mode: "off" });
      assert.equal(count.count, 1);
    } finally {
      await admin.close();
    }
  });
});
