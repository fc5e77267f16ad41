// ReplicaSetConnection.connect() resolves once every member of the
// discovered host list has answered once or failed (issue 11, item 5), so
// hosts, primary and secondaries are complete right after it, as in the
// PyMongo 2.1 guide: 20 connects in a row against the simulated set, one
// seed only; and with a member down, connect still resolves within
// connectTimeoutMS with that member known and not a secondary.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import { ReplicaSetConnection } from "../../mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 10_000, connectTimeoutMS: 2000 };

describe("ReplicaSetConnection.connect() sees the whole set", () => {
  test("20 connects from one seed: hosts, primary and both secondaries are known at once", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    const primary = await rs.waitForPrimary();
    const seed = primary.name;
    for (let i = 0; i < 20; i++) {
      const conn = await ReplicaSetConnection.connect(seed, { replicaSet: "foo", ...FAST });
      try {
        assert.equal(conn.hosts.length, 3, `run ${i}: hosts ${conn.hosts}`);
        assert.notEqual(conn.primary, null, `run ${i}: a primary`);
        assert.equal(conn.secondaries.length, 2, `run ${i}: secondaries ${JSON.stringify(conn.secondaries)}`);
      } finally {
        await conn.close();
      }
    }
  });

  test("a member down: connect resolves (bounded by connectTimeoutMS) with it listed, not a secondary", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    const primary = await rs.waitForPrimary();
    const down = rs.members.find((m) => m !== primary)!;
    await rs.kill(down);
    const conn = await ReplicaSetConnection.connect(primary.name, { replicaSet: "foo", ...FAST });
    try {
      assert.equal(conn.hosts.length, 3);
      assert.equal(conn.secondaries.length, 1);
      assert.ok(!conn.secondaries.some(([h, p]) => `${h}:${p}` === down.name));
    } finally {
      await conn.close();
    }
  });

  test("aborting the wait rejects with the signal's reason", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    const primary = await rs.waitForPrimary();
    const controller = new AbortController();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(
      ReplicaSetConnection.connect(primary.name, { replicaSet: "foo", ...FAST, signal: controller.signal }),
      (e: unknown) => e === reason,
    );
  });
});
