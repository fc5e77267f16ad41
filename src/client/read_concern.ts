/**
 * Read concern: which data a read may see (`level`: `"local"`,
 * `"majority"`, `"linearizable"`, `"available"`, `"snapshot"`, or any level
 * a newer server knows). Set on a client (the URI's `readConcernLevel`, or
 * `readConcern` in code), a database, a collection or one read; the nearest
 * one given wins. Sent on `find`, `aggregate` (without `$out`/`$merge`) and
 * `countDocuments`; never on `getMore`, writes or `command()`.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { show, typeError } from "./_internal.ts";

/**
 * A read concern as sent to the server in a command's `readConcern` field.
 * `{}` means "the server's default": nothing is sent, and it overrides a
 * level inherited from the client, database or collection.
 *
 * @example
 * ```ts
 * import type { ReadConcern } from "@zerodep/mongo";
 *
 * const majority: ReadConcern = { level: "majority" };
 * const serverDefault: ReadConcern = {};
 * ```
 */
export interface ReadConcern {
  /** The level; any non-empty string (unknown levels are passed on, for newer servers). */
  readonly level?: string;
}

/**
 * Checks a read concern given in code and returns a frozen copy.
 *
 * @param value The read concern to check: `{level}` or `{}`.
 * @param where Names the place it was given in error messages.
 * @returns A frozen copy without `undefined` fields.
 * @throws {ConfigurationError} for anything but an object with an optional string `level`.
 *
 * @example
 * ```ts
 * import { checkReadConcern } from "@zerodep/mongo";
 *
 * console.log(checkReadConcern({ level: "majority" })); // { level: "majority" }
 * ```
 */
export function checkReadConcern(value: unknown, where = "readConcern"): ReadConcern {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw typeError(where, 'an object like { level: "majority" }', value);
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== "level") {
      throw new ConfigurationError(`${where}: unknown field ${JSON.stringify(key)} (expected level)`);
    }
  }
  const level = input.level;
  if (level === undefined) return Object.freeze({});
  if (typeof level !== "string") throw typeError(`${where}.level`, 'a non-empty string such as "majority"', level);
  if (level.length === 0) {
    throw new ConfigurationError(`${where}.level must be a non-empty string such as "majority", got ${show(level)}`);
  }
  return Object.freeze({ level });
}
