// The live topology against a set of loopback fake mongods answering hello as
// replica set "foo": discovery from one seed, selection, read preference on
// the wire (OP_MSG and OP_QUERY), failover, heartbeats, error mapping, close.
import { assertExitsOnItsOwn } from "../helpers/run_child.ts";
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  AutoReconnect,
  ConfigurationError,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  ServerSelectionError,
  WriteConcernError,
} from "../../src/errors.ts";
import { parseHostAddress } from "../../src/topology/connection_string.ts";
import { resolveClientOptions } from "../../src/topology/options.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { readPreferenceOnWire } from "../../src/topology/server.ts";
import { Topology } from "../../src/topology/topology.ts";
import { Monitor } from "../../src/topology/monitor.ts";
import { unknownServerDescription } from "../../src/topology/server_description.ts";
import { startFakeReplicaSet } from "../helpers/fake_replica_set.ts";
import { startFakeMongod } from "../helpers/fake_mongod.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` up to `tries` times, 10 ms apart (bounded by count, not by time). */
async function eventually(cond: () => boolean, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

function topologyOf(seeds: string[], options: Record<string, unknown> = {}): Topology {
  return new Topology({
    seeds: seeds.map((s) => parseHostAddress(s, { percentEncoded: false })),
    options: resolveClientOptions({}, { replicaSet: "foo", serverSelectionTimeoutMS: 10_000, ...options }),
  });
}

const PRIMARY = ReadPreference.PRIMARY;
const read = (readPreference: ReadPreference) => ({ operation: "read" as const, readPreference });
const write = { operation: "write" as const, readPreference: PRIMARY };

describe("Topology: discovery and selection", () => {
  test("one seed that is a secondary discovers every member and finds the primary", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[1]]);
    try {
      assert.equal(topology.description.servers.size, 1, "the constructor does no I/O");
      await topology.connect();
      assert.equal(topology.description.type, "ReplicaSetWithPrimary");
      assert.deepEqual([...topology.description.servers.keys()].sort(), [...rs.addresses].sort());
      const primary = await topology.selectServer(write);
      assert.equal(primary.address, rs.addresses[0]);
      assert.equal(primary.description.type, "RSPrimary");
      await eventually(
        () => [...topology.description.servers.values()].every((s) => s.type !== "Unknown"),
        "every member checked",
      );
      assert.equal(topology.description.servers.get(rs.addresses[2])?.type, "RSSecondary");
      for (const s of topology.description.servers.values()) {
        assert.ok(s.roundTripTime !== null && s.roundTripTime >= 0, `${s.address} has an RTT`);
      }
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("connect() is idempotent and a second call resolves at once", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await Promise.all([topology.connect(), topology.connect()]);
      await topology.connect();
      await eventually(() => rs.members.every((m) => m.accepted >= 1), "every member monitored");
      await sleep(50);
      // One monitoring connection per member, not one per connect() call.
      assert.deepEqual(rs.members.map((m) => m.accepted), [1, 1, 1]);
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("selectServer picks the right type for primary, secondaryPreferred and secondary", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect({ readPreference: ReadPreference.SECONDARY_ONLY });
      await eventually(
        () => [...topology.description.servers.values()].every((s) => s.type !== "Unknown"),
        "every member checked",
      );
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        assert.equal((await topology.selectServer(read(PRIMARY))).description.type, "RSPrimary");
        assert.equal((await topology.selectServer(write)).address, rs.addresses[0]);
        const sp = await topology.selectServer(read(ReadPreference.SECONDARY));
        assert.equal(sp.description.type, "RSSecondary");
        const so = await topology.selectServer(read(ReadPreference.SECONDARY_ONLY));
        assert.equal(so.description.type, "RSSecondary");
        seen.add(so.address);
      }
      assert.equal(seen.size, 2, "both secondaries are used");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("secondaryPreferred falls back to the primary; secondary fails after serverSelectionTimeoutMS", async () => {
    const rs = await startFakeReplicaSet({ roles: ["primary"] });
    const topology = topologyOf([rs.addresses[0]], { serverSelectionTimeoutMS: 300 });
    try {
      await topology.connect();
      const sp = await topology.selectServer(read(ReadPreference.SECONDARY));
      assert.equal(sp.address, rs.addresses[0]);
      const error = await rejectsWith(
        topology.selectServer(read(ReadPreference.SECONDARY_ONLY)),
        ServerSelectionError,
      );
      assert.match(error.message, /secondary/);
      assert.match(error.message, new RegExp(rs.addresses[0]));
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a member the primary stops listing is dropped, and one it adds is monitored", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]], { heartbeatFrequencyMS: 500 });
    try {
      await topology.connect();
      await eventually(() => topology.description.servers.size === 3, "three members");
      rs.setHosts([rs.addresses[0], rs.addresses[1]]);
      topology.requestCheck();
      await eventually(() => !topology.description.servers.has(rs.addresses[2]), "member 3 removed", 1000);
      // Its monitor stopped: no more heartbeats reach it.
      await sleep(50);
      const after = rs.heartbeats(2);
      await sleep(1200);
      assert.equal(rs.heartbeats(2), after, "a removed member is no longer checked");
      rs.setHosts(rs.addresses);
      topology.requestCheck();
      await eventually(
        () => topology.description.servers.get(rs.addresses[2])?.type === "RSSecondary",
        "member 3 back",
        1000,
      );
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("onDescriptionChanged reports changes and unsubscribes", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    const types: string[] = [];
    const off = topology.onDescriptionChanged((prev, next) => {
      assert.notEqual(prev, next);
      types.push(next.type);
    });
    try {
      await topology.connect();
      assert.ok(types.includes("ReplicaSetWithPrimary"));
      off();
      const count = types.length;
      rs.setRoles(["secondary", "secondary", "secondary"]);
      topology.requestCheck();
      await eventually(() => topology.description.type === "ReplicaSetNoPrimary", "no primary", 1000);
      assert.equal(types.length, count);
    } finally {
      await topology.close();
      await rs.close();
    }
  });
});

describe("Topology: read preference on the wire", () => {
  for (const wire of [17, 5]) {
    test(`maxWireVersion ${wire} (${wire >= 6 ? "OP_MSG: $readPreference" : "OP_QUERY: secondaryOk bit"})`, async () => {
      const rs = await startFakeReplicaSet({ maxWireVersion: wire });
      const topology = topologyOf([rs.addresses[0]]);
      try {
        await topology.connect();
        await eventually(
          () => [...topology.description.servers.values()].every((s) => s.type !== "Unknown"),
          "every member checked",
        );
        const modes = [
          ReadPreference.PRIMARY,
          ReadPreference.SECONDARY,
          ReadPreference.SECONDARY_ONLY,
          ReadPreference.PRIMARY_PREFERRED,
          ReadPreference.NEAREST,
        ];
        for (const rp of modes) {
          const server = await topology.selectServer(read(rp));
          const before = server.address === rs.addresses[0] ? 0 : server.address === rs.addresses[1] ? 1 : 2;
          const count = rs.commands(before, "find").length;
          const reply = await server.command("test", { find: "c", filter: {} }, {
            operation: "read",
            readPreference: rp,
          });
          assert.equal(reply.ok, 1);
          const sent = rs.commands(before, "find");
          assert.equal(sent.length, count + 1, `the find reached ${server.address}`);
          const request = sent[sent.length - 1];
          if (wire >= 6) {
            assert.equal(request.opName, "OP_MSG");
            if (rp.mode === "primary") assert.equal(request.body.$readPreference, undefined);
            else assert.deepEqual(request.body.$readPreference, { mode: rp.mode });
          } else {
            assert.equal(request.opName, "OP_QUERY");
            assert.equal((request.flags & 4) !== 0, rp.mode !== "primary", `secondaryOk bit for ${rp.mode}`);
            assert.equal(request.body.$readPreference, undefined, "no $readPreference for a mongod");
            assert.equal(request.body.$query, undefined);
          }
        }
        // Monitoring checks after the handshake: hello over OP_MSG (the handshake said helloOk), isMaster over OP_QUERY.
        topology.requestCheck(); // no check is in progress now: one follows within 500 ms
        await eventually(() => rs.heartbeats(0) >= 1, "a heartbeat after the handshake", 400);
        const checks = rs.members[0].requests.filter((r) => r.isHello && r.index > 1);
        assert.ok(
          checks.every((r) => r.command === (wire >= 6 ? "hello" : "isMaster")),
          checks.map((r) => r.command).join(),
        );
        assert.ok(checks.every((r) => r.opName === (wire >= 6 ? "OP_MSG" : "OP_QUERY")));
        // Writes carry no read preference.
        const primary = await topology.selectServer(write);
        await primary.command("test", { insert: "c" }, {
          operation: "write",
          sequences: [{ identifier: "documents", documents: [{ x: 1 }] }],
        });
        const insert = rs.commands(0, "insert").at(-1)!;
        assert.equal(insert.body.$readPreference, undefined);
        assert.equal(insert.flags & 4, 0);
      } finally {
        await topology.close();
        await rs.close();
      }
    });
  }

  test("a direct connection to a secondary sends primaryPreferred for primary reads (OP_MSG)", async () => {
    const rs = await startFakeReplicaSet();
    const topology = new Topology({
      seeds: [parseHostAddress(rs.addresses[1], { percentEncoded: false })],
      options: resolveClientOptions({}, { directConnection: true, serverSelectionTimeoutMS: 5000 }),
    });
    try {
      await topology.connect();
      assert.equal(topology.description.type, "Single");
      assert.equal(topology.description.servers.size, 1, "no discovery on a direct connection");
      const server = await topology.selectServer(read(PRIMARY));
      assert.equal(server.address, rs.addresses[1]);
      await server.command("test", { find: "c" }, { operation: "read" });
      assert.deepEqual(rs.commands(1, "find").at(-1)!.body.$readPreference, { mode: "primaryPreferred" });
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("mongos: Sharded topology, $readPreference passed on (OP_MSG), plain secondaryPreferred is the bit only (OP_QUERY)", async () => {
    const mongoses = [
      await startFakeMongod({ maxWireVersion: 17, hello: { msg: "isdbgrid" } }),
      await startFakeMongod({ maxWireVersion: 5, hello: { msg: "isdbgrid" } }),
    ];
    const topology = new Topology({
      seeds: mongoses.map((m) => parseHostAddress(m.address, { percentEncoded: false })),
      options: resolveClientOptions({}, { serverSelectionTimeoutMS: 5000, localThresholdMS: 10_000 }),
    });
    try {
      await topology.connect();
      await eventually(
        () => [...topology.description.servers.values()].every((s) => s.type === "Mongos"),
        "both mongoses checked",
      );
      assert.equal(topology.description.type, "Sharded");
      for (const rp of [ReadPreference.SECONDARY, ReadPreference.SECONDARY_ONLY, PRIMARY]) {
        for (const [index, mongos] of mongoses.entries()) {
          // Selection among mongoses is random: select until this one comes up (bounded).
          let server = await topology.selectServer(read(rp));
          for (let tries = 0; server.address !== mongos.address && tries < 200; tries++) {
            server = await topology.selectServer(read(rp));
          }
          assert.equal(server.address, mongos.address);
          await server.command("test", { find: "c" }, { operation: "read", readPreference: rp });
          const r = mongos.commands("find").at(-1)!;
          const sentRp = r.body.$readPreference as { mode: string } | undefined;
          if (index === 0) {
            assert.equal(r.opName, "OP_MSG");
            if (rp.mode === "primary") assert.equal(sentRp, undefined);
            else assert.deepEqual(sentRp, { mode: rp.mode });
          } else {
            assert.equal(r.opName, "OP_QUERY");
            assert.equal((r.flags & 4) !== 0, rp.mode !== "primary", `secondaryOk for ${rp.mode}`);
            if (rp.mode === "secondary") {
              assert.deepEqual(sentRp, { mode: "secondary" });
              assert.deepEqual(r.body.$query, { find: "c" });
            } else {
              assert.equal(sentRp, undefined, `no $readPreference for ${rp.mode}`);
              assert.equal(r.body.$query, undefined);
            }
          }
        }
      }
    } finally {
      await topology.close();
      for (const m of mongoses) await m.close();
    }
  });

  test("loadBalanced: no monitor, the handshake says loadBalanced, commands work", async () => {
    const lb = await startFakeMongod({ maxWireVersion: 17, hello: { msg: "isdbgrid", serviceId: "x" } });
    const topology = new Topology({
      seeds: [parseHostAddress(lb.address, { percentEncoded: false })],
      // The client refuses loadBalanced=true (cursors are not pinned to a connection yet);
      // the topology's load-balanced machinery is tested here on its own.
      options: { ...resolveClientOptions({}, { serverSelectionTimeoutMS: 5000 }), loadBalanced: true },
    });
    try {
      await topology.connect();
      assert.equal(topology.description.type, "LoadBalanced");
      const server = await topology.selectServer(write);
      assert.equal((await server.command("test", { ping: 1 }, { operation: "write" })).ok, 1);
      const hellos = lb.requests.filter((r) => r.isHello);
      assert.equal(hellos.length, 1, "only the pooled connection's handshake: nothing is monitored");
      assert.equal(hellos[0].body.loadBalanced, true);
    } finally {
      await topology.close();
      await lb.close();
    }
  });

  test("withConnection: a legacy OP_QUERY find with readPreferenceFor's flag; errors mapped as for command()", async () => {
    const rs = await startFakeReplicaSet({
      maxWireVersion: 3,
      handler: (_c, info) => (info.ns === "test.gone" ? "close" : undefined),
    });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect({ readPreference: ReadPreference.SECONDARY_ONLY });
      const secondary = await topology.selectServer(read(ReadPreference.SECONDARY_ONLY));
      const index = rs.addresses.indexOf(secondary.address);
      const reply = await secondary.withConnection((conn) => {
        const { secondaryOk } = secondary.readPreferenceFor(conn, "read", ReadPreference.SECONDARY_ONLY);
        return conn.query("test.c", {}, { secondaryOk });
      });
      assert.deepEqual(reply.documents, []);
      const query = rs.members[index].requests.filter((r) => r.ns === "test.c").at(-1)!;
      assert.equal(query.opName, "OP_QUERY");
      assert.equal(query.flags & 4, 4);
      const error = await rejectsWith(secondary.withConnection((conn) => conn.query("test.gone", {})), AutoReconnect);
      assert.equal(error.address, secondary.address);
      assert.equal(topology.description.servers.get(secondary.address)?.type, "Unknown");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("readPreferenceOnWire follows the server selection spec's table", () => {
    const rs = (
      topologyType: "ReplicaSetWithPrimary" | "Single" | "Sharded",
      serverType: "RSSecondary" | "Mongos" | "Standalone",
      opMsg: boolean,
    ) => ({ topologyType, serverType, opMsg });
    const sp = ReadPreference.SECONDARY;
    const tagged = new ReadPreference("secondaryPreferred", { tags: [{ dc: "ny" }] });
    assert.deepEqual(readPreferenceOnWire("read", sp, rs("ReplicaSetWithPrimary", "RSSecondary", false)), {
      secondaryOk: true,
    });
    assert.deepEqual(readPreferenceOnWire("read", PRIMARY, rs("ReplicaSetWithPrimary", "RSSecondary", true)), {
      secondaryOk: false,
    });
    assert.deepEqual(readPreferenceOnWire("read", undefined, rs("Single", "Standalone", true)), { secondaryOk: false });
    assert.deepEqual(readPreferenceOnWire("read", undefined, rs("Single", "RSSecondary", false)), {
      secondaryOk: true,
    });
    assert.deepEqual(readPreferenceOnWire("read", sp, rs("Sharded", "Mongos", false)), { secondaryOk: true });
    assert.deepEqual(readPreferenceOnWire("read", tagged, rs("Sharded", "Mongos", false)), {
      secondaryOk: true,
      readPreference: { mode: "secondaryPreferred", tags: [{ dc: "ny" }] },
    });
    assert.deepEqual(readPreferenceOnWire("read", ReadPreference.NEAREST, rs("Single", "Mongos", false)), {
      secondaryOk: true,
      readPreference: { mode: "nearest" },
    });
    assert.deepEqual(readPreferenceOnWire("read", PRIMARY, rs("Sharded", "Mongos", true)), { secondaryOk: false });
    assert.deepEqual(readPreferenceOnWire("write", sp, rs("ReplicaSetWithPrimary", "RSSecondary", true)), {
      secondaryOk: false,
    });
  });
});

describe("Topology: failover and error handling", () => {
  test("primary killed: AutoReconnect, ReplicaSetNoPrimary at once, then the new primary without reconnecting", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const oldPrimary = await topology.selectServer(write);
      assert.equal((await oldPrimary.command("test", { ping: 1 }, { operation: "write" })).ok, 1);
      await rs.kill(0);
      const error = await rejectsWith(oldPrimary.command("test", { ping: 1 }, { operation: "write" }), AutoReconnect);
      assert.equal(error.address, rs.addresses[0]);
      assert.match(
        error.message,
        new RegExp(`^${rs.addresses[0]}: .*; the operation (may or may not have happened|was not sent)$`),
      );
      assert.ok(error.cause instanceof Error, "the original error is the cause");
      // Marked Unknown by the error itself: a dropped connection, or a refused one.
      assert.equal(topology.description.type, "ReplicaSetNoPrimary");
      assert.equal(topology.description.servers.get(rs.addresses[0])?.type, "Unknown");
      rs.elect(1);
      const newPrimary = await topology.selectServer(write);
      assert.equal(newPrimary.address, rs.addresses[1]);
      assert.equal((await newPrimary.command("test", { ping: 1 }, { operation: "write" })).ok, 1);
      assert.equal(topology.description.type, "ReplicaSetWithPrimary");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a refused connection to a dead primary marks it Unknown at once (no pooled connection yet)", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      await rs.kill(0);
      const error = await rejectsWith(primary.command("test", { ping: 1 }, { operation: "write" }), AutoReconnect);
      assert.match(error.message, /; the operation was not sent$/);
      assert.equal(topology.description.type, "ReplicaSetNoPrimary");
      // No primary is elected: selection for a write fails with the topology in its message.
      const topology2 = topologyOf([rs.addresses[0], rs.addresses[1]], { serverSelectionTimeoutMS: 300 });
      try {
        const e = await rejectsWith(topology2.selectServer(write), ServerSelectionError);
        assert.match(e.message, /ReplicaSetNoPrimary/);
      } finally {
        await topology2.close();
      }
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a seed whose name does not resolve is Unknown with the lookup error", async () => {
    const topology = topologyOf(["no-such-host.invalid:27017"], { serverSelectionTimeoutMS: 500 });
    try {
      const e = await rejectsWith(topology.connect(), ServerSelectionError);
      assert.match(e.message, /no-such-host\.invalid:27017 Unknown/);
    } finally {
      await topology.close();
    }
  });

  test("a connection dropped mid-command: AutoReconnect, server Unknown, pool cleared", async () => {
    const rs = await startFakeReplicaSet({ handler: (_c, info) => (info.command === "drop" ? "close" : undefined) });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      const generation = primary.poolGeneration;
      const error = await rejectsWith(primary.command("test", { drop: "c" }, { operation: "write" }), AutoReconnect);
      assert.match(error.message, /the operation may or may not have happened$/);
      assert.ok(primary.poolGeneration > generation, "pool cleared");
      // The server comes back with the next check (the network error brought it forward).
      await eventually(() => topology.description.type === "ReplicaSetWithPrimary", "primary again", 400);
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test('"not primary" (code and message forms): AutoReconnect, Unknown, immediate check finds it again', async () => {
    let answer: Record<string, unknown> = { ok: 0, code: 10107, codeName: "NotWritablePrimary", errmsg: "not primary" };
    const rs = await startFakeReplicaSet({ handler: (_c, info) => (info.command === "insert" ? answer : undefined) });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      for (const form of ["code", "message"]) {
        if (form === "message") answer = { ok: 0, errmsg: "not master" };
        await eventually(() => topology.description.type === "ReplicaSetWithPrimary", "primary known", 400);
        const heartbeats = rs.heartbeats(0);
        const error = await rejectsWith(
          primary.command("test", { insert: "c" }, { operation: "write" }),
          AutoReconnect,
        );
        assert.ok(error.cause instanceof OperationFailure);
        assert.match(error.message, /not (primary|master)/);
        assert.notEqual(topology.description.type, "ReplicaSetWithPrimary");
        // The immediate check (default heartbeat is 10 s) finds the primary again.
        await eventually(() => topology.description.type === "ReplicaSetWithPrimary", "re-checked", 400);
        assert.ok(rs.heartbeats(0) > heartbeats);
      }
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("other OperationFailures pass through; write concern errors too", async () => {
    const rs = await startFakeReplicaSet({
      handler: (_c, info) =>
        info.command === "insert"
          ? { ok: 0, code: 11000, codeName: "DuplicateKey", errmsg: "duplicate key" }
          : info.command === "update"
          ? { ok: 1, n: 1, writeConcernError: { code: 64, errmsg: "waiting for replication timed out" } }
          : undefined,
    });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      const e = await rejectsWith(primary.command("test", { insert: "c" }, { operation: "write" }), OperationFailure);
      assert.equal(e.code, 11000);
      assert.ok(!(e instanceof AutoReconnect));
      await rejectsWith(primary.command("test", { update: "c" }, { operation: "write" }), WriteConcernError);
      assert.equal(topology.description.type, "ReplicaSetWithPrimary");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a socket timeout surfaces as AutoReconnect caused by NetworkTimeout; SDAM keeps the server", async () => {
    const rs = await startFakeReplicaSet({ handler: (_c, info) => (info.command === "slow" ? "hang" : undefined) });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      const error = await rejectsWith(
        primary.command("test", { slow: 1 }, { operation: "read", socketTimeoutMS: 50 }),
        AutoReconnect,
      );
      assert.ok(error.cause instanceof NetworkTimeout);
      assert.equal(topology.description.servers.get(rs.addresses[0])?.type, "RSPrimary");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("the caller's abort passes through unchanged", async () => {
    const rs = await startFakeReplicaSet({ handler: (_c, info) => (info.command === "slow" ? "hang" : undefined) });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      const pending = primary.command("test", { slow: 1 }, { operation: "read", signal: controller.signal });
      await sleep(20);
      controller.abort(reason);
      await assert.rejects(pending, (e) => e === reason);
      assert.equal(topology.description.type, "ReplicaSetWithPrimary");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("in-flight operations are counted per server", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const rs = await startFakeReplicaSet({
      handler: async (_c, info) => {
        if (info.command !== "slow") return undefined;
        await gate;
        return { ok: 1 };
      },
    });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      const ops = [1, 2, 3].map(() => primary.command("test", { slow: 1 }, { operation: "read" }));
      await eventually(() => primary.operationCount === 3, "three in flight");
      release();
      await Promise.all(ops);
      assert.equal(primary.operationCount, 0);
    } finally {
      release();
      await topology.close();
      await rs.close();
    }
  });
});

describe("Topology: bad input and edge cases", () => {
  test("bad options get typed errors", async () => {
    const rs = await startFakeReplicaSet({ roles: ["primary"] });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      assert.throws(() => new Topology({ seeds: [], options: resolveClientOptions({}, {}) }), ConfigurationError);
      assert.throws(() => new Topology(null as never), ConfigurationError);
      await topology.connect();
      const primary = await topology.selectServer(write);
      await rejectsWith(primary.command("test", { ping: 1 }, undefined as never), ConfigurationError);
      await rejectsWith(primary.command("test", { ping: 1 }, { operation: "delete" as never }), ConfigurationError);
      await rejectsWith(
        primary.command("test", { ping: 1 }, { operation: "read", readPreference: "sideways" as never }),
        ConfigurationError,
      );
      await rejectsWith(primary.command("a.b", { ping: 1 }, { operation: "read" }), ConfigurationError);
      await rejectsWith(topology.selectServer({ operation: "read" } as never), ConfigurationError);
      assert.throws(() => topology.onDescriptionChanged(null as never), ConfigurationError);
      const monitorOptions = {
        heartbeatFrequencyMS: 500,
        connectTimeoutMS: 1000,
        description: () => unknownServerDescription("a:1"),
        onCheck: () => {},
      };
      assert.throws(() => new Monitor("a:1", { ...monitorOptions, heartbeatFrequencyMS: 100 }), ConfigurationError);
      assert.throws(() => new Monitor("a:1", { ...monitorOptions, connectTimeoutMS: -1 }), ConfigurationError);
      assert.throws(() => new Monitor("a:99999", monitorOptions), ConfigurationError);
      assert.throws(() => new Monitor("a:1", { ...monitorOptions, onCheck: undefined as never }), ConfigurationError);
      // A read preference given as a mode string is accepted too.
      await primary.command("test", { find: "c" }, { operation: "read", readPreference: "primary" as never });
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("an operation on a server that left the topology: AutoReconnect, not sent", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      await eventually(() => topology.description.servers.size === 3, "three members");
      const third = await topology.selectServer(read(ReadPreference.SECONDARY_ONLY));
      rs.setHosts(rs.addresses.filter((a) => a !== third.address));
      topology.requestCheck();
      await eventually(() => !topology.description.servers.has(third.address), "removed", 1000);
      const error = await rejectsWith(third.command("test", { find: "c" }, { operation: "read" }), AutoReconnect);
      assert.match(error.message, /no longer part of the topology; the operation was not sent$/);
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a member whose hello hangs is marked Unknown after connectTimeoutMS; the others keep serving", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]], { connectTimeoutMS: 300, heartbeatFrequencyMS: 500 });
    try {
      await topology.connect();
      await eventually(
        () => [...topology.description.servers.values()].every((s) => s.type !== "Unknown"),
        "every member checked",
      );
      // Member 2's next hello (and every later one, on new connections too) never gets an answer.
      rs.members[2].handler = (_c, info) => (info.isHello ? "hang" : undefined);
      await eventually(
        () => topology.description.servers.get(rs.addresses[2])?.type === "Unknown",
        "member 2 Unknown",
        1000,
      );
      assert.match(topology.description.servers.get(rs.addresses[2])?.error ?? "", /NetworkTimeout/);
      for (let i = 0; i < 20; i++) {
        const server = await topology.selectServer(read(ReadPreference.SECONDARY_ONLY));
        assert.equal(server.address, rs.addresses[1]);
        assert.equal((await server.command("test", { find: "c" }, { operation: "read" })).ok, 1);
      }
    } finally {
      await topology.close();
      await rs.close();
    }
  });
});

describe("Topology: heartbeats", () => {
  test("heartbeatFrequencyMS 500 re-checks every member about twice a second", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]], { heartbeatFrequencyMS: 500 });
    try {
      await topology.connect();
      await eventually(() => rs.members.every((m) => m.accepted >= 1), "all monitored");
      const before = rs.addresses.map((_, i) => rs.heartbeats(i));
      const started = performance.now();
      // Re-checked: every member gets three more heartbeats (a bounded wait, not a fixed sleep).
      await eventually(() => rs.addresses.every((_, i) => rs.heartbeats(i) - before[i] >= 3), "three more heartbeats each");
      const elapsed = performance.now() - started;
      for (let i = 0; i < 3; i++) {
        const n = rs.heartbeats(i) - before[i];
        // Not more often than every 500 ms: timers on a busy machine fire late, never early.
        assert.ok(n <= elapsed / 500 + 2, `member ${i}: ${n} heartbeats in ${Math.round(elapsed)} ms is too many`);
      }
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("with the default heartbeatFrequencyMS (10 s) nothing is re-checked in the meantime", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      // Every member's first check has completed (they are all known), so no check is under way.
      await eventually(
        () => [...topology.description.servers.values()].every((s) => s.type !== "Unknown"),
        "every member checked once",
      );
      const before = rs.heartbeats(1);
      await sleep(1200); // a window in which a polling monitor would check about twice
      assert.ok(rs.heartbeats(1) - before <= 1, `${rs.heartbeats(1) - before} heartbeats within the 10 s interval`);
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("requestCheck() is rate-limited to one check per 500 ms per server", async () => {
    const rs = await startFakeReplicaSet({ roles: ["primary"] });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const before = rs.heartbeats(0);
      const started = performance.now();
      for (let i = 0; i < 40; i++) {
        topology.requestCheck();
        await sleep(25);
      }
      await eventually(() => rs.heartbeats(0) > before, "requested checks happen");
      const elapsed = performance.now() - started;
      const n = rs.heartbeats(0) - before;
      assert.ok(n <= elapsed / 500 + 2, `${n} checks in ${Math.round(elapsed)} ms: not rate-limited`);
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test("a monitor retries once at once after a network error on a known server", async () => {
    const server = await startFakeMongod({ hello: { setName: "foo", hosts: [] } });
    let current = unknownServerDescription(server.address);
    const results: string[] = [];
    const monitor = new Monitor(server.address, {
      heartbeatFrequencyMS: 60_000,
      connectTimeoutMS: 2000,
      description: () => current,
      onCheck: (r) => {
        current = r.description;
        results.push(r.error === undefined ? r.description.type : "error");
      },
    });
    try {
      monitor.start();
      await eventually(() => results.length === 1, "first check");
      assert.deepEqual(results, ["RSPrimary"]);
      // Drop the monitoring connection: the next check fails, and the retry (a new connection) succeeds.
      server.handler = (_c, info) => (info.isHello && info.index > 1 ? "close" : undefined);
      monitor.requestCheck();
      await eventually(() => results.length === 3, "failed check and its retry");
      assert.deepEqual(results, ["RSPrimary", "error", "RSPrimary"]);
      assert.equal(monitor.checkCount, 3);
    } finally {
      await monitor.close();
      await server.close();
    }
  });
});

describe("Topology: close", () => {
  test("close() rejects pending selections and in-flight operations with a 'closed' MongoError", async () => {
    const rs = await startFakeReplicaSet({
      roles: ["primary"],
      handler: (_c, info) => (info.command === "slow" ? "hang" : undefined),
    });
    const topology = topologyOf([rs.addresses[0]]);
    await topology.connect();
    const primary = await topology.selectServer(write);
    const selecting = topology.selectServer(read(ReadPreference.SECONDARY_ONLY)).catch((e) => e);
    const running = primary.command("test", { slow: 1 }, { operation: "read" }).catch((e) => e);
    await eventually(() => rs.commands(0, "slow").length === 1, "slow command sent");
    await topology.close();
    for (const error of [await selecting, await running]) {
      assert.ok(error instanceof MongoError, String(error));
      assert.ok(!(error instanceof AutoReconnect));
      assert.match(error.message, /closed/);
    }
    assert.ok(topology.isClosed);
    await assert.rejects(topology.selectServer(write), /closed/);
    await assert.rejects(primary.command("test", { ping: 1 }, { operation: "read" }), /closed/);
    await topology.close(); // idempotent
    await rs.close();
  });

  test("close() cancels a pooled connection still waiting for its handshake", async () => {
    const server = await startFakeMongod({
      handler: (_c, info) => (info.isHello && info.connection > 1 ? "hang" : undefined),
    });
    const topology = new Topology({
      seeds: [parseHostAddress(server.address, { percentEncoded: false })],
      options: resolveClientOptions({}, { directConnection: true, connectTimeoutMS: 60_000 }),
    });
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      let settled = false;
      const running = primary.command("admin", { ping: 1 }, { operation: "read" }).catch((e) => e).finally(() => {
        settled = true;
      });
      await eventually(() => server.accepted === 2, "the pooled connection is opening");
      await topology.close();
      await eventually(() => settled, "the command settles at once, not after connectTimeoutMS", 200);
      assert.match(String(await running), /closed/);
      await eventually(() => server.openConnections === 0, "the client closed its sockets", 200);
    } finally {
      await topology.close();
      await server.close();
    }
  });

  test("a process that connects and closes exits on its own (no timer or socket left)", async () => {
    const { join } = await import("node:path");
    await assertExitsOnItsOwn(join(import.meta.dirname ?? ".", "fixtures", "topology_exit_child.ts"), 30_000);
  });
});
