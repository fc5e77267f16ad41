/**
 * Indexes of the simulated server: `createIndexes` (names generated as
 * mongod does, `a_1_b_-1`; options kept as given), `listIndexes`,
 * `dropIndexes` (by name, key pattern, `"*"` or a list of names), hints
 * checked against them, and unique indexes (compound, sparse, partial)
 * enforced with mongod's E11000 duplicate-key errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexName } from "./indexes.ts";
 *
 * assert.equal(indexName({ a: 1, b: -1 }), "a_1_b_-1");
 * ```
 *
 * @module
 */
import { type Document, Int32, ObjectId } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { getPath, isPlainDocument, matches, numericValue, valuesEqual } from "./query.ts";
import type { Collection, IndexSpec } from "./store.ts";
import { withCollation } from "./collation.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";

/**
 * The name mongod gives an index with this key pattern.
 *
 * @example
 * ```ts
 * import { indexName } from "./indexes.ts";
 *
 * console.log(indexName({ loc: "2dsphere" })); // loc_2dsphere
 * ```
 */
export function indexName(key: Document): string {
  return Object.keys(key).map((k) => `${k}_${String(numericValue(key[k]) ?? key[k])}`).join("_");
}

/**
 * How a value prints in mongod's messages (`{ a: 1, b: "x" }`).
 *
 * @example
 * ```ts
 * import { showValue } from "./indexes.ts";
 *
 * console.log(showValue({ a: 1, b: "x" })); // { a: 1, b: "x" }
 * ```
 */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (Array.isArray(v)) return `[ ${v.map(showValue).join(", ")} ]`;
  if (isPlainDocument(v)) return `{ ${Object.keys(v).map((k) => `${k}: ${showValue(v[k])}`).join(", ")} }`;
  const n = numericValue(v);
  if (n !== undefined) return String(n);
  return String(v);
}

function sameKey(a: Document, b: Document): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && valuesEqual(a[k], b[k]));
}

const INDEX_OPTIONS = new Set([
  "key",
  "name",
  "unique",
  "sparse",
  "partialFilterExpression",
  "expireAfterSeconds",
  "hidden",
  "background",
  "collation",
  "v",
  "weights",
  "default_language",
  "language_override",
  "textIndexVersion",
  "2dsphereIndexVersion",
  "bits",
  "min",
  "max",
  "wildcardProjection",
  "storageEngine",
]);

/**
 * Checks one `createIndexes` specification and returns it as stored
 * (`v: 2` first, the name generated when missing is an error as on mongod).
 */
export function checkIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainDocument(raw)) throw typeMismatch("The 'indexes' elements must be objects");
  if (!isPlainDocument(raw.key) || Object.keys(raw.key).length === 0) {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "The 'key' field of an index specification must be a non-empty object");
  }
  if (typeof raw.name !== "string" || raw.name === "") {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "The 'name' field of an index specification must be a non-empty string");
  }
  for (const k of Object.keys(raw)) {
    if (!INDEX_OPTIONS.has(k)) {
      throw serverError(197, "InvalidIndexSpecificationOption", `The field '${k}' is not valid for an index specification. Specification: ${showValue(raw)}`);
    }
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    const n = numericValue(dir);
    const okString = typeof dir === "string" && ["text", "2d", "2dsphere", "hashed"].includes(dir);
    if (!(okString || (n !== undefined && Number(n) !== 0))) {
      throw serverError(67, "CannotCreateIndex", `Values in the index key pattern can't be 0 or a string other than an index type: ${field}: ${showValue(dir)}`);
    }
  }
  if (raw.collation !== undefined) {
    const locale = isPlainDocument(raw.collation) ? raw.collation.locale : undefined;
    if (locale !== "simple") throw badValue("the simulated server supports only the simple collation on indexes");
  }
  if (raw.partialFilterExpression !== undefined && !isPlainDocument(raw.partialFilterExpression)) {
    throw typeMismatch("partialFilterExpression must be an object");
  }
  const spec: Document = { v: new Int32(2), key: raw.key, name: raw.name };
  for (const k of Object.keys(raw)) if (k !== "v" && k !== "key" && k !== "name") spec[k] = raw[k];
  return spec as IndexSpec;
}

/**
 * Whether `spec` may be added next to `existing`: null when new, "same" when
 * an identical index exists (mongod does nothing), or throws the conflict.
 */
export function indexConflict(existing: readonly IndexSpec[], spec: IndexSpec): "same" | null {
  const options = (s: Document) =>
    JSON.stringify([!!s.unique, !!s.sparse, s.partialFilterExpression ?? null, s.expireAfterSeconds ?? null]);
  for (const i of existing) {
    if (i.name === spec.name) {
      if (sameKey(i.key, spec.key) && options(i) === options(spec)) return "same";
      if (!sameKey(i.key, spec.key)) {
        throw serverError(ErrorCode.IndexKeySpecsConflict, "IndexKeySpecsConflict", `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${showValue(spec)}, existing index: ${showValue(i)}`);
      }
      throw serverError(ErrorCode.IndexOptionsConflict, "IndexOptionsConflict", `An equivalent index already exists with the same name but different options. Requested index: ${showValue(spec)}, existing index: ${showValue(i)}`);
    }
    if (sameKey(i.key, spec.key) && options(i) !== options(spec) && JSON.stringify(i.collation ?? null) === JSON.stringify(spec.collation ?? null)) {
      throw serverError(ErrorCode.IndexOptionsConflict, "IndexOptionsConflict", `An equivalent index already exists with a different name and options. Requested index: ${showValue(spec)}, existing index: ${showValue(i)}`);
    }
    if (sameKey(i.key, spec.key) && options(i) === options(spec)) {
      throw serverError(ErrorCode.IndexOptionsConflict, "IndexOptionsConflict", `Index already exists with a different name: ${i.name}`);
    }
  }
  return null;
}

/** The index named, or with the key pattern given, by a `hint` or `dropIndexes` argument. */
export function findIndex(indexes: readonly IndexSpec[], which: unknown): IndexSpec | undefined {
  if (typeof which === "string") return indexes.find((i) => i.name === which);
  if (isPlainDocument(which)) return indexes.find((i) => sameKey(i.key, which));
  return undefined;
}

/**
 * Checks a `hint`: a name or key pattern of an existing index, or `$natural`.
 *
 * @throws {MongoError} carrying BadValue when no such index exists, as mongod answers.
 */
export function checkHint(collection: Collection | undefined, hint: unknown): void {
  if (hint === undefined || hint === null) return;
  if (isPlainDocument(hint) && Object.keys(hint).length === 1 && Object.hasOwn(hint, "$natural")) return;
  if (typeof hint !== "string" && !isPlainDocument(hint)) throw badValue("hint must be a string or an object");
  if (isPlainDocument(hint) && Object.keys(hint).length === 0) return;
  // mongod answers a query on a missing collection without planning it.
  if (collection === undefined) return;
  const found = findIndex(collection.indexes, hint);
  // A hidden index is invisible to the planner, hints included.
  if (found === undefined || found.hidden === true) {
    throw badValue("hint provided does not correspond to an existing index");
  }
}

// Each key a document has in an index (several when a field holds an array).
function keysOf(doc: Document, key: Document): Document[] {
  let out: Document[] = [{}];
  for (const field of Object.keys(key)) {
    const v = getPath(doc, field);
    const values = Array.isArray(v) ? (v.length === 0 ? [undefined] : v) : [v];
    const next: Document[] = [];
    for (const partial of out) {
      for (const x of values) next.push({ ...partial, [field]: x === undefined ? null : x });
    }
    out = next;
  }
  return out;
}

function indexed(doc: Document, spec: IndexSpec): boolean {
  if (spec.sparse === true && Object.keys(spec.key).every((f) => getPath(doc, f) === undefined)) return false;
  if (isPlainDocument(spec.partialFilterExpression) && !matches(doc, spec.partialFilterExpression)) return false;
  return true;
}

/**
 * The E11000 error for writing `doc` into `collection` (replacing the
 * document whose `_id` is `replacing`, if any), or undefined when every
 * unique index accepts it.
 *
 * @example
 * ```ts ignore
 * const e = duplicateKeyError("test.c", collection, { _id: 2, a: 1 }, undefined);
 * ```
 */
export function duplicateKeyError(
  ns: string,
  collection: Collection | undefined,
  doc: Document,
  replacing: unknown,
): Error | undefined {
  // Indexes compare keys with their own (simple) collation, whatever the operation's.
  return withCollation(undefined, () => duplicateKeyErrorSimple(ns, collection, doc, replacing));
}

function duplicateKeyErrorSimple(
  ns: string,
  collection: Collection | undefined,
  doc: Document,
  replacing: unknown,
): Error | undefined {
  if (collection === undefined) return undefined;
  const idTaken = collection.has(doc._id) && (replacing === undefined || !valuesEqual(replacing, doc._id));
  if (idTaken) return dupError(ns, { name: "_id_", key: { _id: 1 } } as IndexSpec, { _id: doc._id });
  for (const spec of collection.indexes) {
    // prepareUnique: new keys must be unique while old duplicates may remain.
    if ((spec.unique !== true && spec.prepareUnique !== true) || spec.name === "_id_" || !indexed(doc, spec)) continue;
    const mine = keysOf(doc, spec.key);
    for (const other of collection.documents) {
      if (replacing !== undefined && valuesEqual(other._id, replacing)) continue;
      if (valuesEqual(other._id, doc._id) || !indexed(other, spec)) continue;
      const theirs = keysOf(other, spec.key);
      const clash = mine.find((k) => theirs.some((t) => valuesEqual(k, t)));
      if (clash !== undefined) return dupError(ns, spec, clash);
    }
  }
  return undefined;
}

/**
 * The E11000 error a new unique index meets among existing documents, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstDuplicate } from "./indexes.ts";
 *
 * const spec = { v: 2, key: { a: 1 }, name: "a_1", unique: true };
 * assert.ok(firstDuplicate("t.c", [{ _id: 1, a: 1 }, { _id: 2, a: 1 }], spec) !== undefined);
 * ```
 */
export function firstDuplicate(ns: string, docs: readonly Document[], spec: IndexSpec): Error | undefined {
  if (spec.unique !== true) return undefined;
  const seen: Document[] = [];
  for (const d of docs) {
    if (!indexed(d, spec)) continue;
    const mine: Document[] = [];
    for (const k of keysOf(d, spec.key)) if (!mine.some((x) => valuesEqual(x, k))) mine.push(k);
    for (const k of mine) {
      if (seen.some((x) => valuesEqual(x, k))) return dupError(ns, spec, k);
    }
    seen.push(...mine);
  }
  return undefined;
}

/**
 * The groups of `_id`s sharing a key of `spec`, as collMod's
 * CannotConvertIndexToUnique reports them (`[{ids: [...]}]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uniqueViolations } from "./indexes.ts";
 *
 * const spec = { v: 2, key: { x: 1 }, name: "x_1" };
 * assert.deepEqual(uniqueViolations([{ _id: 1, x: 1 }, { _id: 2, x: 1 }], spec), [{ ids: [1, 2] }]);
 * ```
 */
export function uniqueViolations(docs: readonly Document[], spec: IndexSpec): Document[] {
  const groups: { key: Document; ids: unknown[] }[] = [];
  for (const d of docs) {
    if (!indexed(d, spec)) continue;
    for (const k of keysOf(d, spec.key)) {
      const g = groups.find((x) => valuesEqual(x.key, k));
      if (g === undefined) groups.push({ key: k, ids: [d._id] });
      else if (!g.ids.some((id) => valuesEqual(id, d._id))) g.ids.push(d._id);
    }
  }
  return groups.filter((g) => g.ids.length > 1).map((g) => ({ ids: g.ids }));
}

function dupError(ns: string, spec: IndexSpec, keyValue: Document): Error {
  const keyPattern: Document = {};
  for (const k of Object.keys(spec.key)) keyPattern[k] = spec.key[k];
  return serverError(
    ErrorCode.DuplicateKey,
    "DuplicateKey",
    `E11000 duplicate key error collection: ${ns} index: ${spec.name} dup key: ${showValue(keyValue)}`,
    { keyPattern, keyValue },
  );
}

/**
 * The index names `dropIndexes` removes for its argument (never `_id_`).
 *
 * @throws {MongoError} IndexNotFound (27) for an unknown one, InvalidOptions (72) for `_id_`.
 */
export function indexesToDrop(indexes: readonly IndexSpec[], which: unknown, ns: string): string[] {
  if (which === "*") return indexes.filter((i) => i.name !== "_id_").map((i) => i.name);
  const list = Array.isArray(which) ? which : [which];
  const names: string[] = [];
  for (const w of list) {
    if (typeof w !== "string" && !isPlainDocument(w)) {
      throw typeMismatch("dropIndexes 'index' must be a string, an object or an array of strings");
    }
    const found = findIndex(indexes, w);
    if (found === undefined) {
      const what = typeof w === "string" ? `index not found with name [${w}]` : `can't find index with key: ${showValue(w)}`;
      throw serverError(ErrorCode.IndexNotFound, "IndexNotFound", `${what} in ${ns}`);
    }
    if (found.name === "_id_") throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", "cannot drop _id index");
    names.push(found.name);
  }
  return names;
}
