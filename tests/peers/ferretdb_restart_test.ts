// FerretDB v1.24.2 killed (SIGKILL) under the driver and started again on the
// same port and data (tests/helpers/ferretdb.ts): a cursor whose server died
// fails with AutoReconnect, operations while it is down fail with
// ServerSelectionError, and once it is back the next operation works on the
// data SQLite kept. Each test has its own instance, since it kills it.
//
// Without the binary every test skips with the reason; under CI=true they fail.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ferretdbSkipReason, startFerretDB } from "../helpers/ferretdb.ts";
import { AutoReconnect, ReplicaSetConnection, ServerSelectionError } from "../../mod.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const skip = ferretdbSkipReason("FerretDB restart tests (tests/peers/ferretdb_restart_test.ts)");

const FAST = { serverSelectionTimeoutMS: 10_000, connectTimeoutMS: 5000, heartbeatFrequencyMS: 500 };

/** Polls `cond` every 25 ms, at most `polls` times; fails the test with `what` if it never holds. */
async function until(cond: () => boolean, what: string, polls = 800): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`never happened: ${what}`);
}

describe("FerretDB 1.24.2 killed and restarted", () => {
  test("killed mid-cursor: the getMore fails with AutoReconnect; after the restart the next operation works", { skip }, async () => {
    await using f = await startFerretDB();
    await using c = await ReplicaSetConnection.connect(`mongodb://${f.address}/?replicaSet=rs0`, {
      ...FAST,
      serverSelectionTimeoutMS: 3000,
    });
    const coll = c.db("restart").collection("c");
    await coll.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i })));

    const cursor = coll.find({}).sort({ _id: 1 }).batchSize(5);
    const got: unknown[] = [];
    for (let i = 0; i < 5; i++) got.push((await cursor.next())?._id);
    assert.deepEqual(got, [0, 1, 2, 3, 4], "the first batch, from the buffer");
    assert.notEqual(cursor.id, 0n);

    await f.stop();
    assert.equal(f.running, false);
    const e = await rejectsWith(cursor.next(), AutoReconnect);
    assert.equal(e.address, f.address, "the error names the server");
    assert.equal(cursor.closed, true, "the cursor is closed after its server died");

    // While it is down: the read fails (no server to select, or the retry met the dead one).
    const down = await coll.findOne({}).then(() => null, (err) => err);
    assert.ok(down instanceof ServerSelectionError || down instanceof AutoReconnect, `while down: ${String(down)}`);
    await until(() => c.primary === null, "the driver sees no primary");

    await f.restart();
    assert.equal(f.running, true);
    await until(() => c.primary !== null, "the primary is back");
    assert.deepEqual(c.primary, [f.host, f.port], "same port after the restart");
    assert.deepEqual(c.hosts, [f.address]);
    assert.equal(await coll.countDocuments({}), 30, "SQLite kept the data");
    await coll.insertOne({ _id: 30 });
    assert.deepEqual(
      (await coll.find({ _id: { $gte: 28 } }).sort({ _id: 1 }).toArray()).map((d) => d._id),
      [28, 29, 30],
    );
  });

  test("killed and restarted between operations: the next read works (pooled connections were stale)", { skip }, async () => {
    await using f = await startFerretDB();
    await using c = await ReplicaSetConnection.connect(`mongodb://${f.address}/?replicaSet=rs0`, FAST);
    const coll = c.db("restart").collection("d");
    await coll.insertOne({ _id: 1, v: "kept" });
    await f.restart();
    // A read is retried once on a fresh connection after a network error: it succeeds.
    assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1, v: "kept" });
    // A write is never retried: if its pooled connection was stale it failed with AutoReconnect, so
    // try again once; the one after must work.
    await f.restart();
    const first = await coll.insertOne({ _id: 2 }).then(() => "ok", (e) => e);
    if (first !== "ok") assert.ok(first instanceof AutoReconnect, `a write on a stale connection: ${String(first)}`);
    await coll.insertOne({ _id: 3 });
    assert.deepEqual(await coll.findOne({ _id: 3 }), { _id: 3 });
  });
});
