/**
 * The server error codes the driver (and its simulator) acts on, by the names
 * the MongoDB specifications and the server's `error_codes.yml` give them, and
 * the classification sets built from them: SDAM's "not writable primary" and
 * "node is recovering" errors, and the codes a read may be retried on.
 * Every layer imports it; it imports nothing.
 *
 * @module
 */

/**
 * Server error codes by name (`code` and `codeName` of an `ok: 0` reply).
 *
 * @example
 * ```ts
 * import { ErrorCode } from "./error_codes.ts";
 *
 * const reply = { ok: 0, code: 10107, codeName: "NotWritablePrimary" };
 * console.log(reply.code === ErrorCode.NotWritablePrimary); // true
 * ```
 */
export const ErrorCode = Object.freeze({
  BadValue: 2,
  HostUnreachable: 6,
  HostNotFound: 7,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  InvalidBSON: 22,
  NamespaceNotFound: 26,
  CursorNotFound: 43,
  MaxTimeMSExpired: 50,
  WriteConcernFailed: 64,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  ReadConcernMajorityNotAvailableYet: 134,
  PrimarySteppedDown: 189,
  ExceededTimeLimit: 262,
  SocketException: 9001,
  LegacyNotPrimary: 10058,
  NotWritablePrimary: 10107,
  BSONObjectTooLarge: 10334,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  // Codes the simulated server reports for data and catalog errors.
  FailedToParse: 9,
  IndexNotFound: 27,
  NamespaceExists: 48,
  CommandNotFound: 59,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  DocumentValidationFailure: 121,
  DuplicateKey: 11000,
  CappedPositionLost: 136,
  QueryPlanKilled: 175,
  NotImplemented: 238,
} as const);

/**
 * A name of {@linkcode ErrorCode}.
 *
 * @example
 * ```ts
 * import type { ErrorCodeName } from "./error_codes.ts";
 *
 * const name: ErrorCodeName = "PrimarySteppedDown";
 * ```
 */
export type ErrorCodeName = keyof typeof ErrorCode;

const C = ErrorCode;

/**
 * SDAM's "not writable primary" codes: NotWritablePrimary,
 * NotPrimaryNoSecondaryOk, LegacyNotPrimary.
 *
 * @example
 * ```ts
 * import { NOT_PRIMARY_CODES } from "./error_codes.ts";
 *
 * console.log(NOT_PRIMARY_CODES.has(10107)); // true
 * ```
 */
export const NOT_PRIMARY_CODES: ReadonlySet<number> = new Set([
  C.NotWritablePrimary,
  C.NotPrimaryNoSecondaryOk,
  C.LegacyNotPrimary,
]);

/**
 * SDAM's "node is recovering" codes: InterruptedAtShutdown,
 * InterruptedDueToReplStateChange, NotPrimaryOrSecondary, PrimarySteppedDown,
 * ShutdownInProgress.
 *
 * @example
 * ```ts
 * import { NODE_IS_RECOVERING_CODES } from "./error_codes.ts";
 *
 * console.log(NODE_IS_RECOVERING_CODES.has(189)); // true
 * ```
 */
export const NODE_IS_RECOVERING_CODES: ReadonlySet<number> = new Set([
  C.InterruptedAtShutdown,
  C.InterruptedDueToReplStateChange,
  C.NotPrimaryOrSecondary,
  C.PrimarySteppedDown,
  C.ShutdownInProgress,
]);

/**
 * The "node is shutting down" subset of the recovering codes:
 * InterruptedAtShutdown, ShutdownInProgress.
 *
 * @example
 * ```ts
 * import { SHUTDOWN_CODES } from "./error_codes.ts";
 *
 * console.log(SHUTDOWN_CODES.has(91), SHUTDOWN_CODES.has(189)); // true false
 * ```
 */
export const SHUTDOWN_CODES: ReadonlySet<number> = new Set([C.InterruptedAtShutdown, C.ShutdownInProgress]);

/**
 * The codes a read may be retried on (the retryable reads specification):
 * the state-change codes plus HostNotFound, HostUnreachable, NetworkTimeout,
 * SocketException, ExceededTimeLimit and ReadConcernMajorityNotAvailableYet.
 *
 * @example
 * ```ts
 * import { RETRYABLE_READ_CODES } from "./error_codes.ts";
 *
 * console.log(RETRYABLE_READ_CODES.has(9001)); // true
 * ```
 */
export const RETRYABLE_READ_CODES: ReadonlySet<number> = new Set([
  C.InterruptedAtShutdown,
  C.InterruptedDueToReplStateChange,
  C.NotWritablePrimary,
  C.NotPrimaryNoSecondaryOk,
  C.NotPrimaryOrSecondary,
  C.PrimarySteppedDown,
  C.ShutdownInProgress,
  C.HostNotFound,
  C.HostUnreachable,
  C.NetworkTimeout,
  C.SocketException,
  C.ExceededTimeLimit,
  C.ReadConcernMajorityNotAvailableYet,
]);
