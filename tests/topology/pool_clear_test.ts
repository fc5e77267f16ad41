// When the live topology clears a server's connection pool, against loopback
// fake mongods: after a failed monitor check (SDAM: "clear the connection pool
// for the server" when a check fails), and after application errors, where
// SDAM's error handling decides by the error (a network error and "shutting
// down" clear it; "not primary" from a 4.2+ server does not). The effect is
// asserted on the wire: the next operation does not reuse a pooled connection
// made before the clear.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { AutoReconnect } from "../../src/errors.ts";
import { parseHostAddress } from "../../src/topology/connection_string.ts";
import { resolveClientOptions } from "../../src/topology/options.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { Topology } from "../../src/topology/topology.ts";
import { startFakeReplicaSet } from "../helpers/fake_replica_set.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` up to `tries` times, 10 ms apart (bounded by count, not by time). */
async function eventually(cond: () => boolean, what: string, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

function topologyOf(seeds: string[]): Topology {
  return new Topology({
    seeds: seeds.map((s) => parseHostAddress(s, { percentEncoded: false })),
    // The default heartbeat (10 s): no check comes unless the test or SDAM asks for one.
    options: resolveClientOptions({}, { replicaSet: "foo", serverSelectionTimeoutMS: 10_000 }),
  });
}

const write = { operation: "write" as const, readPreference: ReadPreference.PRIMARY };

describe("Topology: pool clearing", () => {
  test("a failed monitor check clears the pool, with no operation failing", async () => {
    const rs = await startFakeReplicaSet();
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      const primary = await topology.selectServer(write);
      assert.equal((await primary.command("admin", { ping: 1 }, { operation: "read" })).ok, 1);
      const pooled = rs.commands(0, "ping").at(-1)!.connection;
      const generation = primary.poolGeneration;

      // Every hello member 0 receives from now on closes its connection: the
      // monitor's next check fails (and so does its immediate retry).
      rs.members[0].handler = (_c, info) => (info.isHello ? "close" : undefined);
      topology.requestCheck();
      await eventually(() => primary.poolGeneration > generation, "pool cleared after the failed check");
      // Unknown after its failed check; another member's hello naming it as primary may already
      // have made it PossiblePrimary (SDAM), but it is no longer a selectable RSPrimary.
      const type = topology.description.servers.get(rs.addresses[0])?.type;
      assert.ok(type === "Unknown" || type === "PossiblePrimary", `member 0 is ${type}`);
      assert.deepEqual(rs.commands(0, "ping").length, 1, "no operation ran in between: the monitor cleared it");

      // Back to normal: the next operation gets a new connection, not the retired one.
      rs.members[0].handler = undefined;
      topology.requestCheck();
      const again = await topology.selectServer(write);
      assert.equal(again.address, rs.addresses[0]);
      assert.equal((await again.command("admin", { ping: 1 }, { operation: "read" })).ok, 1);
      assert.notEqual(rs.commands(0, "ping").at(-1)!.connection, pooled, "the pre-clear connection was retired");
    } finally {
      await topology.close();
      await rs.close();
    }
  });

  test('application errors: "shutting down" clears the pool, "not primary" from a 4.2+ server does not', async () => {
    let answer: Record<string, unknown> = { ok: 0, code: 10107, codeName: "NotWritablePrimary", errmsg: "not primary" };
    const rs = await startFakeReplicaSet({ handler: (_c, info) => (info.command === "insert" ? answer : undefined) });
    const topology = topologyOf([rs.addresses[0]]);
    try {
      await topology.connect();
      let primary = await topology.selectServer(write);
      const generation = primary.poolGeneration;

      // "not primary" (maxWireVersion 17): the server is marked Unknown, its pool is kept.
      await assert.rejects(primary.command("test", { insert: "c" }, { operation: "write" }), AutoReconnect);
      assert.equal(primary.poolGeneration, generation, "not primary on 4.2+ keeps the pool");
      const kept = rs.commands(0, "insert").at(-1)!.connection;

      answer = { ok: 0, code: 91, codeName: "ShutdownInProgress", errmsg: "shutdown in progress" };
      await eventually(() => topology.description.type === "ReplicaSetWithPrimary", "primary known again");
      primary = await topology.selectServer(write);
      await assert.rejects(primary.command("test", { insert: "c" }, { operation: "write" }), AutoReconnect);
      assert.equal(rs.commands(0, "insert").at(-1)!.connection, kept, "the kept connection was reused");
      assert.equal(primary.poolGeneration, generation + 1, "shutting down clears the pool once");

      answer = { ok: 1, n: 1 };
      await eventually(() => topology.description.type === "ReplicaSetWithPrimary", "primary known again");
      primary = await topology.selectServer(write);
      assert.equal((await primary.command("test", { insert: "c" }, { operation: "write" })).ok, 1);
      assert.notEqual(rs.commands(0, "insert").at(-1)!.connection, kept, "the pre-clear connection was retired");
    } finally {
      await topology.close();
      await rs.close();
    }
  });
});
