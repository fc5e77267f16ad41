/**
 * SDAM log messages (the server discovery and monitoring logging
 * specification): the `topology` component's structured messages, made from
 * the client's own SDAM events by a subscriber, as the specification allows.
 * {@linkcode logTopology} attaches one to a client: "Starting topology
 * monitoring", "Topology description changed", "Starting server monitoring",
 * "Server heartbeat started" / "succeeded" / "failed", "Stopped server
 * monitoring", "Stopped topology monitoring", all at severity `debug`.
 *
 * The driver logs no other component yet (command, connection, server
 * selection), and reads no `MONGODB_LOG_*` environment variable: a caller
 * attaches a logger to a client in code.
 *
 * @module
 */
import { EJSON } from "../bson/mod.ts";
import { parseAddress } from "../address.ts";
import { ConfigurationError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import type { ServerDescription } from "../topology/server_description.ts";
import type { TopologyDescription } from "../topology/topology_description.ts";
import type { ClientEventMap } from "./monitoring.ts";
import type { ClientBase } from "./client_base.ts";

/**
 * The logging specification's severities, most severe first.
 *
 * @example
 * ```ts
 * import type { LogSeverity } from "@zerodep/mongo";
 *
 * const level: LogSeverity = "debug";
 * ```
 */
export type LogSeverity = "emergency" | "alert" | "critical" | "error" | "warn" | "notice" | "info" | "debug" | "trace";

const SEVERITIES: readonly LogSeverity[] = [
  "emergency",
  "alert",
  "critical",
  "error",
  "warn",
  "notice",
  "info",
  "debug",
  "trace",
];

/**
 * One SDAM log message, in its structured form.
 *
 * @example
 * ```ts
 * import type { TopologyLogMessage } from "@zerodep/mongo";
 *
 * function line(m: TopologyLogMessage): string {
 *   return `${m.severity} ${m.component}: ${m.data.message} (topology ${m.data.topologyId})`;
 * }
 * ```
 */
export interface TopologyLogMessage {
  /** Always `debug`: the specification logs every SDAM message at that severity. */
  readonly severity: "debug";
  /** Always `topology`. */
  readonly component: "topology";
  /**
   * `message` and the fields the specification gives it: `topologyId`;
   * `serverHost` and `serverPort` (no port for a Unix socket) for server and
   * heartbeat messages; `driverConnectionId`, `serverConnectionId` (once
   * known), `awaited`, and `durationMS` with `reply` (relaxed Extended JSON)
   * or `failure` (the error's text) for heartbeats; `previousDescription`
   * and `newDescription` (strings) for a description change.
   */
  readonly data: { readonly message: string; readonly topologyId: number; readonly [field: string]: unknown };
}

/**
 * Options of {@linkcode logTopology}.
 *
 * @example
 * ```ts
 * import type { TopologyLoggerOptions } from "@zerodep/mongo";
 *
 * const options: TopologyLoggerOptions = { severity: "debug", write: (m) => console.error(m.data.message) };
 * ```
 */
export interface TopologyLoggerOptions {
  /**
   * The least severe level to log. Every SDAM message is `debug`, so
   * "debug" or "trace" logs them all and any other level none.
   */
  readonly severity: LogSeverity;
  /** Receives each message; an exception it throws is dropped (the driver goes on). */
  write(message: TopologyLogMessage): void;
  /**
   * The longest `reply` and description strings, in characters (default
   * 1000, as the logging specification says); a longer one is cut there and
   * ends with "...". 0 means no limit.
   */
  readonly maxDocumentLength?: number;
  /** Detaches the logger when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Attaches an SDAM logger to a client: from now on each topology and
 * heartbeat event of the client is also written as the log message the
 * specification pairs with it. Attach it before the first operation or
 * `connect()` to see the topology start. Returns a function that detaches it.
 *
 * @throws {ConfigurationError} for an unknown severity, a `write` that is not a function, or a bad `maxDocumentLength`.
 * @example
 * ```ts ignore
 * import { Connection, logTopology } from "@zerodep/mongo";
 *
 * const conn = new Connection("mongodb://localhost:27017/");
 * const detach = logTopology(conn, { severity: "debug", write: (m) => console.error(JSON.stringify(m.data)) });
 * await conn.connect();
 * detach();
 * await conn.close();
 * ```
 */
export function logTopology(client: ClientBase, options: TopologyLoggerOptions): () => void {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`logTopology options must be an object, got ${describeValue(options)}`);
  }
  const rank = SEVERITIES.indexOf(options.severity);
  if (rank < 0) {
    throw new ConfigurationError(
      `severity must be one of ${SEVERITIES.join(", ")}, got ${describeValue(options.severity)}`,
    );
  }
  if (typeof options.write !== "function") {
    throw new ConfigurationError(`write must be a function, got ${describeValue(options.write)}`);
  }
  const max = options.maxDocumentLength ?? 1000;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0) {
    throw new ConfigurationError(`maxDocumentLength must be a non-negative integer, got ${describeValue(max)}`);
  }
  const detachers: (() => void)[] = [];
  const detach = () => {
    for (const d of detachers.splice(0)) d();
  };
  if (rank < SEVERITIES.indexOf("debug") || options.signal?.aborted) return detach;
  const write = options.write;
  const cut = (s: string) => max > 0 && s.length > max ? `${s.slice(0, max)}...` : s;
  let topologyId = 0;
  const emit = (data: TopologyLogMessage["data"]) => {
    try {
      write({ severity: "debug", component: "topology", data });
    } catch {
      // A logger's failure must not reach the driver.
    }
  };
  const on = <K extends keyof ClientEventMap>(type: K, make: (e: ClientEventMap[K]) => TopologyLogMessage["data"]) => {
    const listener = (e: ClientEventMap[K]) => emit(make(e));
    client.addEventListener(type, listener, { signal: options.signal });
    detachers.push(() => client.removeEventListener(type, listener));
  };
  const topology = (message: string, id: number) => {
    topologyId = id;
    return { message, topologyId: id };
  };
  on("topologyOpening", (e) => topology("Starting topology monitoring", e.topologyId));
  on("topologyDescriptionChanged", (e) => ({
    ...topology("Topology description changed", e.topologyId),
    previousDescription: cut(describeTopology(e.previousDescription)),
    newDescription: cut(describeTopology(e.newDescription)),
  }));
  on("serverOpening", (e) => ({ ...topology("Starting server monitoring", e.topologyId), ...server(e.address) }));
  on("serverClosed", (e) => ({ ...topology("Stopped server monitoring", e.topologyId), ...server(e.address) }));
  on("topologyClosed", (e) => topology("Stopped topology monitoring", e.topologyId));
  const heartbeat = (message: string, e: ClientEventMap["serverHeartbeatStarted"]) => ({
    message,
    topologyId,
    ...server(e.address),
    ...(e.driverConnectionId === undefined ? {} : { driverConnectionId: e.driverConnectionId }),
    ...(e.serverConnectionId === undefined ? {} : { serverConnectionId: e.serverConnectionId }),
    awaited: e.awaited,
  });
  on("serverHeartbeatStarted", (e) => heartbeat("Server heartbeat started", e));
  on("serverHeartbeatSucceeded", (e) => ({
    ...heartbeat("Server heartbeat succeeded", e),
    durationMS: e.durationMS,
    reply: cut(EJSON.stringify(e.reply, { relaxed: true })),
  }));
  on("serverHeartbeatFailed", (e) => ({
    ...heartbeat("Server heartbeat failed", e),
    durationMS: e.durationMS,
    failure: describeFailure(e.failure),
  }));
  return detach;
}

function server(address: string): { serverHost: string; serverPort?: number } {
  const a = parseAddress(address);
  return "path" in a ? { serverHost: a.path } : { serverHost: a.host, serverPort: a.port };
}

function describeServer(s: ServerDescription): Record<string, unknown> {
  return { address: s.address, type: s.type, ...(s.error === null ? {} : { error: s.error }) };
}

function describeTopology(t: TopologyDescription): string {
  return JSON.stringify({
    type: t.type,
    ...(t.setName === null ? {} : { setName: t.setName }),
    servers: [...t.servers.values()].map(describeServer),
  });
}

function describeFailure(failure: unknown): string {
  return failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
}
