// The official Node driver (npm:mongodb, dev-only) against the simulator: if
// it rejects something the simulator says, the simulator is wrong.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MongoClient, ReadPreference } from "mongodb";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { sleep } from "./_client.ts";

describe("official Node driver (mongodb 7.9) against the simulated replica set", () => {
  test("discovers from one secondary seed, routes reads and writes, survives the primary's death", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo", electionDelayMS: 300 });
    const seed = rs.secondaries[0];
    assert.ok(seed !== undefined);
    const client = new MongoClient(
      `mongodb://${seed.host}/?replicaSet=foo&serverSelectionTimeoutMS=10000&heartbeatFrequencyMS=500`,
    );
    try {
      await client.connect();
      const coll = client.db("test").collection("people");

      // Discovery: the driver learns every member from the one seed.
      const hello = await client.db("admin").command({ hello: 1 });
      assert.deepEqual([...hello.hosts].sort(), [...rs.hosts].sort());

      const oldPrimary = rs.primary!;
      const ins = await coll.insertOne({ name: "Ada" });
      assert.equal(ins.acknowledged, true);
      assert.ok(rs.requests(oldPrimary).some((r) => r.command === "insert"), "the insert went to the primary");
      assert.deepEqual((await coll.find({}).toArray()).map((d) => d.name), ["Ada"]);

      rs.clearLog();
      const fromSecondary = await coll.find({ name: "Ada" }, { readPreference: "secondary" }).toArray();
      assert.equal(fromSecondary.length, 1);
      const servedBy = rs.members.filter((m) => m.requests.some((r) => r.command === "find"));
      assert.equal(servedBy.length, 1);
      assert.equal(servedBy[0].state, "SECONDARY", "a secondary served the secondary read");
      const find = servedBy[0].requests.find((r) => r.command === "find")!;
      assert.deepEqual(find.readPreference, { mode: "secondary" });

      await coll.updateOne({ name: "Ada" }, { $set: { year: 1843 } });
      assert.equal((await coll.findOne({ name: "Ada" }))?.year, 1843);
      assert.equal(await coll.countDocuments({ year: { $gt: 1800 } }), 1);

      await rs.kill(oldPrimary);
      const newPrimary = await rs.waitForPrimary();
      assert.notEqual(newPrimary.host, oldPrimary.host);
      // The first operations may still meet the dead primary (the driver only
      // learns of the election from its monitors), so retry a bounded number of times.
      let inserted = false;
      for (let attempt = 0; attempt < 40 && !inserted; attempt++) {
        try {
          await coll.insertOne({ name: "Grace" });
          inserted = true;
        } catch {
          await sleep(100);
        }
      }
      assert.ok(inserted, "an insert reached the new primary");
      assert.ok(rs.requests(newPrimary).some((r) => r.command === "insert"));
      assert.deepEqual((await coll.find({}).sort({ name: 1 }).toArray()).map((d) => d.name), ["Ada", "Grace"]);
    } finally {
      await client.close();
    }
  });

  test("tag sets pick the tagged secondary; stepDown moves writes to the new primary", async () => {
    await using rs = await startReplicaSet({
      members: [{ tags: { dc: "ny" } }, { tags: { dc: "ny" } }, { tags: { dc: "sf" } }],
      electionDelayMS: 200,
    });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=10000&heartbeatFrequencyMS=500`);
    try {
      await client.connect();
      const coll = client.db("t").collection<{ _id: number }>("c");
      await coll.insertOne({ _id: 1 });
      rs.clearLog();
      const rp = new ReadPreference("secondary", [{ dc: "sf" }]);
      assert.deepEqual(await coll.find({}, { readPreference: rp }).toArray(), [{ _id: 1 }]);
      const served = rs.members.filter((m) => m.requests.some((r) => r.command === "find"));
      assert.deepEqual(served.map((m) => m.index), [2]);
      assert.deepEqual(served[0].requests.find((r) => r.command === "find")!.readPreference, {
        mode: "secondary",
        tags: [{ dc: "sf" }],
      });

      const admin = client.db("admin");
      await admin.command({ replSetStepDown: 30 });
      const next = await rs.waitForPrimary();
      assert.notEqual(next.index, 0);
      let done = false;
      for (let attempt = 0; attempt < 40 && !done; attempt++) {
        try {
          await coll.insertOne({ _id: 2 + attempt });
          done = true;
        } catch {
          await sleep(100);
        }
      }
      assert.ok(done);
      assert.ok(rs.requests(next).some((r) => r.command === "insert"));
    } finally {
      await client.close();
    }
  });

  test("the oldest server it supports (wire 9, MongoDB 4.4) with polling monitors", async () => {
    await using rs = await startReplicaSet({ members: 2, maxWireVersion: 9 });
    const client = new MongoClient(`${rs.uri}&serverSelectionTimeoutMS=3000&serverMonitoringMode=poll`);
    try {
      await client.connect();
      const coll = client.db("t").collection<{ _id: number }>("c");
      await coll.insertMany([{ _id: 1 }, { _id: 2 }]);
      assert.deepEqual(await coll.find({ _id: { $gt: 1 } }).toArray(), [{ _id: 2 }]);
    } finally {
      await client.close();
    }
  });
});
