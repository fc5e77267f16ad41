/**
 * The options and results of {@linkcode Collection}'s methods.
 *
 * @module
 */

import type { ClientSession } from "./session.ts";
import type { Document, ObjectId } from "../bson/mod.ts";
import type { ReadPreferenceLike } from "../topology/read_preference.ts";
import type { ReadConcern } from "./read_concern.ts";
import type { WriteConcern } from "./write_concern.ts";

/**
 * What a collection's document type must be: any object type with string
 * keys, interfaces included (`{ [key: string]: unknown }`, the codec's
 * `Document`, does not accept an interface, which has no index signature).
 * The default document type stays `Document`.
 *
 * @example
 * ```ts
 * import type { SchemaDocument } from "@zerodep/mongo";
 *
 * interface Person { name: string; age: number }
 * const p: SchemaDocument = { name: "Ada", age: 36 } as Person;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type SchemaDocument = { [key: string]: any };

/**
 * Options of {@linkcode Database.collection}.
 *
 * @example
 * ```ts
 * import { type CollectionOptions, ReadPreference } from "@zerodep/mongo";
 *
 * const options: CollectionOptions = { readPreference: ReadPreference.SECONDARY, writeConcern: { w: 1 } };
 * ```
 */
export interface CollectionOptions {
  /** Default read preference of this collection's reads (default: the database's). */
  readonly readPreference?: ReadPreferenceLike;
  /** Default write concern of this collection's writes (default: the database's). */
  readonly writeConcern?: WriteConcern;
  /** Default read concern of this collection's reads (default: the database's). */
  readonly readConcern?: ReadConcern;
  /** Default `timeoutMS` of this collection's operations, in ms; 0 = no limit (default: the database's). */
  readonly timeoutMS?: number;
}

/**
 * Options common to every write.
 *
 * @example
 * ```ts
 * import type { WriteOptions } from "@zerodep/mongo";
 *
 * const options: WriteOptions = { writeConcern: { w: "majority" }, signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface WriteOptions {
  /** Write concern of this operation (default: the collection's). */
  readonly writeConcern?: WriteConcern;
  /** Skip the collection's document validation rules. */
  readonly bypassDocumentValidation?: boolean;
  /** Cancels the operation. The write may or may not have happened when it rejects. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
}

/**
 * Options of {@linkcode Collection.insertMany}.
 *
 * @example
 * ```ts
 * import type { InsertManyOptions } from "@zerodep/mongo";
 *
 * const options: InsertManyOptions = { ordered: false };
 * ```
 */
export interface InsertManyOptions extends WriteOptions {
  /** Stop at the first failed document (default `true`); `false` inserts every document it can. */
  readonly ordered?: boolean;
}

/**
 * Options of {@linkcode Collection.updateOne}, {@linkcode Collection.updateMany}
 * and {@linkcode Collection.replaceOne}.
 *
 * @example
 * ```ts
 * import type { UpdateOptions } from "@zerodep/mongo";
 *
 * const options: UpdateOptions = { upsert: true };
 * ```
 */
export interface UpdateOptions extends WriteOptions {
  /** Insert a document when none matches. */
  readonly upsert?: boolean;
  /** Filters for the positional `$[<id>]` operator (not with `replaceOne`). */
  readonly arrayFilters?: readonly Document[];
  /** The index to use: its name or its key pattern. */
  readonly hint?: string | Document;
  /** Collation of the filter. */
  readonly collation?: Document;
  /** Variables for the filter and update (`$$name`), MongoDB 5.0+. */
  readonly let?: Document;
}

/**
 * Options of {@linkcode Collection.deleteOne} and {@linkcode Collection.deleteMany}.
 *
 * @example
 * ```ts
 * import type { DeleteOptions } from "@zerodep/mongo";
 *
 * const options: DeleteOptions = { hint: { age: 1 } };
 * ```
 */
export interface DeleteOptions extends WriteOptions {
  /** The index to use: its name or its key pattern. */
  readonly hint?: string | Document;
  /** Collation of the filter. */
  readonly collation?: Document;
  /** Variables for the filter (`$$name`), MongoDB 5.0+. */
  readonly let?: Document;
}

/**
 * Options of {@linkcode Collection.countDocuments}.
 *
 * @example
 * ```ts
 * import type { CountDocumentsOptions } from "@zerodep/mongo";
 *
 * const options: CountDocumentsOptions = { limit: 1000 };
 * ```
 */
export interface CountDocumentsOptions {
  /** Matching documents to skip before counting. */
  readonly skip?: number;
  /** Count at most this many. */
  readonly limit?: number;
  /** The index to use. */
  readonly hint?: string | Document;
  /** Collation of the filter. */
  readonly collation?: Document;
  /** A comment to find the operation by in the server's logs. */
  readonly comment?: unknown;
  /** Server-side time limit in ms (ignored when `timeoutMS` applies). */
  readonly maxTimeMS?: number;
  /** Where to read (default: the collection's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /** Read concern of the count (default: the collection's). */
  readonly readConcern?: ReadConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Collection.drop}.
 *
 * @example
 * ```ts
 * import type { DropCollectionOptions } from "@zerodep/mongo";
 *
 * const options: DropCollectionOptions = { writeConcern: { w: 1 } };
 * ```
 */
export interface DropCollectionOptions {
  /** Write concern of the drop (sent to MongoDB 3.4+ only). */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

/**
 * The result of {@linkcode Collection.insertOne}.
 *
 * @example
 * ```ts
 * import type { InsertOneResult } from "@zerodep/mongo";
 *
 * const r: InsertOneResult = { acknowledged: true, insertedId: 1 };
 * ```
 */
export interface InsertOneResult<T = Document> {
  /** Whether the server acknowledged the write (`false` with `w: 0`). */
  acknowledged: boolean;
  /** The document's `_id` (the generated ObjectId when it had none). */
  insertedId: InferIdType<T>;
}

/**
 * The result of {@linkcode Collection.insertMany}.
 *
 * @example
 * ```ts
 * import type { InsertManyResult } from "@zerodep/mongo";
 *
 * const r: InsertManyResult = { acknowledged: true, insertedCount: 2, insertedIds: { 0: 1, 1: 2 } };
 * ```
 */
export interface InsertManyResult<T = Document> {
  /** Whether the server acknowledged the writes (`false` with `w: 0`). */
  acknowledged: boolean;
  /** Documents inserted, as the server counted them (0 when unacknowledged). */
  insertedCount: number;
  /** The `_id` of every document, by its position in the input. */
  insertedIds: Record<number, InferIdType<T>>;
}

/**
 * The result of {@linkcode Collection.updateOne}, {@linkcode Collection.updateMany}
 * and {@linkcode Collection.replaceOne}. Counts are 0 when unacknowledged.
 *
 * @example
 * ```ts
 * import type { UpdateResult } from "@zerodep/mongo";
 *
 * const r: UpdateResult = { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
 * ```
 */
export interface UpdateResult<T = Document> {
  /** Whether the server acknowledged the write. */
  acknowledged: boolean;
  /** Documents that matched the filter. */
  matchedCount: number;
  /** Documents actually changed. */
  modifiedCount: number;
  /** 1 when an upsert inserted a document, else 0. */
  upsertedCount: number;
  /** The `_id` of the upserted document, or `null`. */
  upsertedId: InferIdType<T> | null;
}

/**
 * The result of {@linkcode Collection.deleteOne} and {@linkcode Collection.deleteMany}.
 *
 * @example
 * ```ts
 * import type { DeleteResult } from "@zerodep/mongo";
 *
 * const r: DeleteResult = { acknowledged: true, deletedCount: 3 };
 * ```
 */
export interface DeleteResult {
  /** Whether the server acknowledged the write. */
  acknowledged: boolean;
  /** Documents deleted (0 when unacknowledged). */
  deletedCount: number;
}

/**
 * A document to insert: `T` whose `_id` may be left out (an ObjectId is then
 * generated on a copy; the caller's object is never modified).
 *
 * @example
 * ```ts
 * import type { OptionalId } from "@zerodep/mongo";
 *
 * interface Person { _id: string; name: string }
 * const p: OptionalId<Person> = { name: "Ada" };
 * ```
 */
export type OptionalId<T> = Omit<T, "_id"> & { _id?: T extends { _id: infer I } ? I : unknown };

/**
 * The `_id` type of documents of type `T`: `T`'s own `_id` type, else
 * `ObjectId` (what the driver generates); `unknown` for the untyped
 * `Document`.
 *
 * @example
 * ```ts
 * import type { InferIdType, ObjectId } from "@zerodep/mongo";
 *
 * interface Person { name: string }
 * interface Tagged { _id: string; name: string }
 * const a: InferIdType<Person> = null as unknown as ObjectId;
 * const b: InferIdType<Tagged> = "ada";
 * ```
 */
export type InferIdType<T> = T extends { _id: infer I } ? I : T extends { _id?: infer U } ? U : ObjectId;

/**
 * A document as stored: `T` with its `_id` (of `T`'s `_id` type, else
 * `ObjectId`, the type the driver generates).
 *
 * @example
 * ```ts
 * import type { ObjectId, WithId } from "@zerodep/mongo";
 *
 * interface Person { name: string }
 * const stored: WithId<Person> = { _id: null as unknown as ObjectId, name: "Ada" };
 * ```
 */
export type WithId<T> = Omit<T, "_id"> & { _id: InferIdType<T> };
