// Shared by the collection's writes (collection.ts, find_and_modify.ts,
// bulk_write.ts, indexes.ts): the inherited settings of one operation, the
// checks of update and replacement documents, `_id` generation, and how a
// write reply's `writeErrors` become typed errors. Not part of the public API.

import { ConfigurationError, type WriteConcernError, WriteError, type WriteErrorDetail } from "../errors.ts";
import { type Document, ObjectId } from "../bson/mod.ts";
import {
  checkDocument,
  checkInt,
  checkSignal,
  type ClientContext,
  contextOf,
  count,
  isDocument,
  show,
} from "./_internal.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { checkSession, type ClientSession } from "./session.ts";
import type { Database } from "./database.ts";
import type { ReadPreference } from "../topology/read_preference.ts";
import type { ReadConcern } from "./read_concern.ts";

/** What the helpers read of a collection (its public getters), whatever its document type. */
export interface CollectionLike {
  readonly name: string;
  readonly namespace: string;
  readonly database: Database;
  readonly readPreference: ReadPreference;
  readonly readConcern: ReadConcern;
  readonly writeConcern: WriteConcern;
  readonly timeoutMS: number | undefined;
}

/** What every operation of a collection inherits, resolved for one call. */
export interface OperationBase {
  readonly ctx: ClientContext;
  /** The database name. */
  readonly db: string;
  /** The collection name. */
  readonly coll: string;
  readonly timeoutMS: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** The caller's session, checked (ended, another client's: a `SessionError` before any I/O). */
  readonly session: ClientSession | undefined;
}

/** The client context, names, `timeoutMS` (the operation's, else the collection's) and signal of one call. */
export function operationBase(
  coll: CollectionLike,
  options: { readonly timeoutMS?: number; readonly signal?: AbortSignal; readonly session?: ClientSession },
): OperationBase {
  const ctx = contextOf(coll.database.client);
  return {
    ctx,
    session: checkSession(options.session, ctx, options),
    db: coll.database.name,
    coll: coll.name,
    timeoutMS: options.timeoutMS === undefined ? coll.timeoutMS : checkInt(options.timeoutMS, "timeoutMS", 0),
    signal: checkSignal(options.signal),
  };
}

/**
 * The operation's write concern, else the collection's; none inside a
 * transaction (the transaction's goes on its commit; an operation's own is
 * refused before, by `checkSession`).
 */
export function writeConcernOf(
  coll: CollectionLike,
  options: { readonly writeConcern?: WriteConcern; readonly session?: ClientSession },
): WriteConcern {
  if (options.session?.inTransaction() === true) return {};
  return options.writeConcern === undefined ? coll.writeConcern : checkWriteConcern(options.writeConcern);
}

/** The options a database or collection takes (the defaults of its operations). */
export const LEVEL_OPTIONS: ReadonlySet<string> = new Set(["readPreference", "writeConcern", "readConcern", "timeoutMS"]);

/**
 * Throws a ConfigurationError naming every key of `options` that is not in
 * `known` (a misspelt option must not be silently ignored).
 */
export function checkOptionNames(
  options: object,
  known: ReadonlySet<string>,
  what: string,
): void {
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `unknown ${what} ${unknown.map((k) => JSON.stringify(k)).join(", ")}; known: ${[...known].sort().join(", ")}`,
    );
  }
}

/** A write command's reply, and the writeConcernError the connection threw for it. */
export interface WriteOutcome {
  reply: Document;
  /** Set when the reply had a writeConcernError. */
  concernError: WriteConcernError | undefined;
}

/** The reply's `writeErrors`, their indexes mapped through `indexOf` (a batch's index -> the caller's). */
export function parseWriteErrors(
  reply: Document,
  indexOf: number | ((i: number) => number),
): WriteErrorDetail[] {
  const list = reply.writeErrors;
  if (!Array.isArray(list)) return [];
  const map = typeof indexOf === "number" ? (i: number) => i + indexOf : indexOf;
  return list.filter(isDocument).map((e) => {
    const detail: {
      index: number;
      code: number | undefined;
      codeName?: string;
      errmsg: string;
      errInfo?: Record<string, unknown>;
    } = {
      index: map(count(e.index)),
      code: typeof e.code === "number" ? e.code : undefined,
      errmsg: typeof e.errmsg === "string" ? e.errmsg : "write error",
    };
    if (typeof e.codeName === "string") detail.codeName = e.codeName;
    if (isDocument(e.errInfo)) detail.errInfo = e.errInfo;
    return detail;
  });
}

/** Throws the typed error a write reply calls for, with `result` as what was achieved. */
export function throwIfFailed(
  outcome: WriteOutcome,
  result: Record<string, unknown>,
  offset = 0,
): void {
  const writeErrors = parseWriteErrors(outcome.reply, offset);
  const wce = isDocument(outcome.reply.writeConcernError) ? outcome.reply.writeConcernError : undefined;
  if (writeErrors.length > 0) {
    throw new WriteError({
      writeErrors,
      writeConcernError: wce,
      result,
      response: outcome.reply,
    });
  }
  if (outcome.concernError !== undefined) throw outcome.concernError;
}

/** The document as sent: `_id` first, generated on a copy when missing. */
export function withId(doc: Document): Document {
  if (doc._id !== undefined) return doc;
  return { _id: new ObjectId(), ...doc };
}

/** Throws unless `replacement` is a document without update operators. */
export function checkReplacement(replacement: unknown, what: string): Document {
  const doc = checkDocument(replacement, `the ${what} replacement document`);
  const op = Object.keys(doc).find((k) => k.startsWith("$"));
  if (op !== undefined) {
    throw new ConfigurationError(
      `${what}: the replacement document must not contain update operators (found ${op}); use an update method`,
    );
  }
  return doc;
}

/** Throws unless `update` is an update document (operators only) or a non-empty pipeline. */
export function checkUpdate(
  update: unknown,
  what: string,
): Document | readonly Document[] {
  if (Array.isArray(update)) {
    if (update.length === 0) {
      throw new ConfigurationError(
        `${what}: an update pipeline needs at least one stage`,
      );
    }
    update.forEach((stage, i) => checkDocument(stage, `${what}: update pipeline stage ${i}`));
    return update;
  }
  const doc = checkDocument(update, `the ${what} update`);
  const keys = Object.keys(doc);
  if (keys.length === 0) {
    throw new ConfigurationError(`${what}: the update document is empty`);
  }
  const plain = keys.find((k) => !k.startsWith("$"));
  if (plain !== undefined) {
    throw new ConfigurationError(
      `${what}: the update document must use update operators such as $set (found field ${
        JSON.stringify(plain)
      }); use a replace method to replace a document`,
    );
  }
  return doc;
}

/** Throws unless `filters` is undefined or an array of documents. */
export function checkArrayFilters(
  filters: unknown,
  what: string,
): readonly Document[] | undefined {
  if (filters === undefined) return undefined;
  if (!Array.isArray(filters)) {
    throw new ConfigurationError(
      `${what}: arrayFilters must be an array of documents, got ${show(filters)}`,
    );
  }
  filters.forEach((f, i) => checkDocument(f, `${what}: arrayFilters[${i}]`));
  return filters;
}
