// The replica-set guide's situations, played through the pure SDAM functions:
// discovery from one secondary seed, a primary that disappears, a member
// removed from the set, and a stale primary after an election.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { serverDescriptionFromHello, unknownServerDescription } from "../../src/topology/server_description.ts";
import {
  initialTopologyDescription,
  type TopologyDescription,
  updateTopology,
} from "../../src/topology/topology_description.ts";
import { handleApplicationError } from "../../src/topology/sdam_errors.ts";
import { topologyEvents } from "../../src/topology/sdam_events.ts";

const HOSTS = ["h1:27017", "h2:27017", "h3:27017"];

function member(address: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { ok: 1, setName: "foo", hosts: HOSTS, me: address, minWireVersion: 0, maxWireVersion: 21, ...extra };
}

function hello(td: TopologyDescription, address: string, reply: Record<string, unknown>): TopologyDescription {
  return updateTopology(td, serverDescriptionFromHello(address, reply, { roundTripTime: 2 }));
}

function types(td: TopologyDescription): Record<string, string> {
  return Object.fromEntries([...td.servers].map(([a, sd]) => [a, sd.type]));
}

function primaryOf(td: TopologyDescription): string | null {
  for (const sd of td.servers.values()) if (sd.type === "RSPrimary") return sd.address;
  return null;
}

/** A set of h1 (primary), h2, h3 fully discovered from one seed. */
function discoveredSet(): TopologyDescription {
  let td = initialTopologyDescription(["h1:27017"], { replicaSet: "foo" });
  td = hello(td, "h1:27017", member("h1:27017", { isWritablePrimary: true, primary: "h1:27017", setVersion: 1, electionId: "7fffffff0000000000000001" }));
  td = hello(td, "h2:27017", member("h2:27017", { secondary: true, primary: "h1:27017", setVersion: 1 }));
  td = hello(td, "h3:27017", member("h3:27017", { secondary: true, primary: "h1:27017", setVersion: 1 }));
  return td;
}

describe("replica-set guide situations", () => {
  test("one seed that is a secondary discovers the primary and every member", () => {
    let td = initialTopologyDescription(["H2"], { replicaSet: "foo" });
    assert.equal(td.type, "ReplicaSetNoPrimary");
    assert.deepEqual([...td.servers.keys()], ["h2:27017"]);

    td = hello(td, "h2:27017", member("h2:27017", { secondary: true, primary: "h1:27017" }));
    assert.equal(td.type, "ReplicaSetNoPrimary");
    assert.deepEqual(types(td), { "h1:27017": "PossiblePrimary", "h2:27017": "RSSecondary", "h3:27017": "Unknown" });

    td = hello(td, "h1:27017", member("h1:27017", { isWritablePrimary: true, primary: "h1:27017" }));
    assert.equal(td.type, "ReplicaSetWithPrimary");
    assert.equal(primaryOf(td), "h1:27017");
    assert.equal(td.setName, "foo");

    td = hello(td, "h3:27017", member("h3:27017", { secondary: true, primary: "h1:27017" }));
    assert.deepEqual(types(td), { "h1:27017": "RSPrimary", "h2:27017": "RSSecondary", "h3:27017": "RSSecondary" });
  });

  test("without a replicaSet name, a secondary seed still turns the topology into a replica set", () => {
    let td = initialTopologyDescription(["h2:27017"], {});
    assert.equal(td.type, "Unknown");
    td = hello(td, "h2:27017", member("h2:27017", { secondary: true, primary: "h1:27017" }));
    assert.equal(td.type, "ReplicaSetNoPrimary");
    assert.equal(td.setName, "foo");
    assert.equal(td.servers.size, 3);
  });

  test("a primary that disappears (network error) makes the set ReplicaSetNoPrimary", () => {
    const td = discoveredSet();
    assert.equal(td.type, "ReplicaSetWithPrimary");

    // Seen by the monitor: the check fails.
    const byMonitor = updateTopology(td, unknownServerDescription("h1:27017", "connection refused"));
    assert.equal(byMonitor.type, "ReplicaSetNoPrimary");
    assert.equal(byMonitor.servers.get("h1:27017")?.type, "Unknown");
    assert.equal(byMonitor.servers.get("h1:27017")?.error, "connection refused");
    assert.equal(byMonitor.servers.size, 3, "members are kept while there is no primary");

    // Seen by an application operation: the socket breaks mid-operation.
    const out = handleApplicationError(td, {
      address: "h1:27017",
      type: "network",
      when: "afterHandshakeCompletes",
      maxWireVersion: 21,
      generation: 0,
      message: "connection reset by peer",
    }, { poolGeneration: 0 });
    assert.equal(out.topology.type, "ReplicaSetNoPrimary");
    assert.equal(out.clearPool, true);
    assert.equal(out.requestCheck, false);
    assert.match(out.topology.servers.get("h1:27017")?.error ?? "", /connection reset by peer/);

    // The survivors elect h2; the topology follows without any user action.
    const next = hello(out.topology, "h2:27017", member("h2:27017", {
      isWritablePrimary: true,
      primary: "h2:27017",
      setVersion: 1,
      electionId: "7fffffff0000000000000002",
    }));
    assert.equal(next.type, "ReplicaSetWithPrimary");
    assert.equal(primaryOf(next), "h2:27017");
  });

  test("a member removed from the primary's hosts list disappears from the topology", () => {
    const td = discoveredSet();
    const next = hello(td, "h1:27017", member("h1:27017", {
      isWritablePrimary: true,
      primary: "h1:27017",
      hosts: ["h1:27017", "h2:27017"],
      setVersion: 2,
      electionId: "7fffffff0000000000000001",
    }));
    assert.deepEqual([...next.servers.keys()].sort(), ["h1:27017", "h2:27017"]);
    assert.equal(next.type, "ReplicaSetWithPrimary");
    const events = topologyEvents(td, next);
    assert.ok(events.some((e) => e.type === "server_closed" && e.address === "h3:27017"));
    // A late reply from the removed member is ignored.
    const late = hello(next, "h3:27017", member("h3:27017", { secondary: true }));
    assert.equal(late, next);
  });

  test("a stale primary (older electionId) is marked Unknown", () => {
    let td = discoveredSet();
    // h2 wins a newer election while h1 is cut off.
    td = hello(td, "h2:27017", member("h2:27017", {
      isWritablePrimary: true,
      primary: "h2:27017",
      setVersion: 1,
      electionId: "7fffffff0000000000000002",
    }));
    assert.equal(primaryOf(td), "h2:27017");
    assert.match(td.servers.get("h1:27017")?.error ?? "", /primary marked stale due to discovery of newer primary/);
    assert.equal(td.maxElectionId, "7fffffff0000000000000002");

    // h1 still believes it is primary, with the old electionId.
    td = hello(td, "h1:27017", member("h1:27017", {
      isWritablePrimary: true,
      primary: "h1:27017",
      setVersion: 1,
      electionId: "7fffffff0000000000000001",
    }));
    assert.equal(td.servers.get("h1:27017")?.type, "Unknown");
    assert.match(td.servers.get("h1:27017")?.error ?? "", /primary marked stale due to electionId\/setVersion mismatch/);
    assert.equal(primaryOf(td), "h2:27017");
    assert.equal(td.type, "ReplicaSetWithPrimary");
  });

  test("a member brought up as a standalone is dropped from a replica set", () => {
    const td = hello(discoveredSet(), "h3:27017", { ok: 1, isWritablePrimary: true, maxWireVersion: 21 });
    assert.equal(td.servers.has("h3:27017"), false);
    assert.equal(td.type, "ReplicaSetWithPrimary");
  });
});
