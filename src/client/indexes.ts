/**
 * Index management (`createIndex`, `createIndexes`, `listIndexes`,
 * `dropIndex`, `dropIndexes`) and the collection's own `rename` and `drop`,
 * as the index management and CRUD specifications describe them.
 *
 * @module
 */

import type { ClientSession } from "./session.ts";
import { ConfigurationError, OperationFailure } from "../errors.ts";
import { type Document, Double, Int32, Long } from "../bson/mod.ts";
import { checkBoolean, checkDocument, checkInt, checkOptions, isDocument, show, typeError } from "./_internal.ts";
import { execute } from "./execute.ts";
import { withRawData } from "./wire_features.ts";
import { checkOptionNames, type CollectionLike, operationBase, writeConcernOf } from "./_write.ts";
import type { CommandCursorOptions } from "./cursor_options.ts";
import type { WriteConcern } from "./write_concern.ts";
import type { DropCollectionOptions } from "./collection_options.ts";
import { ErrorCode } from "../error_codes.ts";

/** `commitQuorum` needs MongoDB 4.4 (wire 9). */
const COMMIT_QUORUM_WIRE_VERSION = 9;

/**
 * The options of one index (the index management specification's
 * `IndexOptions`), as `createIndexes` sends them.
 *
 * @example
 * ```ts
 * import type { IndexOptions } from "@zerodep/mongo";
 *
 * const options: IndexOptions = { unique: true, partialFilterExpression: { active: true } };
 * ```
 */
export interface IndexOptions {
  /** The index name (default: generated from the keys, e.g. `name_1_age_-1`). */
  readonly name?: string;
  /** Refuse two documents with the same key. */
  readonly unique?: boolean;
  /** Index only the documents that have the indexed fields. */
  readonly sparse?: boolean;
  /** Delete documents this many seconds after the date in the indexed field (a TTL index). */
  readonly expireAfterSeconds?: number;
  /** Index only the documents matching this filter. */
  readonly partialFilterExpression?: Document;
  /** Collation of the index's string comparisons. */
  readonly collation?: Document;
  /** Hide the index from the query planner (MongoDB 4.4+). */
  readonly hidden?: boolean;
  /** Ignored by MongoDB 4.2+; kept for old servers. */
  readonly background?: boolean;
  /** Storage engine options of the index. */
  readonly storageEngine?: Document;
  /** The index version (`v`). */
  readonly version?: number;
  /** Text index: field weights. */
  readonly weights?: Document;
  /** Text index: the default language (sent as `default_language`). */
  readonly defaultLanguage?: string;
  /** Text index: the field that holds a document's language (sent as `language_override`). */
  readonly languageOverride?: string;
  /** Text index version. */
  readonly textIndexVersion?: number;
  /** 2dsphere index version. */
  readonly "2dsphereIndexVersion"?: number;
  /** 2d index: geohash precision, 1 to 32. */
  readonly bits?: number;
  /** 2d index: lower bound of the coordinates. */
  readonly min?: number;
  /** 2d index: upper bound of the coordinates. */
  readonly max?: number;
  /** Wildcard index: fields to include or exclude. */
  readonly wildcardProjection?: Document;
}

/**
 * One index of {@linkcode Collection.createIndexes}: its keys and options.
 *
 * @example
 * ```ts
 * import type { IndexDescription } from "@zerodep/mongo";
 *
 * const index: IndexDescription = { key: { name: 1, age: -1 }, unique: true };
 * ```
 */
export interface IndexDescription extends IndexOptions {
  /** The key pattern: field -> 1, -1, or an index type (`"text"`, `"2dsphere"`, `"hashed"`, ...). */
  readonly key: Document;
}

/**
 * Options of {@linkcode Collection.createIndexes} (and, with the index
 * options, of {@linkcode Collection.createIndex}).
 *
 * @example
 * ```ts
 * import type { CreateIndexesOptions } from "@zerodep/mongo";
 *
 * const options: CreateIndexesOptions = { commitQuorum: "majority", maxTimeMS: 60_000 };
 * ```
 */
export interface CreateIndexesOptions {
  /** How many data-bearing members must finish the build (MongoDB 4.4+; refused before, as the specification says). */
  readonly commitQuorum?: number | string;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Write concern (default: the collection's; sent to MongoDB 3.4+). */
  readonly writeConcern?: WriteConcern;
  /** Act on a time series collection's raw buckets (MongoDB 8.2+; not sent to older servers, as the CRUD specification says). */
  readonly rawData?: boolean;
  /** Cancels the operation (the indexes may still be built). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Collection.createIndex}: the index's own options
 * and the operation's.
 *
 * @example
 * ```ts
 * import type { CreateIndexOptions } from "@zerodep/mongo";
 *
 * const options: CreateIndexOptions = { unique: true, name: "by_email" };
 * ```
 */
export interface CreateIndexOptions extends IndexOptions, CreateIndexesOptions {}

/**
 * Options of {@linkcode Collection.dropIndex} and {@linkcode Collection.dropIndexes}.
 *
 * @example
 * ```ts
 * import type { DropIndexesOptions } from "@zerodep/mongo";
 *
 * const options: DropIndexesOptions = { maxTimeMS: 1000 };
 * ```
 */
export interface DropIndexesOptions {
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Write concern (default: the collection's; sent to MongoDB 3.4+). */
  readonly writeConcern?: WriteConcern;
  /** Act on a time series collection's raw buckets (MongoDB 8.2+; not sent to older servers, as the CRUD specification says). */
  readonly rawData?: boolean;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Collection.listIndexes}.
 *
 * @example
 * ```ts
 * import type { ListIndexesOptions } from "@zerodep/mongo";
 *
 * const options: ListIndexesOptions = { batchSize: 10 };
 * ```
 */
export interface ListIndexesOptions extends CommandCursorOptions {
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Act on a time series collection's raw buckets (MongoDB 8.2+; not sent to older servers, as the CRUD specification says). */
  readonly rawData?: boolean;
}

/**
 * Options of {@linkcode Collection.rename}.
 *
 * @example
 * ```ts
 * import type { RenameOptions } from "@zerodep/mongo";
 *
 * const options: RenameOptions = { dropTarget: true };
 * ```
 */
export interface RenameOptions {
  /** Drop a collection of the new name first (default: fail with NamespaceExists). */
  readonly dropTarget?: boolean;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Write concern (default: the collection's). */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/** The index options and the names `createIndexes` gives them, where they differ. */
const INDEX_FIELDS: Readonly<Record<keyof IndexOptions, string>> = {
  name: "name",
  unique: "unique",
  sparse: "sparse",
  expireAfterSeconds: "expireAfterSeconds",
  partialFilterExpression: "partialFilterExpression",
  collation: "collation",
  hidden: "hidden",
  background: "background",
  storageEngine: "storageEngine",
  version: "v",
  weights: "weights",
  defaultLanguage: "default_language",
  languageOverride: "language_override",
  textIndexVersion: "textIndexVersion",
  "2dsphereIndexVersion": "2dsphereIndexVersion",
  bits: "bits",
  min: "min",
  max: "max",
  wildcardProjection: "wildcardProjection",
};
const OPERATION_FIELDS = ["commitQuorum", "maxTimeMS", "comment", "writeConcern", "rawData", "signal", "session", "timeoutMS"];
const CREATE_INDEXES_OPTIONS: ReadonlySet<string> = new Set(OPERATION_FIELDS);
const CREATE_INDEX_OPTIONS: ReadonlySet<string> = new Set([...OPERATION_FIELDS, ...Object.keys(INDEX_FIELDS)]);
const INDEX_DESCRIPTION_FIELDS: ReadonlySet<string> = new Set(["key", ...Object.keys(INDEX_FIELDS)]);
const DROP_OPTIONS: ReadonlySet<string> = new Set([
  "maxTimeMS",
  "comment",
  "writeConcern",
  "rawData",
  "signal",
  "session",
  "timeoutMS",
]);
const LIST_OPTIONS: ReadonlySet<string> = new Set([
  "batchSize",
  "comment",
  "rawData",
  "readPreference",
  "signal",
  "session",
  "timeoutMS",
  "timeoutMode",
]);
const RENAME_OPTIONS: ReadonlySet<string> = new Set(["dropTarget", "comment", "writeConcern", "signal", "session", "timeoutMS"]);

/**
 * The name the server would give an index of `keys` when none is given:
 * each field and its value joined by `_` (`{name: 1, age: -1}` ->
 * `name_1_age_-1`), as the index management specification says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexName } from "@zerodep/mongo";
 *
 * assert.equal(indexName({ name: 1, age: -1 }), "name_1_age_-1");
 * assert.equal(indexName({ bio: "text" }), "bio_text");
 * ```
 */
export function indexName(keys: Document): string {
  return Object.entries(keys).map(([k, v]) => `${k}_${isNumberWrapper(v) ? String(Number(v.valueOf())) : String(v)}`)
    .join("_");
}

/** A key pattern's direction as a BSON number type (`Int32`, `Long`, `Double`), as Extended JSON input gives it. */
function isNumberWrapper(v: unknown): v is Int32 | Long | Double {
  return v instanceof Int32 || v instanceof Long || v instanceof Double;
}

/** The `createIndexes` entry for one index; throws for bad input. */
function indexSpec(index: unknown, what: string): Document {
  const d = checkDocument(index, what);
  checkOptionNames(d, INDEX_DESCRIPTION_FIELDS, `${what} field`);
  const key = checkDocument(d.key, `${what} key`);
  if (Object.keys(key).length === 0) throw new ConfigurationError(`${what}: the key pattern is empty`);
  for (const [field, v] of Object.entries(key)) {
    if (typeof v !== "number" && typeof v !== "string" && !isNumberWrapper(v)) {
      throw new ConfigurationError(
        `${what}: key ${JSON.stringify(field)} must be 1, -1 or an index type, got ${show(v)}`,
      );
    }
  }
  if (d.name !== undefined && typeof d.name !== "string") throw typeError("name", "a non-empty string", d.name, what);
  if (d.name !== undefined && d.name.length === 0) {
    throw new ConfigurationError(`${what}: name must be a non-empty string, got ${show(d.name)}`);
  }
  const spec: Document = { key, name: d.name ?? indexName(key) };
  for (const [option, field] of Object.entries(INDEX_FIELDS)) {
    if (option !== "name" && d[option] !== undefined) spec[field] = d[option];
  }
  return spec;
}

/** Runs `createIndexes`; resolves to the names of the indexes, in order. */
export async function createIndexes(
  coll: CollectionLike,
  indexes: unknown,
  options: CreateIndexesOptions | undefined,
  what = "createIndexes",
): Promise<string[]> {
  const opts = checkOptions(options, `${what} options`);
  if (what === "createIndexes") checkOptionNames(opts, CREATE_INDEXES_OPTIONS, "createIndexes option");
  if (!Array.isArray(indexes)) throw typeError(`the ${what} indexes`, "a non-empty array of index descriptions", indexes);
  if (indexes.length === 0) {
    throw new ConfigurationError(`${what} needs a non-empty array of index descriptions, got ${show(indexes)}`);
  }
  const specs = indexes.map((d, i) => indexSpec(d, `${what} index ${i}`));
  const base = operationBase(coll, opts);
  const cmd: Document = { createIndexes: base.coll, indexes: specs };
  if (opts.commitQuorum !== undefined) {
    if (typeof opts.commitQuorum !== "string" && typeof opts.commitQuorum !== "number") {
      throw typeError("commitQuorum", "an integer or a string", opts.commitQuorum);
    }
    if (typeof opts.commitQuorum === "number" && !Number.isInteger(opts.commitQuorum)) {
      throw new ConfigurationError(`commitQuorum must be an integer or a string, got ${show(opts.commitQuorum)}`);
    }
    cmd.commitQuorum = opts.commitQuorum;
  }
  if (opts.maxTimeMS !== undefined) cmd.maxTimeMS = checkInt(opts.maxTimeMS, "maxTimeMS", 0);
  if (opts.comment !== undefined) cmd.comment = opts.comment;
  const rawData = checkBoolean(opts.rawData, "rawData", what);
  return await execute(base.ctx, {
    name: "createIndexes",
    db: base.db,
    kind: "write",
    retryable: false,
    writeConcern: writeConcernOf(coll, opts),
    writeConcernMinWireVersion: 5,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: (server) => {
      const wire = server.description.maxWireVersion;
      if (cmd.commitQuorum !== undefined && wire < COMMIT_QUORUM_WIRE_VERSION) {
        throw new ConfigurationError(
          `commitQuorum needs MongoDB 4.4 or later (wire version 9); the server's maxWireVersion is ${wire}`,
        );
      }
      return { command: withRawData(cmd, rawData, wire), parse: () => specs.map((s) => s.name as string) };
    },
  });
}

/** Runs `createIndex`: `keys` (or a field name) with the index's and the operation's options mixed. */
export async function createIndex(
  coll: CollectionLike,
  keys: unknown,
  options: CreateIndexOptions | undefined,
): Promise<string> {
  const opts = checkOptions(options, "createIndex options");
  checkOptionNames(opts, CREATE_INDEX_OPTIONS, "createIndex option");
  const key = typeof keys === "string" ? { [keys]: 1 } : checkDocument(keys, "the createIndex keys");
  const index: Record<string, unknown> = { key };
  const operation: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (Object.hasOwn(INDEX_FIELDS, k)) index[k] = v;
    else operation[k] = v;
  }
  const [name] = await createIndexes(coll, [index], operation, "createIndex");
  return name;
}

function dropOperation(
  coll: CollectionLike,
  index: string | Document,
  opts: DropIndexesOptions,
): Promise<Document> {
  const base = operationBase(coll, opts);
  const cmd: Document = { dropIndexes: base.coll, index };
  if (opts.maxTimeMS !== undefined) cmd.maxTimeMS = checkInt(opts.maxTimeMS, "maxTimeMS", 0);
  if (opts.comment !== undefined) cmd.comment = opts.comment;
  const rawData = checkBoolean(opts.rawData, "rawData", "dropIndexes");
  return execute(base.ctx, {
    name: "dropIndexes",
    db: base.db,
    kind: "write",
    retryable: false,
    writeConcern: writeConcernOf(coll, opts),
    writeConcernMinWireVersion: 5,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: (server) => ({
      command: withRawData(cmd, rawData, server.description.maxWireVersion),
      parse: (reply) => reply,
    }),
  });
}

/** Runs `dropIndexes` for one index, by name or key pattern. */
export async function dropIndex(
  coll: CollectionLike,
  index: unknown,
  options: DropIndexesOptions | undefined,
): Promise<Document> {
  const opts = checkOptions(options, "dropIndex options");
  checkOptionNames(opts, DROP_OPTIONS, "dropIndex option");
  if (index === "*") throw new ConfigurationError(`dropIndex("*") would drop every index; use dropIndexes()`);
  if (!(typeof index === "string" && index.length > 0) && !isDocument(index)) {
    throw new ConfigurationError(`dropIndex needs an index name or key pattern, got ${show(index)}`);
  }
  return await dropOperation(coll, index, opts);
}

/** Runs `dropIndexes` for every index but `_id_`. */
export async function dropIndexes(coll: CollectionLike, options: DropIndexesOptions | undefined): Promise<Document> {
  const opts = checkOptions(options, "dropIndexes options");
  checkOptionNames(opts, DROP_OPTIONS, "dropIndexes option");
  return await dropOperation(coll, "*", opts);
}

/** The `listIndexes` command and cursor options, checked. */
export function listIndexesSource(
  coll: CollectionLike,
  options: ListIndexesOptions | undefined,
): { kind: "command"; command: Document; options: CommandCursorOptions; rawData?: boolean } {
  const opts = checkOptions(options, "listIndexes options");
  checkOptionNames(opts, LIST_OPTIONS, "listIndexes option");
  const cursor: Document = {};
  const batchSize = checkInt(opts.batchSize, "batchSize", 0);
  if (batchSize !== undefined && batchSize > 0) cursor.batchSize = batchSize;
  const command: Document = { listIndexes: coll.name, cursor };
  if (opts.comment !== undefined) command.comment = opts.comment;
  const rawData = checkBoolean(opts.rawData, "rawData", "listIndexes");
  const { comment: _, rawData: _raw, ...cursorOptions } = opts;
  return { kind: "command", command, options: cursorOptions, rawData };
}

/** Runs `renameCollection` (on `admin`); resolves to the new name. */
export async function rename(
  coll: CollectionLike,
  newName: unknown,
  options: RenameOptions | undefined,
): Promise<string> {
  const opts = checkOptions(options, "rename options");
  checkOptionNames(opts, RENAME_OPTIONS, "rename option");
  if (typeof newName !== "string") throw typeError("the new name", "a collection name (a non-empty string)", newName, "rename");
  if (newName.length === 0 || /[$\0]/.test(newName)) {
    throw new ConfigurationError(
      `rename needs a collection name (a non-empty string without $ or NUL), got ${show(newName)}`,
    );
  }
  const base = operationBase(coll, opts);
  const cmd: Document = { renameCollection: coll.namespace, to: `${base.db}.${newName}` };
  if (opts.dropTarget !== undefined) {
    checkBoolean(opts.dropTarget, "dropTarget");
    cmd.dropTarget = opts.dropTarget;
  }
  if (opts.comment !== undefined) cmd.comment = opts.comment;
  await execute(base.ctx, {
    name: "renameCollection",
    db: "admin",
    kind: "write",
    retryable: false,
    writeConcern: writeConcernOf(coll, opts),
    writeConcernMinWireVersion: 5,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: () => ({ command: cmd, parse: () => undefined }),
  });
  return newName;
}

const DROP_COLLECTION_OPTIONS: ReadonlySet<string> = new Set(["writeConcern", "signal", "session", "timeoutMS"]);

/** Runs `drop`; resolves to false when there was no collection to drop. */
export async function dropCollection(coll: CollectionLike, options: DropCollectionOptions | undefined): Promise<boolean> {
  const opts = checkOptions(options, "drop options");
  checkOptionNames(opts, DROP_COLLECTION_OPTIONS, "drop option");
  const base = operationBase(coll, opts);
  try {
    return await execute(base.ctx, {
      name: "drop",
      db: base.db,
      kind: "write",
      retryable: false,
      writeConcern: writeConcernOf(coll, opts),
      writeConcernMinWireVersion: 5,
      timeoutMS: base.timeoutMS,
      session: base.session,
      signal: base.signal,
      plan: () => ({ command: { drop: base.coll }, parse: () => true }),
    });
  } catch (e) {
    // NamespaceNotFound: nothing to drop (older servers say it in errmsg only).
    if (e instanceof OperationFailure && (e.code === ErrorCode.NamespaceNotFound || e.errmsg === "ns not found")) return false;
    throw e;
  }
}
