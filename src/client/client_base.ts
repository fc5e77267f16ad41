/**
 * What {@linkcode Connection} and {@linkcode ReplicaSetConnection} share:
 * seeds and options, the live topology, the members as currently known,
 * default read preference and write concern, databases, and closing.
 *
 * @module
 */

import { ChangeStream, type ChangeStreamOptions } from "./change_stream.ts";
import { type ClientEventMap, ListenerCounts } from "./monitoring.ts";
import { ConfigurationError, SessionError } from "../errors.ts";
import { ServerSessionPool } from "./server_session_pool.ts";
import { checkSession, ClientSession, type ClientSessionOptions, type ClusterTime } from "./session.ts";
import { DEFAULT_PORT } from "../address.ts";
import type { Document } from "../bson/mod.ts";
import { type HostAddress, hostAddressToString } from "../topology/connection_string.ts";
import { type ClientOptions, resolveClientOptions, type ResolvedClientOptions } from "../topology/options.ts";
import { parseSeeds, type Seeds } from "../topology/seeds.ts";
import { type CredentialSources, resolveCredential } from "../topology/credential.ts";
import { parseConnectionString } from "../topology/connection_string.ts";
import type { DnsResolver } from "../net/dns.ts";
import type { SocketFactory } from "../net/socket.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import { initialTopologyDescription, type TopologyDescription } from "../topology/topology_description.ts";
import {
  checkBoolean,
  checkInt,
  checkOptions,
  checkSignal,
  type ClientContext,
  closedError,
  contextOf,
  DNS_RESOLVER,
  isDocument,
  registerContext,
  splitAddress,
  TOPOLOGY_FACTORY,
  type TopologyFactory,
  type TopologyLike,
  typeError,
  untilAborted,
} from "./_internal.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import { execute } from "./execute.ts";
import { checkOptionNames } from "./_write.ts";
import { everyMemberChecked } from "./_every_member_checked.ts";

const CONNECT_OPTIONS: ReadonlySet<string> = new Set(["signal"]);
const LIST_DATABASES_OPTIONS: ReadonlySet<string> = new Set([
  "filter",
  "nameOnly",
  "authorizedDatabases",
  "comment",
  "signal",
  "session",
  "timeoutMS",
]);
import { Database, type DatabaseOptions } from "./database.ts";
import type { ClientBulkWriteModel, ClientBulkWriteOptions, ClientBulkWriteResult } from "./client_bulk_write.ts";
import type { ClientConnectionOptions, ConnectOptions, DatabaseInfo, ListDatabasesOptions } from "./client_options.ts";

export type { ClientConnectionOptions, ConnectOptions, DatabaseInfo, ListDatabasesOptions };

/** What a `mongodb+srv://` client keeps for its DNS step (see `#resolveSrv`). */
interface SrvSettings {
  host: string;
  uriOptions: ClientOptions;
  codeOptions: Record<string, unknown>;
  uriAuth: CredentialSources["uri"];
  auth: CredentialSources["auth"];
  onWarning: ((message: string) => void) | undefined;
  resolver: DnsResolver | undefined;
}

/** How a subclass wants its seeds and options interpreted. */
interface ClientKind {
  readonly className: string;
  /** ReplicaSetConnection: a replica set name is required, no direct connection. */
  readonly replicaSet: boolean;
}

const OWN_OPTIONS = new Set([
  "readPreference",
  "writeConcern",
  "readConcern",
  "slaveOk",
  "secondaryOk",
  "onWarning",
  "port",
  "auth",
  "socketFactory",
]);

function checkSocketFactory(value: unknown): SocketFactory | undefined {
  if (value === undefined || typeof value === "function") return value as SocketFactory | undefined;
  throw typeError("socketFactory", "a function (options) => Promise<Socket>", value);
}

/**
 * Refuses, when the client is built, `proxyHost` with a `socketFactory`: both
 * decide how connections are opened (a factory that needs the proxy opens its
 * own). Here, not in `net/`, so that building a client loads no network code.
 */
function checkProxyOptions(o: ResolvedClientOptions, socketFactory: SocketFactory | undefined): void {
  if (o.proxyHost === undefined) return;
  if (socketFactory !== undefined) {
    throw new ConfigurationError(
      "proxyHost and socketFactory both decide how connections are opened: give one " +
        "(a socketFactory that needs the proxy must open its own SOCKS5 connection)",
    );
  }
}

// Only zlib is spoken (the web platform's deflate); a level other than zlib's default is refused by the option table.
function warnAboutCompression(o: ResolvedClientOptions, onWarning: ((message: string) => void) | undefined): void {
  const warn = onWarning ?? ((message: string) => console.warn(message));
  const unspoken = o.compressors.filter((c) => c !== "zlib");
  if (unspoken.length > 0) {
    warn(`compressors ${unspoken.join(", ")}: not supported by this driver (it speaks zlib), so not offered`);
  }
}

function quote(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The base class of {@linkcode Connection} and {@linkcode ReplicaSetConnection}
 * (not constructed directly). It holds the live topology, which monitors every
 * member in the background once `connect()` (or a first operation) starts it,
 * and hands out {@linkcode Database} objects.
 *
 * Read preference and write concern set here are the defaults of every
 * database, collection and operation made from this client, unless one of
 * those sets its own.
 *
 * @example
 * ```ts ignore
 * import { ClientBase, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("mongodb://localhost:27017/?replicaSet=foo");
 * console.log(c instanceof ClientBase, c.hosts);
 * ```
 */
export class ClientBase extends EventTarget {
  #kind: ClientKind;
  /** Listener counts per event type: the monitoring events' sink (see `monitoring.ts`). */
  #events: ListenerCounts;
  #seeds: readonly HostAddress[];
  #options: ResolvedClientOptions;
  /** The live topology, once loaded (at the first connect or operation). */
  #topology: TopologyLike | undefined;
  /** Loading the live topology: `src/topology/topology.ts` and the net layer under it. */
  #loading: Promise<TopologyLike> | undefined;
  /** The description before the live topology exists: every seed Unknown. */
  #initial: TopologyDescription;
  #readPreference: ReadPreference;
  #writeConcern: WriteConcern;
  #readConcern: ReadConcern;
  #init: Parameters<TopologyFactory>[0] | undefined;
  #socketFactory: SocketFactory | undefined;
  #factory: TopologyFactory | undefined;
  /** Aborted by close(). */
  #closing = new AbortController();
  /** Set for a `mongodb+srv://` client until its DNS lookups are done. */
  #srv: SrvSettings | undefined;
  #started = false;
  #closed = false;
  #databases = new Map<string, Database>();
  /** Server sessions for reuse; ended with `endSessions` at close. */
  #sessionPool = new ServerSessionPool();
  /** The highest `$clusterTime` a server sent (see `session.ts`). */
  #clusterTime: ClusterTime | undefined;

  /**
   * Parses the seeds, validates the options and builds the topology. No I/O
   * happens here.
   *
   * @param seeds The seeds, in any form `parseSeeds` accepts.
   * @param port A port for seeds given without one.
   * @param options The options; see {@linkcode ClientConnectionOptions}.
   * @param kind Internal: how the subclass interprets seeds and options.
   */
  protected constructor(
    seeds: Seeds | undefined,
    port: number | undefined,
    options: ClientConnectionOptions | undefined,
    kind: ClientKind,
  ) {
    super();
    this.#events = new ListenerCounts(this);
    this.#kind = kind;
    const given = checkOptions(options, `${kind.className} options`) as Record<string | symbol, unknown>;
    const onWarning = given.onWarning as ((message: string) => void) | undefined;
    if (onWarning !== undefined && typeof onWarning !== "function") throw typeError("onWarning", "a function", onWarning);
    const parsed = parseSeeds(seeds ?? "localhost:27017", port, { onWarning });
    const srv = parsed.uri?.scheme === "mongodb+srv";
    this.#seeds = Object.freeze(
      parsed.hosts.map((h) => Object.freeze(h.type === "unix" ? { ...h } : { ...h, port: h.port ?? DEFAULT_PORT })),
    );

    const codeOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given)) {
      if (!OWN_OPTIONS.has(key)) codeOptions[key] = value;
    }
    // A read preference given as an object travels through option resolution
    // as its three URI options, so its combination with the URI's is checked.
    let readPreference: ReadPreference | undefined;
    if (given.readPreference !== undefined) {
      readPreference = ReadPreference.from(given.readPreference as ReadPreferenceLike);
      codeOptions.readPreference = readPreference.mode;
      codeOptions.readPreferenceTags = readPreference.tags.length > 0 ? readPreference.tags : undefined;
      codeOptions.maxStalenessSeconds = readPreference.maxStalenessSeconds;
    }
    const slaveOk = given.slaveOk ?? given.secondaryOk;
    checkBoolean(slaveOk, "slaveOk/secondaryOk");
    const uriOptions = parsed.uri?.options ?? {};
    const replicaSetGiven = (codeOptions.replicaSet ?? uriOptions.replicaSet) !== undefined;
    const directGiven = codeOptions.directConnection ?? uriOptions.directConnection;
    if (kind.replicaSet) {
      // With mongodb+srv:// the name may come from the DNS TXT record; checked once it is read.
      if (!replicaSetGiven && !srv) {
        throw new ConfigurationError(
          `${kind.className} needs the replica set's name: pass { replicaSet: "<name>" } or add ` +
            `?replicaSet=<name> to the mongodb:// URI (use Connection for a single server)`,
        );
      }
      if (directGiven === true) {
        throw new ConfigurationError(
          `${kind.className} discovers the whole set and cannot take directConnection: true; ` +
            "use Connection for a direct connection to one member",
        );
      }
    } else if (directGiven === undefined && this.#seeds.length === 1 && !replicaSetGiven && !srv) {
      // PyMongo's Connection to one host talks to that host whatever it is,
      // which is what an uninitialized member needs for replSetInitiate.
      codeOptions.directConnection = true;
    }
    this.#options = resolveClientOptions(uriOptions, codeOptions, {
      hostCount: this.#seeds.length,
      srv,
      onWarning,
    });
    const resolved = this.#options;
    warnAboutCompression(resolved, onWarning);
    this.#readPreference = readPreference ?? (
      given.readPreference === undefined && slaveOk === true && resolved.readPreference === "primary"
        ? ReadPreference.SECONDARY
        : resolved.readPreferenceTags.length === 0 && resolved.maxStalenessSeconds === -1
        ? ReadPreference.from(resolved.readPreference)
        : new ReadPreference(resolved.readPreference, {
          tags: resolved.readPreferenceTags,
          maxStalenessSeconds: resolved.maxStalenessSeconds,
        })
    );
    this.#writeConcern = given.writeConcern !== undefined
      ? checkWriteConcern(given.writeConcern, "writeConcern")
      : checkWriteConcern(
        Object.fromEntries(
          [["w", resolved.w], ["j", resolved.journal], ["wtimeout", resolved.wTimeoutMS]].filter(([, v]) =>
            v !== undefined
          ),
        ),
        "client options (w, journal, wTimeoutMS)",
      );
    this.#readConcern = given.readConcern !== undefined
      ? checkReadConcern(given.readConcern, "readConcern")
      : checkReadConcern(resolved.readConcernLevel === undefined ? {} : { level: resolved.readConcernLevel });

    const topologyOptions = this.#topologyOptions(resolved);
    // Built here, as the live topology builds it, so that options that cannot
    // go together fail in the constructor and the getters answer before connecting.
    this.#initial = this.#seedDescription(resolved);
    const factory = given[TOPOLOGY_FACTORY] as TopologyFactory | undefined;
    const credential = resolveCredential({
      uri: parsed.uri?.auth,
      auth: given.auth as CredentialSources["auth"],
      authMechanism: resolved.authMechanism,
      authSource: resolved.authSource,
    });
    const socketFactory = checkSocketFactory(given.socketFactory);
    checkProxyOptions(resolved, socketFactory);
    this.#socketFactory = socketFactory;
    const init = {
      seeds: this.#seeds.map((h) => ({ ...h })),
      options: topologyOptions,
      credential,
      socketFactory,
      events: this.#events,
    };
    this.#factory = factory;
    if (srv) {
      this.#srv = {
        host: parsed.hosts[0].host,
        uriOptions,
        codeOptions,
        uriAuth: parsed.uri?.auth ?? null,
        auth: given.auth as CredentialSources["auth"],
        onWarning,
        resolver: given[DNS_RESOLVER] as DnsResolver | undefined,
      };
    } else if (factory !== undefined) {
      this.#topology = factory(init);
    } else {
      this.#init = init;
    }

    const ctx = {
      sessionPool: this.#sessionPool,
      client: this,
      advanceClusterTime: (ct: ClusterTime) => {
        const mine = this.#clusterTime?.clusterTime;
        if (mine === undefined || ct.clusterTime.toBigInt() > mine.toBigInt()) this.#clusterTime = ct;
      },
      start: () => this.#start(),
      ensureOpen: () => {
        if (this.#closed) throw closedError(this.#kind.className);
      },
      describe: () => this.toString(),
    } as unknown as ClientContext;
    Object.defineProperties(ctx, {
      description: { get: () => this.#description },
      closed: { get: () => this.#closed },
      retryReads: { get: () => this.#options.retryReads },
      retryWrites: { get: () => this.#options.retryWrites },
      clusterTime: { get: () => this.#clusterTime },
      readPreference: { get: () => this.#readPreference },
      writeConcern: { get: () => this.#writeConcern },
      readConcern: { get: () => this.#readConcern },
      timeoutMS: { get: () => this.#options.timeoutMS },
    });
    registerContext(this, ctx);
  }

  /**
   * Listens to the client's monitoring events: command monitoring
   * (`commandStarted`, `commandSucceeded`, `commandFailed`), SDAM
   * (`topologyOpening`, `serverDescriptionChanged`, `serverHeartbeatSucceeded`,
   * ...) and the pools' CMAP events (`poolCleared`, `connectionCheckedOut`,
   * ...); see {@linkcode ClientEventMap}. An event type nobody listens to
   * costs nothing: it is not even built.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * await using conn = await ReplicaSetConnection.connect("db1:27017", { replicaSet: "rs" });
   * conn.addEventListener("commandSucceeded", (e) => console.log(e.commandName, "served by", e.address));
   * await conn.db("test").collection("people").findOne({});
   * ```
   */
  override addEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener:
      | ((this: this, event: ClientEventMap[K]) => unknown)
      | { handleEvent(event: ClientEventMap[K]): unknown }
      | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Listens to an event of any type (see the typed overload). */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
    if (listener !== null) this.#events.add(type, listener, options);
  }

  /**
   * Stops listening (see {@linkcode ClientBase.addEventListener}).
   *
   * @example
   * ```ts ignore
   * const log = (e: CommandStartedEvent) => console.log(e.command);
   * conn.addEventListener("commandStarted", log);
   * conn.removeEventListener("commandStarted", log);
   * ```
   */
  override removeEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener:
      | ((this: this, event: ClientEventMap[K]) => unknown)
      | { handleEvent(event: ClientEventMap[K]): unknown }
      | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Stops listening to an event of any type (see the typed overload). */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
    if (listener !== null) this.#events.remove(type, listener, options);
  }

  get #description(): TopologyDescription {
    return this.#topology?.description ?? this.#initial;
  }

  /**
   * The live topology. The module behind it (monitors, pools, sockets) is
   * loaded here, at the first connect or operation, not when this module is
   * imported: a script that imports the driver pays for the network stack only
   * once it uses it.
   */
  #live(): Promise<TopologyLike> {
    if (this.#topology !== undefined) return Promise.resolve(this.#topology);
    if (this.#loading !== undefined) return this.#loading;
    const loading = (async () => {
      // The network stack, the runtime check and the runtime's socket adapter
      // load side by side, not one after another.
      const topologyModule = import("../topology/topology.ts");
      topologyModule.catch(() => {}); // awaited below, unless the runtime check throws first
      const [{ detectSocketRuntime, unsupportedRuntime }, { preloadSocketAdapter }] = await Promise.all([
        import("../net/_runtime.ts"),
        import("../net/socket.ts"),
      ]);
      // A runtime with no socket API (a browser page) fails here, at once, not by a selection timeout.
      // A socketFactory brings its own transport: it may work where the runtime has none.
      const ownTransport = this.#factory !== undefined || this.#socketFactory !== undefined;
      if (!ownTransport && detectSocketRuntime(globalThis) === undefined) throw unsupportedRuntime();
      if (!ownTransport) preloadSocketAdapter();
      const [init, { Topology }] = await Promise.all([
        this.#srv === undefined ? this.#init! : this.#resolveSrv(this.#srv),
        topologyModule,
      ]);
      if (this.#closed) throw closedError(this.#kind.className);
      this.#srv = undefined;
      this.#topology = this.#factory !== undefined ? this.#factory(init) : new Topology(init);
      return this.#topology;
    })();
    this.#loading = loading;
    // A failed DNS lookup may be passing: the next operation looks again.
    loading.catch(() => {
      if (this.#loading === loading) this.#loading = undefined;
    });
    return loading;
  }

  /**
   * The Initial DNS Seedlist Discovery step of a `mongodb+srv://` client: SRV
   * and TXT lookups (bounded by `connectTimeoutMS`), then the options again
   * with the TXT record's defaults under the connection string's.
   */
  async #resolveSrv(srv: SrvSettings): Promise<Parameters<TopologyFactory>[0]> {
    const [{ systemResolver }, { optionsFromTxt, pickSrvHosts, seedsFromSrv, srvQueryName }] = await Promise.all([
      import("../net/dns.ts"),
      import("../topology/srv.ts"),
    ]);
    const dns = srv.resolver ?? systemResolver();
    const lookup = { timeoutMS: this.#options.connectTimeoutMS, signal: this.#closing.signal };
    const [records, txt] = await Promise.all([
      dns.srv(srvQueryName(srv.host, this.#options.srvServiceName), lookup),
      dns.txt(srv.host, lookup),
    ]);
    const seeds = seedsFromSrv(srv.host, records);
    const txtText = optionsFromTxt(srv.host, txt);
    const txtOptions = txtText === ""
      ? {}
      : parseConnectionString(`mongodb://${srv.host}/?${txtText}`, { onWarning: srv.onWarning }).options;
    const merged = { ...txtOptions, ...srv.uriOptions };
    if (this.#kind.replicaSet && (srv.codeOptions.replicaSet ?? merged.replicaSet) === undefined) {
      throw new ConfigurationError(
        `${this.#kind.className} needs the replica set's name: neither the mongodb+srv:// URI, its DNS TXT record ` +
          `nor the options give replicaSet (use Connection for a single server)`,
      );
    }
    const options = resolveClientOptions(merged, srv.codeOptions, {
      hostCount: seeds.length,
      srv: true,
      onWarning: srv.onWarning,
    });
    const picked = pickSrvHosts(seeds, options.srvMaxHosts);
    this.#options = options;
    this.#seeds = Object.freeze(picked.map((h) => Object.freeze({ ...h })));
    this.#initial = this.#seedDescription(options);
    const credential = resolveCredential({
      uri: srv.uriAuth,
      auth: srv.auth,
      authMechanism: options.authMechanism,
      authSource: options.authSource,
    });
    return {
      seeds: this.#seeds.map((h) => ({ ...h })),
      options: this.#topologyOptions(options),
      credential,
      socketFactory: this.#socketFactory,
      events: this.#events,
    };
  }

  /** The resolved options with the client's read preference, as the topology takes them. */
  #topologyOptions(resolved: ResolvedClientOptions): ResolvedClientOptions {
    return {
      ...resolved,
      readPreference: this.#readPreference.mode,
      readPreferenceTags: this.#readPreference.tags,
      maxStalenessSeconds: this.#readPreference.maxStalenessSeconds ?? -1,
    };
  }

  /** The description of the seeds, every one Unknown, as the live topology starts from. */
  #seedDescription(o: ResolvedClientOptions): TopologyDescription {
    return initialTopologyDescription(this.#seeds.map(hostAddressToString), {
      replicaSet: o.replicaSet ?? null,
      directConnection: o.directConnection,
      loadBalanced: o.loadBalanced,
      heartbeatFrequencyMS: o.heartbeatFrequencyMS,
      localThresholdMS: o.localThresholdMS,
    });
  }

  async #start(): Promise<TopologyLike> {
    const topology = await this.#live();
    if (!this.#started) {
      this.#started = true;
      // Selection waits for discovery and reports its own timeout; this
      // promise only needs its rejection observed.
      topology.connect().catch(() => {});
    }
    return topology;
  }

  /**
   * Starts monitoring the members and resolves once a server suitable for
   * the default read preference is known (the primary, by default) and
   * every member of the discovered host list has answered once or failed,
   * waiting for those at most `connectTimeoutMS` more (as PyMongo 2.1 did:
   * `hosts`, `primary` and `secondaries` are complete right after it). Rejects
   * with `ServerSelectionError` after `serverSelectionTimeoutMS`, or with
   * `signal.reason` when aborted. Operations connect by themselves, so this
   * is optional; it is the place to find out early that nothing answers.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = new ReplicaSetConnection("localhost:27017", { replicaSet: "foo" });
   * await c.connect({ signal: AbortSignal.timeout(10_000) });
   * console.log(c.primary);
   * await c.close();
   * ```
   */
  async connect(options: ConnectOptions = {}): Promise<this> {
    const connectOptions = checkOptions(options, "connect options");
    checkOptionNames(connectOptions, CONNECT_OPTIONS, "connect option");
    const signal = checkSignal(connectOptions.signal);
    if (this.#closed) throw closedError(this.#kind.className);
    const topology = await untilAborted(this.#live(), signal);
    this.#started = true;
    await topology.connect({ signal, readPreference: this.#readPreference });
    // close() during the wait ends it too.
    const waitSignal = signal === undefined ? this.#closing.signal : AbortSignal.any([signal, this.#closing.signal]);
    const limitMS = Math.min(this.#options.connectTimeoutMS || this.#options.serverSelectionTimeoutMS, 2 ** 31 - 1);
    await everyMemberChecked(topology, limitMS, waitSignal);
    return this;
  }

  /**
   * Stops monitoring and closes every connection. Operations in flight and
   * later ones reject. Idempotent. No timer or socket of this client is left,
   * so a script that closes its client exits at once.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * await c.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed && this.#topology !== undefined) await this.#endSessions(this.#topology);
    this.#closed = true;
    this.#closing.abort(closedError(this.#kind.className)); // stops DNS lookups in flight
    // A topology still loading is never built once closed (see #live).
    const topology = this.#topology ?? await this.#loading?.catch(() => undefined);
    await topology?.close();
  }

  /**
   * Ends the pooled server sessions (`endSessions`, at most 10,000 ids per
   * command) on the primary, else a secondary, if one is known at once;
   * errors are ignored, as the sessions specification says (the server
   * forgets idle sessions after `logicalSessionTimeoutMinutes` anyway).
   */
  async #endSessions(topology: TopologyLike): Promise<void> {
    const commands = this.#sessionPool.drain();
    if (commands.length === 0) return;
    const known = [...topology.description.servers.values()].some((sd) =>
      sd.type === "RSPrimary" || sd.type === "RSSecondary" || sd.type === "Mongos" || sd.type === "Standalone"
    );
    if (!known) return;
    const ctx = contextOf(this);
    for (const cmd of commands) {
      try {
        await execute(ctx, {
          name: "endSessions",
          db: "admin",
          kind: "read",
          readPreference: ReadPreference.PRIMARY_PREFERRED,
          retryable: false,
          noSession: true,
          timeoutMS: Math.min(this.#options.serverSelectionTimeoutMS, 1000),
          plan: () => ({ command: cmd, parse: () => undefined }),
        });
      } catch {
        // Ignored (driver sessions specification).
      }
    }
  }

  /**
   * Starts an explicit session (no I/O): pass it as the `session` option of
   * operations so that they share a server session, read causally (each read
   * sees the session's earlier writes and reads), or read one snapshot
   * (`{ snapshot: true }`, MongoDB 5.0+). End it with `endSession()` or
   * `await using`. Throws `SessionError` once the client is closed.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * await using conn = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * await using session = conn.startSession({ causalConsistency: true });
   * await conn.db("test").collection("c").insertOne({ a: 1 }, { session });
   * ```
   */
  startSession(options?: ClientSessionOptions): ClientSession {
    if (this.#closed) throw new SessionError(`${this.#kind.className} is closed: no session can start on it`);
    return new ClientSession(this, options);
  }

  /** Closes the client at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Whether {@linkcode ClientBase.close} has been called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The options in effect (URI options merged with code options, defaults filled in). */
  get options(): ResolvedClientOptions {
    return this.#options;
  }

  /**
   * The seeds this client was given, as `[host, port]` pairs (port 27017
   * when none was given; 0 for a Unix socket path).
   */
  get seeds(): [string, number][] {
    return this.#seeds.map((h) => [h.host, h.port ?? 0]);
  }

  /**
   * The members as currently known, as `"host:port"` strings: the seeds
   * until a member has answered, then the set's members as its primary (or
   * any member) lists them, arbiters excluded (see
   * {@linkcode ClientBase.arbiters}).
   */
  get hosts(): string[] {
    const servers = this.#description.servers;
    const out: string[] = [];
    for (const [address, sd] of servers) if (sd.type !== "RSArbiter") out.push(address);
    return servers.size > 0 ? out : this.#seeds.map(hostAddressToString);
  }

  /** The current primary as `[host, port]`, or `null` while there is none known. */
  get primary(): [string, number] | null {
    const td = this.#description;
    for (const sd of td.servers.values()) {
      if (sd.type === "RSPrimary" || (td.type === "Single" && (sd.type === "Standalone" || sd.type === "Mongos"))) {
        return splitAddress(sd.address);
      }
    }
    return null;
  }

  /** The members currently known to be secondaries, as `[host, port]` pairs. */
  get secondaries(): [string, number][] {
    return this.#ofType("RSSecondary");
  }

  /** The members currently known to be arbiters, as `[host, port]` pairs. */
  get arbiters(): [string, number][] {
    return this.#ofType("RSArbiter");
  }

  #ofType(type: string): [string, number][] {
    const out: [string, number][] = [];
    for (const sd of this.#description.servers.values()) {
      if (sd.type === type) out.push(splitAddress(sd.address));
    }
    return out;
  }

  /**
   * The host of the current primary (as in the guide: `c.host, c.port`), or
   * `null` while there is none. On a direct connection: the one server's.
   */
  get host(): string | null {
    return this.#current()?.[0] ?? null;
  }

  /** The port of the current primary, or `null` while there is none. On a direct connection: the one server's. */
  get port(): number | null {
    return this.#current()?.[1] ?? null;
  }

  #current(): [string, number] | null {
    if (this.#description.type === "Single") {
      const only = this.#description.servers.keys().next();
      return only.done ? null : splitAddress(only.value);
    }
    return this.primary;
  }

  /** The default read preference of every database, collection and read made from this client. */
  get readPreference(): ReadPreference {
    return this.#readPreference;
  }

  /** Sets the default read preference (any form `ReadPreference.from` accepts); affects later operations. */
  set readPreference(value: ReadPreferenceLike) {
    this.#readPreference = ReadPreference.from(value);
  }

  /** The default write concern of every write made from this client (`{}` = the server's default). */
  get writeConcern(): WriteConcern {
    return this.#writeConcern;
  }

  /** Sets the default write concern; affects later operations. */
  set writeConcern(value: WriteConcern) {
    this.#writeConcern = checkWriteConcern(value, "writeConcern");
  }

  /** The default read concern of every read made from this client (`{}` = the server's default). */
  get readConcern(): ReadConcern {
    return this.#readConcern;
  }

  /** The client's `timeoutMS` (`undefined` when not set; 0 = no limit): the default of every operation. */
  get timeoutMS(): number | undefined {
    return this.#options.timeoutMS;
  }

  /**
   * A database. Its read preference and write concern are this client's
   * unless `options` gives its own. Without options the same object is
   * returned for the same name.
   *
   * @example
   * ```ts ignore
   * import { ReadPreference, ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = new ReplicaSetConnection("localhost:27017", { replicaSet: "foo" });
   * const reports = c.db("reports", { readPreference: ReadPreference.SECONDARY });
   * console.log(reports.name);
   * ```
   */
  db(name: string, options?: DatabaseOptions): Database {
    if (options === undefined) {
      let db = this.#databases.get(name);
      if (db === undefined) {
        db = new Database(this, name);
        this.#databases.set(name, db);
      }
      return db;
    }
    return new Database(this, name, options);
  }

  /** The `admin` database, where `replSetInitiate`, `replSetGetStatus` and `listDatabases` run. */
  get admin(): Database {
    return this.db("admin");
  }

  /**
   * A {@linkcode ChangeStream} of the changes to every database
   * (`allChangesForCluster` on admin). Call `start()` before the changes to see.
   *
   * @example
   * ```ts ignore
   * await using stream = await conn.watch([{ $match: { "ns.db": "shop" } }]).start();
   * console.log(await stream.tryNext());
   * ```
   */
  watch<T = Document>(pipeline: readonly Document[] = [], options: ChangeStreamOptions = {}): ChangeStream<T> {
    return new ChangeStream<T>(this.admin, pipeline, options, "cluster");
  }

  /**
   * The databases on the server (the `listDatabases` command, on the
   * primary; retried once like other reads).
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * await using c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * console.log((await c.listDatabases()).map((d) => d.name));
   * ```
   */
  async listDatabases(options: ListDatabasesOptions = {}): Promise<DatabaseInfo[]> {
    const opts = checkOptions(options, "listDatabases options");
    checkOptionNames(opts, LIST_DATABASES_OPTIONS, "listDatabases option");
    const signal = checkSignal(opts.signal);
    const cmd: Document = { listDatabases: 1 };
    if (opts.filter !== undefined) {
      if (!isDocument(opts.filter)) throw typeError("filter", "a document", opts.filter, "listDatabases");
      cmd.filter = opts.filter;
    }
    if (opts.nameOnly !== undefined) cmd.nameOnly = opts.nameOnly === true;
    if (opts.authorizedDatabases !== undefined) cmd.authorizedDatabases = opts.authorizedDatabases === true;
    if (opts.comment !== undefined) cmd.comment = opts.comment;
    return await execute(contextOf(this), {
      name: "listDatabases",
      db: "admin",
      kind: "read",
      readPreference: ReadPreference.PRIMARY,
      retryable: true,
      timeoutMS: opts.timeoutMS === undefined ? this.#options.timeoutMS : checkInt(opts.timeoutMS, "timeoutMS", 0),
      signal,
      session: checkSession(opts.session, contextOf(this), opts),
      plan: () => ({
        command: cmd,
        parse: (reply) => Array.isArray(reply.databases) ? reply.databases.filter(isDocument) as DatabaseInfo[] : [],
      }),
    });
  }

  /**
   * The names of the databases on the server (`listDatabases` with `nameOnly`).
   *
   * @example
   * ```ts ignore
   * console.log(await c.listDatabaseNames()); // ["admin", "local", "test"]
   * ```
   */
  async listDatabaseNames(options: Omit<ListDatabasesOptions, "nameOnly"> = {}): Promise<string[]> {
    const opts = checkOptions(options, "listDatabaseNames options");
    return (await this.listDatabases({ ...opts, nameOnly: true })).map((d) => d.name);
  }

  /**
   * Writes to any namespaces in `bulkWrite` commands (MongoDB 8.0+), as
   * `specs/crud/bulk-write.md` says; a failure is a `ClientBulkWriteError`
   * with the write errors by model index and the partial result.
   *
   * @example
   * ```ts ignore
   * const r = await c.bulkWrite([{ insertOne: { namespace: "db.a", document: { x: 1 } } }]);
   * console.log(r.insertedCount);
   * ```
   */
  bulkWrite(models: readonly ClientBulkWriteModel[], options?: ClientBulkWriteOptions): Promise<ClientBulkWriteResult> {
    // Loaded on first use: a cold start that never writes across namespaces does not pay for it.
    return import("./client_bulk_write.ts").then((m) => m.clientBulkWrite(this, models, options));
  }

  /** The guide's printed form: `ReplicaSetConnection(['h:27019', 'h:27017', 'h:27018'])`. */
  override toString(): string {
    return `${this.#kind.className}([${this.hosts.map(quote).join(", ")}])`;
  }

  /** Deno's `console.log` form: the same as `toString()`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's and Bun's `console.log` form: the same as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
