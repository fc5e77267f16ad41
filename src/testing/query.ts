/**
 * The query language subset the simulated members understand: BSON value
 * comparison in the server's cross-type order, filter matching, sort,
 * projection and update operators. Pure functions over decoded documents
 * (decoded with `promoteValues: false`, so numbers keep their BSON types).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches } from "./query.ts";
 *
 * assert.equal(matches({ a: { b: [1, 5] } }, { "a.b": { $gt: 3 } }), true);
 * ```
 *
 * @module
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
  type Document,
  Double,
  Int32,
  Int64,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from "../bson/mod.ts";
import { currentVariables, isTrue } from "./expressions.ts";
import { compareWithCollation } from "./collation.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";

// ---- values -----------------------------------------------------------------

/**
 * Whether `v` is a plain embedded document (not an array, not a BSON wrapper).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPlainDocument } from "./query.ts";
 *
 * assert.equal(isPlainDocument({ a: 1 }), true);
 * assert.equal(isPlainDocument([1]), false);
 * ```
 */
export function isPlainDocument(v: unknown): v is Document {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// The server's canonical type order (MinKey < null < numbers < strings < ...).
function typeRank(v: unknown): number {
  if (v === undefined || v instanceof BSONUndefined) return 0;
  if (v === null) return 5;
  switch (typeof v) {
    case "number":
    case "bigint":
      return 10;
    case "string":
      return 15;
    case "boolean":
      return 40;
  }
  if (v instanceof Double || v instanceof Int32 || v instanceof Int64 || v instanceof Decimal128) return 10;
  if (v instanceof BSONSymbol) return 15;
  if (Array.isArray(v)) return 25;
  if (v instanceof Binary) return 30;
  if (v instanceof ObjectId) return 35;
  if (v instanceof Date || v instanceof DateTime) return 45;
  if (v instanceof Timestamp) return 47;
  if (v instanceof BSONRegExp || v instanceof RegExp) return 50;
  if (v instanceof DBPointer) return 55;
  if (v instanceof Code) return v.scope === undefined ? 60 : 65;
  if (v instanceof MinKey) return -1;
  if (v instanceof MaxKey) return 127;
  return 20;
}

/**
 * A numeric BSON value as a JavaScript number or bigint, or `undefined` when
 * `v` is not a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Int64 } from "../bson/mod.ts";
 * import { numericValue } from "./query.ts";
 *
 * assert.equal(numericValue(new Int64(5n)), 5n);
 * ```
 */
export function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof Double || v instanceof Int32) return v.value;
  if (v instanceof Int64) return v.value;
  if (v instanceof Decimal128) return Number(v.toString());
  return undefined;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  // The server orders NaN below every other number.
  if (x !== x) return y !== y ? 0 : -1;
  if (y !== y) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function compareStrings(a: string, b: string): number {
  // Binary (UTF-8 byte) order, which for these strings equals code point order.
  return a < b ? -1 : a > b ? 1 : 0;
}

function dateMs(v: Date | DateTime): number {
  return v instanceof Date ? v.getTime() : Number(v.ms);
}

/**
 * Compares two BSON values in the server's order: first by canonical type
 * (MinKey, null, numbers, strings, documents, arrays, binary, ObjectId,
 * booleans, dates, timestamps, regexes, ..., MaxKey), then by value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareValues } from "./query.ts";
 *
 * assert.equal(compareValues(1, "a") < 0, true);
 * assert.equal(compareValues({ a: 2 }, { a: 1 }) > 0, true);
 * ```
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 10:
      return compareNumbers(numericValue(a)!, numericValue(b)!);
    case 15:
      return compareWithCollation(
        a instanceof BSONSymbol ? a.value : a as string,
        b instanceof BSONSymbol ? b.value : b as string,
      );
    case 20:
      return compareDocuments(a as Document, b as Document);
    case 25: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 30: {
      const x = a as Binary;
      const y = b as Binary;
      if (x.buffer.length !== y.buffer.length) return x.buffer.length < y.buffer.length ? -1 : 1;
      if (x.subType !== y.subType) return x.subType < y.subType ? -1 : 1;
      return compareBytes(x.buffer, y.buffer);
    }
    case 35:
      return compareBytes((a as ObjectId).id, (b as ObjectId).id);
    case 40:
      return a === b ? 0 : a ? 1 : -1;
    case 45:
      return compareNumbers(dateMs(a as Date), dateMs(b as Date));
    case 47: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return x.t !== y.t ? (x.t < y.t ? -1 : 1) : x.i !== y.i ? (x.i < y.i ? -1 : 1) : 0;
    }
    case 50: {
      const [px, ox] = regexParts(a);
      const [py, oy] = regexParts(b);
      return compareStrings(px, py) || compareStrings(ox, oy);
    }
    case 55:
      return compareStrings((a as DBPointer).namespace, (b as DBPointer).namespace) ||
        compareBytes((a as DBPointer).id.id, (b as DBPointer).id.id);
    case 60:
    case 65:
      return compareStrings((a as Code).code, (b as Code).code);
    default:
      return 0;
  }
}

function compareDocuments(a: Document, b: Document): number {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const rank = typeRank(a[ka[i]]) - typeRank(b[kb[i]]);
    if (rank !== 0) return rank < 0 ? -1 : 1;
    const name = compareStrings(ka[i], kb[i]);
    if (name !== 0) return name;
    const c = compareValues(a[ka[i]], b[kb[i]]);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof BSONRegExp) return [v.pattern, v.options];
  const r = v as RegExp;
  return [r.source, r.flags];
}

/**
 * Whether two BSON values are equal the way the server's `$eq` sees them
 * (numbers of different types compare by value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Double } from "../bson/mod.ts";
 * import { valuesEqual } from "./query.ts";
 *
 * assert.equal(valuesEqual(1, new Double(1)), true);
 * ```
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/**
 * A deep copy of a document or value: documents and arrays are copied, the
 * immutable BSON wrappers are shared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cloneValue } from "./query.ts";
 *
 * const a = { x: [1, { y: 2 }] };
 * assert.equal(cloneValue(a) !== a, true);
 * ```
 */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (isPlainDocument(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  return v;
}

// ---- paths ------------------------------------------------------------------

const MISSING = Symbol("missing");

// Every value a dotted path reaches: a path through an array of documents
// reaches into each of them, and a numeric part also indexes the array.
function resolvePath(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    out.push(value);
    return;
  }
  const key = parts[i];
  if (Array.isArray(value)) {
    if (/^\d+$/.test(key)) {
      const idx = Number(key);
      if (idx < value.length) resolvePath(value[idx], parts, i + 1, out);
    }
    let any = false;
    for (const el of value) {
      if (isPlainDocument(el)) {
        any = true;
        resolvePath(el, parts, i, out);
      }
    }
    if (!any && !/^\d+$/.test(key)) out.push(MISSING);
    return;
  }
  if (isPlainDocument(value)) {
    if (Object.hasOwn(value, key) && value[key] !== undefined) resolvePath(value[key], parts, i + 1, out);
    else out.push(MISSING);
    return;
  }
  out.push(MISSING);
}

function valuesAt(doc: Document, path: string): unknown[] {
  const out: unknown[] = [];
  resolvePath(doc, path.split("."), 0, out);
  if (out.length === 0) out.push(MISSING);
  return out;
}

/**
 * The value at a dotted path without array expansion (numeric parts index
 * arrays), or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getPath } from "./query.ts";
 *
 * assert.equal(getPath({ a: { b: [7, 8] } }, "a.b.1"), 8);
 * ```
 */
export function getPath(doc: Document, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split(".")) {
    if (Array.isArray(v) && /^\d+$/.test(part)) v = v[Number(part)];
    else if (isPlainDocument(v)) v = v[part];
    else return undefined;
  }
  return v;
}

// ---- matching ---------------------------------------------------------------

function regexOf(v: unknown, options = ""): RegExp {
  const [pattern, opts] = v instanceof BSONRegExp || v instanceof RegExp ? regexParts(v) : [String(v), options];
  const flags = [...new Set((opts + options).split(""))].filter((f) => "imsu".includes(f)).join("");
  try {
    return new RegExp(pattern, flags);
  } catch (e) {
    throw serverError(51091, "Location51091", `Regular expression is invalid: ${(e as Error).message}`);
  }
}

function isRegex(v: unknown): boolean {
  return v instanceof BSONRegExp || v instanceof RegExp;
}

function regexTest(re: RegExp, v: unknown): boolean {
  if (typeof v === "string") return re.test(v);
  if (v instanceof BSONSymbol) return re.test(v.value);
  return false;
}

// Equality against one candidate, arrays matching by element or as a whole.
function eqCandidate(candidate: unknown, target: unknown): boolean {
  if (candidate === MISSING) return target === null;
  if (isRegex(target)) {
    const re = regexOf(target);
    if (Array.isArray(candidate)) return candidate.some((el) => regexTest(re, el)) || isRegex(candidate);
    return regexTest(re, candidate) || (isRegex(candidate) && valuesEqual(candidate, target));
  }
  if (Array.isArray(candidate)) {
    if (Array.isArray(target) && valuesEqual(candidate, target)) return true;
    return candidate.some((el) => !Array.isArray(el) ? valuesEqual(el, target) : false) ||
      candidate.some((el) => Array.isArray(el) && Array.isArray(target) && valuesEqual(el, target));
  }
  return valuesEqual(candidate, target === undefined ? null : target);
}

// $gt and friends only compare values of the same canonical type.
function orderCandidate(candidate: unknown, target: unknown, test: (c: number) => boolean): boolean {
  if (candidate === MISSING) return false;
  const check = (v: unknown) => {
    if (typeRank(v) !== typeRank(target)) {
      // MinKey/MaxKey bounds compare across types.
      if (!(target instanceof MinKey || target instanceof MaxKey)) return false;
    }
    return test(compareValues(v, target));
  };
  if (Array.isArray(candidate)) return candidate.some(check) || (Array.isArray(target) && check(candidate));
  return check(candidate);
}

const FIELD_OPERATORS = new Set([
  "$eq",
  "$ne",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$exists",
  "$not",
  "$regex",
  "$options",
  "$size",
  "$elemMatch",
  "$all",
  "$type",
  "$mod",
]);

function isOperatorObject(v: unknown): v is Document {
  if (!isPlainDocument(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys[0].startsWith("$");
}

/**
 * Whether `doc` matches the query `filter`. Supports equality on dotted paths
 * (arrays match by element), `$eq $ne $gt $gte $lt $lte $in $nin $exists
 * $not $regex $size $all $elemMatch $type $mod` on fields and `$and $or $nor`
 * at any level.
 *
 * @throws {MongoError} carrying the server's BadValue code for an unknown or malformed operator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matches } from "./query.ts";
 *
 * assert.equal(matches({ tags: ["a", "b"] }, { tags: "b", n: { $exists: false } }), true);
 * ```
 */
export function matches(doc: Document, filter: Document): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isPlainDocument(filter)) throw typeMismatch("filter must be an object");
  for (const key of Object.keys(filter)) {
    const cond = filter[key];
    if (cond === undefined) continue;
    if (key.startsWith("$")) {
      if (!logical(doc, key, cond)) return false;
    } else if (!matchField(doc, key, cond)) return false;
  }
  return true;
}

/** The top-level operators a filter may use (`logical` evaluates them). */
const TOP_LEVEL_OPERATORS: ReadonlySet<string> = new Set(["$and", "$or", "$nor", "$comment", "$expr"]);

/**
 * Refuses a filter whose top level (or a `$and`/`$or`/`$nor` branch) names
 * an operator mongod does not know, as mongod does before reading anything:
 * `matches` alone would only notice it at the first document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTopLevelOperators } from "./query.ts";
 *
 * assert.throws(() => checkTopLevelOperators({ $unknown: 1 }), /unknown top level operator/);
 * checkTopLevelOperators({ $or: [{ a: 1 }], b: 2 });
 * ```
 */
export function checkTopLevelOperators(filter: unknown): void {
  if (!isPlainDocument(filter)) return;
  for (const key of Object.keys(filter)) {
    if (!key.startsWith("$")) continue;
    if (!TOP_LEVEL_OPERATORS.has(key)) logical({}, key, filter[key]);
    const branches = filter[key];
    if ((key === "$and" || key === "$or" || key === "$nor") && Array.isArray(branches)) {
      for (const b of branches) checkTopLevelOperators(b);
    }
  }
}

function logical(doc: Document, op: string, cond: unknown): boolean {
  switch (op) {
    case "$and":
    case "$or":
    case "$nor": {
      if (!Array.isArray(cond) || cond.length === 0) {
        throw badValue(`${op} argument must be a non-empty array`);
      }
      for (const c of cond) if (!isPlainDocument(c)) throw badValue(`${op} argument's entries must be objects`);
      if (op === "$and") return cond.every((c) => matches(doc, c as Document));
      const any = cond.some((c) => matches(doc, c as Document));
      return op === "$or" ? any : !any;
    }
    case "$comment":
      return true;
    case "$expr":
      return isTrue(cond, doc, { ...currentVariables(), ROOT: doc, CURRENT: doc });
    default:
      throw badValue(
        `unknown top level operator: ${op}. If you have a field name that starts with a '$' ` +
          `symbol, consider using $getField or $setField.`,
      );
  }
}

function matchField(doc: Document, path: string, cond: unknown): boolean {
  const candidates = valuesAt(doc, path);
  if (!isOperatorObject(cond)) return candidates.some((c) => eqCandidate(c, cond));
  for (const op of Object.keys(cond)) {
    if (!FIELD_OPERATORS.has(op)) throw badValue(`unknown operator: ${op}`);
    if (op === "$options") {
      if (!Object.hasOwn(cond, "$regex")) throw badValue("$options needs a $regex");
      continue;
    }
    if (!fieldOperator(candidates, op, cond[op], cond)) return false;
  }
  return true;
}

function fieldOperator(candidates: unknown[], op: string, arg: unknown, cond: Document): boolean {
  switch (op) {
    case "$eq":
      return candidates.some((c) => eqCandidate(c, arg));
    case "$ne":
      return !candidates.some((c) => eqCandidate(c, arg));
    case "$gt":
      return candidates.some((c) => orderCandidate(c, arg, (x) => x > 0));
    case "$gte":
      return candidates.some((c) => orderCandidate(c, arg, (x) => x >= 0));
    case "$lt":
      return candidates.some((c) => orderCandidate(c, arg, (x) => x < 0));
    case "$lte":
      return candidates.some((c) => orderCandidate(c, arg, (x) => x <= 0));
    case "$in":
    case "$nin": {
      if (!Array.isArray(arg)) throw badValue(`${op} needs an array`);
      const hit = candidates.some((c) => arg.some((t) => eqCandidate(c, t)));
      return op === "$in" ? hit : !hit;
    }
    case "$exists": {
      const present = candidates.some((c) => c !== MISSING);
      return truthy(arg) ? present : !present;
    }
    case "$not": {
      if (isRegex(arg)) return !candidates.some((c) => eqCandidate(c, arg));
      if (!isOperatorObject(arg)) throw badValue("$not needs a regex or a document");
      for (const inner of Object.keys(arg)) {
        if (!FIELD_OPERATORS.has(inner)) throw badValue(`unknown operator: ${inner}`);
      }
      return !Object.keys(arg).filter((k) => k !== "$options").every((k) => fieldOperator(candidates, k, arg[k], arg));
    }
    case "$regex": {
      const options = typeof cond.$options === "string" ? cond.$options : "";
      if (typeof arg !== "string" && !isRegex(arg)) throw badValue("$regex has to be a string");
      const re = regexOf(arg, options);
      return candidates.some((c) => Array.isArray(c) ? c.some((el) => regexTest(re, el)) : regexTest(re, c));
    }
    case "$size": {
      const n = numericValue(arg);
      if (n === undefined) throw badValue("$size needs a number");
      return candidates.some((c) => Array.isArray(c) && c.length === Number(n));
    }
    case "$all": {
      if (!Array.isArray(arg)) throw badValue("$all needs an array");
      if (arg.length === 0) return false;
      return arg.every((t) => candidates.some((c) => eqCandidate(c, t)));
    }
    case "$elemMatch": {
      if (!isPlainDocument(arg)) throw badValue("$elemMatch needs an Object");
      const operatorForm = isOperatorObject(arg) && !["$and", "$or", "$nor"].includes(Object.keys(arg)[0]);
      return candidates.some((c) =>
        Array.isArray(c) &&
        c.some((el) => operatorForm ? matchField({ v: el }, "v", arg) : isPlainDocument(el) && matches(el, arg))
      );
    }
    case "$type": {
      const wanted = (Array.isArray(arg) ? arg : [arg]).map((t) => typeof t === "string" ? t : numericValue(t));
      return candidates.some((c) => {
        if (c === MISSING) return false;
        const values = Array.isArray(c) ? [c, ...c] : [c];
        return values.some((v) => wanted.some((w) => typeMatches(v, w)));
      });
    }
    case "$mod": {
      if (!Array.isArray(arg) || arg.length !== 2) throw badValue("malformed mod, needs to be an array");
      const d = Number(numericValue(arg[0]));
      const r = Number(numericValue(arg[1]));
      if (!Number.isFinite(d) || d === 0) throw badValue("divisor cannot be 0");
      return candidates.some((c) => {
        const n = numericValue(c);
        return n !== undefined && Math.trunc(Number(n)) % d === r;
      });
    }
  }
  return false;
}

function typeMatches(v: unknown, wanted: string | number | bigint | undefined): boolean {
  const name = typeName(v);
  if (wanted === "number") return name === "double" || name === "int" || name === "long" || name === "decimal";
  if (typeof wanted === "string") return name === wanted;
  return TYPE_NUMBERS[name] === Number(wanted);
}

const TYPE_NUMBERS: Record<string, number> = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
};

/**
 * The BSON type name of a value as mongod's `$type` and its error messages
 * spell it (`"double"`, `"int"`, `"array"`, `"object"`, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { typeName } from "./query.ts";
 *
 * assert.equal(typeName([1]), "array");
 * ```
 */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number" || v instanceof Double) return "double";
  if (v instanceof Int32) return "int";
  if (typeof v === "bigint" || v instanceof Int64) return "long";
  if (v instanceof Decimal128) return "decimal";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  if (v instanceof Binary) return "binData";
  if (v instanceof BSONUndefined) return "undefined";
  if (v instanceof ObjectId) return "objectId";
  if (v instanceof Date || v instanceof DateTime) return "date";
  if (v instanceof BSONRegExp) return "regex";
  if (v instanceof DBPointer) return "dbPointer";
  if (v instanceof Code) return v.scope === undefined ? "javascript" : "javascriptWithScope";
  if (v instanceof BSONSymbol) return "symbol";
  if (v instanceof Timestamp) return "timestamp";
  if (v instanceof MinKey) return "minKey";
  if (v instanceof MaxKey) return "maxKey";
  return "object";
}

function truthy(v: unknown): boolean {
  const n = numericValue(v);
  if (n !== undefined) return Number(n) !== 0;
  return v !== false && v !== null && v !== undefined;
}

// ---- sort -------------------------------------------------------------------

/**
 * Sorts documents in place by a sort specification (`{field: 1 | -1}`);
 * missing fields sort as null, arrays by their smallest (ascending) or
 * largest (descending) element.
 *
 * @throws {MongoError} carrying BadValue for a direction other than 1 or -1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortDocuments } from "./query.ts";
 *
 * assert.deepEqual(sortDocuments([{ a: 2 }, { a: 1 }], { a: 1 }), [{ a: 1 }, { a: 2 }]);
 * ```
 */
export function sortDocuments(docs: Document[], spec: Document | undefined): Document[] {
  if (spec === undefined || spec === null) return docs;
  if (!isPlainDocument(spec)) throw typeMismatch("sort must be an object");
  const keys = Object.keys(spec).map((k) => {
    const d = numericValue(spec[k]);
    if (d === undefined || (Number(d) !== 1 && Number(d) !== -1)) {
      if (isPlainDocument(spec[k])) throw badValue(`$meta sort is not supported by the simulator (field ${k})`);
      throw badValue(`Sort key ordering must be 1 (for ascending) or -1 (for descending); field ${k}`);
    }
    return { path: k, dir: Number(d) };
  });
  const keyOf = (doc: Document, path: string, dir: number) => {
    const values = valuesAt(doc, path).flatMap((v) => Array.isArray(v) ? (v.length === 0 ? [undefined] : v) : [v]);
    let best: unknown = MISSING;
    for (const v of values) {
      const x = v === MISSING ? null : v;
      if (best === MISSING) best = x;
      else if (dir * compareValues(x, best) < 0) best = x;
    }
    return best === MISSING ? null : best;
  };
  const decorated = docs.map((doc, i) => ({ doc, i, keys: keys.map((k) => keyOf(doc, k.path, k.dir)) }));
  decorated.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compareValues(a.keys[j], b.keys[j]);
      if (c !== 0) return keys[j].dir * c;
    }
    return a.i - b.i;
  });
  for (let i = 0; i < docs.length; i++) docs[i] = decorated[i].doc;
  return docs;
}

// ---- projection -------------------------------------------------------------

/**
 * Applies a projection: either inclusion (`{a: 1, "b.c": 1}`, `_id` kept
 * unless `_id: 0`) or exclusion (`{a: 0}`). Returns a new document.
 *
 * @throws {MongoError} for a projection that mixes inclusion and exclusion.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { project } from "./query.ts";
 *
 * assert.deepEqual(project({ _id: 1, a: 1, b: 2 }, { a: 1 }), { _id: 1, a: 1 });
 * ```
 */
export function project(doc: Document, projection: Document | undefined): Document {
  if (projection === undefined || projection === null) return doc;
  if (!isPlainDocument(projection)) throw typeMismatch("projection must be an object");
  const fields = Object.keys(projection);
  if (fields.length === 0) return doc;
  let include: boolean | undefined;
  let keepId = true;
  const paths: string[] = [];
  for (const f of fields) {
    const v = projection[f];
    if (isPlainDocument(v)) throw badValue(`projection operators are not supported by the simulator (field ${f})`);
    const on = truthy(v);
    if (f === "_id") {
      keepId = on;
      continue;
    }
    if (include === undefined) include = on;
    else if (include !== on) {
      throw serverError(
        31254,
        "Location31254",
        include
          ? `Cannot do exclusion on field ${f} in inclusion projection`
          : `Cannot do inclusion on field ${f} in exclusion projection`,
      );
    }
    paths.push(f);
  }
  if (include === undefined) include = keepId;
  if (include) {
    const out: Document = {};
    if (keepId && doc._id !== undefined) out._id = doc._id;
    const tree = pathTree(paths);
    return Object.assign(out, includeTree(doc, tree));
  }
  const out = cloneValue(doc);
  if (!keepId) delete out._id;
  for (const p of paths) excludePath(out, p.split("."));
  return out;
}

type PathTree = Map<string, PathTree | true>;

function pathTree(paths: string[]): PathTree {
  const root: PathTree = new Map();
  for (const p of paths) {
    let node = root;
    const parts = p.split(".");
    for (let i = 0; i < parts.length; i++) {
      const existing = node.get(parts[i]);
      if (existing === true) break;
      if (i === parts.length - 1) node.set(parts[i], true);
      else {
        const next: PathTree = existing ?? new Map();
        node.set(parts[i], next);
        node = next;
      }
    }
  }
  return root;
}

function includeTree(doc: Document, tree: PathTree): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const sub = tree.get(key);
    if (sub === undefined) continue;
    const v = doc[key];
    if (sub === true) out[key] = cloneValue(v);
    else if (isPlainDocument(v)) out[key] = includeTree(v, sub);
    else if (Array.isArray(v)) {
      out[key] = v.filter((el) => isPlainDocument(el) || Array.isArray(el)).map((el) =>
        isPlainDocument(el) ? includeTree(el, sub) : el
      );
    }
  }
  return out;
}

function excludePath(v: unknown, parts: string[]): void {
  if (Array.isArray(v)) {
    for (const el of v) excludePath(el, parts);
    return;
  }
  if (!isPlainDocument(v)) return;
  if (parts.length === 1) delete v[parts[0]];
  else excludePath(v[parts[0]], parts.slice(1));
}

// ---- updates ----------------------------------------------------------------

const UPDATE_OPERATORS = new Set([
  "$set",
  "$unset",
  "$inc",
  "$push",
  "$setOnInsert",
  "$addToSet",
  "$pop",
  "$pull",
  "$min",
  "$max",
  "$mul",
  "$rename",
  "$currentDate",
]);

/**
 * Whether an update document uses operators (`{$set: ...}`) rather than
 * being a replacement document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isOperatorUpdate } from "./query.ts";
 *
 * assert.equal(isOperatorUpdate({ $set: { a: 1 } }), true);
 * assert.equal(isOperatorUpdate({ a: 1 }), false);
 * ```
 */
export function isOperatorUpdate(update: Document): boolean {
  const keys = Object.keys(update);
  return keys.length > 0 && keys[0].startsWith("$");
}

/**
 * Applies an operator update (`$set $unset $inc $push $setOnInsert $addToSet
 * $pop $pull $min $max $mul $rename $currentDate`) to a copy of `doc` and
 * returns the copy. `insert` says whether this is an upsert's insert (only
 * then `$setOnInsert` applies).
 *
 * @throws {MongoError} carrying the server's code for an unknown modifier
 * (FailedToParse), `$inc` on a non-number (TypeMismatch), or a change of `_id` (ImmutableField).
 * @example
 * ```ts
 * import { applyUpdate } from "./query.ts";
 *
 * console.log(applyUpdate({ _id: 1, n: 1 }, { $inc: { n: 2 }, $set: { "a.b": true } }));
 * // { _id: 1, n: 3, a: { b: true } }
 * ```
 */
export function applyUpdate(doc: Document, update: Document, options: { insert?: boolean } = {}): Document {
  const out = cloneValue(doc);
  const id = out._id;
  for (const op of Object.keys(update)) {
    if (!UPDATE_OPERATORS.has(op)) {
      if (!op.startsWith("$")) {
        throw serverError(
          9,
          "FailedToParse",
          `The dollar ($) prefixed field '${op}' ... cannot mix operators and fields`,
        );
      }
      throw serverError(
        9,
        "FailedToParse",
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const fields = update[op];
    if (!isPlainDocument(fields)) {
      throw serverError(
        9,
        "FailedToParse",
        `Modifiers operate on fields but we found type ${typeName(fields)} instead.`,
      );
    }
    for (const path of Object.keys(fields)) applyOperator(out, op, path, fields[path], options.insert === true);
  }
  if (id !== undefined && !valuesEqual(out._id, id)) {
    throw serverError(
      66,
      "ImmutableField",
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  return out;
}

// Walks to the parent of the last path part, creating documents on the way.
function parentOf(doc: Document, parts: string[], create: boolean): Document | unknown[] | undefined {
  let v: unknown = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(part)) {
        throw serverError(28, "PathNotViable", `Cannot create field '${part}' in element {${parts[i - 1]}: [...]}`);
      }
      const idx = Number(part);
      if (v[idx] === undefined || v[idx] === null) {
        if (!create) return undefined;
        while (v.length < idx) v.push(null);
        v[idx] = {};
      }
      v = v[idx];
    } else if (isPlainDocument(v)) {
      if (v[part] === undefined) {
        if (!create) return undefined;
        v[part] = {};
      }
      v = v[part];
    } else {
      throw serverError(
        28,
        "PathNotViable",
        `Cannot create field '${part}' in element {${parts[i - 1]}: ${String(v)}}`,
      );
    }
  }
  if (Array.isArray(v) || isPlainDocument(v)) return v;
  if (!create) return undefined;
  throw serverError(
    28,
    "PathNotViable",
    `Cannot create field '${parts[parts.length - 1]}' in element {${parts[parts.length - 2]}: ${String(v)}}`,
  );
}

function getChild(parent: Document | unknown[], key: string): unknown {
  return Array.isArray(parent) ? parent[Number(key)] : parent[key];
}

function setChild(parent: Document | unknown[], key: string, value: unknown): void {
  if (Array.isArray(parent)) {
    if (!/^\d+$/.test(key)) throw serverError(28, "PathNotViable", `Cannot create field '${key}' in an array`);
    const idx = Number(key);
    while (parent.length < idx) parent.push(null);
    parent[idx] = value;
  } else parent[key] = value;
}

function applyOperator(doc: Document, op: string, path: string, arg: unknown, insert: boolean): void {
  if (path === "" || path.split(".").some((p) => p === "")) {
    throw serverError(56, "EmptyFieldName", `An empty update path is not valid: '${path}'`);
  }
  const parts = path.split(".");
  const last = parts[parts.length - 1];
  switch (op) {
    case "$setOnInsert":
      if (!insert) return;
    /* falls through */
    case "$set":
      setChild(parentOf(doc, parts, true)!, last, cloneValue(arg));
      return;
    case "$unset": {
      const parent = parentOf(doc, parts, false);
      if (parent === undefined) return;
      if (Array.isArray(parent)) {
        if (/^\d+$/.test(last) && Number(last) < parent.length) parent[Number(last)] = null;
      } else delete parent[last];
      return;
    }
    case "$inc":
    case "$mul": {
      if (numericValue(arg) === undefined) {
        throw typeMismatch(
          `Cannot ${op === "$inc" ? "increment" : "multiply"} with non-numeric argument: {${path}: ${String(arg)}}`,
        );
      }
      const parent = parentOf(doc, parts, true)!;
      const current = getChild(parent, last);
      if (current === undefined) {
        setChild(parent, last, op === "$inc" ? arg : zeroLike(arg));
        return;
      }
      if (numericValue(current) === undefined) {
        throw typeMismatch(
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${
            String(doc._id)
          }} has the field '${last}' of non-numeric type ${typeName(current)}`,
        );
      }
      setChild(parent, last, arithmetic(current, arg, op === "$inc" ? "add" : "mul"));
      return;
    }
    case "$min":
    case "$max": {
      const parent = parentOf(doc, parts, true)!;
      const current = getChild(parent, last);
      const c = current === undefined ? 0 : compareValues(arg, current);
      if (current === undefined || (op === "$min" ? c < 0 : c > 0)) setChild(parent, last, cloneValue(arg));
      return;
    }
    case "$currentDate":
      setChild(parentOf(doc, parts, true)!, last, new Date());
      return;
    case "$rename": {
      if (typeof arg !== "string") {
        throw badValue(`The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
      }
      const from = parentOf(doc, parts, false);
      if (from === undefined || Array.isArray(from) || from[last] === undefined) return;
      const v = from[last];
      delete from[last];
      const toParts = arg.split(".");
      setChild(parentOf(doc, toParts, true)!, toParts[toParts.length - 1], v);
      return;
    }
    case "$push":
    case "$addToSet": {
      const parent = parentOf(doc, parts, true)!;
      let current = getChild(parent, last);
      if (current === undefined) {
        current = [];
        setChild(parent, last, current);
      }
      if (!Array.isArray(current)) {
        throw serverError(
          2,
          "BadValue",
          `The field '${path}' must be an array but is of type ${typeName(current)} in document {_id: ${
            String(doc._id)
          }}`,
        );
      }
      const items = isPlainDocument(arg) && Object.hasOwn(arg, "$each")
        ? (Array.isArray(arg.$each) ? arg.$each : (() => {
          throw badValue(`The argument to $each in ${op} must be an array but it was of type: ${typeName(arg.$each)}`);
        })())
        : [arg];
      for (const item of items) {
        if (op === "$addToSet" && current.some((el) => valuesEqual(el, item))) continue;
        current.push(cloneValue(item));
      }
      if (op === "$push" && isPlainDocument(arg)) {
        if (arg.$sort !== undefined) {
          if (isPlainDocument(arg.$sort)) sortDocuments(current as Document[], arg.$sort);
          else {
            const dir = Number(numericValue(arg.$sort));
            current.sort((a, b) => dir * compareValues(a, b));
          }
        }
        if (arg.$slice !== undefined) {
          const n = Number(numericValue(arg.$slice));
          const kept = n >= 0 ? current.slice(0, n) : current.slice(Math.max(0, current.length + n));
          current.length = 0;
          current.push(...kept);
        }
      }
      return;
    }
    case "$pop": {
      const parent = parentOf(doc, parts, false);
      if (parent === undefined) return;
      const current = getChild(parent, last);
      if (current === undefined) return;
      if (!Array.isArray(current)) {
        throw badValue(`Path '${path}' contains an element of non-array type '${typeName(current)}'`);
      }
      if (Number(numericValue(arg)) === -1) current.shift();
      else current.pop();
      return;
    }
    case "$pull": {
      const parent = parentOf(doc, parts, false);
      if (parent === undefined) return;
      const current = getChild(parent, last);
      if (current === undefined) return;
      if (!Array.isArray(current)) throw badValue("Cannot apply $pull to a non-array value");
      const keep = current.filter((el) => {
        if (isOperatorObject(arg)) return !matchField({ v: el }, "v", arg);
        if (isPlainDocument(arg) && isPlainDocument(el)) return !matches(el, arg);
        return !valuesEqual(el, arg);
      });
      current.length = 0;
      current.push(...keep);
      return;
    }
  }
}

function zeroLike(v: unknown): unknown {
  if (v instanceof Int32 || typeof v === "number") return new Int32(0);
  if (v instanceof Int64 || typeof v === "bigint") return new Int64(0n);
  return new Double(0);
}

// BSON numeric promotion: int32 op int32 stays int32 unless it overflows,
// anything with a long is a long, anything with a double is a double.
function arithmetic(a: unknown, b: unknown, op: "add" | "mul"): unknown {
  const kind = (v: unknown) =>
    v instanceof Int32 ? 1 : v instanceof Int64 || typeof v === "bigint" ? 2 : v instanceof Decimal128 ? 4 : 3;
  const plainNumberKind = (
    v: unknown,
  ) => (typeof v === "number" ? (Number.isInteger(v) && (v | 0) === v ? 1 : 3) : kind(v));
  const k = Math.max(plainNumberKind(a), plainNumberKind(b));
  const x = numericValue(a)!;
  const y = numericValue(b)!;
  if (k === 1) {
    const r = op === "add" ? Number(x) + Number(y) : Number(x) * Number(y);
    if ((r | 0) === r) return new Int32(r);
    return new Int64(BigInt(r));
  }
  if (k === 2) {
    const r = op === "add" ? BigInt(x) + BigInt(y) : BigInt(x) * BigInt(y);
    if (r > 2n ** 63n - 1n || r < -(2n ** 63n)) return new Double(Number(r));
    return new Int64(r);
  }
  if (k === 4) {
    return Decimal128.fromString(String(op === "add" ? Number(x) + Number(y) : Number(x) * Number(y)));
  }
  return new Double(op === "add" ? Number(x) + Number(y) : Number(x) * Number(y));
}

/**
 * The fields an upsert starts from: the equality conditions of the filter
 * (`{a: 1}`, `{a: {$eq: 1}}`, and those inside `$and`), dotted paths expanded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upsertSeed } from "./query.ts";
 *
 * assert.deepEqual(upsertSeed({ "a.b": 1, c: { $gt: 2 } }), { a: { b: 1 } });
 * ```
 */
export function upsertSeed(filter: Document | undefined): Document {
  const out: Document = {};
  const walk = (f: Document) => {
    for (const key of Object.keys(f)) {
      const cond = f[key];
      if (key === "$and" && Array.isArray(cond)) {
        for (const c of cond) if (isPlainDocument(c)) walk(c);
        continue;
      }
      if (key.startsWith("$")) continue;
      let value: unknown;
      if (isOperatorObject(cond)) {
        if (!Object.hasOwn(cond, "$eq")) continue;
        value = cond.$eq;
      } else value = cond;
      if (isRegex(value)) continue;
      const parts = key.split(".");
      setChild(parentOf(out, parts, true)!, parts[parts.length - 1], cloneValue(value));
    }
  };
  if (isPlainDocument(filter)) walk(filter);
  return out;
}
