/**
 * A database of a {@linkcode Connection} or {@linkcode ReplicaSetConnection}:
 * commands (`admin.command("replSetInitiate", config)` as in the guide),
 * collections, and the read preference and write concern they inherit.
 *
 * @module
 */

import { checkSession } from "./session.ts";
import type { ClientSession } from "./session.ts";
import { ChangeStream, type ChangeStreamOptions } from "./change_stream.ts";
import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import {
  checkBoolean,
  checkDocument,
  checkInt,
  checkOptions,
  checkSignal,
  type ClientContext,
  contextOf,
  cursorId,
  isDocument,
  show,
} from "./_internal.ts";
import { execute, type ServerRun } from "./execute.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { Collection } from "./collection.ts";
import type { CollectionOptions, DropCollectionOptions, SchemaDocument } from "./collection_options.ts";
import { checkOptionNames, LEVEL_OPTIONS } from "./_write.ts";
import { type AggregateOptions, Cursor } from "./cursor.ts";
import { runCursorCommandSource, type RunCursorCommandOptions } from "./run_cursor_command.ts";
import type { ClientBase } from "./client_base.ts";

/**
 * Options of {@linkcode ClientBase.db}: a read preference and a write concern
 * for this database, overriding the client's.
 *
 * @example
 * ```ts
 * import { type DatabaseOptions, ReadPreference } from "@zerodep/mongo";
 *
 * const options: DatabaseOptions = { readPreference: ReadPreference.SECONDARY_ONLY, writeConcern: { w: 2 } };
 * ```
 */
export interface DatabaseOptions {
  /** Default read preference of this database's collections (default: the client's). */
  readonly readPreference?: ReadPreferenceLike;
  /** Default write concern of this database's collections (default: the client's). */
  readonly writeConcern?: WriteConcern;
  /** Default read concern of this database's collections (default: the client's). */
  readonly readConcern?: ReadConcern;
  /** Default `timeoutMS` of this database's operations, in ms; 0 = no limit (default: the client's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Database.command}.
 *
 * @example
 * ```ts
 * import { type RunCommandOptions, ReadPreference } from "@zerodep/mongo";
 *
 * const options: RunCommandOptions = { readPreference: ReadPreference.SECONDARY, signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface RunCommandOptions {
  /**
   * Where the command may run. Default: the primary, whatever the client's
   * or database's default is (the rule for generic commands, which may
   * write). On a direct connection the one server runs it in any case.
   */
  readonly readPreference?: ReadPreferenceLike;
  /** Cancels the command (its connection is closed; the server may still run it). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Limit on this round trip in ms (0 = none); default the client's `socketTimeoutMS`. Ignored when `timeoutMS` applies. */
  readonly socketTimeoutMS?: number;
  /**
   * Time limit of the whole command in ms; 0 = no limit (default: the
   * database's). The command then carries a `maxTimeMS` derived from it,
   * which replaces one the command document has.
   */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode Database.listCollections}.
 *
 * @example
 * ```ts
 * import type { ListCollectionsOptions } from "@zerodep/mongo";
 *
 * const options: ListCollectionsOptions = { nameOnly: true };
 * ```
 */
export interface ListCollectionsOptions {
  /** Names (and types) only. */
  readonly nameOnly?: boolean;
  /** With `nameOnly`, only the collections the user may act on (for users without listCollections; MongoDB 4.0+). */
  readonly authorizedCollections?: boolean;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Where to read (default: the database's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole listing in ms; 0 = no limit (default: the database's). */
  readonly timeoutMS?: number;
}

/**
 * One collection as listed by {@linkcode Database.listCollections}.
 *
 * @example
 * ```ts
 * import type { CollectionInfo } from "@zerodep/mongo";
 *
 * const info: CollectionInfo = { name: "people", type: "collection" };
 * ```
 */
export interface CollectionInfo {
  /** The collection name. */
  name: string;
  /** `"collection"`, `"view"` or `"timeseries"`. */
  type?: string;
  /** Creation options, UUID and other fields the server sends. */
  [key: string]: unknown;
}

/**
 * Options of {@linkcode Database.createCollection}: the `create` command's.
 *
 * @example
 * ```ts
 * import type { CreateCollectionOptions } from "@zerodep/mongo";
 *
 * const options: CreateCollectionOptions = {
 *   capped: true,
 *   size: 1 << 20,
 *   max: 1000,
 *   validator: { $jsonSchema: { required: ["at"] } },
 * };
 * ```
 */
export interface CreateCollectionOptions {
  /** A fixed-size collection that overwrites its oldest documents (needs `size`). */
  readonly capped?: boolean;
  /** A capped collection's size in bytes. */
  readonly size?: number;
  /** A capped collection's maximum number of documents. */
  readonly max?: number;
  /** Rules every inserted or updated document must pass (`$jsonSchema` or query operators). */
  readonly validator?: Document;
  /** `"off"`, `"strict"` (default) or `"moderate"`. */
  readonly validationLevel?: "off" | "strict" | "moderate";
  /** `"error"` (default) or `"warn"`. */
  readonly validationAction?: "error" | "warn";
  /** The default collation of the collection. */
  readonly collation?: Document;
  /** Storage engine options. */
  readonly storageEngine?: Document;
  /** Default options of the collection's indexes. */
  readonly indexOptionDefaults?: Document;
  /** Make a view of this collection (with `pipeline`). */
  readonly viewOn?: string;
  /** The view's pipeline. */
  readonly pipeline?: readonly Document[];
  /** Time series options (MongoDB 5.0+). */
  readonly timeseries?: Document;
  /** Seconds after which time series or clustered documents expire. */
  readonly expireAfterSeconds?: number;
  /** A clustered collection's index (MongoDB 5.3+). */
  readonly clusteredIndex?: Document;
  /** Change stream pre- and post-images (MongoDB 6.0+). */
  readonly changeStreamPreAndPostImages?: Document;
  /** A comment to find the operation by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Write concern of the create (default: the database's; sent to MongoDB 3.4+). */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the database's). */
  readonly timeoutMS?: number;
}

/** The `create` command's fields among {@linkcode CreateCollectionOptions}. */
const CREATE_FIELDS: ReadonlySet<string> = new Set([
  "capped",
  "size",
  "max",
  "validator",
  "validationLevel",
  "validationAction",
  "collation",
  "storageEngine",
  "indexOptionDefaults",
  "viewOn",
  "pipeline",
  "timeseries",
  "expireAfterSeconds",
  "clusteredIndex",
  "changeStreamPreAndPostImages",
  "comment",
]);
const CREATE_OPTIONS: ReadonlySet<string> = new Set([...CREATE_FIELDS, "writeConcern", "signal", "session", "timeoutMS"]);
const COMMAND_OPTIONS: ReadonlySet<string> = new Set(["readPreference", "signal", "session", "socketTimeoutMS", "timeoutMS"]);
const DROP_DATABASE_OPTIONS: ReadonlySet<string> = new Set(["writeConcern", "signal", "session", "timeoutMS"]);
const LIST_COLLECTIONS_OPTIONS: ReadonlySet<string> = new Set([
  "nameOnly",
  "authorizedCollections",
  "comment",
  "readPreference",
  "signal",
  "session",
  "timeoutMS",
]);

/**
 * Options of {@linkcode Database.drop}.
 *
 * @example
 * ```ts
 * import type { DropDatabaseOptions } from "@zerodep/mongo";
 *
 * const options: DropDatabaseOptions = { writeConcern: { w: "majority" } };
 * ```
 */
export interface DropDatabaseOptions {
  /** Write concern of the drop (default: the database's). Sent to MongoDB 3.4+ only. */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the database's). */
  readonly timeoutMS?: number;
}

// Characters MongoDB does not allow in database names.
const BAD_DB_NAME = /[/\\. "$\0]/;

/**
 * A database. Get one with `conn.db(name)` or `conn.admin`.
 *
 * Read preference, read concern, write concern and `timeoutMS`: an
 * operation's own option wins, then the collection's, then this database's,
 * then the client's.
 *
 * @example Initiate a set through a direct connection, as in the guide
 * ```ts ignore
 * import { Connection } from "@zerodep/mongo";
 *
 * await using c = new Connection("localhost", 27017, { slaveOk: true });
 * const config = { _id: "foo", members: [
 *   { _id: 0, host: "localhost:27017" },
 *   { _id: 1, host: "localhost:27018" },
 *   { _id: 2, host: "localhost:27019" },
 * ] };
 * console.log(await c.admin.command("replSetInitiate", config)); // { ok: 1, ... }
 * ```
 */
export class Database {
  #client: ClientBase;
  #ctx: ClientContext;
  #name: string;
  #readPreference: ReadPreference | undefined;
  #writeConcern: WriteConcern | undefined;
  #readConcern: ReadConcern | undefined;
  #timeoutMS: number | undefined;

  /**
   * Prefer `conn.db(name, options)`.
   *
   * @throws {ConfigurationError} for an invalid database name or option.
   */
  constructor(client: ClientBase, name: string, options: DatabaseOptions = {}) {
    this.#ctx = contextOf(client);
    this.#client = client;
    if (typeof name !== "string" || name.length === 0 || name.length > 64 || BAD_DB_NAME.test(name)) {
      throw new ConfigurationError(
        `invalid database name ${
          show(name)
        }: a non-empty string of at most 64 characters without / \\ . " $, space or NUL`,
      );
    }
    this.#name = name;
    const opts = checkOptions(options, "database options");
    checkOptionNames(opts, LEVEL_OPTIONS, "database option");
    this.#readPreference = opts.readPreference === undefined ? undefined : ReadPreference.from(opts.readPreference);
    this.#writeConcern = opts.writeConcern === undefined ? undefined : checkWriteConcern(opts.writeConcern);
    this.#readConcern = opts.readConcern === undefined ? undefined : checkReadConcern(opts.readConcern);
    this.#timeoutMS = checkInt(opts.timeoutMS, "timeoutMS", 0);
  }

  /** The database name. */
  get name(): string {
    return this.#name;
  }

  /** The client this database belongs to. */
  get client(): ClientBase {
    return this.#client;
  }

  /** This database's read preference: its own, else the client's (read at each use). */
  get readPreference(): ReadPreference {
    return this.#readPreference ?? this.#ctx.readPreference;
  }

  /** This database's write concern: its own, else the client's (read at each use). */
  get writeConcern(): WriteConcern {
    return this.#writeConcern ?? this.#ctx.writeConcern;
  }

  /** This database's read concern: its own, else the client's. */
  get readConcern(): ReadConcern {
    return this.#readConcern ?? this.#ctx.readConcern;
  }

  /** This database's `timeoutMS`: its own, else the client's (`undefined`: not set; 0: no limit). */
  get timeoutMS(): number | undefined {
    return this.#timeoutMS ?? this.#ctx.timeoutMS;
  }

  /** An operation's `timeoutMS`: its own, else this database's. */
  #timeout(options: { readonly timeoutMS?: number }): number | undefined {
    return options.timeoutMS === undefined ? this.timeoutMS : checkInt(options.timeoutMS, "timeoutMS", 0);
  }

  /**
   * A database-level aggregation (`aggregate: 1`): pipelines that start with
   * a stage needing no collection (`$currentOp`, `$listLocalSessions`,
   * `$documents`), with the options and cursor of `Collection.aggregate`.
   *
   * @example
   * ```ts ignore
   * const ops = await c.admin.aggregate([{ $currentOp: {} }]).toArray();
   * ```
   */
  aggregate<R extends Document = Document>(pipeline: readonly Document[], options: AggregateOptions = {}): Cursor<R> {
    if (!Array.isArray(pipeline)) throw new ConfigurationError("aggregate needs a pipeline (an array of stages)");
    // The collection only carries the database's defaults; the command names no collection.
    return new Cursor<R>(this.collection("aggregate"), { kind: "aggregate", pipeline, options, database: true });
  }

  /**
   * A collection of this database, typed by its documents. Its read
   * preference and write concern are this database's unless `options` gives
   * its own.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * interface Person { _id?: unknown; name: string; age: number }
   * const c = new ReplicaSetConnection("localhost:27017", { replicaSet: "foo" });
   * const people = c.db("test").collection<Person>("people");
   * await people.insertOne({ name: "Ada", age: 36 });
   * ```
   */
  collection<T extends SchemaDocument = Document>(name: string, options?: CollectionOptions): Collection<T> {
    return new Collection<T>(this, name, options);
  }

  /**
   * A {@linkcode ChangeStream} of the changes to every collection of this
   * database (`aggregate: 1`). Call `start()` before the changes to see.
   *
   * @example
   * ```ts ignore
   * await using stream = await c.db("shop").watch().start();
   * await c.db("shop").collection("items").insertOne({ name: "lamp" });
   * console.log((await stream.next())?.ns); // { db: "shop", coll: "items" }
   * ```
   */
  watch<T = Document>(pipeline: readonly Document[] = [], options: ChangeStreamOptions = {}): ChangeStream<T> {
    return new ChangeStream<T>(this, pipeline, options);
  }

  /**
   * Runs a command whose reply is a cursor (`find`, `aggregate`,
   * `listCollections`, ...) and returns that cursor; later batches come
   * with `getMore` from the same server. The command goes as written: no
   * read or write concern is added, the read preference is the primary
   * unless `options.readPreference` says otherwise, and it is not retried.
   * Nothing is sent until the first document is asked for.
   *
   * @param command The command document, its name first.
   * @param options Where it runs, and each getMore's `batchSize`, `maxTimeMS` and `comment`.
   * @throws {ConfigurationError} for an empty command or an unknown option.
   * @throws {TypeError} for a command that is not a document or an option of the wrong type.
   *
   * @example
   * ```ts ignore
   * const names = await db.runCursorCommand({ listCollections: 1, nameOnly: true }).toArray();
   * for await (const doc of db.runCursorCommand({ find: "people", filter: {}, batchSize: 100 }, { batchSize: 100 })) {
   *   console.log(doc);
   * }
   * ```
   */
  runCursorCommand(command: Document, options?: RunCursorCommandOptions): Cursor<Document> {
    // The cursor takes its database from this collection; its namespace comes from the reply.
    return new Cursor<Document>(this.collection("runCursorCommand"), runCursorCommandSource(command, options));
  }

  /**
   * Runs a command, PyMongo style: `command("ping")` sends `{ping: 1}`,
   * `command("replSetInitiate", config)` sends `{replSetInitiate: config}`,
   * and a document is sent as it is (its first key is the command name).
   * Runs on the primary unless `options.readPreference` says otherwise, and
   * is never retried (a generic command may write). No read or write concern
   * is added (put them in the document).
   *
   * @param cmd A command document, or a command name.
   * @param value With a name: the command's value (default 1). With a document: the options.
   * @param options With a name: see {@linkcode RunCommandOptions}.
   * @returns The server's reply.
   * @throws {OperationFailure} when the server answers `ok: 0` (code, codeName, errmsg).
   * @throws {AutoReconnect} when the server went away (the command may or may not have run).
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * console.log((await c.admin.command("ping")).ok); // 1
   * console.log(await c.admin.command({ replSetGetStatus: 1 }));
   * await c.close();
   * ```
   */
  command(cmd: Document, options?: RunCommandOptions): Promise<Document>;
  /** Runs `{[name]: value}` (value default 1); see the document form. */
  command(cmd: string, value?: unknown, options?: RunCommandOptions): Promise<Document>;
  async command(cmd: Document | string, value?: unknown, options?: RunCommandOptions): Promise<Document> {
    let body: Document;
    let opts: RunCommandOptions;
    if (typeof cmd === "string") {
      if (cmd.length === 0) throw new ConfigurationError("the command name must not be empty");
      body = { [cmd]: value === undefined ? 1 : value };
      opts = checkOptions(options, "command options");
      checkOptionNames(opts, COMMAND_OPTIONS, "command option");
    } else {
      body = checkDocument(cmd, "the command");
      if (Object.keys(body).length === 0) throw new ConfigurationError("the command document is empty");
      if (options !== undefined) {
        throw new ConfigurationError("command(document, options) takes two arguments; put the options second");
      }
      opts = checkOptions(value as RunCommandOptions | undefined, "command options");
      checkOptionNames(opts, COMMAND_OPTIONS, "command option");
    }
    const signal = checkSignal(opts.signal);
    const readPreference = opts.readPreference === undefined
      ? ReadPreference.PRIMARY
      : ReadPreference.from(opts.readPreference);
    return await execute(this.#ctx, {
      name: Object.keys(body)[0],
      db: this.#name,
      kind: "read",
      readPreference,
      retryable: false,
      timeoutMS: this.#timeout(opts),
      signal,
      session: checkSession(opts.session, this.#ctx, opts),
      socketTimeoutMS: opts.socketTimeoutMS,
      plan: () => ({ command: body, parse: (reply) => reply }),
    });
  }

  /**
   * The collections (and views) of this database, read to the end.
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * console.log((await c.db("test").listCollections()).map((info) => info.name));
   * await c.close();
   * ```
   */
  async listCollections(filter: Document = {}, options: ListCollectionsOptions = {}): Promise<CollectionInfo[]> {
    checkDocument(filter, "the listCollections filter");
    const opts = checkOptions(options, "listCollections options");
    const signal = checkSignal(opts.signal);
    const readPreference = opts.readPreference === undefined
      ? this.readPreference
      : ReadPreference.from(opts.readPreference);
    checkOptionNames(opts, LIST_COLLECTIONS_OPTIONS, "listCollections option");
    const cmd: Document = { listCollections: 1, filter, cursor: {} };
    if (opts.nameOnly !== undefined) cmd.nameOnly = checkBoolean(opts.nameOnly, "nameOnly");
    if (opts.authorizedCollections !== undefined) {
      cmd.authorizedCollections = checkBoolean(opts.authorizedCollections, "authorizedCollections");
    }
    if (opts.comment !== undefined) cmd.comment = opts.comment;
    // The first batch and its getMores on one server, retried as a whole.
    const run = async (server: ServerRun): Promise<CollectionInfo[]> => {
      const reply = await server.command(cmd);
      const cursor = isDocument(reply.cursor) ? reply.cursor : {};
      const out: CollectionInfo[] = [];
      const take = (batch: unknown) => {
        if (Array.isArray(batch)) { for (const d of batch) if (isDocument(d)) out.push(d as CollectionInfo); }
      };
      take(cursor.firstBatch);
      let id = cursorId(cursor.id);
      const ns = typeof cursor.ns === "string" ? cursor.ns : `${this.#name}.$cmd.listCollections`;
      const coll = ns.slice(ns.indexOf(".") + 1);
      while (id !== 0n) {
        const getMore = { getMore: id, collection: coll };
        const more = await server.withConnection((conn) => conn.command(getMore, { maxTimeMS: false }));
        const c = isDocument(more.cursor) ? more.cursor : {};
        take(c.nextBatch);
        id = cursorId(c.id);
      }
      return out;
    };
    return await execute(this.#ctx, {
      name: "listCollections",
      db: this.#name,
      kind: "read",
      readPreference,
      retryable: true,
      timeoutMS: this.#timeout(opts),
      signal,
      session: checkSession(opts.session, this.#ctx, opts),
      plan: () => ({ run }),
    });
  }

  /**
   * The names of this database's collections (and views): `listCollections`
   * with `nameOnly`.
   *
   * @example
   * ```ts ignore
   * console.log(await db.listCollectionNames()); // ["people", "orders"]
   * ```
   */
  async listCollectionNames(
    filter: Document = {},
    options: Omit<ListCollectionsOptions, "nameOnly"> = {},
  ): Promise<string[]> {
    const opts = checkOptions(options, "listCollectionNames options");
    const infos = await this.listCollections(filter, { ...opts, nameOnly: true });
    return infos.map((info) => info.name);
  }

  /**
   * Creates a collection (`create`): capped, validated, a view, a time
   * series... Resolves to the new collection.
   *
   * @throws {OperationFailure} NamespaceExists (48) when it exists.
   * @example
   * ```ts ignore
   * const log = await db.createCollection("log", { capped: true, size: 1 << 20, max: 1000 });
   * ```
   */
  async createCollection<T extends SchemaDocument = Document>(
    name: string,
    options: CreateCollectionOptions = {},
  ): Promise<Collection<T>> {
    const opts = checkOptions(options, "createCollection options");
    checkOptionNames(opts, CREATE_OPTIONS, "createCollection option");
    const collection = new Collection<T>(this, name);
    const cmd: Document = { create: name };
    for (const [k, v] of Object.entries(opts)) if (CREATE_FIELDS.has(k) && v !== undefined) cmd[k] = v;
    checkBoolean(opts.capped, "capped");
    if (opts.capped === true && checkInt(opts.size, "size", 1) === undefined) {
      throw new ConfigurationError("a capped collection needs size (its maximum size in bytes)");
    }
    checkInt(opts.max, "max", 0);
    if (opts.validator !== undefined) checkDocument(opts.validator, "validator");
    const wc = opts.writeConcern === undefined ? this.writeConcern : checkWriteConcern(opts.writeConcern);
    await execute(this.#ctx, {
      name: "create",
      db: this.#name,
      kind: "write",
      retryable: false,
      writeConcern: wc,
      writeConcernMinWireVersion: 5,
      timeoutMS: this.#timeout(opts),
      signal: checkSignal(opts.signal),
      session: checkSession(opts.session, this.#ctx, opts),
      plan: () => ({ command: cmd, parse: () => undefined }),
    });
    return collection;
  }

  /**
   * Drops a collection of this database (`drop`).
   *
   * @returns `true` when it was dropped, `false` when it did not exist.
   * @example
   * ```ts ignore
   * await db.dropCollection("scratch");
   * ```
   */
  dropCollection(name: string, options?: DropCollectionOptions): Promise<boolean> {
    return this.collection(name).drop(options);
  }

  /**
   * Drops this database with all its collections (`dropDatabase`).
   *
   * @returns `true`.
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * const c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
   * await c.db("scratch").drop();
   * await c.close();
   * ```
   */
  async drop(options: DropDatabaseOptions = {}): Promise<boolean> {
    const opts = checkOptions(options, "drop options");
    checkOptionNames(opts, DROP_DATABASE_OPTIONS, "drop option");
    const signal = checkSignal(opts.signal);
    const wc = opts.writeConcern === undefined ? this.writeConcern : checkWriteConcern(opts.writeConcern);
    return await execute(this.#ctx, {
      name: "dropDatabase",
      db: this.#name,
      kind: "write",
      retryable: false,
      writeConcern: wc,
      writeConcernMinWireVersion: 5,
      timeoutMS: this.#timeout(opts),
      signal,
      session: checkSession(opts.session, this.#ctx, opts),
      plan: () => ({ command: { dropDatabase: 1 }, parse: () => true }),
    });
  }

  /** `Database(ReplicaSetConnection(['h:27017', ...]), 'name')`, as PyMongo prints it. */
  toString(): string {
    return `Database(${this.#ctx.describe()}, '${this.#name}')`;
  }

  /** Deno's `console.log` form: the same as `toString()`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's and Bun's `console.log` form: the same as `toString()`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
