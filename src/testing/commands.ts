/**
 * The database commands a simulated member answers: CRUD with cursors, the
 * catalog commands, diagnostics and the replica-set admin commands (the
 * latter delegated to the set). Each takes the decoded command and returns
 * the reply document; failures are thrown as server errors and turned into
 * `{ok: 0, errmsg, code, codeName}` by the member.
 *
 * @module
 */
import { type Document, encode, Int32, Int64, ObjectId } from "../bson/mod.ts";
import {
  applyUpdate,
  cloneValue,
  compareValues,
  getPath,
  isOperatorUpdate,
  isPlainDocument,
  matches,
  numericValue,
  project,
  sortDocuments,
  upsertSeed,
  valuesEqual,
} from "./query.ts";
import type { CursorRegistry, OplogChange, Store } from "./store.ts";
import type { FailPoints } from "./fail_points.ts";
import { badValue, serverError, toFailure, typeMismatch } from "./_server_error.ts";

/** What a member offers the commands. */
export interface CommandHost {
  readonly store: Store;
  readonly cursors: CursorRegistry;
  readonly failPoints: FailPoints;
  /** The member's name (`host:port`). */
  readonly name: string;
  readonly maxWireVersion: number;
  /** Applies a change on the primary and logs it for replication. */
  logChange(change: OplogChange): void;
  hello(legacy: boolean, body: Document, connectionId: number): Document;
  replSetInitiate(config: unknown): Document;
  replSetGetStatus(): Document;
  replSetGetConfig(): Document;
  replSetStepDown(seconds: number): Document;
  replSetFreeze(seconds: number): Document;
  serverStatus(): Document;
}

/** Per-connection state some commands use. */
export interface ConnectionState {
  /** The server's id for the connection. */
  readonly id: number;
  /** The peer, as `whatsmyuri` reports it. */
  readonly peer: string;
  /** The result of the last write, for `getLastError`. */
  lastError?: Document;
  /** The application name the handshake gave (`client.application.name`). */
  appName?: string;
}

/** One command to run. */
export interface CommandRequest {
  readonly host: CommandHost;
  readonly db: string;
  readonly name: string;
  readonly body: Document;
  readonly conn: ConnectionState;
}

type Handler = (req: CommandRequest) => Document | Promise<Document>;

/** Commands that change data: only a primary runs them. */
export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
  "create",
  "drop",
  "dropDatabase",
  "createIndexes",
  "dropIndexes",
]);

/** Commands that read data: a secondary runs them only with secondaryOk. */
export const READ_COMMANDS: ReadonlySet<string> = new Set([
  "find",
  "count",
  "distinct",
  "aggregate",
  "listCollections",
  "listIndexes",
  "listDatabases",
  "dbStats",
  "collStats",
]);

/** Commands that only run against the `admin` database. */
export const ADMIN_ONLY: ReadonlySet<string> = new Set([
  "configureFailPoint",
  "listDatabases",
  "replSetInitiate",
  "replSetGetStatus",
  "replSetStepDown",
  "replSetFreeze",
  "replSetGetConfig",
]);

function num(v: unknown, what: string, fallback?: number): number {
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badValue(`${what} is required`);
  }
  const n = numericValue(v);
  if (n === undefined) throw typeMismatch(`${what} must be a number`);
  return Number(n);
}

function bool(v: unknown): boolean {
  const n = numericValue(v);
  if (n !== undefined) return Number(n) !== 0;
  return v === true;
}

function collectionArg(req: CommandRequest): string {
  const v = req.body[req.name];
  if (typeof v !== "string") {
    throw serverError(73, "InvalidNamespace", `collection name has invalid type ${v === null ? "null" : typeof v}`);
  }
  if (v === "" || v.includes("\0") || v.startsWith("$")) {
    throw serverError(73, "InvalidNamespace", `Invalid namespace specified '${req.db}.${v}'`);
  }
  return v;
}

function docArg(v: unknown, what: string): Document | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainDocument(v)) throw typeMismatch(`${what} must be an object`);
  return v;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (isPlainDocument(v)) return `{ ${Object.keys(v).map((k) => `${k}: ${show(v[k])}`).join(", ")} }`;
  const n = numericValue(v);
  if (n !== undefined) return String(n);
  return String(v);
}

function sameBytes(a: Document, b: Document): boolean {
  const x = encode(a);
  const y = encode(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function withIdFirst(doc: Document, id: unknown): Document {
  const out: Document = { _id: id };
  for (const k of Object.keys(doc)) if (k !== "_id") out[k] = doc[k];
  return out;
}

function cursorReply(ns: string, batch: Document[], id: bigint, first: boolean): Document {
  return {
    cursor: first ? { firstBatch: batch, id: new Int64(id), ns } : { nextBatch: batch, id: new Int64(id), ns },
    ok: 1,
  };
}

function selectDocuments(store: Store, ns: string, filter: Document | undefined): Document[] {
  return store.documents(ns).filter((d) => matches(d, filter ?? {}));
}

function duplicateKey(ns: string, id: unknown, index: number): Document {
  return {
    index,
    code: 11000,
    errmsg: `E11000 duplicate key error collection: ${ns} index: _id_ dup key: { _id: ${show(id)} }`,
    keyPattern: { _id: 1 },
    keyValue: { _id: id },
  };
}

function checkId(id: unknown): void {
  if (Array.isArray(id)) throw serverError(53, "InvalidIdField", `The '_id' value cannot be of type array`);
}

// ---- CRUD -------------------------------------------------------------------

function find(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const b = req.body;
  let docs = selectDocuments(req.host.store, ns, docArg(b.filter, "filter"));
  sortDocuments(docs, docArg(b.sort, "sort"));
  const skip = num(b.skip, "skip", 0);
  if (skip < 0) throw badValue("skip value must be non-negative");
  let limit = num(b.limit, "limit", 0);
  let singleBatch = bool(b.singleBatch);
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  const projection = docArg(b.projection, "projection");
  docs = docs.map((d) => project(cloneValue(d), projection));
  const batchSize = b.batchSize === undefined ? undefined : num(b.batchSize, "batchSize");
  if (batchSize !== undefined && batchSize < 0) throw badValue("batchSize must be non-negative");
  const { batch, id } = req.host.cursors.open(ns, docs, { batchSize, singleBatch });
  return cursorReply(ns, batch, id, true);
}

function getMore(req: CommandRequest): Document {
  const rawId = req.body.getMore;
  const n = numericValue(rawId);
  if (n === undefined || typeof rawId === "number" || (typeof n === "number" && !Number.isInteger(n))) {
    throw typeMismatch(`Field 'getMore' must be of type long in: ${show(req.body)}`);
  }
  const coll = req.body.collection;
  if (typeof coll !== "string") throw typeMismatch("Field 'collection' must be of type string");
  const ns = `${req.db}.${coll}`;
  const batchSize = req.body.batchSize === undefined ? undefined : num(req.body.batchSize, "batchSize");
  const { batch, id } = req.host.cursors.next(BigInt(n), batchSize, ns);
  return cursorReply(ns, batch, id, false);
}

function killCursors(req: CommandRequest): Document {
  collectionArg(req);
  const ids = req.body.cursors;
  if (!Array.isArray(ids)) throw typeMismatch("Field 'cursors' must be of type array");
  const killed: Int64[] = [];
  const notFound: Int64[] = [];
  for (const raw of ids) {
    const n = numericValue(raw);
    if (n === undefined) throw typeMismatch("cursor ids must be longs");
    const id = BigInt(n);
    (req.host.cursors.kill(id) ? killed : notFound).push(new Int64(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function insert(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const docs = req.body.documents;
  if (!Array.isArray(docs)) throw typeMismatch("Field 'documents' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    const raw = docs[i];
    try {
      if (!isPlainDocument(raw)) throw typeMismatch(`documents.${i} must be an object`);
      const doc = withIdFirst(raw, raw._id === undefined ? new ObjectId() : raw._id);
      checkId(doc._id);
      if (req.host.store.collection(ns)?.has(doc._id)) {
        writeErrors.push(duplicateKey(ns, doc._id, i));
        if (ordered) break;
        continue;
      }
      req.host.logChange({ op: "i", ns, doc });
      n++;
    } catch (e) {
      const f = toFailure(e);
      writeErrors.push({ index: i, code: f.code, errmsg: f.errmsg });
      if (ordered) break;
    }
  }
  const reply: Document = { n, ok: 1 };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  req.conn.lastError = { n: 0, err: writeErrors.length > 0 ? writeErrors[0].errmsg : null, ok: 1 };
  if (writeErrors.length > 0) req.conn.lastError.code = writeErrors[0].code;
  return reply;
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  before?: Document;
  after?: Document;
}

// One update statement; shared by `update` and `findAndModify`.
function updateOne(
  req: CommandRequest,
  ns: string,
  q: Document,
  u: Document,
  options: { upsert: boolean; multi: boolean; sort?: Document },
): UpdateOutcome {
  const isOp = isOperatorUpdate(u);
  if (!isOp) {
    for (const k of Object.keys(u)) {
      if (k.startsWith("$")) {
        throw serverError(
          52,
          "DollarPrefixedFieldName",
          `The dollar ($) prefixed field '${k}' in '${k}' is not allowed`,
        );
      }
    }
    if (options.multi) {
      throw serverError(9, "FailedToParse", "multi update is not supported for replacement-style update");
    }
  }
  let matched = selectDocuments(req.host.store, ns, q);
  if (options.sort !== undefined) sortDocuments(matched, options.sort);
  if (!options.multi) matched = matched.slice(0, 1);
  const out: UpdateOutcome = { matched: matched.length, modified: 0 };
  for (const d of matched) {
    let next: Document;
    if (isOp) next = applyUpdate(d, u);
    else {
      if (u._id !== undefined && !valuesEqual(u._id, d._id)) {
        throw serverError(
          66,
          "ImmutableField",
          `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${
            show(u._id)
          }`,
        );
      }
      next = withIdFirst(cloneValue(u), d._id);
    }
    out.before ??= cloneValue(d);
    out.after ??= next;
    if (!sameBytes(d, next)) {
      req.host.logChange({ op: "u", ns, id: d._id, doc: next });
      out.modified++;
    }
  }
  if (matched.length === 0 && options.upsert) {
    let doc: Document;
    if (isOp) doc = applyUpdate(upsertSeed(q), u, { insert: true });
    else {
      doc = cloneValue(u);
      const seed = upsertSeed(q);
      if (doc._id === undefined && seed._id !== undefined) doc._id = seed._id;
    }
    const id = doc._id === undefined ? new ObjectId() : doc._id;
    checkId(id);
    doc = withIdFirst(doc, id);
    if (req.host.store.collection(ns)?.has(id)) {
      const e = duplicateKey(ns, id, 0);
      throw serverError(11000, "DuplicateKey", e.errmsg as string);
    }
    req.host.logChange({ op: "i", ns, doc });
    out.upsertedId = id;
    out.after = doc;
  }
  return out;
}

function update(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const updates = req.body.updates;
  if (!Array.isArray(updates)) throw typeMismatch("Field 'updates' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  for (let i = 0; i < updates.length; i++) {
    try {
      const s = updates[i];
      if (!isPlainDocument(s)) throw typeMismatch(`updates.${i} must be an object`);
      const q = docArg(s.q, "q") ?? {};
      if (Array.isArray(s.u)) throw badValue("pipeline-style updates are not supported by the simulator");
      const u = docArg(s.u, "u");
      if (u === undefined) throw badValue("u is required");
      if (s.arrayFilters !== undefined) throw badValue("arrayFilters are not supported by the simulator");
      const r = updateOne(req, ns, q, u, { upsert: bool(s.upsert), multi: bool(s.multi) });
      n += r.matched;
      nModified += r.modified;
      if (r.upsertedId !== undefined) {
        n++;
        upserted.push({ index: i, _id: r.upsertedId });
      }
    } catch (e) {
      const f = toFailure(e);
      writeErrors.push({ index: i, code: f.code, errmsg: f.errmsg });
      if (ordered) break;
    }
  }
  const reply: Document = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  req.conn.lastError = {
    n,
    updatedExisting: n > upserted.length,
    ...(upserted.length > 0 ? { upserted: upserted[0]._id } : {}),
    err: writeErrors.length > 0 ? writeErrors[0].errmsg : null,
    ok: 1,
  };
  return reply;
}

function deleteCommand(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const deletes = req.body.deletes;
  if (!Array.isArray(deletes)) throw typeMismatch("Field 'deletes' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  let n = 0;
  const writeErrors: Document[] = [];
  for (let i = 0; i < deletes.length; i++) {
    try {
      const s = deletes[i];
      if (!isPlainDocument(s)) throw typeMismatch(`deletes.${i} must be an object`);
      const limit = num(s.limit, "limit");
      if (limit !== 0 && limit !== 1) throw badValue(`The limit field in delete objects must be 0 or 1. Got ${limit}`);
      let victims = selectDocuments(req.host.store, ns, docArg(s.q, "q") ?? {});
      if (limit === 1) victims = victims.slice(0, 1);
      for (const d of victims) {
        req.host.logChange({ op: "d", ns, id: d._id });
        n++;
      }
    } catch (e) {
      const f = toFailure(e);
      writeErrors.push({ index: i, code: f.code, errmsg: f.errmsg });
      if (ordered) break;
    }
  }
  const reply: Document = { n, ok: 1 };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  req.conn.lastError = { n, err: writeErrors.length > 0 ? writeErrors[0].errmsg : null, ok: 1 };
  return reply;
}

function findAndModify(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const b = req.body;
  const q = docArg(b.query, "query") ?? {};
  const sort = docArg(b.sort, "sort");
  const fields = docArg(b.fields, "fields");
  const wantNew = bool(b.new);
  if (bool(b.remove)) {
    if (b.update !== undefined) throw badValue("Cannot specify both an update and remove=true");
    const victims = sortDocuments(selectDocuments(req.host.store, ns, q), sort).slice(0, 1);
    for (const d of victims) req.host.logChange({ op: "d", ns, id: d._id });
    return {
      lastErrorObject: { n: victims.length },
      value: victims.length > 0 ? project(cloneValue(victims[0]), fields) : null,
      ok: 1,
    };
  }
  if (Array.isArray(b.update)) throw badValue("pipeline-style updates are not supported by the simulator");
  const u = docArg(b.update, "update");
  if (u === undefined) throw serverError(9, "FailedToParse", "Either an update or remove=true must be specified");
  const r = updateOne(req, ns, q, u, { upsert: bool(b.upsert), multi: false, sort });
  const lastErrorObject: Document = {
    n: r.matched + (r.upsertedId !== undefined ? 1 : 0),
    updatedExisting: r.matched > 0,
  };
  if (r.upsertedId !== undefined) lastErrorObject.upserted = r.upsertedId;
  const value = wantNew ? r.after : (r.upsertedId !== undefined ? undefined : r.before);
  return { lastErrorObject, value: value === undefined ? null : project(cloneValue(value), fields), ok: 1 };
}

function count(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  let n = selectDocuments(req.host.store, ns, docArg(req.body.query, "query")).length;
  const skip = num(req.body.skip, "skip", 0);
  const limit = Math.abs(num(req.body.limit, "limit", 0));
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
}

function distinct(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const key = req.body.key;
  if (typeof key !== "string") throw typeMismatch("Field 'key' must be of type string");
  const values: unknown[] = [];
  for (const d of selectDocuments(req.host.store, `${req.db}.${coll}`, docArg(req.body.query, "query"))) {
    const v = getPath(d, key);
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === undefined) continue;
      if (!values.some((y) => valuesEqual(x, y))) values.push(x);
    }
  }
  values.sort(compareValues);
  return { values, ok: 1 };
}

function aggregate(req: CommandRequest): Document {
  const target = req.body.aggregate;
  if (typeof target !== "string") throw badValue("aggregate on a whole database is not supported by the simulator");
  const ns = `${req.db}.${target}`;
  const pipeline = req.body.pipeline;
  if (!Array.isArray(pipeline)) throw typeMismatch("'pipeline' option must be specified as an array");
  if (!isPlainDocument(req.body.cursor)) {
    throw serverError(
      9,
      "FailedToParse",
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  let docs: Document[] = req.host.store.documents(ns).map((d) => cloneValue(d));
  for (const stage of pipeline) {
    if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) {
      throw serverError(
        40323,
        "Location40323",
        "A pipeline stage specification object must contain exactly one field.",
      );
    }
    const [name] = Object.keys(stage);
    const arg = stage[name];
    switch (name) {
      case "$match":
        docs = docs.filter((d) => matches(d, docArg(arg, "$match") ?? {}));
        break;
      case "$sort":
        sortDocuments(docs, docArg(arg, "$sort"));
        break;
      case "$skip":
        docs = docs.slice(num(arg, "$skip"));
        break;
      case "$limit":
        docs = docs.slice(0, num(arg, "$limit"));
        break;
      case "$project":
        docs = docs.map((d) => project(d, docArg(arg, "$project")));
        break;
      case "$count":
        if (typeof arg !== "string") throw badValue("the count field must be a non-empty string");
        docs = docs.length === 0 ? [] : [{ [arg]: docs.length }];
        break;
      case "$group":
        docs = group(docs, docArg(arg, "$group") ?? {});
        break;
      default:
        throw serverError(40324, "Location40324", `Unrecognized pipeline stage name: '${name}'`);
    }
  }
  const cursor = req.body.cursor as Document;
  const batchSize = cursor.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
  const { batch, id } = req.host.cursors.open(ns, docs, { batchSize });
  return cursorReply(ns, batch, id, true);
}

// $group with a constant or "$field" key and $sum/$min/$max/$first/$last/$avg/$push.
function group(docs: Document[], spec: Document): Document[] {
  if (!Object.hasOwn(spec, "_id")) {
    throw serverError(15955, "Location15955", "a group specification must include an _id");
  }
  const evalExpr = (d: Document, e: unknown): unknown =>
    typeof e === "string" && e.startsWith("$") ? getPath(d, e.slice(1)) : e;
  const groups: { key: unknown; docs: Document[] }[] = [];
  for (const d of docs) {
    const key = evalExpr(d, spec._id) ?? null;
    let g = groups.find((x) => valuesEqual(x.key, key));
    if (g === undefined) groups.push(g = { key, docs: [] });
    g.docs.push(d);
  }
  return groups.map((g) => {
    const out: Document = { _id: g.key };
    for (const field of Object.keys(spec)) {
      if (field === "_id") continue;
      const acc = docArg(spec[field], field);
      if (acc === undefined || Object.keys(acc).length !== 1) throw badValue(`bad accumulator for ${field}`);
      const [op] = Object.keys(acc);
      const values = g.docs.map((d) => evalExpr(d, acc[op]));
      const nums = values.map((v) => numericValue(v)).filter((v) => v !== undefined).map(Number);
      switch (op) {
        case "$sum":
          out[field] = nums.reduce((a, b) => a + b, 0);
          break;
        case "$avg":
          out[field] = nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0) / nums.length;
          break;
        case "$min":
        case "$max": {
          const present = values.filter((v) => v !== undefined && v !== null);
          present.sort(compareValues);
          out[field] = present.length === 0 ? null : present[op === "$min" ? 0 : present.length - 1];
          break;
        }
        case "$first":
          out[field] = values[0] ?? null;
          break;
        case "$last":
          out[field] = values[values.length - 1] ?? null;
          break;
        case "$push":
          out[field] = values.filter((v) => v !== undefined);
          break;
        default:
          throw serverError(15952, "Location15952", `unknown group operator '${op}'`);
      }
    }
    return out;
  });
}

// ---- catalog ----------------------------------------------------------------

function create(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  if (req.host.store.collection(ns) !== undefined) {
    throw serverError(48, "NamespaceExists", `Collection ${ns} already exists.`);
  }
  req.host.logChange({ op: "create", ns });
  return { ok: 1 };
}

function drop(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const existing = req.host.store.collection(ns);
  if (existing === undefined) {
    // 7.0 made dropping a missing collection a success.
    if (req.host.maxWireVersion >= 21) return { ok: 1 };
    throw serverError(26, "NamespaceNotFound", "ns not found");
  }
  const nIndexesWas = existing.indexes.length;
  req.host.logChange({ op: "drop", ns });
  return { nIndexesWas, ns, ok: 1 };
}

function dropDatabase(req: CommandRequest): Document {
  if (req.host.store.collectionNames(req.db).length > 0) req.host.logChange({ op: "dropDatabase", db: req.db });
  return { dropped: req.db, ok: 1 };
}

function listCollections(req: CommandRequest): Document {
  const filter = docArg(req.body.filter, "filter");
  const nameOnly = bool(req.body.nameOnly);
  let entries: Document[] = req.host.store.collectionNames(req.db).map((name) =>
    nameOnly ? { name, type: "collection" } : {
      name,
      type: "collection",
      options: {},
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: "_id_" },
    }
  );
  if (filter !== undefined) entries = entries.filter((e) => matches(e, filter));
  const cursor = docArg(req.body.cursor, "cursor");
  const batchSize = cursor?.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
  const ns = `${req.db}.$cmd.listCollections`;
  const { batch, id } = req.host.cursors.open(ns, entries, { batchSize });
  return cursorReply(ns, batch, id, true);
}

function listIndexes(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(26, "NamespaceNotFound", `ns does not exist: ${ns}`);
  const { batch, id } = req.host.cursors.open(ns, c.indexes.map((i) => cloneValue(i)), {});
  return cursorReply(ns, batch, id, true);
}

function createIndexes(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const indexes = req.body.indexes;
  if (!Array.isArray(indexes)) throw typeMismatch("Field 'indexes' must be of type array");
  const existing = req.host.store.collection(ns);
  const before = existing?.indexes.length ?? 0;
  if (existing === undefined) req.host.logChange({ op: "create", ns });
  for (const spec of indexes) {
    if (!isPlainDocument(spec) || !isPlainDocument(spec.key) || typeof spec.name !== "string") {
      throw serverError(9, "FailedToParse", "each index specification needs a key document and a name");
    }
    req.host.logChange({ op: "createIndex", ns, index: { v: 2, ...spec } });
  }
  const after = req.host.store.collection(ns)?.indexes.length ?? 0;
  return {
    numIndexesBefore: existing === undefined ? 1 : before,
    numIndexesAfter: after,
    createdCollectionAutomatically: existing === undefined,
    ok: 1,
  };
}

function listDatabases(req: CommandRequest): Document {
  const nameOnly = bool(req.body.nameOnly);
  const names = new Set(["admin", "config", "local", ...req.host.store.databaseNames()]);
  const databases: Document[] = [];
  let total = 0;
  for (const name of [...names].sort()) {
    const size = Math.max(8192, req.host.store.sizeOf(name));
    total += size;
    databases.push(nameOnly ? { name } : { name, sizeOnDisk: new Int64(BigInt(size)), empty: false });
  }
  const filter = docArg(req.body.filter, "filter");
  const shown = filter === undefined ? databases : databases.filter((d) => matches(d, filter));
  if (nameOnly) return { databases: shown, ok: 1 };
  return { databases: shown, totalSize: new Int64(BigInt(total)), totalSizeMb: new Int64(BigInt(total >> 20)), ok: 1 };
}

// ---- diagnostics ------------------------------------------------------------

/**
 * The server version a wire version stands for (the first release that
 * reported it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versionForWire } from "./commands.ts";
 *
 * assert.equal(versionForWire(21), "7.0.0");
 * ```
 */
export function versionForWire(wire: number): string {
  const table: [number, string][] = [
    [25, "8.0.0"],
    [21, "7.0.0"],
    [17, "6.0.0"],
    [14, "5.1.0"],
    [13, "5.0.0"],
    [9, "4.4.0"],
    [8, "4.2.0"],
    [7, "4.0.0"],
    [6, "3.6.0"],
    [5, "3.4.0"],
    [4, "3.2.0"],
    [3, "3.0.0"],
    [2, "2.6.0"],
  ];
  for (const [w, v] of table) if (wire >= w) return v;
  return "2.4.0";
}

function buildInfo(req: CommandRequest): Document {
  const version = versionForWire(req.host.maxWireVersion);
  return {
    version,
    gitVersion: "0000000000000000000000000000000000000000",
    versionArray: [...version.split(".").map(Number), 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16777216,
    storageEngines: ["devnull", "ephemeralForTest", "wiredTiger"],
    javascriptEngine: "none",
    modules: [],
    ok: 1,
  };
}

function dbStats(req: CommandRequest): Document {
  const names = req.host.store.collectionNames(req.db);
  let objects = 0;
  for (const n of names) objects += req.host.store.documents(`${req.db}.${n}`).length;
  const dataSize = req.host.store.sizeOf(req.db);
  return {
    db: req.db,
    collections: names.length,
    views: 0,
    objects,
    avgObjSize: objects === 0 ? 0 : dataSize / objects,
    dataSize,
    storageSize: dataSize,
    indexes: names.length,
    ok: 1,
  };
}

function collStats(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(26, "NamespaceNotFound", `Collection [${ns}] not found.`);
  let size = 0;
  for (const d of c.documents) size += encode(d).length;
  return { ns, count: c.documents.length, size, storageSize: size, nindexes: c.indexes.length, ok: 1 };
}

const HANDLERS: Record<string, Handler> = {
  dbStats,
  collStats,
  find,
  getMore,
  killCursors,
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
  count,
  distinct,
  aggregate,
  create,
  drop,
  dropDatabase,
  listCollections,
  listIndexes,
  createIndexes,
  dropIndexes: () => ({ nIndexesWas: 1, ok: 1 }),
  listDatabases,
  ping: () => ({ ok: 1 }),
  configureFailPoint: (req) => req.host.failPoints.configure(req.body),
  buildInfo,
  buildinfo: buildInfo,
  serverStatus: (req) => req.host.serverStatus(),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  getLastError: (req) => ({ connectionId: req.conn.id, n: 0, err: null, ...req.conn.lastError, ok: 1 }),
  getlasterror: (req) => ({ connectionId: req.conn.id, n: 0, err: null, ...req.conn.lastError, ok: 1 }),
  whatsmyuri: (req) => ({ you: req.conn.peer, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  getParameter: () => ({ ok: 1 }),
  hello: (req) => req.host.hello(false, req.body, req.conn.id),
  isMaster: (req) => req.host.hello(true, req.body, req.conn.id),
  ismaster: (req) => req.host.hello(true, req.body, req.conn.id),
  replSetInitiate: (req) => req.host.replSetInitiate(req.body.replSetInitiate),
  replSetGetStatus: (req) => req.host.replSetGetStatus(),
  replSetGetConfig: (req) => req.host.replSetGetConfig(),
  replSetStepDown: (req) => req.host.replSetStepDown(num(req.body.replSetStepDown, "replSetStepDown", 60)),
  replSetFreeze: (req) => req.host.replSetFreeze(num(req.body.replSetFreeze, "replSetFreeze")),
};

/** Whether the member knows a command of this name (an unknown one gets CommandNotFound). */
export function isCommand(name: string): boolean {
  return Object.hasOwn(HANDLERS, name);
}

/**
 * Runs one command (state checks are the caller's) and returns its reply;
 * an unknown name gets CommandNotFound (59) as from mongod.
 *
 * @example
 * ```ts ignore
 * const reply = await runCommand({ host, db: "admin", name: "ping", body: { ping: 1 }, conn });
 * ```
 */
export async function runCommand(req: CommandRequest): Promise<Document> {
  const handler = Object.hasOwn(HANDLERS, req.name) ? HANDLERS[req.name] : undefined;
  if (handler === undefined || (req.name === "hello" && req.host.maxWireVersion < 13)) {
    return { ok: 0, errmsg: `no such command: '${req.name}'`, code: 59, codeName: "CommandNotFound" };
  }
  if (req.body.startTransaction !== undefined || req.body.autocommit !== undefined) {
    // Silently running a transaction's statements one by one would give
    // wrong answers on abort; refuse clearly instead.
    return {
      ok: 0,
      errmsg: "multi-document transactions are not supported by the simulated replica set",
      code: 20,
      codeName: "IllegalOperation",
    };
  }
  if (ADMIN_ONLY.has(req.name) && req.db !== "admin") {
    return {
      ok: 0,
      errmsg: `${req.name} may only be run against the admin database.`,
      code: 13,
      codeName: "Unauthorized",
    };
  }
  try {
    return await handler(req);
  } catch (e) {
    const f = toFailure(e);
    return { ok: 0, errmsg: f.errmsg, code: new Int32(f.code), codeName: f.codeName };
  }
}
