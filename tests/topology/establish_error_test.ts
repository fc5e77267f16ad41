// SDAM's handling of a connection that fails while being established, seen
// from the client's events against the simulated set: a failed authentication
// clears the pool before the pool reports the failed connection closed (the
// SDAM unified test pool-clear-checkout-error), and a network timeout during
// the hello carries the backpressure labels and clears nothing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { AuthenticationError, MongoError } from "../../src/errors.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

function record(target: EventTarget, types: string[]): string[] {
  const seen: string[] = [];
  for (const t of types) target.addEventListener(t, () => seen.push(t));
  return seen;
}

describe("a connection that fails while being established", () => {
  test("a failed authentication clears the pool before its connectionClosed", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "estab", users: [{ user: "ada", password: "pencil" }] });
    await using c = new ReplicaSetConnection(`mongodb://ada:wrong@${rs.hosts[0]}/?replicaSet=estab`, FAST);
    const seen = record(c, ["connectionCheckOutStarted", "poolCleared", "connectionClosed"]);
    await assert.rejects(c.db("app").collection("x").insertOne({ a: 1 }), AuthenticationError);
    assert.deepEqual(seen.slice(0, 3), ["connectionCheckOutStarted", "poolCleared", "connectionClosed"]);
  });

  test("a network timeout during the hello carries SystemOverloadedError and RetryableError, and clears nothing", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "estab2" });
    await using admin = await ReplicaSetConnection.connect(rs.uri, FAST);
    await using c = new ReplicaSetConnection(`${rs.uri}&appname=overloaded`, { ...FAST, connectTimeoutMS: 250 });
    await c.connect();
    const seen = record(c, ["poolCleared"]);
    await admin.admin.command({
      configureFailPoint: "failCommand",
      mode: "alwaysOn",
      data: { failCommands: ["hello", "isMaster"], blockConnection: true, blockTimeMS: 500, appName: "overloaded" },
    });
    try {
      const e = await c.db("app").collection("x").insertOne({ a: 1 }).then(() => null, (e) => e);
      assert.ok(e instanceof MongoError, String(e));
      assert.deepEqual(
        ["SystemOverloadedError", "RetryableError"].map((l) => e.hasErrorLabel(l)),
        [true, true],
        `labels of ${e}`,
      );
      assert.deepEqual(seen, []);
    } finally {
      await admin.admin.command({ configureFailPoint: "failCommand", mode: "off" });
    }
  });
});
