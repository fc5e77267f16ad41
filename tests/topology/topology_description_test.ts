// The SDAM state machine beyond the spec vectors: initial topologies and their
// validation, side effects (pool clears, immediate checks), compatibility
// messages, error classification, application-error handling and events.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError } from "../../src/errors.ts";
import { serverDescriptionFromHello, unknownServerDescription } from "../../src/topology/server_description.ts";
import {
  applyServerDescription,
  initialTopologyDescription,
  isDataBearing,
  MAX_SUPPORTED_WIRE_VERSION,
  MIN_SUPPORTED_WIRE_VERSION,
  type TopologyDescription,
  updateTopology,
} from "../../src/topology/topology_description.ts";
import {
  type ApplicationError,
  handleApplicationError,
  isNodeIsRecoveringError,
  isNotPrimaryError,
  isShutdownError,
  isStateChangeError,
} from "../../src/topology/sdam_errors.ts";
import { topologyDescriptionEquals, topologyEvents } from "../../src/topology/sdam_events.ts";

function hello(td: TopologyDescription, address: string, reply: Record<string, unknown>): TopologyDescription {
  return updateTopology(td, serverDescriptionFromHello(address, { ok: 1, maxWireVersion: 21, ...reply }));
}

function rsWithPrimary(maxWireVersion = 21): TopologyDescription {
  const td = initialTopologyDescription(["a:27017"], { replicaSet: "rs" });
  return hello(td, "a:27017", {
    isWritablePrimary: true,
    setName: "rs",
    hosts: ["a:27017", "b:27017"],
    maxWireVersion,
    topologyVersion: { processId: "000000000000000000000001", counter: 5n },
  });
}

describe("initialTopologyDescription", () => {
  test("initial type from the options", () => {
    assert.equal(initialTopologyDescription(["a"], {}).type, "Unknown");
    assert.equal(initialTopologyDescription(["a"], { directConnection: true }).type, "Single");
    assert.equal(initialTopologyDescription(["a"], { directConnection: true, replicaSet: "rs" }).type, "Single");
    assert.equal(initialTopologyDescription(["a", "b"], { replicaSet: "rs" }).type, "ReplicaSetNoPrimary");
    assert.equal(initialTopologyDescription(["a"], { loadBalanced: true }).type, "LoadBalanced");
  });

  test("seeds are normalised and merged; settings have defaults", () => {
    const td = initialTopologyDescription(["A", "a:27017", "b:1"], {});
    assert.deepEqual([...td.servers.keys()], ["a:27017", "b:1"]);
    assert.equal(td.seedCount, 2);
    assert.equal(td.heartbeatFrequencyMS, 10_000);
    assert.equal(td.localThresholdMS, 15);
    assert.equal(td.compatible, true);
    assert.equal(td.logicalSessionTimeoutMinutes, null);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ["no seeds", () => initialTopologyDescription([], {}), /seed list is empty/],
    ["bad seed", () => initialTopologyDescription(["a:x"], {}), /invalid port/],
    ["direct with two seeds", () => initialTopologyDescription(["a", "b"], { directConnection: true }), /exactly one host/],
    ["lb with two seeds", () => initialTopologyDescription(["a", "b"], { loadBalanced: true }), /exactly one host/],
    ["lb with direct", () => initialTopologyDescription(["a"], { loadBalanced: true, directConnection: true }), /directConnection/],
    ["lb with replicaSet", () => initialTopologyDescription(["a"], { loadBalanced: true, replicaSet: "rs" }), /replicaSet/],
    ["empty replicaSet", () => initialTopologyDescription(["a"], { replicaSet: "" }), /replicaSet/],
    ["heartbeat too small", () => initialTopologyDescription(["a"], { heartbeatFrequencyMS: 499 }), /heartbeatFrequencyMS/],
    ["negative threshold", () => initialTopologyDescription(["a"], { localThresholdMS: -1 }), /localThresholdMS/],
  ];
  for (const [name, f, message] of bad) {
    test(`ConfigurationError: ${name}`, () => assert.throws(f, (e: unknown) => e instanceof ConfigurationError && message.test(e.message)));
  }
});

describe("updateTopology", () => {
  test("the input is never modified", () => {
    const td = initialTopologyDescription(["a"], { replicaSet: "rs" });
    const before = [...td.servers.entries()];
    const next = hello(td, "a:27017", { isWritablePrimary: true, setName: "rs", hosts: ["a:27017", "b:27017"] });
    assert.notEqual(next, td);
    assert.deepEqual([...td.servers.entries()], before);
    assert.equal(td.type, "ReplicaSetNoPrimary");
  });

  test("Unknown + standalone: Single with one seed, removed among several", () => {
    assert.equal(hello(initialTopologyDescription(["a"], {}), "a:27017", { isWritablePrimary: true }).type, "Single");
    const two = hello(initialTopologyDescription(["a", "b"], {}), "a:27017", { isWritablePrimary: true });
    assert.equal(two.type, "Unknown");
    assert.deepEqual([...two.servers.keys()], ["b:27017"]);
  });

  test("Sharded keeps mongoses and drops anything else", () => {
    let td = hello(initialTopologyDescription(["a", "b"], {}), "a:27017", { msg: "isdbgrid" });
    assert.equal(td.type, "Sharded");
    td = hello(td, "b:27017", { setName: "rs", secondary: true });
    assert.deepEqual([...td.servers.keys()], ["a:27017"]);
  });

  test("Single with a required set name: a wrong or missing one makes the server Unknown", () => {
    const td = initialTopologyDescription(["a"], { directConnection: true, replicaSet: "rs" });
    const wrong = hello(td, "a:27017", { setName: "other", isWritablePrimary: true });
    assert.equal(wrong.type, "Single");
    assert.equal(wrong.servers.get("a:27017")?.type, "Unknown");
    assert.match(wrong.servers.get("a:27017")?.error ?? "", /"other".*"rs"/);
    const standalone = hello(td, "a:27017", { isWritablePrimary: true });
    assert.equal(standalone.servers.get("a:27017")?.type, "Unknown");
  });

  test("a description older than the current one (topologyVersion) is ignored", () => {
    const td = rsWithPrimary();
    const older = hello(td, "a:27017", {
      isWritablePrimary: false,
      secondary: true,
      setName: "rs",
      hosts: ["a:27017", "b:27017"],
      topologyVersion: { processId: "000000000000000000000001", counter: 4n },
    });
    assert.equal(older, td);
    const newProcess = hello(td, "a:27017", {
      isWritablePrimary: false,
      secondary: true,
      setName: "rs",
      hosts: ["a:27017", "b:27017"],
      topologyVersion: { processId: "000000000000000000000002", counter: 0n },
    });
    assert.equal(newProcess.servers.get("a:27017")?.type, "RSSecondary");
  });

  test("addresses are normalised before lookup; bad arguments are ConfigurationErrors", () => {
    const td = initialTopologyDescription(["a"], {});
    const sd = serverDescriptionFromHello("a:27017", { ok: 1, maxWireVersion: 21 });
    assert.equal(updateTopology(td, { ...sd, address: "A" }).type, "Single");
    const rs = initialTopologyDescription(["a"], { replicaSet: "rs" });
    const handMade = { ...sd, type: "RSSecondary" as const, setName: "rs", hosts: ["A:27017", "B"], primary: "B", me: "A:27017" };
    const next = updateTopology(rs, handMade);
    assert.deepEqual([...next.servers.keys()], ["a:27017", "b:27017"]);
    assert.equal(next.servers.get("b:27017")?.type, "PossiblePrimary");
    assert.throws(() => updateTopology(td, null as never), ConfigurationError);
    assert.throws(() => updateTopology(null as never, sd), ConfigurationError);
    assert.throws(
      () => handleApplicationError(td, { address: "a", type: "oops", when: "afterHandshakeCompletes", maxWireVersion: 0 } as never),
      ConfigurationError,
    );
  });

  test("a reply from a server not in the topology is ignored", () => {
    const td = rsWithPrimary();
    assert.equal(hello(td, "z:27017", { isWritablePrimary: true, setName: "rs", hosts: ["z:27017"] }), td);
  });

  test("a new primary invalidates the old one: immediate check, pool cleared only before 4.2", () => {
    for (const [wire, clears] of [[7, true], [8, false], [21, false]] as const) {
      const td = rsWithPrimary(wire);
      const u = applyServerDescription(td, serverDescriptionFromHello("b:27017", {
        ok: 1,
        isWritablePrimary: true,
        setName: "rs",
        hosts: ["a:27017", "b:27017"],
        maxWireVersion: wire,
      }));
      assert.equal(u.topology.servers.get("a:27017")?.type, "Unknown");
      assert.deepEqual(u.requestChecks, ["a:27017"]);
      assert.deepEqual(u.clearPools, clears ? ["a:27017"] : [], `wire ${wire}`);
    }
  });

  test("6.0+ orders (electionId, setVersion); older servers order (setVersion, electionId)", () => {
    const first = { isWritablePrimary: true, setName: "rs", hosts: ["a:27017", "b:27017"] };
    const eid1 = "000000000000000000000001";
    const eid2 = "000000000000000000000002";
    for (const [wire, bStale] of [[17, false], [16, true]] as const) {
      let td = initialTopologyDescription(["a", "b"], { replicaSet: "rs" });
      td = hello(td, "a:27017", { ...first, maxWireVersion: wire, electionId: eid1, setVersion: 2 });
      // b: newer election, lower config version.
      td = hello(td, "b:27017", { ...first, maxWireVersion: wire, electionId: eid2, setVersion: 1 });
      assert.equal(td.servers.get("b:27017")?.type, bStale ? "Unknown" : "RSPrimary", `wire ${wire}`);
      assert.equal(td.servers.get("a:27017")?.type, bStale ? "RSPrimary" : "Unknown", `wire ${wire}`);
    }
  });

  test("compatibility errors name the server and the versions", () => {
    const old = hello(initialTopologyDescription(["a"], {}), "a:27017", { isWritablePrimary: true, maxWireVersion: 1 });
    assert.equal(old.compatible, false);
    assert.equal(
      old.compatibilityError,
      `Server at a:27017 reports wire version 1, but this version of @zerodep/mongo requires at least ${MIN_SUPPORTED_WIRE_VERSION} (MongoDB 2.6).`,
    );
    const fresh = hello(initialTopologyDescription(["a"], {}), "a:27017", { isWritablePrimary: true, minWireVersion: 99, maxWireVersion: 100 });
    assert.equal(fresh.compatible, false);
    assert.match(fresh.compatibilityError ?? "", new RegExp(`requires wire version 99.*only supports up to ${MAX_SUPPORTED_WIRE_VERSION}`));
    const upgraded = hello(old, "a:27017", { isWritablePrimary: true, maxWireVersion: 21 });
    assert.equal(upgraded.compatible, true);
    assert.equal(upgraded.compatibilityError, null);
  });

  test("logicalSessionTimeoutMinutes: minimum over data-bearing servers, null if one lacks it", () => {
    let td = initialTopologyDescription(["a", "b", "c"], { replicaSet: "rs" });
    const hosts = ["a:27017", "b:27017", "c:27017"];
    td = hello(td, "a:27017", { isWritablePrimary: true, setName: "rs", hosts, logicalSessionTimeoutMinutes: 30 });
    assert.equal(td.logicalSessionTimeoutMinutes, 30);
    td = hello(td, "b:27017", { secondary: true, setName: "rs", hosts, logicalSessionTimeoutMinutes: 10 });
    assert.equal(td.logicalSessionTimeoutMinutes, 10);
    td = hello(td, "c:27017", { arbiterOnly: true, setName: "rs", hosts });
    assert.equal(td.logicalSessionTimeoutMinutes, 10, "arbiters do not count");
    td = hello(td, "b:27017", { secondary: true, setName: "rs", hosts });
    assert.equal(td.logicalSessionTimeoutMinutes, null);
    assert.equal(isDataBearing("RSArbiter"), false);
    assert.equal(isDataBearing("LoadBalancer"), true);
  });

  test("a secondary whose me differs from its address is replaced by its real name", () => {
    let td = initialTopologyDescription(["alias"], { replicaSet: "rs" });
    td = hello(td, "alias:27017", { secondary: true, setName: "rs", hosts: ["real:27017"], me: "real:27017" });
    assert.deepEqual([...td.servers.keys()], ["real:27017"]);
  });
});

describe("error classification", () => {
  test("codes win over messages", () => {
    assert.equal(isNotPrimaryError({ code: 10107, errmsg: "whatever" }), true);
    assert.equal(isNotPrimaryError({ code: 13435 }), true);
    assert.equal(isNotPrimaryError({ code: 10058 }), true);
    assert.equal(isNotPrimaryError({ code: 1, errmsg: "not master" }), false);
    for (const code of [11600, 11602, 13436, 189, 91]) assert.equal(isNodeIsRecoveringError({ code }), true, String(code));
    assert.equal(isNodeIsRecoveringError({ code: 1, errmsg: "node is recovering" }), false);
  });

  test("messages when there is no code", () => {
    assert.equal(isNotPrimaryError({ errmsg: "not master" }), true);
    assert.equal(isNotPrimaryError({ errmsg: "not master or secondary" }), false);
    assert.equal(isNodeIsRecoveringError({ errmsg: "not master or secondary" }), true);
    assert.equal(isNodeIsRecoveringError({ $err: "node is recovering" }), true);
    assert.equal(isStateChangeError({ errmsg: "duplicate key" }), false);
    assert.equal(isShutdownError({ code: 91 }), true);
    assert.equal(isShutdownError({ code: 189 }), false);
    assert.equal(isShutdownError({ errmsg: "shutdown in progress" }), false);
  });
});

describe("handleApplicationError", () => {
  const err = (e: Partial<ApplicationError>): ApplicationError => ({
    address: "a:27017",
    type: "command",
    when: "afterHandshakeCompletes",
    maxWireVersion: 21,
    ...e,
  });

  test("not-primary: Unknown with the error's topologyVersion, immediate check, pool kept", () => {
    const td = rsWithPrimary();
    const out = handleApplicationError(td, err({
      response: { ok: 0, code: 10107, errmsg: "not primary", topologyVersion: { processId: "000000000000000000000001", counter: 6n } },
    }), { poolGeneration: 0 });
    assert.equal(out.action, "markedUnknown");
    assert.equal(out.requestCheck, true);
    assert.equal(out.clearPool, false);
    const sd = out.topology.servers.get("a:27017");
    assert.equal(sd?.type, "Unknown");
    assert.deepEqual(sd?.topologyVersion, { processId: "000000000000000000000001", counter: 6n });
    assert.match(sd?.error ?? "", /not primary/);
  });

  test("not-primary from a pre-4.2 server and shutdown errors clear the pool", () => {
    const td = rsWithPrimary();
    assert.equal(handleApplicationError(td, err({ maxWireVersion: 7, response: { ok: 0, code: 10107 } })).clearPool, true);
    assert.equal(handleApplicationError(td, err({ response: { ok: 0, code: 91 } })).clearPool, true);
    assert.equal(handleApplicationError(td, err({ response: { ok: 0, code: 189 } })).clearPool, false);
  });

  test("a writeConcernError is checked; writeErrors are not", () => {
    const td = rsWithPrimary();
    const wce = handleApplicationError(td, err({ response: { ok: 1, writeConcernError: { code: 11602, errmsg: "interrupted" } } }));
    assert.equal(wce.action, "markedUnknown");
    const we = handleApplicationError(td, err({ response: { ok: 1, writeErrors: [{ code: 10107, errmsg: "not primary", index: 0 }] } }));
    assert.equal(we.action, "ignored");
    assert.equal(we.topology, td);
  });

  test("stale errors are ignored: older generation, not-newer topologyVersion, unknown server", () => {
    const td = rsWithPrimary();
    assert.equal(handleApplicationError(td, err({ type: "network", generation: 1 }), { poolGeneration: 2 }).action, "ignored");
    const sameTv = handleApplicationError(td, err({
      response: { ok: 0, code: 10107, topologyVersion: { processId: "000000000000000000000001", counter: 5n } },
    }));
    assert.equal(sameTv.action, "ignored");
    assert.match(sameTv.reason, /topologyVersion/);
    assert.equal(handleApplicationError(td, err({ address: "zz:1", type: "network" })).action, "ignored");
  });

  test("network errors: after the handshake mark Unknown and clear; timeouts and connect failures change nothing", () => {
    const td = rsWithPrimary();
    const net = handleApplicationError(td, err({ type: "network", message: "ECONNRESET" }));
    assert.deepEqual([net.action, net.clearPool, net.requestCheck, net.cancelCheck], ["markedUnknown", true, false, true]);
    assert.equal(net.topology.type, "ReplicaSetNoPrimary");
    assert.equal(handleApplicationError(td, err({ type: "timeout" })).action, "ignored");
    assert.equal(handleApplicationError(td, err({ type: "network", when: "beforeHandshakeCompletes" })).action, "ignored");
    assert.equal(handleApplicationError(td, err({ type: "timeout", when: "beforeHandshakeCompletes" })).action, "ignored");
  });

  test("a DNS failure while connecting marks Unknown and clears the pool", () => {
    const out = handleApplicationError(rsWithPrimary(), err({ type: "network", when: "beforeHandshakeCompletes", dnsFailure: true }));
    assert.deepEqual([out.action, out.clearPool, out.requestCheck], ["markedUnknown", true, false]);
    assert.match(out.topology.servers.get("a:27017")?.error ?? "", /resolve/);
  });

  test("failures during authentication mark Unknown and clear the pool", () => {
    const td = rsWithPrimary();
    for (const type of ["network", "timeout", "command"] as const) {
      const out = handleApplicationError(td, err({
        type,
        when: "beforeHandshakeCompletes",
        duringAuthentication: true,
        ...(type === "command" ? { response: { ok: 0, code: 18, errmsg: "Authentication failed." } } : {}),
      }));
      assert.equal(out.action, "markedUnknown", type);
      assert.equal(out.clearPool, true, type);
    }
  });

  test("load balanced: the description is kept, only the pool is cleared", () => {
    let td = initialTopologyDescription(["lb"], { loadBalanced: true });
    td = updateTopology(td, { ...unknownServerDescription("lb:27017"), type: "LoadBalancer" });
    assert.equal(td.compatible, true, "a load balancer has no wire versions to check");
    const net = handleApplicationError(td, err({ address: "lb:27017", type: "network" }));
    assert.equal(net.topology, td);
    assert.deepEqual([net.action, net.clearPool], ["poolOnly", true]);
    const np = handleApplicationError(td, err({ address: "lb:27017", response: { ok: 0, code: 10107 } }));
    assert.deepEqual([np.action, np.clearPool, np.requestCheck], ["ignored", false, false]);
  });
});

describe("topologyEvents", () => {
  test("opening and closing", () => {
    const td = initialTopologyDescription(["a", "b"], {});
    assert.deepEqual(topologyEvents(null, td).map((e) => e.type), [
      "topology_opening",
      "topology_description_changed",
      "server_opening",
      "server_opening",
    ]);
    const closing = topologyEvents(td, null);
    assert.deepEqual(closing.map((e) => e.type), ["server_closed", "server_closed", "topology_description_changed", "topology_closed"]);
    const change = closing[2];
    assert.ok(change.type === "topology_description_changed" && change.newDescription.servers.size === 0);
  });

  test("a round-trip-time change alone publishes nothing", () => {
    const td = rsWithPrimary();
    const sd = td.servers.get("a:27017")!;
    const next = updateTopology(td, { ...sd, roundTripTime: 42 });
    assert.notEqual(next, td);
    assert.deepEqual(topologyEvents(td, next), []);
    assert.equal(topologyDescriptionEquals(td, next), true);
  });

  test("a change publishes the server change, openings, closings, then the topology change", () => {
    const td = rsWithPrimary();
    const next = hello(td, "a:27017", { isWritablePrimary: true, setName: "rs", hosts: ["a:27017", "c:27017"] });
    assert.deepEqual(topologyEvents(td, next).map((e) => e.type === "topology_description_changed" ? e.type : `${e.type} ${"address" in e ? e.address : ""}`), [
      "server_description_changed a:27017",
      "server_opening c:27017",
      "server_closed b:27017",
      "topology_description_changed",
    ]);
  });
});
