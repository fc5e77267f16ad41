/**
 * Change streams (`specs/change-streams/change-streams.md`): `watch()` on a
 * collection, a database or the client opens an `aggregate` whose first stage
 * is `$changeStream`, read through a {@linkcode Cursor} with `getMore`s that
 * wait up to `maxAwaitTimeMS` on the server. The stream keeps the resume
 * token and resumes once on a resumable error.
 *
 * @module
 */

import { ChangeStreamError, ConfigurationError, ConnectionFailure, OperationFailure, PoolClosedError, WireProtocolError } from "../errors.ts";
import { type Document, Timestamp } from "../bson/mod.ts";
import { ReadPreference, type ReadPreferenceLike } from "../topology/read_preference.ts";
import { checkDocument, checkInt, checkOptions, checkSignal, isDocument, show } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import { Cursor, type CursorReadOptions, observeCursor } from "./cursor.ts";
import type { Collection } from "./collection.ts";
import type { Database } from "./database.ts";
import type { ChangeStreamDocument, ResumeToken } from "./change_stream_document.ts";

export type {
  ChangeStreamDocument,
  ChangeStreamDocumentChange,
  ChangeStreamEventBase,
  ChangeStreamInvalidate,
  ChangeStreamNamespaceChange,
  ChangeStreamNameSpace,
  ResumeToken,
  UpdateDescription,
} from "./change_stream_document.ts";

/**
 * Options of `watch()` on a collection, a database or the client.
 *
 * @example
 * ```ts
 * import type { ChangeStreamOptions } from "@zerodep/mongo";
 *
 * const options: ChangeStreamOptions = { fullDocument: "updateLookup", maxAwaitTimeMS: 500 };
 * ```
 */
export interface ChangeStreamOptions {
  /** `updateLookup`, `whenAvailable` or `required` add the current document to `update` events (default: not sent). */
  readonly fullDocument?: "default" | "updateLookup" | "whenAvailable" | "required";
  /** `whenAvailable` or `required` add the pre-image (MongoDB 6.0+, `changeStreamPreAndPostImages` on). */
  readonly fullDocumentBeforeChange?: "whenAvailable" | "required" | "off";
  /** Start after this resume token (not after an `invalidate`: use `startAfter`). */
  readonly resumeAfter?: ResumeToken;
  /** Start after this resume token, which may be an `invalidate`'s. */
  readonly startAfter?: ResumeToken;
  /** Start with the changes at or after this cluster time. */
  readonly startAtOperationTime?: Timestamp;
  /** Events per batch (the aggregate's `cursor.batchSize` and each getMore's). */
  readonly batchSize?: number;
  /** How long each getMore waits on the server for a change (its `maxTimeMS`; server default 1000). */
  readonly maxAwaitTimeMS?: number;
  /** The collation of the stream's pipeline stages (`$match` on strings). */
  readonly collation?: Document;
  /** Sent with the aggregate (any BSON value on MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Also report DDL events (`create`, `createIndexes`, `modify`, ...; MongoDB 6.0+). */
  readonly showExpandedEvents?: boolean;
  /** Where the stream runs (default: inherited from the collection, database or client), also on resume. */
  readonly readPreference?: ReadPreferenceLike;
  /** Cancels every round trip of the stream; an aborted read closes the stream. */
  readonly signal?: AbortSignal;
}

const OPTION_NAMES: ReadonlySet<string> = new Set([
  "fullDocument",
  "fullDocumentBeforeChange",
  "resumeAfter",
  "startAfter",
  "startAtOperationTime",
  "batchSize",
  "maxAwaitTimeMS",
  "collation",
  "comment",
  "showExpandedEvents",
  "readPreference",
  "signal",
]);

const FULL_DOCUMENT = ["default", "updateLookup", "whenAvailable", "required"];
const FULL_DOCUMENT_BEFORE_CHANGE = ["whenAvailable", "required", "off"];

// Resumable server errors below wire version 9 (MongoDB 4.4), by code.
// deno-fmt-ignore
const RESUMABLE_CODES: ReadonlySet<number> = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133,
]);

/** `CursorNotFound`: always resumable. */
const CURSOR_NOT_FOUND = 43;

/**
 * Whether the spec's "Resumable Error" rules let a change stream resume after
 * `error`, raised by a getMore on a server of wire version `wire`.
 */
function isResumable(error: unknown, wire: number): boolean {
  if (error instanceof OperationFailure) {
    if (error.code === CURSOR_NOT_FOUND) return true;
    return wire >= 9
      ? error.hasErrorLabel("ResumableChangeStreamError")
      : error.code !== undefined && RESUMABLE_CODES.has(error.code);
  }
  // Not a server error: a network error or a timeout on the connection.
  if (error instanceof PoolClosedError) return false; // the client was closed
  return error instanceof ConnectionFailure || error instanceof WireProtocolError;
}

/** What a stream watches: a collection, a database, or every database (`allChangesForCluster`). */
type Target =
  | { readonly kind: "collection"; readonly collection: Collection<Document> }
  | { readonly kind: "database" | "cluster"; readonly db: Database };

function checkChoice(value: unknown, name: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${show(value)}`);
  if (!allowed.includes(value)) {
    throw new ConfigurationError(`${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${show(value)}`);
  }
}

/**
 * A change stream: the changes to a collection, a database or the whole
 * deployment, in order, from `watch()`. Read it with `for await` (leaving the
 * loop closes it and kills its server cursor), `next()` (waits for a change)
 * or `tryNext()` (at most one round trip, for polling the resume token).
 *
 * The stream keeps {@linkcode ChangeStream.resumeToken}: the `_id` of the last
 * change returned, or the server's `postBatchResumeToken` once a batch is
 * read to its end (so the token advances even while nothing changes). To
 * store a token that lets a later `watch({ resumeAfter })` continue exactly
 * where this one stopped, read it after every `next()` or `tryNext()`.
 *
 * On a resumable error of a getMore (a network error, `CursorNotFound`, or a
 * server error labelled `ResumableChangeStreamError`; on servers before 4.4
 * the specification's list of codes) the stream resumes once by itself:
 * it selects a server again with its read preference (a new primary after a
 * failover) and reopens the stream after its resume token (`resumeAfter`, or
 * `startAfter` if it started with `startAfter` and returned nothing yet;
 * without a token, at the operation time of its first aggregate). No change is
 * lost or repeated. If that reopening fails, or any other error happens, the
 * error is thrown and the stream is closed.
 *
 * Nothing is sent until {@linkcode ChangeStream.start} or the first read:
 * call `start()` before making the changes you want to see.
 *
 * @example
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * const items = c.db("shop").collection<{ name: string }>("items");
 * await using stream = await items.watch([{ $match: { operationType: "insert" } }]).start();
 * await items.insertOne({ name: "lamp" });
 * for await (const change of stream) {
 *   if (change.operationType === "insert") console.log(change.fullDocument?.name); // "lamp"
 *   break; // closes the stream
 * }
 * ```
 */
export class ChangeStream<T = Document, E = ChangeStreamDocument<T>> {
  #target: Target;
  #pipeline: readonly Document[];
  #options: ChangeStreamOptions;
  #readPreference: ReadPreference;
  #signal: AbortSignal | undefined;
  /** The `$changeStream` stage's options as first given. */
  #stage: Document;
  #cursor: Cursor<Document> | null = null;
  /** Whether the current cursor's aggregate has answered. */
  #opened = false;
  /** The wire version of the server of the current cursor's last reply. */
  #wire = 0;
  /** The current batch's `postBatchResumeToken`. */
  #postBatchToken: ResumeToken | undefined;
  #resumeToken: ResumeToken | null;
  /** `startAtOperationTime` given, or saved from the first aggregate. */
  #operationTime: Timestamp | undefined;
  /** A change read by `start()` and not returned yet. */
  #peeked: Document | null = null;
  #returnedAny = false;
  /** Whether an aggregate was prepared before (the next one resumes). */
  #everOpened = false;
  #closed = false;

  /**
   * Prefer `collection.watch()`, `db.watch()` or `conn.watch()`.
   *
   * @throws {ConfigurationError} for an unknown option or a bad value.
   * @throws {TypeError} for an option of the wrong type.
   */
  constructor(
    parent: Collection<Document> | Database,
    pipeline: readonly Document[] = [],
    options: ChangeStreamOptions = {},
    scope: "cluster" | undefined = undefined,
  ) {
    const target: Target = "database" in parent
      ? { kind: "collection", collection: parent }
      : { kind: scope === "cluster" ? "cluster" : "database", db: parent };
    if (!Array.isArray(pipeline)) throw new TypeError(`the change stream pipeline must be an array, got ${show(pipeline)}`);
    pipeline.forEach((s, i) => checkDocument(s, `pipeline stage ${i}`));
    const o = checkOptions(options, "change stream options");
    checkOptionNames(o, OPTION_NAMES, "change stream option");
    checkChoice(o.fullDocument, "fullDocument", FULL_DOCUMENT);
    checkChoice(o.fullDocumentBeforeChange, "fullDocumentBeforeChange", FULL_DOCUMENT_BEFORE_CHANGE);
    if (o.resumeAfter !== undefined) checkDocument(o.resumeAfter, "resumeAfter");
    if (o.startAfter !== undefined) checkDocument(o.startAfter, "startAfter");
    if (o.startAtOperationTime !== undefined && !(o.startAtOperationTime instanceof Timestamp)) {
      throw new TypeError(`startAtOperationTime must be a Timestamp, got ${show(o.startAtOperationTime)}`);
    }
    if (o.showExpandedEvents !== undefined && typeof o.showExpandedEvents !== "boolean") {
      throw new TypeError(`showExpandedEvents must be a boolean, got ${show(o.showExpandedEvents)}`);
    }
    if (o.collation !== undefined) checkDocument(o.collation, "collation");
    checkInt(o.batchSize, "batchSize", 0);
    checkInt(o.maxAwaitTimeMS, "maxAwaitTimeMS", 0);
    this.#signal = checkSignal(o.signal);
    this.#target = target;
    this.#pipeline = pipeline;
    this.#options = o;
    const level = target.kind === "collection" ? target.collection : target.db;
    this.#readPreference = o.readPreference === undefined ? level.readPreference : ReadPreference.from(o.readPreference);
    const stage: Document = {};
    for (const k of ["fullDocument", "fullDocumentBeforeChange", "resumeAfter", "startAfter", "startAtOperationTime"] as const) {
      if (o[k] !== undefined) stage[k] = o[k];
    }
    if (target.kind === "cluster") stage.allChangesForCluster = true;
    if (o.showExpandedEvents !== undefined) stage.showExpandedEvents = o.showExpandedEvents;
    this.#stage = stage;
    this.#resumeToken = o.startAfter ?? o.resumeAfter ?? null;
    this.#operationTime = o.startAtOperationTime;
  }

  /**
   * The token to resume after the last change returned (or after the last
   * batch read, when the server sent a `postBatchResumeToken`); `null` before
   * any (unless the stream started with `resumeAfter` or `startAfter`).
   *
   * @example
   * ```ts ignore
   * const change = await stream.tryNext();
   * await saveToken(stream.resumeToken); // later: coll.watch([], { resumeAfter: token })
   * ```
   */
  get resumeToken(): ResumeToken | null {
    return this.#resumeToken;
  }

  /** Whether the stream is closed (by `close()`, an error, or the server after an `invalidate`). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Opens the stream on the server now (the aggregate) unless it is open:
   * changes made after it resolves are seen. Returns the stream.
   *
   * @throws {OperationFailure} when the server refuses the stream (then closed).
   * @example
   * ```ts ignore
   * const stream = await people.watch().start();
   * await people.insertOne({ name: "Ada" });
   * console.log((await stream.next())?.operationType); // "insert"
   * ```
   */
  async start(options: CursorReadOptions = {}): Promise<this> {
    const signal = checkSignal(checkOptions(options, "start options").signal) ?? this.#signal;
    if (this.#closed || this.#opened || this.#peeked !== null) return this;
    this.#peeked = await this.#read(signal, false);
    return this;
  }

  /**
   * The next change; waits for one. `null` once the stream has ended (the
   * server closed it after an `invalidate`, or it was closed).
   *
   * @example
   * ```ts ignore
   * const change = await stream.next();
   * console.log(change?.operationType);
   * ```
   */
  async next(options: CursorReadOptions = {}): Promise<E | null> {
    const signal = checkSignal(checkOptions(options, "next options").signal) ?? this.#signal;
    return this.#deliver(await this.#take(signal, true)) as E | null;
  }

  /**
   * The next change if one comes with at most one round trip (a getMore waits
   * up to `maxAwaitTimeMS` on the server), else `null`, the stream left open:
   * the way to keep `resumeToken` current while nothing changes.
   *
   * @example
   * ```ts ignore
   * for (;;) {
   *   const change = await stream.tryNext();
   *   if (change !== null) handle(change);
   *   await saveToken(stream.resumeToken);
   * }
   * ```
   */
  async tryNext(options: CursorReadOptions = {}): Promise<E | null> {
    const signal = checkSignal(checkOptions(options, "tryNext options").signal) ?? this.#signal;
    return this.#deliver(await this.#take(signal, false)) as E | null;
  }

  /**
   * Whether another change comes (waits for one); false once the stream has ended.
   *
   * @example
   * ```ts ignore
   * while (await stream.hasNext()) console.log(await stream.next());
   * ```
   */
  async hasNext(options: CursorReadOptions = {}): Promise<boolean> {
    const signal = checkSignal(checkOptions(options, "hasNext options").signal) ?? this.#signal;
    this.#peeked ??= await this.#read(signal, true);
    return this.#peeked !== null;
  }

  /**
   * Iterates the changes as they come. Leaving the loop (`break`, `return`,
   * a throw) closes the stream and kills its server cursor.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<E, void, undefined> {
    try {
      for (;;) {
        const change = await this.next();
        if (change === null) return;
        yield change;
      }
    } finally {
      await this.close();
    }
  }

  /**
   * Closes the stream and kills its server cursor. Idempotent; never throws.
   *
   * @example
   * ```ts ignore
   * const stream = await items.watch().start();
   * await stream.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#peeked = null;
    const cursor = this.#cursor;
    this.#cursor = null;
    await cursor?.close();
  }

  /** Closes the stream (`await using stream = coll.watch()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The change read ahead by `start()` or `hasNext()`, else the next one read. */
  async #take(signal: AbortSignal | undefined, block: boolean): Promise<Document | null> {
    const peeked = this.#peeked;
    this.#peeked = null;
    return peeked ?? await this.#read(signal, block);
  }

  /**
   * The next change from the server (or `null`): waiting for it (`block`),
   * or after at most one getMore (and the aggregate of a resume).
   */
  async #read(signal: AbortSignal | undefined, block: boolean): Promise<Document | null> {
    for (;;) {
      if (this.#closed) return null;
      const cursor = this.#cursor ??= this.#open();
      let doc: Document | null;
      try {
        doc = block ? await cursor.next({ signal }) : await cursor.tryNext({ signal });
      } catch (e) {
        // Only a getMore's error may be resumable; the aggregate's is thrown.
        if (this.#closed || !this.#opened || !isResumable(e, this.#wire)) {
          await this.close();
          throw e;
        }
        this.#cursor = null;
        await cursor.close(); // the server cursor, if any, is killed on its own server
        this.#open();
        continue;
      }
      if (doc !== null) return doc;
      if (cursor.closed) {
        // The server ended the stream (after an invalidate).
        await this.close();
        return null;
      }
      if (!block) return null;
    }
  }

  /** Returns a change to the caller: its token becomes the resume token. */
  #deliver(doc: Document | null): Document | null {
    if (doc === null) return null;
    if (!isDocument(doc._id)) {
      void this.close();
      throw new ChangeStreamError(
        "Cannot provide resume functionality when the resume token is missing: " +
          "a change came without its _id; keep _id in the change stream's pipeline",
      );
    }
    const last = (this.#cursor?.bufferedCount() ?? 0) === 0;
    this.#resumeToken = last && this.#postBatchToken !== undefined ? this.#postBatchToken : doc._id;
    this.#returnedAny = true;
    return doc;
  }

  /** A cursor for the aggregate: the first, or a resume after the cached token. */
  #open(): Cursor<Document> {
    const stage = { ...this.#stage };
    const resuming = this.#everOpened;
    this.#everOpened = true;
    if (resuming) {
      delete stage.resumeAfter;
      delete stage.startAfter;
      delete stage.startAtOperationTime;
      if (this.#resumeToken !== null) {
        if (this.#options.startAfter !== undefined && !this.#returnedAny) stage.startAfter = this.#resumeToken;
        else stage.resumeAfter = this.#resumeToken;
      } else if (this.#operationTime !== undefined) {
        stage.startAtOperationTime = this.#operationTime;
      }
    }
    const o = this.#options;
    const cursorDoc: Document = o.batchSize !== undefined ? { batchSize: o.batchSize } : {};
    const target = this.#target;
    const command: Document = {
      aggregate: target.kind === "collection" ? target.collection.name : 1,
      pipeline: [{ $changeStream: stage }, ...this.#pipeline],
      cursor: cursorDoc,
    };
    if (o.collation !== undefined) command.collation = o.collation;
    if (o.comment !== undefined) command.comment = o.comment;
    const db = target.kind === "collection" ? target.collection.database : target.db;
    // The cursor needs a collection for its database and inherited settings;
    // a database-level stream's namespace comes from the server's reply.
    const source = target.kind === "collection" ? target.collection : db.collection("changeStream");
    const level = target.kind === "collection" ? target.collection : target.db;
    const cursor = new Cursor<Document>(source, {
      kind: "command",
      command,
      // change-streams.md: the read concern of the collection, database or client (read-write-concern.md).
      readConcern: level.readConcern,
      options: {
        readPreference: this.#readPreference,
        ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
        ...(this.#signal !== undefined ? { signal: this.#signal } : {}),
        // An inherited timeoutMS bounds each round trip, not the stream's life.
        ...(source.timeoutMS !== undefined ? { timeoutMode: "iteration" as const } : {}),
      },
    });
    this.#opened = false;
    this.#postBatchToken = undefined;
    const first = !resuming;
    observeCursor(cursor, {
      ...(target.kind === "collection" ? {} : { namespace: `${db.name}.$cmd.aggregate` }),
      ...(o.maxAwaitTimeMS !== undefined ? { maxAwaitTimeMS: o.maxAwaitTimeMS } : {}),
      reply: (reply, wire) => {
        if (this.#cursor !== cursor) return;
        const opening = !this.#opened;
        this.#opened = true;
        this.#wire = wire;
        const c = isDocument(reply.cursor) ? reply.cursor : {};
        const batch = Array.isArray(c.firstBatch) ? c.firstBatch : Array.isArray(c.nextBatch) ? c.nextBatch : [];
        const token = isDocument(c.postBatchResumeToken) ? c.postBatchResumeToken : undefined;
        this.#postBatchToken = token;
        if (batch.length === 0 && token !== undefined) this.#resumeToken = token;
        if (
          opening && first && batch.length === 0 && token === undefined && this.#resumeToken === null &&
          this.#operationTime === undefined && reply.operationTime instanceof Timestamp
        ) {
          this.#operationTime = reply.operationTime;
        }
      },
    });
    this.#cursor = cursor;
    return cursor;
  }
}
