import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ObjectId } from "../../src/bson/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

describe("handshake replies per state", () => {
  test("primary and secondary over legacy isMaster (OP_QUERY) and hello (OP_MSG)", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    const [p, s] = rs.members;
    assert.equal(rs.primary?.host, p.host);
    await withClient(p.host, async (c) => {
      const r = await c.legacyCommand("admin", { isMaster: 1, helloOk: true });
      assert.equal(r.ismaster, true);
      assert.equal(r.isWritablePrimary, undefined, "legacy isMaster says ismaster, not isWritablePrimary");
      assert.equal(r.secondary, false);
      assert.equal(r.setName, "foo");
      assert.equal(r.setVersion, 1);
      assert.deepEqual(r.hosts, rs.hosts);
      assert.equal(r.primary, p.host);
      assert.equal(r.me, p.host);
      assert.ok(r.electionId instanceof ObjectId);
      assert.equal(r.helloOk, true);
      assert.equal(r.maxBsonObjectSize, 16777216);
      assert.equal(r.maxMessageSizeBytes, 48000000);
      assert.equal(r.maxWriteBatchSize, 100000);
      assert.equal(r.logicalSessionTimeoutMinutes, 30);
      assert.equal(r.minWireVersion, 0);
      assert.equal(r.maxWireVersion, 21);
      assert.equal(r.readOnly, false);
      assert.ok(r.localTime instanceof Date);
      assert.equal(typeof r.connectionId, "number");
      assert.ok((r.topologyVersion as { processId: unknown }).processId instanceof ObjectId);
      const lw = r.lastWrite as Record<string, unknown>;
      assert.ok(lw.lastWriteDate instanceof Date && lw.majorityWriteDate instanceof Date);
      assert.ok(lw.opTime !== undefined && lw.majorityOpTime !== undefined);
      assert.equal(r.ok, 1);
    });
    await withClient(s.host, async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.equal(r.isWritablePrimary, false);
      assert.equal(r.ismaster, undefined);
      assert.equal(r.secondary, true);
      assert.equal(r.primary, p.host);
      assert.equal(r.me, s.host);
      assert.equal(r.electionId, undefined, "only the primary reports electionId");
      assert.equal(r.helloOk, undefined, "helloOk only when the client sent it");
    });
  });

  test("members named apart from where they listen: hello and the config use the names", async () => {
    const names = ["db0.example.test:27017", "db1.example.test:27018"];
    await using rs = await startReplicaSet({ members: names.map((name) => ({ name })), name: "named" });
    const [p, s] = rs.members;
    assert.deepEqual(rs.members.map((m) => m.name), names);
    assert.ok(!names.includes(p.host), "it still listens on loopback");
    assert.equal(rs.member(names[1]), s);
    await withClient(s.host, async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.deepEqual(r.hosts, names);
      assert.equal(r.me, names[1]);
      assert.equal(r.primary, names[0]);
      const cfg = await c.command("admin", { replSetGetConfig: 1 });
      assert.deepEqual((cfg.config as { members: { host: string }[] }).members.map((m) => m.host), names);
    });
    for (const bad of [{ name: "nohost" }, { name: "h:0" }, { name: "a b:1" }, { name: 5 }]) {
      await assert.rejects(startReplicaSet({ members: [bad as never] }), /members\[0\]\.name must be "host:port"/);
    }
    await assert.rejects(startReplicaSet({ members: [{ name: "h:1" }, { name: "H:1" }] }), /must be distinct/);
  });

  test("passive, hidden, arbiter and tags", async () => {
    await using rs = await startReplicaSet({
      members: [{ tags: { dc: "ny" } }, { priority: 0 }, { hidden: true }, { arbiterOnly: true }],
    });
    const [a, passive, hidden, arbiter] = rs.members;
    await withClient(a.host, async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.deepEqual(r.hosts, [a.host]);
      assert.deepEqual(r.passives, [passive.host]);
      assert.deepEqual(r.arbiters, [arbiter.host]);
      assert.deepEqual(r.tags, { dc: "ny" });
    });
    await withClient(hidden.host, async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.equal(r.hidden, true);
      assert.equal(r.secondary, true);
    });
    await withClient(arbiter.host, async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.equal(r.arbiterOnly, true);
      assert.equal(r.secondary, false);
      assert.equal(r.lastWrite, undefined);
    });
  });

  test("uninitialized member: isreplicaset, no set fields; reads and writes refused", async () => {
    await using rs = await startReplicaSet({ members: 2, initiated: false });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("admin", { hello: 1 });
      assert.equal(r.isWritablePrimary, false);
      assert.equal(r.secondary, false);
      assert.equal(r.isreplicaset, true);
      assert.equal(r.setName, undefined);
      assert.equal(r.hosts, undefined);
      assert.equal(r.ok, 1);
      const w = await c.command("test", { insert: "c", documents: [{ a: 1 }] });
      assert.equal(w.code, 10107);
      assert.equal(w.codeName, "NotWritablePrimary");
      const read = await c.command("test", { find: "c" });
      assert.equal(read.code, 13435);
      const read2 = await c.command("test", { find: "c" }, { readPreference: { mode: "secondaryPreferred" } });
      assert.equal(read2.code, 13436);
      const st = await c.command("admin", { replSetGetStatus: 1 });
      assert.equal(st.code, 94);
      assert.equal(st.codeName, "NotYetInitialized");
    });
  });

  test("wire version 5 (3.4): no hello command, no topologyVersion, no sessions, batch size 1000", async () => {
    await using rs = await startReplicaSet({ members: 1, maxWireVersion: 5 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.legacyCommand("admin", { isMaster: 1 });
      assert.equal(r.maxWireVersion, 5);
      assert.equal(r.topologyVersion, undefined);
      assert.equal(r.logicalSessionTimeoutMinutes, undefined);
      assert.equal(r.maxWriteBatchSize, 1000);
      const h = await c.legacyCommand("admin", { hello: 1 });
      assert.equal(h.code, 59);
      assert.equal(h.errmsg, "no such command: 'hello'");
      // Below wire 6 commands go over OP_QUERY.
      const ins = await c.legacyCommand("test", { insert: "c", documents: [{ _id: 1 }] });
      assert.equal(ins.n, 1);
    });
    await withClient(rs.hosts[0], async (c) => {
      await assert.rejects(
        c.command("admin", { ping: 1 }),
        "a 3.4 server does not know OP_MSG: it drops the connection",
      );
    });
  });

  test("awaitable hello answers at once for a stale topologyVersion and on a change", async () => {
    await using rs = await startReplicaSet({ members: 2, electionDelayMS: 50 });
    await withClient(rs.hosts[1], async (c) => {
      const first = await c.command("admin", { hello: 1 });
      const tv = first.topologyVersion as Record<string, unknown>;
      const stale = await c.command("admin", {
        hello: 1,
        topologyVersion: { processId: tv.processId, counter: (tv.counter as bigint) - 1n },
        maxAwaitTimeMS: 100000,
      });
      assert.equal(stale.ok, 1);
      const pending = c.command("admin", { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 100000 });
      rs.stepDown(0, 60);
      const changed = await pending;
      assert.ok((changed.topologyVersion as { counter: bigint }).counter > (tv.counter as bigint));
    });
  });
});
