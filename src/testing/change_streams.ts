/**
 * Change streams of the simulated server, read from the set's oplog as far
 * as the member applied it: `aggregate` with a first `$changeStream` stage on
 * a collection, a database (`aggregate: 1`) or the cluster
 * (`allChangesForCluster` on admin). Events `insert`, `update` (with
 * `updateDescription`), `replace`, `delete`, `drop`, `rename`,
 * `dropDatabase` and `invalidate` (which ends the cursor); `fullDocument`
 * (`default`, `updateLookup`, `whenAvailable`, `required`); `resumeAfter`,
 * `startAfter` and `startAtOperationTime`; `fullDocumentBeforeChange`
 * (`off`, `whenAvailable`, `required`) from the pre-images recorded for
 * collections with `changeStreamPreAndPostImages` on, which also give the
 * post-images of `fullDocument: whenAvailable`/`required`; resume tokens (`{_data}`) on every
 * event and a `postBatchResumeToken` on every batch; getMore waits up to its
 * `maxTimeMS` for new events. With `showExpandedEvents`: `create`, `createIndexes`,
 * `dropIndexes` and `modify` events (`operationDescription`), `rename`'s
 * `operationDescription`, `collectionUUID`, and `disambiguatedPaths` in
 * `updateDescription` (no `shardCollection` and the like: no sharding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timestamp } from "../bson/mod.ts";
 * import { decodeToken, encodeToken } from "./change_streams.ts";
 *
 * const t = encodeToken(new Timestamp({ t: 5, i: 2 }), 0);
 * assert.deepEqual(decodeToken(t), { t: 5, i: 2, sub: 0 });
 * ```
 *
 * @module
 */
import { type Document, Int32, Int64, Timestamp } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { runPipeline, stageOf } from "./aggregate.ts";
import { cloneValue, isPlainDocument } from "./query.ts";
import { type OplogChange, type ServerCursor, splitNamespace, type StampedChange, type Store } from "./store.ts";
import { badValue, serverError } from "./_server_error.ts";

/** Where a change stream reads from and what it shows. */
interface StreamState {
  /** Whether `create` events carry `nsType` (mongod 8.1+). */
  nsType?: boolean;
  db?: string;
  coll?: string;
  /** The next oplog index to read. */
  position: number;
  fullDocument: string;
  /** `off`, `whenAvailable` or `required`. */
  fullDocumentBeforeChange: string;
  /** showExpandedEvents: DDL events, `collectionUUID`, `disambiguatedPaths`. */
  expanded: boolean;
  pipeline: unknown[];
  /** The token of the last oplog entry read (the high-water mark). */
  highWater: Document;
  /** An invalidate was produced: the cursor ends once it is returned. */
  done: boolean;
  /** Resuming after a transaction's event: the rest of that entry's events (sub-event numbers above `sub`). */
  within?: { index: number; sub: number };
}

/** What change streams need from the member. */
export interface StreamHost {
  readonly store: Store;
  /** The member's wire version: `create` events carry `nsType` from 8.1 (26). */
  readonly maxWireVersion?: number;
  oplog(): {
    entries: readonly { ts: Timestamp; wall: number; change: OplogChange }[];
    applied: number;
  };
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** A resume token for an oplog timestamp (`sub` 1: the invalidate that follows it). */
export function encodeToken(ts: Timestamp, sub: number): Document {
  return { _data: `82${hex(ts.t, 8)}${hex(ts.i, 8)}${hex(sub, 2)}` };
}

/** The timestamp and sub-event a resume token stands for. */
export function decodeToken(token: unknown): { t: number; i: number; sub: number } {
  const data = isPlainDocument(token) ? token._data : undefined;
  if (typeof data !== "string" || !/^82[0-9A-F]{18}$/.test(data)) {
    throw serverError(260, "InvalidResumeToken", `invalid resume token: ${JSON.stringify(token)}`);
  }
  return { t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16), sub: parseInt(data.slice(18), 16) };
}

function after(ts: Timestamp, t: number, i: number): boolean {
  return ts.t > t || (ts.t === t && ts.i > i);
}

/**
 * Opens a change stream for `aggregate` (its first stage is `$changeStream`);
 * returns the stream state for the cursor.
 */
export function openStream(
  host: StreamHost,
  db: string,
  target: string | undefined,
  pipeline: unknown[],
): StreamState {
  const [, raw] = stageOf(pipeline[0]);
  if (!isPlainDocument(raw)) throw badValue("$changeStream takes an object");
  const spec = raw;
  for (const k of Object.keys(spec)) {
    if (!["fullDocument", "fullDocumentBeforeChange", "showExpandedEvents", "resumeAfter", "startAfter", "startAtOperationTime", "allChangesForCluster"].includes(k)) {
      throw serverError(ErrorCode.NotImplemented, "NotImplemented", `$changeStream option '${k}' is not supported by the simulated server`);
    }
  }
  const cluster = spec.allChangesForCluster === true;
  if (cluster && db !== "admin") throw badValue("$changeStream with allChangesForCluster must run against the admin database");
  if (!cluster && target === undefined && db === "admin") {
    throw badValue("$changeStream on the admin database needs allChangesForCluster: true");
  }
  const fullDocument = spec.fullDocument ?? "default";
  if (!["default", "updateLookup", "whenAvailable", "required"].includes(fullDocument as string)) {
    throw badValue(`unknown fullDocument mode: ${String(fullDocument)}`);
  }
  if (spec.showExpandedEvents !== undefined && typeof spec.showExpandedEvents !== "boolean") {
    throw serverError(14, "TypeMismatch", "'showExpandedEvents' must be a boolean");
  }
  const fullDocumentBeforeChange = spec.fullDocumentBeforeChange ?? "off";
  if (!["off", "whenAvailable", "required"].includes(fullDocumentBeforeChange as string)) {
    throw badValue(`unknown fullDocumentBeforeChange mode: ${String(fullDocumentBeforeChange)}`);
  }
  for (const s of pipeline.slice(1)) {
    const [name] = stageOf(s);
    if (!["$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith"].includes(name)) {
      throw serverError(ErrorCode.IllegalOperation, "IllegalOperation", `${name} is not permitted in a $changeStream pipeline`);
    }
  }
  const { entries, applied } = host.oplog();
  let position = applied;
  let within: { index: number; sub: number } | undefined;
  const starts = [spec.resumeAfter, spec.startAfter, spec.startAtOperationTime].filter((x) => x !== undefined);
  if (starts.length > 1) throw badValue("only one of resumeAfter, startAfter and startAtOperationTime may be given");
  if (spec.resumeAfter !== undefined || spec.startAfter !== undefined) {
    const tok = decodeToken(spec.resumeAfter ?? spec.startAfter);
    if (tok.sub === 1 && spec.resumeAfter !== undefined) {
      throw serverError(260, "InvalidResumeToken", "Cannot resume a change stream after an invalidate; use startAfter");
    }
    const first = entries.findIndex((e) => e.ts.t === tok.t && e.ts.i === tok.i);
    if (first < 0 && !entries.some((e) => !after(e.ts, tok.t, tok.i))) {
      throw serverError(286, "ChangeStreamHistoryLost", "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
    }
    position = entries.findIndex((e) => after(e.ts, tok.t, tok.i));
    if (position < 0) position = entries.length;
    // A transaction's events share its entry's time: resume within the entry.
    if (tok.sub >= 2 && first >= 0 && entries[first].change.op === "applyOps") {
      position = first;
      within = { index: first, sub: tok.sub };
    }
  } else if (spec.startAtOperationTime !== undefined) {
    const ts = spec.startAtOperationTime;
    if (!(ts instanceof Timestamp)) throw badValue("startAtOperationTime must be a timestamp");
    position = entries.findIndex((e) => !after(ts, e.ts.t, e.ts.i));
    if (position < 0) position = entries.length;
  }
  const last = entries[Math.min(position, applied) - 1];
  return {
    ...(cluster ? {} : { db }),
    ...(target !== undefined ? { coll: target } : {}),
    position,
    fullDocument: fullDocument as string,
    fullDocumentBeforeChange: fullDocumentBeforeChange as string,
    expanded: spec.showExpandedEvents === true,
    nsType: (host.maxWireVersion ?? 0) >= 26,
    pipeline: pipeline.slice(1),
    highWater: last !== undefined ? encodeToken(last.ts, 0) : encodeToken(new Timestamp({ t: 0, i: 0 }), 0),
    done: false,
    ...(within !== undefined ? { within } : {}),
  };
}

function inScope(s: StreamState, ns: string): boolean {
  const [db, coll] = splitNamespace(ns);
  if (s.db !== undefined && db !== s.db) return false;
  if (s.coll !== undefined && coll !== s.coll) return false;
  return !coll.startsWith("system.") && db !== "admin" && db !== "config" && db !== "local";
}

function nsDoc(ns: string): Document {
  const [db, coll] = splitNamespace(ns);
  return { db, coll };
}

// The events one oplog entry makes for this stream.
function eventsOf(host: StreamHost, s: StreamState, ts: Timestamp, wall: number, c: OplogChange): Document[] {
  const ui = (c as StampedChange).ui;
  const base = (type: string, sub = 0): Document => ({
    _id: encodeToken(ts, sub),
    operationType: type,
    clusterTime: ts,
    wallTime: new Date(wall),
    // With showExpandedEvents: the collection's UUID (not on database-wide events nor invalidate).
    ...(s.expanded && ui !== undefined && sub === 0 && c.op !== "dropDatabase" ? { collectionUUID: ui } : {}),
  });
  const invalidate = () => {
    s.done = true;
    return base("invalidate", 1);
  };
  switch (c.op) {
    case "i":
      if (!inScope(s, c.ns)) return [];
      return [{ ...base("insert"), fullDocument: cloneValue(c.doc), ns: nsDoc(c.ns), documentKey: { _id: c.doc._id } }];
    case "u": {
      if (!inScope(s, c.ns)) return [];
      if (c.update === undefined) {
        const r = { ...base("replace"), fullDocument: cloneValue(c.doc), ns: nsDoc(c.ns), documentKey: { _id: c.id } };
        return [withPreImage(s, r, c.pre)];
      }
      const e: Document = { ...base("update"), ns: nsDoc(c.ns), documentKey: { _id: c.id } };
      const { disambiguatedPaths, ...described } = cloneValue(c.update) as unknown as Document;
      e.updateDescription = { truncatedArrays: [], ...described, ...(s.expanded ? { disambiguatedPaths: disambiguatedPaths ?? {} } : {}) };
      if (s.fullDocument === "updateLookup") {
        const now = host.store.collection(c.ns)?.get(c.id);
        e.fullDocument = now === undefined ? null : cloneValue(now);
      } else if (s.fullDocument !== "default") {
        // whenAvailable / required: the post-image, recorded when the collection has changeStreamPreAndPostImages on.
        if (c.pre === undefined && s.fullDocument === "required") throw missingImage("post-image");
        e.fullDocument = c.pre === undefined ? null : cloneValue(c.doc);
      }
      return [withPreImage(s, e, c.pre)];
    }
    case "d":
      if (!inScope(s, c.ns)) return [];
      return [withPreImage(s, { ...base("delete"), ns: nsDoc(c.ns), documentKey: { _id: c.id } }, c.pre)];
    case "drop":
      if (!inScope(s, c.ns)) return [];
      return s.coll !== undefined ? [{ ...base("drop"), ns: nsDoc(c.ns) }, invalidate()] : [{ ...base("drop"), ns: nsDoc(c.ns) }];
    case "rename": {
      if (!inScope(s, c.from) && !inScope(s, c.to)) return [];
      const e: Document = { ...base("rename"), ns: nsDoc(c.from), to: nsDoc(c.to) };
      if (s.expanded) {
        e.operationDescription = { to: nsDoc(c.to), ...(c.dropTarget !== undefined ? { dropTarget: c.dropTarget } : {}) };
      }
      return s.coll !== undefined ? [e, invalidate()] : [e];
    }
    case "applyOps": {
      // A transaction's writes: one event each, with the session that made them.
      const session = c.session === undefined ? {} : { lsid: c.session.lsid, txnNumber: new Int64(c.session.txnNumber) };
      return c.changes.flatMap((x, i) =>
        eventsOf(host, s, ts, wall, x).map((e) => ({ ...e, _id: encodeToken(ts, 2 + Math.min(i, 253)), ...session }))
      );
    }
    case "dropDatabase": {
      if (s.db !== undefined && s.db !== c.db) return [];
      if (s.coll !== undefined) return [{ ...base("drop"), ns: { db: c.db, coll: s.coll } }, invalidate()];
      const e = { ...base("dropDatabase"), ns: { db: c.db } };
      return s.db !== undefined ? [e, invalidate()] : [e];
    }
    default:
      return s.expanded ? expandedEvents(s, c, base) : [];
  }
}

// The DDL events a stream with showExpandedEvents reports (mongod 6.0+).
function expandedEvents(s: StreamState, c: OplogChange, base: (type: string) => Document): Document[] {
  const event = (type: string, ns: string, description: Document): Document[] =>
    inScope(s, ns) ? [{ ...base(type), ns: nsDoc(ns), operationDescription: description }] : [];
  switch (c.op) {
    case "create": {
      const o = c.options ?? {};
      const nsType = o.viewOn !== undefined ? "view" : o.timeseries !== undefined ? "timeseries" : "collection";
      const created = o.viewOn !== undefined
        ? event("create", c.ns, { viewOn: o.viewOn, pipeline: o.pipeline ?? [] })
        : event("create", c.ns, { idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: "_id_" }, ...cloneValue(o) });
      return s.nsType === true ? created.map((e) => ({ ...e, nsType })) : created;
    }
    case "createIndex":
      return event("createIndexes", c.ns, { indexes: [cloneValue(c.index)] });
    case "dropIndexes":
      return event("dropIndexes", c.ns, { indexes: cloneValue(c.specs ?? c.names.map((name) => ({ name }))) });
    case "collMod":
      return event("modify", c.ns, cloneValue(c.options));
    case "indexOptions":
      return event("modify", c.ns, { index: { name: c.name, ...cloneValue(c.options) } });
    default:
      return [];
  }
}

function missingImage(what: string): Error {
  return serverError(
    47,
    "NoMatchingDocument",
    `Change stream was configured to require a ${what} for all update, delete and replace events, but the ${what} was not found for event`,
  );
}

/** Adds `fullDocumentBeforeChange` as the stream asks (`whenAvailable`: null without a pre-image; `required`: an error). */
function withPreImage(s: StreamState, e: Document, pre: Document | undefined): Document {
  if (s.fullDocumentBeforeChange === "off") return e;
  if (pre === undefined && s.fullDocumentBeforeChange === "required") throw missingImage("pre-image");
  e.fullDocumentBeforeChange = pre === undefined ? null : cloneValue(pre);
  return e;
}

/**
 * Reads what the oplog gained since the stream last looked into the
 * cursor's pending documents; true when it holds any.
 */
export function pollStream(host: StreamHost, cursor: ServerCursor): boolean {
  const s = cursor.stream as StreamState;
  const { entries, applied } = host.oplog();
  while (!s.done && s.position < applied) {
    const index = s.position++;
    const e = entries[index];
    s.highWater = encodeToken(e.ts, 0);
    let events = eventsOf(host, s, e.ts, e.wall, e.change);
    if (s.within?.index === index) {
      const { sub } = s.within;
      events = events.filter((ev) => decodeToken(ev._id).sub > sub);
      s.within = undefined;
    }
    const tokens = new Set(events.map((x) => (x._id as Document)._data));
    for (const ev of runPipeline(events, s.pipeline)) {
      if (!isPlainDocument(ev._id) || !tokens.has(ev._id._data) || Object.keys(ev._id).length !== 1) {
        throw serverError(280, "ChangeStreamFatalError", "Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.");
      }
      cursor.docs.push(ev);
    }
  }
  return cursor.docs.length > 0;
}

/**
 * The `postBatchResumeToken` after a batch: the last event's token while
 * more are pending, the high-water mark otherwise.
 */
export function postBatchResumeToken(cursor: ServerCursor | undefined, batch: Document[], state: unknown): Document {
  const s = state as StreamState;
  if (cursor !== undefined && cursor.docs.length > 0 && batch.length > 0) return batch[batch.length - 1]._id as Document;
  if (s.done && batch.length > 0) return batch[batch.length - 1]._id as Document;
  return s.highWater;
}

/** Whether a stream ended (an invalidate was returned). */
export function streamDone(state: unknown): boolean {
  return (state as StreamState).done;
}
