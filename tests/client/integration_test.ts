// The client over real sockets and the real Topology, against the simulated
// replica set (src/testing): the guide's walkthrough (direct connection,
// replSetInitiate, discovery, CRUD, failover, read routing), and the same
// CRUD path on a legacy (wire 3) set that needs OP_QUERY finds.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import { AutoReconnect, MongoError, OperationFailure, WriteError } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { Connection, ReplicaSetConnection } from "../../src/client/mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

async function crud(coll: ReturnType<ReturnType<ReplicaSetConnection["db"]>["collection"]>): Promise<void> {
  const doc = { x: 1 };
  const { insertedId } = await coll.insertOne(doc);
  assert.equal("_id" in doc, false);
  const found = await coll.findOne({ x: 1 });
  assert.deepEqual(found, { _id: insertedId, x: 1 });
  const many = await coll.insertMany(Array.from({ length: 25 }, (_, i) => ({ i, even: i % 2 === 0 })));
  assert.equal(many.insertedCount, 25);
  assert.equal(await coll.countDocuments({ even: true }), 13);
  const page = await coll.find({ i: { $gte: 0 } }).sort({ i: -1 }).skip(2).limit(7).batchSize(3).toArray();
  assert.deepEqual(page.map((d) => d.i), [22, 21, 20, 19, 18, 17, 16]);
  // A loop left early kills its cursor; the next query still works.
  let seen = 0;
  for await (const _ of coll.find({}).batchSize(2)) if (++seen === 3) break;
  assert.equal(seen, 3);
  const u = await coll.updateMany({ even: true }, { $set: { tag: "e" } });
  assert.equal(u.matchedCount, 13);
  assert.equal(u.modifiedCount, 13);
  const r = await coll.replaceOne({ i: 1 }, { i: 1, replaced: true });
  assert.equal(r.matchedCount, 1);
  assert.deepEqual(await coll.findOne({ i: 1 }, { projection: { _id: 0 } }), { i: 1, replaced: true });
  const up = await coll.updateOne({ i: 100 }, { $set: { i: 100 } }, { upsert: true });
  assert.equal(up.upsertedCount, 1);
  assert.equal((await coll.deleteOne({ i: 100 })).deletedCount, 1);
  // i: 1 was replaced by a document without `even`.
  assert.equal((await coll.deleteMany({ even: false })).deletedCount, 11);
  assert.equal(await coll.countDocuments(), 15);
  await assert.rejects(coll.insertOne({ _id: insertedId }), (e: unknown) => {
    assert.ok(e instanceof WriteError, String(e));
    assert.equal(e.code, 11000);
    return true;
  });
}

describe("the guide, against the simulated replica set", () => {
  test("initiate through a direct connection, discover, CRUD, fail over, route reads", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo", initiated: false, electionDelayMS: 300 });
    const [h0] = rs.hosts;
    const [host, port] = [h0.slice(0, h0.lastIndexOf(":")), Number(h0.slice(h0.lastIndexOf(":") + 1))];
    {
      await using direct = new Connection(host, port, { slaveOk: true, ...FAST });
      const config = { _id: "foo", members: rs.hosts.map((h, i) => ({ _id: i, host: h })) };
      const reply = await direct.admin.command("replSetInitiate", config);
      assert.equal(reply.ok, 1);
      assert.equal(direct.host, host);
      assert.equal(direct.port, port);
    }
    await rs.waitForPrimary();

    // Every seed form finds the whole set.
    const forms: ConstructorParameters<typeof ReplicaSetConnection>[0][] = [h0, [host, port], [h0], rs.uri];
    for (const seeds of forms) {
      await using c = await ReplicaSetConnection.connect(seeds, { replicaSet: "foo", ...FAST });
      assert.deepEqual([...c.hosts].sort(), [...rs.hosts].sort(), String(seeds));
      assert.match(
        String(c),
        /^ReplicaSetConnection\(\['127\.0\.0\.1:\d+', '127\.0\.0\.1:\d+', '127\.0\.0\.1:\d+'\]\)$/,
      );
    }

    // The guide's failover, as PyMongo 2.1 showed it: polling monitors, so the operation right after the kill
    // meets the dead primary. (A streaming monitor may learn of the kill first; the operation then waits for the
    // new primary instead of failing.)
    await using c = await ReplicaSetConnection.connect(h0, {
      replicaSet: "foo",
      retryReads: false,
      ...FAST,
      serverMonitoringMode: "poll",
    });
    const coll = c.db("test").collection("test");
    await crud(coll);
    assert.deepEqual((await c.listDatabases()).some((d) => d.name === "test"), true);
    assert.deepEqual((await c.db("test").listCollections()).map((i) => i.name), ["test"]);

    const primary = rs.primary!;
    assert.deepEqual([c.host, c.port], [host, primary.port]);
    assert.equal(c.secondaries.length, 2);

    // Kill the primary: the next operation sees AutoReconnect, later ones the new primary.
    await rs.kill(primary.host);
    await assert.rejects(coll.findOne({ x: 1 }), (e: unknown) => {
      assert.ok(e instanceof AutoReconnect, `expected AutoReconnect, got ${e}`);
      return true;
    });
    const next = await rs.waitForPrimary({ not: primary.host });
    // The client learns of the election from its monitors (at once on Deno; on
    // Bun the old primary's monitor may wait out connectTimeoutMS first).
    for (let i = 0; i < 200 && c.port !== next.port; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual((await coll.findOne({ x: 1 }))?.x, 1);
    assert.equal(c.port, next.port);

    // SECONDARY_ONLY reads are served by the remaining secondary, never the primary.
    for (const m of rs.members) (m as unknown as { clearLog?: () => void }).clearLog?.();
    const before = new Map(rs.members.map((m) => [m.host, m.requests.length]));
    const reads = c.db("test").collection("test", { readPreference: ReadPreference.SECONDARY_ONLY });
    for (let i = 0; i < 10; i++) await reads.findOne({ x: 1 });
    const finds = (host: string) =>
      rs.members.find((m) => m.host === host)!.requests.slice(before.get(host)).filter((r) => r.command === "find")
        .length;
    assert.equal(finds(next.host), 0, "SECONDARY_ONLY never reads the primary");
    assert.equal(rs.members.reduce((n, m) => n + (m.host === next.host ? 0 : finds(m.host)), 0), 10);

    await assert.rejects(c.admin.command("nope"), OperationFailure);
    await c.close();
    await assert.rejects(coll.findOne(), MongoError);
  });

  test("the same CRUD on a legacy set (wire 3: OP_QUERY finds, OP_GET_MORE, OP_KILL_CURSORS)", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "old", maxWireVersion: 3 });
    await rs.waitForPrimary();
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    await crud(c.db("legacy").collection("things"));
    const primary = rs.primary!;
    assert.ok(primary.requests.some((r) => r.opName === "OP_GET_MORE"), "getMore went as OP_GET_MORE");
  });

  test("close() during in-flight operations rejects them; a hung member does not stall reads elsewhere", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "hang" });
    const primary = await rs.waitForPrimary();
    const c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertOne({ a: 1 });
    await rs.waitForReplication();
    // The primary stops answering finds: primary reads hang, secondary reads do not.
    rs.fault(primary.host, { hang: true, commands: ["find"] });
    const hung = coll.findOne({});
    const elsewhere = c.db("t").collection("c", { readPreference: ReadPreference.SECONDARY_ONLY });
    for (let i = 0; i < 5; i++) assert.deepEqual((await elsewhere.findOne({}))?.a, 1);
    const inFlight = [hung, coll.findOne({}), coll.insertOne({ a: 2 }).then(() => "written")];
    // Observed before close(): the in-flight operations may reject while close() runs.
    const settling = Promise.allSettled(inFlight);
    await c.close();
    const settled = await settling;
    assert.equal(settled[0].status, "rejected");
    assert.ok((settled[0] as PromiseRejectedResult).reason instanceof MongoError);
    assert.equal(settled[1].status, "rejected");
    for (const s of settled) {
      if (s.status === "rejected") assert.ok(s.reason instanceof MongoError, String(s.reason));
    }
    rs.clearFaults();
  });
});
