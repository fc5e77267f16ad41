/**
 * Change streams of the simulated server, read from the set's oplog as far
 * as the member applied it: `aggregate` with a first `$changeStream` stage on
 * a collection, a database (`aggregate: 1`) or the cluster
 * (`allChangesForCluster` on admin). Events `insert`, `update` (with
 * `updateDescription`), `replace`, `delete`, `drop`, `rename`,
 * `dropDatabase` and `invalidate` (which ends the cursor); `fullDocument`
 * (`default`, `updateLookup`, `whenAvailable`, `required`); `resumeAfter`,
 * `startAfter` and `startAtOperationTime`; resume tokens (`{_data}`) on every
 * event and a `postBatchResumeToken` on every batch; getMore waits up to its
 * `maxTimeMS` for new events. `showExpandedEvents` and pre-images are
 * NotImplemented.
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
import { type Document, Int64, Timestamp } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { runPipeline, stageOf } from "./aggregate.ts";
import { cloneValue, isPlainDocument } from "./query.ts";
import { type OplogChange, type ServerCursor, splitNamespace, type Store } from "./store.ts";
import { badValue, serverError } from "./_server_error.ts";

/** Where a change stream reads from and what it shows. */
interface StreamState {
  db?: string;
  coll?: string;
  /** The next oplog index to read. */
  position: number;
  fullDocument: string;
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
    if (!["fullDocument", "resumeAfter", "startAfter", "startAtOperationTime", "allChangesForCluster"].includes(k)) {
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
  const base = (type: string, sub = 0): Document => ({
    _id: encodeToken(ts, sub),
    operationType: type,
    clusterTime: ts,
    wallTime: new Date(wall),
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
        return [{ ...base("replace"), fullDocument: cloneValue(c.doc), ns: nsDoc(c.ns), documentKey: { _id: c.id } }];
      }
      const e: Document = { ...base("update"), ns: nsDoc(c.ns), documentKey: { _id: c.id } };
      e.updateDescription = { ...cloneValue(c.update), truncatedArrays: [] };
      if (s.fullDocument !== "default") {
        const now = host.store.collection(c.ns)?.get(c.id);
        if (now === undefined && s.fullDocument === "required") {
          throw serverError(ErrorCode.NotImplemented, "NoMatchingDocument", `fullDocument required but the document is gone`);
        }
        e.fullDocument = now === undefined ? null : cloneValue(now);
      }
      return [e];
    }
    case "d":
      if (!inScope(s, c.ns)) return [];
      return [{ ...base("delete"), ns: nsDoc(c.ns), documentKey: { _id: c.id } }];
    case "drop":
      if (!inScope(s, c.ns)) return [];
      return s.coll !== undefined ? [{ ...base("drop"), ns: nsDoc(c.ns) }, invalidate()] : [{ ...base("drop"), ns: nsDoc(c.ns) }];
    case "rename": {
      if (!inScope(s, c.from) && !inScope(s, c.to)) return [];
      const e = { ...base("rename"), ns: nsDoc(c.from), to: nsDoc(c.to) };
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
      return [];
  }
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
