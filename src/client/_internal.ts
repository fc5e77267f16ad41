// Internal plumbing of the client layer: the shapes of the live topology it
// drives (structural, so unit tests can hand in a fake), which errors make a
// read retryable (the runner, execute.ts, applies it), and small checks shared
// by Database, Collection and Cursor. Nothing here is part of the public API.

import type { EventSink } from "../net/monitoring.ts";
import type { TopologyEventInitMap } from "../topology/sdam_events.ts";
import { parseAddress } from "../address.ts";
import { describeValue } from "../describe.ts";
import { RETRYABLE_READ_CODES } from "../error_codes.ts";
import {
  AutoReconnect,
  ConfigurationError,
  ConnectionFailure,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  PoolClearedError,
  OptionTypeError,
  PoolClosedError,
  WaitQueueTimeoutError,
  WireProtocolError,
  WriteConcernError,
} from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import type { Connection as WireConnection } from "../net/connection.ts";
import type { Credential } from "../net/auth.ts";
import type { SocketFactory } from "../net/socket.ts";
import type { DocumentSequence } from "../wire/mod.ts";
import type { HostAddress } from "../topology/connection_string.ts";
import type { ResolvedClientOptions } from "../topology/options.ts";
import type { ReadPreference } from "../topology/read_preference.ts";
import type { ServerDescription } from "../topology/server_description.ts";
import type { ServerSelector } from "../topology/server_selection.ts";
import type { TopologyDescription } from "../topology/topology_description.ts";
import type { ReadConcern } from "./read_concern.ts";
import type { WriteConcern } from "./write_concern.ts";
import type { ServerSessionPool } from "./server_session_pool.ts";
import type { ClusterTime } from "./session.ts";

/** What the client uses of a pooled connection (getMore, killCursors, legacy OP_QUERY, batching). */
export type WireConnectionLike = Pick<
  WireConnection,
  "address" | "command" | "query" | "getMore" | "killCursors" | "maxWireVersion" | "maxWriteBatchSize" | "maxMessageSizeBytes"
>;

/** Options of a command sent through a selected server (the topology layer's contract). */
export interface ServerCommandOptionsLike {
  operation: "read" | "write";
  readPreference?: ReadPreference;
  signal?: AbortSignal;
  sequences?: DocumentSequence[];
  socketTimeoutMS?: number;
  /** Called once a connection is checked out, just before the command is written; may throw to not send it. */
  onConnection?: (conn: WireConnectionLike) => void;
  /** An unacknowledged write: no reply awaited (OP_MSG moreToCome). */
  moreToCome?: boolean;
}

/** A selected server (src/topology/server.ts's `Server`, or a test fake). */
export interface ServerLike {
  readonly address: string;
  readonly description: ServerDescription;
  command(db: string, cmd: Document, options: ServerCommandOptionsLike): Promise<Document>;
  withConnection<T>(fn: (conn: WireConnectionLike) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** The live topology (src/topology/topology.ts's `Topology`, or a test fake). */
export interface TopologyLike {
  connect(options?: { signal?: AbortSignal; readPreference?: ReadPreference }): Promise<void>;
  readonly description: TopologyDescription;
  selectServer(
    selector: ServerSelector,
    options?: { signal?: AbortSignal; deprioritized?: readonly string[] },
  ): Promise<ServerLike>;
  close(): Promise<void>;
  readonly isClosed: boolean;
  /** Calls `listener` after every change of the description; returns the unsubscribe function (optional in fakes). */
  onDescriptionChanged?(listener: (previous: TopologyDescription, next: TopologyDescription) => void): () => void;
}

/** Builds the topology of a client; tests pass their own through {@link TOPOLOGY_FACTORY}. */
export type TopologyFactory = (
  init: {
    seeds: HostAddress[];
    options: ResolvedClientOptions;
    credential?: Credential;
    socketFactory?: SocketFactory;
    /** The client's monitoring events (see `monitoring.ts`). */
    events?: EventSink<TopologyEventInitMap>;
  },
) => TopologyLike;

/**
 * Key of a hidden client option (not part of the documented options): a
 * factory for the topology. Unit tests use it to drive the client with a
 * fake topology that records commands.
 */
export const TOPOLOGY_FACTORY: unique symbol = Symbol("zerodep.mongo.topologyFactory");

/**
 * Key of a hidden client option: the DNS resolver of a `mongodb+srv://`
 * client (default: the runtime's). Tests point it at their own DNS server.
 */
export const DNS_RESOLVER: unique symbol = Symbol("zerodep.mongo.dnsResolver");

/** What Database, Collection and Cursor need of their client. */
export interface ClientContext {
  /** The topology's current description (every seed Unknown before the first connect). */
  readonly description: TopologyDescription;
  /**
   * The live topology, discovery started (operations before `connect()`
   * connect lazily; the first one loads the network stack).
   */
  start(): Promise<TopologyLike>;
  /** Throws when the client is closed. */
  ensureOpen(): void;
  readonly closed: boolean;
  readonly retryReads: boolean;
  /** Whether retryable writes are on (`retryWrites`, default true). */
  readonly retryWrites: boolean;
  /** The client's pool of server sessions (see `server_session_pool.ts`). */
  readonly sessionPool: ServerSessionPool;
  /** The highest `$clusterTime` received from a server (not from SDAM), if any. */
  readonly clusterTime: ClusterTime | undefined;
  /** Keeps `clusterTime` if it is later than the client's. */
  advanceClusterTime(clusterTime: ClusterTime): void;
  /** The client object (`Connection` or `ReplicaSetConnection`) the context belongs to. */
  readonly client: object;
  readonly readPreference: ReadPreference;
  readonly writeConcern: WriteConcern;
  /** The client's read concern (`{}`: the server's default). */
  readonly readConcern: ReadConcern;
  /** The client's `timeoutMS` (undefined: not set; 0: no limit). */
  readonly timeoutMS: number | undefined;
  /** The client's printed form, for `Database.toString()`. */
  describe(): string;
}

const contexts = new WeakMap<object, ClientContext>();

/** Registers the context of a client object (called by the client's constructor). */
export function registerContext(client: object, ctx: ClientContext): void {
  contexts.set(client, ctx);
}

/** The context of a client object. */
export function contextOf(client: object): ClientContext {
  const ctx = contexts.get(client);
  if (ctx === undefined) {
    throw new ConfigurationError("expected a Connection or ReplicaSetConnection");
  }
  return ctx;
}


/**
 * Whether a failed write that carried a `txnNumber` may be retried (the
 * retryable writes specification): a network error, or a server error with
 * the `RetryableWriteError` label. Below MongoDB 4.4 (wire 9) the server adds
 * no labels and the driver labels the retryable codes itself; a network error
 * is labelled whatever the server. Labels `error` as it decides.
 */
export function isRetryableWriteError(error: unknown, wireVersion: number): boolean {
  if (error instanceof PoolClearedError) {
    error.addErrorLabel("RetryableWriteError");
    return true;
  }
  if (error instanceof OperationFailure) {
    if (error.hasErrorLabel("RetryableWriteError")) return true;
    if (wireVersion >= 9) return false;
    // A pre-4.4 mongos's writeConcernError code says nothing of retryability (the specification).
    if (error instanceof WriteConcernError && error.fromMongos) return false;
    const code = error.code;
    if (code === undefined || !RETRYABLE_READ_CODES.has(code) || code === ReadConcernMajorityNotAvailableYet) return false;
    error.addErrorLabel("RetryableWriteError");
    return true;
  }
  // A state-change reply ("not primary", "shutting down") reaches the client as an AutoReconnect whose
  // cause is the server's error: the server's labels (or, below 4.4, its code) decide, as for any reply.
  if (error instanceof AutoReconnect && error.cause instanceof OperationFailure) {
    const retryable = isRetryableWriteError(error.cause, wireVersion);
    for (const label of error.cause.errorLabels) error.addErrorLabel(label);
    return retryable;
  }
  if (!isRetryableReadError(error)) return false;
  if (error instanceof MongoError) error.addErrorLabel("RetryableWriteError");
  return true;
}

/** ReadConcernMajorityNotAvailableYet: retryable for reads, not for writes. */
const ReadConcernMajorityNotAvailableYet = 134;

/** Whether a failed read may be retried once on another server. */
export function isRetryableReadError(error: unknown): boolean {
  if (error instanceof AutoReconnect || error instanceof NetworkTimeout) return true;
  if (error instanceof PoolClosedError || error instanceof WaitQueueTimeoutError) return false;
  if (error instanceof ConnectionFailure) return error.when !== undefined;
  if (error instanceof WireProtocolError) return error.address !== undefined;
  if (error instanceof OperationFailure) {
    return (error.code !== undefined && RETRYABLE_READ_CODES.has(error.code)) ||
      error.hasErrorLabel("RetryableError");
  }
  return false;
}

/** Splits a server address into `[host, port]`; a Unix socket path has port 0. */
export function splitAddress(address: string): [string, number] {
  const parsed = parseAddress(address);
  return "path" in parsed ? [parsed.path, 0] : [parsed.host, parsed.port];
}

/** Describes a value for an error message (the bottom layer's `describeValue`). */
export const show: (value: unknown) => string = describeValue;

/** Whether `value` is a document (a non-null, non-array object). */
export function isDocument(value: unknown): value is Document {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * The error for an option or argument of the wrong JavaScript type: an
 * {@linkcode OptionTypeError} (a `TypeError`), `where` naming the call.
 */
export function typeError(option: string, expected: string, value: unknown, where?: string): OptionTypeError {
  return new OptionTypeError(option, expected, show(value), { where });
}

/** Throws an OptionTypeError unless `value` is undefined or a boolean. */
export function checkBoolean(value: unknown, what: string, where?: string): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") throw typeError(what, "a boolean", value, where);
  return value;
}

/** Throws an OptionTypeError unless `value` is a document. */
export function checkDocument(value: unknown, what: string): Document {
  if (!isDocument(value)) throw typeError(what, "a document (a plain object)", value);
  return value;
}

/** Throws unless `value` is undefined or an object (an options argument). */
export function checkOptions<T extends object>(value: T | undefined, what: string): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw typeError(what, "an object", value);
  return value;
}

/** Throws unless `value` is undefined or an integer >= `min` (an OptionTypeError when it is not a number). */
export function checkInt(value: unknown, what: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw typeError(what, `an integer >= ${min}`, value);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${what} must be an integer >= ${min}, got ${show(value)}`);
  }
  return value;
}

/** Throws unless `signal` is undefined or an AbortSignal. */
/**
 * `promise`, or `signal.reason` as soon as the signal aborts (the work behind
 * `promise` goes on; its outcome is then ignored).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw typeError("signal", "an AbortSignal", signal);
  return signal;
}

/** A reply field that should be a count: int32, int64 or double. */
export function count(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return 0;
}

/** A cursor id from a reply (int64 comes back as bigint; tolerate an int32). */
export function cursorId(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return 0n;
}

/** The error of an operation on a closed client. */
export function closedError(label: string): MongoError {
  return new MongoError(`${label} is closed; create a new one to reconnect`);
}
