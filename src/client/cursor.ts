/**
 * Cursors over `find` and `aggregate` results: async iterable, with the
 * PyMongo-style builder methods, batches fetched with `getMore` from the
 * server that ran the query, and server cursors closed when abandoned.
 *
 * @module
 */

import { withRawData } from "./wire_features.ts";
import { ConfigurationError, MongoError, OperationFailure } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { Document } from "../bson/mod.ts";
import { ReadPreference } from "../topology/read_preference.ts";
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
  type ServerLike,
  show,
} from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import { checkSession, ClientSession, releaseServerSession, sessionState } from "./session.ts";
import { Deadline, execute, type PinnedConnection, type Plan } from "./execute.ts";
import { checkReadConcern, type ReadConcern } from "./read_concern.ts";
import type { Collection } from "./collection.ts";
import {
  type AggregateOptions,
  aggregateCommandOptions,
  COMMAND_CURSOR_OPTIONS,
  type CommandCursorOptions,
  type CursorReadOptions,
  type CursorSource,
  findCommandOptions,
  type FindOptions,
  type TimeoutMode,
} from "./cursor_options.ts";

export type { AggregateOptions, CommandCursorOptions, CursorReadOptions, CursorSource, FindOptions, TimeoutMode };

// OP_QUERY flag bits (QueryFlags in src/wire, which importing mod.ts must not load).
const TAILABLE_CURSOR = 0x2;
const NO_CURSOR_TIMEOUT = 0x10;
const AWAIT_DATA = 0x20;
const PARTIAL = 0x80;

/** getMore takes a comment from MongoDB 4.4 (wire 9). */
const GETMORE_COMMENT_WIRE_VERSION = 9;
// Below wire 4 (MongoDB 3.2) there is no find/getMore/killCursors command.
const FIND_COMMAND_WIRE_VERSION = 4;

/** The server-side part of a cursor; shared with the finalization registry, so it must not reference the Cursor. */
interface ServerCursor {
  id: bigint;
  ns: string;
  server: ServerLike | null;
  legacy: boolean;
  ctx: ClientContext;
  /** The cursor's `timeoutMS`, given afresh to killCursors. */
  timeoutMS: number | undefined;
  /** The session of every command of the cursor: the caller's, or an implicit one started with the query. */
  session: ClientSession | undefined;
}

/** Ends a cursor's implicit session once the server cursor is gone (its server session goes back to the pool). */
function releaseSession(state: ServerCursor): void {
  if (state.id !== 0n) return;
  endImplicit(state.session);
  if (state.session?.isImplicit === true) state.session = undefined;
}

function endImplicit(session: ClientSession | undefined): void {
  if (session === undefined || !session.isImplicit) return;
  const s = sessionState(session);
  s.ended = true;
  releaseServerSession(s);
}

async function killServerCursor(state: ServerCursor): Promise<void> {
  const { id, server } = state;
  state.id = 0n;
  if (id === 0n || server === null || state.ctx.closed) {
    releaseSession(state);
    return;
  }
  // The kill takes the cursor's session with it: it is ended (if implicit) once the kill is done.
  const session = state.session;
  if (session?.isImplicit === true) state.session = undefined;
  const dot = state.ns.indexOf(".");
  const db = state.ns.slice(0, dot);
  const coll = state.ns.slice(dot + 1);
  try {
    await execute(state.ctx, {
      name: "killCursors",
      db,
      kind: "read",
      retryable: false,
      server,
      session,
      timeoutMS: state.timeoutMS,
      maxTimeMS: false,
      plan: () => ({
        run: (s) =>
          s.withConnection(async (conn) => {
            if (state.legacy) await conn.conn.killCursors([id], conn.wire);
            else await conn.command({ killCursors: coll, cursors: [id] });
          }),
      }),
    });
  } catch {
    // Best effort: the server reaps idle cursors after 10 minutes anyway.
  }
  endImplicit(session);
}

/**
 * What a change stream observes of the command cursor it owns (internal:
 * not exported from `mod.ts`).
 */
export interface CursorObserver {
  /** The namespace until the first reply names one (`db.$cmd.aggregate` for `{aggregate: 1}`). */
  readonly namespace?: string;
  /** The `maxTimeMS` of each getMore (an awaitData cursor's wait on the server). */
  readonly maxAwaitTimeMS?: number;
  /** Every reply of the initial command and of each getMore, before its batch is buffered. */
  reply(reply: Document, maxWireVersion: number): void;
}

const observers = new WeakMap<object, CursorObserver>();

/** Attaches a {@linkcode CursorObserver} to a cursor before its first read (internal). */
export function observeCursor(cursor: Cursor<unknown>, observer: CursorObserver): void {
  observers.set(cursor, observer);
}

// Cursors dropped without being exhausted or closed: their server cursors are
// killed when the garbage collector notices (if ever, and not before the
// client is closed, in which case the server reaps them).
const abandoned: FinalizationRegistry<ServerCursor> | null = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<ServerCursor>((state) => void killServerCursor(state))
  : null;

/**
 * A cursor over the results of `find` or `aggregate`. Nothing is sent until
 * the first document is asked for; until then the builder methods
 * (`batchSize`, `limit`, `skip`, `sort`, `project`) may change the query.
 * The first batch comes from the server chosen by the read preference (the
 * query is retried once on another server after a network error when
 * `retryReads` is on); later batches come from the same server with
 * `getMore`.
 *
 * The server-side cursor is killed (`killCursors`) when the cursor is closed
 * before its end, when a `for await` loop over it exits early (`break`,
 * `return` or a throw), and, best effort, when an abandoned cursor object is
 * garbage-collected (through a `FinalizationRegistry`, which gives no timing
 * guarantee: close cursors you do not read to the end).
 *
 * @example
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * const people = c.db("test").collection<{ name: string; age: number }>("people");
 * for await (const p of people.find({ age: { $gte: 18 } }).sort({ age: 1 }).batchSize(100)) {
 *   if (p.age > 65) break; // the server cursor is killed here
 *   console.log(p.name);
 * }
 * ```
 */
export class Cursor<T = Document> {
  #collection: Collection<Document>;
  #ctx: ClientContext;
  #kind: "find" | "aggregate" | "command";
  #commandDoc: Document = {};
  #commandRawData: boolean | undefined;
  #commandRetryable = true;
  #commandGetMore: { readonly maxTimeMS?: number; readonly comment?: unknown } = {};
  #filter: Document = {};
  #pipeline: readonly Document[] = [];
  /** A database-level aggregate (`aggregate: 1`). */
  #onDatabase = false;
  #find: FindOptions = {};
  #findFields: Document = {};
  #aggregate: AggregateOptions = {};
  #aggregateFields: Document = {};
  #batchSize = 0;
  #limit = 0;
  #skip = 0;
  #sort: Document | undefined;
  #projection: Document | undefined;
  #readPreference: ReadPreference;
  #readConcern: ReadConcern | undefined;
  #signal: AbortSignal | undefined;
  #timeoutMS: number | undefined;
  #timeoutMode: TimeoutMode;
  /** The cursor's deadline in the cursorLifetime mode, from the first read. */
  #deadline: Deadline | undefined;

  #started = false;
  #closed = false;
  #buffer: Document[] = [];
  #position = 0;
  #returned = 0;
  #state: ServerCursor;
  #pending: Promise<void> | null = null;

  /**
   * Prefer `collection.find()` and `collection.aggregate()`.
   *
   * @throws {ConfigurationError} for a bad option.
   */
  constructor(collection: Collection<Document>, source: CursorSource) {
    this.#collection = collection;
    this.#ctx = contextOf(collection.database.client);
    this.#kind = source.kind;
    let o: FindOptions | AggregateOptions | CommandCursorOptions;
    if (source.kind === "find") {
      const f = checkOptions(source.options, "find options");
      o = f;
      this.#filter = checkDocument(source.filter, "the find filter");
      this.#find = f;
      this.#findFields = findCommandOptions(f);
      if (f.batchSize !== undefined) this.batchSize(f.batchSize);
      if (f.limit !== undefined) this.limit(f.limit);
      if (f.skip !== undefined) this.skip(f.skip);
      if (f.sort !== undefined) this.sort(f.sort);
      if (f.projection !== undefined) this.project(f.projection);
    } else if (source.kind === "command") {
      o = checkOptions(source.options, "cursor options");
      checkOptionNames(o, COMMAND_CURSOR_OPTIONS, "cursor option");
      this.#commandDoc = checkDocument(source.command, "the cursor command");
      this.#commandRawData = checkBoolean(source.rawData, "rawData");
      this.#commandRetryable = source.retryable !== false;
      if (source.getMore !== undefined) {
        checkInt(source.getMore.maxTimeMS, "maxTimeMS", 0);
        this.#commandGetMore = source.getMore;
      }
      if (o.batchSize !== undefined) this.batchSize(o.batchSize);
    } else {
      o = checkOptions(source.options, "aggregate options");
      this.#pipeline = source.pipeline;
      this.#onDatabase = source.database === true;
      this.#aggregate = o;
      this.#aggregateFields = aggregateCommandOptions(o);
      if (o.batchSize !== undefined) this.batchSize(o.batchSize);
    }
    checkInt((o as AggregateOptions).maxTimeMS, "maxTimeMS", 0);
    const rp = o.readPreference;
    const command = source.kind === "command";
    this.#signal = checkSignal(o.signal);
    const writes = this.#writesOutput();
    // An aggregate that writes ($out, $merge) keeps its read preference: execute() applies it only where every
    // server is 5.0+ (crud.md), else selects the primary.
    this.#readPreference = rp === undefined
      ? (command ? ReadPreference.PRIMARY : collection.readPreference)
      : ReadPreference.from(rp);
    // A command cursor takes only the read concern its source names (a change stream's); an aggregate that
    // writes ($out, $merge) takes one (read-write-concern.md), from MongoDB 4.2 on (see #plan).
    const rc = (o as AggregateOptions).readConcern;
    this.#readConcern = source.kind === "command"
      ? (source.readConcern === undefined ? undefined : checkReadConcern(source.readConcern))
      : rc === undefined
      ? collection.readConcern
      : checkReadConcern(rc);
    this.#timeoutMS = o.timeoutMS === undefined ? collection.timeoutMS : checkInt(o.timeoutMS, "timeoutMS", 0);
    if (o.timeoutMode !== undefined) {
      if (o.timeoutMode !== "cursorLifetime" && o.timeoutMode !== "iteration") {
        throw new ConfigurationError(`timeoutMode must be "cursorLifetime" or "iteration", got ${show(o.timeoutMode)}`);
      }
      if (this.#timeoutMS === undefined) throw new ConfigurationError("timeoutMode needs timeoutMS");
      if (o.timeoutMode === "iteration" && writes) {
        throw new ConfigurationError(`timeoutMode "iteration" cannot be used with a $out or $merge pipeline`);
      }
    }
    this.#timeoutMode = o.timeoutMode ?? "cursorLifetime";
    this.#state = {
      id: 0n,
      ns: collection.namespace,
      server: null,
      legacy: false,
      ctx: this.#ctx,
      timeoutMS: this.#timeoutMS,
      session: checkSession(o.session, this.#ctx, o),
    };
  }

  #writesOutput(): boolean {
    if (this.#kind !== "aggregate" || this.#pipeline.length === 0) return false;
    const last = this.#pipeline[this.#pipeline.length - 1];
    return isDocument(last) && ("$out" in last || "$merge" in last);
  }

  #unstarted(method: string): void {
    if (this.#started || this.#closed) {
      throw new MongoError(`${method}() cannot change a cursor that has already been used or closed`);
    }
  }

  /** Documents per batch (0 = the server's default). Returns the cursor; only before the first read. */
  batchSize(n: number): this {
    this.#unstarted("batchSize");
    this.#batchSize = checkInt(n, "batchSize", 0)!;
    return this;
  }

  /** Return at most `n` documents in all (0 = no limit). Returns the cursor; only before the first read. */
  limit(n: number): this {
    this.#unstarted("limit");
    if (this.#kind !== "find") throw new ConfigurationError("limit() applies to find cursors; use a $limit stage");
    this.#limit = checkInt(n, "limit", 0)!;
    return this;
  }

  /** Skip the first `n` matching documents. Returns the cursor; only before the first read. */
  skip(n: number): this {
    this.#unstarted("skip");
    if (this.#kind !== "find") throw new ConfigurationError("skip() applies to find cursors; use a $skip stage");
    this.#skip = checkInt(n, "skip", 0)!;
    return this;
  }

  /** Sort order, e.g. `{age: -1}`. Returns the cursor; only before the first read. */
  sort(spec: Document): this {
    this.#unstarted("sort");
    if (this.#kind !== "find") throw new ConfigurationError("sort() applies to find cursors; use a $sort stage");
    this.#sort = checkDocument(spec, "the sort specification");
    return this;
  }

  /**
   * Fields to return, e.g. `{name: 1}`; the result type changes to `U`.
   * Returns the cursor; only before the first read.
   */
  project<U = Document>(projection: Document): Cursor<U> {
    this.#unstarted("project");
    if (this.#kind !== "find") throw new ConfigurationError("project() applies to find cursors; use a $project stage");
    this.#projection = checkDocument(projection, "the projection");
    return this as unknown as Cursor<U>;
  }

  /** Whether the cursor is closed (read to its end, or closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The server-side cursor id (`0n` before the first batch and once exhausted). */
  get id(): bigint {
    return this.#state.id;
  }

  /**
   * How many documents are buffered: read without a round trip.
   *
   * @example
   * ```ts ignore
   * const cursor = people.find().batchSize(10);
   * await cursor.next();
   * console.log(cursor.bufferedCount()); // up to 9
   * ```
   */
  bufferedCount(): number {
    return this.#buffer.length - this.#position;
  }

  /** The address of the server that runs the query, once known. */
  get address(): string | null {
    return this.#state.server?.address ?? null;
  }

  /**
   * The next document, or `null` at the end.
   *
   * @example
   * ```ts ignore
   * const cursor = people.find();
   * let doc;
   * while ((doc = await cursor.next()) !== null) console.log(doc);
   * ```
   */
  async next(options: CursorReadOptions = {}): Promise<T | null> {
    const signal = checkSignal(checkOptions(options, "next options").signal) ?? this.#signal;
    while (this.#position >= this.#buffer.length) {
      if (this.#closed) return null;
      if (this.#pending === null && this.#started && this.#state.id === 0n) {
        this.#finish();
        return null;
      }
      await this.#fetch(signal);
    }
    const doc = this.#buffer[this.#position++];
    if (this.#position === this.#buffer.length) {
      this.#buffer = [];
      this.#position = 0;
    }
    return doc as T;
  }

  /**
   * The next document if one is buffered or comes with at most one round
   * trip, else `null` with the cursor left open: for a `tailable` cursor,
   * where `next()` would wait for new data (on an `awaitData` cursor each
   * round trip waits up to `maxAwaitTimeMS` on the server).
   *
   * @example
   * ```ts ignore
   * const log = db.collection("log").find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 500 });
   * const entry = await log.tryNext(); // null if nothing was added within ~500 ms
   * ```
   */
  async tryNext(options: CursorReadOptions = {}): Promise<T | null> {
    const signal = checkSignal(checkOptions(options, "tryNext options").signal) ??
      this.#signal;
    if (this.#position >= this.#buffer.length) {
      if (this.#closed) return null;
      if (this.#pending === null && this.#started && this.#state.id === 0n) {
        this.#finish();
        return null;
      }
      await this.#fetch(signal);
      if (this.#position >= this.#buffer.length) return null;
    }
    const doc = this.#buffer[this.#position++];
    if (this.#position === this.#buffer.length) {
      this.#buffer = [];
      this.#position = 0;
    }
    return doc as T;
  }

  /**
   * Whether another document is available (fetching the next batch if needed).
   *
   * @example
   * ```ts ignore
   * const cursor = people.find();
   * while (await cursor.hasNext()) console.log(await cursor.next());
   * ```
   */
  async hasNext(options: CursorReadOptions = {}): Promise<boolean> {
    const signal = checkSignal(checkOptions(options, "hasNext options").signal) ?? this.#signal;
    while (this.#position >= this.#buffer.length) {
      if (this.#closed) return false;
      if (this.#pending === null && this.#started && this.#state.id === 0n) {
        this.#finish();
        return false;
      }
      await this.#fetch(signal);
    }
    return true;
  }

  /**
   * Every remaining document, in order; the cursor is then exhausted.
   *
   * @example
   * ```ts ignore
   * const adults = await people.find({ age: { $gte: 18 } }).toArray();
   * ```
   */
  async toArray(options: CursorReadOptions = {}): Promise<T[]> {
    const out: T[] = [];
    try {
      for (;;) {
        const doc = await this.next(options);
        if (doc === null) return out;
        out.push(doc);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /**
   * Iterates the remaining documents. Leaving the loop early (`break`,
   * `return`, a throw) closes the cursor and kills it on the server.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        const doc = await this.next();
        if (doc === null) return;
        yield doc;
      }
    } finally {
      await this.close();
    }
  }

  /**
   * Closes the cursor; if the server still holds it, kills it there
   * (`killCursors` on the server that ran the query). Idempotent; never
   * throws (a failed kill is left to the server's idle timeout).
   *
   * @example
   * ```ts ignore
   * const cursor = people.find().batchSize(10);
   * console.log(await cursor.next());
   * await cursor.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#pending !== null) {
      try {
        await this.#pending;
      } catch {
        // The fetch's own caller gets its error.
      }
    }
    this.#started = true;
    this.#closed = true;
    this.#buffer = [];
    this.#position = 0;
    abandoned?.unregister(this);
    await killServerCursor(this.#state);
  }

  /** An exhausted cursor: nothing left on the server. */
  #finish(): void {
    this.#closed = true;
    this.#started = true;
    abandoned?.unregister(this);
  }

  async #fetch(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pending !== null) {
      // Another next() is fetching: wait for its batch (its caller gets its error).
      await this.#pending.catch(() => {});
      return;
    }
    this.#pending = this.#started ? this.#getMore(signal) : this.#initial(signal);
    try {
      await this.#pending;
    } catch (e) {
      // The server cursor may be gone (or unreachable); stop here.
      const state = this.#state;
      this.#finish();
      if (!(e instanceof OperationFailure && e.code === ErrorCode.CursorNotFound)) void killServerCursor(state);
      else {
        state.id = 0n;
        releaseSession(state);
      }
      throw e;
    } finally {
      this.#pending = null;
    }
  }

  #take(batch: unknown, id: unknown): void {
    const docs = Array.isArray(batch) ? batch as Document[] : [];
    this.#state.id = cursorId(id);
    this.#returned += docs.length;
    if (this.#limit > 0 && this.#returned >= this.#limit) {
      // The server may not close a cursor that reached its limit exactly on a
      // batch boundary (legacy OP_QUERY never does); the limit is ours to keep.
      if (this.#returned > this.#limit) docs.length -= this.#returned - this.#limit;
      if (this.#state.id !== 0n) void killServerCursor(this.#state);
      this.#state.id = 0n;
    }
    this.#buffer = docs;
    this.#position = 0;
  }

  async #initial(signal: AbortSignal | undefined): Promise<void> {
    this.#started = true;
    const writes = this.#writesOutput();
    const iteration = this.#timeoutMode === "iteration";
    // cursorLifetime: the initial command and every getMore share one deadline.
    this.#deadline = iteration ? undefined : Deadline.of(this.#timeoutMS);
    await execute(this.#ctx, {
      name: this.#kind === "command" ? Object.keys(this.#commandDoc)[0] : this.#kind,
      db: this.#collection.database.name,
      kind: writes ? "write" : "read",
      readPreference: this.#readPreference,
      writeStage: writes,
      retryable: !writes && (this.#kind !== "command" || this.#commandRetryable),
      readConcern: this.#readConcern,
      session: this.#state.session ??= new ClientSession(this.#ctx.client, undefined, true),
      writeConcern: writes ? this.#collection.writeConcern : undefined,
      writeConcernMinWireVersion: 5,
      timeoutMS: this.#timeoutMS,
      deadline: this.#deadline,
      maxTimeMS: !iteration,
      signal,
      plan: (server) => this.#plan(server),
    });
    if (this.#state.id !== 0n) abandoned?.register(this, this.#state, this);
    else releaseSession(this.#state);
  }

  /** One attempt of the initial command on `server`. */
  #plan(server: ServerLike): Plan<void> {
    this.#state.server = server;
    const observer = observers.get(this);
    if (observer?.namespace !== undefined) this.#state.ns = observer.namespace;
    const legacy = server.description.maxWireVersion < FIND_COMMAND_WIRE_VERSION;
    if (this.#kind === "find" && legacy) {
      return { run: (s) => s.withConnection((conn) => this.#legacyFind(conn)) };
    }
    this.#state.legacy = legacy;
    const wire = server.description.maxWireVersion;
    if (this.#readConcern?.level !== undefined && wire < 8 && this.#writesOutput()) {
      throw new ConfigurationError(
        `readConcern on an aggregate with $out or $merge needs MongoDB 4.2 or later (wire version 8); the server's maxWireVersion is ${wire}`,
      );
    }
    return {
      command: this.#kind === "find"
        ? withRawData(this.#findCommand(), this.#find.rawData, wire)
        : this.#kind === "aggregate"
        ? withRawData(this.#aggregateCommand(), this.#aggregate.rawData, wire)
        : withRawData(this.#commandDoc, this.#commandRawData, wire),
      parse: (reply) => {
        observer?.reply(reply, server.description.maxWireVersion);
        const cursor = isDocument(reply.cursor) ? reply.cursor : {};
        if (typeof cursor.ns === "string" && cursor.ns.includes(".")) this.#state.ns = cursor.ns;
        this.#take(cursor.firstBatch, cursor.id);
      },
    };
  }

  #findCommand(): Document {
    const cmd: Document = { find: this.#collection.name, filter: this.#filter };
    if (this.#sort !== undefined) cmd.sort = this.#sort;
    if (this.#projection !== undefined) cmd.projection = this.#projection;
    if (this.#skip > 0) cmd.skip = this.#skip;
    if (this.#limit > 0) cmd.limit = this.#limit;
    // crud.md: batchSize equal to limit asks for one more, so the server closes the cursor with that batch.
    if (this.#batchSize > 0) cmd.batchSize = this.#batchSize === this.#limit ? this.#limit + 1 : this.#batchSize;
    return Object.assign(cmd, this.#findFields);
  }

  #aggregateCommand(): Document {
    const cursor: Document = {};
    if (this.#batchSize > 0 && !this.#writesOutput()) cursor.batchSize = this.#batchSize;
    const aggregate = this.#onDatabase ? 1 : this.#collection.name;
    return { aggregate, pipeline: this.#pipeline, cursor, ...this.#aggregateFields };
  }

  /** How many documents to ask for next: the batch size, capped by what the limit leaves. */
  #nextBatchSize(): number {
    if (this.#limit === 0) return this.#batchSize;
    const left = this.#limit - this.#returned;
    return this.#batchSize === 0 ? left : Math.min(this.#batchSize, left);
  }

  /** OP_QUERY on the collection (servers below 3.2). */
  async #legacyFind(conn: PinnedConnection): Promise<void> {
    const o = this.#find;
    this.#state.legacy = true;
    if (this.#readConcern?.level !== undefined) {
      throw new ConfigurationError(
        `readConcern level ${JSON.stringify(this.#readConcern.level)} needs MongoDB 3.2 or later (wire version 4); ` +
          `the server's maxWireVersion is ${conn.conn.maxWireVersion}`,
      );
    }
    const modifiers: Document = {};
    if (this.#sort !== undefined) modifiers.$orderby = this.#sort;
    if (o.hint !== undefined) modifiers.$hint = o.hint;
    const maxTimeMS = this.#timeoutMode === "iteration" ? undefined : conn.maxTimeMS(o.maxTimeMS);
    if (maxTimeMS !== undefined) modifiers.$maxTimeMS = maxTimeMS;
    if (o.comment !== undefined) modifiers.$comment = o.comment;
    if (o.min !== undefined) modifiers.$min = o.min;
    if (o.max !== undefined) modifiers.$max = o.max;
    if (o.returnKey === true) modifiers.$returnKey = true;
    if (o.showRecordId === true) modifiers.$showDiskLoc = true;
    for (const name of ["collation", "let"] as const) {
      if (o[name] !== undefined) {
        throw new ConfigurationError(
          `${name} needs the find command (MongoDB 3.4+); the server's maxWireVersion is ${conn.conn.maxWireVersion}`,
        );
      }
    }
    let flags = 0;
    if (o.tailable === true) flags |= TAILABLE_CURSOR;
    if (o.awaitData === true) flags |= AWAIT_DATA;
    if (o.noCursorTimeout === true) flags |= NO_CURSOR_TIMEOUT;
    if (o.allowPartialResults === true) flags |= PARTIAL;
    const query = Object.keys(modifiers).length > 0 ? { $query: this.#filter, ...modifiers } : this.#filter;
    let numberToReturn = this.#nextBatchSize();
    // A negative numberToReturn asks for one batch and no cursor.
    if (o.singleBatch === true) numberToReturn = -Math.abs(numberToReturn || 1);
    // Reads from a non-primary need the SecondaryOk bit; on a direct
    // connection the one member answers whatever the preference.
    const secondaryOk = this.#readPreference.mode !== "primary" || this.#ctx.description.type === "Single";
    const reply = await conn.conn.query(this.#state.ns, query, {
      skip: this.#skip,
      numberToReturn,
      secondaryOk,
      flags,
      fields: this.#projection,
      ...conn.wire,
    });
    this.#take(reply.documents, o.singleBatch === true ? 0n : reply.cursorId);
  }

  async #getMore(signal: AbortSignal | undefined): Promise<void> {
    const state = this.#state;
    const server = state.server;
    if (server === null || state.id === 0n) return;
    const dot = state.ns.indexOf(".");
    const db = state.ns.slice(0, dot);
    const coll = state.ns.slice(dot + 1);
    const batchSize = this.#nextBatchSize();
    const id = state.id;
    // A tailable awaitData cursor's getMore waits up to maxAwaitTimeMS for new documents.
    const observer = observers.get(this);
    const awaitMS = this.#find.awaitData === true
      ? this.#find.maxAwaitTimeMS
      : observer?.maxAwaitTimeMS ?? this.#commandGetMore.maxTimeMS;
    // No read concern, no maxTimeMS; cursorLifetime: the cursor's deadline,
    // iteration: a fresh timeoutMS for this call.
    await execute(this.#ctx, {
      name: "getMore",
      db,
      kind: "read",
      retryable: false,
      server,
      session: state.session,
      timeoutMS: this.#timeoutMS,
      deadline: this.#deadline,
      maxTimeMS: false,
      signal,
      plan: () => ({
        run: (s) =>
          s.withConnection(async (conn) => {
            if (state.legacy) {
              const reply = await conn.conn.getMore(state.ns, id, batchSize, conn.wire);
              this.#take(reply.documents, reply.cursorId);
              return;
            }
            const cmd: Document = { getMore: id, collection: coll };
            if (batchSize > 0) cmd.batchSize = batchSize;
            if (awaitMS !== undefined) cmd.maxTimeMS = awaitMS;
            // crud.md: the find or aggregate comment goes on each getMore too, for servers (4.4+) that take any value.
            const comment = this.#kind === "find"
              ? this.#find.comment
              : this.#kind === "aggregate"
              ? this.#aggregate.comment
              : this.#commandGetMore.comment;
            if (comment !== undefined && conn.conn.maxWireVersion >= GETMORE_COMMENT_WIRE_VERSION) cmd.comment = comment;
            const reply = await conn.command(cmd);
            observer?.reply(reply, server.description.maxWireVersion);
            const cursor = isDocument(reply.cursor) ? reply.cursor : {};
            this.#take(cursor.nextBatch, cursor.id);
          }),
      }),
    });
    releaseSession(state);
  }
}
