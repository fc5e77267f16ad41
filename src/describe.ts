/**
 * How error messages name the values they complain about, in one place for
 * every layer: a string is quoted (a long one is cut), anything else is named
 * by its kind, and nothing here throws (bigints, null-prototype objects,
 * proxies of odd classes are all fine).
 *
 * @module
 */

/** Strings longer than this are cut in messages. */
const MAX_SHOWN = 80;

/**
 * Options of {@linkcode describeValue}.
 *
 * @example
 * ```ts
 * import type { DescribeOptions } from "./describe.ts";
 *
 * const options: DescribeOptions = { elements: true };
 * ```
 */
export interface DescribeOptions {
  /** Show an array's elements (`["a", 1 (a number)]`) instead of "an array". */
  elements?: boolean;
}

/**
 * A short, safe rendering of `value` for an error message: `"text"` (JSON
 * quoted, cut after 80 characters), `5 (a number)`, `10n (a bigint)`,
 * `null`, `undefined`, `an array`, `a function`, `an object`, or `a Date`,
 * `a Uint8Array`... for an instance of a class.
 *
 * @example
 * ```ts
 * import { describeValue } from "./describe.ts";
 *
 * console.log(describeValue("ten")); // "ten" (with the quotes)
 * console.log(describeValue(10)); // 10 (a number)
 * console.log(describeValue({ a: 1 })); // an object
 * console.log(describeValue(["a", 1], { elements: true })); // ["a", 1 (a number)]
 * ```
 */
export function describeValue(value: unknown, options?: DescribeOptions): string {
  if (typeof value === "string") {
    return value.length <= MAX_SHOWN
      ? JSON.stringify(value)
      : `${JSON.stringify(value.slice(0, MAX_SHOWN))}... (${value.length} characters)`;
  }
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n (a bigint)`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) {
    return options?.elements === true ? `[${value.map((v) => describeValue(v, options)).join(", ")}]` : "an array";
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return "an object";
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" && name !== "Object" ? `${article(name)} ${name}` : "an object";
  }
  return `${String(value)} (a ${typeof value})`;
}

/**
 * The name and message of an error (`ConnectionFailure: connection refused`),
 * or the string form of anything else thrown.
 *
 * @example
 * ```ts
 * import { describeError } from "./describe.ts";
 *
 * console.log(describeError(new TypeError("boom"))); // TypeError: boom
 * console.log(describeError("plain")); // plain
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function article(name: string): string {
  // "a Uint8Array", "a URL": a leading U is read as "you".
  return /^[AEIO]/.test(name) ? "an" : "a";
}
