// The simulator's find min/max/returnKey/showRecordId (src/testing/find_bounds.ts), as mongod 7.0 answers them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

type Doc = Record<string, unknown>;
const batch = (r: Doc) => (r.cursor as Doc).firstBatch as Doc[];

describe("find: min, max, returnKey, showRecordId", () => {
  test("min is inclusive, max exclusive, on the hinted index's keys; without a hint 51173", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("t", { insert: "c", documents: [1, 2, 3, 4, 5].map((i) => ({ _id: i, x: 10 * (6 - i) })) });
      await c.command("t", { createIndexes: "c", indexes: [{ key: { x: -1 }, name: "x_-1" }] });
      const r = await c.command("t", { find: "c", filter: {}, min: { _id: 2 }, max: { _id: 4 }, hint: { _id: 1 } });
      assert.deepEqual(batch(r).map((d) => d._id), [2, 3]);
      // On a descending index the bounds are in the index's order: x from 40 down to (not including) 20.
      const d = await c.command("t", { find: "c", filter: {}, min: { x: 40 }, max: { x: 20 }, hint: "x_-1" });
      assert.deepEqual(batch(d).map((x) => x.x), [40, 30]);
      const noHint = await c.command("t", { find: "c", filter: {}, min: { _id: 2 } });
      assert.equal(noHint.code, 51173);
      const wrong = await c.command("t", { find: "c", filter: {}, min: { y: 2 }, hint: { _id: 1 } });
      assert.equal(wrong.code, 51174);
    });
  });

  test("returnKey gives the used index's key ({} for a collection scan); showRecordId needs it here", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("t", { insert: "c", documents: [{ _id: 2, a: 1 }, { _id: 1, a: 2 }] });
      const bySort = await c.command("t", {
        find: "c",
        filter: {},
        sort: { _id: 1 },
        returnKey: true,
        showRecordId: true,
      });
      assert.deepEqual(batch(bySort), [{ _id: 1 }, { _id: 2 }]);
      const scan = await c.command("t", { find: "c", filter: {}, returnKey: true });
      assert.deepEqual(batch(scan), [{}, {}]);
      const alone = await c.command("t", { find: "c", filter: {}, showRecordId: true });
      assert.equal(alone.code, 238);
      assert.match(String(alone.errmsg), /showRecordId/);
    });
  });
});
