/**
 * `bulkWrite` and `insertMany`: a list of writes sent as few `insert`,
 * `update` and `delete` commands as the server's limits allow (the CRUD
 * specification's bulk write API), on one connection, with the partial
 * result kept when some fail.
 *
 * @module
 */

import { checkUnacknowledgedHint, withRawData } from "./wire_features.ts";
import { ClientSession, releaseServerSession, sessionState } from "./session.ts";
import {
  BulkWriteError,
  BulkWriteInterruptedError,
  type BulkWriteResult,
  ConfigurationError,
  ConnectionFailure,
  OperationFailure,
  WireProtocolError,
  WriteConcernError,
  type WriteErrorDetail,
} from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import {
  checkBoolean,
  checkDocument,
  checkOptions,
  count,
  isDocument,
  isRetryableWriteError,
  show,
  typeError,
} from "./_internal.ts";
import { Deadline, execute, type PinnedConnection } from "./execute.ts";
import { checkHint } from "./cursor_options.ts";
import {
  checkArrayFilters,
  checkOptionNames,
  checkReplacement,
  checkUpdate,
  type CollectionLike,
  operationBase,
  parseWriteErrors,
  withId,
  writeConcernOf,
} from "./_write.ts";
import type { InsertManyOptions, InsertManyResult, OptionalId, SchemaDocument } from "./collection_options.ts";
import type { WriteConcern } from "./write_concern.ts";

export type { BulkWriteResult };

/**
 * One write of {@linkcode Collection.bulkWrite}: the six models of the CRUD
 * specification, each under its name.
 *
 * @example
 * ```ts
 * import type { AnyBulkWriteOperation } from "@zerodep/mongo";
 *
 * const ops: AnyBulkWriteOperation[] = [
 *   { insertOne: { document: { _id: 1, n: 0 } } },
 *   { updateOne: { filter: { _id: 1 }, update: { $inc: { n: 1 } } } },
 *   { updateMany: { filter: {}, update: { $set: { seen: true } } } },
 *   { replaceOne: { filter: { _id: 2 }, replacement: { n: 5 }, upsert: true } },
 *   { deleteOne: { filter: { _id: 1 } } },
 *   { deleteMany: { filter: { n: { $gt: 10 } } } },
 * ];
 * ```
 */
export type AnyBulkWriteOperation<T extends SchemaDocument = Document> =
  | { insertOne: { document: OptionalId<T> } }
  | { updateOne: UpdateModel }
  | { updateMany: UpdateModel }
  | { replaceOne: ReplaceModel<T> }
  | { deleteOne: DeleteModel }
  | { deleteMany: DeleteModel };

/**
 * An `updateOne` or `updateMany` of {@linkcode AnyBulkWriteOperation}.
 *
 * @example
 * ```ts
 * import type { UpdateModel } from "@zerodep/mongo";
 *
 * const m: UpdateModel = { filter: { _id: 1 }, update: { $set: { "a.$[x]": 0 } }, arrayFilters: [{ x: { $lt: 0 } }] };
 * ```
 */
export interface UpdateModel {
  /** Which documents. */
  filter: Document;
  /** Update operators, or an aggregation pipeline. */
  update: Document | readonly Document[];
  /** Insert a document when none matches. */
  upsert?: boolean;
  /** Filters for the positional `$[<id>]` operator. */
  arrayFilters?: readonly Document[];
  /** Collation of the filter. */
  collation?: Document;
  /** The index to use: its name or key pattern. */
  hint?: string | Document;
  /** With `updateOne`: which matching document to update first (MongoDB 8.0+). */
  sort?: Document;
}

/**
 * A `replaceOne` of {@linkcode AnyBulkWriteOperation}.
 *
 * @example
 * ```ts
 * import type { ReplaceModel } from "@zerodep/mongo";
 *
 * const m: ReplaceModel = { filter: { _id: 1 }, replacement: { n: 1 }, upsert: true };
 * ```
 */
export interface ReplaceModel<T extends SchemaDocument = Document> {
  /** Which document. */
  filter: Document;
  /** The new document (no update operators). */
  replacement: OptionalId<T>;
  /** Insert the replacement when none matches. */
  upsert?: boolean;
  /** Collation of the filter. */
  collation?: Document;
  /** The index to use: its name or key pattern. */
  hint?: string | Document;
  /** Which matching document to replace first (MongoDB 8.0+). */
  sort?: Document;
}

/**
 * A `deleteOne` or `deleteMany` of {@linkcode AnyBulkWriteOperation}.
 *
 * @example
 * ```ts
 * import type { DeleteModel } from "@zerodep/mongo";
 *
 * const m: DeleteModel = { filter: { expired: true }, hint: { expired: 1 } };
 * ```
 */
export interface DeleteModel {
  /** Which documents. */
  filter: Document;
  /** Collation of the filter. */
  collation?: Document;
  /** The index to use: its name or key pattern. */
  hint?: string | Document;
}

/**
 * Options of {@linkcode Collection.bulkWrite}.
 *
 * @example
 * ```ts
 * import type { BulkWriteOptions } from "@zerodep/mongo";
 *
 * const options: BulkWriteOptions = { ordered: false, writeConcern: { w: "majority" } };
 * ```
 */
export interface BulkWriteOptions {
  /** Stop at the first failed write (default `true`); `false` runs every write it can, in any order. */
  readonly ordered?: boolean;
  /** Skip the collection's document validation rules. */
  readonly bypassDocumentValidation?: boolean;
  /** Variables for the filters and updates (`$$name`), MongoDB 5.0+ (update and delete commands). */
  readonly let?: Document;
  /** A comment to find the commands by in the server's logs (MongoDB 4.4+). */
  readonly comment?: unknown;
  /** Write concern of the writes (default: the collection's). */
  readonly writeConcern?: WriteConcern;
  /** Cancels the operation (earlier batches may have been written when it rejects). */
  readonly signal?: AbortSignal;
  /** Runs the operation in this session (from `startSession()`); default: an implicit session of its own. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
  /** Time-series collections: operate on the buckets as stored (sent to MongoDB 8.2+, left out for older servers). */
  readonly rawData?: boolean;
}

const BULK_OPTIONS: ReadonlySet<string> = new Set([
  "rawData",
  "ordered",
  "bypassDocumentValidation",
  "let",
  "comment",
  "writeConcern",
  "signal",
  "session",
  "timeoutMS",
]);

type Kind = "insert" | "update" | "delete";

/** One statement of a write command, with the index of its model in the caller's list. */
interface Statement {
  readonly kind: Kind;
  readonly index: number;
  readonly body: Document;
}

const IDENTIFIER: Record<Kind, string> = { insert: "documents", update: "updates", delete: "deletes" };

/** The statement a model becomes; throws a ConfigurationError naming the model for bad input. */
function statementOf(model: unknown, index: number): Statement {
  const what = `bulkWrite model ${index}`;
  const m = checkDocument(model, what);
  const keys = Object.keys(m);
  if (keys.length !== 1) {
    throw new ConfigurationError(
      `${what} must have exactly one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany; got ${
        show(model)
      }`,
    );
  }
  const name = keys[0];
  const args = checkDocument(m[name], `${what} (${name})`);
  const label = `${what} (${name})`;
  switch (name) {
    case "insertOne":
      checkOptionNames(args, new Set(["document"]), `${label} field`);
      return { kind: "insert", index, body: withId(checkDocument(args.document, `${label} document`)) };
    case "updateOne":
    case "updateMany":
    case "replaceOne": {
      const replace = name === "replaceOne";
      const known = replace
        ? ["filter", "replacement", "upsert", "collation", "hint", "sort"]
        : ["filter", "update", "upsert", "arrayFilters", "collation", "hint", ...(name === "updateOne" ? ["sort"] : [])];
      checkOptionNames(args, new Set(known), `${label} field`);
      const body: Document = {
        q: checkDocument(args.filter, `${label} filter`),
        u: replace ? checkReplacement(args.replacement, label) : checkUpdate(args.update, label),
        multi: name === "updateMany",
      };
      if (args.upsert !== undefined) {
        checkBoolean(args.upsert, "upsert", label);
        body.upsert = args.upsert;
      }
      const arrayFilters = checkArrayFilters(args.arrayFilters, label);
      if (arrayFilters !== undefined) body.arrayFilters = arrayFilters;
      addCollationAndHint(body, args, label);
      if (args.sort !== undefined) body.sort = checkDocument(args.sort, `${label} sort`);
      return { kind: "update", index, body };
    }
    case "deleteOne":
    case "deleteMany": {
      checkOptionNames(args, new Set(["filter", "collation", "hint"]), `${label} field`);
      const body: Document = { q: checkDocument(args.filter, `${label} filter`), limit: name === "deleteOne" ? 1 : 0 };
      addCollationAndHint(body, args, label);
      return { kind: "delete", index, body };
    }
    default:
      throw new ConfigurationError(
        `${what}: unknown model ${JSON.stringify(name)}; ` +
          "use insertOne, updateOne, updateMany, replaceOne, deleteOne or deleteMany",
      );
  }
}

function addCollationAndHint(body: Document, args: Document, label: string): void {
  if (args.collation !== undefined) body.collation = checkDocument(args.collation, `${label} collation`);
  checkHint(args.hint);
  if (args.hint !== undefined) body.hint = args.hint;
}

/**
 * The statements in the groups they are sent in: ordered, each run of one
 * kind in the caller's order; unordered, all inserts, then all updates,
 * then all deletes (the server may run an unordered batch in any order).
 */
function groups(statements: readonly Statement[], ordered: boolean): Statement[][] {
  if (!ordered) {
    return (["insert", "update", "delete"] as const)
      .map((kind) => statements.filter((s) => s.kind === kind))
      .filter((g) => g.length > 0);
  }
  const out: Statement[][] = [];
  for (const s of statements) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0].kind === s.kind) last.push(s);
    else out.push([s]);
  }
  return out;
}

/** What a bulk write did, before it becomes a result or an error. */
interface Outcome {
  result: BulkWriteResult;
  writeErrors: WriteErrorDetail[];
  concernErrors: WriteConcernError[];
  lastReply: Document;
  /** The command failure (`ok: 0`) or network error that stopped the bulk write, if one did. */
  failure?: OperationFailure | ConnectionFailure;
}

/**
 * Sends the statements; resolves to what happened (write errors, write
 * concern errors, and a command failure that stopped it, included).
 */
async function run(
  coll: CollectionLike,
  statements: readonly Statement[],
  options: BulkWriteOptions,
  what: string,
): Promise<Outcome> {
  const base = operationBase(coll, options);
  const wc = writeConcernOf(coll, options);
  checkBoolean(options.ordered, "ordered", what);
  const ordered = options.ordered !== false;
  const extra: Document = { ordered };
  if (options.bypassDocumentValidation !== undefined) {
    checkBoolean(options.bypassDocumentValidation, "bypassDocumentValidation", what);
    extra.bypassDocumentValidation = options.bypassDocumentValidation;
  }
  if (options.comment !== undefined) extra.comment = options.comment;
  const letVars = options.let === undefined ? undefined : checkDocument(options.let, "let");
  const acknowledged = wc.w !== 0;
  const outcome: Outcome = {
    result: {
      acknowledged,
      insertedCount: 0,
      matchedCount: 0,
      modifiedCount: 0,
      deletedCount: 0,
      upsertedCount: 0,
      insertedIds: {},
      upsertedIds: {},
    },
    writeErrors: [],
    concernErrors: [],
    lastReply: {},
  };
  const r = outcome.result;

  // One command for `batch`: "stop" when an ordered bulk write must stop, "split" when the batch is too
  // large to encode (nothing was sent: the caller sends it in halves, each with its own transaction number).
  const send = async (
    conn: PinnedConnection,
    batch: Statement[],
    retryableWrite: boolean,
  ): Promise<"stop" | "split" | "sent"> => {
    const kind = batch[0].kind;
    const cmd = withRawData({ [kind]: base.coll, ...extra }, options.rawData, conn.conn.maxWireVersion);
    if (letVars !== undefined && kind !== "insert") cmd.let = letVars;
    let reply: Document;
    try {
      reply = await conn.command(cmd, {
        sequences: [{ identifier: IDENTIFIER[kind], documents: batch.map((s) => s.body) }],
      });
    } catch (e) {
      if (e instanceof WriteConcernError && !(retryableWrite && isRetryableWriteError(e, conn.conn.maxWireVersion))) {
        reply = e.response as Document;
        outcome.concernErrors.push(e);
      } else if (e instanceof WireProtocolError && e.address === undefined && batch.length > 1) {
        return "split";
      } else {
        throw e;
      }
    }
    outcome.lastReply = reply;
    const errors = parseWriteErrors(reply, (i) => batch[i]?.index ?? i);
    outcome.writeErrors.push(...errors);
    const failed = new Set(errors.map((e) => e.index));
    // An ordered batch stops at its first error: the statements after it did not run.
    const ran = ordered && errors.length > 0
      ? batch.slice(0, batch.findIndex((s) => s.index === errors[0].index) + 1)
      : batch;
    const n = count(reply.n);
    if (kind === "insert") {
      if (acknowledged) r.insertedCount += n;
      for (const s of ran) if (!failed.has(s.index)) r.insertedIds[s.index] = s.body._id;
    } else if (kind === "update") {
      const upserted = Array.isArray(reply.upserted) ? reply.upserted.filter(isDocument) : [];
      for (const u of upserted) r.upsertedIds[batch[count(u.index)]?.index ?? count(u.index)] = u._id;
      r.upsertedCount += upserted.length;
      r.matchedCount += Math.max(0, n - upserted.length);
      r.modifiedCount += count(reply.nModified);
    } else {
      r.deletedCount += n;
    }
    return ordered && errors.length > 0 ? "stop" : "sent";
  };

  // One operation per write command (batch), so that each is retried on its own with its own transaction
  // number (retryable writes); every batch under one deadline when timeoutMS is set, in one session.
  const retryable = statements.every((s) => s.body.multi !== true && s.body.limit !== 0);
  const deadline = Deadline.of(base.timeoutMS);
  const session = base.session ?? new ClientSession(base.ctx.client, undefined, true);
  try {
    for (const group of groups(statements, ordered)) {
      let start = 0;
      // Ends of the halves still to send after a split (the last one is next), as halving recursively would.
      const ends: number[] = [];
      while (start < group.length) {
        const step = await execute(base.ctx, {
          name: statements.every((s) => s.kind === "insert") ? "insert" : "bulkWrite",
          db: base.db,
          kind: "write",
          retryable,
          writeConcern: wc,
          timeoutMS: base.timeoutMS,
          deadline,
          signal: base.signal,
          session,
          plan: () => ({
            run: (server) => {
              for (const s of statements) {
                if (s.kind === "insert") continue;
                checkUnacknowledgedHint(
                  s.kind,
                  s.body.hint !== undefined,
                  acknowledged,
                  server.server.description.maxWireVersion,
                );
              }
              return server.withConnection(async (conn) => {
                const max = conn.conn.maxWriteBatchSize > 0 ? conn.conn.maxWriteBatchSize : 1000;
                const end = ends.length > 0 ? ends[ends.length - 1] : Math.min(start + max, group.length);
                const result = await send(conn, group.slice(start, end), server.retryableWrite);
                return { result, end };
              });
            },
          }),
        });
        if (step.result === "split") {
          if (ends.length > 0) ends.pop();
          ends.push(step.end, start + Math.ceil((step.end - start) / 2));
          continue;
        }
        if (step.result === "stop") return outcome;
        if (ends.length > 0) ends.pop();
        start = step.end;
      }
    }
  } catch (e) {
    // A command failure (ok: 0) or a network error, after any retry, stops the bulk write: kept with what the
    // batches before it did.
    const stops = e instanceof ConnectionFailure ||
      (e instanceof OperationFailure && !(e instanceof WriteConcernError) && !(e instanceof BulkWriteError));
    if (!stops) throw e;
    outcome.failure = e;
  } finally {
    if (session.isImplicit) {
      const s = sessionState(session);
      s.ended = true;
      releaseServerSession(s);
    }
  }
  return outcome;
}

/** The error for an outcome with failures, or `undefined`. */
function bulkError(outcome: Outcome): BulkWriteError | BulkWriteInterruptedError | undefined {
  const failure = outcome.failure;
  if (failure instanceof ConnectionFailure) {
    return new BulkWriteInterruptedError(failure, outcome.result, outcome.writeErrors);
  }
  if (outcome.writeErrors.length === 0 && outcome.concernErrors.length === 0 && failure === undefined) return undefined;
  return new BulkWriteError({
    writeErrors: outcome.writeErrors,
    writeConcernErrors: outcome.concernErrors.map((e) =>
      isDocument(e.response.writeConcernError) ? e.response.writeConcernError : { code: e.code, errmsg: e.errmsg }
    ),
    result: outcome.result,
    response: failure?.response ?? outcome.lastReply,
    cause: failure ?? outcome.concernErrors[0],
    ...(failure === undefined ? {} : { failure }),
  });
}

/** Runs `models` as `Collection.bulkWrite` does. */
export async function bulkWrite(
  coll: CollectionLike,
  models: unknown,
  options: BulkWriteOptions | undefined,
): Promise<BulkWriteResult> {
  const opts = checkOptions(options, "bulkWrite options");
  checkOptionNames(opts, BULK_OPTIONS, "bulkWrite option");
  if (!Array.isArray(models)) {
    throw typeError("the bulkWrite models", "an array of write models", models);
  }
  if (models.length === 0) throw new ConfigurationError("bulkWrite needs at least one write model");
  const statements = models.map(statementOf);
  const outcome = await run(coll, statements, opts, "bulkWrite");
  const error = bulkError(outcome);
  if (error !== undefined) throw error;
  return outcome.result;
}

const INSERT_MANY_OPTIONS: ReadonlySet<string> = new Set([
  "rawData",
  "ordered",
  "bypassDocumentValidation",
  "comment",
  "writeConcern",
  "signal",
  "session",
  "timeoutMS",
]);

/** Runs `Collection.insertMany`: `insertedIds` has every document's `_id`; failures as in `bulkWrite`. */
export async function insertMany(
  coll: CollectionLike,
  docs: unknown,
  options: InsertManyOptions | undefined,
): Promise<InsertManyResult> {
  const opts = checkOptions(options, "insertMany options");
  checkOptionNames(opts, INSERT_MANY_OPTIONS, "insertMany option");
  if (!Array.isArray(docs)) throw typeError("the insertMany documents", "an array of documents", docs);
  if (docs.length === 0) throw new ConfigurationError("insertMany needs at least one document");
  const statements: Statement[] = docs.map((d, i) => ({
    kind: "insert",
    index: i,
    body: withId(checkDocument(d, `document ${i} of insertMany`)),
  }));
  const outcome = await run(coll, statements, opts, "insertMany");
  if (outcome.failure !== undefined) throw outcome.failure;
  // Without write errors, a failed write concern is the WriteConcernError itself (as for insertOne).
  if (outcome.writeErrors.length === 0 && outcome.concernErrors.length > 0) throw outcome.concernErrors[0];
  const error = bulkError(outcome);
  if (error !== undefined) throw error;
  const insertedIds: Record<number, unknown> = {};
  statements.forEach((s) => insertedIds[s.index] = s.body._id);
  return { acknowledged: outcome.result.acknowledged, insertedCount: outcome.result.insertedCount, insertedIds };
}
