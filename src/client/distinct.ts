/**
 * The counting reads: `distinct`, `estimatedDocumentCount` and `count` (the
 * `distinct` and `count` commands, one reply each, no cursor), and
 * `countDocuments` (an aggregate whose one document is the count).
 *
 * @module
 */

import type { ClientSession } from "./session.ts";
import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import { checkDocument, checkInt, checkOptions, count, show } from "./_internal.ts";
import { execute } from "./execute.ts";
import { checkHint } from "./cursor_options.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import { checkOptionNames, type CollectionLike, operationBase } from "./_write.ts";
import { withRawData } from "./wire_features.ts";
import type { CountDocumentsOptions } from "./collection_options.ts";
import type { AggregateOptions } from "./cursor_options.ts";

/**
 * Options of {@linkcode Collection.distinct}.
 *
 * @example
 * ```ts
 * import type { DistinctOptions } from "@zerodep/mongo";
 *
 * const options: DistinctOptions = { collation: { locale: "en", strength: 2 } };
 * ```
 */
export interface DistinctOptions {
  /** Collation of the filter and of the values' comparison. */
  readonly collation?: Document;
  /** The index to use (MongoDB 7.1+). */
  readonly hint?: string | Document;
  /** A comment to find the operation by in the server's logs. */
  readonly comment?: unknown;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** Where to read (default: the collection's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /** Read concern (default: the collection's). */
  readonly readConcern?: ReadConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Collection.estimatedDocumentCount}.
 *
 * @example
 * ```ts
 * import type { EstimatedDocumentCountOptions } from "@zerodep/mongo";
 *
 * const options: EstimatedDocumentCountOptions = { maxTimeMS: 1000 };
 * ```
 */
export interface EstimatedDocumentCountOptions {
  /** Time-series collections: count the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** Where to read (default: the collection's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /** Read concern (default: the collection's). */
  readonly readConcern?: ReadConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

const COUNT_OPTIONS: ReadonlySet<string> = new Set([
  "rawData",
  "comment",
  "maxTimeMS",
  "readPreference",
  "readConcern",
  "signal",
  "session",
  "timeoutMS",
]);
const DISTINCT_OPTIONS: ReadonlySet<string> = new Set([
  ...COUNT_OPTIONS,
  "collation",
  "hint",
]);

/** One read command on the server the read preference picks, retried like other reads. */
function read<R>(
  coll: CollectionLike,
  name: string,
  opts: EstimatedDocumentCountOptions,
  cmd: Document,
  parse: (reply: Document) => R,
): Promise<R> {
  const base = operationBase(coll, opts);
  if (opts.comment !== undefined) cmd.comment = opts.comment;
  if (opts.maxTimeMS !== undefined) {
    cmd.maxTimeMS = checkInt(opts.maxTimeMS, "maxTimeMS", 0);
  }
  return execute(base.ctx, {
    name,
    db: base.db,
    kind: "read",
    readPreference: opts.readPreference === undefined ? coll.readPreference : ReadPreference.from(opts.readPreference),
    readConcern: opts.readConcern === undefined ? coll.readConcern : checkReadConcern(opts.readConcern),
    retryable: true,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: (server) => ({ command: withRawData(cmd, opts.rawData, server.description.maxWireVersion), parse }),
  });
}

/** The distinct values of `key` among the documents matching `filter`. */
export async function distinct(
  coll: CollectionLike,
  key: unknown,
  filter: unknown,
  options: DistinctOptions | undefined,
): Promise<unknown[]> {
  if (typeof key !== "string" || key.length === 0) {
    throw new ConfigurationError(
      `distinct needs a field name (a non-empty string), got ${show(key)}`,
    );
  }
  const query = checkDocument(filter, "the distinct filter");
  const opts = checkOptions(options, "distinct options");
  checkOptionNames(opts, DISTINCT_OPTIONS, "distinct option");
  const cmd: Document = { distinct: coll.name, key, query };
  if (opts.collation !== undefined) {
    cmd.collation = checkDocument(opts.collation, "collation");
  }
  checkHint(opts.hint);
  if (opts.hint !== undefined) cmd.hint = opts.hint;
  return await read(
    coll,
    "distinct",
    opts,
    cmd,
    (reply) => Array.isArray(reply.values) ? reply.values : [],
  );
}

/** The collection's document count from its metadata (the `count` command without a filter). */
export async function estimatedDocumentCount(
  coll: CollectionLike,
  options: EstimatedDocumentCountOptions | undefined,
): Promise<number> {
  const opts = checkOptions(options, "estimatedDocumentCount options");
  checkOptionNames(opts, COUNT_OPTIONS, "estimatedDocumentCount option");
  return await read(
    coll,
    "count",
    opts,
    { count: coll.name },
    (reply) => count(reply.n),
  );
}

/**
 * Options of {@linkcode Collection.count}, the deprecated `count` command with a filter.
 *
 * @example
 * ```ts
 * import type { CountOptions } from "@zerodep/mongo";
 *
 * const options: CountOptions = { limit: 100 };
 * ```
 */
export interface CountOptions extends EstimatedDocumentCountOptions {
  /** Matching documents to skip before counting. */
  readonly skip?: number;
  /** Count at most this many. */
  readonly limit?: number;
  /** The index to use. */
  readonly hint?: string | Document;
  /** Collation of the filter. */
  readonly collation?: Document;
}

const COUNT_FILTER_OPTIONS: ReadonlySet<string> = new Set([...COUNT_OPTIONS, "skip", "limit", "hint", "collation"]);

/** The `count` command with a filter (crud.md's deprecated `count`: from metadata-backed counts, may be inexact on sharded clusters). */
export async function countCommand(
  coll: CollectionLike,
  filter: unknown,
  options: CountOptions | undefined,
): Promise<number> {
  const query = checkDocument(filter, "the count filter");
  const opts = checkOptions(options, "count options");
  checkOptionNames(opts, COUNT_FILTER_OPTIONS, "count option");
  const cmd: Document = { count: coll.name, query };
  const skip = checkInt(opts.skip, "skip", 0);
  const limit = checkInt(opts.limit, "limit", 0);
  if (skip !== undefined) cmd.skip = skip;
  if (limit !== undefined) cmd.limit = limit;
  checkHint(opts.hint);
  if (opts.hint !== undefined) cmd.hint = opts.hint;
  if (opts.collation !== undefined) cmd.collation = checkDocument(opts.collation, "collation");
  return await read(coll, "count", opts, cmd, (reply) => count(reply.n));
}

const COUNT_DOCUMENTS_OPTIONS: ReadonlySet<string> = new Set([
  "skip",
  "limit",
  "hint",
  "collation",
  "comment",
  "maxTimeMS",
  "rawData",
  "readPreference",
  "readConcern",
  "signal",
  "session",
  "timeoutMS",
]);

/** What `countDocuments` needs of a collection: its `aggregate`. */
interface Aggregating {
  aggregate(pipeline: readonly Document[], options: AggregateOptions): { toArray(): Promise<Document[]> };
}

/** Runs `countDocuments`: `$match`, then `$skip`/`$limit` when given, then a `$group` counting what is left. */
export async function countDocuments(
  coll: Aggregating,
  filter: Document,
  options: CountDocumentsOptions,
): Promise<number> {
  checkDocument(filter, "the countDocuments filter");
  const opts = checkOptions(options, "countDocuments options");
  checkOptionNames(opts, COUNT_DOCUMENTS_OPTIONS, "countDocuments option");
  const pipeline: Document[] = [{ $match: filter }];
  const skip = checkInt(opts.skip, "skip", 0);
  const limit = checkInt(opts.limit, "limit", 0);
  if (skip !== undefined && skip > 0) pipeline.push({ $skip: skip });
  if (limit !== undefined && limit > 0) pipeline.push({ $limit: limit });
  pipeline.push({ $group: { _id: 1, n: { $sum: 1 } } });
  checkHint(opts.hint);
  const docs = await coll.aggregate(pipeline, {
    hint: opts.hint,
    collation: opts.collation,
    comment: opts.comment,
    maxTimeMS: opts.maxTimeMS,
    rawData: opts.rawData,
    readPreference: opts.readPreference,
    readConcern: opts.readConcern,
    signal: opts.signal,
    session: opts.session,
    timeoutMS: opts.timeoutMS,
  }).toArray();
  return docs.length === 0 ? 0 : count(docs[0].n);
}
