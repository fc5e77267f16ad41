/**
 * Every error class of the driver. This file imports nothing, so each layer
 * (bson, wire, net, topology, client) can throw the driver's own types.
 *
 * @module
 */

/**
 * The base class of every error this driver throws.
 *
 * @example Catch any driver error
 * ```ts
 * import { MongoError } from "@zerodep/mongo";
 *
 * try {
 *   throw new MongoError("boom");
 * } catch (e) {
 *   if (e instanceof MongoError) console.log(e.name, e.message);
 * }
 * ```
 */
export class MongoError extends Error {
  #errorLabels: string[] = [];
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * The error labels: those of the server's reply (an {@linkcode OperationFailure})
   * and those the driver added (`"TransientTransactionError"` on a network
   * error inside a transaction, `"UnknownTransactionCommitResult"` on a
   * commit whose outcome is unknown, ...). Empty when none.
   */
  get errorLabels(): readonly string[] {
    return this.#errorLabels;
  }

  /** Whether the error carries `label` among its error labels. */
  hasErrorLabel(label: string): boolean {
    return this.#errorLabels.includes(label);
  }

  /** Adds `label` to the error labels (once). The driver calls it; applications may too. */
  addErrorLabel(label: string): void {
    if (!this.#errorLabels.includes(label)) this.#errorLabels = [...this.#errorLabels, label];
  }
}

/**
 * Bytes that are not valid BSON, or a value that cannot be encoded as BSON.
 * `offset` is the byte offset in the input where decoding failed (when known).
 *
 * @example
 * ```ts
 * import { BSONError, decode } from "@zerodep/mongo";
 *
 * try {
 *   decode(new Uint8Array([5, 0, 0, 0]));
 * } catch (e) {
 *   if (e instanceof BSONError) console.log(e.offset, e.message);
 * }
 * ```
 */
export class BSONError extends MongoError {
  /** Byte offset in the input where the problem was found, if known. */
  readonly offset: number | undefined;
  /** Creates the error; `options.offset` is the byte offset of the problem. */
  constructor(message: string, options?: ErrorOptions & { offset?: number }) {
    super(options?.offset === undefined ? message : `${message} (at offset ${options.offset})`, options);
    this.offset = options?.offset;
  }
}

/**
 * A connection string, seed list or option that is malformed or of the wrong type.
 * The message names the part that is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigurationError } from "@zerodep/mongo";
 *
 * const e = new ConfigurationError("maxPoolSize must be a non-negative integer, got \"x\"");
 * assert.equal(e.name, "ConfigurationError");
 * ```
 */
export class ConfigurationError extends MongoError {}

/**
 * A session was misused, detected before any I/O: it has ended
 * (`endSession()`), its client is closed, it belongs to another client, or
 * the operation cannot run in it (an unacknowledged write with an explicit
 * session; a snapshot session on a server older than 5.0; an explicit
 * session on a server without sessions).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MongoError, SessionError } from "@zerodep/mongo";
 *
 * const e = new SessionError("this session has ended (endSession() was called)");
 * assert.equal(e instanceof MongoError, true);
 * ```
 */
export class SessionError extends MongoError {}

/**
 * An option given in code whose value is of the wrong JavaScript type (a
 * string for a number, an object for a boolean...), thrown before any I/O.
 * A `TypeError`, not a {@linkcode MongoError}: the call is wrong, whatever the
 * server. An unknown option name, or a value of the right type that is out of
 * range or not one of the allowed values, is a {@linkcode ConfigurationError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OptionTypeError } from "@zerodep/mongo";
 *
 * const e = new OptionTypeError("maxPoolSize", "a non-negative integer", '"10" (a string)', { where: "client options" });
 * assert.ok(e instanceof TypeError);
 * assert.equal(e.option, "maxPoolSize");
 * assert.equal(e.message, 'client options: maxPoolSize must be a non-negative integer, got "10" (a string)');
 * ```
 */
export class OptionTypeError extends TypeError {
  /** The option's name (a path such as `writeConcern.j` for a nested one). */
  readonly option: string;
  /** What the option takes, in words (`a boolean`, `an AbortSignal`). */
  readonly expected: string;
  /** What was given, in words (`"10" (a string)`). */
  readonly given: string;
  /** Creates the error; `options.where` names the call or options object (`client options`, `find options`). */
  constructor(option: string, expected: string, given: string, options?: ErrorOptions & { where?: string }) {
    const what = `${option} must be ${expected}, got ${given}`;
    super(options?.where === undefined ? what : `${options.where}: ${what}`, options);
    this.name = "OptionTypeError";
    this.option = option;
    this.expected = expected;
    this.given = given;
  }
}

/**
 * No server suitable for the operation was found within `serverSelectionTimeoutMS`.
 * The message says what was wanted and what the topology looked like.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerSelectionError } from "@zerodep/mongo";
 *
 * const e = new ServerSelectionError("no secondary available");
 * assert.equal(e instanceof Error, true);
 * ```
 */
export class ServerSelectionError extends MongoError {}

/**
 * What an operation was waiting for when its `timeoutMS` ran out: server
 * selection, a pooled connection (checkout), or a server's reply; or
 * `"withTransaction"`: its retries passed their limit (120 s).
 *
 * @example
 * ```ts
 * import type { TimeoutPhase } from "@zerodep/mongo";
 *
 * const phase: TimeoutPhase = "reply";
 * ```
 */
export type TimeoutPhase = "serverSelection" | "connectionCheckout" | "reply" | "withTransaction";

/**
 * Options of {@linkcode OperationTimeoutError}.
 *
 * @example
 * ```ts
 * import type { OperationTimeoutErrorOptions } from "@zerodep/mongo";
 *
 * const o: OperationTimeoutErrorOptions = { timeoutMS: 500, phase: "reply", address: "db1:27017" };
 * ```
 */
export interface OperationTimeoutErrorOptions extends ErrorOptions {
  /** The operation's `timeoutMS`. */
  timeoutMS: number;
  /** What it was waiting for when the deadline passed. */
  phase: TimeoutPhase;
  /** The server it was waiting on (checkout and reply). */
  address?: string;
}

/**
 * An operation ran out of its `timeoutMS` (the client-side operations
 * timeout): its one deadline covers server selection, connection checkout,
 * every round trip and every retry. The message names what it was waiting
 * for; `cause` holds the underlying error when there was one (a
 * `ServerSelectionError`, or the server's `MaxTimeMSExpired` reply).
 *
 * It is not a `ConnectionFailure` (so not an `AutoReconnect` or a
 * `NetworkTimeout`): nothing is wrong with the server or the network, and a
 * timed-out operation is never retried. Raised only when `timeoutMS` is set
 * (at the client, database, collection or operation); without it the
 * existing errors (`ServerSelectionError`, `NetworkTimeout`, ...) are raised
 * as before. `session.withTransaction()` also raises it (`phase:
 * "withTransaction"`) when its retries pass their limit, with the last error
 * as `cause` and its error labels.
 *
 * @example
 * ```ts
 * import { MongoError, OperationTimeoutError } from "@zerodep/mongo";
 *
 * const e = new OperationTimeoutError("find: timeoutMS (500 ms) expired waiting for the reply from db1:27017", {
 *   timeoutMS: 500,
 *   phase: "reply",
 *   address: "db1:27017",
 * });
 * console.log(e instanceof MongoError, e.phase); // true "reply"
 * ```
 */
export class OperationTimeoutError extends MongoError {
  /** The operation's `timeoutMS`. */
  readonly timeoutMS: number;
  /** What the operation was waiting for when the deadline passed. */
  readonly phase: TimeoutPhase;
  /** The server it was waiting on (connection checkout and reply), if any. */
  readonly address: string | undefined;
  /** Creates the error. */
  constructor(message: string, options: OperationTimeoutErrorOptions) {
    super(message, options);
    this.timeoutMS = options.timeoutMS;
    this.phase = options.phase;
    this.address = options.address;
  }
}

/**
 * A transaction API called in the wrong state, or an operation a transaction
 * does not allow, detected before any I/O (the session's transaction state is
 * unchanged): `startTransaction()` inside a transaction ("Transaction already
 * in progress"), `commitTransaction()` / `abortTransaction()` without one ("No
 * transaction started"), an abort after a commit, a second abort, a read with
 * a read preference other than primary in a transaction, a `readConcern` or
 * `writeConcern` given on an operation in a transaction, or an unacknowledged
 * transaction write concern. A `SessionError` (a session misused).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionError, TransactionError } from "@zerodep/mongo";
 *
 * const e = new TransactionError("No transaction started");
 * assert.equal(e instanceof SessionError, true);
 * ```
 */
export class TransactionError extends SessionError {}

/**
 * A connection to a server could not be made, or an open one was lost: refused,
 * unknown host, TLS failure, reset by the peer, or used after it was closed.
 * `address` names the server (`host:port`, `[ipv6]:port` or a Unix socket path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFailure } from "@zerodep/mongo";
 *
 * const e = new ConnectionFailure("connection refused", { address: "127.0.0.1:27017" });
 * assert.equal(e.address, "127.0.0.1:27017");
 * assert.equal(e.message, "127.0.0.1:27017: connection refused");
 * ```
 */
export class ConnectionFailure extends MongoError {
  /** The server the connection was for: `host:port`, `[ipv6]:port` or a Unix socket path. */
  readonly address: string;
  /**
   * Set by a `Connection` on every error that closed it: whether the handshake
   * had completed. `undefined` on errors that did not come from a connection
   * (a bare socket, a pool that timed out waiting). See {@linkcode HandshakePhase}.
   */
  when: HandshakePhase | undefined;
  /** Set with `when`: the pool generation of the connection that failed. */
  generation: number | undefined;
  /** Set by a `Connection` when the failure came while it was authenticating. */
  duringAuthentication: boolean;
  /** Creates the error; the message is prefixed with `options.address`. */
  constructor(message: string, options: ErrorOptions & NetworkErrorContext) {
    super(`${options.address}: ${message}`, options);
    this.address = options.address;
    this.when = options.when;
    this.generation = options.generation;
    this.duringAuthentication = options.duringAuthentication ?? false;
  }
}

/**
 * A network operation took longer than its configured limit: connecting
 * (`connectTimeoutMS`, TLS handshake included) or waiting on I/O
 * (`socketTimeoutMS`). The connection it happened on is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFailure, NetworkTimeout } from "@zerodep/mongo";
 *
 * const e = new NetworkTimeout("connect timed out after 100 ms", { address: "db1:27017" });
 * assert.equal(e instanceof ConnectionFailure, true);
 * ```
 */
export class NetworkTimeout extends ConnectionFailure {}

/**
 * A wire-protocol message that cannot be framed or parsed: a length that lies
 * or exceeds `maxMessageSizeBytes`, a truncated or garbled section, a checksum
 * mismatch, an unknown opcode or required flag bit, or a document inside a
 * frame that is not valid BSON (then `cause` holds the `BSONError`). The
 * connection the bytes came from is out of step with its peer and must be
 * closed. Also thrown for a message that cannot be encoded as asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MongoError, WireProtocolError } from "@zerodep/mongo";
 *
 * const e = new WireProtocolError("messageLength 12 is below the 16-byte header");
 * assert.equal(e instanceof MongoError, true);
 * assert.equal(e.name, "WireProtocolError");
 * ```
 */
export class WireProtocolError extends MongoError {
  /**
   * Set by a `Connection` when the bad bytes came from the server (the
   * connection is then closed): its address. `undefined` for a message that
   * could not be encoded, which leaves the connection usable.
   */
  address: string | undefined;
  /** Set with `address`: whether the connection's handshake had completed. */
  when: HandshakePhase | undefined;
  /** Set with `address`: the pool generation of the connection. */
  generation: number | undefined;
  /** Creates the error; `options` may carry where it happened. */
  constructor(message: string, options?: ErrorOptions & Partial<NetworkErrorContext>) {
    super(message, options);
    this.address = options?.address;
    this.when = options?.when;
    this.generation = options?.generation;
  }
}

// ---- Connection, command and pool errors (src/net) --------------------------

/**
 * When a network error happened in a connection's life, in the words of the
 * SDAM specification: before the handshake completed (connect, TLS, the
 * `isMaster`/`hello` exchange) or after it. SDAM treats the two differently:
 * a failure before the handshake changes nothing, one after it (that is not a
 * timeout) marks the server Unknown and clears its pool.
 *
 * @example
 * ```ts
 * import type { HandshakePhase } from "@zerodep/mongo";
 *
 * const phase: HandshakePhase = "afterHandshakeCompletes";
 * ```
 */
export type HandshakePhase = "beforeHandshakeCompletes" | "afterHandshakeCompletes";

/**
 * Where a network error happened: the options of {@linkcode ConnectionFailure}
 * and the fields every network error from a `Connection` carries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFailure, type NetworkErrorContext } from "@zerodep/mongo";
 *
 * const ctx: NetworkErrorContext = { address: "db1:27017", when: "afterHandshakeCompletes", generation: 0 };
 * assert.equal(new ConnectionFailure("reset by peer", ctx).when, "afterHandshakeCompletes");
 * ```
 */
export interface NetworkErrorContext {
  /** The server: `host:port`, `[ipv6]:port` or a Unix socket path. */
  address: string;
  /** Whether the connection had completed its handshake, when known. */
  when?: HandshakePhase;
  /** The pool generation of the connection, when known. */
  generation?: number;
  /** Whether the connection was authenticating (its handshake had not completed). */
  duringAuthentication?: boolean;
}

/**
 * The failover error of the client layer, named after PyMongo's: the server an
 * operation was sent to could not be reached or went away (a closed socket, a
 * timeout, a reply that made no sense), the driver has marked it for a new
 * check, and a retry may reach the new primary.
 *
 * The net layer never throws it: its network errors are plain
 * {@linkcode ConnectionFailure} / {@linkcode NetworkTimeout} /
 * {@linkcode WireProtocolError} with `when` and `generation` set. The client
 * layer hands those to SDAM (`type: "network"`, or `"timeout"` for
 * `NetworkTimeout`) and then throws an `AutoReconnect` with the original
 * error as `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AutoReconnect, ConnectionFailure } from "@zerodep/mongo";
 *
 * const e = new AutoReconnect("primary went away", { address: "db1:27017" });
 * assert.equal(e instanceof ConnectionFailure, true);
 * ```
 */
export class AutoReconnect extends ConnectionFailure {}

/**
 * No connection of a pool became free within `waitQueueTimeoutMS` (PyMongo's
 * name). The server itself may be fine: this is not a network error, so it
 * carries no `when` and must not mark the server Unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFailure, WaitQueueTimeoutError } from "@zerodep/mongo";
 *
 * const e = new WaitQueueTimeoutError("all 10 connections busy for 100 ms", { address: "db1:27017" });
 * assert.equal(e instanceof ConnectionFailure, true);
 * assert.equal(e.when, undefined);
 * ```
 */
export class WaitQueueTimeoutError extends ConnectionFailure {}

/**
 * A connection was asked of a pool that has been closed, or a wait for one was
 * cut short by `close()`. Not a network error (no `when`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PoolClosedError } from "@zerodep/mongo";
 *
 * const e = new PoolClosedError("the pool was closed", { address: "db1:27017" });
 * assert.equal(e.name, "PoolClosedError");
 * ```
 */
export class PoolClosedError extends ConnectionFailure {}

/**
 * A connection was asked of a paused pool: one created with `paused: true`
 * before its `ready()`, or one cleared after an error until the server is
 * checked again (the CMAP specification's PoolClearedError). Retrying later
 * is the remedy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PoolClearedError } from "@zerodep/mongo";
 *
 * const e = new PoolClearedError("the pool is paused", { address: "db1:27017" });
 * assert.equal(e.name, "PoolClearedError");
 * ```
 */
export class PoolClearedError extends ConnectionFailure {}

/**
 * Options of {@linkcode OperationFailure}: the parts of the server's reply.
 *
 * @example
 * ```ts
 * import type { OperationFailureOptions } from "@zerodep/mongo";
 *
 * const o: OperationFailureOptions = { code: 26, codeName: "NamespaceNotFound", response: { ok: 0, code: 26 } };
 * ```
 */
export interface OperationFailureOptions extends ErrorOptions {
  /** The server's numeric error code, if it sent one. */
  code?: number;
  /** The server's name for the code (e.g. `"NotWritablePrimary"`), if it sent one. */
  codeName?: string;
  /** The error labels (e.g. `"RetryableWriteError"`), default none. */
  errorLabels?: readonly string[];
  /** The whole reply document the error was read from. */
  response: Readonly<Record<string, unknown>>;
}

/**
 * The server answered a command with an error: `ok: 0` in the reply, or the
 * QueryFailure flag (`$err`) of a legacy OP_REPLY. The connection is fine and
 * stays in use. `response` is the whole reply, so SDAM can look at it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OperationFailure } from "@zerodep/mongo";
 *
 * const e = new OperationFailure("ns not found", { code: 26, codeName: "NamespaceNotFound", response: { ok: 0 } });
 * assert.equal(e.code, 26);
 * assert.equal(e.codeName, "NamespaceNotFound");
 * assert.equal(e.errmsg, "ns not found");
 * ```
 */
export class OperationFailure extends MongoError {
  /** The server's error code, if any. */
  readonly code: number | undefined;
  /** The server's name for `code`, if any. */
  readonly codeName: string | undefined;
  /** The server's error message, as sent. */
  readonly errmsg: string;
  /** The whole reply document. */
  readonly response: Readonly<Record<string, unknown>>;
  /** Creates the error; the message adds the code and code name to `errmsg`. */
  constructor(errmsg: string, options: OperationFailureOptions) {
    const tag = options.code === undefined
      ? ""
      : ` (code ${options.code}${options.codeName === undefined ? "" : `, ${options.codeName}`})`;
    super(`${errmsg}${tag}`, options);
    this.errmsg = errmsg;
    this.code = options.code;
    this.codeName = options.codeName;
    for (const label of options.errorLabels ?? []) this.addErrorLabel(label);
    this.response = options.response;
  }
}

/**
 * A write was applied but its write concern was not satisfied: an `ok: 1`
 * reply with a `writeConcernError`. `code`, `codeName` and `errmsg` come from
 * the `writeConcernError` document; `response` and `result` are the whole
 * reply (`result` names it as the write's outcome: `n`, `nModified`, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OperationFailure, WriteConcernError } from "@zerodep/mongo";
 *
 * const reply = { ok: 1, n: 1, writeConcernError: { code: 64, codeName: "WriteConcernFailed", errmsg: "timed out" } };
 * const e = new WriteConcernError("timed out", { code: 64, codeName: "WriteConcernFailed", response: reply });
 * assert.equal(e instanceof OperationFailure, true);
 * assert.equal(e.result.n, 1);
 * ```
 */
export class WriteConcernError extends OperationFailure {
  /** The whole reply: the write's result (the same object as `response`). */
  readonly result: Readonly<Record<string, unknown>>;
  /**
   * Whether a mongos sent it (its handshake said `msg: "isdbgrid"`): below
   * MongoDB 4.4 the driver labels no such error retryable by its code (the
   * retryable writes specification).
   */
  readonly fromMongos: boolean;
  /** Creates the error; see {@linkcode OperationFailure}; `fromMongos` defaults to false. */
  constructor(errmsg: string, options: OperationFailureOptions & { fromMongos?: boolean }) {
    super(errmsg, options);
    this.result = options.response;
    this.fromMongos = options.fromMongos === true;
  }
}

// ---- Write errors (src/client) ----------------------------------------------

/**
 * One failed write of a write command: which statement (`index`, counted in
 * the whole `insertMany`, not in its batch), the server's `code` and `errmsg`,
 * and `errInfo` when the server sent one (document validation details).
 *
 * @example
 * ```ts
 * import type { WriteErrorDetail } from "@zerodep/mongo";
 *
 * const d: WriteErrorDetail = { index: 1, code: 11000, errmsg: "E11000 duplicate key error" };
 * ```
 */
export interface WriteErrorDetail {
  /** Position of the failed statement among the statements of the operation. */
  readonly index: number;
  /** The server's error code (11000 for a duplicate key). */
  readonly code: number | undefined;
  /** The server's name for `code`, when it sent one. */
  readonly codeName?: string;
  /** The server's message. */
  readonly errmsg: string;
  /** Extra detail from the server, if any. */
  readonly errInfo?: Readonly<Record<string, unknown>>;
}

/**
 * Options of {@linkcode WriteError}.
 *
 * @example
 * ```ts
 * import type { WriteErrorOptions } from "@zerodep/mongo";
 *
 * const o: WriteErrorOptions = {
 *   writeErrors: [{ index: 0, code: 11000, errmsg: "E11000 duplicate key error" }],
 *   result: { insertedCount: 0 },
 *   response: { ok: 1, n: 0 },
 * };
 * ```
 */
export interface WriteErrorOptions extends ErrorOptions {
  /** Every failed statement, in order. */
  writeErrors: readonly WriteErrorDetail[];
  /** The `writeConcernError` of the last reply, when there was one. */
  writeConcernError?: Readonly<Record<string, unknown>>;
  /** What the operation did achieve (e.g. `insertedCount`, `matchedCount`). */
  result: Readonly<Record<string, unknown>>;
  /** The last reply the server sent. */
  response: Readonly<Record<string, unknown>>;
  /** Error labels of that reply. */
  errorLabels?: readonly string[];
  /**
   * The command failure (`ok: 0`) that stopped the operation after some of
   * its writes ran: the error's `code`, `codeName`, `errmsg` and labels are
   * then this failure's (and it is the `cause`).
   */
  failure?: OperationFailure;
}

/**
 * A write command was accepted but some of its statements failed (a
 * duplicate key, a document that fails validation, ...): the reply's
 * `writeErrors`, the equivalent of other drivers' BulkWriteError. `code`,
 * `codeName` and `errmsg` are those of the first failed statement;
 * `writeErrors` lists them all; `result` says what was done anyway (an
 * ordered `insertMany` stops at the first failure, an unordered one goes on).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OperationFailure, WriteError } from "@zerodep/mongo";
 *
 * const e = new WriteError({
 *   writeErrors: [{ index: 1, code: 11000, errmsg: "E11000 duplicate key error" }],
 *   result: { insertedCount: 1 },
 *   response: { ok: 1, n: 1 },
 * });
 * assert.equal(e instanceof OperationFailure, true);
 * assert.equal(e.code, 11000);
 * assert.equal(e.writeErrors.length, 1);
 * ```
 */
export class WriteError extends OperationFailure {
  /** Every failed statement, in order. */
  readonly writeErrors: readonly WriteErrorDetail[];
  /** The `writeConcernError` that came with them, if any. */
  readonly writeConcernError: Readonly<Record<string, unknown>> | undefined;
  /** What the operation achieved before or despite the failures. */
  readonly result: Readonly<Record<string, unknown>>;
  /** Creates the error from the failed statements and the partial result. */
  constructor(options: WriteErrorOptions) {
    const first = options.writeErrors[0];
    const more = options.writeErrors.length > 1 ? ` (and ${options.writeErrors.length - 1} more write errors)` : "";
    const failure = options.failure;
    super(
      failure !== undefined ? failure.errmsg : first === undefined ? "write failed" : `${first.errmsg}${more}`,
      failure !== undefined
        ? {
          code: failure.code,
          codeName: failure.codeName,
          errorLabels: [...failure.errorLabels, ...(options.errorLabels ?? [])],
          response: options.response,
          cause: options.cause ?? failure,
        }
        : {
          code: first?.code,
          codeName: first?.codeName,
          errorLabels: options.errorLabels,
          response: options.response,
          cause: options.cause,
        },
    );
    this.writeErrors = options.writeErrors;
    this.writeConcernError = options.writeConcernError;
    this.result = options.result;
  }
}

/**
 * What a `bulkWrite` (or an `insertMany`) did: counts by kind, and the `_id`
 * of every insert and upsert that happened, by its index in the caller's
 * list. On a {@linkcode BulkWriteError} it is the partial result: the writes
 * that failed, and those an ordered bulk write never sent, are not in it.
 *
 * @example
 * ```ts
 * import type { BulkWriteResult } from "@zerodep/mongo";
 *
 * const r: BulkWriteResult = {
 *   acknowledged: true, insertedCount: 1, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 1,
 *   insertedIds: { 0: 1 }, upsertedIds: { 2: 7 },
 * };
 * ```
 */
export type BulkWriteResult = {
  /** Whether the server acknowledged the writes (`false` with `w: 0`; the counts are then 0). */
  acknowledged: boolean;
  /** Documents inserted. */
  insertedCount: number;
  /** Documents matched by updates and replacements (upserts not counted). */
  matchedCount: number;
  /** Documents changed by updates and replacements. */
  modifiedCount: number;
  /** Documents deleted. */
  deletedCount: number;
  /** Documents inserted by upserts. */
  upsertedCount: number;
  /** The `_id` of each inserted document, by the index of its model in the caller's list. */
  insertedIds: Record<number, unknown>;
  /** The `_id` of each upserted document, by the index of its model in the caller's list. */
  upsertedIds: Record<number, unknown>;
};

/**
 * Options of {@linkcode BulkWriteError}.
 *
 * @example
 * ```ts
 * import type { BulkWriteErrorOptions } from "@zerodep/mongo";
 *
 * const o: BulkWriteErrorOptions = {
 *   writeErrors: [{ index: 1, code: 11000, errmsg: "E11000 duplicate key error" }],
 *   writeConcernErrors: [],
 *   result: {
 *     acknowledged: true, insertedCount: 1, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0,
 *     insertedIds: { 0: 1 }, upsertedIds: {},
 *   },
 *   response: { ok: 1, n: 0 },
 * };
 * ```
 */
export interface BulkWriteErrorOptions extends ErrorOptions {
  /** Every failed write, `index` counted in the caller's list of models. */
  writeErrors: readonly WriteErrorDetail[];
  /** The `writeConcernError` of every batch that had one, in order. */
  writeConcernErrors: readonly Readonly<Record<string, unknown>>[];
  /** What was done before and despite the failures. */
  result: BulkWriteResult;
  /** The last reply the server sent (with `failure`: the failure's reply). */
  response: Readonly<Record<string, unknown>>;
  /**
   * A command failure (`ok: 0`) that stopped the bulk write: the error's
   * `code`, `codeName`, `errmsg` and labels are then this failure's.
   */
  failure?: OperationFailure;
}

/**
 * A bulk write (`bulkWrite`, or `insertMany`) in which some writes failed or
 * a write concern was not satisfied. `writeErrors` lists every failed write
 * with its index in the caller's list (an ordered bulk write stops at the
 * first; an unordered one goes on), `writeConcernErrors` every batch whose
 * write concern failed (those writes happened), and `result` what was done:
 * the `_id` of every insert and upsert that happened is there, by index.
 * A {@linkcode WriteError} (and so an `OperationFailure`): `code` and
 * `errmsg` are those of the first failed write, else of the first write
 * concern error. A `bulkWrite` whose command failed (`ok: 0`, a
 * non-retryable error or a failed retry) rejects with one too: `code`,
 * `codeName`, `errmsg`, `errorLabels` and `cause` are then the failure's,
 * and `result` what the batches before it did.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BulkWriteError, WriteError } from "@zerodep/mongo";
 *
 * const e = new BulkWriteError({
 *   writeErrors: [{ index: 1, code: 11000, errmsg: "E11000 duplicate key error" }],
 *   writeConcernErrors: [],
 *   result: {
 *     acknowledged: true, insertedCount: 1, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0,
 *     insertedIds: { 0: "a" }, upsertedIds: {},
 *   },
 *   response: { ok: 1, n: 0 },
 * });
 * assert.equal(e instanceof WriteError, true);
 * assert.deepEqual(e.result.insertedIds, { 0: "a" });
 * ```
 */
export class BulkWriteError extends WriteError {
  /** The `writeConcernError` of every batch that had one. */
  readonly writeConcernErrors: readonly Readonly<Record<string, unknown>>[];
  /** What was done: counts, and the ids of the inserts and upserts that happened. */
  override readonly result: BulkWriteResult;
  /** Creates the error from the failed writes, the write concern errors and the partial result. */
  constructor(options: BulkWriteErrorOptions) {
    const wce = options.writeConcernErrors[0];
    super({
      writeErrors: options.writeErrors,
      writeConcernError: wce,
      result: options.result,
      response: options.response,
      cause: options.cause,
      failure: options.failure,
    });
    this.writeConcernErrors = options.writeConcernErrors;
    this.result = options.result;
    if (options.writeErrors.length === 0 && wce !== undefined && options.failure === undefined) {
      const more = options.writeConcernErrors.length > 1 ? ` (and ${options.writeConcernErrors.length - 1} more)` : "";
      this.message = `write concern error: ${typeof wce.errmsg === "string" ? wce.errmsg : "not satisfied"}${more}`;
    }
  }
}

/**
 * A `bulkWrite` stopped by a network error (after its retry, when it was
 * retryable): whether the batch it was sending was applied is unknown.
 * `cause` is the network error (a {@linkcode ConnectionFailure}), whose
 * labels it carries; `result` is what the batches before it did, and
 * `writeErrors` their failed writes (unordered). Not an `OperationFailure`:
 * no server answered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AutoReconnect, BulkWriteInterruptedError } from "@zerodep/mongo";
 *
 * const cause = new AutoReconnect("connection closed", { address: "db1:27017" });
 * const e = new BulkWriteInterruptedError(cause, {
 *   acknowledged: true, insertedCount: 1, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0,
 *   insertedIds: { 0: 1 }, upsertedIds: {},
 * }, []);
 * assert.equal(e.cause, cause);
 * assert.equal(e.result.insertedCount, 1);
 * ```
 */
export class BulkWriteInterruptedError extends MongoError {
  /** What the batches before the failure did: counts, and the ids of the inserts and upserts that happened. */
  readonly result: BulkWriteResult;
  /** The failed writes of the batches before it, `index` counted in the caller's list of models. */
  readonly writeErrors: readonly WriteErrorDetail[];
  /** Creates the error from the network error, the partial result and the earlier write errors. */
  constructor(cause: ConnectionFailure, result: BulkWriteResult, writeErrors: readonly WriteErrorDetail[]) {
    super(
      `bulkWrite stopped by a network error: ${cause.message}; the batch it was sending may or may not have ` +
        "been applied (error.result holds what the batches before it did)",
      { cause },
    );
    for (const label of cause.errorLabels) this.addErrorLabel(label);
    this.result = result;
    this.writeErrors = writeErrors;
  }
}

/**
 * Options of {@linkcode AuthenticationError}.
 *
 * @example
 * ```ts
 * import type { AuthenticationErrorOptions } from "@zerodep/mongo";
 *
 * const o: AuthenticationErrorOptions = { address: "db1:27017", mechanism: "SCRAM-SHA-256", code: 18 };
 * ```
 */
export interface AuthenticationErrorOptions extends ErrorOptions {
  /** The server: `host:port`, `[ipv6]:port` or a Unix socket path. */
  address: string;
  /** The mechanism that was tried (e.g. `"SCRAM-SHA-256"`), when one was chosen. */
  mechanism?: string;
  /** The server's error code (18 is AuthenticationFailed), when the server refused. */
  code?: number;
  /** The server's name for `code`, when it sent one. */
  codeName?: string;
  /** The pool generation of the connection, when known. */
  generation?: number;
}

/**
 * A connection could not authenticate: the server refused the credentials
 * (`code` 18, AuthenticationFailed, for a wrong user name or password), or
 * the server's side of the conversation did not check out (its signature,
 * nonce or iteration count), which the driver treats as a server it must not
 * trust. Nothing was sent on that connection but the handshake.
 *
 * It is not a network error and never becomes an `AutoReconnect`: retrying
 * with the same credentials cannot help. As the specifications ask, the
 * server is marked Unknown and its pool cleared.
 *
 * @example
 * ```ts ignore
 * import { AuthenticationError, Connection } from "@zerodep/mongo";
 *
 * const c = new Connection("mongodb://ada:wrong@localhost:27017/");
 * try {
 *   await c.admin.command("ping");
 * } catch (e) {
 *   if (e instanceof AuthenticationError) console.log(e.code, e.mechanism); // 18 "SCRAM-SHA-256"
 * }
 * ```
 */
export class AuthenticationError extends MongoError {
  /** The server the connection was for. */
  readonly address: string;
  /** The mechanism that was tried, when one was chosen. */
  readonly mechanism: string | undefined;
  /** The server's error code, when the server refused. */
  readonly code: number | undefined;
  /** The server's name for `code`, when it sent one. */
  readonly codeName: string | undefined;
  /** The pool generation of the connection, when known. */
  readonly generation: number | undefined;
  /** Creates the error; the message is prefixed with `options.address`. */
  constructor(message: string, options: AuthenticationErrorOptions) {
    super(`${options.address}: ${message}`, options);
    this.address = options.address;
    this.mechanism = options.mechanism;
    this.code = options.code;
    this.codeName = options.codeName;
    this.generation = options.generation;
  }
}

/**
 * A change stream met a change without a resume token (its pipeline removed
 * or changed `_id`): the stream could not resume after it, so it is closed.
 * Keep `_id` in change stream pipelines. `code` is 280 (ChangeStreamFatalError),
 * the code a server reports for the same mistake.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChangeStreamError, MongoError } from "@zerodep/mongo";
 *
 * const e = new ChangeStreamError("Cannot provide resume functionality when the resume token is missing");
 * assert.equal(e instanceof MongoError, true);
 * assert.equal(e.code, 280);
 * ```
 */
export class ChangeStreamError extends MongoError {
  /** 280, ChangeStreamFatalError. */
  readonly code: number = 280;
  /** `"ChangeStreamFatalError"`. */
  readonly codeName: string = "ChangeStreamFatalError";
}
