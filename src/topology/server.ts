/**
 * One server of the live topology: its connection pool, the read preference
 * rules for what goes on the wire, and the mapping of failures to SDAM's
 * error handling and to `AutoReconnect`.
 *
 * @module
 */
import {
  AuthenticationError,
  AutoReconnect,
  ConfigurationError,
  ConnectionFailure,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  PoolClearedError,
  PoolClosedError,
  WaitQueueTimeoutError,
  WireProtocolError,
  WriteConcernError,
} from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import type { DocumentSequence } from "../wire/mod.ts";
import type { Connection, ConnectionPool } from "../net/mod.ts";
import { ReadPreference, type ReadPreferenceDocument } from "./read_preference.ts";
import type { ApplicationError } from "./sdam_errors.ts";
import { isStateChangeError } from "./sdam_errors.ts";
import type { ServerDescription, ServerType } from "./server_description.ts";
import type { TopologyType } from "./topology_description.ts";

/**
 * Options of {@linkcode Server.command}.
 *
 * @example
 * ```ts
 * import { ReadPreference, type ServerCommandOptions } from "@zerodep/mongo/topology";
 *
 * const read: ServerCommandOptions = { operation: "read", readPreference: ReadPreference.SECONDARY };
 * const write: ServerCommandOptions = {
 *   operation: "write",
 *   sequences: [{ identifier: "documents", documents: [{ x: 1 }] }],
 * };
 * ```
 */
export interface ServerCommandOptions {
  /** A read sends the read preference as the server selection specification says; a write sends none. */
  operation: "read" | "write";
  /** For reads; default primary. */
  readPreference?: ReadPreference;
  /** Aborts the wait for a connection or the round trip; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** OP_MSG kind-1 sections (insert documents, update statements...). */
  sequences?: DocumentSequence[];
  /** Limit on this round trip in ms (0 = none); default the client's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
  /** Called once a connection is checked out, just before `cmd` is written; may throw to not send it. */
  onConnection?: (conn: Connection) => void;
  /** An unacknowledged (w: 0) write: sent with OP_MSG's moreToCome flag, no reply awaited (resolves to `{ ok: 1 }`). */
  moreToCome?: boolean;
}

/**
 * Options of {@linkcode Server.withConnection}.
 *
 * @example
 * ```ts
 * import type { WithConnectionOptions } from "@zerodep/mongo/topology";
 *
 * const options: WithConnectionOptions = { signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface WithConnectionOptions {
  /** Aborts the wait for a connection; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * What a read preference turns into on one connection: the OP_QUERY
 * SecondaryOk flag and the `$readPreference` document to send (none when
 * absent). Spread it into `Connection.command` or `Connection.query` options.
 *
 * @example
 * ```ts
 * import type { WireReadPreference } from "@zerodep/mongo/topology";
 *
 * const onMongosOpQuery: WireReadPreference = { secondaryOk: true, readPreference: { mode: "nearest" } };
 * ```
 */
export interface WireReadPreference {
  /** Set the SecondaryOk bit (OP_QUERY only; ignored on OP_MSG). */
  secondaryOk: boolean;
  /** Send this as `$readPreference` (in the OP_MSG body, or around `$query` on OP_QUERY). */
  readPreference?: ReadPreferenceDocument;
}

/**
 * Where a command goes, for {@linkcode readPreferenceOnWire}.
 *
 * @example
 * ```ts
 * import type { ReadPreferenceOnWireOptions } from "@zerodep/mongo/topology";
 *
 * const o: ReadPreferenceOnWireOptions = { topologyType: "ReplicaSetWithPrimary", serverType: "RSSecondary", opMsg: true };
 * ```
 */
export interface ReadPreferenceOnWireOptions {
  /** The topology's type. */
  topologyType: TopologyType;
  /** The selected server's type. */
  serverType: ServerType;
  /** Whether the connection speaks OP_MSG (maxWireVersion >= 6) rather than OP_QUERY. */
  opMsg: boolean;
}

/**
 * How a read preference is sent to one server, per the server selection
 * specification ("passing read preference to mongod/mongos"):
 *
 * - a replica set (members reached by discovery): OP_QUERY sets SecondaryOk
 *   for every mode but primary; OP_MSG sends `$readPreference` for every mode
 *   but primary;
 * - a direct connection (topology Single): a standalone gets nothing; a mongos
 *   gets the mongos rules; any other server gets SecondaryOk on OP_QUERY, and
 *   on OP_MSG `{mode: "primaryPreferred"}` when the application asked for
 *   primary, else the application's preference, so that a secondary answers;
 * - mongos and load balancers: nothing for primary; on OP_QUERY a plain
 *   secondaryPreferred is only SecondaryOk (old mongos versions), any other
 *   mode SecondaryOk plus `$readPreference`; on OP_MSG `$readPreference`.
 *
 * Writes send no read preference.
 *
 * Experimental: the live machinery under the client; its shape follows the operation runner and may change.
 *
 * @param operation `"read"` or `"write"`.
 * @param readPreference The application's read preference (`undefined` = primary).
 * @param options The topology type, the server type and the opcode.
 * @returns The SecondaryOk flag and the `$readPreference` document, if any.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, readPreferenceOnWire } from "@zerodep/mongo/topology";
 *
 * const rp = readPreferenceOnWire("read", ReadPreference.PRIMARY, {
 *   topologyType: "Single", serverType: "RSSecondary", opMsg: true,
 * });
 * assert.deepEqual(rp, { secondaryOk: true, readPreference: { mode: "primaryPreferred" } });
 * ```
 */
export function readPreferenceOnWire(
  operation: "read" | "write",
  readPreference: ReadPreference | undefined,
  options: ReadPreferenceOnWireOptions,
): WireReadPreference {
  if (operation !== "read") return { secondaryOk: false };
  const rp = readPreference ?? ReadPreference.PRIMARY;
  const primary = rp.mode === "primary";
  const { topologyType, serverType, opMsg } = options;
  const mongos = serverType === "Mongos" || serverType === "LoadBalancer" || topologyType === "Sharded" ||
    topologyType === "LoadBalanced";
  if (mongos) {
    if (primary) return { secondaryOk: false };
    if (opMsg) return { secondaryOk: true, readPreference: rp.toDocument() };
    const plain = rp.mode === "secondaryPreferred" && rp.maxStalenessSeconds === undefined &&
      rp.hedge === undefined && !rp.tags.some((set) => Object.keys(set).length > 0);
    return plain ? { secondaryOk: true } : { secondaryOk: true, readPreference: rp.toDocument() };
  }
  if (topologyType === "Single") {
    if (serverType === "Standalone") return { secondaryOk: false };
    if (!opMsg) return { secondaryOk: true };
    return { secondaryOk: true, readPreference: primary ? { mode: "primaryPreferred" } : rp.toDocument() };
  }
  if (primary) return { secondaryOk: false };
  return opMsg ? { secondaryOk: true, readPreference: rp.toDocument() } : { secondaryOk: true };
}

/**
 * What a {@linkcode Server} needs from the topology that owns it. The
 * topology implements it; tests may too.
 *
 * @example
 * ```ts
 * import { type ServerContext, unknownServerDescription } from "@zerodep/mongo/topology";
 *
 * const context: ServerContext = {
 *   description: (address) => unknownServerDescription(address),
 *   topologyType: () => "Unknown",
 *   handleError: () => {},
 *   closedError: () => null,
 * };
 * ```
 */
export interface ServerContext {
  /** The server's current description. */
  description(address: string): ServerDescription;
  /** The topology's current type. */
  topologyType(): TopologyType;
  /** Runs SDAM's application-error handling for an error raised on this server. */
  handleError(address: string, error: ApplicationError): void;
  /** The error to reject operations with once the topology is closed, else null. */
  closedError(): MongoError | null;
}

/**
 * One server of a {@linkcode Topology}: runs commands on pooled connections,
 * sends the read preference as the specification says for the topology and
 * server type, and maps failures:
 *
 * - a network error (`ConnectionFailure`, `NetworkTimeout`, or a
 *   `WireProtocolError` from the server) or a state-change `OperationFailure`
 *   ("not primary", "node is recovering") goes through SDAM's
 *   `handleApplicationError` (mark Unknown, clear the pool, check the server
 *   again) and is then thrown as {@linkcode AutoReconnect}, with the original
 *   error as `cause`. A failure to connect changes nothing in SDAM (an
 *   overloaded server may cause it) unless the connection was refused or the
 *   name did not resolve: then the server is marked Unknown at once;
 * - a timeout after the handshake leaves the topology alone (SDAM ignores it)
 *   but still surfaces as `AutoReconnect` (PyMongo's `NetworkTimeout` is a
 *   subclass of its `AutoReconnect`): the `cause` is the `NetworkTimeout`;
 * - a `WriteConcernError` whose code is a state change is handled by SDAM but
 *   thrown as it is: the write itself was applied;
 * - other `OperationFailure`s, `WaitQueueTimeoutError` and the caller's abort
 *   reason pass through unchanged;
 * - once the topology is closed, operations reject with its "closed" `MongoError`.
 *
 * Servers are made by the {@linkcode Topology}; get one from
 * `Topology.selectServer`.
 *
 * Experimental: the live machinery under the client; its shape follows the operation runner and may change.
 *
 * @experimental
 * @example
 * ```ts ignore
 * import { ReadPreference, Topology } from "@zerodep/mongo/topology";
 *
 * const server = await topology.selectServer({ operation: "read", readPreference: ReadPreference.SECONDARY });
 * const reply = await server.command("test", { find: "people", filter: {} }, {
 *   operation: "read",
 *   readPreference: ReadPreference.SECONDARY,
 * });
 * ```
 */
export class Server {
  /** The server's address, as the topology names it ("host:port"). */
  readonly address: string;
  #pool: ConnectionPool;
  #context: ServerContext;
  #active = new Set<Connection>();
  #operations = 0;
  #closed = false;
  // Aborted when the server is dropped or the topology closes: it cancels the
  // connects and handshakes of pooled connections still being opened for callers.
  #closing = new AbortController();

  /**
   * Made by the {@linkcode Topology}; `pool` belongs to this server.
   *
   * @param address The server's address.
   * @param options Its pool and its topology.
   */
  constructor(address: string, options: { pool: ConnectionPool; context: ServerContext }) {
    this.address = address;
    this.#pool = options.pool;
    this.#context = options.context;
  }

  /** The server's current description in the topology. */
  get description(): ServerDescription {
    return this.#context.description(this.address);
  }

  /** Operations in flight on this server (for the "power of two choices" among servers). */
  get operationCount(): number {
    return this.#operations;
  }

  /** The generation of the server's connection pool: it goes up by one each time the pool is cleared. */
  get poolGeneration(): number {
    return this.#pool.generation;
  }

  /**
   * Runs `cmd` on database `db` over a pooled connection, with the read
   * preference sent as {@linkcode readPreferenceOnWire} says.
   *
   * @param db The database.
   * @param cmd The command document (not modified).
   * @param options Read or write, read preference, signal, sequences, timeout.
   * @returns The reply.
   * @throws {AutoReconnect} After a network error or a state-change error (see the class doc).
   * @throws {OperationFailure} For other `ok: 0` replies.
   * @throws {MongoError} "closed" once the topology is closed.
   *
   * @example
   * ```ts ignore
   * const reply = await server.command("admin", { ping: 1 }, { operation: "read" });
   * ```
   */
  command(db: string, cmd: Document, options: ServerCommandOptions): Promise<Document> {
    if (options === null || typeof options !== "object") {
      return Promise.reject(new ConfigurationError(`Server.command needs options { operation: "read" | "write" }`));
    }
    const operation = options.operation;
    if (operation !== "read" && operation !== "write") {
      return Promise.reject(
        new ConfigurationError(`options.operation must be "read" or "write", got ${JSON.stringify(operation)}`),
      );
    }
    let readPreference: ReadPreference | undefined;
    try {
      readPreference = options.readPreference === undefined ? undefined : ReadPreference.from(options.readPreference);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run((conn) => {
      options.onConnection?.(conn);
      const wire = readPreferenceOnWire(operation, readPreference, {
        topologyType: this.#context.topologyType(),
        serverType: this.description.type,
        opMsg: conn.usesOpMsg,
      });
      return conn.command(db, cmd, {
        signal: options.signal,
        sequences: options.sequences,
        socketTimeoutMS: options.socketTimeoutMS,
        moreToCome: options.moreToCome,
        secondaryOk: wire.secondaryOk,
        readPreference: wire.readPreference as Document | undefined,
      });
    }, options?.signal);
  }

  /**
   * Runs `fn` with a pooled connection to this server (for a cursor's
   * `getMore`/`killCursors`, which must go to the same server, and for legacy
   * OP_QUERY finds), with the same error mapping as {@linkcode Server.command}.
   *
   * @param fn Uses the connection; must not keep it after its promise settles.
   * @param options The signal for the wait for a connection.
   * @returns What `fn` returns.
   *
   * @example
   * ```ts ignore
   * const batch = await server.withConnection((conn) => conn.command("test", { getMore: id, collection: "people" }));
   * ```
   */
  withConnection<T>(fn: (conn: Connection) => Promise<T>, options: WithConnectionOptions = {}): Promise<T> {
    return this.#run(fn, options?.signal);
  }

  /**
   * The SecondaryOk flag and `$readPreference` to use on `conn` (a connection
   * of this server) for an operation: {@linkcode readPreferenceOnWire} with
   * this topology's and server's types.
   *
   * @param conn A connection to this server (from `withConnection`).
   * @param operation `"read"` or `"write"`.
   * @param readPreference The read preference (default primary).
   * @returns The flag and document.
   *
   * @example
   * ```ts ignore
   * await server.withConnection((conn) => {
   *   const { secondaryOk } = server.readPreferenceFor(conn, "read", ReadPreference.SECONDARY);
   *   return conn.query("test.people", {}, { secondaryOk });
   * });
   * ```
   */
  readPreferenceFor(
    conn: Connection,
    operation: "read" | "write",
    readPreference?: ReadPreference,
  ): WireReadPreference {
    return readPreferenceOnWire(operation, readPreference, {
      topologyType: this.#context.topologyType(),
      serverType: this.description.type,
      opMsg: conn.usesOpMsg,
    });
  }

  /**
   * Closes every connection in use, so their round trips fail at once (the
   * topology is closing or dropped this server). Called by the topology.
   *
   * @example
   * ```ts ignore
   * server.closeConnections();
   * ```
   */
  closeConnections(): void {
    this.#closed = true;
    this.#closing.abort(this.#context.closedError() ?? this.#removed());
    this.interruptConnections();
  }

  /**
   * Closes the connections in use, failing their round trips with a network
   * error (the CMAP specification's `interruptInUseConnections`, used after a
   * monitor's check timed out). The server stays usable. Called by the topology.
   *
   * @example
   * ```ts ignore
   * server.interruptConnections();
   * ```
   */
  interruptConnections(): void {
    for (const conn of this.#active) conn.close();
    this.#active.clear();
  }

  /**
   * Applies SDAM's error handling to a connection that failed while being
   * established (the pool calls it before reporting the connection closed,
   * so the pool is cleared first). The operation that was waiting for the
   * connection gets the error later; handling it again then is stale (the
   * pool's generation moved on) and changes nothing.
   *
   * @example
   * ```ts ignore
   * server.noteEstablishError(error);
   * ```
   */
  noteEstablishError(error: unknown): void {
    this.#mapError(error, undefined, undefined);
  }

  // ---- internals ------------------------------------------------------------

  async #run<T>(fn: (conn: Connection) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const closed = this.#context.closedError();
    if (closed !== null) throw closed;
    if (this.#closed) throw this.#removed();
    this.#operations++;
    let conn: Connection | undefined;
    try {
      const closing = this.#closing.signal;
      conn = await this.#pool.checkOut({ signal: signal === undefined ? closing : AbortSignal.any([signal, closing]) });
      // The server left the topology while the connection was being opened.
      if (this.#closed) throw this.#context.closedError() ?? this.#removed();
      this.#active.add(conn);
      return await fn(conn);
    } catch (error) {
      // A round trip left running by fn could still write to the socket later.
      if (conn?.inUse) conn.close();
      throw this.#mapError(error, conn, signal);
    } finally {
      this.#operations--;
      if (conn !== undefined) {
        this.#active.delete(conn);
        this.#pool.checkIn(conn);
      }
    }
  }

  #mapError(error: unknown, conn: Connection | undefined, signal: AbortSignal | undefined): unknown {
    const closed = this.#context.closedError();
    if (closed !== null) {
      return error === closed ? error : new MongoError(closed.message, { cause: error });
    }
    if (signal?.aborted && error === signal.reason) return error;
    if (this.#closing.signal.aborted && error === this.#closing.signal.reason) return error;
    const maxWireVersion = conn?.maxWireVersion ?? this.description.maxWireVersion;
    if (error instanceof OperationFailure) {
      if (!isStateChangeError({ code: error.code, errmsg: error.errmsg })) return error;
      this.#context.handleError(this.address, {
        address: this.address,
        type: "command",
        when: "afterHandshakeCompletes",
        maxWireVersion,
        generation: conn?.generation,
        response: error.response,
      });
      if (error instanceof WriteConcernError) return error;
      return this.#autoReconnect(error, error.message, true, conn?.generation);
    }
    if (error instanceof AuthenticationError) {
      // Retrying with the same credentials cannot help: the error stays as it
      // is. The server is marked Unknown and its pool cleared, as the
      // specifications ask (which also paces new connection attempts).
      const refused = error.cause instanceof OperationFailure ? error.cause : undefined;
      this.#context.handleError(this.address, {
        address: this.address,
        type: "command",
        when: "beforeHandshakeCompletes",
        duringAuthentication: true,
        maxWireVersion,
        generation: error.generation,
        response: refused?.response ?? { ok: 0, errmsg: error.message },
      });
      return error;
    }
    if (error instanceof WaitQueueTimeoutError) return error;
    if (error instanceof AutoReconnect) return error;
    if (error instanceof PoolClosedError) return this.#removed(error);
    // The pool was cleared after an error and waits for the monitor's next good check:
    // nothing was sent, the server is already being re-checked; the operation may be retried.
    if (error instanceof PoolClearedError) {
      return this.#autoReconnect(error, `${this.address}: ${error.message}`, false, this.#pool.generation);
    }
    const network = error instanceof ConnectionFailure ||
      (error instanceof WireProtocolError && error.address !== undefined);
    if (!network) return error;
    const failure = error as ConnectionFailure | WireProtocolError;
    const when = failure.when ?? "beforeHandshakeCompletes";
    this.#context.handleError(this.address, {
      address: this.address,
      type: error instanceof NetworkTimeout ? "timeout" : "network",
      when,
      duringAuthentication: error instanceof ConnectionFailure && error.duringAuthentication,
      // SDAM leaves connect failures to the monitor because an overloaded server may
      // cause them; it makes an exception for DNS failures, which overload cannot
      // cause. A refused connection cannot either (nothing listens there: the server
      // is down), and noticing that at once is what makes failover quick.
      dnsFailure: when === "beforeHandshakeCompletes" && isDefinitiveConnectFailure(failure),
      maxWireVersion,
      generation: failure.generation,
      message: stripAddress(failure),
    });
    // A connection that failed before its handshake never carried the operation.
    const sent = when === "afterHandshakeCompletes" && conn !== undefined;
    return this.#autoReconnect(error, stripAddress(failure), sent, failure.generation);
  }

  /** The error for an operation on a server that left the topology (its pool is closed). */
  #removed(cause?: Error): AutoReconnect {
    return new AutoReconnect("the server is no longer part of the topology; the operation was not sent", {
      address: this.address,
      cause,
    });
  }

  #autoReconnect(cause: Error, what: string, sent: boolean, generation: number | undefined): AutoReconnect {
    const outcome = sent ? "the operation may or may not have happened" : "the operation was not sent";
    const error = new AutoReconnect(`${what}; ${outcome}`, {
      address: this.address,
      cause,
      when: (cause as { when?: "beforeHandshakeCompletes" | "afterHandshakeCompletes" }).when,
      generation,
    });
    // The labels of the cause (the server's, or the pool's backpressure labels) stay on the error.
    if (cause instanceof MongoError) for (const label of cause.errorLabels) error.addErrorLabel(label);
    return error;
  }
}

/** A connect failure that only a server that is down or a name that does not resolve can cause. */
function isDefinitiveConnectFailure(error: Error): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || e.name === "ConnectionRefused") return true;
    // Deno reports a failed name lookup as a plain Error.
    if (/failed to lookup address information|getaddrinfo ENOTFOUND/.test(e.message)) return true;
  }
  return false;
}

/** The error's message without the "<address>: " prefix that network errors carry. */
function stripAddress(error: ConnectionFailure | WireProtocolError): string {
  const address = error.address;
  const message = error.message;
  if (address !== undefined && message.startsWith(`${address}: `)) return message.slice(address.length + 2);
  return message;
}
