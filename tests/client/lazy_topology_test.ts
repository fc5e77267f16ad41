// The client builds its live topology (src/topology/topology.ts, and with it
// the net and wire layers) at its first connect or operation, not when mod.ts
// is imported. These tests cover what a client answers before that, and
// closing it before or while the topology loads.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { ConfigurationError } from "../../src/errors.ts";
import { Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { assertExitsOnItsOwn } from "../helpers/run_child.ts";

describe("the live topology is loaded at first use", () => {
  test("before connecting, the getters answer from the seeds", async () => {
    const c = new ReplicaSetConnection(["Alpha:27017", "beta:27018"], { replicaSet: "rs" });
    assert.deepEqual(c.hosts, ["alpha:27017", "beta:27018"], "seeds, host names lower-cased as SDAM keys them");
    assert.equal(c.primary, null);
    assert.deepEqual(c.secondaries, []);
    assert.deepEqual(c.arbiters, []);
    assert.equal(c.host, null);
    assert.equal(c.port, null);
    assert.equal(String(c), "ReplicaSetConnection(['alpha:27017', 'beta:27018'])");
    await c.close();

    const direct = new Connection("alpha", 27019);
    assert.equal(direct.host, "alpha", "a direct connection's host is its one seed");
    assert.equal(direct.port, 27019);
    await direct.close();
  });

  test("options the topology rejects still fail in the constructor", () => {
    assert.throws(
      () => new Connection("a:1", { loadBalanced: true, replicaSet: "rs" }),
      ConfigurationError,
    );
    assert.throws(
      () => new ReplicaSetConnection("a:1", { replicaSet: "rs", heartbeatFrequencyMS: 10 }),
      ConfigurationError,
    );
  });

  test("after connecting, the getters show the discovered set", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "lazyget" });
    const c = new ReplicaSetConnection(rs.hosts[0], { replicaSet: "lazyget" });
    assert.deepEqual(c.hosts, [rs.hosts[0]]);
    await c.connect();
    assert.deepEqual([...c.hosts].sort(), [...rs.hosts].sort());
    assert.equal(`${c.host}:${c.port}`, rs.primary!.host);
    await c.close();
  });

  test("the first operation loads the topology by itself (no connect())", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "lazyop" });
    await using c = new ReplicaSetConnection(rs.uri, { replicaSet: "lazyop" });
    const coll = c.db("t").collection("c");
    const [one, two] = await Promise.all([coll.insertOne({ _id: 1 }), coll.insertOne({ _id: 2 })]);
    assert.deepEqual([one.insertedId, two.insertedId], [1, 2], "two operations racing the load both run");
    assert.equal(await coll.countDocuments({}), 2);
  });

  test("closing before or while the topology loads: operations reject, nothing is sent, the process exits", async () => {
    const stdout = await assertExitsOnItsOwn(
      join(import.meta.dirname ?? ".", "fixtures", "close_before_load_child.ts"),
    );
    assert.match(stdout, /^in-flight: ReplicaSetConnection is closed/m);
    assert.match(stdout, /^requests heard: 0$/m);
  });
});
