// timeoutMS (the client-side operations timeout specification) through the
// client's operation runner: the deadline hit during server selection, during
// connection checkout and while waiting for a reply, against the simulated
// replica set (src/testing) over real sockets; inheritance client ->
// database -> collection -> operation and the maxTimeMS derived from it, read
// back from the members' request logs; the error's type and message; no retry
// after a timeout, retries while the deadline allows; timeoutMS: 0; cursors'
// cursorLifetime and iteration modes. No test asserts a duration: waits are on
// conditions, and every timeout below is far shorter than the guard around it.
//
// The specification's unified tests (spec-tests/client-side-operations-timeout)
// need the unified test runner, which is a later issue's work; they are not run here.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import type { RequestLogEntry } from "../../src/testing/mod.ts";
import {
  AutoReconnect,
  ConfigurationError,
  ConnectionFailure,
  MongoError,
  OperationFailure,
  OperationTimeoutError,
  ServerSelectionError,
} from "../../src/errors.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import type { ClientConnectionOptions } from "../../src/client/mod.ts";
import { type Call, fakeSet, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

const FAST = { serverSelectionTimeoutMS: 20_000, heartbeatFrequencyMS: 500, connectTimeoutMS: 5000 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms, at most `polls` times; fails the test with `what` if it never holds. */
async function until(cond: () => boolean, what: string, polls = 2000): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

/** `p`'s rejection, or a failed test if it resolves or does not settle within `ms` (a hang guard). */
async function rejection(p: Promise<unknown>, what: string, ms = 30_000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: ${what}`)), ms);
  });
  try {
    await Promise.race([p, stall]);
  } catch (e) {
    if (e instanceof Error && e.message === `stalled: ${what}`) throw e;
    return e;
  } finally {
    clearTimeout(timer);
  }
  assert.fail(`expected a rejection: ${what}`);
}

/** A number the simulator decoded (it keeps int32/int64 wrappers), or the value as it is. */
function num(v: unknown): unknown {
  if (v !== null && typeof v === "object" && "value" in v) return Number((v as { value: unknown }).value);
  return v;
}

const commands = (log: readonly RequestLogEntry[], name: string) => log.filter((r) => r.command === name);

function fakeClient(handler = okHandler, options: ClientConnectionOptions = {}) {
  const set = fakeSet(handler);
  const client = new ReplicaSetConnection(
    "a:27017",
    { replicaSet: "foo", ...options, [TOPOLOGY_FACTORY]: set.topology.factory() } as ClientConnectionOptions,
  );
  return { client, ...set };
}

describe("timeoutMS: where the deadline is hit", () => {
  test("during server selection: no suitable server", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "sel" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, timeoutMS: 150 });
    const coll = c.db("t").collection("c");
    // A one-member set has no secondary: selection for "secondary" waits.
    const e = await rejection(coll.findOne({}, { readPreference: "secondary" }), "findOne on a secondary");
    assert.ok(e instanceof OperationTimeoutError, String(e));
    assert.equal(e.phase, "serverSelection");
    assert.equal(e.timeoutMS, 150);
    assert.equal(e.address, undefined);
    assert.match(e.message, /^find: timeoutMS \(150 ms\) expired waiting for server selection/);
    assert.equal(commands(rs.requests(0), "find").length, 0, "nothing was sent");
  });

  test("during connection checkout: the pool is exhausted", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "pool" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, maxPoolSize: 1 });
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: 1 });
    rs.fault(0, { hang: true, commands: ["find"] });
    // The one pooled connection waits on a find that is never answered.
    const holder = new AbortController();
    const held = coll.findOne({}, { signal: holder.signal });
    held.catch(() => {});
    await until(() => commands(rs.requests(0), "find").length === 1, "the find reached the member");
    const e = await rejection(coll.insertOne({ _id: 2 }, { timeoutMS: 150 }), "insertOne waiting for a connection");
    assert.ok(e instanceof OperationTimeoutError, String(e));
    assert.equal(e.phase, "connectionCheckout");
    assert.equal(e.address, rs.hosts[0]);
    assert.match(e.message, new RegExp(`expired waiting for a connection to ${rs.hosts[0]} \\(connection checkout\\)`));
    assert.equal(commands(rs.requests(0), "insert").length, 1, "only the first insert was sent");
    holder.abort(new Error("done"));
    await assert.rejects(held, /done/);
    rs.clearFaults();
    assert.equal((await coll.findOne({ _id: 1 }))?._id, 1, "the pool works again");
  });

  test("during a slow reply: the error names the server, the connection is closed, the next operation works", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "slow" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c", { timeoutMS: 200 });
    await coll.insertOne({ _id: 1 });
    rs.fault(0, { hang: true, commands: ["find"] });
    const e = await rejection(coll.findOne({ _id: 1 }), "findOne on a hung member");
    assert.ok(e instanceof OperationTimeoutError, String(e));
    assert.equal(e.phase, "reply");
    assert.equal(e.address, rs.hosts[0]);
    assert.equal(e.message, `find: timeoutMS (200 ms) expired waiting for the reply from ${rs.hosts[0]}`);
    // The type: a MongoError, not a network error, so nothing treats it as retryable.
    assert.ok(e instanceof MongoError);
    assert.ok(!(e instanceof ConnectionFailure));
    assert.ok(!(e instanceof AutoReconnect));
    assert.equal(commands(rs.requests(0), "find").length, 1, "not retried after the timeout");
    rs.clearFaults();
    assert.equal((await coll.findOne({ _id: 1 }))?._id, 1);
    assert.equal(c.primary !== null, true, "the member was not marked Unknown for good");
  });

  test("a slow reply on every member of a set: still one attempt, no retry after a timeout", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "noretry" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: 1 }, { writeConcern: { w: 3 } });
    for (const m of rs.members) rs.fault(m, { hang: true, commands: ["find"] });
    rs.clearLog();
    const e = await rejection(
      coll.findOne({}, { readPreference: "secondaryPreferred", timeoutMS: 200 }),
      "findOne with every member hung",
    );
    assert.ok(e instanceof OperationTimeoutError);
    const finds = rs.members.reduce((n, m) => n + commands(rs.requests(m), "find").length, 0);
    assert.equal(finds, 1);
  });

  test("the caller's signal still cancels, with its own reason, before the deadline", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "abort" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, timeoutMS: 20_000 });
    rs.fault(0, { hang: true, commands: ["find"] });
    const ac = new AbortController();
    const p = c.db("t").collection("c").findOne({}, { signal: ac.signal });
    await until(() => commands(rs.requests(0), "find").length === 1, "the find reached the member");
    ac.abort(new Error("stop"));
    const e = await rejection(p, "aborted findOne");
    assert.ok(e instanceof Error && e.message === "stop", String(e));
  });
});

describe("timeoutMS: inheritance and maxTimeMS", () => {
  test("client -> database -> collection -> operation; maxTimeMS sent below the time left", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "inherit" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, timeoutMS: 80_000 });
    const dbDefault = c.db("t");
    const db = c.db("t", { timeoutMS: 40_000 });
    const sent = async (run: () => Promise<unknown>): Promise<unknown> => {
      rs.clearLog();
      await run();
      const finds = commands(rs.requests(0), "find");
      assert.equal(finds.length, 1);
      return num(finds[0].body.maxTimeMS);
    };
    const within = (v: unknown, timeoutMS: number) => {
      assert.equal(typeof v, "number", `maxTimeMS sent: ${String(v)}`);
      assert.ok(
        (v as number) <= timeoutMS && (v as number) > timeoutMS / 2,
        `${v} within (${timeoutMS / 2}, ${timeoutMS}]`,
      );
    };
    assert.equal(c.timeoutMS, 80_000);
    within(await sent(() => dbDefault.collection("c").findOne({})), 80_000);
    assert.equal(db.timeoutMS, 40_000);
    within(await sent(() => db.collection("c").findOne({})), 40_000);
    const coll = db.collection("c", { timeoutMS: 20_000 });
    assert.equal(coll.timeoutMS, 20_000);
    within(await sent(() => coll.findOne({})), 20_000);
    within(await sent(() => coll.findOne({}, { timeoutMS: 10_000 })), 10_000);
    // The deprecated per-operation maxTimeMS is ignored under timeoutMS.
    within(await sent(() => coll.findOne({}, { maxTimeMS: 999_999 })), 20_000);

    // Writes, aggregate, countDocuments and command() carry it too; getMore does not.
    rs.clearLog();
    await coll.insertOne({ _id: 1 });
    await coll.insertMany([{ _id: 2 }, { _id: 3 }, { _id: 4 }]);
    await coll.countDocuments({});
    await db.command("ping");
    const docs = await coll.find({}).batchSize(2).toArray();
    assert.equal(docs.length, 4);
    const log = rs.requests(0);
    for (const name of ["insert", "aggregate", "find"]) {
      assert.ok(commands(log, name).length > 0, name);
      for (const r of commands(log, name)) within(num(r.body.maxTimeMS), 20_000);
    }
    within(num(commands(log, "ping")[0].body.maxTimeMS), 40_000);
    const getMores = commands(log, "getMore");
    assert.ok(getMores.length > 0);
    for (const r of getMores) assert.equal(r.body.maxTimeMS, undefined, "no maxTimeMS on getMore");
  });

  test("timeoutMS: 0 means no limit: no maxTimeMS, no deadline, an operation's own maxTimeMS ignored", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "zero" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, timeoutMS: 50 });
    const coll = c.db("t").collection("c", { timeoutMS: 0 });
    assert.equal(coll.timeoutMS, 0);
    await coll.insertOne({ _id: 1 });
    rs.fault(0, { delayMS: 300, commands: ["find"] });
    rs.clearLog();
    // The client's 50 ms would expire; the collection's 0 wins.
    assert.equal((await coll.findOne({ _id: 1 }, { maxTimeMS: 5 }))?._id, 1);
    assert.equal(commands(rs.requests(0), "find")[0].body.maxTimeMS, undefined);
    // Without timeoutMS anywhere, an operation's own maxTimeMS is sent as it is.
    rs.clearFaults();
    await using plain = await ReplicaSetConnection.connect(rs.uri, FAST);
    rs.clearLog();
    await plain.db("t").collection("c").findOne({}, { maxTimeMS: 1234 });
    assert.equal(num(commands(rs.requests(0), "find")[0].body.maxTimeMS), 1234);
    assert.equal(plain.timeoutMS, undefined);
  });

  test("timeoutMS is checked at every level", () => {
    const { client } = fakeClient();
    assert.throws(() => client.db("t", { timeoutMS: -1 }), ConfigurationError);
    assert.throws(() => client.db("t").collection("c", { timeoutMS: 1.5 }), ConfigurationError);
    assert.throws(() => client.db("t").collection("c").find({}, { timeoutMS: "1" as unknown as number }), /timeoutMS/);
    assert.throws(
      () => client.db("t").collection("c").find({}, { timeoutMode: "iteration" }),
      /timeoutMode needs timeoutMS/,
    );
    assert.throws(
      () => client.db("t").collection("c").aggregate([{ $out: "x" }], { timeoutMS: 10, timeoutMode: "iteration" }),
      /\$out or \$merge/,
    );
    assert.throws(() => new ReplicaSetConnection("a", { replicaSet: "foo", timeoutMS: -5 }), ConfigurationError);
    return client.db("t").collection("c").insertOne({}, { timeoutMS: -1 }).then(
      () => assert.fail("accepted a negative timeoutMS"),
      (e) => assert.ok(e instanceof ConfigurationError),
    );
  });
});

describe("timeoutMS: errors and retries (fake topology)", () => {
  test("the server's MaxTimeMSExpired becomes an OperationTimeoutError under timeoutMS, with the reply as cause", async () => {
    const reply = { ok: 0, code: 50, codeName: "MaxTimeMSExpired", errmsg: "operation exceeded time limit" };
    const expired = (call: Call) => {
      if (Object.keys(call.cmd)[0] !== "find") return okHandler(call);
      throw new OperationFailure(reply.errmsg, { code: 50, codeName: reply.codeName, response: reply });
    };
    const { client } = fakeClient(expired);
    const coll = client.db("t").collection("c");
    const plain = await rejection(coll.findOne({}), "findOne without timeoutMS");
    assert.ok(plain instanceof OperationFailure && !(plain instanceof OperationTimeoutError));
    const e = await rejection(coll.findOne({}, { timeoutMS: 5000 }), "findOne with timeoutMS");
    assert.ok(e instanceof OperationTimeoutError);
    assert.ok(e.cause instanceof OperationFailure && e.cause.code === 50);
    assert.match(e.message, /waiting for the reply from a:27017: operation exceeded time limit/);
  });

  test("a ServerSelectionError becomes an OperationTimeoutError under timeoutMS, its message included", async () => {
    const { client, topology } = fakeClient();
    topology.servers = topology.servers.filter((s) => s.description.type !== "RSSecondary");
    const coll = client.db("t").collection("c");
    assert.ok(
      (await rejection(coll.findOne({}, { readPreference: "secondary" }), "no timeoutMS")) instanceof
        ServerSelectionError,
    );
    const e = await rejection(coll.findOne({}, { readPreference: "secondary", timeoutMS: 0 }), "timeoutMS 0");
    assert.ok(e instanceof OperationTimeoutError);
    assert.ok(e.cause instanceof ServerSelectionError);
    assert.equal(
      e.message,
      "find: timed out waiting for server selection (timeoutMS 0: no limit, serverSelectionTimeoutMS came first): " +
        "no server for secondary",
    );
  });

  test("retryable read errors: one retry without timeoutMS, as many as a finite deadline allows with it", async () => {
    let failures = 0;
    const flaky = (call: Call) => {
      if (Object.keys(call.cmd)[0] === "find" && failures > 0) {
        failures--;
        throw new AutoReconnect("connection reset; the operation may or may not have happened", {
          address: call.server,
        });
      }
      return okHandler(call);
    };
    const { client, log } = fakeClient(flaky, { readPreference: "secondaryPreferred" });
    const coll = client.db("t").collection("c");
    failures = 3;
    await assert.rejects(coll.findOne({}), AutoReconnect);
    assert.equal(log.filter((c) => c.cmd.find !== undefined).length, 2, "tried twice");
    log.length = 0;
    failures = 3;
    assert.equal(await coll.findOne({}, { timeoutMS: 10_000 }), null);
    assert.equal(log.filter((c) => c.cmd.find !== undefined).length, 4, "three failures, then success");
    // timeoutMS: 0 has no deadline to bound retries: once, as without it.
    log.length = 0;
    failures = 3;
    await assert.rejects(coll.findOne({}, { timeoutMS: 0 }), AutoReconnect);
    assert.equal(log.filter((c) => c.cmd.find !== undefined).length, 2);
    // Writes are not retried (retryable writes need sessions), whatever retryWrites says.
    const { client: w, log: wlog } = fakeClient((call) => {
      if (Object.keys(call.cmd)[0] === "insert") throw new AutoReconnect("reset", { address: call.server });
      return okHandler(call);
    }, { retryWrites: true });
    await assert.rejects(w.db("t").collection("c").insertOne({}, { timeoutMS: 10_000 }), AutoReconnect);
    assert.equal(wlog.length, 1);
  });

  test("under timeoutMS the write concern's deprecated wtimeout is not sent", async () => {
    const { client, log } = fakeClient(okHandler, { writeConcern: { w: "majority", wtimeout: 500 } });
    const coll = client.db("t").collection("c");
    await coll.insertOne({ _id: 1 });
    await coll.insertOne({ _id: 2 }, { timeoutMS: 10_000 });
    assert.deepEqual(log.map((c) => c.cmd.writeConcern), [{ w: "majority", wtimeout: 500 }, { w: "majority" }]);
    assert.equal(typeof log[1].cmd.maxTimeMS, "number");
  });

  test("no time left after the round-trip estimate: a timeout error, nothing sent", async () => {
    const { client, log } = fakeClient(); // the fake servers' RTT is 1 ms
    const e = await rejection(client.db("t").collection("c").insertOne({}, { timeoutMS: 1 }), "insertOne");
    assert.ok(e instanceof OperationTimeoutError, String(e));
    assert.match(
      e.message,
      /^insert: timeoutMS \(1 ms\) expired before the command was sent to a:27017 \(\d ms left, round trip ~1 ms\)$/,
    );
    assert.equal(log.length, 0);
  });
});

describe("timeoutMS: cursors", () => {
  test("cursorLifetime (the default): one deadline for find and its getMores; fetched documents are still returned", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "life" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i })));
    rs.clearLog();
    const cursor = coll.find({}, { timeoutMS: 300 }).batchSize(3);
    assert.equal((await cursor.next())?._id, 0);
    const find = commands(rs.requests(0), "find")[0];
    const maxTimeMS = num(find.body.maxTimeMS);
    assert.ok(typeof maxTimeMS === "number" && maxTimeMS <= 300, String(maxTimeMS));
    rs.fault(0, { hang: true, commands: ["getMore"] });
    const started = performance.now();
    await until(() => performance.now() - started > 300, "the cursor's deadline passed");
    // Buffered documents come back after the deadline; the getMore fails at once.
    assert.equal((await cursor.next())?._id, 1);
    assert.equal((await cursor.next())?._id, 2);
    const e = await rejection(cursor.next(), "next() needing a getMore");
    assert.ok(e instanceof OperationTimeoutError && e.message.startsWith("getMore: timeoutMS (300 ms)"), String(e));
    assert.equal(commands(rs.requests(0), "getMore").length, 0, "not sent: the deadline had passed");
    // The server cursor is killed, with a fresh timeoutMS.
    await until(() => commands(rs.requests(0), "killCursors").length === 1, "killCursors sent");
    assert.equal(cursor.closed, true);
  });

  test("iteration: no maxTimeMS on find; each next() that fetches gets its own timeoutMS", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "iter" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("t").collection("c");
    await coll.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i })));
    rs.clearLog();
    const cursor = coll.find({}, { timeoutMS: 300, timeoutMode: "iteration" }).batchSize(2);
    assert.equal((await cursor.next())?._id, 0);
    assert.equal(commands(rs.requests(0), "find")[0].body.maxTimeMS, undefined);
    const started = performance.now();
    await until(() => performance.now() - started > 400, "longer than timeoutMS passed");
    assert.equal((await cursor.next())?._id, 1);
    assert.equal((await cursor.next())?._id, 2, "a getMore after timeoutMS has passed since the find");
    rs.fault(0, { hang: true, commands: ["getMore"] });
    assert.equal((await cursor.next())?._id, 3);
    const e = await rejection(cursor.next(), "next() on a hung getMore");
    assert.ok(e instanceof OperationTimeoutError && e.phase === "reply", String(e));
    for (const r of commands(rs.requests(0), "getMore")) assert.equal(r.body.maxTimeMS, undefined);
  });
});
