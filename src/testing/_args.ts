/**
 * Argument checks and reply shapes the simulated server's command families
 * share.
 *
 * @module
 */
import { type Document, encode, Int64, ObjectId } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { checkTopLevelOperators, isPlainDocument, matches, numericValue } from "./query.ts";
import type { Store } from "./store.ts";
import { showValue } from "./indexes.ts";
import { collatorFor } from "./collation.ts";
import { readableDocuments } from "./views.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";

/** A numeric argument (`fallback` when absent; BadValue when absent without one). */
export function num(v: unknown, what: string, fallback?: number): number {
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badValue(`${what} is required`);
  }
  const n = numericValue(v);
  if (n === undefined) throw typeMismatch(`${what} must be a number`);
  return Number(n);
}

/** A boolean argument as mongod reads one (numbers count). */
export function bool(v: unknown): boolean {
  const n = numericValue(v);
  if (n !== undefined) return Number(n) !== 0;
  return v === true;
}

/** Checks a collection name for `db` (InvalidNamespace otherwise). */
export function checkCollectionName(db: string, v: unknown): string {
  if (typeof v !== "string") {
    throw serverError(
      ErrorCode.InvalidNamespace,
      "InvalidNamespace",
      `collection name has invalid type ${v === null ? "null" : typeof v}`,
    );
  }
  if (v === "" || v.includes("\0") || v.startsWith("$")) {
    throw serverError(ErrorCode.InvalidNamespace, "InvalidNamespace", `Invalid namespace specified '${db}.${v}'`);
  }
  return v;
}

/** An optional document argument. */
export function docArg(v: unknown, what: string): Document | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainDocument(v)) throw typeMismatch(`${what} must be an object`);
  return v;
}

/** How mongod prints a value in a message. */
export const show: (v: unknown) => string = showValue;

/** Whether two documents encode to the same bytes (an update that changes nothing). */
export function sameBytes(a: Document, b: Document): boolean {
  const x = encode(a);
  const y = encode(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A copy of `doc` with `_id` first, as mongod stores it. */
export function withIdFirst(doc: Document, id: unknown): Document {
  const out: Document = { _id: id };
  for (const k of Object.keys(doc)) if (k !== "_id") out[k] = doc[k];
  return out;
}

/** A new `_id` unless the document has one. */
export function idFor(doc: Document): unknown {
  return doc._id === undefined ? new ObjectId() : doc._id;
}

/** A cursor reply (`firstBatch` for the opening command, `nextBatch` for getMore). */
export function cursorReply(ns: string, batch: Document[], id: bigint, first: boolean): Document {
  return {
    cursor: first ? { firstBatch: batch, id: new Int64(id), ns } : { nextBatch: batch, id: new Int64(id), ns },
    ok: 1,
  };
}

/** The documents at `ns` matching `filter`. */
export function selectDocuments(store: Store, ns: string, filter: Document | undefined): Document[] {
  checkTopLevelOperators(filter);
  return readableDocuments(store, ns).filter((d) => matches(d, filter ?? {}));
}

/** Refuses an `_id` mongod refuses (an array). */
export function checkId(id: unknown): void {
  if (Array.isArray(id)) throw serverError(53, "InvalidIdField", `The '_id' value cannot be of type array`);
}

/** Checks a collation document (see `collation.ts` for what is implemented). */
export function checkCollation(v: unknown): void {
  collatorFor(v);
}
