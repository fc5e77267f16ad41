/**
 * The server monitor: one per server, on its own connection (never one from
 * the pool), checking the server with `hello` (or legacy `isMaster`) every
 * `heartbeatFrequencyMS` and reporting a new `ServerDescription` after each
 * check. With `serverMonitoringMode` `stream` (or `auto`, outside a FaaS
 * platform) and a server that reports a `topologyVersion` (MongoDB 4.4+), the
 * checks after the first are awaitable `hello`s: the server answers as soon as
 * its state changes, or after `heartbeatFrequencyMS` (the streaming protocol
 * of the server monitoring specification, one request per answer rather than
 * an exhaust cursor). Otherwise it polls.
 *
 * @module
 */
import { ConfigurationError, ConnectionFailure, MongoError, OperationFailure, WireProtocolError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { Connection, type ConnectionOptions, type ServerAddress } from "../net/connection.ts";
import { parseAddress } from "../address.ts";
import { checkReply } from "../net/reply.ts";
import type { EventSink } from "../net/monitoring.ts";
import type { HeartbeatConnectionIds, TopologyEventInitMap } from "./sdam_events.ts";
import { describeError } from "../describe.ts";
import { RttMonitor } from "./rtt_monitor.ts";
import {
  normalizeAddress,
  type ServerDescription,
  serverDescriptionFromHello,
  unknownServerDescription,
} from "./server_description.ts";

/** The SDAM specification's minHeartbeatFrequencyMS: the shortest gap between two checks of one server. */
const MIN_HEARTBEAT_FREQUENCY_MS = 500;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What one check of a server produced, as a {@linkcode Monitor} reports it.
 *
 * @example
 * ```ts
 * import type { MonitorCheckResult } from "@zerodep/mongo/topology";
 *
 * function log(result: MonitorCheckResult): void {
 *   const { address, type, roundTripTime } = result.description;
 *   console.log(address, type, roundTripTime, result.error === undefined ? "ok" : "failed");
 * }
 * ```
 */
export interface MonitorCheckResult {
  /** The server's new description (Unknown, with `error` set, when the check failed). */
  readonly description: ServerDescription;
  /**
   * Why the check failed, when it did: a network error (`ConnectionFailure`,
   * `NetworkTimeout`, `WireProtocolError`), an `OperationFailure` for an
   * `ok: 0` reply, or a `MongoError` for a reply that is not a valid hello.
   * The owner marks the server Unknown and clears its connection pool.
   */
  readonly error?: unknown;
}

/**
 * Options of {@linkcode Monitor}.
 *
 * @example
 * ```ts
 * import { type MonitorOptions, unknownServerDescription } from "@zerodep/mongo/topology";
 *
 * let current = unknownServerDescription("127.0.0.1:27017");
 * const options: MonitorOptions = {
 *   heartbeatFrequencyMS: 10_000,
 *   connectTimeoutMS: 10_000,
 *   description: () => current,
 *   onCheck: (result) => (current = result.description),
 * };
 * ```
 */
export interface MonitorOptions {
  /** Time between two regular checks, in ms (at least 500; the default of clients is 10000). */
  heartbeatFrequencyMS: number;
  /**
   * Bounds each check: the connect and handshake of a new monitoring
   * connection, and every later `hello` round trip (the monitoring
   * connection's socket timeout). 0 means no limit.
   */
  connectTimeoutMS: number;
  /** The server's current description in the topology: its RTT average, and whether it was known. */
  description: () => ServerDescription;
  /** Receives the outcome of every check, in order. */
  onCheck: (result: MonitorCheckResult) => void;
  /** Where the heartbeat events go (serverHeartbeatStarted / Succeeded / Failed). Default: none. */
  events?: EventSink<TopologyEventInitMap>;
  /** Settings of the monitoring connection (TLS, appName, Stable API...); its timeouts come from `connectTimeoutMS`. */
  connection?: Omit<ConnectionOptions, "signal" | "generation" | "connectTimeoutMS" | "socketTimeoutMS">;
  /** Opens the monitoring connection (default {@linkcode Connection.connect}); a hook for tests. */
  connect?: (address: ServerAddress, options: ConnectionOptions) => Promise<Connection>;
  /**
   * The monitoring protocol: `stream` (awaitable `hello` once the server
   * reported a `topologyVersion`), `poll`, or `auto` (stream, except on a
   * FaaS platform, detected from its environment variables). Default `poll`.
   */
  serverMonitoringMode?: "auto" | "stream" | "poll";
}

/**
 * Monitors one server, following the polling protocol of the server
 * monitoring specification, or its streaming protocol (`serverMonitoringMode`):
 *
 * - the first check opens a dedicated connection (the handshake's reply is
 *   the check's reply); later checks send `hello` on it when the handshake
 *   reply said `helloOk` and the server speaks OP_MSG, legacy `isMaster`
 *   otherwise;
 * - each check's round-trip time (`performance.now()`, the connect included
 *   for the first check on a new connection) is folded into the server's
 *   average with `updateRoundTripTime`;
 * - streaming, once a reply carried a `topologyVersion`, the next check is an
 *   awaitable `hello` (`topologyVersion`, `maxAwaitTimeMS` =
 *   `heartbeatFrequencyMS`), sent as soon as the previous one is answered;
 *   its duration is the server's wait, so the round-trip time comes from an
 *   RTT monitor (its own connection, a plain `hello` every
 *   `heartbeatFrequencyMS`);
 * - checks run every `heartbeatFrequencyMS`; {@linkcode Monitor.requestCheck}
 *   brings the next one forward, but never to less than 500 ms after the end
 *   of the previous one (and abandons an awaitable hello in flight);
 * - a failed check closes the monitoring connection and reports an Unknown
 *   description with the error; after a network error on a server that was
 *   known before, the next check starts at once (one retry, as the
 *   specification asks), since one dropped connection does not mean the
 *   server is down;
 * - {@linkcode Monitor.close} stops everything: no timer or socket survives it.
 *
 * Experimental: the live machinery under the client; its shape follows the operation runner and may change.
 *
 * @experimental
 * @example
 * ```ts ignore
 * import { Monitor, unknownServerDescription } from "@zerodep/mongo/topology";
 *
 * let current = unknownServerDescription("127.0.0.1:27017");
 * const monitor = new Monitor("127.0.0.1:27017", {
 *   heartbeatFrequencyMS: 10_000,
 *   connectTimeoutMS: 10_000,
 *   description: () => current,
 *   onCheck: ({ description }) => {
 *     current = description;
 *     console.log(description.type, description.roundTripTime);
 *   },
 * });
 * monitor.start();
 * // ...
 * await monitor.close();
 * ```
 */
export class Monitor {
  /** The server's address, as the topology names it. */
  readonly address: string;
  #server: ServerAddress;
  #heartbeatFrequencyMS: number;
  #connectTimeoutMS: number;
  #description: () => ServerDescription;
  #onCheck: (result: MonitorCheckResult) => void;
  #events: EventSink<TopologyEventInitMap> | undefined;
  #connectionOptions: MonitorOptions["connection"];
  #connect: (address: ServerAddress, options: ConnectionOptions) => Promise<Connection>;
  #conn: Connection | null = null;
  #check: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | null = null;
  #requested = false;
  #closed = false;
  #lastCheckEnd = -Infinity;
  #checks = 0;
  /** The driver's ids of this monitor's connections: 1, 2, ... (SDAM log messages' driverConnectionId). */
  #connectionIds = 0;
  #streaming: boolean;
  /** The `topologyVersion` of the last good reply on the current connection (streaming only). */
  #topologyVersion: Document | null = null;
  /** The last awaitable hello came back early with the same topologyVersion. */
  #answeredEarly = false;
  /** An awaitable hello is in flight. */
  #awaiting = false;
  /** Measures the round-trip time while streaming (started with the first awaitable hello). */
  #rtt: RttMonitor | null = null;

  /**
   * Creates the monitor; nothing runs until {@linkcode Monitor.start}.
   *
   * @param address The server ("host:port", "[v6]:port" or a socket path).
   * @param options Timing, the description source and the result sink.
   * @throws {ConfigurationError} For a bad address or option.
   */
  constructor(address: string, options: MonitorOptions) {
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError("Monitor options must be an object");
    }
    this.address = normalizeAddress(address);
    this.#server = parseAddress(this.address);
    const { heartbeatFrequencyMS, connectTimeoutMS } = options;
    if (
      typeof heartbeatFrequencyMS !== "number" || !Number.isFinite(heartbeatFrequencyMS) ||
      heartbeatFrequencyMS < MIN_HEARTBEAT_FREQUENCY_MS || heartbeatFrequencyMS > MAX_TIMER_MS
    ) {
      throw new ConfigurationError(
        `heartbeatFrequencyMS must be a number from ${MIN_HEARTBEAT_FREQUENCY_MS} to ${MAX_TIMER_MS}, got ${
          String(heartbeatFrequencyMS)
        }`,
      );
    }
    if (
      typeof connectTimeoutMS !== "number" || !Number.isFinite(connectTimeoutMS) || connectTimeoutMS < 0 ||
      connectTimeoutMS > MAX_TIMER_MS
    ) {
      throw new ConfigurationError(
        `connectTimeoutMS must be a number from 0 (no limit) to ${MAX_TIMER_MS}, got ${String(connectTimeoutMS)}`,
      );
    }
    if (typeof options.description !== "function" || typeof options.onCheck !== "function") {
      throw new ConfigurationError("Monitor options need description() and onCheck() functions");
    }
    this.#heartbeatFrequencyMS = heartbeatFrequencyMS;
    this.#connectTimeoutMS = connectTimeoutMS;
    this.#description = options.description;
    this.#onCheck = options.onCheck;
    this.#events = options.events;
    this.#connectionOptions = options.connection;
    this.#connect = options.connect ?? ((a, o) => Connection.connect(a, o));
    const mode = options.serverMonitoringMode ?? "poll";
    if (mode !== "auto" && mode !== "stream" && mode !== "poll") {
      throw new ConfigurationError(`serverMonitoringMode must be auto, stream or poll, got ${String(mode)}`);
    }
    this.#streaming = mode === "stream" || (mode === "auto" && !inFaaS());
  }

  /** Whether the monitor uses the streaming protocol (awaitable `hello`) when the server supports it. */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** How many checks have started so far. */
  get checkCount(): number {
    return this.#checks;
  }

  /** Whether {@linkcode Monitor.close} was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Starts checking: the first check at once, then every
   * `heartbeatFrequencyMS`. Idempotent; does nothing after `close()`.
   *
   * @example
   * ```ts ignore
   * monitor.start();
   * ```
   */
  start(): void {
    if (this.#closed || this.#loop !== null) return;
    this.#loop = this.#run();
  }

  /**
   * Asks for a check as soon as allowed: at once when the previous check
   * ended 500 ms ago or more, otherwise 500 ms after it ended. Several
   * requests before that check count as one. A request during a polling
   * check is answered by that check (as the reference drivers do), so a
   * client's first server selection, made while the first check runs, adds
   * no second one; an awaitable hello in flight is abandoned for a new check.
   *
   * @example
   * ```ts ignore
   * monitor.requestCheck(); // e.g. after a "not primary" error
   * ```
   */
  requestCheck(): void {
    if (this.#closed || (this.#check !== null && !this.#awaiting)) return;
    this.#requested = true;
    // An awaitable hello in flight answers only when the server's state changes; the driver's own reasons to
    // look again (an error that marked the server Unknown, a selection waiting) need an answer now: abandon it.
    if (this.#awaiting) this.cancelCheck();
    if (this.#wake !== null) this.#schedule();
  }

  /**
   * Abandons the check in progress, if any, and closes the monitoring
   * connection (SDAM: after a network error on an application connection, the
   * monitor's connection is likely dead too). The abandoned check reports
   * nothing; the next one runs on schedule on a new connection.
   *
   * @example
   * ```ts ignore
   * monitor.cancelCheck();
   * ```
   */
  cancelCheck(): void {
    this.#check?.abort();
    this.#dropConnection();
  }

  /**
   * Stops the monitor: clears its timer, abandons the check in progress and
   * closes its connection, then waits for its loop to end. Idempotent.
   *
   * @example
   * ```ts ignore
   * await monitor.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
      this.cancelCheck();
    }
    await Promise.all([this.#loop, this.#rtt?.close()]);
  }

  /** Closes the monitor (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ------------------------------------------------------------

  async #run(): Promise<void> {
    while (!this.#closed) {
      const outcome = await this.#checkOnce();
      if (this.#closed) break;
      if (outcome === "retry") continue;
      // Streaming: the next awaitable hello goes at once (the server holds it until something changes).
      // A server that answers an awaitable hello at once without a change does not wait: then poll.
      if (outcome === "ok" && this.#canAwait() && !this.#answeredEarly) continue;
      await this.#sleep();
    }
    this.#dropConnection();
  }

  /** Waits until the next check is due, a requested check is allowed, or close(). */
  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#schedule();
    });
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    // Both delays count from the end of the previous check (server monitoring specification).
    const due = this.#lastCheckEnd + (this.#requested ? MIN_HEARTBEAT_FREQUENCY_MS : this.#heartbeatFrequencyMS);
    const delay = Math.min(Math.max(0, due - performance.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
    }, delay);
  }

  /** Whether the next check can be an awaitable hello: streaming, on an open OP_MSG connection with a topologyVersion. */
  #canAwait(): boolean {
    const conn = this.#conn;
    return this.#streaming && this.#topologyVersion !== null && conn !== null && !conn.isClosed && conn.usesOpMsg;
  }

  #dropConnection(): void {
    this.#conn?.close();
    this.#conn = null;
    this.#topologyVersion = null;
  }

  /** One check; "retry" asks for the next one at once. */
  async #checkOnce(): Promise<"ok" | "retry" | "failed" | "cancelled"> {
    const previous = this.#description();
    const controller = new AbortController();
    this.#check = controller;
    this.#requested = false;
    this.#checks++;
    const events = this.#events;
    const awaited = this.#canAwait();
    if (awaited && this.#rtt === null) {
      this.#rtt = new RttMonitor(this.#server, {
        heartbeatFrequencyMS: this.#heartbeatFrequencyMS,
        connectTimeoutMS: this.#connectTimeoutMS,
        connection: this.#connectionOptions,
        connect: this.#connect,
      });
      this.#rtt.start();
    }
    // The connection this check runs on: the open one, or the next one it makes.
    const open = this.#conn !== null && !this.#conn.isClosed ? this.#conn : null;
    const driverConnectionId = open?.id ?? this.#connectionIds + 1;
    const serverConnectionId = serverIdOf(open?.hello);
    if (events?.wants("serverHeartbeatStarted")) {
      events.emit("serverHeartbeatStarted", { address: this.address, awaited, driverConnectionId, serverConnectionId });
    }
    const start = performance.now();
    let reply: Document;
    this.#awaiting = awaited;
    try {
      try {
        if (this.#conn === null || this.#conn.isClosed) {
          this.#dropConnection();
          const conn = await this.#connect(this.#server, {
            ...this.#connectionOptions,
            id: ++this.#connectionIds,
            connectTimeoutMS: this.#connectTimeoutMS,
            socketTimeoutMS: this.#connectTimeoutMS,
            signal: controller.signal,
          });
          if (controller.signal.aborted) {
            conn.close();
            return "cancelled";
          }
          this.#conn = conn;
          reply = conn.hello;
        } else {
          const conn = this.#conn;
          // `hello` must never go over OP_QUERY, and only servers that said helloOk (or
          // that accepted a Stable API handshake, which is a hello) know it.
          const helloOk = conn.hello.helloOk === true || this.#connectionOptions?.serverApi !== undefined;
          const cmd: Document = helloOk && conn.usesOpMsg ? { hello: 1 } : { isMaster: 1 };
          let socketTimeoutMS = this.#connectTimeoutMS;
          if (awaited) {
            // The server holds the reply up to maxAwaitTimeMS: the socket timeout allows for it.
            cmd.topologyVersion = this.#topologyVersion;
            cmd.maxAwaitTimeMS = this.#heartbeatFrequencyMS;
            if (socketTimeoutMS > 0) socketTimeoutMS = Math.min(socketTimeoutMS + this.#heartbeatFrequencyMS, MAX_TIMER_MS);
          }
          reply = await conn.command("admin", cmd, { raw: true, signal: controller.signal, socketTimeoutMS });
        }
      } finally {
        this.#awaiting = false;
        this.#lastCheckEnd = performance.now();
        if (this.#check === controller) this.#check = null;
      }
    } catch (error) {
      this.#dropConnection();
      if (events?.wants("serverHeartbeatFailed")) {
        events.emit("serverHeartbeatFailed", {
          address: this.address,
          awaited,
          driverConnectionId,
          serverConnectionId,
          durationMS: this.#lastCheckEnd - start,
          failure: error,
        });
      }
      if (controller.signal.aborted || this.#closed) return "cancelled";
      this.#report({ description: failedCheckDescription(this.address, error), error });
      const known = previous.type !== "Unknown" && previous.type !== "PossiblePrimary";
      return known && isNetworkError(error) ? "retry" : "failed";
    }
    if (events !== undefined) {
      const ids = { driverConnectionId, serverConnectionId: serverIdOf(reply) ?? serverConnectionId };
      this.#heartbeatReplied(events, reply, this.#lastCheckEnd - start, awaited, ids);
    }
    if (this.#closed) return "cancelled";
    const description = serverDescriptionFromHello(this.address, reply, {
      // An awaited hello's duration is mostly the server's wait: the RTT monitor's average stands for it.
      ...(awaited ? {} : { roundTripTime: this.#lastCheckEnd - start }),
      previousRoundTripTime: (awaited ? this.#rtt?.average : null) ?? previous.roundTripTime ??
        (awaited ? this.#lastCheckEnd - start : null),
    });
    if (description.type === "Unknown") {
      // An ok:0 or malformed reply: a command error, which the specification treats like a failed check.
      this.#dropConnection();
      this.#report({
        description,
        error: new MongoError(`${this.address}: ${description.error ?? "hello failed"}`),
      });
      return "failed";
    }
    const tv = reply.topologyVersion;
    const sent = this.#topologyVersion;
    this.#topologyVersion = tv !== null && typeof tv === "object" && !Array.isArray(tv) ? tv as Document : null;
    this.#answeredEarly = awaited && this.#lastCheckEnd - start < this.#heartbeatFrequencyMS / 2 &&
      sameTopologyVersion(sent, this.#topologyVersion);
    this.#report({ description });
    return "ok";
  }

  // A reply came: succeeded for ok 1, failed (with the server's error) otherwise.
  #heartbeatReplied(
    events: EventSink<TopologyEventInitMap>,
    reply: Document,
    durationMS: number,
    awaited: boolean,
    ids: HeartbeatConnectionIds,
  ): void {
    if (reply.ok === 1 || reply.ok === true) {
      if (events.wants("serverHeartbeatSucceeded")) {
        events.emit("serverHeartbeatSucceeded", { address: this.address, awaited, durationMS, reply, ...ids });
      }
      return;
    }
    if (events.wants("serverHeartbeatFailed")) {
      let failure: unknown;
      try {
        checkReply(reply);
        failure = new MongoError(`${this.address}: hello failed: ${JSON.stringify(reply.errmsg ?? "ok is not 1")}`);
      } catch (error) {
        failure = error;
      }
      events.emit("serverHeartbeatFailed", { address: this.address, awaited, durationMS, failure, ...ids });
    }
  }

  #report(result: MonitorCheckResult): void {
    try {
      this.#onCheck(result);
    } catch {
      // A faulty listener must not stop the heartbeats.
    }
  }
}

/**
 * The description after a failed check. A handshake `hello` answered with
 * `ok: 0` gives the description of that reply, as a later check's `ok: 0`
 * reply does: the same server error makes equal descriptions (no second
 * serverDescriptionChanged), whichever check met it.
 */
function failedCheckDescription(address: string, error: unknown): ServerDescription {
  if (error instanceof OperationFailure && error.response.ok !== undefined) {
    const sd = serverDescriptionFromHello(address, error.response as Record<string, unknown>);
    if (sd.type === "Unknown") return sd;
  }
  return unknownServerDescription(address, describeError(error));
}

/** The server's id for a connection: its hello's `connectionId`, if any. */
function serverIdOf(hello: Document | undefined): number | undefined {
  let id = hello?.connectionId;
  // A raw reply keeps its BSON wrappers (Int32, Int64, Double).
  if (id !== null && typeof id === "object" && "value" in id) id = (id as { value: unknown }).value;
  return typeof id === "number" ? id : typeof id === "bigint" ? Number(id) : undefined;
}

function sameTopologyVersion(a: Document | null, b: Document | null): boolean {
  if (a === null || b === null) return false;
  const key = (v: unknown): string => {
    const hex = (v as { toHexString?: () => string } | null)?.toHexString;
    if (typeof hex === "function") return hex.call(v);
    const plain = (v as { valueOf?: () => unknown } | null)?.valueOf?.();
    return typeof plain === "bigint" || typeof plain === "number" ? String(plain) : JSON.stringify(v);
  };
  return key(a.processId) === key(b.processId) && key(a.counter) === key(b.counter);
}

/** FaaS platforms, by the environment variables they set (the handshake specification's list). */
function inFaaS(): boolean {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (env === undefined) return false;
    return (env.AWS_EXECUTION_ENV ?? "").startsWith("AWS_Lambda_") || env.AWS_LAMBDA_RUNTIME_API !== undefined ||
      env.FUNCTIONS_WORKER_RUNTIME !== undefined || env.K_SERVICE !== undefined || env.FUNCTION_NAME !== undefined ||
      env.VERCEL !== undefined;
  } catch {
    return false; // no permission to read the environment
  }
}

function isNetworkError(error: unknown): boolean {
  return error instanceof ConnectionFailure || (error instanceof WireProtocolError && error.address !== undefined);
}
