/**
 * Client sessions (the driver sessions specification): `conn.startSession()`
 * gives an explicit {@linkcode ClientSession}, passed as the `session` option
 * of operations; every other operation runs in an implicit session of its
 * own. A session carries the server session (`lsid`) its commands send, the
 * highest cluster time and operation time it has seen (causal consistency:
 * a read sends `readConcern.afterClusterTime` = the session's operation
 * time), and, for a snapshot session, the snapshot's time.
 *
 * @module
 */

import type { Document, Timestamp } from "../bson/mod.ts";
import { ConfigurationError, SessionError } from "../errors.ts";
import { checkOptions, type ClientContext, contextOf, isDocument, show } from "./_internal.ts";
import type { ServerSession } from "./server_session_pool.ts";
import { Transaction, type TransactionOptions } from "./transaction.ts";
import { leaveTransaction, unpin, unpinAfterError } from "./mongos_pinning.ts";
import type { WithTransactionOptions } from "./with_transaction.ts";

/**
 * The `$clusterTime` document servers gossip: the cluster time and its
 * signature (kept as received).
 *
 * @example
 * ```ts
 * import { Timestamp, type ClusterTime } from "@zerodep/mongo";
 *
 * const ct: ClusterTime = { clusterTime: new Timestamp({ t: 1, i: 1 }), signature: {} };
 * ```
 */
export interface ClusterTime {
  /** The cluster time (compared by its 64-bit value). */
  readonly clusterTime: Timestamp;
  /** The server's signature of it (`{ hash, keyId }`), sent back as received. */
  readonly signature?: Document;
}

/**
 * Options of `startSession`.
 *
 * @example
 * ```ts
 * import type { ClientSessionOptions } from "@zerodep/mongo";
 *
 * const o: ClientSessionOptions = { causalConsistency: true };
 * ```
 */
export interface ClientSessionOptions {
  /** Reads see the session's earlier writes and reads (default true, unless `snapshot`). */
  readonly causalConsistency?: boolean;
  /** Every read of the session reads one snapshot (MongoDB 5.0+); excludes `causalConsistency`. */
  readonly snapshot?: boolean;
  /** With `snapshot`: the snapshot's time (e.g. another snapshot session's `snapshotTime`); default: the first read's. */
  readonly snapshotTime?: Timestamp;
  /** Defaults of the session's transactions (each option a transaction is not given). */
  readonly defaultTransactionOptions?: TransactionOptions;
}

const SESSION_OPTIONS: ReadonlySet<string> = new Set([
  "causalConsistency",
  "snapshot",
  "snapshotTime",
  "defaultTransactionOptions",
]);

/** What the runner (execute.ts) and the transactions API keep of a session; not public. */
export interface SessionState {
  readonly ctx: ClientContext;
  /** The server session, once a command needed one (explicit sessions keep theirs until ended). */
  serverSession: ServerSession | undefined;
  ended: boolean;
  clusterTime: ClusterTime | undefined;
  operationTime: Timestamp | undefined;
  /** A snapshot session's time, from the first read's `atClusterTime`. */
  snapshotTime: Timestamp | undefined;
  /** Operations in flight on it (an implicit session is released when none is left and it is done). */
  inUse: number;
}

const states = new WeakMap<ClientSession, SessionState>();

/** The runner's view of a session. */
export function sessionState(session: ClientSession): SessionState {
  return states.get(session)!;
}

/** Whether `a` is later than `b` (`undefined` is earliest). */
export function laterTimestamp(a: Timestamp | undefined, b: Timestamp | undefined): boolean {
  if (a === undefined) return false;
  return b === undefined || a.toBigInt() > b.toBigInt();
}

function isTimestamp(value: unknown): value is Timestamp {
  return value !== null && typeof value === "object" && typeof (value as Timestamp).toBigInt === "function";
}

function isClusterTime(value: unknown): value is ClusterTime {
  return isDocument(value) && value.clusterTime !== null && typeof value.clusterTime === "object" &&
    typeof (value.clusterTime as { toBigInt?: unknown }).toBigInt === "function";
}

/**
 * A client session: the server session behind it (`id`), the cluster and
 * operation times it has seen, and its options. Made by
 * `conn.startSession()`; pass it as the `session` option of operations.
 * End it with `endSession()` (or `await using`): its server session then
 * goes back to the client's pool. A session belongs to the client that
 * started it and serves one operation at a time.
 *
 * With causal consistency (the default), a read in the session waits for
 * the server to have seen everything the session did before
 * (`readConcern.afterClusterTime`). A snapshot session (`{ snapshot: true }`,
 * MongoDB 5.0+) reads every read from one point in time.
 *
 * @example
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using conn = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * await using session = conn.startSession();
 * const people = conn.db("test").collection("people");
 * await people.insertOne({ name: "Ada" }, { session });
 * console.log(await people.findOne({ name: "Ada" }, { session })); // sees the insert, even on a secondary
 * ```
 */
export class ClientSession {
  /** The client that started the session. */
  readonly client: object;
  /** Whether the driver started it for one operation (never true for `startSession()`'s). */
  readonly isImplicit: boolean;
  /** Whether reads from this session see its earlier operations. */
  readonly supports: { readonly causalConsistency: boolean };
  /** Whether every read reads one snapshot. */
  readonly snapshotEnabled: boolean;
  /** The defaults of the session's transactions. */
  readonly defaultTransactionOptions: TransactionOptions;
  /** The session's transaction: its `state` (`"NO_TRANSACTION"`, ...) and the options of the current one. */
  readonly transaction: Transaction = new Transaction();

  /**
   * Internal: use `conn.startSession()`.
   *
   * @param client The client (`Connection` or `ReplicaSetConnection`).
   * @param options The session's options.
   * @param implicit Whether the driver starts it for one operation.
   */
  constructor(client: object, options?: ClientSessionOptions, implicit = false) {
    const ctx = contextOf(client);
    const o = checkOptions(options, "startSession options");
    const unknown = Object.keys(o).filter((k) => !SESSION_OPTIONS.has(k));
    if (unknown.length > 0) {
      throw new ConfigurationError(
        `unknown startSession option ${unknown.map((k) => JSON.stringify(k)).join(", ")}; known: ${
          [...SESSION_OPTIONS].join(", ")
        }`,
      );
    }
    for (const name of ["causalConsistency", "snapshot"] as const) {
      if (o[name] !== undefined && typeof o[name] !== "boolean") {
        throw new ConfigurationError(`startSession option ${name} must be a boolean, got ${show(o[name])}`);
      }
    }
    if (o.snapshot === true && o.causalConsistency === true) {
      throw new ConfigurationError(
        "startSession: causalConsistency and snapshot cannot both be true (a snapshot session reads one point in time)",
      );
    }
    if (o.snapshotTime !== undefined) {
      if (o.snapshot !== true) throw new ConfigurationError("startSession: snapshotTime needs snapshot: true");
      if (!isTimestamp(o.snapshotTime)) {
        throw new ConfigurationError(`startSession option snapshotTime must be a Timestamp, got ${show(o.snapshotTime)}`);
      }
    }
    if (o.defaultTransactionOptions !== undefined && !isDocument(o.defaultTransactionOptions)) {
      throw new ConfigurationError(
        `startSession option defaultTransactionOptions must be an object, got ${show(o.defaultTransactionOptions)}`,
      );
    }
    if (!implicit) ctx.ensureOpen();
    this.client = client;
    this.isImplicit = implicit;
    this.snapshotEnabled = o.snapshot === true;
    this.supports = Object.freeze({ causalConsistency: !implicit && !this.snapshotEnabled && o.causalConsistency !== false });
    this.defaultTransactionOptions = Object.freeze({ ...(o.defaultTransactionOptions ?? {}) });
    states.set(this, {
      ctx,
      serverSession: undefined,
      ended: false,
      clusterTime: undefined,
      operationTime: undefined,
      snapshotTime: o.snapshotTime,
      inUse: 0,
    });
  }

  /**
   * The session id sent as `lsid` (`{ id: UUID }`). Reading it takes a server
   * session from the pool if the session has none yet.
   */
  get id(): Document {
    const s = sessionState(this);
    if (s.serverSession === undefined) {
      if (s.ended) throw endedError();
      s.serverSession = s.ctx.sessionPool.acquire(s.ctx.description.logicalSessionTimeoutMinutes);
    }
    return s.serverSession.id;
  }

  /** The highest `$clusterTime` this session has seen (or been given), if any. */
  get clusterTime(): ClusterTime | undefined {
    return sessionState(this).clusterTime;
  }

  /** The `operationTime` of the session's last operation (or the one given), if any. */
  get operationTime(): Timestamp | undefined {
    return sessionState(this).operationTime;
  }

  /** A snapshot session's point in time, once its first read has fixed it. */
  get snapshotTime(): Timestamp | undefined {
    return sessionState(this).snapshotTime;
  }

  /** Whether `endSession()` was called (or the client closed). */
  get hasEnded(): boolean {
    const s = sessionState(this);
    return s.ended || s.ctx.closed;
  }

  /** Whether the server session saw a network error (it will not be reused). */
  get isDirty(): boolean {
    return sessionState(this).serverSession?.isDirty === true;
  }

  /**
   * Advances the session's cluster time (ignored when not later than what it
   * has); use it with `advanceOperationTime` to make a session causally
   * follow another session's operations.
   *
   * @example
   * ```ts ignore
   * b.advanceClusterTime(a.clusterTime!);
   * b.advanceOperationTime(a.operationTime!);
   * ```
   */
  advanceClusterTime(clusterTime: ClusterTime): void {
    if (!isClusterTime(clusterTime)) {
      throw new ConfigurationError(
        `advanceClusterTime needs a $clusterTime document { clusterTime: Timestamp, signature }, got ${
          show(clusterTime)
        }`,
      );
    }
    const s = sessionState(this);
    if (laterTimestamp(clusterTime.clusterTime, s.clusterTime?.clusterTime)) s.clusterTime = clusterTime;
  }

  /**
   * Advances the session's operation time (ignored when not later).
   *
   * @example
   * ```ts ignore
   * b.advanceOperationTime(a.operationTime!);
   * ```
   */
  advanceOperationTime(operationTime: Timestamp): void {
    if (operationTime === null || typeof operationTime !== "object" || typeof operationTime.toBigInt !== "function") {
      throw new ConfigurationError(`advanceOperationTime needs a Timestamp, got ${show(operationTime)}`);
    }
    const s = sessionState(this);
    if (laterTimestamp(operationTime, s.operationTime)) s.operationTime = operationTime;
  }

  /**
   * Ends the session: its server session goes back to the client's pool
   * (ended with `endSessions` when the client closes). Later operations with
   * it throw a `SessionError`. Idempotent.
   *
   * @example
   * ```ts ignore
   * const session = conn.startSession();
   * try {
   *   await coll.insertOne({ a: 1 }, { session });
   * } finally {
   *   await session.endSession();
   * }
   * ```
   */
  async endSession(): Promise<void> {
    const s = sessionState(this);
    if (s.ended) return;
    if (this.transaction.isActive && !s.ctx.closed) {
      await this.abortTransaction().catch(() => {}); // the specification: errors are ignored
    }
    s.ended = true;
    unpin(this);
    releaseServerSession(s);
  }

  /**
   * Starts a transaction: the session's next operations run in it until
   * `commitTransaction()` or `abortTransaction()`. Options not given come from
   * the session's `defaultTransactionOptions`, then the client. Nothing is
   * sent until the first operation.
   *
   * @throws {TransactionError} inside a transaction ("Transaction already in
   *   progress"), or for an unacknowledged write concern.
   * @throws {SessionError} when the session has ended or is a snapshot session.
   *
   * @example
   * ```ts ignore
   * session.startTransaction({ writeConcern: { w: "majority" } });
   * await accounts.updateOne({ _id: "a" }, { $inc: { balance: -10 } }, { session });
   * await accounts.updateOne({ _id: "b" }, { $inc: { balance: 10 } }, { session });
   * await session.commitTransaction();
   * ```
   */
  startTransaction(options?: TransactionOptions): void {
    const s = sessionState(this);
    if (s.ended || s.ctx.closed) throw s.ctx.closed ? new SessionError("the session's client is closed: its sessions ended with it") : endedError();
    if (this.snapshotEnabled) {
      throw new SessionError("transactions are not supported in snapshot sessions: start a session without snapshot");
    }
    this.transaction.start(options, this.defaultTransactionOptions, s.ctx);
    leaveTransaction(this); // a new transaction is not pinned and has no recoveryToken yet
    this.id; // takes a server session: the transaction's number is its next one
    s.serverSession!.txnNumber++;
  }

  /**
   * Commits the transaction (`commitTransaction`, retried once after a
   * retryable error). An error labelled `UnknownTransactionCommitResult` may
   * be retried by calling it again; one labelled `TransientTransactionError`
   * means the whole transaction may be retried.
   *
   * @throws {TransactionError} without a transaction, or after an abort.
   *
   * @example
   * ```ts ignore
   * await session.commitTransaction();
   * ```
   */
  commitTransaction(): Promise<void> {
    return this.transaction.commit((command) => runTransactionCommand(this, command)).catch((error) => {
      unpinAfterError(this, error); // UnknownTransactionCommitResult: the next commit may go to any mongos
      throw error;
    });
  }

  /**
   * Aborts the transaction; errors of the `abortTransaction` command are
   * ignored (the server aborts it anyway).
   *
   * @throws {TransactionError} without a transaction, after a commit, or twice.
   *
   * @example
   * ```ts ignore
   * await session.abortTransaction();
   * ```
   */
  abortTransaction(): Promise<void> {
    // Unpinned however the abort ends, sent or not.
    return this.transaction.abort((command) => runTransactionCommand(this, command)).finally(() => unpin(this));
  }

  /** Whether a transaction is starting or in progress. */
  inTransaction(): boolean {
    return this.transaction.isActive;
  }

  /**
   * Runs `fn` in a transaction and commits it, retrying as the convenient
   * transactions API says: the whole transaction again after a
   * `TransientTransactionError`, the commit again after an
   * `UnknownTransactionCommitResult`, for up to 120 s. `fn` may therefore run
   * more than once: keep side effects out of it, and let its operations'
   * errors propagate (a swallowed error leaves an aborted transaction that
   * cannot commit). Returns what `fn` returned.
   *
   * @example
   * ```ts ignore
   * await session.withTransaction(async (s) => {
   *   await accounts.updateOne({ _id: "a" }, { $inc: { balance: -10 } }, { session: s });
   *   await accounts.updateOne({ _id: "b" }, { $inc: { balance: 10 } }, { session: s });
   * });
   * ```
   */
  withTransaction<T>(fn: (session: ClientSession) => Promise<T> | T, options?: WithTransactionOptions): Promise<T> {
    // Loaded on first use: the convenient transactions API is not on a cold start's path.
    return import("./with_transaction.ts").then((m) => m.withTransaction(this, fn, options));
  }

  /** Ends the session at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.endSession();
  }

  /** `ClientSession(<uuid>)`. */
  toString(): string {
    const id = sessionState(this).serverSession?.id.id;
    return id === undefined ? "ClientSession(no server session yet)" : `ClientSession(${id.toString()})`;
  }
}

/** Gives the session's server session back to the pool (dropped if dirty or stale). */
export function releaseServerSession(s: SessionState): void {
  const server = s.serverSession;
  if (server === undefined) return;
  s.serverSession = undefined;
  if (!s.ctx.closed) s.ctx.sessionPool.release(server, s.ctx.description.logicalSessionTimeoutMinutes);
}

function endedError(): SessionError {
  return new SessionError("this session has ended (endSession() was called): start a new one with startSession()");
}

/**
 * Checks a `session` option before any I/O: a `ClientSession` of this client
 * that has not ended; with the operation's `options`, what its transaction
 * allows of them. Returns it (or `undefined` when not given).
 */
export function checkSession(
  value: unknown,
  ctx: ClientContext,
  options?: object,
): ClientSession | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof ClientSession)) {
    throw new ConfigurationError(`session must be a ClientSession (from startSession()), got ${show(value)}`);
  }
  const s = sessionState(value);
  if (s.ctx !== ctx) {
    throw new SessionError(
      "this session was started by another client: a session can only be used with the client that started it",
    );
  }
  if (ctx.closed) {
    throw new SessionError("the session's client is closed: its sessions ended with it");
  }
  if (s.ended) throw endedError();
  // In a transaction: no readConcern or writeConcern of the operation's own, reads from the primary only.
  if (options !== undefined) value.transaction.checkExplicitOptions(undefined, options);
  return value;
}

/**
 * Takes `$clusterTime` and `operationTime` from a reply (or an error's reply):
 * the client's highest cluster time, and the session's cluster time,
 * operation time and snapshot time.
 */
export function observeReply(ctx: ClientContext, session: ClientSession | undefined, reply: unknown): void {
  if (!isDocument(reply)) return;
  const ct = reply.$clusterTime;
  if (isClusterTime(ct)) ctx.advanceClusterTime(ct);
  if (session === undefined) return;
  const s = sessionState(session);
  if (isClusterTime(ct) && laterTimestamp(ct.clusterTime, s.clusterTime?.clusterTime)) s.clusterTime = ct;
  const ot = reply.operationTime;
  if (ot !== null && typeof ot === "object" && typeof (ot as Timestamp).toBigInt === "function") {
    if (laterTimestamp(ot as Timestamp, s.operationTime)) s.operationTime = ot as Timestamp;
  }
  if (session.snapshotEnabled && s.snapshotTime === undefined) {
    const cursor = isDocument(reply.cursor) ? reply.cursor : undefined;
    const at = cursor?.atClusterTime ?? reply.atClusterTime;
    if (at !== null && typeof at === "object" && typeof (at as Timestamp).toBigInt === "function") {
      s.snapshotTime = at as Timestamp;
    }
  }
}

/** commitTransaction / abortTransaction through the operation runner; its module loads with the first transaction. */
function runTransactionCommand(session: ClientSession, command: Document): Promise<Document> {
  return import("./_transaction_command.ts").then((m) => m.runTransactionCommand(session, command));
}
