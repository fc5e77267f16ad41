/**
 * SDAM monitoring events as a pure diff of two topology descriptions, so the
 * topology's owner publishes exactly what the SDAM logging-and-monitoring
 * specification asks for without tracking changes by hand.
 *
 * @module
 */

import { type ServerDescription, serverDescriptionEquals } from "./server_description.ts";
import type { TopologyDescription } from "./topology_description.ts";
import type { Document } from "../bson/mod.ts";
import type { EventSink, NetEventInitMap } from "../net/monitoring.ts";

/**
 * One SDAM event. `type` is the specification's event name in snake_case
 * without the "_event" suffix; the topology id is the publisher's business.
 *
 * @example
 * ```ts
 * import type { SdamEvent } from "./sdam_events.ts";
 *
 * function log(e: SdamEvent) {
 *   if (e.type === "server_description_changed") console.log(e.address, e.newDescription.type);
 * }
 * log({ type: "topology_opening" });
 * ```
 */
export type SdamEvent =
  | { readonly type: "topology_opening" }
  | {
    readonly type: "topology_description_changed";
    readonly previousDescription: TopologyDescription;
    readonly newDescription: TopologyDescription;
  }
  | { readonly type: "server_opening"; readonly address: string }
  | {
    readonly type: "server_description_changed";
    readonly address: string;
    readonly previousDescription: ServerDescription;
    readonly newDescription: ServerDescription;
  }
  | { readonly type: "server_closed"; readonly address: string }
  | { readonly type: "topology_closed" };

/**
 * The SDAM events that take the topology from `prev` to `next`.
 *
 * - `prev` null: the topology is opening: `topology_opening`, a
 *   `topology_description_changed` from an empty Unknown description, then
 *   `server_opening` for each seed.
 * - `next` null: the topology is closing: `server_closed` for each server, a
 *   `topology_description_changed` to an empty Unknown description, then
 *   `topology_closed`.
 * - otherwise: `server_description_changed` for each server whose description
 *   changed (by the specification's equality, so round-trip-time updates
 *   publish nothing), `server_opening` for each added server, `server_closed`
 *   for each removed one, and a `topology_description_changed` when anything
 *   about the topology changed.
 *
 * Experimental: the event API may change when command monitoring lands.
 *
 * @param prev The description before the change, or null when opening.
 * @param next The description after it, or null when closing.
 * @returns The events, in publishing order (empty when nothing changed).
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topologyEvents } from "./sdam_events.ts";
 * import { initialTopologyDescription } from "./topology_description.ts";
 *
 * const td = initialTopologyDescription(["a:27017"], {});
 * console.log(topologyEvents(null, td).map((e) => e.type));
 * // ["topology_opening", "topology_description_changed", "server_opening"]
 * assert.deepEqual(topologyEvents(td, td), []);
 * ```
 */
export function topologyEvents(
  prev: TopologyDescription | null,
  next: TopologyDescription | null,
): SdamEvent[] {
  if (prev === null && next === null) return [];
  if (prev === null) {
    const n = next as TopologyDescription;
    return [
      { type: "topology_opening" },
      { type: "topology_description_changed", previousDescription: emptyLike(n), newDescription: n },
      ...[...n.servers.keys()].map((address): SdamEvent => ({ type: "server_opening", address })),
    ];
  }
  if (next === null) {
    return [
      ...[...prev.servers.keys()].map((address): SdamEvent => ({ type: "server_closed", address })),
      { type: "topology_description_changed", previousDescription: prev, newDescription: emptyLike(prev) },
      { type: "topology_closed" },
    ];
  }
  if (prev === next) return [];
  const events: SdamEvent[] = [];
  for (const [address, now] of next.servers) {
    const before = prev.servers.get(address);
    if (before !== undefined && !serverDescriptionEquals(before, now)) {
      events.push({ type: "server_description_changed", address, previousDescription: before, newDescription: now });
    }
  }
  for (const address of next.servers.keys()) {
    if (!prev.servers.has(address)) events.push({ type: "server_opening", address });
  }
  for (const address of prev.servers.keys()) {
    if (!next.servers.has(address)) events.push({ type: "server_closed", address });
  }
  if (events.length > 0 || !sameTopologyFields(prev, next)) {
    events.push({ type: "topology_description_changed", previousDescription: prev, newDescription: next });
  }
  return events;
}

/**
 * Whether two topology descriptions are equal for the purpose of publishing
 * `topology_description_changed`: same type, set name, maxima, compatibility,
 * session timeout, and the same servers with equal descriptions.
 *
 * Experimental: the event API may change when command monitoring lands.
 *
 * @param a One description.
 * @param b The other description.
 * @returns True when an observer could not tell them apart.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topologyDescriptionEquals } from "./sdam_events.ts";
 * import { initialTopologyDescription } from "./topology_description.ts";
 *
 * const a = initialTopologyDescription(["a:27017"], {});
 * const b = initialTopologyDescription(["a:27017"], {});
 * assert.equal(topologyDescriptionEquals(a, b), true);
 * ```
 */
export function topologyDescriptionEquals(a: TopologyDescription, b: TopologyDescription): boolean {
  if (a === b) return true;
  if (!sameTopologyFields(a, b) || a.servers.size !== b.servers.size) return false;
  for (const [address, sd] of a.servers) {
    const other = b.servers.get(address);
    if (other === undefined || !serverDescriptionEquals(sd, other)) return false;
  }
  return true;
}

function sameTopologyFields(a: TopologyDescription, b: TopologyDescription): boolean {
  return a.type === b.type &&
    a.setName === b.setName &&
    a.maxSetVersion === b.maxSetVersion &&
    a.maxElectionId === b.maxElectionId &&
    a.compatible === b.compatible &&
    a.compatibilityError === b.compatibilityError &&
    a.logicalSessionTimeoutMinutes === b.logicalSessionTimeoutMinutes;
}

/** The "unknown state" description the specification puts before the first and after the last event. */
function emptyLike(td: TopologyDescription): TopologyDescription {
  return {
    type: "Unknown",
    setName: null,
    maxSetVersion: null,
    maxElectionId: null,
    servers: new Map(),
    compatible: true,
    compatibilityError: null,
    logicalSessionTimeoutMinutes: null,
    heartbeatFrequencyMS: td.heartbeatFrequencyMS,
    localThresholdMS: td.localThresholdMS,
  };
}

/**
 * The monitoring connection a heartbeat ran on (for the SDAM log messages):
 * the driver's id for it, and the server's (its hello's `connectionId`) once known.
 *
 * @example
 * ```ts
 * import type { HeartbeatConnectionIds } from "./sdam_events.ts";
 *
 * const ids: HeartbeatConnectionIds = { driverConnectionId: 1, serverConnectionId: 42 };
 * ```
 */
export interface HeartbeatConnectionIds {
  /** The driver's id for the monitoring connection (each monitor numbers its connections 1, 2, ...). */
  readonly driverConnectionId?: number;
  /** The server's id for it, once a hello on it answered. */
  readonly serverConnectionId?: number;
}

/**
 * The fields of each SDAM monitoring event, by event type, with the command
 * monitoring and CMAP ones of the layer below: what a topology hands its
 * {@linkcode EventSink}. `topologyId` tells one client's topology from another's.
 *
 * @example
 * ```ts
 * import type { TopologyEventInitMap } from "./sdam_events.ts";
 *
 * const opening: TopologyEventInitMap["serverOpening"] = { topologyId: 1, address: "db1:27017" };
 * ```
 */
export interface TopologyEventInitMap extends NetEventInitMap {
  /** The fields of `topologyOpening`. */
  topologyOpening: { readonly topologyId: number };
  /** The fields of `topologyDescriptionChanged`. */
  topologyDescriptionChanged: {
    readonly topologyId: number;
    readonly previousDescription: TopologyDescription;
    readonly newDescription: TopologyDescription;
  };
  /** The fields of `topologyClosed`. */
  topologyClosed: { readonly topologyId: number };
  /** The fields of `serverOpening`. */
  serverOpening: { readonly topologyId: number; readonly address: string };
  /** The fields of `serverDescriptionChanged`. */
  serverDescriptionChanged: {
    readonly topologyId: number;
    readonly address: string;
    readonly previousDescription: ServerDescription;
    readonly newDescription: ServerDescription;
  };
  /** The fields of `serverClosed`. */
  serverClosed: { readonly topologyId: number; readonly address: string };
  /** The fields of `serverHeartbeatStarted`. */
  serverHeartbeatStarted: HeartbeatConnectionIds & { readonly address: string; readonly awaited: boolean };
  /** The fields of `serverHeartbeatSucceeded`. */
  serverHeartbeatSucceeded: HeartbeatConnectionIds & {
    readonly address: string;
    readonly awaited: boolean;
    readonly durationMS: number;
    readonly reply: Document;
  };
  /** The fields of `serverHeartbeatFailed`. */
  serverHeartbeatFailed: HeartbeatConnectionIds & {
    readonly address: string;
    readonly awaited: boolean;
    readonly durationMS: number;
    readonly failure: unknown;
  };
}

/**
 * Publishes the SDAM events that take the topology from `prev` to `next`
 * (see {@linkcode topologyEvents}) to `sink`, building only those a listener wants.
 *
 * @param sink Where the events go.
 * @param topologyId The topology's id.
 * @param prev The description before, or null when opening.
 * @param next The description after, or null when closing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishTopologyEvents, type TopologyEventInitMap } from "./sdam_events.ts";
 * import type { EventSink } from "../net/monitoring.ts";
 * import { initialTopologyDescription } from "./topology_description.ts";
 *
 * const seen: string[] = [];
 * const sink: EventSink<TopologyEventInitMap> = { wants: () => true, emit: (type) => void seen.push(type) };
 * publishTopologyEvents(sink, 1, null, initialTopologyDescription(["a:27017"], {}));
 * assert.deepEqual(seen, ["topologyOpening", "topologyDescriptionChanged", "serverOpening"]);
 * ```
 */
export function publishTopologyEvents(
  sink: EventSink<TopologyEventInitMap>,
  topologyId: number,
  prev: TopologyDescription | null,
  next: TopologyDescription | null,
): void {
  if (
    !(sink.wants("topologyOpening") || sink.wants("topologyDescriptionChanged") || sink.wants("topologyClosed") ||
      sink.wants("serverOpening") || sink.wants("serverDescriptionChanged") || sink.wants("serverClosed"))
  ) {
    return;
  }
  for (const e of topologyEvents(prev, next)) {
    switch (e.type) {
      case "topology_opening":
        if (sink.wants("topologyOpening")) sink.emit("topologyOpening", { topologyId });
        break;
      case "topology_closed":
        if (sink.wants("topologyClosed")) sink.emit("topologyClosed", { topologyId });
        break;
      case "topology_description_changed":
        if (sink.wants("topologyDescriptionChanged")) {
          sink.emit("topologyDescriptionChanged", {
            topologyId,
            previousDescription: e.previousDescription,
            newDescription: e.newDescription,
          });
        }
        break;
      case "server_opening":
        if (sink.wants("serverOpening")) sink.emit("serverOpening", { topologyId, address: e.address });
        break;
      case "server_closed":
        if (sink.wants("serverClosed")) sink.emit("serverClosed", { topologyId, address: e.address });
        break;
      case "server_description_changed":
        if (sink.wants("serverDescriptionChanged")) {
          sink.emit("serverDescriptionChanged", {
            topologyId,
            address: e.address,
            previousDescription: e.previousDescription,
            newDescription: e.newDescription,
          });
        }
        break;
    }
  }
}
