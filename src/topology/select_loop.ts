/**
 * The asynchronous server selection loop: select, and while nothing is
 * suitable ask the monitors for an immediate check and wait for the topology
 * to change, until `serverSelectionTimeoutMS` runs out.
 *
 * @module
 */

import { ConfigurationError, ServerSelectionError } from "../errors.ts";
import type { ServerDescription } from "./server_description.ts";
import type { TopologyDescription } from "./topology_description.ts";
import { chooseServer, selectServers, type ServerSelector } from "./server_selection.ts";

/**
 * Where the loop reads the topology from: the live topology in the client, or
 * a fake in tests.
 *
 * @example A source over a fixed description
 * ```ts
 * import type { TopologyDescription, TopologySource } from "@zerodep/mongo/topology";
 *
 * function fixed(description: TopologyDescription): TopologySource {
 *   return {
 *     description: () => description,
 *     waitForChange: (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve())),
 *     requestCheck: () => {},
 *   };
 * }
 * ```
 */
export interface TopologySource {
  /** The current topology description. */
  description(): TopologyDescription;
  /**
   * Resolves when the description changes. The loop aborts `signal` when it
   * stops waiting (timeout, caller's abort, or a change), so the source can drop
   * its listener; a rejection after that abort is ignored.
   */
  waitForChange(signal: AbortSignal): Promise<void>;
  /** Asks every monitor to check its server now. */
  requestCheck(): void;
}

/**
 * Options of {@linkcode selectServer}.
 *
 * @example
 * ```ts
 * import type { SelectServerOptions } from "@zerodep/mongo/topology";
 *
 * const options: SelectServerOptions = { serverSelectionTimeoutMS: 30_000, signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface SelectServerOptions {
  /**
   * How long to wait for a suitable server, in ms (the spec default is 30000).
   * `0` means a single attempt: fail at once when nothing is suitable.
   */
  readonly serverSelectionTimeoutMS: number;
  /** Aborts the wait; the returned promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Size of the latency window in ms; default the topology's `localThresholdMS`. */
  readonly localThresholdMS?: number;
  /** In-flight operations per server address, for the choice within the window. */
  readonly operationCount?: (address: string) => number;
  /** Addresses to avoid unless nothing else is suitable (e.g. after a retryable error). */
  readonly deprioritized?: readonly string[];
  /** A random number in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

// setTimeout stores its delay in a signed 32-bit integer; longer waits loop.
const MAX_TIMER_MS = 2 ** 31 - 1;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Waits for a topology change, the timeout, or the caller's abort; always clears its timer and listeners. */
async function waitForChange(source: TopologySource, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const stop = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(resolve, Math.min(ms, MAX_TIMER_MS));
      if (signal !== undefined) {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      }
      let change: Promise<void>;
      try {
        change = source.waitForChange(stop.signal);
      } catch (e) {
        reject(e);
        return;
      }
      Promise.resolve(change).then(() => resolve(), (e) => {
        if (!stop.signal.aborted) reject(e);
      });
    });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    stop.abort();
  }
}

function describeServer(server: ServerDescription): string {
  let text = `${server.address} ${server.type}`;
  if (Object.keys(server.tags).length > 0) text += ` tags ${JSON.stringify(server.tags)}`;
  if (server.roundTripTime !== null) text += ` rtt ${Math.round(server.roundTripTime * 10) / 10} ms`;
  if (server.error !== null) text += ` (error: ${server.error})`;
  return text;
}

function describeTopology(topology: TopologyDescription): string {
  const servers = [...topology.servers.values()];
  const name = topology.setName === null ? "" : ` "${topology.setName}"`;
  const list = servers.length === 0 ? "no servers known" : servers.map(describeServer).join(", ");
  return `topology ${topology.type}${name}: ${list}`;
}

function describeWanted(selector: ServerSelector): string {
  return selector.operation === "write"
    ? "a write (needs a primary, mongos, standalone or load balancer)"
    : `a read with read preference ${selector.readPreference}`;
}

/**
 * Selects a server for an operation, waiting for the topology to change while
 * none is suitable. Each round: select (see {@linkcode selectServers}); if the
 * latency window is empty, request an immediate check and wait for a change or
 * the remaining time. Among several servers in the window it picks by
 * {@linkcode chooseServer} with `operationCount`.
 *
 * Rejects with {@linkcode ServerSelectionError} after `serverSelectionTimeoutMS`,
 * with a message naming what was wanted (operation, read preference in both
 * vocabularies, tags) and the topology (type, each server's address, type and
 * error); with `signal.reason` as soon as `signal` aborts; and at once with the
 * {@linkcode ConfigurationError} or {@linkcode ServerSelectionError} that
 * selection itself raises (invalid maxStalenessSeconds, incompatible wire
 * versions). No timer outlives the call.
 *
 * Experimental: the operation runner (src/client/execute.ts) is reshaping how servers are selected and used.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, selectServer, type TopologyDescription, type TopologySource } from "@zerodep/mongo/topology";
 *
 * const description: TopologyDescription = {
 *   type: "Sharded", setName: null, maxSetVersion: null, maxElectionId: null, compatible: true,
 *   compatibilityError: null, logicalSessionTimeoutMinutes: null, heartbeatFrequencyMS: 10000, localThresholdMS: 15,
 *   servers: new Map([["m:27017", {
 *     address: "m:27017", type: "Mongos", roundTripTime: 5, error: null, lastWriteDate: null, lastUpdateTime: 0,
 *     minWireVersion: 0, maxWireVersion: 21, me: null, hosts: [], passives: [], arbiters: [], tags: {},
 *     setName: null, setVersion: null, electionId: null, primary: null, logicalSessionTimeoutMinutes: null,
 *     topologyVersion: null, helloOk: true,
 *   }]]),
 * };
 * const source: TopologySource = {
 *   description: () => description,
 *   waitForChange: (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve())),
 *   requestCheck: () => {},
 * };
 * const server = await selectServer(source, { operation: "read", readPreference: ReadPreference.SECONDARY }, {
 *   serverSelectionTimeoutMS: 30_000,
 * });
 * assert.equal(server.address, "m:27017");
 * ```
 */
export async function selectServer(
  source: TopologySource,
  selector: ServerSelector,
  options: SelectServerOptions,
): Promise<ServerDescription> {
  const timeout = options?.serverSelectionTimeoutMS;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout < 0) {
    throw new ConfigurationError(
      `serverSelectionTimeoutMS must be a finite non-negative number of ms, got ${String(timeout)}`,
    );
  }
  const { signal } = options;
  const started = performance.now();
  const deadline = started + timeout;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const topology = source.description();
    const { inLatencyWindow } = selectServers(topology, selector, {
      localThresholdMS: options.localThresholdMS,
      deprioritized: options.deprioritized,
    });
    if (inLatencyWindow.length > 0) {
      return chooseServer(inLatencyWindow, { operationCount: options.operationCount, random: options.random });
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      throw new ServerSelectionError(
        `Server selection timed out after ${timeout} ms: no server is suitable for ${describeWanted(selector)}; ` +
          describeTopology(topology),
      );
    }
    source.requestCheck();
    await waitForChange(source, remaining, signal);
  }
}
