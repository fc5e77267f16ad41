/**
 * Write concern: how many members must acknowledge a write (`w`), whether it
 * must reach the journal (`j`), and how long to wait (`wtimeout`). Set on a
 * connection, a database, a collection or one operation; the nearest one
 * given wins as a whole (fields are not merged across levels, so a
 * collection's `{w: 1}` is not silently combined with the connection's `j`).
 *
 * @module
 */

import { ConfigurationError, OptionTypeError } from "../errors.ts";
import { describeValue } from "../describe.ts";

/**
 * A write concern as sent to the server in a command's `writeConcern` field.
 * An empty object means "the server's default".
 *
 * @example
 * ```ts
 * import type { WriteConcern } from "@zerodep/mongo";
 *
 * const majority: WriteConcern = { w: "majority", j: true, wtimeout: 5000 };
 * const unacknowledged: WriteConcern = { w: 0 };
 * ```
 */
export interface WriteConcern {
  /** Members that must acknowledge: a non-negative integer, `"majority"`, or a tag set name. `0` = unacknowledged. */
  readonly w?: number | string;
  /** Wait until the write is in the on-disk journal. Not allowed with `w: 0`. */
  readonly j?: boolean;
  /** Give up waiting for `w` after this many ms (the write itself is not undone); 0 = no limit. */
  readonly wtimeout?: number;
}

/**
 * Checks a write concern given in code and returns a frozen copy without
 * `undefined` fields.
 *
 * @param value The write concern to check.
 * @param where Names the place it was given in error messages.
 * @returns A frozen copy.
 * @throws {ConfigurationError} naming the bad field.
 *
 * @example
 * ```ts
 * import { checkWriteConcern } from "@zerodep/mongo";
 *
 * console.log(checkWriteConcern({ w: "majority", wtimeout: 100 })); // { w: "majority", wtimeout: 100 }
 * ```
 */
export function checkWriteConcern(value: unknown, where = "writeConcern"): WriteConcern {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OptionTypeError(where, "an object like { w: 1, j: true, wtimeout: 1000 }", describeValue(value));
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== "w" && key !== "j" && key !== "wtimeout") {
      throw new ConfigurationError(`${where}: unknown field ${JSON.stringify(key)} (expected w, j or wtimeout)`);
    }
  }
  const out: { w?: number | string; j?: boolean; wtimeout?: number } = {};
  const { w, j, wtimeout } = input;
  if (w !== undefined) {
    if (typeof w === "number") {
      if (!Number.isInteger(w) || w < 0) {
        throw new ConfigurationError(`${where}.w must be a non-negative integer or a string, got ${describeValue(w)}`);
      }
    } else if (typeof w !== "string") {
      throw new OptionTypeError(`${where}.w`, "a non-negative integer or a non-empty string", describeValue(w));
    } else if (w.length === 0) {
      throw new ConfigurationError(`${where}.w must be a non-negative integer or a non-empty string, got ${describeValue(w)}`);
    }
    out.w = w;
  }
  if (j !== undefined) {
    if (typeof j !== "boolean") throw new OptionTypeError(`${where}.j`, "a boolean", describeValue(j));
    out.j = j;
  }
  if (wtimeout !== undefined) {
    if (typeof wtimeout !== "number") {
      throw new OptionTypeError(`${where}.wtimeout`, "a non-negative integer (ms)", describeValue(wtimeout));
    }
    if (!Number.isInteger(wtimeout) || wtimeout < 0) {
      throw new ConfigurationError(`${where}.wtimeout must be a non-negative integer (ms), got ${describeValue(wtimeout)}`);
    }
    out.wtimeout = wtimeout;
  }
  if (out.w === 0 && out.j === true) {
    throw new ConfigurationError(`${where}: j: true cannot be combined with w: 0 (an unacknowledged write)`);
  }
  return Object.freeze(out);
}
