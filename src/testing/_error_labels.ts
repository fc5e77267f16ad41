/**
 * The error labels mongod (4.4+) puts on an error reply, from the command's
 * session fields: `TransientTransactionError` on a transaction's statement
 * (and on a commit or abort that found no transaction),
 * `RetryableWriteError` on a retryable write's (or a commit's or abort's)
 * retryable error.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ErrorCode, RETRYABLE_READ_CODES } from "../error_codes.ts";

/**
 * WriteConflict (112).
 *
 * @example
 * ```ts
 * import { WRITE_CONFLICT } from "./_error_labels.ts";
 *
 * console.log(WRITE_CONFLICT); // 112
 * ```
 */
export const WRITE_CONFLICT = 112;
/**
 * NoSuchTransaction (251).
 *
 * @example
 * ```ts
 * import { NO_SUCH_TRANSACTION } from "./_error_labels.ts";
 *
 * console.log(NO_SUCH_TRANSACTION); // 251
 * ```
 */
export const NO_SUCH_TRANSACTION = 251;

// The retryable writes specification's codes: the retryable read ones but
// ReadConcernMajorityNotAvailableYet.
const RETRYABLE_WRITE_CODES: ReadonlySet<number> = new Set(
  [...RETRYABLE_READ_CODES].filter((c) => c !== ErrorCode.ReadConcernMajorityNotAvailableYet),
);

const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  WRITE_CONFLICT,
  24, // LockTimeout
  267, // PreparedTransactionInProgress
]);

/**
 * Whether `name` ends a transaction (`commitTransaction`, `abortTransaction`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endsTransaction } from "./_error_labels.ts";
 *
 * assert.equal(endsTransaction("commitTransaction"), true);
 * ```
 */
export function endsTransaction(name: string): boolean {
  return name === "commitTransaction" || name === "abortTransaction";
}

/**
 * The labels mongod gives a reply of command `body` (named `name`) that
 * failed with `code` (ok: 0) and/or carries a write concern error of code
 * `writeConcernCode`, or undefined for none: TransientTransactionError only
 * for a command error inside a transaction, RetryableWriteError for either
 * kind of error of a retryable write, commit or abort.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorLabelsFor } from "./_error_labels.ts";
 *
 * const inTxn = { insert: "c", txnNumber: 1, autocommit: false };
 * assert.deepEqual(errorLabelsFor("insert", inTxn, 112, undefined), ["TransientTransactionError"]);
 * assert.equal(errorLabelsFor("insert", inTxn, undefined, 91), undefined);
 * assert.deepEqual(errorLabelsFor("insert", { insert: "c", txnNumber: 1 }, undefined, 91), ["RetryableWriteError"]);
 * ```
 */
export function errorLabelsFor(
  name: string,
  body: Document,
  code: number | undefined,
  writeConcernCode: number | undefined,
): string[] | undefined {
  const inTransaction = body.autocommit !== undefined;
  const commitOrAbort = endsTransaction(name);
  const labels: string[] = [];
  if (inTransaction && code !== undefined) {
    let transient = TRANSIENT_CODES.has(code);
    if (commitOrAbort) transient ||= code === NO_SUCH_TRANSACTION && writeConcernCode === undefined;
    else transient ||= RETRYABLE_WRITE_CODES.has(code) || code === NO_SUCH_TRANSACTION;
    if (transient) labels.push("TransientTransactionError");
  }
  const retryableWrite = body.txnNumber !== undefined && (!inTransaction || commitOrAbort);
  const retryable = (c: number | undefined) => c !== undefined && RETRYABLE_WRITE_CODES.has(c);
  if (retryableWrite && (retryable(code) || retryable(writeConcernCode))) labels.push("RetryableWriteError");
  return labels.length > 0 ? labels : undefined;
}

/**
 * Adds the labels of `reply` (an `ok: 0` reply, or one with a
 * `writeConcernError`) when it has none yet, as a server of wire version
 * `wire` does (RetryableWriteError arrived with 4.4, wire 9); keeps `ok` last.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelReply } from "./_error_labels.ts";
 *
 * const reply: Record<string, unknown> = { ok: 0, code: 10107 };
 * labelReply("insert", { insert: "c", lsid: {}, txnNumber: 1 }, reply, 21);
 * assert.deepEqual(reply.errorLabels, ["RetryableWriteError"]);
 * ```
 */
export function labelReply(name: string, body: Document, reply: Document, wire: number): void {
  if (reply.errorLabels !== undefined || (body.txnNumber === undefined && body.autocommit === undefined)) return;
  const wce = reply.writeConcernError as Document | undefined;
  const failed = Number(reply.ok) === 0 && reply.code !== undefined;
  if (!failed && wce?.code === undefined) return;
  const labels = errorLabelsFor(
    name,
    body,
    failed ? Number(reply.code) : undefined,
    wce?.code === undefined ? undefined : Number(wce.code),
  )?.filter((l) => l !== "RetryableWriteError" || wire >= 9);
  if (labels === undefined || labels.length === 0) return;
  const ok = reply.ok;
  delete reply.ok;
  reply.errorLabels = labels;
  reply.ok = ok;
}
