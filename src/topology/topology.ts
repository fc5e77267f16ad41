/**
 * The live topology: the SDAM state machine of `topology_description.ts`
 * driven by one {@linkcode Monitor} per server, a connection pool and a
 * {@linkcode Server} per server, and the asynchronous server selection loop.
 *
 * Where this departs from the letter of the SDAM specification, on purpose:
 *
 * - the streaming protocol (`serverMonitoringMode` `stream`, or `auto` outside
 *   FaaS) sends one awaitable `hello` per answer rather than reading an
 *   exhaust stream, and there is no separate RTT monitor: round-trip times
 *   come from the checks that did not wait;
 * - a network error on an application connection also brings that server's
 *   next check forward (rate-limited to one per 500 ms), as the failover of
 *   PyMongo's `ReplicaSetConnection` did; the specification asks for it only
 *   after state-change errors;
 * - a refused connection marks the server Unknown at once, like the DNS
 *   failure the specification names: neither can be caused by an overloaded
 *   server, which is why other connect failures are left to the monitor;
 * - the handshakes of pooled connections do not update the description (a
 *   SHOULD of the specification); only monitors do.
 *
 * @module
 */
import { ConfigurationError, MongoError, NetworkTimeout } from "../errors.ts";
// From the files themselves, not `../net/mod.ts`: a client loads what it uses
// (the runtime's own socket adapter, SOCKS5 and SCRAM only when needed).
import type { Connection, ConnectionOptions, ServerAddress } from "../net/connection.ts";
import { ConnectionPool } from "../net/pool.ts";
import type { Credential } from "../net/auth.ts";
import { proxySocketFactory } from "../net/proxy.ts";
import type { SocketFactory } from "../net/socket.ts";
import { parseAddress } from "../address.ts";
import { type HostAddress, hostAddressToString } from "./connection_string.ts";
import { Monitor, type MonitorCheckResult } from "./monitor.ts";
import type { EventSink } from "../net/monitoring.ts";
import { publishTopologyEvents, type TopologyEventInitMap } from "./sdam_events.ts";
import type { ResolvedClientOptions } from "./options.ts";
import { ReadPreference } from "./read_preference.ts";
import { type ApplicationError, handleApplicationError } from "./sdam_errors.ts";
import { selectServer as selectLoop, type TopologySource } from "./select_loop.ts";
import { Server, type ServerContext } from "./server.ts";
import { loadBalancerServerDescription, unknownServerDescription } from "./server_description.ts";
import type { ServerSelector } from "./server_selection.ts";
import {
  applyServerDescription,
  initialTopologyDescription,
  type TopologyDescription,
} from "./topology_description.ts";

/**
 * Options of {@linkcode Topology}.
 *
 * @example
 * ```ts
 * import { parseHostAddress, resolveClientOptions, type TopologyOptions } from "@zerodep/mongo/topology";
 *
 * const options: TopologyOptions = {
 *   seeds: [parseHostAddress("localhost:27017", { percentEncoded: false })],
 *   options: resolveClientOptions({ replicaSet: "foo" }, {}),
 * };
 * ```
 */
export interface TopologyOptions {
  /** Where discovery starts (at least one host). */
  seeds: readonly HostAddress[];
  /**
   * The client's settings: replicaSet, directConnection, loadBalanced,
   * heartbeatFrequencyMS, localThresholdMS, serverSelectionTimeoutMS,
   * connectTimeoutMS, socketTimeoutMS, pool sizes, waitQueueTimeoutMS, TLS,
   * appName and the default read preference.
   */
  options: ResolvedClientOptions;
  /**
   * Who the pooled connections authenticate as (SCRAM); monitoring
   * connections never authenticate. Default: none.
   */
  credential?: Credential;
  /**
   * Opens every connection, pooled and monitoring (default
   * `Connection.connect`); a hook for tests and for authentication wrappers.
   */
  connect?: (address: ServerAddress, options: ConnectionOptions) => Promise<Connection>;
  /** Opens the byte stream of every connection (default: the runtime's own sockets). */
  socketFactory?: SocketFactory;
  /**
   * Where the monitoring events go: SDAM (topology and server opening,
   * description changes, closing; heartbeats), and the pools' CMAP and
   * command events. Default: none.
   */
  events?: EventSink<TopologyEventInitMap>;
}

let lastTopologyId = 0;

/**
 * Options of {@linkcode Topology.connect}.
 *
 * @example
 * ```ts
 * import { ReadPreference, type TopologyConnectOptions } from "@zerodep/mongo/topology";
 *
 * const options: TopologyConnectOptions = { readPreference: ReadPreference.SECONDARY, signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface TopologyConnectOptions {
  /** Gives up waiting; the promise rejects with `signal.reason` (the monitors keep running). */
  signal?: AbortSignal;
  /** Wait for a server suitable for this read preference; default the client's (primary unless set). */
  readPreference?: ReadPreference;
}

/**
 * Options of {@linkcode Topology.selectServer}.
 *
 * @example
 * ```ts
 * import type { TopologySelectOptions } from "@zerodep/mongo/topology";
 *
 * const options: TopologySelectOptions = { deprioritized: ["a:27017"] };
 * ```
 */
export interface TopologySelectOptions {
  /** Gives up waiting; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Servers to avoid unless nothing else is suitable (e.g. the one a retried read failed on). */
  deprioritized?: readonly string[];
}

/**
 * Receives the previous and the new description on every change (see
 * {@linkcode Topology.onDescriptionChanged}).
 *
 * @example
 * ```ts
 * import type { DescriptionListener } from "@zerodep/mongo/topology";
 *
 * const log: DescriptionListener = (previous, next) => console.log(previous.type, "->", next.type);
 * ```
 */
export type DescriptionListener = (previous: TopologyDescription, next: TopologyDescription) => void;

interface Entry {
  server: Server;
  pool: ConnectionPool;
  monitor: Monitor | null;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A deployment as the driver sees it, kept up to date by one monitor per
 * server (see {@linkcode Monitor}): servers are added as members report them
 * (a primary's view wins) and dropped when the primary no longer lists them,
 * each with its own connection pool. The constructor does no I/O;
 * {@linkcode Topology.connect} starts the monitors.
 *
 * {@linkcode Topology.selectServer} runs the server selection loop: while
 * no server is suitable it asks every monitor for an immediate check and
 * waits for the description to change, up to `serverSelectionTimeoutMS`.
 *
 * {@linkcode Topology.close} stops the monitors, closes the pools and rejects
 * pending selections and operations with a `MongoError` saying the topology
 * is closed; no timer or socket is left behind.
 *
 * Experimental: the live machinery under the client; its shape follows the operation runner and may change.
 *
 * @experimental
 * @example
 * ```ts ignore
 * import { parseHostAddress, ReadPreference, resolveClientOptions, Topology } from "@zerodep/mongo/topology";
 *
 * await using topology = new Topology({
 *   seeds: [parseHostAddress("localhost:27017", { percentEncoded: false })],
 *   options: resolveClientOptions({ replicaSet: "foo" }, {}),
 * });
 * await topology.connect();
 * const primary = await topology.selectServer({ operation: "write", readPreference: ReadPreference.PRIMARY });
 * console.log(await primary.command("admin", { ping: 1 }, { operation: "read" }));
 * ```
 */
export class Topology {
  #options: ResolvedClientOptions;
  #connect: TopologyOptions["connect"];
  #credential: Credential | undefined;
  #socketFactory: SocketFactory | undefined;
  #readPreference: ReadPreference;
  #description: TopologyDescription;
  #entries = new Map<string, Entry>();
  #listeners = new Set<DescriptionListener>();
  #waiters = new Set<Waiter>();
  #started = false;
  #closed = false;
  #closedError: MongoError | null = null;
  #closing: Promise<void> | null = null;
  #context: ServerContext;
  #source: TopologySource;
  #events: EventSink<TopologyEventInitMap> | undefined;
  /** Tells this topology's SDAM events from another's. */
  readonly #id = ++lastTopologyId;

  /**
   * Builds the initial description from the seeds and options; no I/O.
   *
   * @param options The seeds and the resolved client options.
   * @throws {ConfigurationError} For no seeds or options that cannot go together.
   */
  constructor(options: TopologyOptions) {
    if (
      options === null || typeof options !== "object" || options.options === null ||
      typeof options.options !== "object"
    ) {
      throw new ConfigurationError("Topology needs { seeds, options } with resolved client options");
    }
    if (!Array.isArray(options.seeds) || options.seeds.length === 0) {
      throw new ConfigurationError("the seed list is empty: give at least one host");
    }
    const o = options.options;
    this.#options = o;
    this.#connect = options.connect;
    this.#credential = options.credential;
    // With proxyHost, the built-in SOCKS5 factory (a socketFactory as well is refused).
    this.#socketFactory = proxySocketFactory(o, options.socketFactory) ?? options.socketFactory;
    this.#events = options.events;
    this.#description = initialTopologyDescription(options.seeds.map((s) => hostAddressToString(s)), {
      replicaSet: o.replicaSet ?? null,
      directConnection: o.directConnection,
      loadBalanced: o.loadBalanced,
      heartbeatFrequencyMS: o.heartbeatFrequencyMS,
      localThresholdMS: o.localThresholdMS,
    });
    this.#readPreference = new ReadPreference(o.readPreference ?? "primary", {
      tags: o.readPreferenceTags,
      maxStalenessSeconds: o.maxStalenessSeconds,
    });
    this.#context = {
      description: (address) => this.#description.servers.get(address) ?? unknownServerDescription(address),
      topologyType: () => this.#description.type,
      handleError: (address, error) => this.#handleError(address, error),
      closedError: () => this.#closedError,
    };
    this.#source = {
      description: () => this.#description,
      waitForChange: (signal) => this.#waitForChange(signal),
      requestCheck: () => this.requestCheck(),
    };
  }

  /** The current description (immutable; replaced on every change). */
  get description(): TopologyDescription {
    return this.#description;
  }

  /** Whether {@linkcode Topology.close} was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The client's default read preference (from the options). */
  get readPreference(): ReadPreference {
    return this.#readPreference;
  }

  /**
   * Starts one monitor per known server (idempotent), then waits until a
   * server suitable for the read preference is known.
   *
   * @param options The read preference to wait for and a signal.
   * @throws {ServerSelectionError} When no suitable server is found within `serverSelectionTimeoutMS`.
   * @throws {MongoError} When the topology is closed.
   *
   * @example
   * ```ts ignore
   * await topology.connect();
   * ```
   */
  async connect(options: TopologyConnectOptions = {}): Promise<void> {
    const wanted = options?.readPreference;
    await this.selectServer(
      { operation: "read", readPreference: wanted === undefined ? this.#readPreference : ReadPreference.from(wanted) },
      { signal: options?.signal },
    );
  }

  /**
   * Selects a server for an operation (see `selectServer` in
   * `select_loop.ts`), starting the monitors first if needed. Among several
   * servers in the latency window, the one with fewer operations in flight
   * of two picked at random wins.
   *
   * @param selector Read (with its read preference) or write.
   * @param options A signal, and servers to avoid.
   * @returns The server.
   * @throws {ServerSelectionError} After `serverSelectionTimeoutMS` without a suitable server.
   * @throws {MongoError} When the topology is closed (also while waiting).
   *
   * @example
   * ```ts ignore
   * const server = await topology.selectServer({ operation: "read", readPreference: ReadPreference.SECONDARY_ONLY });
   * ```
   */
  async selectServer(selector: ServerSelector, options: TopologySelectOptions = {}): Promise<Server> {
    if (this.#closedError !== null) throw this.#closedError;
    this.#start();
    const chosen = await selectLoop(this.#source, selector, {
      serverSelectionTimeoutMS: this.#options.serverSelectionTimeoutMS,
      localThresholdMS: this.#options.localThresholdMS,
      signal: options?.signal,
      deprioritized: options?.deprioritized,
      operationCount: (address) => this.#entries.get(address)?.server.operationCount ?? 0,
    });
    if (this.#closedError !== null) throw this.#closedError;
    const entry = this.#entries.get(chosen.address);
    // The description and the entries change together (synchronously), so this only guards that invariant.
    if (entry === undefined) throw new MongoError(`internal error: selected ${chosen.address} has no server entry`);
    return entry.server;
  }

  /**
   * Asks every monitor to check its server now (each at most once per 500 ms).
   *
   * @example
   * ```ts ignore
   * topology.requestCheck();
   * ```
   */
  requestCheck(): void {
    for (const entry of this.#entries.values()) entry.monitor?.requestCheck();
  }

  /**
   * Calls `listener(previous, next)` after every change of the description,
   * including the one each heartbeat makes (a new round-trip time and
   * `lastUpdateTime`); compare with `topologyDescriptionEquals` to keep only
   * the changes SDAM publishes events for. A listener that throws is ignored.
   *
   * @param listener The callback.
   * @returns A function that unsubscribes it.
   *
   * @example
   * ```ts ignore
   * const off = topology.onDescriptionChanged((prev, next) => console.log(prev.type, "->", next.type));
   * off();
   * ```
   */
  onDescriptionChanged(listener: DescriptionListener): () => void {
    if (typeof listener !== "function") throw new ConfigurationError("onDescriptionChanged needs a function");
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Stops the monitors, closes every connection (in use ones too, so their
   * operations fail at once) and every pool, and rejects pending selections
   * and operations with a `MongoError` saying the topology is closed.
   * Idempotent; resolves once the monitors have stopped.
   *
   * @example
   * ```ts ignore
   * await topology.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#closedError = new MongoError("the topology was closed (close() was called)");
    const error = this.#closedError;
    for (const w of [...this.#waiters]) w.reject(error);
    this.#waiters.clear();
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    this.#closing = (async () => {
      const tasks: Promise<void>[] = [];
      for (const entry of entries) {
        entry.server.closeConnections();
        if (entry.monitor !== null) tasks.push(entry.monitor.close());
        tasks.push(entry.pool.close());
      }
      await Promise.allSettled(tasks);
      this.#listeners.clear();
      if (this.#events !== undefined && this.#started) {
        publishTopologyEvents(this.#events, this.#id, this.#description, null);
      }
    })();
    return this.#closing;
  }

  /** Closes the topology (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ------------------------------------------------------------

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#events !== undefined) publishTopologyEvents(this.#events, this.#id, null, this.#description);
    if (this.#description.type === "LoadBalanced") {
      // A load balancer is never monitored: it is usable as soon as it is known.
      let next = this.#description;
      for (const address of next.servers.keys()) {
        next = applyServerDescription(next, loadBalancerServerDescription(address)).topology;
      }
      this.#setDescription(next);
    }
    this.#syncEntries();
  }

  /** Adds a server, pool and monitor for every new address; drops those of removed ones. */
  #syncEntries(): void {
    if (!this.#started || this.#closed) return;
    const servers = this.#description.servers;
    for (const [address, entry] of this.#entries) {
      if (servers.has(address)) continue;
      this.#entries.delete(address);
      entry.server.closeConnections();
      entry.monitor?.close().catch(() => {});
      entry.pool.close().catch(() => {});
    }
    for (const address of servers.keys()) {
      if (!this.#entries.has(address)) this.#addEntry(address);
    }
  }

  #addEntry(address: string): void {
    const o = this.#options;
    const connection: Omit<ConnectionOptions, "connectTimeoutMS" | "socketTimeoutMS"> = {
      tls: o.tls,
      tlsCAFile: o.tlsCAFile,
      tlsAllowInvalidCertificates: o.tlsAllowInvalidCertificates,
      tlsAllowInvalidHostnames: o.tlsAllowInvalidHostnames,
      tlsCertificateKeyFile: o.tlsCertificateKeyFile,
      tlsCertificateKeyFilePassword: o.tlsCertificateKeyFilePassword,
      appName: o.appName,
      compressors: o.compressors,
      socketFactory: this.#socketFactory,
    };
    // Behind a load balancer the handshake must say so (the server then replies with a serviceId).
    if (o.loadBalanced) connection.handshake = { loadBalanced: true };
    const pool = new ConnectionPool(parseAddress(address), {
      ...connection,
      credential: this.#credential,
      connectTimeoutMS: o.connectTimeoutMS,
      socketTimeoutMS: o.socketTimeoutMS,
      maxPoolSize: o.maxPoolSize,
      minPoolSize: o.minPoolSize,
      maxConnecting: o.maxConnecting,
      maxIdleTimeMS: o.maxIdleTimeMS,
      waitQueueTimeoutMS: o.waitQueueTimeoutMS,
      connect: this.#connect,
      // SDAM's handling of a failed handshake or authentication (which may clear the pool) comes before the
      // pool's connectionClosed for that connection.
      onEstablishError: (error) => server.noteEstablishError(error),
      events: this.#events,
      // CMAP: a pool starts paused and is made ready by its server's first good
      // check; a clear pauses it until the next one. A load balancer has no
      // monitor: its pool is ready at once.
      paused: this.#description.type !== "LoadBalanced",
    });
    const server = new Server(address, { pool, context: this.#context });
    let monitor: Monitor | null = null;
    if (this.#description.type !== "LoadBalanced") {
      monitor = new Monitor(address, {
        heartbeatFrequencyMS: o.heartbeatFrequencyMS,
        connectTimeoutMS: o.connectTimeoutMS,
        serverMonitoringMode: o.serverMonitoringMode,
        connection,
        connect: this.#connect,
        events: this.#events,
        description: () => this.#description.servers.get(address) ?? unknownServerDescription(address),
        onCheck: (result) => this.#onCheck(address, monitor as Monitor, result),
      });
    }
    const entry: Entry = { server, pool, monitor };
    this.#entries.set(address, entry);
    monitor?.start();
  }

  #onCheck(address: string, monitor: Monitor, result: MonitorCheckResult): void {
    if (this.#closed) return;
    const entry = this.#entries.get(address);
    if (entry === undefined || entry.monitor !== monitor) return;
    // A good check makes the pool ready (before the new description wakes any selection).
    if (result.error === undefined && result.description.type !== "Unknown") entry.pool.ready();
    const update = applyServerDescription(this.#description, result.description);
    this.#setDescription(update.topology);
    // The monitor's connection failed, so the pooled ones likely have too (cleared after marking Unknown).
    if (result.error !== undefined) {
      entry.pool.clear();
      // After a timeout, connections in use are likely stuck as well: interrupt them (interruptInUseConnections).
      if (result.error instanceof NetworkTimeout) entry.server.interruptConnections();
    }
    for (const a of update.clearPools) this.#entries.get(a)?.pool.clear();
    for (const a of update.requestChecks) this.#entries.get(a)?.monitor?.requestCheck();
  }

  #handleError(address: string, error: ApplicationError): void {
    if (this.#closed) return;
    const entry = this.#entries.get(address);
    if (entry === undefined) return;
    const generation = entry.pool.generation;
    const stale = error.generation !== undefined && error.generation < generation;
    const outcome = handleApplicationError(this.#description, error, { poolGeneration: generation });
    this.#setDescription(outcome.topology);
    if (outcome.clearPool) entry.pool.clear();
    if (outcome.cancelCheck) entry.monitor?.cancelCheck();
    // Beyond the specification (which checks at once only after state-change errors), a
    // network error also brings the next check forward, rate-limited to one per 500 ms:
    // it is how a dead primary is noticed before the next heartbeat when the failure
    // happened while connecting, which SDAM leaves to the monitor.
    if (outcome.requestCheck || (error.type === "network" && !stale)) entry.monitor?.requestCheck();
  }

  #setDescription(next: TopologyDescription): void {
    const previous = this.#description;
    if (next === previous) return;
    this.#description = next;
    if (this.#events !== undefined && this.#started) publishTopologyEvents(this.#events, this.#id, previous, next);
    this.#syncEntries();
    for (const listener of [...this.#listeners]) {
      try {
        listener(previous, next);
      } catch {
        // A listener's bug must not break monitoring.
      }
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.resolve();
  }

  #waitForChange(signal: AbortSignal): Promise<void> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        this.#waiters.delete(waiter);
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }
}
