/**
 * The database commands a simulated member answers: CRUD with cursors, the
 * catalog commands, diagnostics and the replica-set admin commands (the
 * latter delegated to the set). Each takes the decoded command and returns
 * the reply document; failures are thrown as server errors and turned into
 * `{ok: 0, errmsg, code, codeName}` by the member.
 *
 * @module
 */
import { type Document, Int32, Int64 } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { aggregate } from "./aggregate_command.ts";
import { CATALOG_COMMANDS } from "./catalog.ts";
import { checkGetMoreFailPoint, type FailPoints } from "./fail_points.ts";
import type { LocalSessions } from "./sessions.ts";
import type { RetryableStatements } from "./retryable_writes.ts";
import { checkHint } from "./indexes.ts";
import { applyMinMax, returnKeys } from "./find_bounds.ts";
import {
  cloneValue,
  compareValues,
  getPath,
  isPlainDocument,
  matches,
  numericValue,
  project,
  sortDocuments,
  valuesEqual,
} from "./query.ts";
import type { CursorRegistry, OplogChange, OplogView, Store } from "./store.ts";
import { pollStream, postBatchResumeToken, streamDone } from "./change_streams.ts";
import { deleteCommand, findAndModify, insert, letVariables, update } from "./write_commands.ts";
import { withVariables } from "./expressions.ts";
import { withCollation } from "./collation.ts";
import {
  bool,
  checkCollation,
  checkCollectionName,
  cursorReply,
  docArg,
  num,
  selectDocuments,
  show,
} from "./_args.ts";
import { badValue, serverError, toFailure, typeMismatch } from "./_server_error.ts";
import { unsupportedByVersion } from "./server_features.ts";
import { clientBulkWrite } from "./client_bulk_write.ts";
import { storageStats } from "./coll_stats.ts";

/** What a member offers the commands. */
export interface CommandHost {
  /** The set's primary, where a 5.0+ secondary sends the writes of `$out` and `$merge`; undefined when there is none. */
  primaryHost?(): CommandHost | undefined;
  readonly store: Store;
  readonly cursors: CursorRegistry;
  readonly failPoints: FailPoints;
  /** The logical sessions seen, for `$listLocalSessions`. */
  readonly localSessions: LocalSessions;
  /** The member's state (`PRIMARY`, `SECONDARY`...). */
  readonly state: string;
  /** The oplog as far as this member applied it (change streams). */
  oplog(): OplogView;
  /** Waits (on the set's timers, cut short when it closes). */
  sleep(ms: number): Promise<void>;
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
  /** A router's connection to the shard (`mongos.ts`): authenticated as the cluster's own. */
  readonly router?: boolean;
}

/** One command to run. */
export interface CommandRequest {
  readonly host: CommandHost;
  readonly db: string;
  readonly name: string;
  readonly body: Document;
  readonly conn: ConnectionState;
  /** A retryable write's statements (see `retryable_writes.ts`). */
  readonly retry?: RetryableStatements;
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
  "deleteIndexes",
  "renameCollection",
  "collMod",
  "bulkWrite",
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
  "commitTransaction",
  "abortTransaction",
  "renameCollection",
  "listDatabases",
  "replSetInitiate",
  "replSetGetStatus",
  "replSetStepDown",
  "replSetFreeze",
  "replSetGetConfig",
]);

function collectionArg(req: CommandRequest): string {
  return checkCollectionName(req.db, req.body[req.name]);
}

// ---- CRUD -------------------------------------------------------------------

function find(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  const b = req.body;
  checkCollation(b.collation);
  checkHint(req.host.store.collection(ns), b.hint);
  for (const k of ["oplogReplay"]) {
    if (b[k] !== undefined && b[k] !== false) {
      throw serverError(ErrorCode.NotImplemented, "NotImplemented", `find option '${k}' is not supported by the simulated server`);
    }
  }
  const tailable = bool(b.tailable);
  if (tailable || bool(b.awaitData)) {
    if (!tailable) throw badValue("Cannot set 'awaitData' without also setting 'tailable'");
    if (req.host.store.collection(ns)?.options.capped !== true) {
      throw badValue(`error processing query: ns=${ns} tailable cursor requested on non capped collection`);
    }
    if (b.sort !== undefined && Object.keys(b.sort as Document).length > 0) {
      throw badValue("error processing query: tailable cursor requested with a sort; only $natural order is supported");
    }
  }
  const filter = docArg(b.filter, "filter");
  let docs = withVariables(letVariables(b.let), () => selectDocuments(req.host.store, ns, filter));
  docs = applyMinMax(docs, req.host.store.collection(ns), b);
  sortDocuments(docs, docArg(b.sort, "sort"));
  const all = req.host.store.documents(ns);
  const tail = tailable
    ? {
      awaitData: bool(b.awaitData),
      lastId: all.length > 0 ? all[all.length - 1]._id : undefined,
      filter: filter ?? {},
      ...(isPlainDocument(b.projection) ? { projection: b.projection } : {}),
    }
    : undefined;
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
  docs = b.returnKey === true || b.showRecordId === true
    ? returnKeys(docs, req.host.store.collection(ns), b)
    : docs.map((d) => project(cloneValue(d), projection));
  const batchSize = b.batchSize === undefined ? undefined : num(b.batchSize, "batchSize");
  if (batchSize !== undefined && batchSize < 0) throw badValue("batchSize must be non-negative");
  const { batch, id } = req.host.cursors.open(ns, docs, { batchSize, singleBatch, ...(tail ? { tail } : {}) });
  return cursorReply(ns, batch, id, true);
}

// A tailable cursor with nothing pending takes the documents inserted since
// it last looked; CappedPositionLost when its place was trimmed away.
function refill(req: CommandRequest, cursorId: bigint): boolean {
  const cursor = req.host.cursors.get(cursorId);
  const tail = cursor?.tail;
  if (cursor === undefined || tail === undefined || cursor.docs.length > 0) return true;
  const c = req.host.store.collection(cursor.ns);
  if (c === undefined) {
    req.host.cursors.kill(cursorId);
    throw serverError(ErrorCode.QueryPlanKilled, "QueryPlanKilled", "collection dropped");
  }
  const docs = c.documents;
  let start = 0;
  if (tail.lastId !== undefined) {
    const at = docs.findIndex((d) => valuesEqual(d._id, tail.lastId));
    if (at < 0) {
      req.host.cursors.kill(cursorId);
      throw serverError(ErrorCode.CappedPositionLost, "CappedPositionLost", `CollectionScan died due to position in capped collection being deleted.`);
    }
    start = at + 1;
  }
  if (start >= docs.length) return false;
  const fresh = docs.slice(start);
  tail.lastId = fresh[fresh.length - 1]._id;
  for (const d of fresh) if (matches(d, tail.filter)) cursor.docs.push(project(cloneValue(d), tail.projection));
  return cursor.docs.length > 0;
}

async function getMore(req: CommandRequest): Promise<Document> {


  const rawId = req.body.getMore;
  const n = numericValue(rawId);
  if (n === undefined || typeof rawId === "number" || (typeof n === "number" && !Number.isInteger(n))) {
    throw typeMismatch(`Field 'getMore' must be of type long in: ${show(req.body)}`);
  }
  const coll = req.body.collection;
  if (typeof coll !== "string") throw typeMismatch("Field 'collection' must be of type string");
  const ns = `${req.db}.${coll}`;
  const batchSize = req.body.batchSize === undefined ? undefined : num(req.body.batchSize, "batchSize");
  const cursorId = BigInt(n);
  const open = req.host.cursors.get(cursorId);
  if (open !== undefined) checkGetMoreFailPoint(req.host.failPoints, open.stream !== undefined);
  if (open?.stream !== undefined && open.ns === ns) {
    if (!pollStream(req.host, open) && !streamDone(open.stream)) {
      const until = Date.now() + num(req.body.maxTimeMS, "maxTimeMS", 1000);
      while (Date.now() < until && req.host.state !== "DOWN" && !pollStream(req.host, open)) {
        await req.host.sleep(Math.min(10, until - Date.now()));
      }
    }
    const { batch } = req.host.cursors.next(cursorId, batchSize, ns);
    const ended = streamDone(open.stream) && open.docs.length === 0;
    if (ended) req.host.cursors.kill(cursorId);
    const reply = cursorReply(ns, batch, ended ? 0n : cursorId, false);
    (reply.cursor as Document).postBatchResumeToken = postBatchResumeToken(open, batch, open.stream);
    return reply;
  }
  const tail = open?.tail;
  if (tail !== undefined && req.host.cursors.namespaceOf(cursorId) === ns && !refill(req, cursorId) && tail.awaitData) {
    // awaitData: wait for an insert up to maxTimeMS (mongod's default: 1 s).
    const until = Date.now() + num(req.body.maxTimeMS, "maxTimeMS", 1000);
    while (Date.now() < until && req.host.state !== "DOWN" && !refill(req, cursorId)) {
      await req.host.sleep(Math.min(10, until - Date.now()));
    }
  }
  const { batch, id } = req.host.cursors.next(cursorId, batchSize, ns);
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

function count(req: CommandRequest): Document {
  const coll = collectionArg(req);
  const ns = `${req.db}.${coll}`;
  checkCollation(req.body.collation);
  checkHint(req.host.store.collection(ns), req.body.hint);
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
  checkCollation(req.body.collation);
  checkHint(req.host.store.collection(`${req.db}.${coll}`), req.body.hint);
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

// ---- diagnostics ------------------------------------------------------------

/**
 * The server version a wire version stands for: the first release that
 * reported it, except 7.0, whose answers follow 7.0.5 (search index commands
 * refused with SearchNotEnabled, as the index management tests expect).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versionForWire } from "./commands.ts";
 *
 * assert.equal(versionForWire(21), "7.0.5");
 * ```
 */
export function versionForWire(wire: number): string {
  const table: [number, string][] = [
    [27, "8.2.0"],
    [25, "8.0.0"],
    [21, "7.0.5"],
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
  const ns = `${req.db}.${collectionArg(req)}`;
  return { ns, ...storageStats(req, ns), ok: 1 };
}

function notInTransaction(name: string): Document {
  return {
    ok: 0,
    errmsg: `${name} must be run within a transaction: send lsid, txnNumber and autocommit: false`,
    code: ErrorCode.InvalidOptions,
    codeName: "InvalidOptions",
  };
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
  bulkWrite: clientBulkWrite,
  count,
  distinct,
  aggregate,
  ...CATALOG_COMMANDS,
  ping: () => ({ ok: 1 }),
  // The legacy MONGODB-CR nonce (until 6.1; server_features.ts refuses it from 6.2 on, as mongod does).
  getnonce: () => ({
    nonce: Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join(""),
    ok: 1,
  }),
  configureFailPoint: (req) => req.host.failPoints.configure(req.body),
  buildInfo,
  buildinfo: buildInfo,
  serverStatus: (req) => req.host.serverStatus(),
  endSessions: (req) => {
    req.host.localSessions.end(req.body.endSessions);
    return { ok: 1 };
  },
  // The session fields of these are handled before the command runs (transactions.ts).
  killSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  commitTransaction: (req) => notInTransaction(req.name),
  abortTransaction: (req) => notInTransaction(req.name),
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
  const tooOld = unsupportedByVersion(req.name, req.body, req.host.maxWireVersion);
  if (tooOld !== undefined) return tooOld;
  if (ADMIN_ONLY.has(req.name) && req.db !== "admin") {
    return {
      ok: 0,
      errmsg: `${req.name} may only be run against the admin database.`,
      code: 13,
      codeName: "Unauthorized",
    };
  }
  try {
    // A command-level collation governs its string comparisons (statement-level ones in update/delete).
    return await withCollation(req.body.collation, () => handler(req));
  } catch (e) {
    const f = toFailure(e);
    return { ok: 0, errmsg: f.errmsg, code: new Int32(f.code), codeName: f.codeName, ...f.extra };
  }
}
