/**
 * `findOneAndDelete`, `findOneAndReplace` and `findOneAndUpdate`: the
 * `findAndModify` command, as the CRUD specification describes it.
 *
 * @module
 */

import { checkUnacknowledgedHint, withRawData } from "./wire_features.ts";
import type { ClientSession } from "./session.ts";
import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { checkDocument, checkInt, checkOptions, isDocument, show, typeError } from "./_internal.ts";
import { execute } from "./execute.ts";
import { checkHint } from "./cursor_options.ts";
import {
  checkArrayFilters,
  checkOptionNames,
  checkReplacement,
  checkUpdate,
  type CollectionLike,
  operationBase,
  writeConcernOf,
} from "./_write.ts";
import type { WriteConcern } from "./write_concern.ts";

/**
 * Options of {@linkcode Collection.findOneAndDelete}.
 *
 * @example
 * ```ts
 * import type { FindOneAndDeleteOptions } from "@zerodep/mongo";
 *
 * const options: FindOneAndDeleteOptions = { sort: { createdAt: 1 }, projection: { _id: 1 } };
 * ```
 */
export interface FindOneAndDeleteOptions {
  /** Which of several matching documents: the first in this order. */
  readonly sort?: Document;
  /** Fields of the returned document (`{name: 1}`). */
  readonly projection?: Document;
  /** The index to use: its name or key pattern (MongoDB 4.4+). */
  readonly hint?: string | Document;
  /** Collation of the filter and sort. */
  readonly collation?: Document;
  /** Variables for the filter (`$$name`), MongoDB 5.0+. */
  readonly let?: Document;
  /** A comment to find the operation by in the server's logs. */
  readonly comment?: unknown;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** Time-series collections: operate on the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
  /** Write concern of this operation (default: the collection's). */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation (the write may or may not have happened when it rejects). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Collection.findOneAndReplace}.
 *
 * @example
 * ```ts
 * import type { FindOneAndReplaceOptions } from "@zerodep/mongo";
 *
 * const options: FindOneAndReplaceOptions = { returnDocument: "after", upsert: true };
 * ```
 */
export interface FindOneAndReplaceOptions extends FindOneAndDeleteOptions {
  /** Return the document as it was `"before"` (default) or is `"after"` the write. */
  readonly returnDocument?: "before" | "after";
  /** Insert the document when none matches. */
  readonly upsert?: boolean;
  /** Skip the collection's document validation rules. */
  readonly bypassDocumentValidation?: boolean;
}

/**
 * Options of {@linkcode Collection.findOneAndUpdate}.
 *
 * @example
 * ```ts
 * import type { FindOneAndUpdateOptions } from "@zerodep/mongo";
 *
 * const options: FindOneAndUpdateOptions = { returnDocument: "after", arrayFilters: [{ "e.qty": { $lt: 1 } }] };
 * ```
 */
export interface FindOneAndUpdateOptions extends FindOneAndReplaceOptions {
  /** Filters for the positional `$[<id>]` operator. */
  readonly arrayFilters?: readonly Document[];
}

const DELETE_OPTIONS: ReadonlySet<string> = new Set([
  "rawData",
  "sort",
  "projection",
  "hint",
  "collation",
  "let",
  "comment",
  "maxTimeMS",
  "writeConcern",
  "signal",
  "session",
  "timeoutMS",
]);
const REPLACE_OPTIONS: ReadonlySet<string> = new Set([
  ...DELETE_OPTIONS,
  "returnDocument",
  "upsert",
  "bypassDocumentValidation",
]);
const UPDATE_OPTIONS: ReadonlySet<string> = new Set([
  ...REPLACE_OPTIONS,
  "arrayFilters",
]);

/** What to do to the document found: remove it, replace it, or apply an update. */
export type Modification =
  | { readonly kind: "delete" }
  | { readonly kind: "replace"; readonly replacement: unknown }
  | { readonly kind: "update"; readonly update: unknown };

/**
 * Runs one `findAndModify`; resolves to the document before or after the
 * write (`returnDocument`), or `null` when none matched (and, for an upsert
 * with `returnDocument: "before"`, when it inserted one).
 */
export async function findAndModify(
  coll: CollectionLike,
  what: string,
  filter: unknown,
  modification: Modification,
  options: FindOneAndUpdateOptions | undefined,
): Promise<Document | null> {
  const query = checkDocument(filter, `the ${what} filter`);
  const opts = checkOptions(options, `${what} options`);
  const known = modification.kind === "delete"
    ? DELETE_OPTIONS
    : modification.kind === "replace"
    ? REPLACE_OPTIONS
    : UPDATE_OPTIONS;
  checkOptionNames(opts, known, `${what} option`);
  const base = operationBase(coll, opts);
  const wc = writeConcernOf(coll, opts);
  const cmd: Document = { findAndModify: base.coll, query };
  if (opts.sort !== undefined) cmd.sort = checkDocument(opts.sort, "sort");
  if (modification.kind === "delete") {
    cmd.remove = true;
  } else {
    cmd.update = modification.kind === "replace"
      ? checkReplacement(modification.replacement, what)
      : checkUpdate(modification.update, what);
    const rd = opts.returnDocument;
    if (rd !== undefined && rd !== "before" && rd !== "after") {
      throw new ConfigurationError(
        `${what}: returnDocument must be "before" or "after", got ${show(rd)}`,
      );
    }
    cmd.new = rd === "after";
    if (opts.upsert !== undefined) {
      cmd.upsert = checkBoolean(opts.upsert, "upsert");
    }
    if (opts.bypassDocumentValidation !== undefined) {
      cmd.bypassDocumentValidation = checkBoolean(
        opts.bypassDocumentValidation,
        "bypassDocumentValidation",
      );
    }
    const arrayFilters = checkArrayFilters(opts.arrayFilters, what);
    if (arrayFilters !== undefined) cmd.arrayFilters = arrayFilters;
  }
  if (opts.projection !== undefined) {
    cmd.fields = checkDocument(opts.projection, "projection");
  }
  checkHint(opts.hint);
  if (opts.hint !== undefined) cmd.hint = opts.hint;
  if (opts.collation !== undefined) {
    cmd.collation = checkDocument(opts.collation, "collation");
  }
  if (opts.let !== undefined) cmd.let = checkDocument(opts.let, "let");
  if (opts.comment !== undefined) cmd.comment = opts.comment;
  if (opts.maxTimeMS !== undefined) {
    cmd.maxTimeMS = checkInt(opts.maxTimeMS, "maxTimeMS", 0);
  }
  return await execute(base.ctx, {
    name: "findAndModify",
    db: base.db,
    kind: "write",
    retryable: true,
    writeConcern: wc,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: (server) => {
      const wire = server.description.maxWireVersion;
      checkUnacknowledgedHint("findAndModify", cmd.hint !== undefined, wc.w !== 0, wire);
      return {
        command: withRawData(cmd, opts.rawData, wire),
        // Unacknowledged (w: 0): the caller asked for no answer, so none is reported (CRUD spec).
        parse: (reply) => wc.w === 0 ? null : isDocument(reply.value) ? reply.value : null,
      };
    },
  });
}

function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw typeError(what, "a boolean", value);
  return value;
}
