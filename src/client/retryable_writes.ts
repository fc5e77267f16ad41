// The retryable writes specification's rules that do not depend on the
// runner's state: which servers support retryable writes, which error a
// failed retryable write reports, and the rewrite of the "Transaction
// numbers" error. The runner (execute.ts) applies them. Not part of the
// public API.

import { ConnectionFailure, OperationFailure } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import { isRetryableWriteError, type ServerLike } from "./_internal.ts";

/** Sessions, and so retryable writes, need MongoDB 3.6+ (wire 6). */
const SESSIONS_WIRE_VERSION = 6;

/** The retryable writes specification's test: a server that reports sessions and is not a standalone. */
export function supportsRetryableWrites(server: ServerLike): boolean {
  const d = server.description;
  return d.logicalSessionTimeoutMinutes !== null && d.type !== "Standalone" &&
    d.maxWireVersion >= SESSIONS_WIRE_VERSION;
}

/**
 * Which error a failed retryable write reports (the specification's rules):
 * the latest error that says a write may have been attempted; an error that
 * says none was (`NoWritesPerformed`, or a client-side error before anything
 * was sent) leaves the earlier one in place.
 */
export function writeErrorToThrow(error: unknown, previous: unknown, wireVersion: number): unknown {
  if (previous === undefined) return error;
  const noWrite = error instanceof OperationFailure
    ? error.hasErrorLabel("NoWritesPerformed")
    : error instanceof ConnectionFailure
    ? error.hasErrorLabel("NoWritesPerformed") || !isRetryableWriteError(error, wireVersion)
    : true;
  return noWrite ? previous : error;
}

/**
 * IllegalOperation (20) "Transaction numbers are only allowed on a replica
 * set member or mongos": the storage engine or deployment does not support
 * retryable writes; the message says what to do (the specification's rewrite).
 */
export function transactionNumbersError(error: unknown): unknown {
  if (
    !(error instanceof OperationFailure) || error.code !== ErrorCode.IllegalOperation ||
    !error.errmsg.startsWith("Transaction numbers")
  ) return error;
  return new OperationFailure(
    "This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your connection string.",
    {
      code: error.code,
      codeName: error.codeName,
      errorLabels: error.errorLabels,
      response: error.response,
      cause: error,
    },
  );
}
