/**
 * The unified test format's "Evaluating Matches" rules
 * (`specs/unified-test-format/unified-test-format.md`): expected values are
 * Extended JSON parsed with `relaxed: false` (so they keep their BSON number
 * types); actual values are whatever the driver returned.
 *
 * - Root-level documents may carry extra keys; nested documents may not
 *   (the spec's "MUST NOT permit additional fields in nested documents").
 * - Arrays match element by element and must have the same length.
 * - int32, int64 and double are equal when their values are (Decimal128 is not a flexible numeric).
 * - The special operators `$$exists`, `$$type`, `$$unsetOrMatches`,
 *   `$$matchesEntity`, `$$matchesHexBytes`, `$$sessionLsid`, `$$lte`,
 *   `$$matchAsDocument` and `$$matchAsRoot`.
 *
 * A mismatch throws {@linkcode MatchError} naming the path (`$.cursor.firstBatch[0].x`).
 */
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  Code,
  DateTime,
  DBPointer,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Int64,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from "../../../src/bson/mod.ts";

/** A mismatch between an expected and an actual value, with the path where it was found. */
export class MatchError extends Error {
  override name = "MatchError";
}

/** A test-file error found while matching (an undefined entity, a malformed operator): never a mismatch. */
export class MatcherUsageError extends Error {
  override name = "MatcherUsageError";
}

/** What the matcher needs from the entity map. */
export interface MatchContext {
  /** The value of a BSON entity (`$$matchesEntity`); throws for an undefined entity. */
  entity(name: string): unknown;
  /** The `lsid` document of a session entity (`$$sessionLsid`); throws for an undefined or mistyped entity. */
  sessionLsid(name: string): unknown;
}

const NO_ENTITIES: MatchContext = {
  entity(name) {
    throw new MatcherUsageError(`entity ${name} is not defined`);
  },
  sessionLsid(name) {
    throw new MatcherUsageError(`session entity ${name} is not defined`);
  },
};

/** A plain document: an object that is none of the BSON value classes, nor an array. */
export function isDocument(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The value of a flexible numeric (int32, int64, double), or undefined for any other value. */
export function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof Int32 || v instanceof Double) return v.value;
  if (v instanceof Int64) return v.value;
  return undefined;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "number") {
    return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  }
  // Mixed: compare exactly when the number is an integer, else as doubles.
  const n = (typeof a === "number" ? a : b) as number;
  const big = (typeof a === "bigint" ? a : b) as bigint;
  let c: number;
  if (Number.isNaN(n)) return NaN;
  if (Number.isInteger(n)) c = BigInt(n) < big ? -1 : BigInt(n) > big ? 1 : 0;
  else c = n < Number(big) ? -1 : n > Number(big) ? 1 : 0;
  return typeof a === "number" ? c : -c;
}

/** `$type` names accepted by `$$type`, with the `number` alias. */
const TYPE_NAMES = new Set([
  "double",
  "string",
  "object",
  "array",
  "binData",
  "undefined",
  "objectId",
  "bool",
  "date",
  "null",
  "regex",
  "dbPointer",
  "javascript",
  "symbol",
  "javascriptWithScope",
  "int",
  "timestamp",
  "long",
  "decimal",
  "minKey",
  "maxKey",
  "number",
]);

/**
 * The `$type` names an actual value may have. A plain JS number is what the
 * driver decodes both int32 and double to: an integer in int32 range may be
 * either, so it has both names; other numbers are doubles.
 */
export function typeNamesOf(v: unknown): string[] {
  let names: string[];
  if (typeof v === "number") {
    names = Number.isInteger(v) && (v | 0) === v && !Object.is(v, -0) ? ["int", "double"] : ["double"];
  } else if (typeof v === "bigint" || v instanceof Int64) names = ["long"];
  else if (v instanceof Int32) names = ["int"];
  else if (v instanceof Double) names = ["double"];
  else if (v instanceof Decimal128) names = ["decimal"];
  else if (typeof v === "string") names = ["string"];
  else if (typeof v === "boolean") names = ["bool"];
  else if (v === null) names = ["null"];
  else if (v instanceof BSONUndefined) names = ["undefined"];
  else if (Array.isArray(v)) names = ["array"];
  else if (v instanceof Date || v instanceof DateTime) names = ["date"];
  else if (v instanceof ObjectId) names = ["objectId"];
  else if (v instanceof Binary || v instanceof Uint8Array) names = ["binData"];
  else if (v instanceof BSONRegExp || v instanceof RegExp) names = ["regex"];
  else if (v instanceof Code) {
    names = [
      v.scope === undefined || v.scope === null ? "javascript" : "javascriptWithScope",
    ];
  } else if (v instanceof Timestamp) names = ["timestamp"];
  else if (v instanceof MinKey) names = ["minKey"];
  else if (v instanceof MaxKey) names = ["maxKey"];
  else if (v instanceof BSONSymbol) names = ["symbol"];
  else if (v instanceof DBPointer) names = ["dbPointer"];
  else if (isDocument(v)) names = ["object"];
  else names = [];
  if (
    names.some((n) => n === "int" || n === "long" || n === "double" || n === "decimal")
  ) names.push("number");
  return names;
}

/** Whether `v` is a document whose first and only key starts with `$$` (a special operator). */
export function operatorOf(v: unknown): string | undefined {
  if (!isDocument(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0].startsWith("$$") ? keys[0] : undefined;
}

function show(v: unknown): string {
  try {
    return EJSON.stringify(v, { relaxed: true });
  } catch {
    return String(v);
  }
}

/** Canonical Extended JSON of a non-document, non-array value, for equality. */
function canonical(v: unknown): string {
  return EJSON.stringify({ v }, { relaxed: false });
}

/**
 * Asserts that `actual` matches `expected`; throws {@linkcode MatchError} with
 * the path of the first difference. `root` (default true) says whether
 * `actual` is a root-level document (extra keys allowed).
 *
 * @example
 * ```ts ignore
 * match({ x: 1 }, { x: 1, y: 2 });          // passes: root may have extra keys
 * match({ a: { x: 1 } }, { a: { x: 1, y: 2 } }); // throws: nested may not
 * ```
 */
export function match(
  expected: unknown,
  actual: unknown,
  options: { root?: boolean; ctx?: MatchContext } = {},
): void {
  matchValue(
    expected,
    actual,
    options.root ?? true,
    "$",
    options.ctx ?? NO_ENTITIES,
  );
}

function fail(path: string, what: string): never {
  throw new MatchError(`${path}: ${what}`);
}

function matchValue(
  expected: unknown,
  actual: unknown,
  root: boolean,
  path: string,
  ctx: MatchContext,
): void {
  const op = operatorOf(expected);
  if (op !== undefined) {
    matchOperator(
      op,
      (expected as Record<string, unknown>)[op],
      actual,
      actual !== undefined,
      root,
      path,
      ctx,
    );
    return;
  }
  if (isDocument(expected)) {
    if (!isDocument(actual)) {
      fail(path, `expected a document ${show(expected)}, got ${show(actual)}`);
    }
    for (const [key, value] of Object.entries(expected)) {
      const sub = `${path}.${key}`;
      const has = Object.hasOwn(actual, key) && actual[key] !== undefined;
      const keyOp = operatorOf(value);
      if (keyOp !== undefined) {
        matchOperator(
          keyOp,
          (value as Record<string, unknown>)[keyOp],
          actual[key],
          has,
          false,
          sub,
          ctx,
        );
        continue;
      }
      if (!has) fail(sub, `missing; expected ${show(value)}`);
      matchValue(value, actual[key], false, sub, ctx);
    }
    if (!root) {
      const extra = Object.keys(actual).filter((k) => actual[k] !== undefined && !Object.hasOwn(expected, k));
      if (extra.length > 0) {
        fail(
          path,
          `unexpected field(s) ${extra.join(", ")} in a nested document ${show(actual)}`,
        );
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      fail(path, `expected an array ${show(expected)}, got ${show(actual)}`);
    }
    if (actual.length !== expected.length) {
      fail(
        path,
        `expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`,
      );
    }
    // Elements of a plain array are not root-level; iterable results are matched element by element by the runner.
    expected.forEach((e, i) => matchValue(e, actual[i], false, `${path}[${i}]`, ctx));
    return;
  }
  matchScalar(expected, actual, path);
}

function matchScalar(expected: unknown, actual: unknown, path: string): void {
  const e = numericValue(expected);
  if (e !== undefined) {
    const a = numericValue(actual);
    if (a === undefined) {
      fail(path, `expected the number ${show(expected)}, got ${show(actual)}`);
    }
    const c = compareNumbers(e, a);
    if (
      c !== 0 &&
      !(Number.isNaN(c) && Number.isNaN(Number(e)) && Number.isNaN(Number(a)))
    ) {
      fail(path, `expected ${String(e)}, got ${String(a)}`);
    }
    return;
  }
  if (actual === undefined) fail(path, `missing; expected ${show(expected)}`);
  if (expected instanceof Decimal128 && actual instanceof Decimal128) {
    if (expected.toString() !== actual.toString()) {
      fail(path, `expected ${expected}, got ${actual}`);
    }
    return;
  }
  const types = typeNamesOf(expected);
  if (!typeNamesOf(actual).some((t) => types.includes(t))) {
    fail(
      path,
      `expected ${show(expected)} (${types[0]}), got ${show(actual)} (${typeNamesOf(actual)[0] ?? typeof actual})`,
    );
  }
  if (canonical(expected) !== canonical(actual)) {
    fail(path, `expected ${show(expected)}, got ${show(actual)}`);
  }
}

/**
 * One special operator. `present` says whether the actual key exists (for
 * operators used as a key's value); `root` whether `actual` is root-level.
 */
function matchOperator(
  op: string,
  arg: unknown,
  actual: unknown,
  present: boolean,
  root: boolean,
  path: string,
  ctx: MatchContext,
): void {
  switch (op) {
    case "$$exists": {
      if (typeof arg !== "boolean") {
        throw new MatcherUsageError(
          `${path}: $$exists needs a boolean, got ${show(arg)}`,
        );
      }
      if (arg && !present) fail(path, "expected to exist, but it is missing");
      if (!arg && present) {
        fail(path, `expected not to exist, got ${show(actual)}`);
      }
      return;
    }
    case "$$type": {
      const wanted = Array.isArray(arg) ? arg : [arg];
      for (const t of wanted) {
        if (typeof t !== "string" || !TYPE_NAMES.has(t)) {
          throw new MatcherUsageError(
            `${path}: $$type names an unknown type ${show(t)}`,
          );
        }
      }
      if (!present) {
        fail(path, `missing; expected a value of type ${wanted.join(" or ")}`);
      }
      const names = typeNamesOf(actual);
      if (!wanted.some((t) => names.includes(t as string))) {
        fail(
          path,
          `expected type ${wanted.join(" or ")}, got ${show(actual)} (${names[0] ?? typeof actual})`,
        );
      }
      return;
    }
    case "$$unsetOrMatches": {
      if (!present) return;
      matchValue(arg, actual, root, path, ctx);
      return;
    }
    case "$$matchesEntity": {
      if (typeof arg !== "string") {
        throw new MatcherUsageError(
          `${path}: $$matchesEntity needs an entity name`,
        );
      }
      const value = ctx.entity(arg);
      if (!present) fail(path, `missing; expected the value of entity ${arg}`);
      matchValue(value, actual, root, path, ctx);
      return;
    }
    case "$$matchesHexBytes": {
      if (typeof arg !== "string" || !/^([0-9a-fA-F]{2})*$/.test(arg)) {
        throw new MatcherUsageError(
          `${path}: $$matchesHexBytes needs an even number of hex digits, got ${show(arg)}`,
        );
      }
      if (!present) fail(path, `missing; expected the bytes ${arg}`);
      let hex: string;
      if (typeof actual === "string") {
        hex = Array.from(
          new TextEncoder().encode(actual),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
      } else if (actual instanceof Uint8Array || actual instanceof Binary) {
        const bytes = actual instanceof Binary ? actual.buffer : actual;
        hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(
          "",
        );
      } else fail(path, `expected bytes ${arg}, got ${show(actual)}`);
      if (hex !== arg.toLowerCase()) {
        fail(path, `expected the bytes ${arg.toLowerCase()}, got ${hex}`);
      }
      return;
    }
    case "$$sessionLsid": {
      if (typeof arg !== "string") {
        throw new MatcherUsageError(
          `${path}: $$sessionLsid needs a session entity name`,
        );
      }
      const lsid = ctx.sessionLsid(arg);
      if (!present) fail(path, `missing; expected the lsid of ${arg}`);
      matchValue(lsid, actual, false, path, ctx);
      return;
    }
    case "$$lte": {
      const limit = numericValue(arg);
      if (limit === undefined) {
        throw new MatcherUsageError(
          `${path}: $$lte needs a number, got ${show(arg)}`,
        );
      }
      const a = numericValue(actual);
      if (!present || a === undefined) {
        fail(
          path,
          `expected a number <= ${String(limit)}, got ${show(actual)}`,
        );
      }
      if (!(compareNumbers(a, limit) <= 0)) {
        fail(path, `expected <= ${String(limit)}, got ${String(a)}`);
      }
      return;
    }
    case "$$matchAsDocument": {
      if (!present) fail(path, "missing; expected an Extended JSON string");
      if (typeof actual !== "string") {
        fail(path, `expected an Extended JSON string, got ${show(actual)}`);
      }
      let parsed: unknown;
      try {
        parsed = EJSON.parse(actual, { relaxed: false });
      } catch (e) {
        fail(
          path,
          `not valid Extended JSON (${(e as Error).message}): ${actual}`,
        );
      }
      if (!isDocument(parsed)) {
        fail(path, `expected an Extended JSON document, got ${actual}`);
      }
      matchValue(arg, parsed, false, path, ctx);
      return;
    }
    case "$$matchAsRoot": {
      if (!isDocument(arg)) {
        throw new MatcherUsageError(`${path}: $$matchAsRoot needs a document`);
      }
      if (!present) fail(path, "missing; expected a document");
      if (!isDocument(actual)) {
        fail(path, `expected a document, got ${show(actual)}`);
      }
      matchValue(arg, actual, true, path, ctx);
      return;
    }
    default:
      throw new MatcherUsageError(`${path}: unknown special operator ${op}`);
  }
}
