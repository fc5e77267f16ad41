/**
 * The in-memory data of one simulated member: databases of collections of
 * documents, the low-level changes that replication replays (oplog entries),
 * and server-side cursors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "./store.ts";
 *
 * const store = new Store();
 * store.apply({ op: "i", ns: "test.people", doc: { _id: 1, name: "Ada" } });
 * assert.equal(store.documents("test.people").length, 1);
 * ```
 *
 * @module
 */
import { Binary, type Document, encode, ObjectId, type Timestamp } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { cloneValue, isPlainDocument, numericValue } from "./query.ts";
import { serverError } from "./_server_error.ts";
import { type SessionWrite, SessionTable } from "./session_table.ts";

/**
 * One replicated change, as the primary logs it and secondaries replay it.
 * Updates are logged as the whole new document, so replaying is idempotent.
 * A change made by a retryable write or a transaction's commit carries its
 * `session` part (see `session_table.ts`); a transaction commits as one
 * `applyOps` entry, so a member applies all of its writes or none.
 *
 * @example
 * ```ts
 * import type { OplogChange } from "./store.ts";
 *
 * const change: OplogChange = { op: "d", ns: "test.people", id: 1 };
 * ```
 */
export type OplogChange = (
  | { op: "i"; ns: string; doc: Document }
  | { op: "u"; ns: string; id: unknown; doc: Document; update?: UpdateDescription; pre?: Document }
  | { op: "d"; ns: string; id: unknown; pre?: Document }
  | { op: "create"; ns: string; options?: Document }
  | { op: "createIndex"; ns: string; index: Document }
  | { op: "dropIndexes"; ns: string; names: string[]; specs?: Document[] }
  | { op: "rename"; from: string; to: string; dropTarget?: Binary }
  | { op: "collMod"; ns: string; options: Document }
  | { op: "indexOptions"; ns: string; name: string; options: Document }
  | { op: "drop"; ns: string }
  | { op: "dropDatabase"; db: string }
  | { op: "applyOps"; changes: OplogChange[] }
  | { op: "n" }
) & { session?: SessionWrite };

/** An oplog change with its collection's UUID, once applied (see {@linkcode OplogChange}). */
export type StampedChange = OplogChange & { ui?: Binary };

/**
 * The replicated log as one member sees it: every entry, and how many it applied.
 *
 * @example
 * ```ts
 * import type { OplogView } from "./store.ts";
 *
 * const view: OplogView = { entries: [], applied: 0 };
 * ```
 */
export interface OplogView {
  readonly entries: readonly { readonly ts: Timestamp; readonly wall: number; readonly change: OplogChange }[];
  readonly applied: number;
}

/**
 * What an update changed (change streams' `updateDescription`); absent for a replacement.
 *
 * @example
 * ```ts
 * import type { UpdateDescription } from "./store.ts";
 *
 * const d: UpdateDescription = { updatedFields: { "a.b": 1 }, removedFields: [] };
 * ```
 */
export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  /** Arrays that shrank: `{field, newSize}`. */
  truncatedArrays?: Document[];
  /** The paths with a numeric field name or an array index, split (indexes as Int32). */
  disambiguatedPaths?: Document;
}

/** An index specification as `listIndexes` returns it. */
export type IndexSpec = Document & { name: string; key: Document };

/**
 * A collection: its documents in insertion order, and an `_id` lookup.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Collection } from "./store.ts";
 *
 * const c = new Collection();
 * c.insert({ _id: 1 });
 * assert.equal(c.has(1), true);
 * ```
 */
export class Collection {
  #docs: Document[] = [];
  #byId = new Map<string, Document>();
  /** The indexes, the `_id` one first. */
  indexes: IndexSpec[] = [{ v: 2, key: { _id: 1 }, name: "_id_" }];
  /** The options it was created with (`capped`, `size`, `max`, `validator`...). */
  options: Document = {};
  /** Its UUID (`collectionUUID` of change events): the same on every member, which apply the same oplog. */
  uuid: Binary = collectionUuid(0);

  /** The documents, in insertion order (do not modify). */
  get documents(): readonly Document[] {
    return this.#docs;
  }

  /** Whether a document with this `_id` exists. */
  has(id: unknown): boolean {
    return this.#byId.has(idKey(id));
  }

  /** The document with this `_id`, if any. */
  get(id: unknown): Document | undefined {
    return this.#byId.get(idKey(id));
  }

  /** Adds a document that has an `_id` not yet present. */
  insert(doc: Document): void {
    const key = idKey(doc._id);
    if (this.#byId.has(key)) throw new Error(`duplicate _id ${key}`);
    this.#docs.push(doc);
    this.#byId.set(key, doc);
    if (this.options.capped === true) this.#trim();
  }

  // A capped collection drops its oldest documents past `max` or `size` bytes.
  #trim(): void {
    const max = Number(numericValue(this.options.max) ?? 0);
    const size = Number(numericValue(this.options.size) ?? 0);
    let bytes = 0;
    if (size > 0) for (const d of this.#docs) bytes += encode(d).length;
    while (
      this.#docs.length > 1 && ((max > 0 && this.#docs.length > max) || (size > 0 && bytes > size))
    ) {
      const oldest = this.#docs.shift()!;
      this.#byId.delete(idKey(oldest._id));
      if (size > 0) bytes -= encode(oldest).length;
    }
  }

  /** A copy whose documents can change without touching this one's. */
  clone(): Collection {
    const c = new Collection();
    for (const d of this.#docs) {
      const copy = cloneValue(d);
      c.#docs.push(copy);
      c.#byId.set(idKey(copy._id), copy);
    }
    c.indexes = cloneValue(this.indexes);
    c.options = cloneValue(this.options);
    return c;
  }

  /** Replaces the document with this `_id` in place (keeps its position). */
  replace(id: unknown, doc: Document): void {
    const key = idKey(id);
    const old = this.#byId.get(key);
    if (old === undefined) {
      this.insert(doc);
      return;
    }
    this.#docs[this.#docs.indexOf(old)] = doc;
    this.#byId.set(key, doc);
  }

  /** Removes the document with this `_id`; false when there was none. */
  remove(id: unknown): boolean {
    const key = idKey(id);
    const old = this.#byId.get(key);
    if (old === undefined) return false;
    this.#docs.splice(this.#docs.indexOf(old), 1);
    this.#byId.delete(key);
    return true;
  }
}

/**
 * A key for `_id` values under which equal values (in the server's sense:
 * `1`, `1.0` and `NumberLong(1)` are the same key) collide.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Double } from "../bson/mod.ts";
 * import { idKey } from "./store.ts";
 *
 * assert.equal(idKey(1) === idKey(new Double(1)), true);
 * ```
 */
export function idKey(id: unknown): string {
  const n = numericValue(id);
  if (n !== undefined) return `n:${typeof n === "bigint" && Number(n).toString() !== n.toString() ? n : Number(n)}`;
  if (typeof id === "string") return `s:${id}`;
  if (id instanceof ObjectId) return `o:${id.toHexString()}`;
  if (isPlainDocument(id) || Array.isArray(id)) return `d:${canonicalKey(id)}`;
  const bytes = encode({ v: id });
  let s = "b:";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function canonicalKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalKey).join(",")}]`;
  if (isPlainDocument(v)) {
    return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${canonicalKey(v[k])}`).join(",")}}`;
  }
  return idKey(v);
}

/**
 * Splits `"db.coll.name"` into `["db", "coll.name"]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitNamespace } from "./store.ts";
 *
 * assert.deepEqual(splitNamespace("test.a.b"), ["test", "a.b"]);
 * ```
 */
export function splitNamespace(ns: string): [string, string] {
  const dot = ns.indexOf(".");
  return dot < 0 ? [ns, ""] : [ns.slice(0, dot), ns.slice(dot + 1)];
}

/**
 * All databases of one member.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "./store.ts";
 *
 * const store = new Store();
 * store.apply({ op: "create", ns: "test.empty" });
 * assert.deepEqual(store.collectionNames("test"), ["empty"]);
 * ```
 */
export class Store {
  #dbs = new Map<string, Map<string, Collection>>();
  /** The replicated session table (`config.transactions`). */
  sessions: SessionTable = new SessionTable();

  /** A copy of everything (a transaction's snapshot). */
  clone(): Store {
    const s = new Store();
    for (const [db, colls] of this.#dbs) {
      const copy = new Map<string, Collection>();
      for (const [name, c] of colls) copy.set(name, c.clone());
      s.#dbs.set(db, copy);
    }
    s.sessions = this.sessions.clone();
    return s;
  }
  /** Collections created so far: their UUIDs' serial numbers. */
  #created = 0;

  /** The collection at `ns`, or `undefined`. */
  collection(ns: string): Collection | undefined {
    const [db, coll] = splitNamespace(ns);
    return this.#dbs.get(db)?.get(coll);
  }

  /** The documents at `ns` (empty when the collection does not exist). */
  documents(ns: string): readonly Document[] {
    return this.collection(ns)?.documents ?? [];
  }

  /** Names of the databases that hold at least one collection. */
  databaseNames(): string[] {
    return [...this.#dbs.keys()].filter((d) => (this.#dbs.get(d)?.size ?? 0) > 0).sort();
  }

  /** Names of the collections of `db`. */
  collectionNames(db: string): string[] {
    return [...(this.#dbs.get(db)?.keys() ?? [])].sort();
  }

  /** Rough BSON size of a database, for `listDatabases`. */
  sizeOf(db: string): number {
    let size = 0;
    for (const c of this.#dbs.get(db)?.values() ?? []) {
      for (const d of c.documents) size += encode(d).length;
    }
    return size;
  }

  /** Drops everything (a rollback replays the oplog onto an empty store). */
  clear(): void {
    this.#dbs.clear();
    this.sessions.clear();
    this.#created = 0;
  }

  #ensure(ns: string): Collection {
    const [db, coll] = splitNamespace(ns);
    let colls = this.#dbs.get(db);
    if (colls === undefined) this.#dbs.set(db, colls = new Map());
    let c = colls.get(coll);
    if (c === undefined) {
      colls.set(coll, c = new Collection());
      c.uuid = collectionUuid(++this.#created);
    }
    return c;
  }

  /** Applies one change; the primary and every secondary go through here. */
  apply(change: StampedChange): void {
    // The change remembers its collection's UUID (mongod's oplog field `ui`) for change streams.
    const ns = "ns" in change ? change.ns : change.op === "rename" ? change.from : undefined;
    const was = ns === undefined ? undefined : this.collection(ns)?.uuid;
    this.#apply(change);
    const ui = (ns === undefined ? undefined : this.collection(ns)?.uuid) ?? was;
    if (ui !== undefined && change.ui === undefined) change.ui = ui;
    if (change.session !== undefined) this.sessions.record(change.session);
  }

  #apply(change: StampedChange): void {
    switch (change.op) {
      case "applyOps":
        for (const c of change.changes) this.apply(c);
        return;
      case "i":
        this.#ensure(change.ns).insert(cloneValue(change.doc));
        return;
      case "u":
        this.#ensure(change.ns).replace(change.id, cloneValue(change.doc));
        return;
      case "d":
        this.collection(change.ns)?.remove(change.id);
        return;
      case "create": {
        const c = this.#ensure(change.ns);
        if (change.options !== undefined) c.options = cloneValue(change.options);
        const clustered = c.options.clusteredIndex;
        if (isPlainDocument(clustered)) c.indexes[0] = { ...cloneValue(clustered), clustered: true } as unknown as IndexSpec;
        return;
      }
      case "collMod": {
        const c = this.collection(change.ns);
        if (c !== undefined) c.options = { ...c.options, ...cloneValue(change.options) };
        return;
      }
      case "indexOptions": {
        const c = this.collection(change.ns);
        const i = c?.indexes.findIndex((x) => x.name === change.name) ?? -1;
        if (c !== undefined && i >= 0) c.indexes[i] = { ...c.indexes[i], ...cloneValue(change.options) };
        return;
      }
      case "dropIndexes": {
        const c = this.collection(change.ns);
        if (c !== undefined) c.indexes = c.indexes.filter((i) => !change.names.includes(i.name));
        return;
      }
      case "rename": {
        const c = this.collection(change.from);
        if (c === undefined) return;
        const [fromDb, fromColl] = splitNamespace(change.from);
        this.#dbs.get(fromDb)?.delete(fromColl);
        const [toDb, toColl] = splitNamespace(change.to);
        let colls = this.#dbs.get(toDb);
        if (colls === undefined) this.#dbs.set(toDb, colls = new Map());
        colls.set(toColl, c);
        return;
      }
      case "createIndex": {
        const c = this.#ensure(change.ns);
        if (!c.indexes.some((i) => i.name === change.index.name)) c.indexes.push(cloneValue(change.index) as IndexSpec);
        return;
      }
      case "drop": {
        const [db, coll] = splitNamespace(change.ns);
        this.#dbs.get(db)?.delete(coll);
        return;
      }
      case "dropDatabase":
        this.#dbs.delete(change.db);
        return;
      case "n":
        return;
    }
  }
}

/**
 * A server-side cursor: what is left of a result set.
 *
 * @example
 * ```ts
 * import type { ServerCursor } from "./store.ts";
 *
 * const cursor: ServerCursor = { id: 5n, ns: "test.c", docs: [], position: 0 };
 * ```
 */
export interface ServerCursor {
  /** The cursor id (positive int64). */
  id: bigint;
  /** `"db.coll"`. */
  ns: string;
  /** The documents not yet returned. */
  docs: Document[];
  /** How many documents were returned so far (OP_REPLY's `startingFrom`). */
  position: number;
  /** Remaining documents allowed by the query's limit, if any. */
  limit?: number;
  /** For a tailable cursor on a capped collection: where it is and what it selects. */
  tail?: TailState;
  /** For a change stream: its state (see `change_streams.ts`). */
  stream?: unknown;
}

/**
 * Where a tailable cursor stands in its capped collection.
 *
 * @example
 * ```ts
 * import type { TailState } from "./store.ts";
 *
 * const tail: TailState = { awaitData: true, lastId: 3, filter: {} };
 * ```
 */
export interface TailState {
  /** getMore waits for new documents (up to its maxTimeMS). */
  awaitData: boolean;
  /** `_id` of the last document looked at (undefined: none yet). */
  lastId: unknown;
  /** The query's filter. */
  filter: Document;
  /** The query's projection. */
  projection?: Document;
}

/**
 * The open cursors of one member.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CursorRegistry } from "./store.ts";
 *
 * const cursors = new CursorRegistry();
 * const { batch, id } = cursors.open("test.c", [{ a: 1 }, { a: 2 }], { batchSize: 1 });
 * assert.equal(batch.length, 1);
 * assert.equal(id > 0n, true);
 * ```
 */
export class CursorRegistry {
  #cursors = new Map<bigint, ServerCursor>();

  /** How many cursors are open. */
  get size(): number {
    return this.#cursors.size;
  }

  /**
   * Starts a result set: returns the first batch and the cursor id (0n when
   * the batch holds everything).
   */
  open(
    ns: string,
    docs: Document[],
    options: { batchSize?: number; singleBatch?: boolean; limit?: number; tail?: TailState; stream?: unknown } = {},
  ): { batch: Document[]; id: bigint } {
    const size = options.batchSize === undefined || options.batchSize < 0 ? 101 : options.batchSize;
    let all = docs;
    if (options.limit !== undefined && options.limit > 0) all = all.slice(0, options.limit);
    const batch = all.slice(0, size);
    const tailing = (options.tail !== undefined || options.stream !== undefined) && options.singleBatch !== true;
    if (!tailing && (options.singleBatch === true || (batch.length >= all.length && size > 0))) return { batch, id: 0n };
    const id = this.#newId();
    const cursor: ServerCursor = { id, ns, docs: all.slice(size), position: batch.length };
    if (tailing && options.tail !== undefined) cursor.tail = options.tail;
    if (tailing && options.stream !== undefined) cursor.stream = options.stream;
    this.#cursors.set(id, cursor);
    return { batch, id };
  }

  /**
   * The next batch of a cursor; the cursor closes once exhausted (then `id`
   * is 0n).
   *
   * @throws {MongoError} carrying CursorNotFound (43) for an unknown id.
   */
  next(
    id: bigint,
    batchSize: number | undefined,
    ns?: string,
  ): { batch: Document[]; id: bigint; startingFrom: number } {
    const cursor = this.#cursors.get(id);
    if (cursor === undefined) throw serverError(ErrorCode.CursorNotFound, "CursorNotFound", `cursor id ${id} not found`);
    if (ns !== undefined && cursor.ns !== ns) {
      throw serverError(
        13,
        "Unauthorized",
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    const size = batchSize === undefined || batchSize <= 0 ? cursor.docs.length : batchSize;
    const batch = cursor.docs.splice(0, size);
    const startingFrom = cursor.position;
    cursor.position += batch.length;
    if (cursor.docs.length === 0 && cursor.tail === undefined && cursor.stream === undefined) {
      this.#cursors.delete(id);
      return { batch, id: 0n, startingFrom };
    }
    return { batch, id, startingFrom };
  }

  /** An open cursor (for a tailable getMore to refill it). */
  get(id: bigint): ServerCursor | undefined {
    return this.#cursors.get(id);
  }

  /** The namespace of an open cursor. */
  namespaceOf(id: bigint): string | undefined {
    return this.#cursors.get(id)?.ns;
  }

  /** Closes a cursor; false when it did not exist. */
  kill(id: bigint): boolean {
    return this.#cursors.delete(id);
  }

  /** Closes every cursor. */
  clear(): void {
    this.#cursors.clear();
  }

  #newId(): bigint {
    const bytes = new Uint8Array(8);
    for (;;) {
      crypto.getRandomValues(bytes);
      bytes[7] &= 0x7f; // positive int64, little-endian
      let id = 0n;
      for (let i = 7; i >= 0; i--) id = (id << 8n) | BigInt(bytes[i]);
      if (id !== 0n && !this.#cursors.has(id)) return id;
    }
  }
}

/** A deterministic UUID (subtype 4) for the `n`th collection a store created. */
function collectionUuid(n: number): Binary {
  const bytes = new Uint8Array(16);
  bytes.set([0x5a, 0x1d, 0x0b, 0x0e], 0);
  bytes[6] = 0x40; // version 4
  bytes[8] = 0x80; // variant
  new DataView(bytes.buffer).setUint32(12, n);
  return new Binary(bytes, Binary.SUBTYPE_UUID);
}
