/**
 * The options of {@linkcode ClientBase} (and so of `Connection` and
 * `ReplicaSetConnection`), of `connect()` and `listDatabases()`, and what
 * `listDatabases()` returns.
 *
 * @module
 */

import type { ClientSession } from "./session.ts";
import type { Document } from "../bson/mod.ts";
import type { ClientOptions } from "../topology/options.ts";
import type { ReadPreferenceLike } from "../topology/read_preference.ts";
import type { ReadConcern } from "./read_concern.ts";
import type { WriteConcern } from "./write_concern.ts";
import type { SocketFactory } from "../net/socket.ts";

/**
 * Options of {@linkcode Connection} and {@linkcode ReplicaSetConnection}:
 * every URI option of the MongoDB URI Options specification by its camelCase
 * name (they override the same options in a `mongodb://` seed string), plus
 * a richer read preference, a write concern object, and PyMongo's
 * `slaveOk`.
 *
 * @example
 * ```ts
 * import { type ClientConnectionOptions, ReadPreference } from "@zerodep/mongo";
 *
 * const options: ClientConnectionOptions = {
 *   replicaSet: "foo",
 *   readPreference: ReadPreference.SECONDARY,
 *   writeConcern: { w: "majority", wtimeout: 5000 },
 *   serverSelectionTimeoutMS: 5000,
 * };
 * ```
 */
export interface ClientConnectionOptions extends Omit<ClientOptions, "readPreference"> {
  /**
   * Default read preference: a {@linkcode ReadPreference} (e.g. the guide's
   * `ReadPreference.SECONDARY`), a modern mode string (`"secondary"` never
   * reads the primary), a PyMongo 2.1 name (`"SECONDARY_ONLY"`), or
   * `{mode, tags, maxStalenessSeconds}`. Default primary.
   */
  readonly readPreference?: ReadPreferenceLike;
  /** Default write concern; overrides `w`, `journal` and `wTimeoutMS`. */
  readonly writeConcern?: WriteConcern;
  /** Default read concern, e.g. `{ level: "majority" }`; overrides `readConcernLevel`. */
  readonly readConcern?: ReadConcern;
  /**
   * PyMongo's `slave_okay`: reads may go to a secondary. It makes the
   * default read preference `SECONDARY` (secondaryPreferred) unless
   * `readPreference` is given. A direct connection reads from whatever
   * member it is connected to in any case (the server-selection rules for a
   * Single topology), so there it only changes what is sent with reads.
   */
  readonly slaveOk?: boolean;
  /** The modern name of `slaveOk`. */
  readonly secondaryOk?: boolean;
  /** Receives warnings about options (unknown names, deprecated aliases); default `console.warn`. */
  readonly onWarning?: (message: string) => void;
  /**
   * The user to authenticate as (SCRAM-SHA-256 or SCRAM-SHA-1, negotiated
   * unless `authMechanism` names one), in the database `authSource` (default:
   * the connection string's database, else `admin`). Overrides the
   * connection string's `user:password@`.
   */
  readonly auth?: { readonly username?: string; readonly password?: string };
  /**
   * Opens the byte stream of every connection, pooled and monitoring
   * (default: the runtime's own sockets, TLS included). Bring a transport this
   * driver does not know; it receives the host, port, TLS settings,
   * `connectTimeoutMS` and `signal` the driver would have used. Cannot be
   * combined with `proxyHost`.
   */
  readonly socketFactory?: SocketFactory;
}

/**
 * Options of `connect()`.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@zerodep/mongo";
 *
 * const options: ConnectOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface ConnectOptions {
  /** Gives up waiting; `connect()` then rejects with `signal.reason` (the client stays usable). */
  readonly signal?: AbortSignal;
}

/**
 * Options of {@linkcode ClientBase.listDatabases}.
 *
 * @example
 * ```ts
 * import type { ListDatabasesOptions } from "@zerodep/mongo";
 *
 * const options: ListDatabasesOptions = { nameOnly: true, filter: { name: /^app/ } };
 * ```
 */
export interface ListDatabasesOptions {
  /** Only the databases matching this filter (on the fields of {@linkcode DatabaseInfo}). */
  readonly filter?: Document;
  /** Return names only (cheaper: no size computation). */
  readonly nameOnly?: boolean;
  /** Only the databases the user may act on (for users without listDatabases). */
  readonly authorizedDatabases?: boolean;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the client's `timeoutMS`). */
  readonly timeoutMS?: number;
}

/**
 * One database as listed by {@linkcode ClientBase.listDatabases}.
 *
 * @example
 * ```ts
 * import type { DatabaseInfo } from "@zerodep/mongo";
 *
 * const info: DatabaseInfo = { name: "test", sizeOnDisk: 8192, empty: false };
 * ```
 */
export interface DatabaseInfo {
  /** The database name. */
  name: string;
  /** Size on disk in bytes (absent with `nameOnly`). */
  sizeOnDisk?: number | bigint;
  /** Whether it holds no data (absent with `nameOnly`). */
  empty?: boolean;
  /** Other fields the server sends. */
  [key: string]: unknown;
}
