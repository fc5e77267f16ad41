/**
 * One option value at a time: the checks of a JavaScript value against its
 * row of the option table (the same rules for options given in code and in a
 * connection string), and the conversion of a connection-string value.
 *
 * @module
 */

import type { OptionSpec } from "./option_table.ts";

const INT32_MAX = 2147483647;

/**
 * JSON-quotes a string for a message, cut short so a huge input cannot flood the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./option_values.ts";
 *
 * assert.equal(quote("x".repeat(100)).endsWith("(100 characters)"), true);
 * ```
 */
export function quote(text: string): string {
  return text.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 80))}... (${text.length} characters)`;
}

/**
 * Words for a JavaScript value in a message: its value and its type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "./option_values.ts";
 *
 * assert.deepEqual(describeValue("10"), "\"10\" (a string)");
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return `${quote(value)} (a string)`;
  if (typeof value === "bigint") return `${value}n (a bigint)`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  return `${String(value)} (a ${typeof value})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * What {@linkcode checkValue} found wrong: a message fragment without the
 * option name, and whether the value is of the wrong JavaScript type (for an
 * option given in code, an `OptionTypeError`) rather than a right type with a
 * bad value (a `ConfigurationError`).
 *
 * @example
 * ```ts
 * import type { ValueProblem } from "./option_values.ts";
 *
 * const p: ValueProblem = { problem: "must be a boolean, got 1 (a number)", wrongType: true, given: "1 (a number)" };
 * console.log(p.wrongType);
 * ```
 */
export interface ValueProblem {
  readonly problem: string;
  /** The value is not of the JavaScript type the option takes. */
  readonly wrongType: boolean;
  /** The given value (or its wrong part), in words: what follows "got" in `problem`. */
  readonly given: string;
}

/**
 * Checks a JavaScript value against an option's row. Returns the normalized
 * value, or what is wrong with it (a message fragment, without the option
 * name, and whether the value's JavaScript type is the wrong one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookupOption } from "./option_table.ts";
 * import { checkValue } from "./option_values.ts";
 *
 * assert.deepEqual(checkValue(lookupOption("maxPoolSize")!, 5), { value: 5 });
 * assert.equal((checkValue(lookupOption("maxPoolSize")!, "5") as { wrongType: boolean }).wrongType, true);
 * assert.equal((checkValue(lookupOption("maxPoolSize")!, -1) as { wrongType: boolean }).wrongType, false);
 * ```
 */
export function checkValue(spec: OptionSpec, value: unknown): { value: unknown } | ValueProblem {
  const given = describeValue(value);
  const type: ValueProblem = { problem: `must be ${spec.expected}, got ${given}`, wrongType: true, given };
  const bad: ValueProblem = { ...type, wrongType: false };
  const part = (what: string, wrongType: boolean): ValueProblem => ({
    problem: `must be ${spec.expected}, got ${what}`,
    wrongType,
    given: what,
  });
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string") return type;
      if (value.length === 0) return bad;
      break;
    case "boolean":
      if (typeof value !== "boolean") return type;
      break;
    case "int":
      if (typeof value !== "number") return type;
      if (!Number.isInteger(value)) return bad;
      if (value < spec.min! || value > spec.max!) return part(`${value}${value > spec.max! ? " (too large)" : ""}`, false);
      break;
    case "enum":
      if (typeof value !== "string") return type;
      if (!spec.values!.includes(value)) return bad;
      break;
    case "w":
      if (typeof value === "number") {
        if (!Number.isInteger(value) || value < 0 || value > INT32_MAX) return bad;
      } else if (typeof value !== "string") {
        return type;
      } else if (value.length === 0) {
        return bad;
      }
      break;
    case "compressors": {
      if (!Array.isArray(value)) return type;
      for (const item of value) {
        if (typeof item !== "string") return part(`a compressor that is ${describeValue(item)}`, true);
        if (!spec.values!.includes(item)) return part(`an unknown compressor ${describeValue(item)}`, false);
      }
      return { value: [...new Set(value as string[])] };
    }
    case "tags": {
      if (!Array.isArray(value)) return type;
      const out: Record<string, string>[] = [];
      for (const set of value) {
        if (!isPlainObject(set)) return part(`a tag set that is ${describeValue(set)}`, true);
        for (const [k, v] of Object.entries(set)) {
          if (typeof v !== "string") return part(`tag ${JSON.stringify(k)} = ${describeValue(v)}`, true);
        }
        out.push({ ...(set as Record<string, string>) });
      }
      return { value: out };
    }
    case "properties": {
      if (!isPlainObject(value)) return type;
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string" && typeof v !== "boolean") {
          return part(`property ${JSON.stringify(k)} = ${describeValue(v)}`, true);
        }
      }
      return { value: { ...value } };
    }
  }
  const extra = spec.check?.(value) ?? null;
  return extra === null ? { value } : { problem: extra, wrongType: false, given };
}

/**
 * The result of {@linkcode parseUriOptionValue}: a value (perhaps with a
 * warning about a part that was dropped), or what is wrong with the value.
 *
 * @example
 * ```ts
 * import type { UriOptionValue } from "./option_values.ts";
 *
 * const r: UriOptionValue = { value: 5 };
 * console.log("value" in r);
 * ```
 */
export type UriOptionValue = { value: unknown; warning?: string } | { problem: string };

/**
 * Converts one connection-string value (already percent-decoded) to the
 * option's type and checks it with the same rules as options given in code.
 * Returns the value, or what is wrong with it (without the option name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookupOption, parseUriOptionValue } from "./options.ts";
 *
 * assert.deepEqual(parseUriOptionValue(lookupOption("maxPoolSize")!, "50"), { value: 50 });
 * assert.ok("problem" in parseUriOptionValue(lookupOption("journal")!, "yes")); // must be "true" or "false"
 * ```
 */
export function parseUriOptionValue(spec: OptionSpec, raw: string): UriOptionValue {
  if (raw === "" && spec.kind !== "tags") return { problem: "has an empty value" };
  let value: unknown;
  switch (spec.kind) {
    case "string":
    case "enum":
      value = raw;
      break;
    case "boolean":
      if (raw === "true") value = true;
      else if (raw === "false") value = false;
      else return { problem: `must be "true" or "false", got ${quote(raw)}` };
      break;
    case "int": {
      const n = parseStrictInteger(raw);
      if (n === null) return { problem: `must be ${spec.expected}, got ${quote(raw)}` };
      value = n;
      break;
    }
    case "w": {
      const n = parseStrictInteger(raw);
      value = n === null ? raw : n;
      break;
    }
    case "compressors": {
      // Unknown names are dropped one by one (with a warning from the caller)
      // so that a list written for another driver still offers what we know.
      const names = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      const known = names.filter((n) => spec.values!.includes(n));
      const unknown = names.filter((n) => !spec.values!.includes(n));
      if (known.length === 0) {
        return { problem: `has no known compressor (got ${quote(raw)}; known: snappy, zlib, zstd)` };
      }
      if (unknown.length > 0) {
        return { value: [...new Set(known)], warning: `has unknown compressor(s) ${unknown.join(", ")} (ignored)` };
      }
      value = [...new Set(known)];
      break;
    }
    case "tags": {
      if (raw === "") return { value: [{}] };
      const doc = parseKeyValuePairs(raw);
      if (typeof doc === "string") return { problem: doc };
      value = [doc];
      break;
    }
    case "properties": {
      const doc = parseKeyValuePairs(raw);
      if (typeof doc === "string") return { problem: doc };
      const props: Record<string, string | boolean> = { ...doc };
      const canon = props.CANONICALIZE_HOST_NAME;
      if (canon === "true" || canon === "false") props.CANONICALIZE_HOST_NAME = canon === "true";
      value = props;
      break;
    }
  }
  return checkValue(spec, value);
}

/** Integers are parsed strictly: an optional minus sign and decimal digits, nothing else. */
function parseStrictInteger(raw: string): number | null {
  if (!/^-?[0-9]+$/.test(raw)) return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return null;
  return n === 0 ? 0 : n; // "-0" is 0
}

/** `k:v,k:v` into a document; the key ends at the first colon, so values may hold colons. */
function parseKeyValuePairs(raw: string): Record<string, string> | string {
  const doc: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const colon = pair.indexOf(":");
    if (colon <= 0) {
      return `must be comma-separated key:value pairs, got ${quote(pair)} ` +
        "(a value containing a comma cannot be given in a connection string)";
    }
    // defineProperty, not assignment, so that a key such as "__proto__" is kept as data.
    Object.defineProperty(doc, pair.slice(0, colon), {
      value: pair.slice(colon + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return doc;
}
