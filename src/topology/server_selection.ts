/**
 * Server selection as a pure function of a topology description, following
 * the Server Selection and Max Staleness specifications: which servers are
 * suitable for an operation, which of those are in the latency window, and the
 * "power of two random choices" pick among them.
 *
 * @module
 */

import { ConfigurationError, ServerSelectionError } from "../errors.ts";
import type { ServerDescription } from "./server_description.ts";
import type { TopologyDescription } from "./topology_description.ts";
import { ReadPreference, type TagSet } from "./read_preference.ts";

/** How often an idle primary writes a no-op to its oplog (Max Staleness spec). */
export const IDLE_WRITE_PERIOD_MS = 10_000;
/** The smallest maxStalenessSeconds allowed against a replica set. */
export const SMALLEST_MAX_STALENESS_SECONDS = 90;
/** The default size of the latency window, in milliseconds. */
export const DEFAULT_LOCAL_THRESHOLD_MS = 15;
// Servers below this wire version (MongoDB 3.4) report no lastWriteDate, so
// their staleness cannot be estimated.
const MAX_STALENESS_WIRE_VERSION = 5;

/**
 * What a server is wanted for: a read with a read preference, or a write
 * (writes ignore the read preference and need a primary, mongos, standalone or
 * load balancer).
 *
 * @example
 * ```ts
 * import { ReadPreference, type ServerSelector } from "@zerodep/mongo/topology";
 *
 * const selector: ServerSelector = { operation: "read", readPreference: ReadPreference.SECONDARY };
 * ```
 */
export interface ServerSelector {
  /** `"read"` honours the read preference; `"write"` ignores it. */
  readonly operation: "read" | "write";
  /** The read preference (ignored for writes, except that it is shown in errors). */
  readonly readPreference: ReadPreference;
  /**
   * A read that writes: an aggregate ending in `$out` or `$merge`. Its read
   * preference applies only where {@linkcode writeStageReadPreference} says;
   * otherwise the primary is selected.
   */
  readonly writeStage?: boolean;
}

/** The first wire version (MongoDB 5.0) whose secondaries run `$out` and `$merge`. */
const WRITE_STAGE_ON_SECONDARIES_WIRE_VERSION = 13;

/**
 * The read preference an aggregate ending in `$out` or `$merge` is selected
 * with (crud.md): `readPreference` when the topology is LoadBalanced or no
 * available server is older than MongoDB 5.0 (wire 13), none being
 * available included; else the primary. The same description gives the
 * same answer, so a caller can tell which one a selection used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, type TopologyDescription, writeStageReadPreference } from "@zerodep/mongo/topology";
 *
 * const topology = { type: "ReplicaSetNoPrimary", servers: new Map() } as unknown as TopologyDescription;
 * assert.equal(writeStageReadPreference(topology, ReadPreference.SECONDARY), ReadPreference.SECONDARY);
 * ```
 */
export function writeStageReadPreference(topology: TopologyDescription, readPreference: ReadPreference): ReadPreference {
  if (readPreference.mode === "primary" || topology.type === "LoadBalanced") return readPreference;
  for (const s of topology.servers.values()) {
    if (isAvailable(s) && s.maxWireVersion < WRITE_STAGE_ON_SECONDARIES_WIRE_VERSION) return ReadPreference.PRIMARY;
  }
  return readPreference;
}

/**
 * Options of {@linkcode selectServers}.
 *
 * @example
 * ```ts
 * import type { SelectServersOptions } from "@zerodep/mongo/topology";
 *
 * const options: SelectServersOptions = { localThresholdMS: 30, deprioritized: ["a:27017"] };
 * ```
 */
export interface SelectServersOptions {
  /** Size of the latency window in ms; default the topology's `localThresholdMS` (15). */
  readonly localThresholdMS?: number;
  /**
   * Addresses to avoid (for example the server a retried operation just
   * failed on). They are left out unless nothing else is suitable.
   */
  readonly deprioritized?: readonly string[];
  /**
   * The current time in ms. Not needed by the specification's staleness
   * formulas, which use each description's `lastUpdateTime`; accepted so that
   * callers can pass one clock everywhere. Must be finite when given.
   */
  readonly now?: number;
}

/**
 * The result of {@linkcode selectServers}: every suitable server, and the
 * subset whose average round-trip time is within the latency window.
 *
 * @example
 * ```ts
 * import type { ServerSelectionResult } from "@zerodep/mongo/topology";
 *
 * function addresses(r: ServerSelectionResult): string[] {
 *   return r.inLatencyWindow.map((s) => s.address);
 * }
 * ```
 */
export interface ServerSelectionResult {
  /** Servers that satisfy the operation and read preference, in topology order. */
  readonly suitable: ServerDescription[];
  /** The suitable servers within `localThresholdMS` of the fastest one. */
  readonly inLatencyWindow: ServerDescription[];
}

/**
 * Options of {@linkcode chooseServer}.
 *
 * @example
 * ```ts
 * import type { ChooseServerOptions } from "@zerodep/mongo/topology";
 *
 * const inFlight = new Map<string, number>();
 * const options: ChooseServerOptions = { operationCount: (address) => inFlight.get(address) ?? 0 };
 * ```
 */
export interface ChooseServerOptions {
  /** In-flight operations per server address; default 0 for every server. */
  readonly operationCount?: (address: string) => number;
  /** A random number in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/** Unknown and PossiblePrimary servers are not available (Server Selection spec "Available"). */
function isAvailable(server: ServerDescription): boolean {
  return server.type !== "Unknown" && server.type !== "PossiblePrimary";
}

function isRsTopology(topology: TopologyDescription): boolean {
  return topology.type === "ReplicaSetWithPrimary" || topology.type === "ReplicaSetNoPrimary";
}

function checkReadPreference(topology: TopologyDescription, readPreference: ReadPreference): void {
  const maxStaleness = readPreference.maxStalenessSeconds;
  if (maxStaleness === undefined) return;
  if (isRsTopology(topology)) {
    const heartbeat = topology.heartbeatFrequencyMS;
    if (maxStaleness < SMALLEST_MAX_STALENESS_SECONDS) {
      throw new ConfigurationError(
        `maxStalenessSeconds ${maxStaleness} is too small: against a replica set it must be at least ` +
          `${SMALLEST_MAX_STALENESS_SECONDS} seconds (or -1 for no maximum)`,
      );
    }
    if (maxStaleness * 1000 < heartbeat + IDLE_WRITE_PERIOD_MS) {
      throw new ConfigurationError(
        `maxStalenessSeconds ${maxStaleness} is too small for heartbeatFrequencyMS ${heartbeat}: it must be at ` +
          `least (heartbeatFrequencyMS + idleWritePeriodMS ${IDLE_WRITE_PERIOD_MS}) / 1000 = ` +
          `${(heartbeat + IDLE_WRITE_PERIOD_MS) / 1000} seconds`,
      );
    }
  }
  const old = [...topology.servers.values()].filter((s) =>
    isAvailable(s) && s.maxWireVersion < MAX_STALENESS_WIRE_VERSION
  );
  if (old.length > 0) {
    throw new ConfigurationError(
      `maxStalenessSeconds needs MongoDB 3.4+ (wire version ${MAX_STALENESS_WIRE_VERSION}) on every server, but ` +
        old.map((s) => `${s.address} has maxWireVersion ${s.maxWireVersion}`).join(", "),
    );
  }
}

function checkNumber(name: string, value: number | undefined): void {
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value < 0)) {
    throw new ConfigurationError(`${name} must be a finite non-negative number, got ${String(value)}`);
  }
}

function matchesTagSet(server: ServerDescription, set: TagSet): boolean {
  for (const key of Object.keys(set)) {
    if (!Object.hasOwn(server.tags, key) || server.tags[key] !== set[key]) return false;
  }
  return true;
}

/** The first tag set matching at least one candidate decides; later sets are ignored. */
function filterByTags(candidates: ServerDescription[], tagSets: readonly TagSet[]): ServerDescription[] {
  if (tagSets.length === 0) return candidates;
  for (const set of tagSets) {
    const matching = candidates.filter((s) => matchesTagSet(s, set));
    if (matching.length > 0) return matching;
  }
  return [];
}

/**
 * Estimates each secondary's staleness against the whole topology (not just the
 * candidates), so leaving a deprioritized primary out does not change how
 * stale the secondaries look.
 */
function stalenessFilter(
  topology: TopologyDescription,
  candidates: ServerDescription[],
  maxStalenessSeconds: number | undefined,
): ServerDescription[] {
  if (maxStalenessSeconds === undefined || maxStalenessSeconds <= 0) return candidates;
  const limit = maxStalenessSeconds * 1000;
  const heartbeat = topology.heartbeatFrequencyMS;
  const all = [...topology.servers.values()];
  const primary = topology.type === "ReplicaSetWithPrimary"
    ? all.find((s) => s.type === "RSPrimary" && s.lastWriteDate !== null)
    : undefined;
  let newest: number | null = null;
  if (primary === undefined) {
    for (const s of all) {
      if (s.type === "RSSecondary" && s.lastWriteDate !== null && (newest === null || s.lastWriteDate > newest)) {
        newest = s.lastWriteDate;
      }
    }
  }
  return candidates.filter((s) => {
    if (s.type !== "RSSecondary") return true;
    // A secondary that reported no lastWriteDate cannot be shown fresh enough.
    if (s.lastWriteDate === null) return false;
    let staleness: number;
    if (primary !== undefined) {
      staleness = (s.lastUpdateTime - s.lastWriteDate) -
        (primary.lastUpdateTime - (primary.lastWriteDate as number)) + heartbeat;
    } else {
      staleness = (newest as number) - s.lastWriteDate + heartbeat;
    }
    return staleness <= limit;
  });
}

/** Secondaries (and for nearest the primary) that pass the staleness and tag filters. */
function eligible(
  topology: TopologyDescription,
  servers: ServerDescription[],
  readPreference: ReadPreference,
  includePrimary: boolean,
): ServerDescription[] {
  const candidates = servers.filter((s) => s.type === "RSSecondary" || (includePrimary && s.type === "RSPrimary"));
  return filterByTags(stalenessFilter(topology, candidates, readPreference.maxStalenessSeconds), readPreference.tags);
}

function suitableAmong(
  topology: TopologyDescription,
  servers: ServerDescription[],
  selector: ServerSelector,
): ServerDescription[] {
  switch (topology.type) {
    case "Unknown":
      return [];
    case "Single":
    case "LoadBalanced":
      // A direct connection or a load balancer takes every operation; the
      // read preference is passed on, not used to choose.
      return servers.filter(isAvailable);
    case "Sharded":
      return servers.filter((s) => s.type === "Mongos");
    case "ReplicaSetWithPrimary":
    case "ReplicaSetNoPrimary": {
      const primaries = servers.filter((s) => s.type === "RSPrimary");
      if (selector.operation === "write") return primaries;
      const rp = selector.readPreference;
      switch (rp.mode) {
        case "primary":
          return primaries;
        case "secondary":
          return eligible(topology, servers, rp, false);
        case "nearest":
          return eligible(topology, servers, rp, true);
        case "secondaryPreferred": {
          const secondaries = eligible(topology, servers, rp, false);
          return secondaries.length > 0 ? secondaries : primaries;
        }
        case "primaryPreferred":
          return primaries.length > 0 ? primaries : eligible(topology, servers, rp, false);
      }
    }
  }
  return [];
}

function latencyWindow(suitable: ServerDescription[], localThresholdMS: number): ServerDescription[] {
  let fastest = Infinity;
  for (const s of suitable) {
    if (s.roundTripTime !== null && s.roundTripTime < fastest) fastest = s.roundTripTime;
  }
  // A server with no RTT yet (a load balancer is never monitored) cannot be
  // placed in the window, and must not be excluded for it either.
  return suitable.filter((s) => s.roundTripTime === null || s.roundTripTime <= fastest + localThresholdMS);
}

/**
 * Finds the servers suitable for an operation, per the Server Selection spec:
 * Unknown topology -> none; Single and LoadBalanced -> the available server(s),
 * whatever the read preference; Sharded -> every mongos; replica sets -> by
 * mode, then max staleness, then tag sets (first matching set wins), writes to
 * the primary only. Deprioritized addresses are left out unless that leaves
 * nothing suitable. Then keeps the servers within `localThresholdMS` of the
 * fastest suitable one.
 *
 * Throws {@linkcode ServerSelectionError} when the topology is not compatible
 * with this driver's wire versions, and {@linkcode ConfigurationError} when the
 * read preference cannot be used against this topology (maxStalenessSeconds
 * below 90 s or below `(heartbeatFrequencyMS + 10000) / 1000` against a replica
 * set, or any server older than wire version 5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, selectServers, type ServerDescription, type TopologyDescription } from "@zerodep/mongo/topology";
 *
 * function member(address: string, type: ServerDescription["type"], roundTripTime: number): ServerDescription {
 *   return {
 *     address, type, roundTripTime, error: null, lastWriteDate: null, lastUpdateTime: 0, minWireVersion: 0,
 *     maxWireVersion: 21, me: address, hosts: [], passives: [], arbiters: [], tags: {}, setName: "rs",
 *     setVersion: null, electionId: null, primary: null, logicalSessionTimeoutMinutes: 30, topologyVersion: null,
 *     helloOk: true,
 *   };
 * }
 * const servers = [member("a:27017", "RSPrimary", 5), member("b:27017", "RSSecondary", 8)];
 * const topology: TopologyDescription = {
 *   type: "ReplicaSetWithPrimary", setName: "rs", maxSetVersion: 1, maxElectionId: null,
 *   servers: new Map(servers.map((s) => [s.address, s])), compatible: true, compatibilityError: null,
 *   logicalSessionTimeoutMinutes: 30, heartbeatFrequencyMS: 10000, localThresholdMS: 15,
 * };
 * const { suitable } = selectServers(topology, { operation: "read", readPreference: ReadPreference.SECONDARY });
 * assert.deepEqual(suitable.map((s) => s.address), ["b:27017"]);
 * ```
 */
export function selectServers(
  topology: TopologyDescription,
  selector: ServerSelector,
  options: SelectServersOptions = {},
): ServerSelectionResult {
  if (
    selector === null || typeof selector !== "object" ||
    (selector.operation !== "read" && selector.operation !== "write")
  ) {
    throw new ConfigurationError(`the server selector's operation must be "read" or "write"`);
  }
  if (selector.readPreference === null || typeof selector.readPreference !== "object") {
    throw new ConfigurationError("the server selector needs a ReadPreference");
  }
  checkNumber("localThresholdMS", options.localThresholdMS);
  if (options.now !== undefined && !Number.isFinite(options.now)) {
    throw new ConfigurationError(`now must be a finite number of ms, got ${String(options.now)}`);
  }
  if (!topology.compatible) {
    throw new ServerSelectionError(
      topology.compatibilityError ??
        "the deployment's wire versions do not overlap those this driver supports",
    );
  }
  if (selector.operation === "read" && selector.writeStage === true) {
    selector = { ...selector, readPreference: writeStageReadPreference(topology, selector.readPreference) };
  }
  if (selector.operation === "read") checkReadPreference(topology, selector.readPreference);

  const threshold = options.localThresholdMS ??
    (Number.isFinite(topology.localThresholdMS) && topology.localThresholdMS >= 0
      ? topology.localThresholdMS
      : DEFAULT_LOCAL_THRESHOLD_MS);
  const all = [...topology.servers.values()];
  const avoid = new Set(options.deprioritized ?? []);
  let suitable = avoid.size > 0 ? suitableAmong(topology, all.filter((s) => !avoid.has(s.address)), selector) : [];
  if (suitable.length === 0) suitable = suitableAmong(topology, all, selector);
  return { suitable, inLatencyWindow: latencyWindow(suitable, threshold) };
}

/**
 * Picks one server from the latency window by the "power of two random
 * choices": two distinct servers at random, and of those the one with fewer
 * operations in flight (either on a tie). With one candidate, that one.
 * Throws {@linkcode ServerSelectionError} when there are no candidates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseServer, type ServerDescription } from "@zerodep/mongo/topology";
 *
 * function mongos(address: string): ServerDescription {
 *   return {
 *     address, type: "Mongos", roundTripTime: 5, error: null, lastWriteDate: null, lastUpdateTime: 0,
 *     minWireVersion: 0, maxWireVersion: 21, me: null, hosts: [], passives: [], arbiters: [], tags: {},
 *     setName: null, setVersion: null, electionId: null, primary: null, logicalSessionTimeoutMinutes: null,
 *     topologyVersion: null, helloOk: true,
 *   };
 * }
 * const busy = new Map([["a:27017", 12], ["b:27017", 3]]);
 * const server = chooseServer([mongos("a:27017"), mongos("b:27017")], {
 *   operationCount: (address) => busy.get(address) ?? 0,
 * });
 * assert.equal(server.address, "b:27017"); // of the two picks, the less busy
 * ```
 */
export function chooseServer(
  candidates: readonly ServerDescription[],
  options: ChooseServerOptions = {},
): ServerDescription {
  if (candidates.length === 0) throw new ServerSelectionError("no server to choose from: the latency window is empty");
  if (candidates.length === 1) return candidates[0];
  const random = options.random ?? Math.random;
  const count = options.operationCount ?? (() => 0);
  const n = candidates.length;
  const pick = (range: number) => {
    const r = random();
    return Math.min(range - 1, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * range)));
  };
  const i = pick(n);
  // Drawing the second from the other n-1 slots keeps the two distinct.
  let j = pick(n - 1);
  if (j >= i) j += 1;
  const first = candidates[i];
  const second = candidates[j];
  return count(second.address) < count(first.address) ? second : first;
}
