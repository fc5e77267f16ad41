// Monitoring events on the client (command, SDAM, CMAP) against the
// simulated replica set: what is published, with which fields, in which order.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import {
  CommandFailedEvent,
  CommandStartedEvent,
  CommandSucceededEvent,
  ConnectionCheckedOutEvent,
  OperationFailure,
  ServerDescriptionChangedEvent,
} from "../../mod.ts";
import type { ClientEventMap } from "../../src/client/monitoring.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

/** Polls `cond` every 20 ms, at most 250 times; fails with `what` if it never holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function record<K extends keyof ClientEventMap>(
  conn: ReplicaSetConnection,
  types: readonly K[],
): ClientEventMap[K][] {
  const seen: ClientEventMap[K][] = [];
  for (const t of types) conn.addEventListener(t, (e) => void seen.push(e as ClientEventMap[K]));
  return seen;
}

describe("command monitoring events", () => {
  test("started and succeeded for every command an operation sends, getMore included; failed for ok 0", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "mon" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const events = record(c, ["commandStarted", "commandSucceeded", "commandFailed"]);
    const coll = c.db("app").collection("items");
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    const all = await coll.find({}, { batchSize: 2 }).toArray();
    assert.equal(all.length, 5);

    const started = events.filter((e) => e instanceof CommandStartedEvent);
    const names = started.map((e) => e.commandName);
    assert.deepEqual(names, ["insert", "find", "getMore", "getMore"]);
    const insert = started[0];
    assert.equal(insert.databaseName, "app");
    assert.equal(insert.command.insert, "items");
    assert.equal((insert.command.documents as unknown[]).length, 5, "the document sequence is in the command");
    assert.equal(insert.address, (await rs.waitForPrimary()).host);
    assert.ok(insert.connectionId >= 1);
    assert.equal(typeof insert.serverConnectionId, "number");
    // Every started event has exactly one outcome, with the same request id, in order.
    for (const s of started) {
      const outcomes = events.filter((e) => !(e instanceof CommandStartedEvent) && e.requestId === s.requestId);
      assert.equal(outcomes.length, 1, `${s.commandName}: one outcome`);
      const done = outcomes[0];
      assert.ok(done instanceof CommandSucceededEvent, `${s.commandName} succeeded`);
      assert.ok(events.indexOf(done) > events.indexOf(s));
      assert.equal(done.commandName, s.commandName);
      assert.equal(done.connectionId, s.connectionId);
      assert.equal(done.operationId, s.requestId);
      assert.ok(done.durationMS >= 0);
      assert.equal(done.reply.ok, 1);
    }

    events.length = 0;
    await assert.rejects(c.db("app").command({ noSuchCommand: 1 }), OperationFailure);
    assert.deepEqual(events.map((e) => e.type), ["commandStarted", "commandFailed"]);
    const failed = events[1] as CommandFailedEvent;
    assert.ok(failed.failure instanceof OperationFailure);
    assert.equal(failed.commandName, "noSuchCommand");

    // No heartbeat or handshake is published: wait for a few heartbeats with nothing sent.
    events.length = 0;
    const beats: unknown[] = [];
    c.addEventListener("serverHeartbeatSucceeded", (e) => void beats.push(e));
    await until(() => beats.length >= 6, "six heartbeats");
    assert.deepEqual(events, []);
  });

  test("a network failure publishes commandFailed", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "monfail" });
    await using c = await ReplicaSetConnection.connect(rs.uri, { ...FAST, retryReads: false });
    const coll = c.db("app").collection("items");
    await coll.insertOne({ a: 1 });
    const events = record(c, ["commandStarted", "commandSucceeded", "commandFailed"]);
    rs.fault(0, { closeNext: 1, commands: ["find"] });
    await assert.rejects(coll.findOne({}));
    const failed = events.find((e) => e instanceof CommandFailedEvent);
    assert.ok(failed !== undefined, events.map((e) => e.type).join());
    assert.equal(failed.commandName, "find");
    assert.ok(failed.failure instanceof Error);
  });

  test("authentication commands are redacted; the handshake's are not published", async () => {
    await using rs = await startReplicaSet({
      members: 1,
      name: "monauth",
      users: [{ user: "ada", password: "pencil" }],
    });
    await using c = await ReplicaSetConnection.connect(
      `mongodb://ada:pencil@${rs.hosts[0]}/?replicaSet=monauth`,
      FAST,
    );
    const events = record(c, ["commandStarted", "commandSucceeded", "commandFailed"]);
    await c.db("app").collection("x").insertOne({ a: 1 });
    assert.deepEqual(events.map((e) => (e as CommandStartedEvent).commandName), ["insert", "insert"]);
    events.length = 0;
    const payload = new TextEncoder().encode("n,,n=ada,r=abcdefghijklmnop");
    await c.db("admin").command({ saslStart: 1, mechanism: "SCRAM-SHA-256", payload }).catch(() => undefined);
    assert.equal(events.length, 2, events.map((e) => e.type).join());
    const [started, done] = events;
    assert.ok(started instanceof CommandStartedEvent);
    assert.equal(started.commandName, "saslStart");
    assert.deepEqual(started.command, {});
    if (done instanceof CommandSucceededEvent) assert.deepEqual(done.reply, {});
    else assert.ok(done instanceof CommandFailedEvent);
    // A hello with speculativeAuthenticate is redacted too; a plain one is not.
    events.length = 0;
    await c.db("admin").command({ hello: 1, speculativeAuthenticate: { saslStart: 1 } }).catch(() => undefined);
    await c.db("admin").command({ hello: 1 });
    const hellos = events.filter((e) => e instanceof CommandStartedEvent);
    assert.deepEqual(hellos[0].command, {});
    assert.equal(hellos[1].command.hello, 1);
    const replies = events.filter((e) => e instanceof CommandSucceededEvent);
    assert.deepEqual(replies.at(-1)!.reply.ok, 1);
  });

  test("the legacy path (wire 3): OP_QUERY finds, OP_GET_MORE and commands on $cmd are published as commands", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "monlegacy", maxWireVersion: 3 });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const coll = c.db("app").collection("items");
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    const events = record(c, ["commandStarted", "commandSucceeded", "commandFailed"]);
    const docs = await coll.find({ i: { $gte: 0 } }, { batchSize: 2 }).toArray();
    assert.equal(docs.length, 5);
    const started = events.filter((e) => e instanceof CommandStartedEvent);
    assert.deepEqual(started.map((e) => e.commandName), ["find", "getMore", "getMore"]);
    assert.equal(started[0].command.find, "items");
    assert.deepEqual(started[0].command.filter, { i: { $gte: 0 } });
    assert.equal(started[1].command.collection, "items");
    const replies = events.filter((e) => e instanceof CommandSucceededEvent);
    assert.equal(replies.length, 3);
    const first = (replies[0].reply.cursor as { firstBatch: unknown[] }).firstBatch;
    assert.equal(first.length, 2);
    events.length = 0;
    await c.db("app").command({ ping: 1 });
    assert.deepEqual(events.map((e) => `${e.type} ${(e as CommandStartedEvent).commandName}`), [
      "commandStarted ping",
      "commandSucceeded ping",
    ]);
  });

  test("no listener: nothing is built; removing the last listener stops the events", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "monoff" });
    await using c = await ReplicaSetConnection.connect(rs.uri, FAST);
    const seen: string[] = [];
    const listener = (e: CommandStartedEvent) => void seen.push(e.commandName);
    c.addEventListener("commandStarted", listener);
    c.addEventListener("commandStarted", listener); // the same listener twice is one
    await c.db("a").command({ ping: 1 });
    c.removeEventListener("commandStarted", listener);
    await c.db("a").command({ ping: 1 });
    assert.deepEqual(seen, ["ping"]);
    const controller = new AbortController();
    c.addEventListener("commandStarted", listener, { signal: controller.signal });
    await c.db("a").command({ ping: 1 });
    controller.abort();
    await c.db("a").command({ ping: 1 });
    assert.deepEqual(seen, ["ping", "ping"]);
  });
});

describe("SDAM events", () => {
  test("opening, heartbeats, a primary kill and the new primary, closing", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "sdam", electionDelayMS: 200 });
    const c = new ReplicaSetConnection(rs.uri, FAST);
    const types: string[] = [];
    const changes: ServerDescriptionChangedEvent[] = [];
    for (
      const t of [
        "topologyOpening",
        "topologyDescriptionChanged",
        "topologyClosed",
        "serverOpening",
        "serverClosed",
        "serverHeartbeatStarted",
        "serverHeartbeatSucceeded",
        "serverHeartbeatFailed",
      ] as const
    ) {
      c.addEventListener(t, (e) => void types.push(e.type));
    }
    c.addEventListener("serverDescriptionChanged", (e) => {
      types.push(e.type);
      changes.push(e);
    });
    await c.connect();
    assert.equal(types[0], "topologyOpening");
    assert.equal(types[1], "topologyDescriptionChanged");
    assert.equal(types.filter((t) => t === "serverOpening").length, 3);
    assert.ok(types.includes("serverHeartbeatStarted") && types.includes("serverHeartbeatSucceeded"));
    const old = await rs.waitForPrimary();
    await until(
      () => changes.some((e) => e.address === old.host && e.newDescription.type === "RSPrimary"),
      "the primary's description",
    );
    const failedBefore = types.filter((t) => t === "serverHeartbeatFailed").length;
    await rs.kill(old);
    const next = await rs.waitForPrimary();
    await until(
      () => changes.some((e) => e.address === old.host && e.newDescription.type === "Unknown"),
      "the killed primary marked Unknown",
    );
    await until(
      () => changes.some((e) => e.address === next.host && e.newDescription.type === "RSPrimary"),
      "the new primary's description",
    );
    assert.ok(types.filter((t) => t === "serverHeartbeatFailed").length > failedBefore);
    await c.close();
    assert.equal(types.at(-1), "topologyClosed");
    assert.equal(types.at(-2), "topologyDescriptionChanged");
    assert.equal(types.filter((t) => t === "serverClosed").length, 3);
  });
});

describe("CMAP events", () => {
  test("ready after the first check, checkout, check in; a network error clears (pauses) the pool until the next check", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "cmap" });
    const c = new ReplicaSetConnection(rs.uri, { ...FAST, retryReads: false });
    const seen: { type: string; id?: number; reason?: string }[] = [];
    for (
      const t of [
        "poolCreated",
        "poolReady",
        "poolCleared",
        "poolClosed",
        "connectionCreated",
        "connectionReady",
        "connectionClosed",
        "connectionCheckOutStarted",
        "connectionCheckOutFailed",
        "connectionCheckedOut",
        "connectionCheckedIn",
      ] as const
    ) {
      c.addEventListener(t, (e) => {
        const id = (e as { connectionId?: number }).connectionId;
        const reason = (e as { reason?: string }).reason;
        seen.push({ type: e.type, ...(id === undefined ? {} : { id }), ...(reason === undefined ? {} : { reason }) });
      });
    }
    await c.connect();
    const coll = c.db("app").collection("x");
    await coll.insertOne({ a: 1 });
    assert.equal(seen[0].type, "poolCreated");
    // The pool starts paused; the server's first good check makes it ready.
    assert.equal(seen[1].type, "poolReady");
    const flow = seen.slice(2).map((e) => e.type);
    assert.deepEqual(flow, [
      "connectionCheckOutStarted",
      "connectionCreated",
      "connectionReady",
      "connectionCheckedOut",
      "connectionCheckedIn",
    ]);
    const checkedOut = seen.find((e) => e.type === "connectionCheckedOut")!;
    assert.equal(checkedOut.id, 1, "a pool numbers its connections from 1");

    seen.length = 0;
    rs.fault(0, { closeNext: 1, commands: ["find"] });
    await assert.rejects(coll.findOne({}));
    await until(() => seen.some((e) => e.type === "poolCleared"), "poolCleared");
    assert.ok(
      seen.some((e) => e.type === "connectionClosed" && e.id === 1 && e.reason === "error"),
      JSON.stringify(seen),
    );
    // Cleared means paused until the monitor checks the server again; then ready, and usable.
    await until(
      () => seen.findIndex((e) => e.type === "poolReady") > seen.findIndex((e) => e.type === "poolCleared"),
      "poolReady after the clear",
    );
    assert.equal((await coll.findOne({}))?.a, 1);
    await c.close();
    assert.equal(seen.at(-1)!.type, "poolClosed");
    assert.ok(ConnectionCheckedOutEvent !== undefined);
  });
});
