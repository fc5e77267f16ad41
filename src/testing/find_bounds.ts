/**
 * The `find` options that read an index as mongod 7.0 answers them: `min` and
 * `max` (an inclusive lower and an exclusive upper bound on the keys of the
 * hinted index) and `returnKey` (each result replaced by its key in the index
 * the query used; `{}` when it used none). `showRecordId` is answered only
 * with `returnKey`, where mongod returns the key alone; without it the
 * simulator has no record ids to show and refuses it (NotImplemented).
 *
 * @module
 */

import type { Document } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { compareValues, getPath, isPlainDocument } from "./query.ts";
import type { Collection, IndexSpec } from "./store.ts";
import { findIndex } from "./indexes.ts";
import { serverError } from "./_server_error.ts";

/** The fields of a `find` command this module reads. */
interface FindBody {
  readonly min?: unknown;
  readonly max?: unknown;
  readonly hint?: unknown;
  readonly sort?: unknown;
  readonly returnKey?: unknown;
  readonly showRecordId?: unknown;
}

function sameFields(a: Document, b: Document): boolean {
  const x = Object.keys(a);
  const y = Object.keys(b);
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

/** The index a find uses: the hinted one, else one whose key pattern is the sort's (either direction). */
function usedIndex(collection: Collection | undefined, body: FindBody): IndexSpec | undefined {
  if (collection === undefined) return undefined;
  if (body.hint !== undefined) return findIndex(collection.indexes, body.hint);
  if (!isPlainDocument(body.sort) || Object.keys(body.sort).length === 0) return undefined;
  const sort = body.sort;
  return collection.indexes.find((i) =>
    sameFields(i.key, sort) &&
    (Object.keys(sort).every((f) => Math.sign(Number(i.key[f])) === Math.sign(Number(sort[f]))) ||
      Object.keys(sort).every((f) => Math.sign(Number(i.key[f])) === -Math.sign(Number(sort[f]))))
  );
}

/** A document's key in an index: its values of the key pattern's fields, in order (a missing one is null). */
function keyOf(doc: Document, key: Document): Document {
  const out: Document = {};
  for (const field of Object.keys(key)) {
    const v = getPath(doc, field);
    out[field] = v === undefined ? null : Array.isArray(v) ? (v.length === 0 ? null : v[0]) : v;
  }
  return out;
}

/** Compares two keys in an index's order (a descending field reversed). */
function compareKeys(a: Document, b: Document, pattern: Document): number {
  for (const field of Object.keys(pattern)) {
    const direction = Number(pattern[field]) < 0 ? -1 : 1; // Int32(-1) and -1 alike; "hashed" and the like ascend
    const c = compareValues(a[field], b[field]) * direction;
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Keeps the documents whose key in the hinted index is at least `min` and
 * below `max`.
 *
 * @throws {MongoError} as mongod: no hint (51173), or bounds whose fields are not the index's (51174).
 * @example
 * ```ts ignore
 * docs = applyMinMax(docs, collection, { min: { _id: 0 }, max: { _id: 6 }, hint: { _id: 1 } });
 * ```
 */
export function applyMinMax(docs: Document[], collection: Collection | undefined, body: FindBody): Document[] {
  const { min, max } = body;
  if (min === undefined && max === undefined) return docs;
  if ((min !== undefined && !isPlainDocument(min)) || (max !== undefined && !isPlainDocument(max))) {
    throw serverError(ErrorCode.TypeMismatch, "TypeMismatch", "min and max must be objects");
  }
  if (body.hint === undefined) {
    throw serverError(51173, "Location51173", "When using min()/max() a hint of which index to use must be provided");
  }
  const index = usedIndex(collection, body);
  if (index === undefined) return docs; // the collection does not exist: no documents
  for (const bound of [min, max]) {
    if (bound !== undefined && !sameFields(bound as Document, index.key)) {
      throw serverError(
        51174,
        "Location51174",
        "The index implied by specified min/max does not match the provided hint",
      );
    }
  }
  return docs.filter((d) => {
    const k = keyOf(d, index.key);
    if (min !== undefined && compareKeys(k, min as Document, index.key) < 0) return false;
    if (max !== undefined && compareKeys(k, max as Document, index.key) >= 0) return false;
    return true;
  });
}

/**
 * `returnKey`: each document replaced by its key in the index the find used
 * (`{}` for a collection scan). Returns `docs` unchanged without `returnKey`.
 *
 * @throws {MongoError} NotImplemented for `showRecordId` without `returnKey`.
 * @example
 * ```ts ignore
 * docs = returnKeys(docs, collection, { returnKey: true, sort: { _id: 1 } });
 * ```
 */
export function returnKeys(docs: Document[], collection: Collection | undefined, body: FindBody): Document[] {
  const returnKey = body.returnKey === true;
  if (body.showRecordId === true && !returnKey) {
    throw serverError(
      ErrorCode.NotImplemented,
      "NotImplemented",
      "find option 'showRecordId' without returnKey is not supported by the simulated server (it keeps no record ids)",
    );
  }
  if (!returnKey) return docs;
  const index = usedIndex(collection, body);
  return docs.map((d) => (index === undefined ? {} : keyOf(d, index.key)));
}
