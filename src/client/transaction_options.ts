/**
 * The options of a transaction: {@linkcode TransactionOptions} as given to
 * `startTransaction` / `withTransaction` or as a session's
 * `defaultTransactionOptions`, checked, and resolved when a transaction
 * starts (its own, else the session's defaults, else the client's).
 *
 * @module
 */

import { ConfigurationError, TransactionError } from "../errors.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { show } from "./_internal.ts";

/**
 * Options of one transaction (`startTransaction(options)`,
 * `withTransaction(fn, options)`, or a session's
 * `defaultTransactionOptions`). Each one not given is inherited from the
 * session's `defaultTransactionOptions`, then from the client.
 *
 * @example
 * ```ts
 * import type { TransactionOptions } from "@zerodep/mongo";
 *
 * const options: TransactionOptions = {
 *   readConcern: { level: "snapshot" },
 *   writeConcern: { w: "majority" },
 *   readPreference: "primary",
 *   maxCommitTimeMS: 5000,
 * };
 * ```
 */
export interface TransactionOptions {
  /** Sent on the transaction's first command only (`{}`: the server's default, nothing sent). */
  readonly readConcern?: ReadConcern;
  /** Sent on `commitTransaction` and `abortTransaction` only. Must be acknowledged (not `w: 0`). */
  readonly writeConcern?: WriteConcern;
  /** Used by every read in the transaction; a read fails before any I/O unless it is primary. */
  readonly readPreference?: ReadPreferenceLike;
  /** Sent as `maxTimeMS` on `commitTransaction` only (when given). */
  readonly maxCommitTimeMS?: number;
}

/**
 * A transaction's options once resolved (what it runs with).
 *
 * @example
 * ```ts
 * import { ReadPreference, type ResolvedTransactionOptions } from "@zerodep/mongo";
 *
 * const resolved: ResolvedTransactionOptions = {
 *   readConcern: {},
 *   writeConcern: { w: "majority" },
 *   readPreference: ReadPreference.PRIMARY,
 *   maxCommitTimeMS: undefined,
 * };
 * ```
 */
export interface ResolvedTransactionOptions {
  /** Sent on the first command; `{}` for the server's default. */
  readonly readConcern: ReadConcern;
  /** Sent on commitTransaction / abortTransaction; `{}` for the server's default. */
  readonly writeConcern: WriteConcern;
  /** The read preference of reads in the transaction (must be primary when one runs). */
  readonly readPreference: ReadPreference;
  /** `maxTimeMS` of commitTransaction, if given. */
  readonly maxCommitTimeMS: number | undefined;
}

/**
 * What a transaction inherits from its client when neither it nor its session says.
 *
 * @example
 * ```ts
 * import { ReadPreference, type TransactionDefaults } from "@zerodep/mongo";
 *
 * const client: TransactionDefaults = { readConcern: {}, writeConcern: { w: 1 }, readPreference: ReadPreference.PRIMARY };
 * ```
 */
export interface TransactionDefaults {
  /** The client's read concern (`{}`: the server's default). */
  readonly readConcern: ReadConcern;
  /** The client's write concern (`{}`: the server's default). */
  readonly writeConcern: WriteConcern;
  /** The client's read preference. */
  readonly readPreference: ReadPreference;
}

const OPTION_NAMES = new Set([
  "readConcern",
  "writeConcern",
  "readPreference",
  "maxCommitTimeMS",
]);

/**
 * Checks transaction options given in code: known names only, each of the
 * right type. Returns a frozen copy without `undefined` fields (the read
 * preference as a {@linkcode ReadPreference}).
 *
 * @throws {ConfigurationError} naming the bad option.
 *
 * @example
 * ```ts
 * import { checkTransactionOptions } from "./transaction_options.ts";
 *
 * const options = checkTransactionOptions({ writeConcern: { w: "majority" } });
 * console.log(options.writeConcern); // { w: "majority" }
 * ```
 */
export function checkTransactionOptions(
  value: unknown,
  where = "transaction options",
): TransactionOptions {
  if (value === undefined) return Object.freeze({});
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigurationError(
      `${where} must be an object, got ${show(value)}`,
    );
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!OPTION_NAMES.has(key) && input[key] !== undefined) {
      throw new ConfigurationError(
        `${where}: unknown option ${
          JSON.stringify(key)
        } (expected readConcern, writeConcern, readPreference or maxCommitTimeMS)`,
      );
    }
  }
  const out: {
    readConcern?: ReadConcern;
    writeConcern?: WriteConcern;
    readPreference?: ReadPreference;
    maxCommitTimeMS?: number;
  } = {};
  if (input.readConcern !== undefined) {
    out.readConcern = checkReadConcern(
      input.readConcern,
      `${where}.readConcern`,
    );
  }
  if (input.writeConcern !== undefined) {
    out.writeConcern = checkWriteConcern(
      input.writeConcern,
      `${where}.writeConcern`,
    );
  }
  if (input.readPreference !== undefined) {
    out.readPreference = ReadPreference.from(
      input.readPreference as ReadPreferenceLike,
    );
  }
  const max = input.maxCommitTimeMS;
  if (max !== undefined) {
    if (typeof max !== "number" || !Number.isInteger(max) || max < 0) {
      throw new ConfigurationError(
        `${where}.maxCommitTimeMS must be an integer >= 0 (ms), got ${show(max)}`,
      );
    }
    out.maxCommitTimeMS = max;
  }
  return Object.freeze(out);
}

/**
 * Resolves a transaction's options: each given one, else the session's
 * default, else the client's.
 *
 * @throws {TransactionError} when the write concern resolved is unacknowledged (`w: 0`).
 *
 * @example
 * ```ts
 * import { ReadPreference } from "@zerodep/mongo";
 * import { resolveTransactionOptions } from "./transaction_options.ts";
 *
 * const resolved = resolveTransactionOptions({}, { writeConcern: { w: "majority" } }, {
 *   readConcern: {},
 *   writeConcern: { w: 1 },
 *   readPreference: ReadPreference.PRIMARY,
 * });
 * console.log(resolved.writeConcern); // { w: "majority" }
 * ```
 */
export function resolveTransactionOptions(
  options: TransactionOptions | undefined,
  sessionDefaults: TransactionOptions | undefined,
  client: TransactionDefaults,
): ResolvedTransactionOptions {
  const own = checkTransactionOptions(options);
  const defaults = checkTransactionOptions(
    sessionDefaults,
    "defaultTransactionOptions",
  );
  const writeConcern = own.writeConcern ?? defaults.writeConcern ??
    client.writeConcern;
  if (writeConcern.w === 0) {
    throw new TransactionError(
      "transactions do not support unacknowledged write concerns (w: 0); " +
        'give the transaction an acknowledged writeConcern such as { w: "majority" }',
    );
  }
  return Object.freeze({
    readConcern: own.readConcern ?? defaults.readConcern ?? client.readConcern,
    writeConcern,
    readPreference: (own.readPreference ?? defaults.readPreference ??
      client.readPreference) as ReadPreference,
    maxCommitTimeMS: own.maxCommitTimeMS ?? defaults.maxCommitTimeMS,
  });
}
