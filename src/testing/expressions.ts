/**
 * Aggregation expressions for the simulated server: field paths (`"$a.b"`),
 * variables (`"$$ROOT"`, `"$$CURRENT"`, `"$$REMOVE"`, `let` variables),
 * object and array expressions, and the common operators (`$literal`,
 * arithmetic, comparison, boolean, `$cond`, `$ifNull`, `$in`, `$size`,
 * `$concat`, `$toUpper`, `$toLower`, `$arrayElemAt`, `$type`, `$getField`,
 * `$setField`, `$abs`, `$mergeObjects`). An operator it does not know is
 * InvalidPipelineOperator (168), as from mongod.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluate } from "./expressions.ts";
 *
 * assert.equal(evaluate({ $add: ["$a", 1] }, { a: 2 }), 3);
 * ```
 *
 * @module
 */
import { type Document, Double, Int32, Int64 } from "../bson/mod.ts";
import { cloneValue, compareValues, isPlainDocument, numericValue, typeName, valuesEqual } from "./query.ts";
import { badValue, serverError } from "./_server_error.ts";

/** The value of `$$REMOVE`: a field evaluating to it is left out. */
export const REMOVE: unique symbol = Symbol("$$REMOVE");

/** Variables in scope (`ROOT`, `CURRENT` and `let` ones), without the `$$`. */
export type Variables = Readonly<Record<string, unknown>>;

function invalid(errmsg: string): Error {
  return serverError(168, "InvalidPipelineOperator", errmsg);
}

function fieldPath(doc: unknown, path: string): unknown {
  if (path === "") return doc;
  if (!isPlainDocument(doc)) return undefined;
  const parts = path.split(".");
  let v: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    if (Array.isArray(v)) {
      // A path through an array maps over its documents.
      const rest = parts.slice(i).join(".");
      return v.filter((x) => isPlainDocument(x)).map((x) => fieldPath(x, rest)).filter((x) => x !== undefined);
    }
    if (!isPlainDocument(v)) return undefined;
    v = v[parts[i]];
  }
  return v;
}

/** A plain JS number or bigint for a BSON numeric value (undefined otherwise). */
function toNumber(v: unknown): number | bigint | undefined {
  return numericValue(v);
}

function arith(op: string, values: unknown[]): unknown {
  if (values.some((v) => v === null || v === undefined)) return null;
  const nums = values.map((v) => {
    if (v instanceof Date) return v.getTime();
    const n = toNumber(v);
    if (n === undefined) {
      throw serverError(16554, "TypeMismatch", `${op} only supports numeric types, not ${typeName(v)}`);
    }
    return n;
  });
  const anyLong = values.some((v) => v instanceof Int64 || typeof v === "bigint");
  const anyDouble = values.some((v) => v instanceof Double || (typeof v === "number" && !Number.isInteger(v)));
  const asNum = nums.map(Number);
  let r: number;
  switch (op) {
    case "$add":
      r = asNum.reduce((a, b) => a + b, 0);
      if (values.some((v) => v instanceof Date)) return new Date(r);
      break;
    case "$multiply":
      r = asNum.reduce((a, b) => a * b, 1);
      break;
    case "$subtract":
      r = asNum[0] - asNum[1];
      if (values[0] instanceof Date && !(values[1] instanceof Date)) return new Date(r);
      break;
    case "$divide":
      if (asNum[1] === 0) throw badValue("can't $divide by zero");
      return new Double(asNum[0] / asNum[1]);
    case "$mod":
      if (asNum[1] === 0) throw badValue("can't $mod by zero");
      r = asNum[0] % asNum[1];
      break;
    default:
      throw invalid(`Unrecognized expression '${op}'`);
  }
  if (values.every((v) => typeof v === "number")) return r;
  if (anyDouble) return new Double(r);
  if (anyLong || !Number.isSafeInteger(r) || Math.abs(r) > 0x7fffffff) return new Int64(BigInt(Math.trunc(r)));
  return new Int32(r);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === REMOVE) return false;
  const n = toNumber(v);
  if (n !== undefined) return Number(n) !== 0;
  return true;
}

function args(arg: unknown, doc: Document, vars: Variables): unknown[] {
  return Array.isArray(arg) ? arg.map((a) => evaluate(a, doc, vars)) : [evaluate(arg, doc, vars)];
}

function count(op: string, a: unknown[], n: number): void {
  if (a.length !== n) {
    throw serverError(16020, "Location16020", `Expression ${op} takes exactly ${n} arguments. ${a.length} were passed in.`);
  }
}

function operator(op: string, arg: unknown, doc: Document, vars: Variables): unknown {
  switch (op) {
    case "$literal":
      return cloneValue(arg);
    case "$add":
    case "$multiply":
      return arith(op, args(arg, doc, vars));
    case "$subtract":
    case "$divide":
    case "$mod": {
      const a = args(arg, doc, vars);
      count(op, a, 2);
      return arith(op, a);
    }
    case "$abs": {
      const [v] = args(arg, doc, vars);
      if (v === null || v === undefined) return null;
      const n = toNumber(v);
      if (n === undefined) throw badValue(`$abs only supports numeric types, not ${typeName(v)}`);
      return v instanceof Double ? new Double(Math.abs(Number(n))) : Math.abs(Number(n));
    }
    case "$eq":
    case "$ne":
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte":
    case "$cmp": {
      const a = args(arg, doc, vars).map((v) => (v === undefined ? null : v));
      count(op, a, 2);
      const c = compareValues(a[0], a[1]);
      if (op === "$cmp") return c < 0 ? -1 : c > 0 ? 1 : 0;
      if (op === "$eq") return c === 0;
      if (op === "$ne") return c !== 0;
      if (op === "$gt") return c > 0;
      if (op === "$gte") return c >= 0;
      if (op === "$lt") return c < 0;
      return c <= 0;
    }
    case "$and":
      return args(arg, doc, vars).every(truthy);
    case "$or":
      return args(arg, doc, vars).some(truthy);
    case "$not": {
      const a = args(arg, doc, vars);
      count(op, a, 1);
      return !truthy(a[0]);
    }
    case "$cond": {
      let c: unknown, t: unknown, e: unknown;
      if (Array.isArray(arg)) {
        count(op, arg, 3);
        [c, t, e] = arg;
      } else if (isPlainDocument(arg)) ({ if: c, then: t, else: e } = arg);
      else throw badValue("$cond needs an array or an object");
      return truthy(evaluate(c, doc, vars)) ? evaluate(t, doc, vars) : evaluate(e, doc, vars);
    }
    case "$ifNull": {
      if (!Array.isArray(arg) || arg.length < 2) throw badValue("$ifNull needs at least two arguments");
      for (const a of arg) {
        const v = evaluate(a, doc, vars);
        if (v !== null && v !== undefined && v !== REMOVE) return v;
      }
      return null;
    }
    case "$in": {
      const a = args(arg, doc, vars);
      count(op, a, 2);
      if (!Array.isArray(a[1])) throw serverError(40081, "Location40081", "$in requires an array as a second argument");
      return a[1].some((x) => valuesEqual(x, a[0] ?? null));
    }
    case "$size": {
      const [v] = args(arg, doc, vars);
      if (!Array.isArray(v)) {
        throw serverError(17124, "Location17124", `The argument to $size must be an array. Type was: ${typeName(v)}`);
      }
      return v.length;
    }
    case "$concat": {
      const a = args(arg, doc, vars);
      if (a.some((v) => v === null || v === undefined)) return null;
      if (a.some((v) => typeof v !== "string")) throw serverError(16702, "Location16702", "$concat only supports strings");
      return a.join("");
    }
    case "$toUpper":
    case "$toLower": {
      const [v] = args(arg, doc, vars);
      const s = v === null || v === undefined ? "" : String(toNumber(v) ?? v);
      return op === "$toUpper" ? s.toUpperCase() : s.toLowerCase();
    }
    case "$arrayElemAt": {
      const a = args(arg, doc, vars);
      count(op, a, 2);
      if (a[0] === null || a[0] === undefined) return null;
      if (!Array.isArray(a[0])) throw serverError(28689, "Location28689", "$arrayElemAt's first argument must be an array");
      const i = Number(toNumber(a[1]));
      const v = a[0][i < 0 ? a[0].length + i : i];
      return v === undefined ? REMOVE : v;
    }
    case "$type": {
      const [v] = args(arg, doc, vars);
      return v === undefined || v === REMOVE ? "missing" : typeName(v);
    }
    case "$mergeObjects": {
      const out: Document = {};
      for (const v of args(arg, doc, vars)) {
        if (v === null || v === undefined) continue;
        if (!isPlainDocument(v)) throw serverError(40400, "Location40400", "$mergeObjects requires object inputs");
        Object.assign(out, v);
      }
      return out;
    }
    case "$getField": {
      const spec = isPlainDocument(arg) ? arg : { field: arg, input: "$$CURRENT" };
      const field = evaluate(spec.field, doc, vars);
      if (typeof field !== "string") throw serverError(3041704, "Location3041704", "$getField requires 'field' to be a string");
      const input = evaluate(spec.input ?? "$$CURRENT", doc, vars);
      if (!isPlainDocument(input)) return null;
      return input[field] === undefined ? REMOVE : input[field];
    }
    case "$setField":
    case "$unsetField": {
      if (!isPlainDocument(arg)) throw serverError(4161100, "Location4161100", `${op} only supports an object as its argument`);
      const field = evaluate(arg.field, doc, vars);
      if (typeof field !== "string") throw serverError(4161106, "Location4161106", `${op} requires 'field' to be a string`);
      const input = evaluate(arg.input, doc, vars);
      if (input === null || input === undefined) return null;
      if (!isPlainDocument(input)) throw serverError(4161105, "Location4161105", `${op} requires 'input' to be an object`);
      const value = op === "$unsetField" ? REMOVE : evaluate(arg.value, doc, vars);
      const out: Document = { ...input };
      if (value === REMOVE || value === undefined) delete out[field];
      else out[field] = value;
      return out;
    }
    default:
      throw invalid(`Unrecognized expression '${op}'`);
  }
}

/**
 * The value of an aggregation expression for `doc` (`undefined` or
 * {@linkcode REMOVE} when it is missing).
 *
 * @throws {MongoError} carrying InvalidPipelineOperator (168) for an unknown operator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluate } from "./expressions.ts";
 *
 * assert.equal(evaluate({ $concat: ["$a", "!"] }, { a: "hi" }), "hi!");
 * ```
 */
export function evaluate(expr: unknown, doc: Document, vars: Variables = {}): unknown {
  if (typeof expr === "string" && expr.startsWith("$")) {
    if (expr.startsWith("$$")) {
      const [name, ...rest] = expr.slice(2).split(".");
      let base: unknown;
      if (name === "REMOVE") return REMOVE;
      if (name === "ROOT") base = vars.ROOT ?? doc;
      else if (name === "CURRENT") base = vars.CURRENT ?? doc;
      else if (name === "NOW") base = new Date();
      else if (Object.hasOwn(vars, name)) base = vars[name];
      else throw serverError(17276, "Location17276", `Use of undefined variable: ${name}`);
      return rest.length === 0 ? base : fieldPath(base, rest.join("."));
    }
    return fieldPath(doc, expr.slice(1));
  }
  if (Array.isArray(expr)) return expr.map((e) => evaluate(e, doc, vars)).map((v) => (v === REMOVE ? null : v));
  if (isPlainDocument(expr)) {
    const keys = Object.keys(expr);
    if (keys.length === 1 && keys[0].startsWith("$")) return operator(keys[0], expr[keys[0]], doc, vars);
    const out: Document = {};
    for (const k of keys) {
      if (k.startsWith("$")) throw invalid(`Unrecognized expression '${k}'`);
      const v = evaluate(expr[k], doc, vars);
      if (v !== undefined && v !== REMOVE) out[k] = v;
    }
    return out;
  }
  return expr;
}

/**
 * Whether an aggregation expression is true for `doc` (`$expr` in a query).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTrue } from "./expressions.ts";
 *
 * assert.equal(isTrue({ $gt: ["$a", 1] }, { a: 2 }), true);
 * ```
 */
export function isTrue(expr: unknown, doc: Document, vars: Variables = {}): boolean {
  return truthy(evaluate(expr, doc, vars));
}

/**
 * Sets a dotted path on a copy-in-place target (the `$addFields` rule:
 * missing parents become documents).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setPath } from "./expressions.ts";
 *
 * const d = {};
 * setPath(d, "a.b", 1);
 * assert.deepEqual(d, { a: { b: 1 } });
 * ```
 */
export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split(".");
  let v: Document = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = v[parts[i]];
    if (isPlainDocument(next)) v = next;
    else v = v[parts[i]] = {};
  }
  const last = parts[parts.length - 1];
  if (value === REMOVE || value === undefined) delete v[last];
  else v[last] = value;
}

let scope: Variables = {};

/**
 * Runs `fn` with `let` variables in scope for `$expr` in its queries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentVariables, withVariables } from "./expressions.ts";
 *
 * assert.equal(withVariables({ x: 1 }, () => currentVariables().x), 1);
 * ```
 */
export function withVariables<T>(vars: Variables, fn: () => T): T {
  const saved = scope;
  scope = vars;
  try {
    return fn();
  } finally {
    scope = saved;
  }
}

/** The `let` variables of the command running (see {@linkcode withVariables}). */
export function currentVariables(): Variables {
  return scope;
}
