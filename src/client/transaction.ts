/**
 * Transactions on a session (the transactions specification): the state
 * machine (`NO_TRANSACTION` → `STARTING_TRANSACTION` →
 * `TRANSACTION_IN_PROGRESS` → `TRANSACTION_COMMITTED` / `TRANSACTION_ABORTED`),
 * what each command of a transaction carries (its options:
 * `transaction_options.ts`), and the `commitTransaction` / `abortTransaction`
 * commands with their retry and error-label rules. A `ClientSession` owns one
 * {@linkcode Transaction} and delegates to it.
 *
 * @module
 */

import {
  AutoReconnect,
  ConnectionFailure,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  PoolClearedError,
  PoolClosedError,
  ServerSelectionError,
  TransactionError,
  WaitQueueTimeoutError,
  WireProtocolError,
  WriteConcernError,
} from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import { RETRYABLE_READ_CODES } from "../error_codes.ts";
import type { WriteConcern } from "./write_concern.ts";
import {
  type ResolvedTransactionOptions,
  resolveTransactionOptions,
  type TransactionDefaults,
  type TransactionOptions,
} from "./transaction_options.ts";

export type { ResolvedTransactionOptions, TransactionDefaults, TransactionOptions } from "./transaction_options.ts";

/**
 * Where a session stands with its transaction. A new session has
 * `"NO_TRANSACTION"`; `startTransaction()` moves it to
 * `"STARTING_TRANSACTION"`, its first command to `"TRANSACTION_IN_PROGRESS"`,
 * `commitTransaction()` / `abortTransaction()` to `"TRANSACTION_COMMITTED"` /
 * `"TRANSACTION_ABORTED"`. The next operation on the session after a commit or
 * abort (not a commit or abort) moves it back to `"NO_TRANSACTION"`.
 *
 * @example
 * ```ts
 * import type { TransactionState } from "@zerodep/mongo";
 *
 * const state: TransactionState = "TRANSACTION_IN_PROGRESS";
 * ```
 */
export type TransactionState =
  | "NO_TRANSACTION"
  | "STARTING_TRANSACTION"
  | "TRANSACTION_IN_PROGRESS"
  | "TRANSACTION_COMMITTED"
  | "TRANSACTION_ABORTED";

/**
 * What the transaction needs to know of an operation run in it (checked before any I/O).
 *
 * @example
 * ```ts
 * import type { TransactionOperation } from "@zerodep/mongo";
 *
 * const op: TransactionOperation = { name: "find", kind: "read", explicitReadConcern: false };
 * ```
 */
export interface TransactionOperation {
  /** The command's name (`"find"`, `"insert"`, ...). */
  readonly name: string;
  /** A read is checked against the transaction's read preference. */
  readonly kind: "read" | "write";
  /** Whether the caller gave `readConcern` on this operation itself (not inherited). */
  readonly explicitReadConcern?: boolean;
  /** Whether the caller gave `writeConcern` on this operation itself (not inherited). */
  readonly explicitWriteConcern?: boolean;
  /** A read preference the caller gave on this operation itself, if any. */
  readonly readPreference?: ReadPreference;
}

/**
 * Runs one `commitTransaction` / `abortTransaction` command (the body given,
 * to the admin database, on a newly selected primary) and returns the reply;
 * throws the error of the attempt (a `WriteConcernError` for an `ok: 1` reply
 * with a `writeConcernError`). The session supplies it; it adds `lsid`,
 * `txnNumber` and `autocommit` through {@linkcode Transaction.applyToCommand}.
 *
 * @example
 * ```ts
 * import type { TransactionCommandRunner } from "@zerodep/mongo";
 *
 * const sent: object[] = [];
 * const run: TransactionCommandRunner = async (command) => {
 *   sent.push(command);
 *   return { ok: 1 };
 * };
 * ```
 */
export type TransactionCommandRunner = (command: Document) => Promise<Document>;

/** The write concern codes a retried commit would fail with again (no UnknownTransactionCommitResult). */
const UNSATISFIABLE_WRITE_CONCERN_CODES = new Set([79, 100]);
const UNSATISFIABLE_WRITE_CONCERN_NAMES = new Set([
  "UnknownReplWriteConcern",
  "CannotSatisfyWriteConcern",
  "UnsatisfiableWriteConcern",
]);
const MAX_TIME_MS_EXPIRED = 50;

/** The `wtimeout` a retried commit adds to `w: "majority"` when it has none. */
export const COMMIT_RETRY_WTIMEOUT_MS = 10_000;

/**
 * The transaction of one session: its state, its resolved options while one
 * runs, and the rules for the commands sent in it. `ClientSession` creates one
 * and delegates `startTransaction`, `commitTransaction`, `abortTransaction`
 * and `inTransaction` to it; `execute` asks it to decorate each command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, Transaction } from "@zerodep/mongo";
 *
 * const txn = new Transaction();
 * txn.start({}, undefined, { readConcern: {}, writeConcern: {}, readPreference: ReadPreference.PRIMARY });
 * assert.equal(txn.state, "STARTING_TRANSACTION");
 * const first = txn.applyToCommand({ insert: "c", documents: [{}] }, 1n);
 * assert.equal(first.startTransaction, true);
 * assert.equal(txn.state, "TRANSACTION_IN_PROGRESS");
 * await txn.commit(async () => ({ ok: 1 }));
 * assert.equal(txn.state, "TRANSACTION_COMMITTED");
 * ```
 */
export class Transaction {
  #state: TransactionState = "NO_TRANSACTION";
  #options: ResolvedTransactionOptions | undefined;
  /** A commit or abort that sent no command (the transaction had none). */
  #commandless = false;
  /** Whether a commitTransaction command was already sent for this transaction (the next one is a retry). */
  #commitSent = false;

  /** The current state. */
  get state(): TransactionState {
    return this.#state;
  }

  /** The options of the current (or last) transaction; `undefined` before the first one. */
  get options(): ResolvedTransactionOptions | undefined {
    return this.#options;
  }

  /** Whether a transaction is starting or in progress (what `session.inTransaction()` says). */
  get isActive(): boolean {
    return this.#state === "STARTING_TRANSACTION" ||
      this.#state === "TRANSACTION_IN_PROGRESS";
  }

  /**
   * Starts a transaction (the caller increments its server session's
   * `txnNumber` after this returns). Nothing changes when it throws.
   *
   * @throws {TransactionError} "Transaction already in progress", or an unacknowledged write concern.
   * @throws {ConfigurationError} for bad options.
   */
  start(
    options: TransactionOptions | undefined,
    sessionDefaults: TransactionOptions | undefined,
    client: TransactionDefaults,
  ): void {
    if (this.isActive) {
      throw new TransactionError(
        "Transaction already in progress: commit or abort it before starting another one on this session",
      );
    }
    this.#options = resolveTransactionOptions(options, sessionDefaults, client);
    this.#state = "STARTING_TRANSACTION";
    this.#commandless = false;
    this.#commitSent = false;
  }

  /**
   * Called for every operation run with the session, before anything is
   * built: after a commit or abort the session leaves the transaction
   * (`NO_TRANSACTION`); inside one, the operation is checked.
   *
   * @throws {TransactionError} for a readConcern or writeConcern given on the
   *   operation, or a read whose read preference is not primary.
   */
  checkOperation(op: TransactionOperation): void {
    if (op.name === "commitTransaction" || op.name === "abortTransaction") {
      return;
    }
    if (
      this.#state === "TRANSACTION_COMMITTED" ||
      this.#state === "TRANSACTION_ABORTED"
    ) {
      this.#state = "NO_TRANSACTION";
      return;
    }
    if (!this.isActive) return;
    if (op.explicitReadConcern) {
      throw new TransactionError(
        `Cannot set read concern after starting a transaction${of(op)}: give readConcern to startTransaction instead`,
      );
    }
    if (op.explicitWriteConcern) {
      throw new TransactionError(
        `Cannot set write concern after starting a transaction${of(op)}: give writeConcern to startTransaction instead`,
      );
    }
    if (op.kind === "read") {
      const pref = op.readPreference ?? this.#options!.readPreference;
      if (pref.mode !== "primary") {
        throw new TransactionError(
          `read preference in a transaction must be primary, got ${JSON.stringify(pref.mode)}${of(op)}`,
        );
      }
    }
  }

  /**
   * Checks the options an operation was given itself (not inherited) while a
   * transaction runs, before any I/O: no `readConcern`, no `writeConcern`, a
   * read preference (if given) that is primary. Outside a transaction it only
   * leaves a committed or aborted one.
   *
   * @throws {TransactionError} as {@linkcode Transaction.checkOperation}.
   */
  checkExplicitOptions(name: string | undefined, options: object): void {
    const o = options as {
      readonly readConcern?: unknown;
      readonly writeConcern?: unknown;
      readonly readPreference?: unknown;
    };
    const rp = o.readPreference;
    this.checkOperation({
      name: name ?? "",
      kind: rp === undefined ? "write" : "read",
      explicitReadConcern: o.readConcern !== undefined,
      explicitWriteConcern: o.writeConcern !== undefined,
      readPreference: rp === undefined ? undefined : ReadPreference.from(rp as ReadPreferenceLike),
    });
  }

  /** The read preference operations in the transaction run with (primary outside one). */
  get readPreference(): ReadPreference | undefined {
    return this.isActive ? this.#options!.readPreference : undefined;
  }

  /**
   * Adds the transaction's fields to a command of the transaction: `txnNumber`
   * and `autocommit: false` always; `startTransaction: true` and the
   * transaction's readConcern (when not the server's default) on the first;
   * no readConcern or writeConcern inherited from the client, database or
   * collection (commitTransaction and abortTransaction keep the write concern
   * their body carries). The first command moves the state to
   * `TRANSACTION_IN_PROGRESS`. Returns `body` unchanged outside a transaction.
   * The session adds `lsid` and `$clusterTime` (and `afterClusterTime` into the
   * readConcern of the first command of a causally consistent session).
   */
  applyToCommand(body: Document, txnNumber: bigint): Document {
    const commit = body.commitTransaction !== undefined ||
      body.abortTransaction !== undefined;
    if (!this.isActive && !commit) return body;
    const out: Document = { ...body };
    if (!commit) {
      delete out.readConcern;
      delete out.writeConcern;
    }
    out.txnNumber = txnNumber;
    out.autocommit = false;
    if (this.#state === "STARTING_TRANSACTION" && !commit) {
      out.startTransaction = true;
      const rc = this.#options!.readConcern;
      if (rc.level !== undefined) out.readConcern = { level: rc.level };
      this.#state = "TRANSACTION_IN_PROGRESS";
    }
    return out;
  }

  /** Whether `body` starts the transaction (carries `startTransaction: true`). */
  static isFirstCommand(body: Document): boolean {
    return body.startTransaction === true;
  }

  /**
   * Labels an error of a command run in the transaction: a network or server
   * selection error of any command but commitTransaction gets
   * `TransientTransactionError` (the transaction may be retried whole).
   */
  labelError(error: unknown, commandName: string): void {
    if (
      commandName === "commitTransaction" || commandName === "abortTransaction"
    ) return;
    if (
      this.#state !== "TRANSACTION_IN_PROGRESS" &&
      this.#state !== "STARTING_TRANSACTION"
    ) return;
    if (error instanceof MongoError && isNetworkOrSelectionError(error)) {
      error.addErrorLabel("TransientTransactionError");
    }
  }

  /**
   * Commits the transaction. Without a command sent yet, only the state
   * changes; otherwise `commitTransaction` runs with the transaction's write
   * concern (and `maxTimeMS` from `maxCommitTimeMS`), retried once after a
   * retryable error, each retry (and any later commit of the same transaction)
   * with `w: "majority"` and a `wtimeout`. The state is
   * `TRANSACTION_COMMITTED` afterwards, even on error. An error whose outcome
   * is unknown gets the `UnknownTransactionCommitResult` label.
   *
   * @throws {TransactionError} "No transaction started", or after an abort.
   */
  async commit(run: TransactionCommandRunner): Promise<void> {
    switch (this.#state) {
      case "NO_TRANSACTION":
        throw new TransactionError(
          "No transaction started: call startTransaction() first",
        );
      case "TRANSACTION_ABORTED":
        throw new TransactionError(
          "Cannot call commitTransaction after calling abortTransaction",
        );
      case "STARTING_TRANSACTION":
        this.#state = "TRANSACTION_COMMITTED";
        this.#commandless = true;
        return;
      case "TRANSACTION_COMMITTED":
        if (this.#commandless) return;
        break;
      case "TRANSACTION_IN_PROGRESS":
        break;
    }
    this.#state = "TRANSACTION_COMMITTED";
    try {
      try {
        await run(this.#commitCommand(this.#commitSent));
      } catch (error) {
        if (!isRetryableTransactionCommandError(error)) throw error;
        labelRetryable(error);
        await run(this.#commitCommand(true));
      }
    } catch (error) {
      labelCommitError(error);
      throw error;
    } finally {
      this.#commitSent = true;
    }
  }

  /**
   * Aborts the transaction. Without a command sent yet, only the state
   * changes; otherwise `abortTransaction` runs with the transaction's write
   * concern, retried once after a retryable error; its errors are ignored
   * (the server aborts the transaction anyway). The state is
   * `TRANSACTION_ABORTED` afterwards.
   *
   * @throws {TransactionError} "No transaction started", after a commit, or a second abort.
   */
  async abort(run: TransactionCommandRunner): Promise<void> {
    switch (this.#state) {
      case "NO_TRANSACTION":
        throw new TransactionError(
          "No transaction started: call startTransaction() first",
        );
      case "TRANSACTION_COMMITTED":
        throw new TransactionError(
          "Cannot call abortTransaction after calling commitTransaction",
        );
      case "TRANSACTION_ABORTED":
        throw new TransactionError("Cannot call abortTransaction twice");
      case "STARTING_TRANSACTION":
        this.#state = "TRANSACTION_ABORTED";
        this.#commandless = true;
        return;
      case "TRANSACTION_IN_PROGRESS":
        break;
    }
    this.#state = "TRANSACTION_ABORTED";
    const command = this.#abortCommand();
    try {
      try {
        await run(command);
      } catch (error) {
        if (!isRetryableTransactionCommandError(error)) throw error;
        await run(command);
      }
    } catch {
      // Ignored, as the specification says: the server aborts the transaction
      // anyway (at its age limit or when the session starts another one).
    }
  }

  #commitCommand(retry: boolean): Document {
    const options = this.#options!;
    const command: Document = { commitTransaction: 1 };
    let wc: WriteConcern = options.writeConcern;
    if (retry) {
      wc = { ...wc, w: "majority" };
      if (wc.wtimeout === undefined) {
        wc = { ...wc, wtimeout: COMMIT_RETRY_WTIMEOUT_MS };
      }
    }
    if (Object.keys(wc).length > 0) command.writeConcern = { ...wc };
    if (options.maxCommitTimeMS !== undefined) {
      command.maxTimeMS = options.maxCommitTimeMS;
    }
    return command;
  }

  #abortCommand(): Document {
    const wc = this.#options!.writeConcern;
    const command: Document = { abortTransaction: 1 };
    if (Object.keys(wc).length > 0) command.writeConcern = { ...wc };
    return command;
  }
}

/** ` (find)`: the operation's name in a message, when known. */
function of(op: TransactionOperation): string {
  return op.name === "" ? "" : ` (${op.name})`;
}

/** Network errors (no reply), server selection errors and a cleared pool. */
function isNetworkOrSelectionError(error: unknown): boolean {
  return error instanceof ConnectionFailure ||
    error instanceof ServerSelectionError ||
    error instanceof PoolClearedError ||
    (error instanceof WireProtocolError && error.address !== undefined);
}

/** The codes a write may be retried on (the retryable writes specification). */
const RETRYABLE_WRITE_CODES: ReadonlySet<number> = new Set(
  [...RETRYABLE_READ_CODES].filter((code) => code !== 134), // not ReadConcernMajorityNotAvailableYet
);

/**
 * Whether a commitTransaction / abortTransaction error may be retried once
 * (the retryable writes rules): a network error, the `RetryableWriteError`
 * label, or a retryable code in the reply or its writeConcernError when the
 * server sent no labels (before 4.4).
 */
export function isRetryableTransactionCommandError(error: unknown): boolean {
  if (
    error instanceof PoolClosedError || error instanceof WaitQueueTimeoutError
  ) return false;
  if (
    error instanceof AutoReconnect || error instanceof NetworkTimeout ||
    error instanceof PoolClearedError
  ) return true;
  if (error instanceof ConnectionFailure) return error.when !== undefined;
  if (error instanceof WireProtocolError) return error.address !== undefined;
  if (error instanceof OperationFailure) {
    if (error.hasErrorLabel("RetryableWriteError")) return true;
    // A 4.4+ server labels retryable errors itself; codes decide only when the reply has no labels.
    return !hasLabelsInReply(error) && error.code !== undefined &&
      RETRYABLE_WRITE_CODES.has(error.code);
  }
  return false;
}

/** Whether the reply (or its writeConcernError) carried an `errorLabels` field, even empty. */
function hasLabelsInReply(error: OperationFailure): boolean {
  const response = error.response as Document;
  const wce = response.writeConcernError as Document | undefined;
  return error.errorLabels.length > 0 || response.errorLabels !== undefined ||
    wce?.errorLabels !== undefined;
}

/** Network errors of commit/abort are retryable writes: they carry `RetryableWriteError`. */
function labelRetryable(error: unknown): void {
  if (
    error instanceof MongoError && isNetworkOrSelectionError(error) &&
    !(error instanceof ServerSelectionError)
  ) {
    error.addErrorLabel("RetryableWriteError");
  }
}

/** Adds `UnknownTransactionCommitResult` (and `RetryableWriteError` to network errors) to a failed commit. */
function labelCommitError(error: unknown): void {
  if (!(error instanceof MongoError)) return;
  labelRetryable(error);
  if (isNetworkOrSelectionError(error)) {
    error.addErrorLabel("UnknownTransactionCommitResult");
    return;
  }
  if (!(error instanceof OperationFailure)) return;
  const maxTime = error.code === MAX_TIME_MS_EXPIRED;
  const unsatisfiable = (error.code !== undefined &&
    UNSATISFIABLE_WRITE_CONCERN_CODES.has(error.code)) ||
    (error.codeName !== undefined &&
      UNSATISFIABLE_WRITE_CONCERN_NAMES.has(error.codeName));
  if (
    maxTime ||
    (!unsatisfiable &&
      (error instanceof WriteConcernError ||
        isRetryableTransactionCommandError(error)))
  ) {
    error.addErrorLabel("UnknownTransactionCommitResult");
  }
}
