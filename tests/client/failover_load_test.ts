// Failover under load (issue 12, item 7) as a test: 4 writer loops across 2
// primary kills on a simulated 5-member set (tests/helpers/failover_load.ts, the
// scenario `npm run bench:failover` times). Asserts counts, never durations.
// With the defaults (retryWrites on): no error reaches a writer and every
// write is stored exactly once. With retryWrites=false: nothing acknowledged
// is lost or stored twice, and every error that reaches a writer is
// AutoReconnect.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { AutoReconnect } from "../../src/errors.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { type LoadClient, runFailoverLoad, summarize } from "../helpers/failover_load.ts";
import { guard } from "../helpers/guard.ts";

const WRITERS = 4;
const WRITES = 30;
const FAILOVERS = 2;

/** Our client; `retryWrites` undefined leaves the default. */
async function client(uri: string, retryWrites: boolean | undefined): Promise<LoadClient> {
  const options = retryWrites === undefined ? {} : { retryWrites };
  const c = await ReplicaSetConnection.connect(uri, { ...options, serverSelectionTimeoutMS: 20_000 });
  const coll = c.db("t").collection("failover");
  return {
    insert: async (doc) => void (await coll.insertOne({ ...doc })),
    storedKeys: async () => (await coll.find({}, { projection: { _id: 0, k: 1 } }).toArray()).map((d) => String(d.k)),
    close: () => c.close(),
  };
}

describe("failover under load (4 writers, 2 primary kills)", () => {
  test("defaults (retryWrites on): no error reaches a writer; every write is stored exactly once", async () => {
    await using rs = await startReplicaSet({ members: 2 * FAILOVERS + 1, name: "fl", electionDelayMS: 200 });
    const c = await client(rs.uri, undefined);
    try {
      const result = await guard(
        runFailoverLoad(rs, c, { writers: WRITERS, writesPerWriter: WRITES, failovers: FAILOVERS }),
        "the writers and the kills finish",
        120_000,
      );
      const s = summarize(result);
      assert.equal(s.failovers, FAILOVERS, "the primary was killed each time");
      assert.deepEqual(
        result.writes.filter((w) => w.error !== undefined).map((w) => `${w.k}: ${String(w.error)}`),
        [],
        "no error reaches a writer",
      );
      assert.equal(s.acknowledged, WRITERS * WRITES);
      for (const w of result.writes) assert.equal(result.stored.get(w.k), 1, `${w.k} is stored exactly once`);
      assert.equal(result.stored.size, WRITERS * WRITES, "nothing else is stored");
    } finally {
      await c.close();
    }
  });

  test("retryWrites=false: every acknowledged write is stored exactly once; the errors are AutoReconnect", async () => {
    await using rs = await startReplicaSet({ members: 2 * FAILOVERS + 1, name: "fl", electionDelayMS: 200 });
    const c = await client(rs.uri, false);
    try {
      const result = await guard(
        runFailoverLoad(rs, c, { writers: WRITERS, writesPerWriter: WRITES, failovers: FAILOVERS }),
        "the writers and the kills finish",
        120_000,
      );
      const s = summarize(result);
      console.log(`retryWrites=false: ${s.acknowledged} acknowledged, errors ${JSON.stringify(s.errors)}`);
      assert.equal(s.writes, WRITERS * WRITES, "every write settled");
      assert.equal(s.failovers, FAILOVERS, "the primary was killed each time");
      assert.equal(s.acknowledgedLost, 0, "no acknowledged write is lost");
      assert.equal(s.duplicates, 0, "no document is stored twice");
      for (const w of result.writes) {
        if (w.error !== undefined) assert.ok(w.error instanceof AutoReconnect, `${w.k}: ${String(w.error)}`);
      }
      // Every stored key is one this run wrote: nothing stored from nowhere.
      const keys = new Set(result.writes.map((w) => w.k));
      for (const k of result.stored.keys()) assert.ok(keys.has(k), `stored ${k} was never written`);
    } finally {
      await c.close();
    }
  });
});
