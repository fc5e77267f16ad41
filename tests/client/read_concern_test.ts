// readConcern / readConcernLevel: sent on reads (find, aggregate, also with
// $out/$merge as read-write-concern.md says, countDocuments), never on
// getMore, writes or command();
// inherited client (URI readConcernLevel, or readConcern in code) -> database
// -> collection -> operation, `{}` meaning the server's default. Judged from
// what the simulated members (src/testing) received.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import type { RequestLogEntry } from "../../src/testing/mod.ts";
import { ConfigurationError, OptionTypeError } from "../../src/errors.ts";
import { checkReadConcern, Connection, ReplicaSetConnection } from "../../src/client/mod.ts";

const FAST = { serverSelectionTimeoutMS: 20_000, heartbeatFrequencyMS: 500, connectTimeoutMS: 5000 };

/** The readConcern of every request named `name`, as received. */
function sent(log: readonly RequestLogEntry[], name: string): unknown[] {
  return log.filter((r) => r.command === name).map((r) => r.body.readConcern);
}

describe("readConcern", () => {
  test("the URI's readConcernLevel goes on find, aggregate and countDocuments, not on getMore, writes or command()", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "rc" });
    await using c = await ReplicaSetConnection.connect(`${rs.uri}&readConcernLevel=majority`, FAST);
    assert.deepEqual(c.readConcern, { level: "majority" });
    const coll = c.db("t").collection("c");
    rs.clearLog();
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    await coll.updateOne({ _id: 1 }, { $set: { x: 1 } });
    await coll.deleteOne({ _id: 3 });
    assert.equal((await coll.find({}).batchSize(1).toArray()).length, 2);
    assert.equal((await coll.aggregate([{ $match: {} }]).toArray()).length, 2);
    assert.equal(await coll.countDocuments({}), 2);
    // An aggregate with $out takes a read concern too (read-write-concern.md; MongoDB 4.2+).
    assert.deepEqual(await coll.aggregate([{ $match: {} }, { $out: "copy" }]).toArray(), []);
    await c.db("t").command({ ping: 1 });
    const log = rs.requests(0);
    const majority = { level: "majority" };
    assert.deepEqual(sent(log, "find"), [majority]);
    assert.deepEqual(sent(log, "aggregate"), [majority, majority, majority], "with $out too");
    for (const name of ["getMore", "insert", "update", "delete", "ping"]) {
      const got = sent(log, name);
      assert.ok(got.length > 0, `${name} was sent`);
      assert.deepEqual(got, got.map(() => undefined), `no readConcern on ${name}`);
    }
  });

  test("inherited client -> database -> collection -> operation; {} is the server's default and sends nothing", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "rci" });
    // The code option wins over the URI's level.
    await using c = await ReplicaSetConnection.connect(`${rs.uri}&readConcernLevel=majority`, {
      ...FAST,
      readConcern: { level: "local" },
    });
    const db = c.db("t", { readConcern: { level: "available" } });
    const coll = db.collection("c", { readConcern: { level: "majority" } });
    const reads = async (run: () => Promise<unknown>) => {
      rs.clearLog();
      await run();
      return sent(rs.requests(0), "find");
    };
    assert.deepEqual(c.readConcern, { level: "local" });
    assert.deepEqual(await reads(() => c.db("t").collection("c").findOne({})), [{ level: "local" }]);
    assert.deepEqual(db.readConcern, { level: "available" });
    assert.deepEqual(await reads(() => db.collection("c").findOne({})), [{ level: "available" }]);
    assert.deepEqual(coll.readConcern, { level: "majority" });
    assert.deepEqual(await reads(() => coll.findOne({})), [{ level: "majority" }]);
    assert.deepEqual(await reads(() => coll.findOne({}, { readConcern: { level: "local" } })), [{ level: "local" }]);
    assert.deepEqual(await reads(() => coll.findOne({}, { readConcern: {} })), [undefined]);
    rs.clearLog();
    await coll.countDocuments({}, { readConcern: { level: "local" } });
    assert.deepEqual(sent(rs.requests(0), "aggregate"), [{ level: "local" }]);
    // Without any, nothing is sent.
    await using plain = await ReplicaSetConnection.connect(rs.uri, FAST);
    assert.deepEqual(plain.readConcern, {});
    assert.deepEqual(await reads(() => plain.db("t").collection("c").findOne({})), [undefined]);
  });

  test("bad read concerns are ConfigurationErrors (OptionTypeErrors for a wrong type); a level on a server older than 3.2 is refused, not dropped", async () => {
    assert.throws(() => checkReadConcern({ level: 1 }), OptionTypeError);
    assert.throws(() => checkReadConcern({ level: 1 }), /readConcern.level must be a non-empty string/);
    assert.throws(() => checkReadConcern({ levle: "majority" }), ConfigurationError);
    assert.throws(() => checkReadConcern({ levle: "majority" }), /unknown field "levle"/);
    assert.throws(() => checkReadConcern("majority"), OptionTypeError);
    assert.deepEqual(checkReadConcern({ level: "someFutureLevel" }), { level: "someFutureLevel" });
    assert.throws(
      () => new ReplicaSetConnection("a", { replicaSet: "foo", readConcern: { level: "" } }),
      ConfigurationError,
    );

    await using rs = await startReplicaSet({ members: 1, name: "old", maxWireVersion: 3 });
    await using c = new Connection(rs.hosts[0], undefined, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: 1 });
    await assert.rejects(coll.findOne({}, { readConcern: { level: "majority" } }), /needs MongoDB 3.2 or later/);
    assert.equal((await coll.findOne({}))?._id, 1, "the legacy OP_QUERY find still works without one");
    assert.equal(rs.requests(0).filter((r) => r.opName === "OP_QUERY" && r.command === "find").length, 1);
  });
});
