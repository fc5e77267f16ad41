/**
 * Retryable writes on a simulated primary: a write command that carries
 * `lsid` and `txnNumber` (and no `autocommit`) executes each statement (its
 * index in the batch is its `stmtId`, as mongod numbers them) at most once.
 * A statement already executed under the same session and txnNumber is not
 * applied again: its stored result goes into the reply instead. A txnNumber
 * older than the session's newest gets TransactionTooOld (225).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Binary } from "../bson/mod.ts";
 * import { Store } from "./store.ts";
 * import { RetryableStatements } from "./retryable_writes.ts";
 *
 * const store = new Store();
 * const host = { store, logChange: (c: Parameters<Store["apply"]>[0]) => store.apply(c) };
 * const lsid = { id: new Binary(new Uint8Array(16), 4) };
 * const retry = RetryableStatements.open(host, { insert: "c", lsid, txnNumber: 1 });
 * assert.ok(retry instanceof RetryableStatements);
 * retry.begin(0);
 * host.logChange(retry.tag({ op: "i", ns: "test.c", doc: { _id: 1 } }));
 * retry.end({ n: 1 });
 * assert.deepEqual(retry.stored(0), { n: 1 });
 * ```
 *
 * @module
 */
import { type Document, Int64 } from "../bson/mod.ts";
import { isPlainDocument, numericValue } from "./query.ts";
import type { OplogChange, Store } from "./store.ts";
import type { TransactionalWriteAction } from "./fail_points.ts";
import { codeNameOf } from "./fail_points.ts";
import { serverError } from "./_server_error.ts";
import { type SessionWrite, sessionKey } from "./session_table.ts";

/**
 * The commands whose statements are retryable.
 *
 * @example
 * ```ts
 * import { RETRYABLE_WRITE_COMMANDS } from "./retryable_writes.ts";
 *
 * console.log(RETRYABLE_WRITE_COMMANDS.has("insert")); // true
 * ```
 */
export const RETRYABLE_WRITE_COMMANDS: ReadonlySet<string> = new Set([
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
]);

/**
 * TransactionTooOld (225).
 *
 * @example
 * ```ts
 * import { TRANSACTION_TOO_OLD } from "./retryable_writes.ts";
 *
 * console.log(TRANSACTION_TOO_OLD); // 225
 * ```
 */
export const TRANSACTION_TOO_OLD = 225;

/**
 * What the statements need from the member: its data and its oplog.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * import type { RetryHost } from "./retryable_writes.ts";
 *
 * const store = new Store();
 * const host: RetryHost = { store, logChange: (c) => store.apply(c) };
 * ```
 */
export interface RetryHost {
  readonly store: Store;
  logChange(change: OplogChange): void;
  /** `onPrimaryTransactionalWrite`, evaluated for each statement that runs (not one answered from the table). */
  readonly failPoints?: { evaluateTransactionalWrite(): TransactionalWriteAction | undefined };
}

/**
 * Whether command `name` is a retryable write (a write command with a
 * session and a txnNumber, outside a transaction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRetryableWrite } from "./retryable_writes.ts";
 *
 * assert.equal(isRetryableWrite("insert", { insert: "c", lsid: {}, txnNumber: 1 }), true);
 * assert.equal(isRetryableWrite("find", { find: "c", lsid: {}, txnNumber: 1 }), false);
 * ```
 */
export function isRetryableWrite(name: string, body: Document): boolean {
  return RETRYABLE_WRITE_COMMANDS.has(name) && body.txnNumber !== undefined && body.lsid !== undefined &&
    body.autocommit === undefined;
}

/**
 * The `txnNumber` of a command as a bigint (drivers send an int64), or
 * undefined when absent or not an integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Int64 } from "../bson/mod.ts";
 * import { txnNumberOf } from "./retryable_writes.ts";
 *
 * assert.equal(txnNumberOf({ txnNumber: new Int64(5n) }), 5n);
 * ```
 */
export function txnNumberOf(body: Document): bigint | undefined {
  const n = numericValue(body.txnNumber);
  if (n === undefined) return undefined;
  if (typeof n === "bigint") return n;
  return Number.isInteger(n) ? BigInt(n) : undefined;
}

/**
 * The statements of one retryable write command.
 *
 * @example
 * ```ts
 * import { RetryableStatements } from "./retryable_writes.ts";
 *
 * const notRetryable = RetryableStatements.open({} as never, { insert: "c" });
 * console.log(notRetryable); // undefined
 * ```
 */
export class RetryableStatements {
  #host: RetryHost;
  #key: string;
  #lsid: Document;
  #txnNumber: bigint;
  #current: SessionWrite | undefined;
  #logged = false;
  #closeConnection = false;

  private constructor(host: RetryHost, key: string, lsid: Document, txnNumber: bigint) {
    this.#host = host;
    this.#key = key;
    this.#lsid = lsid;
    this.#txnNumber = txnNumber;
  }

  /**
   * The statements of `body` when it is a retryable write (an `lsid` and a
   * `txnNumber`, no `autocommit`); undefined otherwise; a TransactionTooOld
   * error reply when the session already moved past its txnNumber.
   */
  static open(host: RetryHost, body: Document): RetryableStatements | Document | undefined {
    if (body.autocommit !== undefined) return undefined;
    const txnNumber = txnNumberOf(body);
    const key = sessionKey(body.lsid);
    if (txnNumber === undefined || key === undefined || !isPlainDocument(body.lsid)) return undefined;
    const row = host.store.sessions.get(key);
    if (row !== undefined && row.txnNumber > txnNumber) {
      return {
        ok: 0,
        errmsg: `Retryable write with txnNumber ${txnNumber} is prohibited on session ${key} because a newer ` +
          `retryable write with txnNumber ${row.txnNumber} has already started on this session.`,
        code: TRANSACTION_TOO_OLD,
        codeName: "TransactionTooOld",
      };
    }
    return new RetryableStatements(host, key, body.lsid, txnNumber);
  }

  /** The stored result of statement `stmtId` when it already executed. */
  stored(stmtId: number): Document | undefined {
    return this.#host.store.sessions.executed(this.#key, this.#txnNumber, stmtId);
  }

  /**
   * Whether `onPrimaryTransactionalWrite` fired with `closeConnection`: the
   * command's reply is lost (the connection closes).
   */
  get closeConnection(): boolean {
    return this.#closeConnection;
  }

  /**
   * Starts statement `stmtId`: the changes it logs carry it (see `tag`).
   *
   * @throws {MongoError} the `failBeforeCommitExceptionCode` of an `onPrimaryTransactionalWrite` that fired.
   */
  begin(stmtId: number): void {
    const fired = this.#host.failPoints?.evaluateTransactionalWrite();
    if (fired !== undefined) {
      if (fired.closeConnection) this.#closeConnection = true;
      const code = fired.failBeforeCommitExceptionCode;
      if (code !== undefined) throw serverError(code, codeNameOf(code), "Failing write for test");
    }
    this.#current = {
      key: this.#key,
      lsid: this.#lsid,
      txnNumber: this.#txnNumber,
      stmtId,
      outcome: {},
    };
    this.#logged = false;
  }

  /** `change` carrying the running statement, for the oplog. */
  tag(change: OplogChange): OplogChange {
    if (this.#current === undefined) return change;
    this.#logged = true;
    return { ...change, session: this.#current };
  }

  /** Ends the running statement with its result; one that changed nothing still logs its execution (a no-op entry). */
  end(result: Document): void {
    const current = this.#current;
    if (current === undefined) return;
    this.#current = undefined;
    current.outcome!.result = result;
    if (!this.#logged) this.#host.logChange({ op: "n", session: current });
  }

  /** The running statement failed: nothing is recorded, a retry runs it again. */
  fail(): void {
    this.#current = undefined;
  }

  /** The txnNumber, as an int64. */
  get txnNumber(): Int64 {
    return new Int64(this.#txnNumber);
  }
}
