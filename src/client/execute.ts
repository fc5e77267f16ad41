// The one operation runner of the client layer. Collection, Database, Cursor
// and the client only describe operations (an `Operation`); `execute` runs
// them: server selection, connection checkout, the round trip, error
// classification and the retry policy, under one deadline when `timeoutMS`
// is set (the client-side operations timeout specification). The final
// command document is built in one place, `finishCommand`
// (_finish_command.ts): sessions, transactions and `$clusterTime` attach
// there. A sharded transaction's commands go to the mongos it is pinned to
// (mongos_pinning.ts). Nothing here is part of the public API.

import {
  OperationFailure,
  OperationTimeoutError,
  ServerSelectionError,
  SessionError,
  type TimeoutPhase,
  WriteConcernError,
} from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { Document } from "../bson/mod.ts";
import type { DocumentSequence } from "../wire/mod.ts";
import { ReadPreference } from "../topology/read_preference.ts";
import { type ServerSelector, writeStageReadPreference } from "../topology/server_selection.ts";
import {
  type ClientContext,
  isRetryableReadError,
  isRetryableWriteError,
  type ServerCommandOptionsLike,
  type ServerLike,
  untilAborted,
  type WireConnectionLike,
} from "./_internal.ts";
import type { ReadConcern } from "./read_concern.ts";
import type { WriteConcern } from "./write_concern.ts";
import { ClientSession, releaseServerSession, sessionState } from "./session.ts";
import { finishCommand, observed, SESSIONS_WIRE_VERSION } from "./_finish_command.ts";
import { leaveTransaction, pinnedServer, pinToFirstServer, unpinAfterError } from "./mongos_pinning.ts";
import { supportsRetryableWrites, transactionNumbersError, writeErrorToThrow } from "./retryable_writes.ts";

/** Retryable reads need MongoDB 3.6+ (wire 6), as the specification says. */
const RETRYABLE_READS_WIRE_VERSION = 6;

/** No server deprioritized. */
const NONE: readonly string[] = Object.freeze([]);

/** The longest delay `setTimeout` takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The end of an operation's `timeoutMS`: fixed when the operation starts
 * and shared by everything it does (selection, checkout, round trips,
 * retries; a cursor's getMores in the `cursorLifetime` mode). `timeoutMS: 0`
 * is a deadline that never comes.
 */
export class Deadline {
  /** The `timeoutMS` it was made from (0 = no limit). */
  readonly timeoutMS: number;
  readonly #expiresAt: number;

  constructor(timeoutMS: number) {
    this.timeoutMS = timeoutMS;
    this.#expiresAt = timeoutMS === 0 ? Infinity : performance.now() + timeoutMS;
  }

  /** A deadline for `timeoutMS`, or `undefined` when it is not set. */
  static of(timeoutMS: number | undefined): Deadline | undefined {
    return timeoutMS === undefined ? undefined : new Deadline(timeoutMS);
  }

  /** Whether there is no limit (`timeoutMS: 0`). */
  get infinite(): boolean {
    return this.#expiresAt === Infinity;
  }

  /** Milliseconds left (`Infinity` without a limit; 0 or less once passed). */
  remaining(): number {
    return this.#expiresAt - performance.now();
  }
}

/** The description every operation gives the runner. */
export interface Operation<T> {
  /** The command's name (`"insert"`, `"find"`, ...), for error messages and command monitoring. */
  readonly name: string;
  /** The database the command runs in. */
  readonly db: string;
  /** A read is routed by `readPreference`; a write goes to the primary. */
  readonly kind: "read" | "write";
  /** Where a read may run (default primary); writes ignore it, unless `writeStage`. */
  readonly readPreference?: ReadPreference;
  /**
   * A write that reads: an aggregate ending in `$out` or `$merge`. It is
   * selected as a read with `readPreference` where crud.md allows (every
   * available server 5.0+, see `writeStageReadPreference`), else on the
   * primary, and sent with the read preference its selection used.
   */
  readonly writeStage?: boolean;
  /**
   * Whether the retryable reads / writes specifications let this operation
   * run again after a retryable error (see `execute`). A retryable write
   * carries a `txnNumber` when the server supports it.
   */
  readonly retryable: boolean;
  /** The caller's explicit session (or a cursor's implicit one); without it, the runner starts an implicit session. */
  readonly session?: ClientSession;
  /** Send no `lsid` and no `$clusterTime` (`endSessions` itself). */
  readonly noSession?: boolean;
  /** Run on this server instead of selecting one (a cursor's getMore and killCursors). */
  readonly server?: ServerLike;
  /** Sent as `readConcern` unless empty (`{}` is the server's default). Only reads that take one set it. */
  readonly readConcern?: ReadConcern;
  /** Sent as `writeConcern` unless empty. */
  readonly writeConcern?: WriteConcern;
  /** The lowest wire version whose server takes `writeConcern` on this command (default 0: every one). */
  readonly writeConcernMinWireVersion?: number;
  /** The inherited `timeoutMS` (undefined: not set; 0: no limit). The deadline starts when `execute` is called. */
  readonly timeoutMS?: number;
  /** A deadline started earlier (a cursor's lifetime); wins over `timeoutMS`. */
  readonly deadline?: Deadline;
  /** Whether a finite deadline adds `maxTimeMS` to the command (default true; false for getMore and killCursors). */
  readonly maxTimeMS?: boolean;
  /** The caller's cancellation. */
  readonly signal?: AbortSignal;
  /** Limit on each round trip without `timeoutMS` (`command()`'s option; default the client's `socketTimeoutMS`). */
  readonly socketTimeoutMS?: number;
  /** What to send on the server selected for one attempt (called again for a retry). */
  plan(server: ServerLike): Plan<T>;
}

/**
 * One attempt of an operation: a single command whose reply `parse` reads,
 * or work that needs several round trips on the selected server (insertMany's
 * batches, listCollections' getMores, a cursor's getMore, legacy OP_QUERY).
 */
export type Plan<T> = CommandPlan<T> | ServerPlan<T>;

/** One command, sent with the server's read preference rules; its reply read by `parse`. */
export interface CommandPlan<T> {
  readonly command: Document;
  readonly sequences?: DocumentSequence[];
  /**
   * Reads the reply. With `writeConcernErrorInReply`, a reply carrying a
   * `writeConcernError` comes here too, with the error (the write happened).
   */
  parse(reply: Document, writeConcernError?: WriteConcernError): T;
  readonly writeConcernErrorInReply?: boolean;
}

/** Several round trips on the selected server. */
export interface ServerPlan<T> {
  run(server: ServerRun): Promise<T>;
}

/** Options of one command sent through {@link ServerRun} or {@link PinnedConnection}. */
export interface RunCommandOptions {
  readonly sequences?: DocumentSequence[];
  /** Whether a finite deadline adds `maxTimeMS` (default: the operation's). */
  readonly maxTimeMS?: boolean;
  /**
   * `false`: a command that is not the retryable write itself (the getMore of
   * its results cursor), sent without the write's `txnNumber`.
   */
  readonly txnNumber?: false;
}

/** What a {@link ServerPlan} may do on its server. */
export interface ServerRun {
  readonly server: ServerLike;
  /**
   * Whether this attempt is a retryable write that may still be retried: a
   * writeConcernError the specification calls retryable must then be thrown
   * (to the runner), not kept in the result.
   */
  readonly retryableWrite: boolean;
  /** One command on a pooled connection, finished by the runner, with the operation's read preference. */
  command(cmd: Document, options?: RunCommandOptions): Promise<Document>;
  /** One checked-out connection for several round trips. */
  withConnection<R>(fn: (conn: PinnedConnection) => Promise<R>): Promise<R>;
}

/** A checked-out connection as a {@link ServerPlan} sees it. */
export interface PinnedConnection {
  readonly conn: WireConnectionLike;
  /** A command on this connection, finished by the runner (no read preference: getMore, write batches). */
  command(cmd: Document, options?: RunCommandOptions): Promise<Document>;
  /** Options for the legacy opcodes (`query`, `getMore`, `killCursors`): the signal and socket timeout. */
  readonly wire: { signal?: AbortSignal; socketTimeoutMS?: number };
  /** The `$maxTimeMS` of a legacy OP_QUERY: the deadline's if set, else `own`. */
  maxTimeMS(own: number | undefined): number | undefined;
}

/**
 * Where an operation is and how long it has: its deadline, the signal every
 * wait gets (the caller's and the deadline's), and what it is waiting for,
 * which names the wait in the timeout error.
 */
class Clock {
  readonly name: string;
  readonly deadline: Deadline | undefined;
  readonly signal: AbortSignal | undefined;
  phase: TimeoutPhase = "serverSelection";
  address: string | undefined;
  /** Set when the deadline passed. */
  fired: OperationTimeoutError | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(name: string, deadline: Deadline | undefined, signal: AbortSignal | undefined, server?: ServerLike) {
    this.name = name;
    this.deadline = deadline;
    // An operation bound to a server (getMore, killCursors) starts at checkout.
    if (server !== undefined) this.enter("connectionCheckout", server.address);
    if (deadline === undefined || deadline.infinite) {
      this.signal = signal;
      return;
    }
    const controller = new AbortController();
    this.signal = signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]);
    // Timers take at most 2^31 - 1 ms; a longer deadline re-arms.
    const arm = () => {
      const remaining = deadline.remaining();
      if (remaining <= 0) controller.abort(this.fired ??= this.expired());
      else this.#timer = setTimeout(arm, Math.min(Math.ceil(remaining), MAX_TIMER_MS));
    };
    arm();
  }

  enter(phase: TimeoutPhase, address?: string): void {
    this.phase = phase;
    this.address = address;
  }

  /** The timeout error for the current phase (`notSent`: the time left was not worth sending). */
  expired(cause?: unknown, notSent?: string): OperationTimeoutError {
    const what = this.phase === "serverSelection"
      ? "server selection"
      : this.phase === "connectionCheckout"
      ? `a connection to ${this.address} (connection checkout)`
      : `the reply from ${this.address}`;
    const ms = this.deadline?.timeoutMS ?? 0;
    let message: string;
    if (cause instanceof ServerSelectionError) {
      // serverSelectionTimeoutMS ran out first (or timeoutMS is 0: no limit).
      message = `${this.name}: timed out waiting for server selection (timeoutMS ${
        ms === 0 ? "0: no limit" : `${ms} ms`
      }, serverSelectionTimeoutMS came first)`;
    } else if (notSent !== undefined) {
      message =
        `${this.name}: timeoutMS (${ms} ms) expired before the command was sent to ${this.address} (${notSent})`;
    } else {
      message = `${this.name}: timeoutMS (${ms} ms) expired waiting for ${what}`;
    }
    if (cause instanceof Error) message += `: ${cause.message}`;
    return new OperationTimeoutError(message, { timeoutMS: ms, phase: this.phase, address: this.address, cause });
  }

  /**
   * Sets (or, under `timeoutMS: 0`, removes) `maxTimeMS` from the time left
   * minus the round-trip estimate; called when the command is built and again
   * once a connection is checked out, just before it is written. Throws the
   * timeout error instead of sending when that leaves nothing.
   */
  setMaxTimeMS(body: Document, rtt: number): void {
    if (this.deadline!.infinite) delete body.maxTimeMS;
    else body.maxTimeMS = maxTimeMSLeft(this, rtt);
  }

  /** Whether a finite deadline has passed. */
  passed(): boolean {
    return this.deadline !== undefined && this.deadline.remaining() <= 0;
  }

  /** The socket timeout of a round trip: none under `timeoutMS` (the deadline bounds it), else the operation's. */
  socketTimeoutMS(own: number | undefined): number | undefined {
    return this.deadline === undefined ? own : 0;
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /**
   * The error the caller gets. With `timeoutMS` set, a timeout from any
   * source becomes an `OperationTimeoutError` (the specification's error
   * transformations): the deadline's own, selection's `ServerSelectionError`
   * and the server's MaxTimeMSExpired (code 50).
   */
  outcome(error: unknown, userSignal: AbortSignal | undefined): unknown {
    if (this.deadline === undefined || error instanceof OperationTimeoutError) return error;
    if (userSignal?.aborted && error === userSignal.reason) return error;
    if (this.fired !== undefined) return this.fired;
    if (error instanceof ServerSelectionError) return this.expired(error);
    if (
      error instanceof OperationFailure && error.code === ErrorCode.MaxTimeMSExpired && !(error instanceof WriteConcernError)
    ) {
      return this.expired(error);
    }
    return error;
  }
}

/**
 * Runs an operation: selects a server (`op.kind`, `op.readPreference`),
 * sends what `op.plan` says, and retries per the retryable reads
 * specification: with `retryReads` on (the default), a read the
 * specification allows (`op.retryable`) that fails with a retryable error on
 * a 3.6+ server runs once more on a newly selected server, the failed one
 * deprioritized; if no server can be selected for that retry the first
 * error is thrown. Under a finite `timeoutMS` it is retried as often as the
 * deadline allows (the CSOT specification), never after the deadline.
 * With `retryWrites` on, a retryable write (`op.retryable`, acknowledged) on
 * a server that supports it carries the session's next `txnNumber` and is
 * retried the same way (the same `txnNumber`), following the retryable
 * writes specification's choice of the error to report.
 *
 * With `timeoutMS` set (client, database, collection or operation), one
 * deadline covers selection, checkout, every round trip and every retry;
 * the command carries `maxTimeMS` = time left - the server's round-trip
 * time; when the deadline passes the operation rejects with an
 * `OperationTimeoutError` naming what it waited for, and the deprecated
 * limits (`socketTimeoutMS`, an operation's own `maxTimeMS`, the write
 * concern's `wtimeout`) are ignored.
 */
export function execute<T>(ctx: ClientContext, op: Operation<T>): Promise<T> {
  let exec: Execution;
  try {
    ctx.ensureOpen();
    exec = startExecution(ctx, op);
    op.signal?.throwIfAborted();
  } catch (error) {
    return Promise.reject(error);
  }
  const deadline = op.deadline ?? Deadline.of(op.timeoutMS);
  const clock = new Clock(op.name, deadline, op.signal, op.server);
  // Without timeoutMS there is no timer to stop and no error to translate.
  let run = deadline === undefined ? attempts(ctx, op, clock, exec) : underDeadline(ctx, op, clock, exec);
  if (exec.inTransaction) {
    // A network or selection error inside a transaction: the whole transaction may be retried.
    run = run.catch((error) => {
      exec.session!.transaction.labelError(error, op.name);
      unpinAfterError(exec.session!, error);
      throw error;
    });
  }
  // The implicit session, if a command started one, goes back to the pool once the operation is done.
  return op.session === undefined ? run.finally(() => endImplicit(exec)) : run;
}

/** One run of an operation: its session and, for a retryable write, the `txnNumber` every attempt sends. */
interface Execution {
  session: ClientSession | undefined;
  /** Whether the runner started `session` (an implicit session for this operation only). */
  owned: boolean;
  /** An unacknowledged write (`w: 0`): no session id is sent. */
  readonly unacknowledged: boolean;
  txnNumber: bigint | undefined;
  /** Whether a retryable writeConcernError of this attempt goes to the retry loop instead of the parser. */
  retryConcernError: boolean;
  /**
   * Whether the operation runs in the session's transaction (or is its
   * commitTransaction / abortTransaction): the transaction's fields go on the
   * command, it runs on the primary and is not retried here.
   */
  readonly inTransaction: boolean;
}

function startExecution(ctx: ClientContext, op: Operation<unknown>): Execution {
  const session = op.session;
  // Any operation leaves a committed or aborted transaction; inside one, it is checked before any I/O.
  session?.transaction.checkOperation({ name: op.name, kind: op.kind });
  const inTransaction = session !== undefined &&
    (session.transaction.isActive || op.name === "commitTransaction" || op.name === "abortTransaction");
  // In a transaction the collection's write concern is ignored (the commit carries the transaction's).
  const unacknowledged = !inTransaction && op.kind === "write" && op.writeConcern?.w === 0;
  if (session !== undefined) {
    const s = sessionState(session);
    if (s.ctx !== ctx) {
      throw new SessionError(
        "this session was started by another client: a session can only be used with the client that started it",
      );
    }
    if (s.ended && !session.isImplicit) {
      throw new SessionError("this session has ended (endSession() was called): start a new one with startSession()");
    }
    if (unacknowledged && !session.isImplicit) {
      throw new SessionError(
        `${op.name}: an unacknowledged write (w: 0) cannot run in an explicit session: ` +
          "its outcome is never known to the session; use an acknowledged write concern or no session",
      );
    }
  }
  if (session !== undefined && !inTransaction) leaveTransaction(session); // unpinned before selection
  return { session, owned: false, unacknowledged, txnNumber: undefined, retryConcernError: false, inTransaction };
}

/** Ends the implicit session the runner started (its server session goes back to the pool). */
function endImplicit(exec: Execution): void {
  if (exec.session === undefined || !exec.owned) return;
  const s = sessionState(exec.session);
  s.ended = true;
  releaseServerSession(s);
}

/** The session a command of this operation sends, starting the implicit one when the server supports sessions. */
function sessionFor(ctx: ClientContext, op: Operation<unknown>, exec: Execution, wireVersion: number, lstm: number | null) {
  if (op.noSession === true || exec.unacknowledged) return undefined;
  if (exec.session === undefined) {
    if (lstm === null || wireVersion < SESSIONS_WIRE_VERSION) return undefined;
    exec.session = new ClientSession(ctx.client, undefined, true);
    exec.owned = true;
  } else if (exec.session.isImplicit && (lstm === null || wireVersion < SESSIONS_WIRE_VERSION)) {
    return undefined;
  } else if (lstm === null || wireVersion < SESSIONS_WIRE_VERSION) {
    throw new SessionError(
      `${op.name}: the server does not support sessions (no logicalSessionTimeoutMinutes in its hello; ` +
        "MongoDB 3.6+ replica sets and sharded clusters do): run it without a session",
    );
  }
  return exec.session;
}

async function underDeadline<T>(ctx: ClientContext, op: Operation<T>, clock: Clock, exec: Execution): Promise<T> {
  try {
    return await attempts(ctx, op, clock, exec);
  } catch (error) {
    throw clock.outcome(error, op.signal);
  } finally {
    clock.stop();
  }
}

async function attempts<T>(ctx: ClientContext, op: Operation<T>, clock: Clock, exec: Execution): Promise<T> {
  // A transaction reads from the primary only (checked before: its read preference is primary).
  const routed = op.kind === "read" || op.writeStage === true;
  const readPreference = routed && !exec.inTransaction ? op.readPreference ?? ReadPreference.PRIMARY : ReadPreference.PRIMARY;
  const selector: ServerSelector = op.writeStage === true
    ? { operation: "read", readPreference, writeStage: true }
    : { operation: op.kind, readPreference };
  const failed: string[] = [];
  const retryWrites = op.kind === "write" && op.retryable && op.server === undefined && ctx.retryWrites &&
    !exec.unacknowledged && op.noSession !== true && !exec.inTransaction;
  let lastError: unknown;
  for (let attempt = 0;; attempt++) {
    let server: ServerLike | undefined = op.server ?? (exec.inTransaction ? pinnedServer(exec.session!) : undefined);
    if (server === undefined) {
      clock.enter("serverSelection");
      try {
        server = await select(ctx, selector, clock.signal, failed.length === 0 ? NONE : [...failed]);
      } catch (error) {
        if (attempt === 0 || clock.fired !== undefined) throw error;
        throw lastError;
      }
    }
    if (exec.inTransaction) pinToFirstServer(exec.session!, server, op.name);
    // Read before the attempt: a failure marks the server Unknown (wire 0).
    const wireVersion = server.description.maxWireVersion;
    if (retryWrites) {
      const supported = supportsRetryableWrites(server);
      if (attempt === 0 && supported) {
        // One transaction number for the operation: the retry sends the same one.
        const session = sessionFor(ctx, op, exec, wireVersion, server.description.logicalSessionTimeoutMinutes)!;
        session.id; // takes the server session
        const serverSession = sessionState(session).serverSession!;
        exec.txnNumber = ++serverSession.txnNumber;
      } else if (attempt > 0 && !supported) {
        throw lastError;
      }
    }
    exec.retryConcernError = exec.txnNumber !== undefined &&
      (attempt === 0 || (clock.deadline !== undefined && !clock.deadline.infinite));
    try {
      // A write stage was selected with the primary or its read preference: the same description says which.
      const used = op.writeStage === true ? writeStageReadPreference(ctx.description, readPreference) : readPreference;
      return await attemptOn(ctx, op, exec, server, used, clock);
    } catch (error) {
      if (exec.txnNumber !== undefined) {
        lastError = writeErrorToThrow(error, lastError, wireVersion);
        if (lastError !== error || !isRetryableWriteError(error, wireVersion) || !mayRetryWrite(ctx, clock, attempt)) {
          throw transactionNumbersError(lastError);
        }
        if (clock.passed()) throw clock.expired(error);
        continue;
      }
      lastError = error;
      if (exec.inTransaction || !mayRetry(ctx, op, clock, error, wireVersion, attempt)) throw error;
      if (clock.passed()) throw clock.expired(error);
      failed.push(server.address);
    }
  }
}

function mayRetryWrite(ctx: ClientContext, clock: Clock, attempt: number): boolean {
  if (ctx.closed || clock.signal?.aborted === true || clock.fired !== undefined) return false;
  return attempt === 0 || (clock.deadline !== undefined && !clock.deadline.infinite);
}

function mayRetry(
  ctx: ClientContext,
  op: Operation<unknown>,
  clock: Clock,
  error: unknown,
  wireVersion: number,
  attempt: number,
): boolean {
  // Writes with a txnNumber are retried by the retryable writes rules (attempts()); other writes run once.
  if (op.kind !== "read" || !op.retryable || op.server !== undefined || !ctx.retryReads || ctx.closed) return false;
  if (clock.signal?.aborted === true || clock.fired !== undefined) return false;
  if (!isRetryableReadError(error) || wireVersion < RETRYABLE_READS_WIRE_VERSION) return false;
  // Once without a finite deadline; as often as it allows with one.
  return attempt === 0 || (clock.deadline !== undefined && !clock.deadline.infinite);
}

async function select(
  ctx: ClientContext,
  selector: ServerSelector,
  signal: AbortSignal | undefined,
  deprioritized: readonly string[],
): Promise<ServerLike> {
  ctx.ensureOpen();
  signal?.throwIfAborted();
  const topology = await untilAborted(ctx.start(), signal);
  return await topology.selectServer(selector, { signal, deprioritized });
}

async function attemptOn<T>(
  ctx: ClientContext,
  op: Operation<T>,
  exec: Execution,
  server: ServerLike,
  readPreference: ReadPreference,
  clock: Clock,
): Promise<T> {
  const plan = op.plan(server);
  // The round-trip estimate is taken now, from the description selection used.
  const rtt = server.description.roundTripTime ?? 0;
  const wireVersion = server.description.maxWireVersion;
  const lstm = server.description.logicalSessionTimeoutMinutes;
  const sendCommand = (cmd: Document, sequences: DocumentSequence[] | undefined, run: RunCommandOptions) => {
    const address = server.address;
    clock.enter("connectionCheckout", address);
    const timed = clock.deadline !== undefined && (run.maxTimeMS ?? op.maxTimeMS) !== false;
    const session = sessionFor(ctx, op, exec, wireVersion, lstm);
    const body = finishCommand(ctx, op, exec, session, cmd, wireVersion, clock, rtt, timed, run.txnNumber);
    const options: ServerCommandOptionsLike = {
      operation: op.writeStage === true ? "read" : op.kind,
      signal: clock.signal,
      onConnection: checkedOut(clock, address, timed ? body : undefined, rtt),
    };
    if (op.kind === "read" || op.writeStage === true) options.readPreference = readPreference;
    // Unacknowledged (w: 0): OP_MSG's moreToCome, no reply awaited (the command monitoring spec's reply is { ok: 1 }).
    if (op.kind === "write" && (body.writeConcern as Document | undefined)?.w === 0) options.moreToCome = true;
    if (sequences !== undefined) options.sequences = sequences;
    const socketTimeoutMS = clock.socketTimeoutMS(op.socketTimeoutMS);
    if (socketTimeoutMS !== undefined) options.socketTimeoutMS = socketTimeoutMS;
    return observed(ctx, session, server.command(op.db, body, options));
  };
  if ("command" in plan) {
    let reply: Document;
    try {
      reply = await sendCommand(plan.command, plan.sequences, {});
    } catch (error) {
      if (
        plan.writeConcernErrorInReply === true && error instanceof WriteConcernError &&
        !(exec.retryConcernError && isRetryableWriteError(error, wireVersion))
      ) {
        return plan.parse(error.response as Document, error);
      }
      throw error;
    }
    return plan.parse(reply);
  }
  return await plan.run({
    server,
    retryableWrite: exec.retryConcernError,
    command: (cmd, options = {}) => sendCommand(cmd, options.sequences, options),
    withConnection: (fn) => {
      clock.enter("connectionCheckout", server.address);
      return server.withConnection((conn) => {
        clock.enter("reply", server.address);
        return fn(pinned(ctx, op, exec, conn, clock, rtt, lstm));
      }, clock.signal === undefined ? undefined : { signal: clock.signal });
    },
  });
}

function pinned(
  ctx: ClientContext,
  op: Operation<unknown>,
  exec: Execution,
  conn: WireConnectionLike,
  clock: Clock,
  rtt: number,
  lstm: number | null,
): PinnedConnection {
  const wire: { signal?: AbortSignal; socketTimeoutMS?: number } = {};
  if (clock.signal !== undefined) wire.signal = clock.signal;
  const socketTimeoutMS = clock.socketTimeoutMS(op.socketTimeoutMS);
  if (socketTimeoutMS !== undefined) wire.socketTimeoutMS = socketTimeoutMS;
  return {
    conn,
    wire,
    command(cmd, options = {}) {
      const timed = clock.deadline !== undefined && (options.maxTimeMS ?? op.maxTimeMS) !== false;
      const session = sessionFor(ctx, op, exec, conn.maxWireVersion, lstm);
      const body = finishCommand(ctx, op, exec, session, cmd, conn.maxWireVersion, clock, rtt, timed, options.txnNumber);
      const sent: { signal?: AbortSignal; socketTimeoutMS?: number; sequences?: DocumentSequence[]; moreToCome?: boolean } =
        options.sequences === undefined ? { ...wire } : { ...wire, sequences: options.sequences };
      // Unacknowledged (w: 0), as in sendCommand: moreToCome, no reply awaited.
      if (op.kind === "write" && (body.writeConcern as Document | undefined)?.w === 0) sent.moreToCome = true;
      return observed(ctx, session, conn.command(op.db, body, sent));
    },
    maxTimeMS(own) {
      if (clock.deadline === undefined) return own;
      return clock.deadline.infinite ? undefined : maxTimeMSLeft(clock, rtt);
    },
  };
}

/**
 * What happens once a connection is checked out, just before the command is
 * written: the reply is now awaited, and `maxTimeMS` is set from the time
 * left. Made here, not in `attemptOn`, so that it holds nothing of the
 * operation (a closure keeps its enclosing scopes alive; a test fake keeps
 * the options it was given).
 */
function checkedOut(clock: Clock, address: string, timedBody: Document | undefined, rtt: number): () => void {
  return () => {
    clock.enter("reply", address);
    if (timedBody !== undefined) clock.setMaxTimeMS(timedBody, rtt);
  };
}

function maxTimeMSLeft(clock: Clock, rtt: number): number {
  const left = Math.floor(clock.deadline!.remaining() - rtt);
  if (left < 1) {
    const remaining = Math.max(0, Math.round(clock.deadline!.remaining()));
    throw clock.fired ?? clock.expired(undefined, `${remaining} ms left, round trip ~${Math.round(rtt)} ms`);
  }
  return left;
}
