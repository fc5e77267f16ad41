/**
 * The options of {@linkcode Collection.find} and
 * {@linkcode Collection.aggregate}, and the command documents they become
 * (`find`, `aggregate`, a tailable cursor's `getMore`).
 *
 * @module
 */

import type { ClientSession } from "./session.ts";
import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import type { ReadPreferenceLike } from "../topology/read_preference.ts";
import { checkBoolean, checkDocument, checkInt, isDocument, typeError } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import type { ReadConcern } from "./read_concern.ts";

/**
 * Options of {@linkcode Collection.find}; the builder methods of
 * {@linkcode Cursor} set the same things.
 *
 * @example
 * ```ts
 * import type { FindOptions } from "@zerodep/mongo";
 *
 * const options: FindOptions = { projection: { name: 1 }, sort: { age: -1 }, limit: 10, batchSize: 5 };
 * ```
 */
export interface FindOptions {
  /** Fields to return (`{name: 1}`) or leave out (`{secret: 0}`). */
  readonly projection?: Document;
  /** Sort order, e.g. `{age: -1, name: 1}` (key order matters). */
  readonly sort?: Document;
  /** Matching documents to skip. */
  readonly skip?: number;
  /** Return at most this many documents in all (0 = no limit). */
  readonly limit?: number;
  /** Documents per batch (0 = the server's default). */
  readonly batchSize?: number;
  /** Return only the first batch and close the cursor (what `findOne` uses). */
  readonly singleBatch?: boolean;
  /** The index to use: its name or key pattern. */
  readonly hint?: string | Document;
  /** Server-side time limit of each round trip, in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** A comment to find the query by in the server's logs and profiler (any BSON value on 4.4+). */
  readonly comment?: unknown;
  /** Collation of the filter and sort, e.g. `{locale: "en", strength: 2}`. */
  readonly collation?: Document;
  /** Inclusive lower bound of the index given by `hint` (a key pattern's values). */
  readonly min?: Document;
  /** Exclusive upper bound of the index given by `hint`. */
  readonly max?: Document;
  /** Return only the index keys of the matched documents. */
  readonly returnKey?: boolean;
  /** Add each document's record id (`$recordId`). */
  readonly showRecordId?: boolean;
  /** Keep the server cursor alive when idle (the server's 10-minute reaping is off; close it yourself). */
  readonly noCursorTimeout?: boolean;
  /** On a sharded cluster, return what the available shards have instead of an error. */
  readonly allowPartialResults?: boolean;
  /** A cursor that stays open at the end of a capped collection and returns documents added later. */
  readonly tailable?: boolean;
  /** With `tailable`: each `getMore` waits on the server for new data (up to `maxAwaitTimeMS`). */
  readonly awaitData?: boolean;
  /** With `tailable` and `awaitData`: how long a `getMore` waits for new data, in ms (the getMore's `maxTimeMS`). */
  readonly maxAwaitTimeMS?: number;
  /** Variables for the filter (`$$name` in `$expr`), MongoDB 5.0+. */
  readonly let?: Document;
  /** Let a large sort spill to disk (MongoDB 4.4+). */
  readonly allowDiskUse?: boolean;
  /** Time-series collections: operate on the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
  /** Where to read (default: the collection's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /** Read concern of the query (default: the collection's). */
  readonly readConcern?: ReadConcern;
  /** Cancels every round trip of the cursor (a per-call `signal` of `next`/`toArray` wins). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit in ms, 0 = no limit (default: the collection's); see {@linkcode TimeoutMode}. */
  readonly timeoutMS?: number;
  /** What `timeoutMS` bounds (default `"cursorLifetime"`); only with `timeoutMS`. */
  readonly timeoutMode?: TimeoutMode;
}

/**
 * What a cursor's `timeoutMS` bounds (the client-side operations timeout
 * specification's cursor modes). `"cursorLifetime"` (the default): the
 * initial `find`/`aggregate` and every `getMore` must finish within
 * `timeoutMS` of the first read; the initial command carries `maxTimeMS`,
 * getMores do not; documents already fetched are returned even after the
 * deadline, which only fails a read that needs a `getMore`. `"iteration"`:
 * the initial command, and then each `next()`/`hasNext()` call that needs a
 * round trip, gets its own `timeoutMS`; no `maxTimeMS` is sent. Closing a
 * cursor gets a fresh `timeoutMS` for its `killCursors` in both modes.
 *
 * @example
 * ```ts
 * import type { FindOptions, TimeoutMode } from "@zerodep/mongo";
 *
 * const mode: TimeoutMode = "iteration";
 * const options: FindOptions = { timeoutMS: 1000, timeoutMode: mode };
 * ```
 */
export type TimeoutMode = "cursorLifetime" | "iteration";

/**
 * Options of {@linkcode Collection.aggregate}.
 *
 * @example
 * ```ts
 * import type { AggregateOptions } from "@zerodep/mongo";
 *
 * const options: AggregateOptions = { batchSize: 100, allowDiskUse: true };
 * ```
 */
export interface AggregateOptions {
  /** Documents per batch (0 = the server's default). */
  readonly batchSize?: number;
  /** Let stages spill to disk. */
  readonly allowDiskUse?: boolean;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** A comment to find the operation by in the server's logs (any BSON value on 4.4+). */
  readonly comment?: unknown;
  /** Collation of the pipeline's comparisons. */
  readonly collation?: Document;
  /** Skip document validation of a `$out`/`$merge` target. */
  readonly bypassDocumentValidation?: boolean;
  /** The index to use. */
  readonly hint?: string | Document;
  /** Variables for the pipeline (`$$name`). */
  readonly let?: Document;
  /** Time-series collections: operate on the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
  /** Where to read (default: the collection's; a `$out`/`$merge` pipeline always runs on the primary). */
  readonly readPreference?: ReadPreferenceLike;
  /** Read concern (default: the collection's); with a `$out`/`$merge` pipeline, MongoDB 4.2+ only. */
  readonly readConcern?: ReadConcern;
  /** Cancels every round trip of the cursor. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit in ms, 0 = no limit (default: the collection's); see {@linkcode TimeoutMode}. */
  readonly timeoutMS?: number;
  /** What `timeoutMS` bounds (default `"cursorLifetime"`; `"iteration"` not with `$out`/`$merge`). */
  readonly timeoutMode?: TimeoutMode;
}

/**
 * What a {@linkcode Cursor} runs: a `find`, an `aggregate`, or another command that answers with a cursor (`listIndexes`).
 *
 * @example
 * ```ts
 * import type { CursorSource } from "@zerodep/mongo";
 *
 * const source: CursorSource = { kind: "find", filter: { x: 1 }, options: { limit: 1 } };
 * ```
 */
export type CursorSource =
  | { readonly kind: "find"; readonly filter: Document; readonly options: FindOptions }
  | {
    readonly kind: "command";
    readonly command: Document;
    readonly options: CommandCursorOptions;
    /** Send `rawData` with the command to servers that take it (MongoDB 8.2+), ignored by older servers, as the CRUD specification says. */
    readonly rawData?: boolean;
    /** The command's read concern (default: none; a change stream's aggregate takes its parent's). */
    readonly readConcern?: ReadConcern;
    /** Whether the command is a retryable read (default true; `runCursorCommand`'s is not). */
    readonly retryable?: boolean;
    /** Fields of every `getMore` beside `batchSize`: `maxTimeMS` and `comment` (`runCursorCommand`). */
    readonly getMore?: { readonly maxTimeMS?: number; readonly comment?: unknown };
  }
  | {
    readonly kind: "aggregate";
    readonly pipeline: readonly Document[];
    readonly options: AggregateOptions;
    /** Run on the collection's database (`aggregate: 1`, e.g. `$currentOp`, `$documents`) instead of on the collection. */
    readonly database?: boolean;
  };

/**
 * Options of a cursor over another command's results (`listIndexes`): it
 * runs on the primary unless `readPreference` says otherwise, without a
 * read concern.
 *
 * @example
 * ```ts
 * import type { CommandCursorOptions } from "@zerodep/mongo";
 *
 * const options: CommandCursorOptions = { batchSize: 10 };
 * ```
 */
export interface CommandCursorOptions {
  /** Documents per `getMore` batch (the first batch's size is in the command). */
  readonly batchSize?: number;
  /** Where to run (default: the primary). */
  readonly readPreference?: ReadPreferenceLike;
  /** Cancels every round trip of the cursor. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit in ms, 0 = no limit (default: the collection's); see {@linkcode TimeoutMode}. */
  readonly timeoutMS?: number;
  /** What `timeoutMS` bounds (default `"cursorLifetime"`). */
  readonly timeoutMode?: TimeoutMode;
}

/**
 * Options of {@linkcode Cursor.next} and {@linkcode Cursor.toArray}.
 *
 * @example
 * ```ts
 * import type { CursorReadOptions } from "@zerodep/mongo";
 *
 * const options: CursorReadOptions = { signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface CursorReadOptions {
  /** Cancels this call's round trips (default: the signal given to `find`/`aggregate`). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
}

/** The find options that are not builder state (sort, projection, skip, limit and batchSize are the cursor's). */
export function findCommandOptions(o: FindOptions): Document {
  checkOptionNames(o, FIND_OPTIONS, "find option");
  const cmd: Document = {};
  checkHint(o.hint);
  if (o.hint !== undefined) cmd.hint = o.hint;
  if (o.singleBatch !== undefined) {
    checkBoolean(o.singleBatch, "singleBatch");
    if (o.singleBatch) cmd.singleBatch = true;
  }
  if (o.maxTimeMS !== undefined) {
    cmd.maxTimeMS = checkInt(o.maxTimeMS, "maxTimeMS", 0);
  }
  if (o.comment !== undefined) cmd.comment = o.comment;
  if (o.collation !== undefined) {
    cmd.collation = checkDocument(o.collation, "collation");
  }
  if (o.min !== undefined) cmd.min = checkDocument(o.min, "min");
  if (o.max !== undefined) cmd.max = checkDocument(o.max, "max");
  if (o.let !== undefined) cmd.let = checkDocument(o.let, "let");
  if (o.allowDiskUse !== undefined) {
    if (typeof o.allowDiskUse !== "boolean") {
      throw new ConfigurationError(`allowDiskUse must be a boolean, got a ${typeof o.allowDiskUse}`);
    }
    cmd.allowDiskUse = o.allowDiskUse;
  }
  for (const flag of FIND_FLAGS) {
    const v = o[flag];
    if (v === undefined) continue;
    checkBoolean(v, flag);
    if (v) cmd[flag] = true;
  }
  if (cmd.awaitData === true && cmd.tailable !== true) {
    throw new ConfigurationError("awaitData needs tailable: true");
  }
  if (o.maxAwaitTimeMS !== undefined) {
    checkInt(o.maxAwaitTimeMS, "maxAwaitTimeMS", 0);
    if (cmd.awaitData !== true) {
      throw new ConfigurationError(
        "maxAwaitTimeMS needs tailable: true and awaitData: true",
      );
    }
  }
  return cmd;
}

const CURSOR_OPTIONS = ["batchSize", "readPreference", "signal", "session", "timeoutMS", "timeoutMode"];
/** The option names of {@linkcode FindOptions}. */
const FIND_OPTIONS: ReadonlySet<string> = new Set([
  ...CURSOR_OPTIONS,
  "projection",
  "sort",
  "skip",
  "limit",
  "singleBatch",
  "hint",
  "maxTimeMS",
  "comment",
  "collation",
  "min",
  "max",
  "returnKey",
  "showRecordId",
  "noCursorTimeout",
  "allowPartialResults",
  "tailable",
  "awaitData",
  "maxAwaitTimeMS",
  "let",
  "readConcern",
  "allowDiskUse",
  "rawData",
]);
/** The option names of {@linkcode AggregateOptions}. */
const AGGREGATE_OPTIONS: ReadonlySet<string> = new Set([
  ...CURSOR_OPTIONS,
  "allowDiskUse",
  "maxTimeMS",
  "comment",
  "collation",
  "bypassDocumentValidation",
  "hint",
  "let",
  "readConcern",
  "rawData",
]);
/** The option names of {@linkcode CommandCursorOptions}. */
export const COMMAND_CURSOR_OPTIONS: ReadonlySet<string> = new Set(CURSOR_OPTIONS);

const FIND_FLAGS = [
  "returnKey",
  "showRecordId",
  "noCursorTimeout",
  "allowPartialResults",
  "tailable",
  "awaitData",
] as const;

/** The aggregate options, as command fields (`cursor` and `pipeline` aside). */
export function aggregateCommandOptions(o: AggregateOptions): Document {
  checkOptionNames(o, AGGREGATE_OPTIONS, "aggregate option");
  const cmd: Document = {};
  if (o.allowDiskUse !== undefined) {
    checkBoolean(o.allowDiskUse, "allowDiskUse");
    cmd.allowDiskUse = o.allowDiskUse;
  }
  if (o.bypassDocumentValidation !== undefined) {
    checkBoolean(o.bypassDocumentValidation, "bypassDocumentValidation");
    cmd.bypassDocumentValidation = o.bypassDocumentValidation;
  }
  if (o.maxTimeMS !== undefined) {
    cmd.maxTimeMS = checkInt(o.maxTimeMS, "maxTimeMS", 0);
  }
  if (o.comment !== undefined) cmd.comment = o.comment;
  checkHint(o.hint);
  if (o.hint !== undefined) cmd.hint = o.hint;
  if (o.collation !== undefined) {
    cmd.collation = checkDocument(o.collation, "collation");
  }
  if (o.let !== undefined) cmd.let = checkDocument(o.let, "let");
  return cmd;
}

/** Throws unless `hint` is undefined, an index name or a key pattern. */
export function checkHint(hint: unknown): void {
  if (hint !== undefined && typeof hint !== "string" && !isDocument(hint)) {
    throw typeError("hint", "an index name or a key pattern document", hint);
  }
}
