/**
 * What the driver knows of the whole deployment, and the SDAM specification's
 * state machine that updates it: `(topology, serverDescription) -> topology`,
 * a pure function with no timers or sockets, so that the specification's test
 * vectors drive it directly.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import {
  compareTopologyVersion,
  normalizeAddress,
  type ServerDescription,
  type ServerType,
  unknownServerDescription,
} from "./server_description.ts";

/**
 * The type of the whole deployment, as the SDAM specification names it.
 *
 * @example
 * ```ts
 * import type { TopologyType } from "./topology_description.ts";
 *
 * const t: TopologyType = "ReplicaSetWithPrimary";
 * console.log(t);
 * ```
 */
export type TopologyType =
  | "Single"
  | "ReplicaSetNoPrimary"
  | "ReplicaSetWithPrimary"
  | "Sharded"
  | "LoadBalanced"
  | "Unknown";

/**
 * What the driver knows of the whole deployment (immutable; replaced on every change).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialTopologyDescription } from "./topology_description.ts";
 *
 * const td = initialTopologyDescription(["a:27017", "b:27017"], { replicaSet: "rs" });
 * assert.equal(td.type, "ReplicaSetNoPrimary");
 * assert.deepEqual([...td.servers.keys()], ["a:27017", "b:27017"]);
 * ```
 */
export interface TopologyDescription {
  /** The deployment's type. */
  readonly type: TopologyType;
  /** The replica set name, given by the user or discovered. */
  readonly setName: string | null;
  /** The largest setVersion reported by a primary (ordered after electionId on 6.0+). */
  readonly maxSetVersion: number | null;
  /** The largest electionId seen, 24 lowercase hex chars. */
  readonly maxElectionId: string | null;
  /** Keyed by address ("host:port", lowercase). */
  readonly servers: ReadonlyMap<string, ServerDescription>;
  /** False when some server's wire-version range does not overlap the driver's. */
  readonly compatible: boolean;
  /** Why the topology is incompatible, or null. */
  readonly compatibilityError: string | null;
  /**
   * The smallest session timeout among data-bearing servers, null if any lacks one.
   * Always null in LoadBalanced topologies, where nothing is monitored: there the
   * load-balancer specification says sessions are supported and never expire client-side.
   */
  readonly logicalSessionTimeoutMinutes: number | null;
  /** Settings that selection needs (max staleness, latency window). */
  readonly heartbeatFrequencyMS: number;
  /** Width of the latency window in ms. */
  readonly localThresholdMS: number;
  /**
   * How many distinct seeds the topology started with; a lone seed that turns
   * out to be a standalone makes the topology Single. Absent on descriptions
   * built by hand, where the current number of servers stands in for it.
   */
  readonly seedCount?: number;
}

/**
 * Options of {@linkcode initialTopologyDescription}.
 *
 * @example
 * ```ts
 * import type { InitialTopologyOptions } from "./topology_description.ts";
 *
 * const o: InitialTopologyOptions = { replicaSet: "rs", heartbeatFrequencyMS: 10_000 };
 * console.log(o.replicaSet);
 * ```
 */
export interface InitialTopologyOptions {
  /** The replica set name the user requires (URI `replicaSet`). */
  replicaSet?: string | null;
  /** Talk to the one seed only, whatever it is (URI `directConnection`). */
  directConnection?: boolean;
  /** The seed is a load balancer in front of mongoses (URI `loadBalanced`). */
  loadBalanced?: boolean;
  /** Interval between checks of one server, ms (default 10000, at least 500). */
  heartbeatFrequencyMS?: number;
  /** Width of the latency window, ms (default 15). */
  localThresholdMS?: number;
}

/**
 * The lowest wire version this driver speaks (MongoDB 2.6, the first with
 * write commands; older servers are reported as incompatible).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIN_SUPPORTED_WIRE_VERSION } from "./topology_description.ts";
 *
 * assert.equal(MIN_SUPPORTED_WIRE_VERSION, 2);
 * ```
 */
export const MIN_SUPPORTED_WIRE_VERSION = 2;

/**
 * The highest wire version this driver knows (MongoDB 8.0). Newer servers
 * still work as long as their `minWireVersion` is not above it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_SUPPORTED_WIRE_VERSION } from "./topology_description.ts";
 *
 * assert.equal(MAX_SUPPORTED_WIRE_VERSION, 25);
 * ```
 */
export const MAX_SUPPORTED_WIRE_VERSION = 25;

/** The smallest heartbeatFrequencyMS the SDAM specification allows (minHeartbeatFrequencyMS). */
const MIN_HEARTBEAT_FREQUENCY_MS = 500;
const DEFAULT_HEARTBEAT_FREQUENCY_MS = 10_000;
const DEFAULT_LOCAL_THRESHOLD_MS = 15;

/** Server versions by wire version, for the "too old" compatibility message. */
const MONGODB_VERSION_BY_WIRE: Readonly<Record<number, string>> = {
  0: "2.4",
  1: "2.4",
  2: "2.6",
  3: "3.0",
  4: "3.2",
  5: "3.4",
  6: "3.6",
  7: "4.0",
  8: "4.2",
};

const DRIVER_NAME = "@zerodep/mongo";

/**
 * The topology a client starts with, before any server has been checked:
 * every seed as an Unknown server, and the initial TopologyType from the
 * options as the SDAM specification's table says (`loadBalanced` gives
 * LoadBalanced, `directConnection` gives Single, `replicaSet` gives
 * ReplicaSetNoPrimary, otherwise Unknown).
 *
 * @param seeds One or more addresses ("host", "host:port", "[v6]:port"); duplicates are merged.
 * @param options The URI's topology options.
 * @returns The initial description.
 * @throws {ConfigurationError} When there is no seed, a seed is malformed, or the options
 *   cannot go together (directConnection or loadBalanced with several seeds, loadBalanced with
 *   directConnection or replicaSet, a heartbeatFrequencyMS below 500, a negative localThresholdMS).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialTopologyDescription } from "./topology_description.ts";
 *
 * const td = initialTopologyDescription(["Host1"], { directConnection: true });
 * assert.equal(td.type, "Single");
 * assert.deepEqual([...td.servers.keys()], ["host1:27017"]);
 * ```
 */
export function initialTopologyDescription(
  seeds: readonly string[],
  options: InitialTopologyOptions = {},
): TopologyDescription {
  if (!Array.isArray(seeds) || seeds.length === 0) {
    throw new ConfigurationError("the seed list is empty: give at least one host");
  }
  const addresses: string[] = [];
  for (const seed of seeds) {
    const a = normalizeAddress(seed);
    if (!addresses.includes(a)) addresses.push(a);
  }
  const replicaSet = options.replicaSet ?? null;
  if (replicaSet !== null && (typeof replicaSet !== "string" || replicaSet === "")) {
    throw new ConfigurationError(`replicaSet must be a non-empty string, got ${JSON.stringify(replicaSet)}`);
  }
  const direct = options.directConnection === true;
  const lb = options.loadBalanced === true;
  if (direct && addresses.length > 1) {
    throw new ConfigurationError(
      `directConnection=true needs exactly one host, got ${addresses.length} (${addresses.join(", ")})`,
    );
  }
  if (lb && addresses.length > 1) {
    throw new ConfigurationError(`loadBalanced=true needs exactly one host, got ${addresses.length}`);
  }
  if (lb && direct) throw new ConfigurationError("loadBalanced=true cannot be used with directConnection=true");
  if (lb && replicaSet !== null) throw new ConfigurationError("loadBalanced=true cannot be used with replicaSet");
  const heartbeatFrequencyMS = options.heartbeatFrequencyMS ?? DEFAULT_HEARTBEAT_FREQUENCY_MS;
  if (
    typeof heartbeatFrequencyMS !== "number" || !Number.isFinite(heartbeatFrequencyMS) ||
    heartbeatFrequencyMS < MIN_HEARTBEAT_FREQUENCY_MS
  ) {
    throw new ConfigurationError(
      `heartbeatFrequencyMS must be a number >= ${MIN_HEARTBEAT_FREQUENCY_MS}, got ${String(heartbeatFrequencyMS)}`,
    );
  }
  const localThresholdMS = options.localThresholdMS ?? DEFAULT_LOCAL_THRESHOLD_MS;
  if (typeof localThresholdMS !== "number" || !Number.isFinite(localThresholdMS) || localThresholdMS < 0) {
    throw new ConfigurationError(`localThresholdMS must be a number >= 0, got ${String(localThresholdMS)}`);
  }
  const type: TopologyType = lb
    ? "LoadBalanced"
    : direct
    ? "Single"
    : replicaSet !== null
    ? "ReplicaSetNoPrimary"
    : "Unknown";
  const servers = new Map<string, ServerDescription>();
  for (const a of addresses) servers.set(a, unknownServerDescription(a));
  return {
    type,
    setName: replicaSet,
    maxSetVersion: null,
    maxElectionId: null,
    servers,
    compatible: true,
    compatibilityError: null,
    logicalSessionTimeoutMinutes: null,
    heartbeatFrequencyMS,
    localThresholdMS,
    seedCount: addresses.length,
  };
}

/**
 * The result of {@linkcode applyServerDescription}: the new topology and the
 * side effects the caller (the topology's owner, holding its lock) must carry out.
 *
 * @example
 * ```ts
 * import type { TopologyUpdate } from "./topology_description.ts";
 *
 * function act(u: TopologyUpdate) {
 *   for (const a of u.clearPools) console.log("clear pool of", a);
 *   for (const a of u.requestChecks) console.log("check now", a);
 * }
 * act({ topology: null as never, clearPools: [], requestChecks: [] });
 * ```
 */
export interface TopologyUpdate {
  /** The new description (the same object when the update was ignored). */
  readonly topology: TopologyDescription;
  /** Servers whose connection pools must be cleared (an invalidated pre-4.2 primary). */
  readonly clearPools: readonly string[];
  /** Servers to check at once (a primary invalidated by a newer one). */
  readonly requestChecks: readonly string[];
}

/**
 * Applies a new description of one server to the topology: THE state machine
 * of the SDAM specification. The result is a new TopologyDescription; the
 * input is never modified. Servers that disappear from the result are to be
 * stopped by the caller (compare the keys, or use `topologyEvents`).
 *
 * The update is ignored (the same object is returned) when the server is no
 * longer in the topology, or when the new description's topologyVersion is
 * older than the current one's.
 *
 * @param topology The current description.
 * @param server The new description of one of its servers.
 * @returns The new description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialTopologyDescription, updateTopology } from "./topology_description.ts";
 * import { serverDescriptionFromHello } from "./server_description.ts";
 *
 * let td = initialTopologyDescription(["a:27017"], { replicaSet: "rs" });
 * td = updateTopology(td, serverDescriptionFromHello("a:27017", {
 *   ok: 1, secondary: true, setName: "rs", hosts: ["a:27017", "b:27017"], primary: "b:27017",
 *   me: "a:27017", maxWireVersion: 21,
 * }));
 * assert.equal(td.type, "ReplicaSetNoPrimary");
 * assert.deepEqual([...td.servers.keys()], ["a:27017", "b:27017"]);
 * ```
 */
export function updateTopology(topology: TopologyDescription, server: ServerDescription): TopologyDescription {
  return applyServerDescription(topology, server).topology;
}

/**
 * {@linkcode updateTopology} with its side effects spelled out: which pools to
 * clear and which servers to check at once. A driver's topology calls this;
 * spec runners and selection code can use `updateTopology`.
 *
 * @param topology The current description.
 * @param server The new description of one of its servers.
 * @returns The new description and the side effects.
 * @throws {ConfigurationError} When the arguments are not a topology and a server description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyServerDescription, initialTopologyDescription } from "./topology_description.ts";
 * import { serverDescriptionFromHello } from "./server_description.ts";
 *
 * const td = initialTopologyDescription(["a:27017"], {});
 * const u = applyServerDescription(td, serverDescriptionFromHello("a:27017", { ok: 1, maxWireVersion: 21 }));
 * assert.equal(u.topology.type, "Single");
 * assert.deepEqual(u.clearPools, []);
 * assert.deepEqual(u.requestChecks, []);
 * ```
 */
export function applyServerDescription(topology: TopologyDescription, server: ServerDescription): TopologyUpdate {
  if (topology === null || typeof topology !== "object" || !(topology.servers instanceof Map)) {
    throw new ConfigurationError("applyServerDescription: topology must be a TopologyDescription");
  }
  if (server === null || typeof server !== "object" || typeof server.address !== "string") {
    throw new ConfigurationError("applyServerDescription: server must be a ServerDescription with an address");
  }
  const address = lookupAddress(server.address);
  if (address !== server.address) server = { ...server, address };
  const current = topology.servers.get(address);
  if (current === undefined) return { topology, clearPools: [], requestChecks: [] };
  // The new description is older than what we know: keep ours (see topologyVersion in the spec).
  if (compareTopologyVersion(current.topologyVersion, server.topologyVersion) > 0) {
    return { topology, clearPools: [], requestChecks: [] };
  }
  const s = new Draft(topology);
  s.servers.set(server.address, server);
  switch (topology.type) {
    case "LoadBalanced":
      break;
    case "Single":
      updateSingle(s, server);
      break;
    case "Unknown":
      updateUnknown(s, server);
      break;
    case "Sharded":
      if (server.type !== "Unknown" && server.type !== "Mongos" && server.type !== "PossiblePrimary") {
        s.servers.delete(server.address);
      }
      break;
    case "ReplicaSetNoPrimary":
      updateNoPrimary(s, server);
      break;
    case "ReplicaSetWithPrimary":
      updateWithPrimary(s, server);
      break;
  }
  return { topology: s.finish(), clearPools: s.clearPools, requestChecks: s.requestChecks };
}

/**
 * Whether a server of this type can be used for application data (the SDAM
 * specification's "data-bearing server type").
 *
 * @param type A server type.
 * @returns True for Mongos, RSPrimary, RSSecondary, Standalone and LoadBalancer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDataBearing } from "./topology_description.ts";
 *
 * assert.equal(isDataBearing("RSSecondary"), true);
 * assert.equal(isDataBearing("RSArbiter"), false);
 * ```
 */
export function isDataBearing(type: ServerType): boolean {
  return type === "Mongos" || type === "RSPrimary" || type === "RSSecondary" || type === "Standalone" ||
    type === "LoadBalancer";
}

// ---------------------------------------------------------------------------

/** A mutable working copy of a TopologyDescription, turned back into an immutable one by finish(). */
class Draft {
  type: TopologyType;
  setName: string | null;
  maxSetVersion: number | null;
  maxElectionId: string | null;
  readonly servers: Map<string, ServerDescription>;
  readonly clearPools: string[] = [];
  readonly requestChecks: string[] = [];
  readonly #base: TopologyDescription;

  constructor(base: TopologyDescription) {
    this.#base = base;
    this.type = base.type;
    this.setName = base.setName;
    this.maxSetVersion = base.maxSetVersion;
    this.maxElectionId = base.maxElectionId;
    this.servers = new Map(base.servers);
  }

  get seedCount(): number {
    return this.#base.seedCount ?? this.#base.servers.size;
  }

  hasServer(address: string): boolean {
    return this.servers.has(address);
  }

  addUnknown(address: string): void {
    if (!this.servers.has(address)) this.servers.set(address, unknownServerDescription(address));
  }

  checkIfHasPrimary(): void {
    let primary = false;
    for (const sd of this.servers.values()) if (sd.type === "RSPrimary") primary = true;
    this.type = primary ? "ReplicaSetWithPrimary" : "ReplicaSetNoPrimary";
  }

  markPossiblePrimary(address: string | null): void {
    if (address === null) return;
    const sd = this.servers.get(address);
    // SDAM: "change its type to PossiblePrimary": the rest stays, the error of its failed check too, so
    // Unknown -> PossiblePrimary -> Unknown after the same failure publishes no serverDescriptionChanged.
    if (sd !== undefined && sd.type === "Unknown") this.servers.set(address, { ...sd, type: "PossiblePrimary" });
  }

  finish(): TopologyDescription {
    const { compatible, compatibilityError } = compatibility(this.servers);
    return {
      type: this.type,
      setName: this.setName,
      maxSetVersion: this.maxSetVersion,
      maxElectionId: this.maxElectionId,
      servers: this.servers,
      compatible,
      compatibilityError,
      logicalSessionTimeoutMinutes: sessionTimeout(this.servers),
      heartbeatFrequencyMS: this.#base.heartbeatFrequencyMS,
      localThresholdMS: this.#base.localThresholdMS,
      ...(this.#base.seedCount === undefined ? {} : { seedCount: this.#base.seedCount }),
    };
  }
}

function updateSingle(s: Draft, server: ServerDescription): void {
  // A user-given set name must match even on a direct connection.
  if (
    s.setName !== null && server.type !== "Unknown" && server.type !== "PossiblePrimary" &&
    server.setName !== s.setName
  ) {
    const got = server.setName === null ? `no replica set name (${server.type})` : `set name "${server.setName}"`;
    s.servers.set(
      server.address,
      unknownServerDescription(
        server.address,
        `${server.address} reports ${got}, but replicaSet "${s.setName}" was required`,
      ),
    );
  }
}

function updateUnknown(s: Draft, server: ServerDescription): void {
  switch (server.type) {
    case "Standalone":
      // updateUnknownWithStandalone: a lone seed is the deployment; among several it is a stray.
      if (s.seedCount === 1) s.type = "Single";
      else s.servers.delete(server.address);
      break;
    case "Mongos":
      s.type = "Sharded";
      break;
    case "RSPrimary":
      s.type = "ReplicaSetWithPrimary";
      updateRSFromPrimary(s, server);
      break;
    case "RSSecondary":
    case "RSArbiter":
    case "RSOther":
      s.type = "ReplicaSetNoPrimary";
      updateRSWithoutPrimary(s, server);
      break;
    default:
      // Unknown and RSGhost keep the topology Unknown: a ghost has no set name to follow.
      break;
  }
}

function updateNoPrimary(s: Draft, server: ServerDescription): void {
  switch (server.type) {
    case "Standalone":
    case "Mongos":
      s.servers.delete(server.address);
      break;
    case "RSPrimary":
      s.type = "ReplicaSetWithPrimary";
      updateRSFromPrimary(s, server);
      break;
    case "RSSecondary":
    case "RSArbiter":
    case "RSOther":
      updateRSWithoutPrimary(s, server);
      break;
    default:
      break;
  }
}

function updateWithPrimary(s: Draft, server: ServerDescription): void {
  switch (server.type) {
    case "Standalone":
    case "Mongos":
      s.servers.delete(server.address);
      s.checkIfHasPrimary();
      break;
    case "RSPrimary":
      updateRSFromPrimary(s, server);
      break;
    case "RSSecondary":
    case "RSArbiter":
    case "RSOther":
      updateRSWithPrimaryFromMember(s, server);
      break;
    default:
      s.checkIfHasPrimary();
      break;
  }
}

function updateRSWithoutPrimary(s: Draft, server: ServerDescription): void {
  if (!s.hasServer(server.address)) return;
  if (s.setName === null) s.setName = server.setName;
  else if (s.setName !== server.setName) {
    s.servers.delete(server.address);
    return;
  }
  for (const a of memberAddresses(server)) s.addUnknown(a);
  s.markPossiblePrimary(primaryOf(server));
  const me = meOf(server);
  if (me !== null && server.address !== me) s.servers.delete(server.address);
}

function updateRSWithPrimaryFromMember(s: Draft, server: ServerDescription): void {
  if (!s.hasServer(server.address)) return;
  const me = meOf(server);
  if (s.setName !== server.setName || (me !== null && server.address !== me)) {
    s.servers.delete(server.address);
    s.checkIfHasPrimary();
    return;
  }
  // This member may have been the primary until now.
  s.checkIfHasPrimary();
  if (s.type === "ReplicaSetNoPrimary") s.markPossiblePrimary(primaryOf(server));
}

function updateRSFromPrimary(s: Draft, server: ServerDescription): void {
  if (!s.hasServer(server.address)) return;
  if (s.setName === null) s.setName = server.setName;
  else if (s.setName !== server.setName) {
    s.servers.delete(server.address);
    s.checkIfHasPrimary();
    return;
  }

  const stale = staleness(s, server);
  if (stale !== null) {
    s.servers.set(
      server.address,
      unknownServerDescription(server.address, `primary marked stale due to electionId/setVersion mismatch: ${stale}`),
    );
    s.checkIfHasPrimary();
    return;
  }

  for (const [address, sd] of s.servers) {
    if (address !== server.address && sd.type === "RSPrimary") {
      s.servers.set(
        address,
        unknownServerDescription(address, `primary marked stale due to discovery of newer primary ${server.address}`),
      );
      s.requestChecks.push(address);
      // Servers before 4.2 close their connections on stepdown, so the pooled ones are dead.
      if (sd.maxWireVersion < 8) s.clearPools.push(address);
    }
  }

  const members = memberAddresses(server);
  for (const a of members) s.addUnknown(a);
  const listed = new Set(members);
  for (const address of [...s.servers.keys()]) {
    if (!listed.has(address)) s.servers.delete(address);
  }
  s.checkIfHasPrimary();
}

/**
 * Decides whether a reporting primary is stale against the largest
 * (electionId, setVersion) seen, and records the new maxima when it is not.
 * Returns why it is stale, or null.
 */
function staleness(s: Draft, server: ServerDescription): string | null {
  const { electionId, setVersion } = server;
  if (server.maxWireVersion >= 17) {
    // 6.0+: electionId first, then setVersion; a null sorts before any value.
    const byElection = compareNullable(electionId, s.maxElectionId);
    if (byElection < 0) {
      return `electionId ${electionId ?? "null"} is older than ${s.maxElectionId ?? "null"}`;
    }
    if (byElection === 0 && compareNullable(setVersion, s.maxSetVersion) < 0) {
      return `setVersion ${setVersion ?? "null"} is older than ${s.maxSetVersion ?? "null"}`;
    }
    s.maxElectionId = electionId;
    s.maxSetVersion = setVersion;
    return null;
  }
  // Before 6.0 drivers ordered setVersion first; kept for compatibility with older deployments.
  if (electionId !== null && setVersion !== null) {
    if (s.maxElectionId !== null && s.maxSetVersion !== null) {
      if (s.maxSetVersion > setVersion) {
        return `setVersion ${setVersion} is older than ${s.maxSetVersion}`;
      }
      if (s.maxSetVersion === setVersion && s.maxElectionId > electionId) {
        return `electionId ${electionId} is older than ${s.maxElectionId}`;
      }
    }
    s.maxElectionId = electionId;
  }
  if (setVersion !== null && (s.maxSetVersion === null || setVersion > s.maxSetVersion)) {
    s.maxSetVersion = setVersion;
  }
  return null;
}

/** The topology key for an address; an address that cannot be normalised matches no server. */
function lookupAddress(address: string): string {
  try {
    return normalizeAddress(address);
  } catch {
    return address;
  }
}

function compareNullable<T extends string | number>(a: T | null, b: T | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// Descriptions built by serverDescriptionFromHello are normalised already; these
// helpers also keep hand-built ones (tests, simulators) from creating mismatched keys.
function memberAddresses(server: ServerDescription): string[] {
  return [...server.hosts, ...server.passives, ...server.arbiters].map(lookupAddress);
}

function meOf(server: ServerDescription): string | null {
  return server.me === null ? null : lookupAddress(server.me);
}

function primaryOf(server: ServerDescription): string | null {
  return server.primary === null ? null : lookupAddress(server.primary);
}

function compatibility(
  servers: ReadonlyMap<string, ServerDescription>,
): { compatible: boolean; compatibilityError: string | null } {
  for (const sd of servers.values()) {
    // A load balancer is never checked, so it has no wire versions to compare.
    if (sd.type === "Unknown" || sd.type === "PossiblePrimary" || sd.type === "LoadBalancer") continue;
    if (sd.minWireVersion > MAX_SUPPORTED_WIRE_VERSION) {
      return {
        compatible: false,
        compatibilityError: `Server at ${sd.address} requires wire version ${sd.minWireVersion}, but this version of ` +
          `${DRIVER_NAME} only supports up to ${MAX_SUPPORTED_WIRE_VERSION}.`,
      };
    }
    if (sd.maxWireVersion < MIN_SUPPORTED_WIRE_VERSION) {
      const mongo = MONGODB_VERSION_BY_WIRE[MIN_SUPPORTED_WIRE_VERSION];
      return {
        compatible: false,
        compatibilityError: `Server at ${sd.address} reports wire version ${sd.maxWireVersion}, but this version of ` +
          `${DRIVER_NAME} requires at least ${MIN_SUPPORTED_WIRE_VERSION} (MongoDB ${mongo}).`,
      };
    }
  }
  return { compatible: true, compatibilityError: null };
}

function sessionTimeout(servers: ReadonlyMap<string, ServerDescription>): number | null {
  let min: number | null = null;
  for (const sd of servers.values()) {
    if (!isDataBearing(sd.type)) continue;
    if (sd.logicalSessionTimeoutMinutes === null) return null;
    if (min === null || sd.logicalSessionTimeoutMinutes < min) min = sd.logicalSessionTimeoutMinutes;
  }
  return min;
}
