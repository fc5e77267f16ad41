import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ObjectId } from "../../src/bson/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { eventually, RawClient, withClient } from "./_client.ts";

type Doc = Record<string, unknown>;
const SECONDARY = { readPreference: { mode: "secondary" } };

async function findAll(c: RawClient, rp = true): Promise<Doc[]> {
  const r = await c.command("test", { find: "c" }, rp ? SECONDARY : {});
  assert.equal(r.ok, 1, JSON.stringify(r.errmsg));
  return (r.cursor as Doc).firstBatch as Doc[];
}

describe("replication and elections", () => {
  test("writes only on the primary; secondaries refuse reads without secondaryOk", async () => {
    await using rs = await startReplicaSet({ members: 3 });
    await withClient(rs.hosts[1], async (c) => {
      const w = await c.command("test", { insert: "c", documents: [{ a: 1 }] });
      assert.equal(w.ok, 0);
      assert.equal(w.code, 10107);
      assert.equal(w.codeName, "NotWritablePrimary");
      const r = await c.command("test", { find: "c" });
      assert.equal(r.code, 13435);
      assert.equal(r.codeName, "NotPrimaryNoSecondaryOk");
      const primaryPref = await c.command("test", { find: "c" }, { readPreference: { mode: "primary" } });
      assert.equal(primaryPref.code, 13435, "an explicit primary read preference is not secondaryOk");
    });
  });

  test("secondaries apply writes after the replication lag", async () => {
    await using rs = await startReplicaSet({ members: 3, replicationLagMS: 150 });
    const [p, s] = rs.members;
    const pc = await RawClient.connect(p.host);
    const sc = await RawClient.connect(s.host);
    try {
      await pc.command("test", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: 1 } });
      // Right after a w:1 write the secondary has not applied it yet (the lag is 150 ms).
      assert.equal((await findAll(sc)).length, 0);
      await eventually(async () => (await findAll(sc)).length === 1);
      await rs.waitForReplication();
      assert.deepEqual(rs.members[2].documents("test.c"), [{ _id: 1 }]);
      const hello = await sc.command("admin", { hello: 1 });
      const ph = await pc.command("admin", { hello: 1 });
      assert.deepEqual((hello.lastWrite as Doc).opTime, (ph.lastWrite as Doc).opTime);
    } finally {
      pc.close();
      sc.close();
    }
  });

  test("write concern: the default (majority) waits for a secondary; w:3 with a member down times out", async () => {
    await using rs = await startReplicaSet({ members: 3, replicationLagMS: 100 });
    const [p, s1, s2] = rs.members;
    await withClient(p.host, async (c) => {
      const r = await c.command("test", { insert: "c", documents: [{ _id: 1 }] });
      assert.equal(r.n, 1);
      assert.equal(r.writeConcernError, undefined);
      const applied = [s1, s2].filter((m) => m.documents("test.c").length === 1).length;
      assert.ok(applied >= 1, "a majority (the primary and one secondary) has the write when the reply comes");
      await rs.kill(s2);
      const t = await c.command("test", {
        insert: "c",
        documents: [{ _id: 2 }],
        writeConcern: { w: 3, wtimeout: 300 },
      });
      assert.equal(t.n, 1, "the write itself happened");
      assert.equal((t.writeConcernError as Doc).code, 64);
      assert.equal((t.writeConcernError as Doc).codeName, "WriteConcernFailed");
      const bad = await c.command("test", { insert: "c", documents: [{ _id: 3 }], writeConcern: { w: "nope" } });
      assert.equal((bad.writeConcernError as Doc).code, 79);
    });
  });

  test("a causally consistent read on a lagging secondary waits for afterClusterTime (or hits maxTimeMS)", async () => {
    await using rs = await startReplicaSet({ members: 2, replicationLagMS: 1000 });
    await withClient(rs.hosts[0], async (p) => {
      const w = await p.command("test", { insert: "c", documents: [{ _id: 1 }], writeConcern: { w: 1 } });
      const after = w.operationTime;
      assert.ok(after !== undefined);
      await withClient(rs.hosts[1], async (s) => {
        const quick = await s.command(
          "test",
          { find: "c", readConcern: { afterClusterTime: after }, maxTimeMS: 20 },
          SECONDARY,
        );
        assert.equal(quick.code, 50);
        assert.equal(quick.codeName, "MaxTimeMSExpired");
        const r = await s.command("test", { find: "c", readConcern: { afterClusterTime: after } }, SECONDARY);
        assert.deepEqual((r.cursor as Doc).firstBatch, [{ _id: 1 }]);
      });
    });
  });

  test("killing the primary elects the most up-to-date member with a higher electionId", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 100 });
    const old = rs.primary!;
    const oldHello = await withClient(old.host, (c) => c.command("admin", { hello: 1 }));
    await withClient(old.host, (c) => c.command("test", { insert: "c", documents: [{ _id: 1 }] }));
    await rs.kill(old);
    assert.equal(old.alive, false);
    await assert.rejects(RawClient.connect(old.host), "a killed member refuses connections");
    const next = await rs.waitForPrimary();
    assert.notEqual(next.host, old.host);
    await withClient(next.host, async (c) => {
      const h = await c.command("admin", { hello: 1 });
      assert.equal(h.isWritablePrimary, true);
      const a = (oldHello.electionId as ObjectId).toHexString();
      const b = (h.electionId as ObjectId).toHexString();
      assert.ok(b > a, `${b} > ${a}`);
      assert.deepEqual(await findAll(c, false), [{ _id: 1 }]);
      const st = await c.command("admin", { replSetGetStatus: 1 });
      assert.equal(st.myState, 1);
      const down = (st.members as Doc[]).find((m) => m.name === old.host)!;
      assert.equal(down.health, 0);
    });
    await rs.restart(old);
    assert.equal(old.state, "SECONDARY");
    await withClient(old.host, async (c) => {
      const h = await c.command("admin", { hello: 1 });
      assert.equal(h.secondary, true);
      assert.equal(h.primary, next.host);
    });
  });

  test("a restarted member of higher priority takes over once caught up", async () => {
    await using rs = await startReplicaSet({ members: [{ priority: 2 }, {}, {}], electionDelayMS: 30 });
    const [high] = rs.members;
    assert.equal(rs.primary, high);
    await rs.kill(high);
    const interim = await rs.waitForPrimary();
    assert.notEqual(interim, high);
    await withClient(interim.host, (c) => c.command("test", { insert: "c", documents: [{ _id: 1 }] }));
    await rs.restart(high);
    await eventually(() => rs.primary === high);
    assert.deepEqual(high.documents("test.c"), [{ _id: 1 }]);
    assert.equal(interim.state, "SECONDARY");
  });

  test("replSetStepDown and replSetFreeze as commands", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 50 });
    const [a, b, c] = rs.members;
    await withClient(b.host, async (cl) => {
      const notPrimary = await cl.command("admin", { replSetStepDown: 60 });
      assert.equal(notPrimary.code, 10107);
      assert.equal((await cl.command("admin", { replSetFreeze: 30 })).ok, 1);
    });
    await withClient(a.host, async (cl) => {
      assert.equal((await cl.command("admin", { replSetStepDown: 60 })).ok, 1);
      assert.equal((await cl.command("admin", { hello: 1 })).isWritablePrimary, false);
    });
    const next = await rs.waitForPrimary();
    assert.equal(next.host, c.host, "b is frozen and a stepped down, so c wins");
  });

  test("before 4.2 (wire < 8) a stepdown closes every connection", async () => {
    await using rs = await startReplicaSet({ members: 2, maxWireVersion: 7, electionDelayMS: 20 });
    const c = await RawClient.connect(rs.hosts[0]);
    try {
      assert.equal((await c.command("admin", { ping: 1 })).ok, 1);
      rs.stepDown(0, 10);
      assert.equal(await c.readFrame().catch(() => null), null);
    } finally {
      c.close();
    }
  });

  test("a partitioned primary steps down and the majority side elects", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 50 });
    const [a, b, c] = rs.members;
    rs.partition(a, [b, c]);
    assert.notEqual(a.state, "PRIMARY");
    const next = await rs.waitForPrimary();
    assert.ok(next === b || next === c);
    rs.heal();
    await withClient(a.host, async (cl) => {
      assert.equal((await cl.command("admin", { hello: 1 })).primary, next.host);
    });
  });

  test("writes the new primary never saw are rolled back on the old primary", async () => {
    await using rs = await startReplicaSet({ members: 3, electionDelayMS: 50, replicationLagMS: 60_000 });
    const old = rs.primary!;
    await withClient(
      old.host,
      (c) => c.command("test", { insert: "c", documents: [{ _id: "lost" }], writeConcern: { w: 1 } }),
    );
    await rs.kill(old);
    const next = await rs.waitForPrimary();
    await withClient(
      next.host,
      (c) => c.command("test", { insert: "c", documents: [{ _id: "kept" }], writeConcern: { w: 1 } }),
    );
    await rs.restart(old);
    assert.deepEqual(old.documents("test.c"), [], "rolled back; the lag keeps it from catching up yet");
  });

  test("uninitialized set: replSetInitiate with a config, the others learn it", async () => {
    await using rs = await startReplicaSet({ members: 3, initiated: false, electionDelayMS: 50 });
    const config = {
      _id: "foo",
      members: rs.members.map((m, i) => ({ _id: i, host: `localhost:${m.port}` })),
    };
    await withClient(rs.hosts[1], async (c) => {
      const bad = await c.command("admin", { replSetInitiate: { ...config, _id: "bar" } });
      assert.equal(bad.code, 93);
      assert.equal((await c.command("admin", { replSetInitiate: config })).ok, 1);
      assert.equal((await c.command("admin", { replSetInitiate: config })).code, 23);
    });
    const p = await rs.waitForPrimary();
    assert.equal(p.index, 1, "the member that ran replSetInitiate is elected");
    await withClient(rs.hosts[2], async (c) => {
      const h = await c.command("admin", { hello: 1 });
      assert.equal(h.setName, "foo");
      assert.deepEqual(h.hosts, config.members.map((m) => m.host));
      assert.equal(h.me, `localhost:${rs.members[2].port}`);
      assert.equal(h.primary, `localhost:${rs.members[1].port}`);
    });
  });

  test("replSetInitiate without a config makes a one-member set", async () => {
    await using rs = await startReplicaSet({ members: 2, initiated: false, electionDelayMS: 20 });
    await withClient(rs.hosts[1], async (c) => {
      assert.equal((await c.command("admin", { replSetInitiate: 1 })).ok, 1);
    });
    const p = await rs.waitForPrimary();
    assert.equal(p.index, 1);
    await withClient(rs.hosts[0], async (c) => {
      assert.equal((await c.command("admin", { hello: 1 })).isreplicaset, true, "member 0 is not in the config");
    });
  });
});
