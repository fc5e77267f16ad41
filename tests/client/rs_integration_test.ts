// The "shown, not claimed" behaviours, end to end: ReplicaSetConnection
// over real sockets against the simulated replica set (src/testing), judged
// from the members' request logs. Routing over 100 reads per mode on an OP_MSG
// (wire 17) and an OP_QUERY (wire 5) set, with the fallbacks when no secondary
// is up; failover under 50 concurrent reads and writes; members that hang
// (finds only, or completely); close() with operations in flight (and a child
// process that must exit on its own afterwards); retryReads; seeds outside the
// set dropped; heartbeat polling; immediate re-checks after "not primary";
// RTTs and the latency window; a direct Connection to a secondary; cursors
// pinned to their member; the error classes exported; and the guide example
// run to completion, simulated and with MONGODB_URI.
import { assertExitsOnItsOwn, type ChildResult, runChild } from "../helpers/run_child.ts";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { startReplicaSet } from "../../src/testing/mod.ts";
import type { Member, ReplicaSet, RequestLogEntry } from "../../src/testing/mod.ts";
import { AutoReconnect, MongoError, ServerSelectionError } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { guard } from "../helpers/guard.ts";

const FAST = {
  serverSelectionTimeoutMS: 5000,
  heartbeatFrequencyMS: 500,
  connectTimeoutMS: 2000,
};
const READS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 25 ms, at most `polls` times; fails the test with `what` if it never holds. */
async function until(
  cond: () => boolean,
  what: string,
  polls = 400,
): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (cond()) return;
    await sleep(25);
  }
  assert.fail(`never happened: ${what}`);
}


function finds(m: Member): RequestLogEntry[] {
  return m.requests.filter((r) => r.command === "find");
}

function findCounts(rs: ReplicaSet): Map<string, number> {
  return new Map(rs.members.map((m) => [m.host, finds(m).length]));
}

const MODES = [
  ["PRIMARY", ReadPreference.PRIMARY],
  ["SECONDARY", ReadPreference.SECONDARY],
  ["SECONDARY_ONLY", ReadPreference.SECONDARY_ONLY],
  ["PRIMARY_PREFERRED", ReadPreference.PRIMARY_PREFERRED],
  ["NEAREST", ReadPreference.NEAREST],
] as const;

for (const wire of [17, 5]) {
  const opName = wire >= 6 ? "OP_MSG" : "OP_QUERY";
  describe(`routing on a wire-${wire} set (${opName}), ${READS} reads per mode, judged by the members' logs`, () => {
    test("every mode reaches the right members with the right secondaryOk / $readPreference", async () => {
      await using rs = await startReplicaSet({
        members: 3,
        name: `route${wire}`,
        maxWireVersion: wire,
      });
      // A wide latency window: every secondary is eligible however noisy the RTTs, so spreading is checkable.
      await using c = await ReplicaSetConnection.connect(rs.uri, {
        ...FAST,
        localThresholdMS: 1000,
      });
      const coll = c.db("r").collection("c");
      await coll.insertOne({ _id: 1, v: "x" });
      await rs.waitForReplication();
      await until(
        () => c.secondaries.length === 2,
        "the driver sees two secondaries",
      );
      const primary = rs.primary!;

      for (const [name, pref] of MODES) {
        rs.clearLog();
        for (let i = 0; i < READS; i++) {
          assert.deepEqual(
            await coll.findOne({ _id: 1 }, { readPreference: pref }),
            { _id: 1, v: "x" },
            name,
          );
        }
        const counts = findCounts(rs);
        const onPrimary = counts.get(primary.host)!;
        const onSecondaries = rs.secondaries.map((m) => counts.get(m.host)!);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        assert.equal(
          total,
          READS,
          `${name}: exactly one find per read (${JSON.stringify([...counts])})`,
        );
        switch (name) {
          case "PRIMARY":
          case "PRIMARY_PREFERRED":
            assert.equal(onPrimary, READS, `${name}: all on the primary`);
            break;
          case "SECONDARY":
          case "SECONDARY_ONLY":
            assert.equal(onPrimary, 0, `${name}: none on the primary`);
            assert.ok(
              onSecondaries.every((n) => n > 0),
              `${name}: both secondaries served (${onSecondaries})`,
            );
            break;
          case "NEAREST":
            assert.ok(
              [...counts.values()].every((n) => n > 0),
              `NEAREST: every member served (${[...counts]})`,
            );
            break;
        }
        for (const m of rs.members) {
          for (const r of finds(m)) {
            assert.equal(r.opName, opName, `${name}: find sent as ${opName}`);
            if (wire >= 6) {
              // OP_MSG to a replica-set member: $readPreference for every mode but primary.
              assert.deepEqual(
                r.readPreference,
                pref.mode === "primary" ? undefined : { mode: pref.mode },
                name,
              );
              assert.equal(
                r.flags & ~0x1,
                0,
                `${name}: no unexpected OP_MSG flag bits`,
              );
            } else {
              // OP_QUERY: the secondaryOk bit (0x4) for every mode but primary, and no $readPreference.
              assert.equal(
                (r.flags & 0x4) !== 0,
                pref.mode !== "primary",
                `${name}: secondaryOk bit`,
              );
              assert.equal(
                r.readPreference,
                undefined,
                `${name}: no $readPreference to a mongod over OP_QUERY`,
              );
            }
          }
        }
      }
    });

    test("no secondary up: SECONDARY reads go to the primary, SECONDARY_ONLY fails with ServerSelectionError", async () => {
      // Primary, secondary and arbiter: with the secondary dead the primary keeps its majority.
      await using rs = await startReplicaSet({
        members: [{}, {}, { arbiterOnly: true }],
        name: `fallback${wire}`,
        maxWireVersion: wire,
        electionDelayMS: 60_000,
      });
      await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
      const coll = c.db("r").collection("c");
      await coll.insertOne({ _id: 1, v: "x" });
      await until(
        () => c.secondaries.length === 1 && c.arbiters.length === 1,
        "secondary and arbiter known",
      );
      const primary = rs.primary!;
      await rs.kill(rs.secondaries[0]);
      await until(
        () => c.secondaries.length === 0,
        "the driver sees the secondary gone",
      );
      assert.equal(rs.primary, primary, "the primary kept its majority");
      rs.clearLog();
      for (let i = 0; i < READS; i++) {
        assert.deepEqual(
          await coll.findOne({ _id: 1 }, {
            readPreference: ReadPreference.SECONDARY,
          }),
          {
            _id: 1,
            v: "x",
          },
        );
      }
      assert.equal(
        finds(primary).length,
        READS,
        "SECONDARY with no secondary: every read on the primary",
      );
      for (const r of finds(primary)) {
        if (wire >= 6) {
          assert.deepEqual(r.readPreference, { mode: "secondaryPreferred" });
        } else assert.equal(r.flags & 0x4, 0x4);
      }

      await using quick = await ReplicaSetConnection.connect(rs.uri, {
        ...FAST,
        serverSelectionTimeoutMS: 300,
      });
      rs.clearLog();
      const only = quick.db("r").collection("c", {
        readPreference: ReadPreference.SECONDARY_ONLY,
      });
      await assert.rejects(only.findOne({ _id: 1 }), (e: unknown) => {
        assert.ok(
          e instanceof ServerSelectionError,
          `expected ServerSelectionError, got ${e}`,
        );
        return true;
      });
      assert.equal(
        finds(primary).length,
        0,
        "SECONDARY_ONLY never reads the primary",
      );
    });
  });
}

describe("failover, hangs, close and retries against the simulated set", () => {
  test("retryWrites=false: 50 concurrent reads and writes across a failover: all settle, no acknowledged write is lost", async () => {
    // Majority writes wait out the replication lag, so the writes sent just
    // before the kill are surely in flight when the primary dies, while the
    // earlier ones are acknowledged and must survive.
    await using rs = await startReplicaSet({ members: 3, name: "fo", electionDelayMS: 300, replicationLagMS: 40 });
    // retryWrites=false keeps PyMongo 2.1's contract: a write cut off by the failover is an AutoReconnect.
    await using c = await ReplicaSetConnection.connect(rs.uri, {
      ...FAST,
      writeConcern: { w: "majority" },
      retryWrites: false,
    });
    const coll = c.db("f").collection("c");
    await coll.insertOne({ _id: "seed" });
    await rs.waitForReplication();
    const old = rs.primary!;
    type Outcome = { kind: "write" | "read"; id: number; ok: boolean; error?: unknown; afterKill: boolean };
    const ops: Promise<Outcome>[] = [];
    let killed = false;
    let ackedBeforeKill = 0;
    for (let i = 0; i < 50; i++) {
      const kind = i % 2 === 0 ? "write" : "read";
      const afterKill = killed;
      const op: Promise<unknown> = kind === "write"
        ? coll.insertOne({ _id: i }).then((r) => {
          assert.equal(r.acknowledged, true);
          if (!killed) ackedBeforeKill++;
        })
        : coll.findOne({ _id: "seed" }).then((d) => assert.deepEqual(d, { _id: "seed" }));
      ops.push(
        op.then(
          () => ({ kind, id: i, ok: true, afterKill }),
          (error) => ({ kind, id: i, ok: false, error, afterKill }),
        ),
      );
      await sleep(4);
      if (i === 29) {
        killed = true;
        await rs.kill(old);
      }
    }
    const outcomes = await guard(Promise.all(ops), "the 50 operations settle");
    for (const o of outcomes) {
      if (!o.ok) assert.ok(o.error instanceof MongoError, `typed error for ${o.kind} ${o.id}: ${o.error}`);
    }
    assert.ok(ackedBeforeKill > 0, "some writes were acknowledged before the kill");
    const failedWrites = outcomes.filter((o) => o.kind === "write" && !o.ok && !o.afterKill);
    assert.ok(failedWrites.length > 0, "some writes were in flight on the dead primary");
    for (const o of failedWrites) assert.ok(o.error instanceof AutoReconnect, `write ${o.id}: ${o.error}`);
    const names = outcomes.map((o) => (o.ok ? "ok" : (o.error as Error).name));
    const tally: Record<string, number> = {};
    for (const n of names) tally[n] = (tally[n] ?? 0) + 1;
    console.log(`failover outcomes: ${JSON.stringify(tally)}`);

    const sentInserts = old.requests.filter((r) => r.command === "insert");
    assert.ok(
      sentInserts.length > 0 &&
        sentInserts.every((r) => (r.body.writeConcern as { w?: unknown } | undefined)?.w === "majority"),
    );
    const next = await rs.waitForPrimary({ not: old });
    await until(() => c.port === next.port, "the driver finds the new primary");
    const acknowledged = outcomes.filter((o) => o.kind === "write" && o.ok).map(
      (o) => o.id,
    );
    const back = await coll.find({ _id: { $in: acknowledged } }).toArray();
    assert.deepEqual(
      back.map((d) => d._id).sort((a, b) => Number(a) - Number(b)),
      acknowledged,
    );
    const onNext = new Set(next.documents("f.c").map((d) => d._id));
    for (const id of acknowledged) {
      assert.ok(
        onNext.has(id),
        `acknowledged write ${id} is on the new primary`,
      );
    }
    // And the set keeps working without a reconnect.
    await coll.insertOne({ _id: "after" });
    assert.ok(rs.requests(next).some((r) => r.command === "insert"));
  });

  test("a hung member does not stall reads routed elsewhere; close() rejects what is in flight", async () => {
    await using rs = await startReplicaSet({
      members: [{ tags: { n: "0" } }, { tags: { n: "1" } }, {
        tags: { n: "2" },
      }],
      name: "hang",
    });
    const c = await ReplicaSetConnection.connect(rs.uri, FAST);
    try {
      const coll = c.db("h").collection("c");
      await coll.insertOne({ _id: 1 });
      await rs.waitForReplication();
      await until(() => c.secondaries.length === 2, "two secondaries known");
      const [p, hung, other] = rs.members;
      assert.equal(p.state, "PRIMARY");
      // Finds hang on member 1; its monitor still answers, so it stays selectable.
      rs.fault(hung, { hang: true, commands: ["find"] });
      let settled = false;
      const stuck = coll.findOne({}, {
        readPreference: new ReadPreference("secondary", { tags: [{ n: "1" }] }),
      })
        .finally(() => (settled = true));
      stuck.catch(() => {});
      await until(
        () => finds(hung).length > 0,
        "the read reached the hung member",
      );
      const toOther = new ReadPreference("secondary", { tags: [{ n: "2" }] });
      const elsewhere = await guard(
        Promise.all(
          Array.from(
            { length: 50 },
            (_, i) => i % 2 === 0 ? coll.findOne({ _id: 1 }) : coll.findOne({ _id: 1 }, { readPreference: toOther }),
          ),
        ),
        "reads routed away from the hung member",
      );
      assert.ok(elsewhere.every((d) => d?._id === 1));
      assert.equal(finds(p).length + finds(other).length, 50);
      assert.equal(
        settled,
        false,
        "the read on the hung member is still waiting",
      );

      // A selection that cannot succeed yet, and a write held by a slow primary, both in flight at close().
      rs.fault(p, { delayMS: 5000, commands: ["insert"] });
      const inserts = p.requests.filter((r) => r.command === "insert").length;
      const waiting = coll.findOne({}, {
        readPreference: new ReadPreference("secondary", { tags: [{ n: "9" }] }),
      });
      const write = coll.insertOne({ _id: 2 });
      await until(
        () => p.requests.filter((r) => r.command === "insert").length > inserts,
        "the write reached the primary",
      );
      await c.close();
      const results = await guard(
        Promise.allSettled([stuck, waiting, write]),
        "close() settles what is in flight",
      );
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok(
          (r as PromiseRejectedResult).reason instanceof MongoError,
          String((r as PromiseRejectedResult).reason),
        );
      }
      await assert.rejects(
        coll.findOne({}),
        MongoError,
        "a closed client refuses new operations",
      );
    } finally {
      await c.close();
    }
  });

  test("close() with operations in flight leaves no timer or socket: a child process exits on its own", async () => {
    const stdout = await assertExitsOnItsOwn(
      join(import.meta.dirname ?? ".", "fixtures", "close_exit_child.ts"),
      45_000,
    );
    assert.match(stdout, /^rejected: 4 of 4$/m);
  });

  test("retryReads: true retries a read once elsewhere; false shows the AutoReconnect; retryWrites likewise for writes", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "retry" });
    await using retrying = await ReplicaSetConnection.connect(rs.uri, FAST);
    await using plain = await ReplicaSetConnection.connect(rs.uri, {
      ...FAST,
      retryReads: false,
    });
    const docs = retrying.db("t").collection("c");
    await docs.insertOne({ _id: 1 });
    await rs.waitForReplication();
    const p = rs.primary!;

    // retryReads: false -> the guide's behaviour, one attempt, AutoReconnect.
    rs.clearLog();
    rs.fault(p, { closeNext: 1, commands: ["find"] });
    await assert.rejects(
      plain.db("t").collection("c").findOne({ _id: 1 }),
      AutoReconnect,
    );
    assert.equal(finds(p).length, 1, "one attempt only");

    // retryReads: true -> the same fault is invisible; two finds were sent.
    await until(() => retrying.primary !== null, "primary known");
    rs.clearLog();
    rs.fault(p, { closeNext: 1, commands: ["find"] });
    assert.deepEqual(await guard(docs.findOne({ _id: 1 }), "retried read"), {
      _id: 1,
    });
    assert.equal(
      finds(p).length,
      2,
      "the read was sent twice (the retry reached the rediscovered primary)",
    );

    // Retried once only: two closes in a row reach the caller.
    await until(() => retrying.primary !== null, "primary known again");
    rs.clearLog();
    rs.fault(p, { closeNext: 2, commands: ["find"] });
    await assert.rejects(
      guard(docs.findOne({ _id: 1 }), "twice-failed read"),
      AutoReconnect,
    );
    assert.equal(finds(p).length, 2, "no third attempt");
    rs.clearFaults(p);

    // A secondary that always drops finds: with retries every read still succeeds (the retry goes elsewhere).
    await until(
      () => retrying.secondaries.length === 2 && plain.secondaries.length === 2,
      "secondaries known",
    );
    const [bad, good] = rs.secondaries;
    rs.clearLog();
    rs.fault(bad, { closeNext: 1_000_000, commands: ["find"] });
    const only = ReadPreference.SECONDARY_ONLY;
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(
        await docs.findOne({ _id: 1 }, { readPreference: only }),
        { _id: 1 },
      );
    }
    assert.ok(
      finds(bad).length > 0,
      "some reads were first sent to the failing secondary",
    );
    assert.equal(
      finds(good).length,
      20,
      "every read was finally served by the good secondary",
    );
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      await until(() => plain.secondaries.length >= 1, "a secondary known");
      await plain.db("t").collection("c").findOne({ _id: 1 }, {
        readPreference: only,
      }).catch((e) => {
        assert.ok(e instanceof AutoReconnect, String(e));
        failures++;
      });
    }
    assert.ok(
      failures > 0,
      "without retries the failing secondary's errors reach the caller",
    );
    rs.clearFaults(bad);

    // retryWrites (default true): a write cut off once is sent again, with the same lsid and txnNumber.
    await until(() => retrying.primary !== null, "primary known");
    rs.clearLog();
    rs.fault(p, { closeNext: 1, commands: ["insert"] });
    assert.equal((await guard(docs.insertOne({ _id: 2 }), "retried write")).acknowledged, true);
    const sent = p.requests.filter((r) => r.command === "insert");
    assert.equal(sent.length, 2, "the insert was sent twice");
    assert.deepEqual(sent[0].body.lsid, sent[1].body.lsid);
    assert.deepEqual(sent[0].body.txnNumber, sent[1].body.txnNumber);

    // retryWrites: false -> one attempt, AutoReconnect.
    await using noRetry = await ReplicaSetConnection.connect(rs.uri, { ...FAST, retryWrites: false });
    await until(() => noRetry.primary !== null, "primary known");
    rs.clearLog();
    rs.fault(p, { closeNext: 1, commands: ["insert"] });
    await assert.rejects(noRetry.db("t").collection("c").insertOne({ _id: 3 }), AutoReconnect);
    const once = p.requests.filter((r) => r.command === "insert");
    assert.equal(once.length, 1, "one insert sent");
    assert.equal(once[0].body.txnNumber, undefined, "no txnNumber without retryWrites");
  });

  test("a member that hangs completely (monitoring too) does not stall reads routed elsewhere", async () => {
    await using rs = await startReplicaSet({
      members: [{ tags: { n: "0" } }, { tags: { n: "1" } }, { tags: { n: "2" } }],
      name: "hangall",
    });
    // socketTimeoutMS bounds a read that meets the hung member; the retry goes elsewhere.
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, socketTimeoutMS: 1000 });
    const coll = c.db("h").collection("c");
    await coll.insertOne({ _id: 1 });
    await rs.waitForReplication();
    await until(() => c.secondaries.length === 2, "two secondaries known");
    const [p, hung, other] = rs.members;
    rs.fault(hung, { hang: true });
    rs.clearLog();
    const toOther = new ReadPreference("secondary", { tags: [{ n: "2" }] });
    const results = await guard(
      Promise.all(
        Array.from({ length: 100 }, (_, i) => coll.findOne({ _id: 1 }, i % 2 === 0 ? {} : { readPreference: toOther })),
      ),
      "reads to the primary and to the healthy secondary",
    );
    assert.equal(results.length, 100);
    assert.ok(results.every((d) => d?._id === 1), "every read answered");
    // Each read reached the member its preference names (a slow reply may add a retry there, never elsewhere).
    assert.equal(finds(hung).length, 0, "nothing routed to the hung member");
    assert.ok(finds(p).length >= 50, `${finds(p).length} primary reads for 50`);
    assert.ok(finds(other).length >= 50, `${finds(other).length} reads on the tagged secondary for 50`);
    const primaryFinds = finds(p).length;
    // Untagged secondary reads may pick the hung member first; the timeout and one retry elsewhere hide it.
    for (let i = 0; i < 20; i++) {
      const d = await guard(coll.findOne({ _id: 1 }, { readPreference: ReadPreference.SECONDARY_ONLY }), "read");
      assert.equal(d?._id, 1);
    }
    assert.equal(finds(p).length, primaryFinds, "SECONDARY_ONLY never fell back to the primary");
    // The hung member's monitor gives up after connectTimeoutMS and marks it Unknown.
    await until(() => c.secondaries.length === 1, "the hung member is no longer a known secondary");
    rs.clearFaults(hung);
  });

  test("a seed outside the set is dropped and no longer monitored; a 500 ms heartbeat polls, a 60 s one does not", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    await using stranger = await startReplicaSet({ members: 1, name: "bar" });
    const outsider = stranger.members[0];
    await using c = await ReplicaSetConnection.connect([...rs.hosts, outsider.host], { replicaSet: "foo", ...FAST });
    await until(() => c.secondaries.length === 2, "two secondaries known");
    assert.deepEqual([...c.hosts].sort(), [...rs.hosts].sort(), "the member of set bar is not in the topology");
    const hellos = (m: Member) => m.requests.filter((r) => /^(hello|ismaster)$/i.test(r.command)).length;
    // The members' own checks are the clock: wait for three more on each (at 500 ms that is over a
    // second), with no fixed sleep. A check that was already on its way to the outsider may still land.
    const outsiderBefore = hellos(outsider);
    rs.clearLog();
    const started = performance.now();
    await until(() => rs.members.every((m) => hellos(m) >= 3), "each member polled three times at 500 ms");
    const elapsed = performance.now() - started;
    assert.ok(hellos(outsider) - outsiderBefore <= 1, "no monitor polls the removed seed any more");
    for (const m of rs.members) {
      // Not more often than every 500 ms: timers on a busy machine fire late, never early.
      const n = hellos(m);
      assert.ok(n <= elapsed / 500 + 3, `${m.host}: ${n} heartbeats in ${Math.round(elapsed)} ms at heartbeatFrequencyMS 500`);
    }

    await using slow = await ReplicaSetConnection.connect(stranger.uri, { heartbeatFrequencyMS: 60_000 });
    await slow.admin.command("ping");
    // A check requested while discovery waited runs once, minHeartbeatFrequencyMS (500 ms) after the
    // first, so at most one more hello reaches the outsider while the set's members are polled
    // three more times each (about 1.5 s: a 500 ms poll would send it about three).
    const settled = hellos(outsider);
    const polled = rs.members.map(hellos);
    await until(() => rs.members.every((m, i) => hellos(m) >= polled[i] + 3), "three more polls of each member");
    assert.ok(hellos(outsider) - settled <= 1, `${hellos(outsider) - settled} checks: no polling between 60 s heartbeats`);
  });

  test("after a 'not primary' error the set is re-checked at once, not at the next heartbeat", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "sd", electionDelayMS: 200 });
    // Heartbeats 60 s apart and a 30 s selection timeout: only immediate re-checks can find the new primary in time.
    await using c = await ReplicaSetConnection.connect(rs.uri, {
      heartbeatFrequencyMS: 60_000,
      serverSelectionTimeoutMS: 30_000,
      retryWrites: false, // the write's error shows the step-down (a retried write would hide it)
    });
    const coll = c.db("s").collection("c");
    await coll.insertOne({ _id: 1 });
    const old = rs.primary!;
    rs.stepDown(old);
    await assert.rejects(coll.insertOne({ _id: 2 }), (e: unknown) => {
      assert.ok(e instanceof AutoReconnect, `a write to the stepped-down primary: AutoReconnect, got ${e}`);
      return true;
    });
    const next = await rs.waitForPrimary({ not: old });
    const r = await guard(coll.insertOne({ _id: 3 }), "the write after the step-down", 25_000);
    assert.equal(r.acknowledged, true);
    assert.ok(rs.requests(next).some((q) => q.command === "insert" && q.body.insert === "c"));
    assert.deepEqual([c.host, c.port], [next.host.slice(0, next.host.lastIndexOf(":")), next.port]);
    // A read that meets a stepped-down primary is retried on the new one.
    const again = rs.primary!;
    rs.stepDown(again);
    await rs.waitForPrimary({ not: again });
    assert.equal((await guard(coll.findOne({ _id: 1 }), "read after the second step-down", 25_000))?._id, 1);
  });

  test("RTTs measured by the monitors decide the latency window: a slow secondary gets no reads", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "rtt" });
    // Default localThresholdMS (15 ms); the slow member answers everything, heartbeats included, 150 ms late.
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("l").collection("c");
    await coll.insertOne({ _id: 1 });
    await rs.waitForReplication();
    await until(() => c.secondaries.length === 2, "two secondaries known");
    const [slow, fast] = rs.secondaries;
    const hellos = (m: Member) => m.requests.filter((r) => /^(hello|ismaster)$/i.test(r.command)).length;
    rs.fault(slow, { delayMS: 150 });
    const before = hellos(slow);
    // Two delayed checks: the RTT average of the slow member is then far outside the window.
    await until(() => hellos(slow) >= before + 3, "the slow member was checked twice since the fault");
    rs.clearLog();
    for (let i = 0; i < 50; i++) {
      assert.equal((await coll.findOne({ _id: 1 }, { readPreference: ReadPreference.SECONDARY_ONLY }))?._id, 1);
    }
    assert.equal(finds(slow).length, 0, "the slow secondary is outside the latency window");
    assert.equal(finds(fast).length, 50);
    rs.clearFaults(slow);
  });

  test("every error class the issue names is exported from mod.ts and is a MongoError", async () => {
    const root = await import("../../mod.ts") as Record<string, unknown>;
    const names = [
      "AutoReconnect",
      "ConnectionFailure",
      "ServerSelectionError",
      "OperationFailure",
      "WriteConcernError",
      "WireProtocolError",
      "BSONError",
      "ConfigurationError",
    ];
    for (const name of names) {
      const cls = root[name];
      assert.equal(typeof cls, "function", `${name} is exported`);
      assert.ok((cls as { prototype: unknown }).prototype instanceof MongoError, `${name} extends MongoError`);
    }
    assert.equal(root.ReplicaSetConnection, ReplicaSetConnection, "the client is exported from mod.ts");
  });

  for (const wire of [17, 5]) {
    test(`a direct Connection to a secondary reads from it by the Single-topology rules (wire ${wire})`, async () => {
      await using rs = await startReplicaSet({ members: 3, name: `direct${wire}`, maxWireVersion: wire });
      const s = rs.secondaries[0];
      const cases = [
        [{}, { mode: "primaryPreferred" }],
        [{ slaveOk: true }, { mode: "secondaryPreferred" }],
        [{ readPreference: "secondary" as const }, { mode: "secondary" }],
      ] as const;
      for (const [options, sent] of cases) {
        await using c = new Connection(s.host.slice(0, s.host.lastIndexOf(":")), s.port, { ...FAST, ...options });
        rs.clearLog();
        assert.equal(await c.db("t").collection("c").findOne({}), null);
        const f = finds(s);
        assert.equal(f.length, 1, JSON.stringify(options));
        if (wire >= 6) {
          // OP_MSG to a non-mongos member of a Single topology: primary becomes primaryPreferred.
          assert.deepEqual(f[0].readPreference, sent, JSON.stringify(options));
        } else {
          assert.equal(f[0].flags & 0x4, 0x4, `secondaryOk always set on a direct OP_QUERY read`);
          assert.equal(f[0].readPreference, undefined);
        }
        await assert.rejects(c.db("t").collection("c").insertOne({ a: 1 }), (e: unknown) => {
          assert.ok(e instanceof AutoReconnect && /not (primary|master)/.test(e.message), String(e));
          return true;
        });
      }
    });
  }

  for (const wire of [17, 5]) {
    test(`a cursor's getMores and killCursors go to the member that ran its find (wire ${wire})`, async () => {
      await using rs = await startReplicaSet({ members: 3, name: `cur${wire}`, maxWireVersion: wire });
      await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, localThresholdMS: 1000 });
      const coll = c.db("k").collection("c");
      await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
      await rs.waitForReplication();
      await until(() => c.secondaries.length === 2, "two secondaries known");
      const byCommand = (command: string) =>
        rs.members.filter((m) => m.requests.some((r) => r.command === command)).map((m) => m.host);
      for (let round = 0; round < 6; round++) {
        rs.clearLog();
        const all = await coll.find({}, { readPreference: ReadPreference.SECONDARY_ONLY }).batchSize(3).toArray();
        assert.equal(all.length, 10);
        const [where] = byCommand("find");
        assert.deepEqual(byCommand("getMore"), [where], "every getMore on the find's member");
        assert.notEqual(where, rs.primary!.host);

        // A loop left early kills its server cursor, on the same member.
        rs.clearLog();
        let seen = 0;
        for await (const _ of coll.find({}, { readPreference: ReadPreference.SECONDARY_ONLY }).batchSize(2)) {
          if (++seen === 3) break;
        }
        const [from] = byCommand("find");
        await until(() => byCommand("killCursors").length > 0, "killCursors sent after break");
        assert.deepEqual(byCommand("killCursors"), [from], "killCursors on the find's member");
      }
    });
  }

  test("the guide example runs to completion and prints what the guide shows", async () => {
    const { code, signal, stdout, stderr } = await runExample({});
    assert.equal(signal, null, `the example did not exit on its own\n${stdout}\n${stderr}`);
    assert.equal(code, 0, `the example failed\n${stdout}\n${stderr}`);
    const lines = stdout.split("\n");
    assert.equal(discovered(lines), 4, `each seed form discovers 3 hosts:\n${stdout}`);
    assert.ok(lines.includes(`{"ok":1}`), "replSetInitiate answered ok");
    assert.ok(lines.some((l) => l.startsWith("AutoReconnect: ")), `AutoReconnect shown:\n${stdout}`);
    assert.ok(lines.some((l) => /^\{"acknowledged":true,"insertedId":\{"\$oid":"[0-9a-f]{24}"\}\}$/.test(l)));
    const contrastAt = stdout.indexOf("## Every secondary out of reach");
    assert.ok(contrastAt > 0, `the SECONDARY / SECONDARY_ONLY contrast is shown:\n${stdout}`);
    const section = stdout.slice(stdout.indexOf("## Read preferences"), contrastAt);
    const served = section.split("\n").filter((l) => l.includes("served by"));
    assert.equal(served.length, 8, `8 routed reads:\n${section}`);
    assert.ok(
      served.every((l) => l.includes("(SECONDARY, from the driver's commandSucceeded event)")),
      `secondaries served every read, as the driver's own events say:\n${section}`,
    );
    // With every secondary out of reach: SECONDARY is served by the primary, SECONDARY_ONLY fails clearly.
    const contrast = stdout.slice(contrastAt).split("\n");
    assert.ok(contrast.some((l) => l.endsWith(" []")), `the driver sees no secondary:\n${contrast.join("\n")}`);
    const fallback = contrast.filter((l) => l.includes("served by"));
    assert.equal(fallback.length, 1, contrast.join("\n"));
    assert.ok(fallback[0].includes("(PRIMARY,"), `SECONDARY fell back to the primary: ${fallback[0]}`);
    assert.ok(
      contrast.some((l) => /^OperationTimeoutError: .*server selection/.test(l)),
      `SECONDARY_ONLY failed, naming server selection:\n${contrast.join("\n")}`,
    );
    assert.match(stdout, /^ok: the guide ran to the end$/m);
  });

  test("the guide example against MONGODB_URI skips the simulator-only steps and says so", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "given" });
    const { code, signal, stdout, stderr } = await runExample({ MONGODB_URI: rs.uri });
    assert.equal(signal, null, `the example did not exit on its own\n${stdout}\n${stderr}`);
    assert.equal(code, 0, `the example failed\n${stdout}\n${stderr}`);
    const lines = stdout.split("\n");
    assert.ok(lines.some((l) => l.startsWith("# MONGODB_URI is set")), stdout);
    assert.ok(lines.some((l) => l.startsWith("## Initializing the set: skipped")), stdout);
    assert.ok(lines.some((l) => l.startsWith("## Failover: skipped")), stdout);
    assert.equal(discovered(lines), 4, `each seed form discovers 3 hosts:\n${stdout}`);
    const served = lines.filter((l) => l.includes("served by"));
    assert.equal(served.length, 8, stdout);
    const secondaries = rs.secondaries.map((m) => m.host);
    for (const l of served) {
      const host = /served by (\S+)/.exec(l)![1];
      assert.ok(secondaries.includes(host), `${host} is a secondary: ${l}`);
    }
    assert.equal(rs.members.reduce((n, m) => n + (m.state === "PRIMARY" ? 0 : finds(m).length), 0), 8);
    assert.match(stdout, /^ok: the guide ran to the end$/m);
  });
});

describe("the guide example against a set that requires authentication", () => {
  test("MONGODB_URI with a user: every seed form authenticates; the password is never printed", async () => {
    await using rs = await startReplicaSet({
      members: 3,
      name: "secured",
      users: [{ user: "ada", password: "s3cret-pw" }],
      scramIterations: 4096,
    });
    const { code, signal, stdout, stderr } = await runExample({
      MONGODB_URI: `mongodb://ada:s3cret-pw@${rs.hosts.join(",")}/?replicaSet=secured`,
    });
    assert.equal(signal, null, `the example did not exit on its own\n${stdout}\n${stderr}`);
    assert.equal(code, 0, `the example failed\n${stdout}\n${stderr}`);
    const lines = stdout.split("\n");
    assert.ok(lines.some((l) => l.startsWith("# (the URI's TLS settings and user go along")), stdout);
    assert.equal(discovered(lines), 4, `each seed form discovers 3 hosts:\n${stdout}`);
    assert.equal(lines.filter((l) => l.includes("served by")).length, 8, stdout);
    assert.ok(!stdout.includes("s3cret-pw") && !stderr.includes("s3cret-pw"), "the password is never printed");
    // Monitors never authenticate; every member that served an operation had authenticated that connection first.
    const served = rs.members.filter((m) => m.requests.some((r) => r.command === "insert" || r.command === "find"));
    assert.ok(served.length >= 2, "the primary and at least one secondary served");
    for (const m of served) {
      const first = m.requests.findIndex((r) => r.command === "insert" || r.command === "find");
      const auth = m.requests.findIndex((r) => r.command === "saslContinue");
      assert.ok(auth >= 0 && auth < first, `${m.host} authenticated before serving`);
    }
  });
});

function discovered(lines: string[]): number {
  const host = String.raw`'127\.0\.0\.1:\d+'`;
  const re = new RegExp(`^ReplicaSetConnection\\(\\[${host}, ${host}, ${host}\\]\\)$`);
  return lines.filter((l) => re.test(l)).length;
}

/** Runs examples/replica_set_guide.ts on this runtime with `extraEnv` (and no inherited MONGODB_URI). */
function runExample(extraEnv: Record<string, string>): Promise<ChildResult> {
  const script = join(import.meta.dirname ?? ".", "..", "..", "examples", "replica_set_guide.ts");
  const env: Record<string, string> = {
    ...(globalThis as unknown as { process: { env: Record<string, string> } }).process.env,
  };
  delete env.MONGODB_URI;
  Object.assign(env, extraEnv);
  return runChild(script, { denoPermissions: ["--allow-net", "--allow-env=MONGODB_URI"], env, guardMS: 90_000 });
}
