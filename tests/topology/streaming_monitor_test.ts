// The streaming protocol of server monitoring against the simulated set: with
// serverMonitoringMode stream (or auto) the monitors' checks after the first
// are awaitable hellos, so a stepped-down primary and its successor are seen at
// once, long before the next heartbeat; with poll they are not awaited. Also
// SDAM's PossiblePrimary keeps the failed check's error, so the same failure
// twice publishes one serverDescriptionChanged.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { startReplicaSet } from "../../src/testing/mod.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import {
  initialTopologyDescription,
  updateTopology,
} from "../../src/topology/topology_description.ts";
import {
  serverDescriptionFromHello,
  unknownServerDescription,
} from "../../src/topology/server_description.ts";

/** Polls `cond` up to `tries` times, 10 ms apart (bounded by count, not by time). */
async function eventually(
  cond: () => boolean,
  what: string,
  tries = 1000,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never happened: ${what}`);
}

// The heartbeat is a minute: only a streamed answer can tell the client of a step-down within the bounded waits.
const SLOW = {
  serverSelectionTimeoutMS: 5000,
  heartbeatFrequencyMS: 60_000,
  connectTimeoutMS: 2000,
};

describe("streaming server monitoring", () => {
  for (const mode of ["stream", "auto"] as const) {
    test(`serverMonitoringMode ${mode}: awaited hellos, and a new primary seen before the next heartbeat`, async () => {
      await using rs = await startReplicaSet({
        members: 3,
        name: `st${mode}`,
        electionDelayMS: 100,
      });
      await using c = new ReplicaSetConnection(rs.uri, {
        ...SLOW,
        serverMonitoringMode: mode,
      });
      const awaited: boolean[] = [];
      c.addEventListener(
        "serverHeartbeatStarted",
        (e) => awaited.push(e.awaited),
      );
      await c.connect();
      const before = c.primary;
      assert.notEqual(before, null);
      await eventually(
        () => awaited.includes(true),
        "an awaited heartbeat started",
      );
      rs.stepDown(rs.primary!.host, 30);
      await eventually(
        () =>
          c.primary !== null &&
          `${c.primary[0]}:${c.primary[1]}` !== `${before![0]}:${before![1]}`,
        "the client saw the new primary",
      );
    });
  }

  test("serverMonitoringMode poll: no awaited hello", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "stpoll" });
    await using c = new ReplicaSetConnection(rs.uri, {
      ...SLOW,
      heartbeatFrequencyMS: 500,
      serverMonitoringMode: "poll",
    });
    const awaited: boolean[] = [];
    c.addEventListener(
      "serverHeartbeatStarted",
      (e) => awaited.push(e.awaited),
    );
    await c.connect();
    await eventually(() => awaited.length >= 3, "three heartbeats");
    assert.deepEqual(awaited.filter((a) => a), []);
  });

  test("a server another member names as primary becomes PossiblePrimary with its error kept", () => {
    let td = initialTopologyDescription(["a:27017", "b:27017"], {
      replicaSet: "rs",
    });
    td = updateTopology(
      td,
      unknownServerDescription(
        "a:27017",
        "hello to a:27017 failed: shutting down",
      ),
    );
    td = updateTopology(
      td,
      serverDescriptionFromHello("b:27017", {
        ok: 1,
        secondary: true,
        setName: "rs",
        hosts: ["a:27017", "b:27017"],
        primary: "a:27017",
        me: "b:27017",
        minWireVersion: 0,
        maxWireVersion: 21,
      }, { roundTripTime: 1 }),
    );
    const a = td.servers.get("a:27017")!;
    assert.equal(a.type, "PossiblePrimary");
    assert.equal(a.error, "hello to a:27017 failed: shutting down");
  });
});
