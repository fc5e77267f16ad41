/**
 * `client.bulkWrite(models, options)`: writes to any number of namespaces
 * in as few `bulkWrite` commands (MongoDB 8.0+) as the server's limits allow,
 * as `specs/crud/bulk-write.md` says: `ops` and `nsInfo` as document
 * sequences on the admin database, `errorsOnly` the inverse of
 * `verboseResults`, the results cursor read to its end, the summary counts
 * merged over the batches, and a {@linkcode ClientBulkWriteError} carrying
 * the write errors by model index, the write concern errors and the partial
 * result. Each batch is a retryable write (its own `txnNumber`, retried once)
 * unless a model is an `updateMany` or `deleteMany`; all run in one session.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ConfigurationError, MongoError, OperationFailure, WireProtocolError, WriteConcernError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import { encode } from "../bson/mod.ts";
import {
  checkDocument,
  checkInt,
  checkOptions,
  checkSignal,
  contextOf,
  count,
  cursorId,
  isDocument,
  isRetryableWriteError,
  show,
} from "./_internal.ts";
import { Deadline, execute, type PinnedConnection } from "./execute.ts";
import { checkSession, ClientSession, releaseServerSession, sessionState } from "./session.ts";
import { checkHint } from "./cursor_options.ts";
import { checkArrayFilters, checkOptionNames, checkReplacement, checkUpdate, withId } from "./_write.ts";
import { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
import { withRawData } from "./wire_features.ts";
import { ClientBulkWriteError, type ClientWriteErrorDetail } from "./client_bulk_write_error.ts";

export { ClientBulkWriteError, type ClientWriteErrorDetail } from "./client_bulk_write_error.ts";

/**
 * One write of {@linkcode ClientBulkWriteModel}: insert, update (one or
 * many), replace, or delete (one or many), each naming its namespace.
 *
 * @example
 * ```ts
 * import type { ClientBulkWriteModel } from "@zerodep/mongo";
 *
 * const models: ClientBulkWriteModel[] = [
 *   { insertOne: { namespace: "shop.orders", document: { _id: 1, total: 10 } } },
 *   { updateOne: { namespace: "shop.stock", filter: { sku: "a" }, update: { $inc: { n: -1 } } } },
 * ];
 * ```
 */
export type ClientBulkWriteModel =
  | { readonly insertOne: { readonly namespace: string; readonly document: Document } }
  | {
    readonly updateOne: ClientUpdateFields & {
      readonly update: Document | readonly Document[];
      readonly sort?: Document;
    };
  }
  | { readonly updateMany: ClientUpdateFields & { readonly update: Document | readonly Document[] } }
  | {
    readonly replaceOne: Omit<ClientUpdateFields, "arrayFilters"> & {
      readonly replacement: Document;
      readonly sort?: Document;
    };
  }
  | { readonly deleteOne: ClientDeleteFields }
  | { readonly deleteMany: ClientDeleteFields };

/**
 * The fields of a client bulk write's delete models.
 *
 * @example
 * ```ts
 * import type { ClientDeleteFields } from "@zerodep/mongo";
 *
 * const f: ClientDeleteFields = { namespace: "db.tasks", filter: { done: true }, hint: { done: 1 } };
 * ```
 */
export interface ClientDeleteFields {
  /** The namespace written to: `"database.collection"`. */
  readonly namespace: string;
  /** Which documents. */
  readonly filter: Document;
  /** Collation of the filter. */
  readonly collation?: Document;
  /** The index to use: its name or key pattern. */
  readonly hint?: string | Document;
}

/**
 * The fields of a client bulk write's update and replace models.
 *
 * @example
 * ```ts
 * import type { ClientUpdateFields } from "@zerodep/mongo";
 *
 * const f: ClientUpdateFields = { namespace: "db.tasks", filter: { _id: 1 }, upsert: true };
 * ```
 */
export interface ClientUpdateFields extends ClientDeleteFields {
  /** Filters for the positional `$[<id>]` operator. */
  readonly arrayFilters?: readonly Document[];
  /** Insert a document when none matches. */
  readonly upsert?: boolean;
}

/**
 * Options of {@linkcode clientBulkWrite} (`client.bulkWrite`).
 *
 * @example
 * ```ts
 * import type { ClientBulkWriteOptions } from "@zerodep/mongo";
 *
 * const options: ClientBulkWriteOptions = { ordered: false, verboseResults: true };
 * ```
 */
export interface ClientBulkWriteOptions {
  /** Stop at the first failed write (default `true`). */
  readonly ordered?: boolean;
  /** Skip document validation (sent only when set). */
  readonly bypassDocumentValidation?: boolean;
  /** Variables for every filter and update (`$$name`). */
  readonly let?: Document;
  /** Write concern (default: the client's). */
  readonly writeConcern?: WriteConcern;
  /** A comment to find the commands by in the server's logs. */
  readonly comment?: unknown;
  /** Report each write's result (`insertResults`, `updateResults`, `deleteResults`); default `false`. */
  readonly verboseResults?: boolean;
  /** Time-series collections: operate on the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
  /** Cancels the operation (earlier batches may have been written when it rejects). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the client's). */
  readonly timeoutMS?: number;
}

/**
 * The outcome of a client bulk write. The per-write maps, keyed by the
 * model's index, are set only with `verboseResults: true`; an unacknowledged
 * (`w: 0`) write has `acknowledged: false` and zero counts.
 *
 * @example
 * ```ts
 * import type { ClientBulkWriteResult } from "@zerodep/mongo";
 *
 * function report(r: ClientBulkWriteResult): string {
 *   return `${r.insertedCount} inserted, ${r.deletedCount} deleted`;
 * }
 * ```
 */
export interface ClientBulkWriteResult {
  /** Whether the server acknowledged the writes (false with `w: 0`: the counts are then 0). */
  acknowledged: boolean;
  /** Whether the per-write maps are set. */
  hasVerboseResults: boolean;
  /** Documents inserted. */
  insertedCount: number;
  /** Documents upserted by updates and replacements. */
  upsertedCount: number;
  /** Documents the updates and replacements matched. */
  matchedCount: number;
  /** Documents the updates and replacements changed. */
  modifiedCount: number;
  /** Documents deleted. */
  deletedCount: number;
  /** With `verboseResults`: the `_id` of each insert that succeeded. */
  insertResults?: Record<number, { insertedId: unknown }>;
  /** With `verboseResults`: each update or replace that succeeded (`upsertedId` only when it upserted). */
  updateResults?: Record<number, { matchedCount: number; modifiedCount: number; upsertedId?: unknown }>;
  /** With `verboseResults`: each delete that succeeded. */
  deleteResults?: Record<number, { deletedCount: number }>;
}

const OPTIONS: ReadonlySet<string> = new Set([
  "ordered",
  "bypassDocumentValidation",
  "let",
  "writeConcern",
  "comment",
  "verboseResults",
  "rawData",
  "signal",
  "session",
  "timeoutMS",
]);

/** Room for the OP_MSG header and the fields the runner adds (bulk-write.md: 1000 bytes). */
const MESSAGE_OVERHEAD_BYTES = 1000;

type Kind = "insert" | "update" | "delete";

/** One model as sent: its `ops` entry (the nsInfo index filled in per batch) and what the result needs. */
interface Op {
  readonly kind: Kind;
  readonly namespace: string;
  /** The `ops` document without its first field (`insert`/`update`/`delete`: the nsInfo index). */
  readonly fields: Document;
  /** The inserted document's `_id`. */
  readonly id?: unknown;
}

function checkNamespace(v: unknown, label: string): string {
  if (typeof v !== "string" || !/^[^.]+\..+$/.test(v)) {
    throw new ConfigurationError(`${label}: namespace must be "database.collection", got ${show(v)}`);
  }
  return v;
}

function opOf(model: unknown, index: number): Op {
  const what = `client bulkWrite model ${index}`;
  const m = checkDocument(model, what);
  const keys = Object.keys(m);
  if (keys.length !== 1) {
    throw new ConfigurationError(
      `${what} must have exactly one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany; got ${show(model)}`,
    );
  }
  const name = keys[0];
  const label = `${what} (${name})`;
  const args = checkDocument(m[name], label);
  const namespace = checkNamespace(args.namespace, label);
  const optional = (fields: Document, names: string[]): void => {
    for (const n of names) {
      if (args[n] === undefined) continue;
      if (n === "hint") checkHint(args.hint);
      else if (n === "upsert" && typeof args.upsert !== "boolean") throw new ConfigurationError(`${label}: upsert must be a boolean`);
      else if (n === "collation" || n === "sort") checkDocument(args[n], `${label} ${n}`);
      fields[n] = args[n];
    }
  };
  switch (name) {
    case "insertOne": {
      checkOptionNames(args, new Set(["namespace", "document"]), `${label} field`);
      const document = withId(checkDocument(args.document, `${label} document`));
      return { kind: "insert", namespace, fields: { document }, id: document._id };
    }
    case "updateOne":
    case "updateMany":
    case "replaceOne": {
      const replace = name === "replaceOne";
      const known = replace
        ? ["namespace", "filter", "replacement", "collation", "hint", "upsert", "sort"]
        : ["namespace", "filter", "update", "arrayFilters", "collation", "hint", "upsert", ...(name === "updateOne" ? ["sort"] : [])];
      checkOptionNames(args, new Set(known), `${label} field`);
      const fields: Document = {
        filter: checkDocument(args.filter, `${label} filter`),
        updateMods: replace ? checkReplacement(args.replacement, label) : checkUpdate(args.update, label),
        multi: name === "updateMany",
      };
      const arrayFilters = checkArrayFilters(args.arrayFilters, label);
      if (arrayFilters !== undefined) fields.arrayFilters = arrayFilters;
      optional(fields, ["hint", "collation", "upsert", "sort"]);
      return { kind: "update", namespace, fields };
    }
    case "deleteOne":
    case "deleteMany": {
      checkOptionNames(args, new Set(["namespace", "filter", "collation", "hint"]), `${label} field`);
      const fields: Document = { filter: checkDocument(args.filter, `${label} filter`), multi: name === "deleteMany" };
      optional(fields, ["hint", "collation"]);
      return { kind: "delete", namespace, fields };
    }
    default:
      throw new ConfigurationError(
        `${what}: unknown model ${JSON.stringify(name)} (insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany)`,
      );
  }
}

/** What the batches observed so far. */
interface Progress {
  readonly result: ClientBulkWriteResult;
  readonly insertResults: Record<number, { insertedId: unknown }>;
  readonly updateResults: Record<number, { matchedCount: number; modifiedCount: number; upsertedId?: unknown }>;
  readonly deleteResults: Record<number, { deletedCount: number }>;
  readonly writeErrors: Record<number, ClientWriteErrorDetail>;
  readonly writeConcernErrors: ClientWriteErrorDetail[];
  /** Whether at least one write succeeded. */
  succeeded: boolean;
}

function detailOf(d: Document): ClientWriteErrorDetail {
  const out: { code: number; message: string; details?: Document } = {
    code: count(d.code),
    message: typeof d.errmsg === "string" ? d.errmsg : "write error",
  };
  if (isDocument(d.errInfo)) out.details = d.errInfo;
  return out;
}

/**
 * Runs a client bulk write on `client` (a `Connection` or
 * `ReplicaSetConnection`); `client.bulkWrite(models, options)` calls this.
 *
 * @throws {ConfigurationError} for bad models or options (before any I/O).
 * @throws {ClientBulkWriteError} when a write or the write concern failed.
 * @example
 * ```ts ignore
 * const r = await client.bulkWrite([
 *   { insertOne: { namespace: "db.a", document: { _id: 1 } } },
 *   { deleteMany: { namespace: "db.b", filter: { old: true } } },
 * ], { verboseResults: true });
 * console.log(r.insertedCount, r.deleteResults);
 * ```
 */
export async function clientBulkWrite(
  client: { readonly writeConcern: WriteConcern; readonly timeoutMS: number | undefined },
  models: readonly ClientBulkWriteModel[],
  options: ClientBulkWriteOptions = {},
): Promise<ClientBulkWriteResult> {
  const opts = checkOptions(options, "client bulkWrite options");
  checkOptionNames(opts, OPTIONS, "client bulkWrite option");
  if (!Array.isArray(models)) throw new ConfigurationError(`client bulkWrite needs an array of models, got ${show(models)}`);
  if (models.length === 0) throw new ConfigurationError("client bulkWrite needs at least one write model");
  const ops = models.map((m, i) => opOf(m, i));
  for (const k of ["ordered", "bypassDocumentValidation", "verboseResults", "rawData"] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== "boolean") {
      throw new ConfigurationError(`client bulkWrite: ${k} must be a boolean, got ${show(opts[k])}`);
    }
  }
  const wc = opts.writeConcern === undefined ? client.writeConcern : checkWriteConcern(opts.writeConcern);
  const acknowledged = wc.w !== 0;
  const ordered = opts.ordered !== false;
  const verbose = opts.verboseResults === true;
  if (!acknowledged && verbose) throw new ConfigurationError("Cannot request unacknowledged write concern and verbose results");
  if (!acknowledged && ordered) throw new ConfigurationError("Cannot request unacknowledged write concern and ordered writes");
  const head: Document = { bulkWrite: 1, errorsOnly: !verbose, ordered };
  if (opts.bypassDocumentValidation !== undefined) head.bypassDocumentValidation = opts.bypassDocumentValidation;
  if (opts.comment !== undefined) head.comment = opts.comment;
  if (opts.let !== undefined) head.let = checkDocument(opts.let, "let");
  const timeoutMS = opts.timeoutMS === undefined ? client.timeoutMS : checkInt(opts.timeoutMS, "timeoutMS", 0);
  const signal = checkSignal(opts.signal);
  const ctx = contextOf(client);
  // In a transaction an explicit writeConcern is refused here, before any I/O (as every operation does).
  const session = checkSession(opts.session, ctx, opts);

  const p: Progress = {
    result: {
      acknowledged,
      hasVerboseResults: verbose,
      insertedCount: 0,
      upsertedCount: 0,
      matchedCount: 0,
      modifiedCount: 0,
      deletedCount: 0,
    },
    insertResults: {},
    updateResults: {},
    deleteResults: {},
    writeErrors: {},
    writeConcernErrors: [],
    succeeded: false,
  };
  const finish = (): ClientBulkWriteResult => {
    const r = { ...p.result };
    if (verbose) {
      r.insertResults = p.insertResults;
      r.updateResults = p.updateResults;
      r.deleteResults = p.deleteResults;
    }
    return r;
  };

  // One operation per batch (bulkWrite command), so that each is retried on its own with its own transaction
  // number (retryable writes); every batch under one deadline when timeoutMS is set, in one session.
  // A multi-document update or delete makes the whole bulk write not retryable (as for collection bulk writes).
  const retryable = ops.every((op) => op.fields.multi !== true);
  const deadline = Deadline.of(timeoutMS);
  const inSession = session ?? new ClientSession(ctx.client, undefined, true);
  try {
    let start = 0;
    while (start < ops.length) {
      // Fixed by the attempt that first reaches a connection: a retry sends the same writes.
      let end: number | undefined;
      const sent = await execute(ctx, {
        name: "bulkWrite",
        db: "admin",
        kind: "write",
        retryable,
        writeConcern: wc,
        timeoutMS,
        deadline,
        signal,
        session: inSession,
        plan: () => ({
          run: (server) =>
            server.withConnection(async (conn) => {
              const cmd = withRawData(head, opts.rawData, conn.conn.maxWireVersion);
              end ??= batchEnd(ops, start, cmd, conn);
              const reply = await sendBatch(conn, cmd, ops, start, end, server.retryableWrite, p);
              const batch: SentBatch = { reply, end, nextBatches: [] };
              if (acknowledged) await readCursor(conn, batch);
              return batch;
            }),
        }),
      });
      if (acknowledged && record(sent, ops, start, p, ordered)) break;
      start = sent.end;
    }
  } catch (e) {
    if (e instanceof ConfigurationError || !hasObserved(p)) throw e;
    throw new ClientBulkWriteError({
      error: e,
      writeErrors: p.writeErrors,
      writeConcernErrors: p.writeConcernErrors,
      ...(p.succeeded ? { partialResult: finish() } : {}),
    });
  } finally {
    if (inSession.isImplicit) {
      const s = sessionState(inSession);
      s.ended = true;
      releaseServerSession(s);
    }
  }
  if (Object.keys(p.writeErrors).length > 0 || p.writeConcernErrors.length > 0) {
    throw new ClientBulkWriteError({
      writeErrors: p.writeErrors,
      writeConcernErrors: p.writeConcernErrors,
      ...(p.succeeded ? { partialResult: finish() } : {}),
    });
  }
  return finish();
}

/** One batch as sent: its reply, the end of its model range, and what its results cursor gave. */
interface SentBatch {
  readonly reply: Document;
  readonly end: number;
  /** The `nextBatch` of each getMore. */
  readonly nextBatches: unknown[];
  /** A getMore that failed: a top-level error once the results before it are recorded. */
  getMoreError?: unknown;
}

function hasObserved(p: Progress): boolean {
  return p.succeeded || Object.keys(p.writeErrors).length > 0 || p.writeConcernErrors.length > 0;
}

/**
 * The end (exclusive) of the batch that starts at model `start`: at most
 * `maxWriteBatchSize` writes and `maxMessageSizeBytes - 1000` bytes of
 * command, `ops` and `nsInfo` each.
 */
function batchEnd(ops: readonly Op[], start: number, head: Document, conn: PinnedConnection): number {
  const maxWrites = conn.conn.maxWriteBatchSize > 0 ? conn.conn.maxWriteBatchSize : 100_000;
  const maxMessage = conn.conn.maxMessageSizeBytes > 0 ? conn.conn.maxMessageSizeBytes : 48_000_000;
  const room = maxMessage - MESSAGE_OVERHEAD_BYTES - encode(head).length;
  const seen = new Map<string, number>();
  let size = 0;
  let end = start;
  while (end < ops.length && end - start < maxWrites) {
    const op = ops[end];
    let added = encode({ [op.kind]: seen.get(op.namespace) ?? seen.size, ...op.fields }).length;
    if (!seen.has(op.namespace)) added += encode({ ns: op.namespace }).length;
    if (size + added > room) break;
    size += added;
    if (!seen.has(op.namespace)) seen.set(op.namespace, seen.size);
    end++;
  }
  if (end === start) {
    throw new ConfigurationError(
      `client bulkWrite model ${start} is too large to send: over the server's maxMessageSizeBytes (${maxMessage}) less ${MESSAGE_OVERHEAD_BYTES} bytes`,
    );
  }
  return end;
}

/**
 * Sends the models [start, end) as one `bulkWrite` command and returns its
 * reply. A write concern error is recorded in `p` and its reply returned,
 * unless it is one the retryable writes specification retries
 * (`retryableWrite`): then it is thrown, to the retry.
 */
async function sendBatch(
  conn: PinnedConnection,
  head: Document,
  ops: readonly Op[],
  start: number,
  end: number,
  retryableWrite: boolean,
  p: Progress,
): Promise<Document> {
  const nsIndex = new Map<string, number>();
  const opsDocs: Document[] = [];
  for (let i = start; i < end; i++) {
    const op = ops[i];
    if (!nsIndex.has(op.namespace)) nsIndex.set(op.namespace, nsIndex.size);
    opsDocs.push({ [op.kind]: nsIndex.get(op.namespace), ...op.fields });
  }
  const nsInfo = [...nsIndex.keys()].map((ns) => ({ ns }));
  try {
    return await conn.command(head, {
      sequences: [{ identifier: "ops", documents: opsDocs }, { identifier: "nsInfo", documents: nsInfo }],
    });
  } catch (e) {
    if (!(e instanceof WriteConcernError) || (retryableWrite && isRetryableWriteError(e, conn.conn.maxWireVersion))) {
      throw e;
    }
    const reply = e.response as Document;
    const wce = isDocument(reply.writeConcernError) ? reply.writeConcernError : {};
    p.writeConcernErrors.push(detailOf({ code: e.code, errmsg: e.errmsg ?? e.message, ...wce }));
    return reply;
  }
}

/**
 * Reads the batch's results cursor to its end: getMores on the connection of
 * the `bulkWrite` command, in its session but without its `txnNumber`. A
 * failed getMore is kept, not thrown, so that it is not retried as the write
 * (bulk-write.md: getMores are not retried).
 */
async function readCursor(conn: PinnedConnection, batch: SentBatch): Promise<void> {
  const cursor = isDocument(batch.reply.cursor) ? batch.reply.cursor : {};
  let id = cursorId(cursor.id);
  const ns = typeof cursor.ns === "string" ? cursor.ns : "admin.$cmd.bulkWrite";
  const collection = ns.slice(ns.indexOf(".") + 1);
  while (id !== 0n) {
    let more: Document;
    try {
      more = await conn.command({ getMore: id, collection }, { txnNumber: false });
    } catch (e) {
      batch.getMoreError = e;
      // A server error leaves the cursor open (unless it is already gone): close it, best effort, on the same
      // connection. After a network error the connection is gone, and the server reaps the idle cursor later.
      if (e instanceof OperationFailure && e.code !== ErrorCode.CursorNotFound) {
        await conn.command({ killCursors: collection, cursors: [id] }, { txnNumber: false }).catch(() => {});
      }
      return;
    }
    const c = isDocument(more.cursor) ? more.cursor : {};
    batch.nextBatches.push(c.nextBatch);
    id = cursorId(c.id);
  }
}

/**
 * Records an acknowledged batch in `p`: its summary counts and its results
 * (then throws a failed getMore's error). True when the bulk write must stop
 * (ordered, a write failed).
 */
function record(batch: SentBatch, ops: readonly Op[], start: number, p: Progress, ordered: boolean): boolean {
  const { reply, end } = batch;
  const r = p.result;
  r.insertedCount += count(reply.nInserted);
  r.upsertedCount += count(reply.nUpserted);
  r.matchedCount += count(reply.nMatched);
  r.modifiedCount += count(reply.nModified);
  r.deletedCount += count(reply.nDeleted);
  let failed = false;
  const take = (docs: unknown): void => {
    if (!Array.isArray(docs)) return;
    for (const d of docs.filter(isDocument)) {
      const index = start + count(d.idx);
      const op = ops[index];
      if (op === undefined) throw new WireProtocolError(`bulkWrite result for an unknown operation index ${show(d.idx)}`);
      if (count(d.ok) !== 1) {
        p.writeErrors[index] = detailOf(d);
        failed = true;
        continue;
      }
      p.succeeded = true;
      if (op.kind === "insert") p.insertResults[index] = { insertedId: op.id };
      else if (op.kind === "delete") p.deleteResults[index] = { deletedCount: count(d.n) };
      else {
        const u: { matchedCount: number; modifiedCount: number; upsertedId?: unknown } = {
          matchedCount: count(d.n),
          modifiedCount: count(d.nModified),
        };
        if (isDocument(d.upserted)) {
          u.upsertedId = d.upserted._id;
        }
        p.updateResults[index] = u;
      }
    }
  };
  const cursor = isDocument(reply.cursor) ? reply.cursor : {};
  take(cursor.firstBatch);
  for (const next of batch.nextBatches) take(next);
  // Summary counts tell of successes that errorsOnly left out of the cursor.
  const n = count(reply.nInserted) + count(reply.nUpserted) + count(reply.nMatched) + count(reply.nDeleted);
  if (n > 0) p.succeeded = true;
  if (!ordered && count(reply.nErrors) < end - start) p.succeeded = true;
  if (ordered && failed && Object.keys(p.writeErrors).some((k) => Number(k) > start)) p.succeeded = true;
  if (batch.getMoreError !== undefined) throw batch.getMoreError;
  return ordered && failed;
}
