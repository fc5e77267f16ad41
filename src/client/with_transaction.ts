/**
 * `session.withTransaction(fn, options)`: the convenient transactions API.
 * Starts a transaction, runs the callback, commits; runs the whole
 * transaction again (after a short backoff with jitter) when an error carries
 * `TransientTransactionError`, commits again when the commit's error carries
 * `UnknownTransactionCommitResult` (but not for `MaxTimeMSExpired`), and gives
 * up once the retry limit (120 s) has passed.
 *
 * @module
 */

import { MongoError, OperationTimeoutError } from "../errors.ts";
import type { TransactionOptions, TransactionState } from "./transaction.ts";
import { checkSignal, show } from "./_internal.ts";
import { ConfigurationError } from "../errors.ts";

/** How long `withTransaction` keeps retrying (the specification's 120 seconds). */
export const WITH_TRANSACTION_LIMIT_MS = 120_000;

/** The first backoff bound before a transaction is retried (ms). */
const BACKOFF_INITIAL_MS = 5;
/** The largest backoff bound (ms). */
const BACKOFF_MAX_MS = 500;
const MAX_TIME_MS_EXPIRED = 50;

/**
 * Key of a hidden `withTransaction` option, for tests only (not part of the
 * documented options): the retry limit and the clock, random source and sleep
 * it uses, so a test can shorten the 120 s limit (or move time forward)
 * without waiting.
 *
 * @example
 * ```ts
 * import { WITH_TRANSACTION_TIMING, type WithTransactionTiming } from "./with_transaction.ts";
 *
 * const timing: WithTransactionTiming = { limitMS: 0 };
 * const options = { [WITH_TRANSACTION_TIMING]: timing };
 * ```
 */
export const WITH_TRANSACTION_TIMING: unique symbol = Symbol("zerodep.mongo.withTransactionTiming");

/**
 * The testing seam behind {@linkcode WITH_TRANSACTION_TIMING}; every field
 * defaults to the real one.
 *
 * @example
 * ```ts
 * import type { WithTransactionTiming } from "./with_transaction.ts";
 *
 * let now = 0;
 * const timing: WithTransactionTiming = { limitMS: 1000, now: () => now, random: () => 0 };
 * ```
 */
export interface WithTransactionTiming {
  /** The retry limit in ms (default {@linkcode WITH_TRANSACTION_LIMIT_MS}). */
  limitMS?: number;
  /** A monotonic clock in ms (default `performance.now`). */
  now?: () => number;
  /** The jitter source, in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Waits `ms` (default a timer, cut short by the signal). */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/**
 * Options of `session.withTransaction()`: the transaction's options (each
 * inherited from the session's `defaultTransactionOptions`, then the client,
 * when not given) and a `signal` that stops the retries.
 *
 * @example
 * ```ts
 * import type { WithTransactionOptions } from "@zerodep/mongo";
 *
 * const options: WithTransactionOptions = { writeConcern: { w: "majority" }, signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface WithTransactionOptions extends TransactionOptions {
  /**
   * Stops `withTransaction`: the transaction in progress is aborted and the
   * signal's reason is thrown (the commit or callback running is not
   * interrupted, its outcome is not awaited).
   */
  readonly signal?: AbortSignal;
}

/**
 * What `withTransaction` uses of a session (a `ClientSession`, or a test's fake).
 *
 * @example
 * ```ts
 * import type { WithTransactionSession } from "./with_transaction.ts";
 *
 * function inTxn(session: WithTransactionSession): boolean {
 *   return session.transaction.state === "TRANSACTION_IN_PROGRESS";
 * }
 * ```
 */
export interface WithTransactionSession {
  /** The session's transaction, for its state. */
  readonly transaction: { readonly state: TransactionState };
  /** Starts a transaction with these options (throws in a transaction). */
  startTransaction(options?: TransactionOptions): void;
  /** Commits the transaction. */
  commitTransaction(): Promise<void>;
  /** Aborts the transaction (ignores server errors). */
  abortTransaction(): Promise<void>;
}

/**
 * Runs `fn` in a transaction on `session` and commits it, retrying as the
 * convenient transactions API says; returns what `fn` returned (from its last
 * run). `fn` may run several times (once per retry), so it must not have
 * effects outside the database it cannot repeat, and it must let the errors of
 * its operations propagate: an error swallowed inside it leaves a transaction
 * the server aborted, and the commit then fails. If `fn` commits or aborts the
 * transaction itself, `withTransaction` returns right after it.
 *
 * When the retry limit (120 s) has passed, the last error is thrown wrapped in
 * an {@linkcode OperationTimeoutError} (`phase: "withTransaction"`) that keeps
 * its error labels and has it as `cause`.
 *
 * @throws {TransactionError} when `session` is already in a transaction.
 * @throws whatever `fn` or the commit threw, when it cannot be retried.
 *
 * @example
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("mongodb://localhost:27017/?replicaSet=rs0");
 * const accounts = conn.db("bank").collection("accounts");
 * await using session = conn.startSession();
 * await session.withTransaction(async (s) => {
 *   await accounts.updateOne({ _id: "a" }, { $inc: { balance: -10 } }, { session: s });
 *   await accounts.updateOne({ _id: "b" }, { $inc: { balance: 10 } }, { session: s });
 * });
 * ```
 */
export async function withTransaction<S extends WithTransactionSession, T>(
  session: S,
  fn: (session: S) => Promise<T> | T,
  options?: WithTransactionOptions,
): Promise<T> {
  if (typeof fn !== "function") {
    throw new ConfigurationError(`withTransaction's callback must be a function, got ${show(fn)}`);
  }
  const { signal: rawSignal, ...txnOptions } = options ?? {};
  const signal = checkSignal(rawSignal);
  const timing =
    ((options as Record<symbol, unknown> | undefined)?.[WITH_TRANSACTION_TIMING] ?? {}) as WithTransactionTiming;
  delete (txnOptions as Record<symbol, unknown>)[WITH_TRANSACTION_TIMING];
  const limitMS = timing.limitMS ?? WITH_TRANSACTION_LIMIT_MS;
  const now = timing.now ?? (() => performance.now());
  const random = timing.random ?? Math.random;
  const sleep = timing.sleep ?? sleepFor;
  const start = now();
  const elapsed = () => now() - start;
  let attempt = 0;
  let lastError: unknown;

  retryTransaction: while (true) {
    signal?.throwIfAborted();
    if (attempt > 0) {
      const backoff = random() * Math.min(BACKOFF_INITIAL_MS * 1.5 ** attempt, BACKOFF_MAX_MS);
      if (elapsed() + backoff >= limitMS) throw timeoutError(lastError, limitMS);
      await sleep(backoff, signal);
    }
    session.startTransaction(txnOptions);
    attempt++;
    let result: T;
    try {
      result = await fn(session);
      signal?.throwIfAborted();
    } catch (error) {
      lastError = error;
      if (isActive(session)) await session.abortTransaction();
      if (hasLabel(error, "TransientTransactionError") && signal?.aborted !== true) {
        if (elapsed() < limitMS) continue retryTransaction;
        throw timeoutError(error, limitMS);
      }
      throw error;
    }
    if (!isActive(session)) return result; // the callback committed or aborted it

    while (true) {
      try {
        await session.commitTransaction();
        return result;
      } catch (error) {
        lastError = error;
        if (hasLabel(error, "UnknownTransactionCommitResult") && !isMaxTimeMSExpired(error)) {
          if (elapsed() >= limitMS) throw timeoutError(error, limitMS);
          if (signal?.aborted) throw error;
          continue;
        }
        if (hasLabel(error, "TransientTransactionError")) {
          if (signal?.aborted) throw error;
          continue retryTransaction;
        }
        throw error;
      }
    }
  }
}

function isActive(session: WithTransactionSession): boolean {
  const state = session.transaction.state;
  return state === "STARTING_TRANSACTION" || state === "TRANSACTION_IN_PROGRESS";
}

function hasLabel(error: unknown, label: string): boolean {
  return error instanceof MongoError && error.hasErrorLabel(label);
}

/** MaxTimeMSExpired (50), as the reply's code or its writeConcernError's. */
function isMaxTimeMSExpired(error: unknown): boolean {
  if (!(error instanceof MongoError)) return false;
  const { code, response } = error as MongoError & { code?: number; response?: Record<string, unknown> };
  if (code === MAX_TIME_MS_EXPIRED) return true;
  const wce = response?.writeConcernError as { code?: number } | undefined;
  return wce?.code === MAX_TIME_MS_EXPIRED;
}

/** The error thrown once the retry limit has passed: the last error as `cause`, its labels kept. */
function timeoutError(last: unknown, limitMS: number): OperationTimeoutError {
  const what = last instanceof Error ? `${last.name}: ${last.message}` : String(last);
  const error = new OperationTimeoutError(
    `withTransaction gave up retrying after ${limitMS} ms; the last attempt failed with ${what}`,
    { timeoutMS: limitMS, phase: "withTransaction", cause: last },
  );
  if (last instanceof MongoError) { for (const label of last.errorLabels) error.addErrorLabel(label); }
  return error;
}

/** Waits `ms`, or rejects with the signal's reason once it aborts. */
function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
