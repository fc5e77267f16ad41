/**
 * A collection: CRUD with results shaped like today's drivers
 * (`insertOne` -> `{acknowledged, insertedId}`, ...), cursors for `find` and
 * `aggregate`, and the read preference and write concern it inherits from its
 * database.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { ReadPreference } from "../topology/read_preference.ts";
import { checkDocument, checkInt, checkOptions, type ClientContext, contextOf, show, typeError } from "./_internal.ts";
import { checkOptionNames, LEVEL_OPTIONS } from "./_write.ts";
import {
  createIndex,
  type CreateIndexesOptions,
  createIndexes,
  type CreateIndexOptions,
  dropCollection,
  dropIndex,
  dropIndexes,
  type DropIndexesOptions,
  type IndexDescription,
  type ListIndexesOptions,
  listIndexesSource,
  rename,
  type RenameOptions,
} from "./indexes.ts";
import type { AnyBulkWriteOperation, BulkWriteOptions, BulkWriteResult } from "./bulk_write.ts";
import type { FindOneAndDeleteOptions, FindOneAndReplaceOptions, FindOneAndUpdateOptions } from "./find_and_modify.ts";
import type { CountOptions, DistinctOptions, EstimatedDocumentCountOptions } from "./distinct.ts";
// The writes, findAndModify, distinct and the counts load on their first call (see _on_first_use.ts).
import {
  bulkWrite,
  countCommand,
  countDocuments,
  distinct,
  estimatedDocumentCount,
  findAndModify,
  insertMany,
  insertOne,
  runDelete,
  runUpdate,
} from "./_on_first_use.ts";
import * as search from "./search_indexes.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { type AggregateOptions, Cursor, type FindOptions } from "./cursor.ts";
import { ChangeStream, type ChangeStreamOptions } from "./change_stream.ts";
import type { Database } from "./database.ts";
import type {
  CollectionOptions,
  CountDocumentsOptions,
  DeleteOptions,
  DeleteResult,
  DropCollectionOptions,
  InsertManyOptions,
  InsertManyResult,
  InsertOneResult,
  OptionalId,
  SchemaDocument,
  UpdateOptions,
  UpdateResult,
  WithId,
  WriteOptions,
} from "./collection_options.ts";

// Characters MongoDB does not allow in collection names.
const BAD_COLLECTION_NAME = /[$\0]/;

/**
 * A collection, typed by its documents. Get one with `db.collection<T>(name)`.
 *
 * Writes go to the primary. With `retryWrites` on (the default), a write
 * the retryable writes specification allows (insertOne, insertMany,
 * updateOne, replaceOne, deleteOne, findOneAnd*, bulkWrite without
 * updateMany/deleteMany) is sent once more on a newly selected primary after
 * a network error or a retryable server error, with the same `txnNumber`, so
 * the server applies it once; updateMany, deleteMany, unacknowledged writes
 * and `retryWrites: false` reject with `AutoReconnect` when the primary goes
 * away mid-write (the write may or may not have happened). Reads go where
 * the read preference says and are retried once (on a newly selected server)
 * after a network error or a "not primary" reply, unless `retryReads` is off;
 * under a finite `timeoutMS` they are retried as often as its deadline allows
 * (never after it passes).
 *
 * Every method runs through the client's one operation runner, which applies
 * `timeoutMS` (the collection's, else the database's, else the client's; an
 * operation's own wins): one deadline over server selection, connection
 * checkout, every round trip and retry, `maxTimeMS` derived from what is
 * left, and an `OperationTimeoutError` when it passes. Reads send the read
 * concern inherited the same way (`readConcern`).
 *
 * @example The guide's first steps
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * const test = c.db("test").collection("test");
 * await test.insertOne({ x: 1 });
 * console.log(await test.findOne()); // { _id: ObjectId(...), x: 1 }
 * ```
 */
export class Collection<T extends SchemaDocument = Document> {
  #db: Database;
  #ctx: ClientContext;
  #name: string;
  #readPreference: ReadPreference | undefined;
  #writeConcern: WriteConcern | undefined;
  #readConcern: ReadConcern | undefined;
  #timeoutMS: number | undefined;
  #options: CollectionOptions;

  /**
   * Prefer `db.collection(name, options)`.
   *
   * @throws {ConfigurationError} for an invalid collection name or option.
   */
  constructor(db: Database, name: string, options: CollectionOptions = {}) {
    this.#db = db;
    this.#ctx = contextOf(db.client);
    if (typeof name !== "string" || name.length === 0 || BAD_COLLECTION_NAME.test(name)) {
      throw new ConfigurationError(`invalid collection name ${show(name)}: a non-empty string without $ or NUL`);
    }
    this.#name = name;
    const opts = checkOptions(options, "collection options");
    checkOptionNames(opts, LEVEL_OPTIONS, "collection option");
    this.#readPreference = opts.readPreference === undefined ? undefined : ReadPreference.from(opts.readPreference);
    this.#writeConcern = opts.writeConcern === undefined ? undefined : checkWriteConcern(opts.writeConcern);
    this.#readConcern = opts.readConcern === undefined ? undefined : checkReadConcern(opts.readConcern);
    this.#timeoutMS = checkInt(opts.timeoutMS, "timeoutMS", 0);
    this.#options = opts;
  }

  /** The collection name. */
  get name(): string {
    return this.#name;
  }

  /** `"<database>.<collection>"`. */
  get namespace(): string {
    return `${this.#db.name}.${this.#name}`;
  }

  /** The database this collection belongs to. */
  get database(): Database {
    return this.#db;
  }

  /** This collection's read preference: its own, else the database's. */
  get readPreference(): ReadPreference {
    return this.#readPreference ?? this.#db.readPreference;
  }

  /** This collection's write concern: its own, else the database's. */
  get writeConcern(): WriteConcern {
    return this.#writeConcern ?? this.#db.writeConcern;
  }

  /** This collection's read concern: its own, else the database's. */
  get readConcern(): ReadConcern {
    return this.#readConcern ?? this.#db.readConcern;
  }

  /** This collection's `timeoutMS`: its own, else the database's (`undefined`: not set; 0: no limit). */
  get timeoutMS(): number | undefined {
    return this.#timeoutMS ?? this.#db.timeoutMS;
  }

  /** An operation's `timeoutMS`: its own, else this collection's. */
  #timeout(options: { readonly timeoutMS?: number }): number | undefined {
    return options.timeoutMS === undefined ? this.timeoutMS : checkInt(options.timeoutMS, "timeoutMS", 0);
  }

  /**
   * Inserts one document. A document without `_id` gets an ObjectId, on a
   * copy: the caller's object is not modified.
   *
   * @throws {WriteError} for a duplicate key or a document the collection's validator rejects.
   * @throws {WriteConcernError} when the write concern was not satisfied (the document was inserted).
   * @throws {AutoReconnect} when the primary went away (the insert may or may not have happened).
   *
   * @example
   * ```ts ignore
   * const { insertedId } = await people.insertOne({ name: "Ada" });
   * ```
   */
  insertOne(doc: OptionalId<T>, options?: WriteOptions): Promise<InsertOneResult<T>> {
    return insertOne(this, doc, options) as Promise<InsertOneResult<T>>;
  }

  /**
   * Inserts documents in batches of the server's `maxWriteBatchSize` (and
   * smaller when a batch would exceed the message size limit), each batch one
   * `insert` command with the documents as an OP_MSG document sequence.
   * Documents without `_id` get an ObjectId on a copy.
   *
   * @throws {BulkWriteError} (a `WriteError`) listing every failed document
   * (its `index` in `docs`), with the partial `result` (`insertedCount`, and
   * `insertedIds` of the documents inserted); ordered inserts stop at the first.
   * @throws {WriteConcernError} when only the write concern failed (the documents were inserted).
   * @throws {AutoReconnect} when the primary went away (earlier batches may have been inserted).
   *
   * @example
   * ```ts ignore
   * const r = await people.insertMany([{ name: "Ada" }, { name: "Grace" }]);
   * console.log(r.insertedCount); // 2
   * ```
   */
  insertMany(docs: readonly OptionalId<T>[], options?: InsertManyOptions): Promise<InsertManyResult<T>> {
    return insertMany(this, docs, options) as Promise<InsertManyResult<T>>;
  }

  /**
   * Runs a list of writes (the six models: `insertOne`, `updateOne`,
   * `updateMany`, `replaceOne`, `deleteOne`, `deleteMany`) as few commands
   * as the server allows: ordered (the default), each run of one kind in
   * the given order, stopping at the first failure; unordered, all inserts,
   * then all updates, then all deletes, every write tried. Batches follow
   * the server's `maxWriteBatchSize` and message size, on one connection.
   * Documents without `_id` get an ObjectId on a copy.
   *
   * @returns The counts, and the `_id` of every insert and upsert by the index of its model.
   * @throws {BulkWriteError} when writes failed, a write concern was not
   * satisfied, or a command failed (`ok: 0`; its code and labels):
   * `writeErrors` (indexes into `models`), `writeConcernErrors` and the
   * partial `result`.
   * @throws {BulkWriteInterruptedError} when a network error stopped it (after its retry): the partial `result`.
   * @throws {ConfigurationError} for a malformed model, naming its index (nothing is sent).
   * @example
   * ```ts ignore
   * const r = await people.bulkWrite([
   *   { insertOne: { document: { name: "Ada" } } },
   *   { updateOne: { filter: { name: "Grace" }, update: { $set: { age: 85 } }, upsert: true } },
   *   { deleteMany: { filter: { age: { $lt: 0 } } } },
   * ], { ordered: false });
   * console.log(r.insertedIds[0], r.upsertedIds[1]);
   * ```
   */
  bulkWrite(models: readonly AnyBulkWriteOperation<T>[], options?: BulkWriteOptions): Promise<BulkWriteResult> {
    return bulkWrite(this, models, options);
  }

  /**
   * Finds documents: a lazy {@linkcode Cursor} that sends `find` on first use.
   *
   * @example
   * ```ts ignore
   * for await (const p of people.find({ age: { $gt: 30 } }).sort({ age: -1 }).limit(10)) console.log(p.name);
   * ```
   */
  find(filter: Document = {}, options: FindOptions = {}): Cursor<WithId<T>> {
    checkDocument(filter, "the find filter");
    return new Cursor<WithId<T>>(this as unknown as Collection<Document>, { kind: "find", filter, options });
  }

  /**
   * The first document matching `filter`, or `null`.
   *
   * @example
   * ```ts ignore
   * const ada = await people.findOne({ name: "Ada" });
   * ```
   */
  async findOne(
    filter: Document = {},
    options: Omit<FindOptions, "limit" | "batchSize" | "singleBatch"> = {},
  ): Promise<WithId<T> | null> {
    const cursor = this.find(filter, { ...checkOptions(options, "findOne options"), limit: 1, singleBatch: true });
    try {
      return await cursor.next({ signal: options.signal });
    } finally {
      await cursor.close();
    }
  }

  /**
   * Runs an aggregation pipeline: a lazy {@linkcode Cursor} over its output.
   * A pipeline ending in `$out` or `$merge` writes, so it runs on the primary.
   *
   * @example
   * ```ts ignore
   * const byAge = await people.aggregate([{ $group: { _id: "$age", n: { $sum: 1 } } }]).toArray();
   * ```
   */
  aggregate<R extends SchemaDocument = Document>(pipeline: readonly Document[], options: AggregateOptions = {}): Cursor<R> {
    if (!Array.isArray(pipeline)) throw typeError("the pipeline", "an array of stages", pipeline);
    pipeline.forEach((stage, i) => checkDocument(stage, `pipeline stage ${i}`));
    return new Cursor<R>(this as unknown as Collection<Document>, { kind: "aggregate", pipeline, options });
  }

  /**
   * A {@linkcode ChangeStream} of this collection's changes (`pipeline` filters
   * or reshapes them; keep `_id`). Call `start()` before the changes to see.
   *
   * @example
   * ```ts ignore
   * await using stream = await people.watch([], { fullDocument: "updateLookup" }).start();
   * await people.updateOne({ name: "Ada" }, { $set: { age: 37 } });
   * console.log((await stream.next())?.operationType); // "update"
   * ```
   */
  watch<R = T>(pipeline: readonly Document[] = [], options: ChangeStreamOptions = {}): ChangeStream<R> {
    return new ChangeStream<R>(this as unknown as Collection<Document>, pipeline, options);
  }

  /**
   * Counts the documents matching `filter` exactly, with an aggregation
   * (`$match`, `$skip`, `$limit`, `$group` with `$sum: 1`), as today's
   * drivers do.
   *
   * @example
   * ```ts ignore
   * console.log(await people.countDocuments({ age: { $gte: 18 } }));
   * ```
   */
  countDocuments(filter: Document = {}, options: CountDocumentsOptions = {}): Promise<number> {
    return countDocuments(this, filter, options);
  }


  /**
   * Updates the first document matching `filter` with update operators
   * (`{$set: ...}`) or an aggregation pipeline.
   *
   * @throws {ConfigurationError} for an update without operators (use `replaceOne`).
   * @example
   * ```ts ignore
   * const r = await people.updateOne({ name: "Ada" }, { $inc: { age: 1 } });
   * console.log(r.matchedCount, r.modifiedCount);
   * ```
   */
  updateOne(
    filter: Document,
    update: Document | readonly Document[],
    options: UpdateOptions = {},
  ): Promise<UpdateResult<T>> {
    return runUpdate(this, "updateOne", filter, update, false, false, options) as Promise<UpdateResult<T>>;
  }

  /**
   * Updates every document matching `filter`.
   *
   * @example
   * ```ts ignore
   * await people.updateMany({}, { $set: { checked: true } });
   * ```
   */
  updateMany(
    filter: Document,
    update: Document | readonly Document[],
    options: UpdateOptions = {},
  ): Promise<UpdateResult<T>> {
    return runUpdate(this, "updateMany", filter, update, true, false, options) as Promise<UpdateResult<T>>;
  }

  /**
   * Replaces the first document matching `filter` with `replacement` (which
   * must not contain update operators).
   *
   * @example
   * ```ts ignore
   * await people.replaceOne({ name: "Ada" }, { name: "Ada Lovelace", age: 36 });
   * ```
   */
  replaceOne(
    filter: Document,
    replacement: OptionalId<T>,
    options: Omit<UpdateOptions, "arrayFilters"> = {},
  ): Promise<UpdateResult<T>> {
    return runUpdate(this, "replaceOne", filter, replacement as Document, false, true, options) as Promise<UpdateResult<T>>;
  }

  /**
   * Deletes the first document matching `filter`.
   *
   * @example
   * ```ts ignore
   * const { deletedCount } = await people.deleteOne({ name: "Ada" });
   * ```
   */
  deleteOne(filter: Document, options: DeleteOptions = {}): Promise<DeleteResult> {
    return runDelete(this, "deleteOne", filter, 1, options);
  }

  /**
   * Deletes every document matching `filter` (`{}` deletes them all).
   *
   * @example
   * ```ts ignore
   * await people.deleteMany({ age: { $lt: 0 } });
   * ```
   */
  deleteMany(filter: Document, options: DeleteOptions = {}): Promise<DeleteResult> {
    return runDelete(this, "deleteMany", filter, 0, options);
  }

  /**
   * Finds the first document matching `filter` (in `sort` order) and
   * deletes it (`findAndModify` with `remove`).
   *
   * @returns The deleted document (projected), or `null` when none matched.
   * @example
   * ```ts ignore
   * const oldest = await jobs.findOneAndDelete({ state: "queued" }, { sort: { createdAt: 1 } });
   * ```
   */
  async findOneAndDelete(
    filter: Document,
    options?: FindOneAndDeleteOptions,
  ): Promise<WithId<T> | null> {
    return await findAndModify(this, "findOneAndDelete", filter, {
      kind: "delete",
    }, options) as WithId<T> | null;
  }

  /**
   * Finds the first document matching `filter` (in `sort` order) and
   * replaces it with `replacement` (which must not contain update operators).
   *
   * @returns The document as it was (`returnDocument: "before"`, the
   * default) or is (`"after"`), projected; `null` when none matched (or an
   * upsert inserted one and `returnDocument` is `"before"`).
   * @example
   * ```ts ignore
   * const now = await people.findOneAndReplace({ name: "Ada" }, { name: "Ada", age: 37 }, { returnDocument: "after" });
   * ```
   */
  async findOneAndReplace(
    filter: Document,
    replacement: OptionalId<T>,
    options?: FindOneAndReplaceOptions,
  ): Promise<WithId<T> | null> {
    return await findAndModify(this, "findOneAndReplace", filter, {
      kind: "replace",
      replacement,
    }, options) as
      | WithId<T>
      | null;
  }

  /**
   * Finds the first document matching `filter` (in `sort` order) and
   * applies `update` (update operators, or an aggregation pipeline).
   *
   * @returns The document before (default) or after (`returnDocument:
   * "after"`) the update, projected; `null` when none matched.
   * @example
   * ```ts ignore
   * const counter = await counters.findOneAndUpdate(
   *   { _id: "orders" },
   *   { $inc: { seq: 1 } },
   *   { upsert: true, returnDocument: "after" },
   * );
   * ```
   */
  async findOneAndUpdate(
    filter: Document,
    update: Document | readonly Document[],
    options?: FindOneAndUpdateOptions,
  ): Promise<WithId<T> | null> {
    return await findAndModify(this, "findOneAndUpdate", filter, {
      kind: "update",
      update,
    }, options) as
      | WithId<T>
      | null;
  }

  /**
   * The distinct values of the field `key` (dot notation allowed) among the
   * documents matching `filter`; array values count element by element.
   *
   * @example
   * ```ts ignore
   * const cities = await people.distinct("address.city", { age: { $gte: 18 } });
   * ```
   */
  distinct(
    key: string,
    filter: Document = {},
    options?: DistinctOptions,
  ): Promise<unknown[]> {
    return distinct(this, key, filter, options);
  }

  /**
   * The deprecated `count` command with a filter (kept by crud.md); prefer
   * {@linkcode Collection.countDocuments} (exact) or `estimatedDocumentCount`.
   *
   * @example
   * ```ts ignore
   * console.log(await people.count({ age: { $gte: 18 } }));
   * ```
   */
  count(filter: Document = {}, options?: CountOptions): Promise<number> {
    return countCommand(this, filter, options);
  }

  /**
   * The number of documents in the collection, from its metadata (the
   * `count` command without a filter): fast, but may be off after an
   * unclean shutdown or with orphaned documents on a sharded cluster. Use
   * {@linkcode Collection.countDocuments} for an exact count.
   *
   * @example
   * ```ts ignore
   * console.log(await people.estimatedDocumentCount());
   * ```
   */
  estimatedDocumentCount(
    options?: EstimatedDocumentCountOptions,
  ): Promise<number> {
    return estimatedDocumentCount(this, options);
  }

  /**
   * Creates an index (`createIndexes`) unless one of the same keys and
   * options exists. `keys` is a key pattern (`{name: 1, age: -1}`) or a
   * field name; `options` mixes the index's options (`unique`, `name`,
   * `expireAfterSeconds`, ...) and the operation's (`commitQuorum`, ...).
   *
   * @returns The index name (generated from the keys when not given: `name_1_age_-1`).
   * @throws {OperationFailure} when the server refuses it (an existing index of that name with other options, or E11000 duplicate keys for a unique index).
   * @example
   * ```ts ignore
   * const name = await people.createIndex({ email: 1 }, { unique: true });
   * ```
   */
  createIndex(keys: Document | string, options?: CreateIndexOptions): Promise<string> {
    return createIndex(this, keys, options);
  }

  /**
   * Creates several indexes in one `createIndexes` command.
   *
   * @returns Their names, in order.
   * @example
   * ```ts ignore
   * await people.createIndexes([{ key: { name: 1 } }, { key: { loc: "2dsphere" }, name: "where" }]);
   * ```
   */
  createIndexes(indexes: readonly IndexDescription[], options?: CreateIndexesOptions): Promise<string[]> {
    return createIndexes(this, indexes, options);
  }

  /**
   * The collection's indexes: a cursor over `listIndexes` (run on the
   * primary unless `readPreference` says otherwise).
   *
   * @example
   * ```ts ignore
   * for await (const index of people.listIndexes()) console.log(index.name, index.key);
   * ```
   */
  listIndexes(options?: ListIndexesOptions): Cursor<Document> {
    return new Cursor<Document>(this as unknown as Collection<Document>, listIndexesSource(this, options));
  }

  /**
   * Drops one index, by name or key pattern (`dropIndexes`).
   *
   * @returns The server's reply (`nIndexesWas`, ...).
   * @throws {OperationFailure} IndexNotFound (27) when there is no such index.
   * @example
   * ```ts ignore
   * await people.dropIndex("email_1");
   * ```
   */
  dropIndex(index: string | Document, options?: DropIndexesOptions): Promise<Document> {
    return dropIndex(this, index, options);
  }

  /**
   * Drops every index but the one on `_id`.
   *
   * @example
   * ```ts ignore
   * await people.dropIndexes();
   * ```
   */
  dropIndexes(options?: DropIndexesOptions): Promise<Document> {
    return dropIndexes(this, options);
  }

  /**
   * Creates an Atlas Search index; resolves to its name. A server without Atlas Search refuses it (SearchNotEnabled, 31082).
   *
   * @example
   * ```ts ignore
   * await movies.createSearchIndex({ name: "plots", definition: { mappings: { dynamic: true } } });
   * ```
   */
  async createSearchIndex(model: search.SearchIndexModel, options?: search.SearchIndexOptions): Promise<string> {
    return (await search.createSearchIndexes(this, [model], options))[0];
  }

  /**
   * Creates Atlas Search indexes in one `createSearchIndexes` command; resolves to their names.
   *
   * @example
   * ```ts ignore
   * await movies.createSearchIndexes([{ definition: { mappings: { dynamic: true } } }]);
   * ```
   */
  createSearchIndexes(models: readonly search.SearchIndexModel[], options?: search.SearchIndexOptions): Promise<string[]> {
    return search.createSearchIndexes(this, models, options);
  }

  /**
   * The collection's Atlas Search indexes (all, or the one named): `aggregate` with `$listSearchIndexes`.
   *
   * @example
   * ```ts ignore
   * for await (const index of movies.listSearchIndexes("plots")) console.log(index.status);
   * ```
   */
  listSearchIndexes(name?: string, options?: AggregateOptions): Cursor<Document> {
    return this.aggregate<Document>([search.listSearchIndexesStage(name)], options);
  }

  /**
   * Replaces an Atlas Search index's definition (`updateSearchIndex`).
   *
   * @example
   * ```ts ignore
   * await movies.updateSearchIndex("plots", { mappings: { dynamic: false } });
   * ```
   */
  updateSearchIndex(name: string, definition: Document, options?: search.SearchIndexOptions): Promise<void> {
    return search.updateSearchIndex(this, name, definition, options);
  }

  /**
   * Drops an Atlas Search index (`dropSearchIndex`); a missing collection is not an error.
   *
   * @example
   * ```ts ignore
   * await movies.dropSearchIndex("plots");
   * ```
   */
  dropSearchIndex(name: string, options?: search.SearchIndexOptions): Promise<void> {
    return search.dropSearchIndex(this, name, options);
  }

  /**
   * Renames the collection within its database (`renameCollection`).
   *
   * @returns The collection under its new name (with this one's options).
   * @throws {OperationFailure} NamespaceExists (48) when the target exists and `dropTarget` is not set.
   * @example
   * ```ts ignore
   * const archive = await people.rename("people_2024", { dropTarget: true });
   * ```
   */
  async rename(newName: string, options?: RenameOptions): Promise<Collection<T>> {
    const name = await rename(this, newName, options);
    return new Collection<T>(this.#db, name, this.#options);
  }

  /**
   * Drops the collection.
   *
   * @returns `true` when it was dropped, `false` when it did not exist.
   * @example
   * ```ts ignore
   * await people.drop();
   * ```
   */
  drop(options?: DropCollectionOptions): Promise<boolean> {
    return dropCollection(this, options);
  }


  /** `Collection(Database(...), 'name')`, as PyMongo prints it. */
  toString(): string {
    return `Collection(${this.#db.toString()}, '${this.#name}')`;
  }
}
