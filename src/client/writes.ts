// insertOne, the update family (updateOne, updateMany, replaceOne) and the
// delete family (deleteOne, deleteMany): one write command each, with its
// statement as a kind-1 document sequence. Collection delegates here; not
// part of the public API (the options and results are in
// collection_options.ts).

import { checkUnacknowledgedHint, withRawData } from "./wire_features.ts";
import type { Document } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { checkBoolean, checkDocument, checkOptions, count, isDocument } from "./_internal.ts";
import { execute } from "./execute.ts";
import { checkHint } from "./cursor_options.ts";
import {
  checkArrayFilters,
  checkOptionNames,
  checkReplacement,
  checkUpdate,
  type CollectionLike,
  operationBase,
  throwIfFailed,
  withId,
  writeConcernOf,
  type WriteOutcome,
} from "./_write.ts";
import type {
  DeleteOptions,
  DeleteResult,
  InsertOneResult,
  UpdateOptions,
  UpdateResult,
  WriteOptions,
} from "./collection_options.ts";

const WRITE_OPTIONS = ["writeConcern", "bypassDocumentValidation", "signal", "session", "timeoutMS", "comment", "rawData"];
const INSERT_ONE_OPTIONS: ReadonlySet<string> = new Set(WRITE_OPTIONS);
const UPDATE_OPTIONS: ReadonlySet<string> = new Set([
  ...WRITE_OPTIONS,
  "upsert",
  "arrayFilters",
  "hint",
  "collation",
  "let",
  "sort",
]);
const REPLACE_OPTIONS: ReadonlySet<string> = new Set([...UPDATE_OPTIONS].filter((k) => k !== "arrayFilters"));
const DELETE_OPTIONS: ReadonlySet<string> = new Set([...WRITE_OPTIONS, "hint", "collation", "let"]);

/** A write command with one statement; `parse` gets the reply and, when the write concern failed, that error. */
function writeOne<R>(
  coll: CollectionLike,
  kind: "insert" | "update" | "delete",
  options: WriteOptions & { readonly let?: Document },
  retryable: boolean,
  statement: Document,
  parse: (outcome: WriteOutcome) => R,
): Promise<R> {
  const base = operationBase(coll, options);
  const cmd: Document = { [kind]: coll.name };
  cmd.ordered = true;
  if (options.bypassDocumentValidation !== undefined) {
    cmd.bypassDocumentValidation = checkBoolean(options.bypassDocumentValidation, "bypassDocumentValidation");
  }
  if (options.comment !== undefined) cmd.comment = options.comment;
  if (options.let !== undefined) cmd.let = checkDocument(options.let, "let");
  return execute(base.ctx, {
    name: kind,
    db: base.db,
    kind: "write",
    retryable,
    writeConcern: writeConcernOf(coll, options),
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    session: base.session,
    plan: (server) => {
      const wire = server.description.maxWireVersion;
      if (kind !== "insert") {
        checkUnacknowledgedHint(kind, statement.hint !== undefined, writeConcernOf(coll, options).w !== 0, wire);
      }
      return {
        command: withRawData(cmd, options.rawData, wire),
        sequences: [{
          identifier: kind === "insert" ? "documents" : kind === "update" ? "updates" : "deletes",
          documents: [statement],
        }],
        writeConcernErrorInReply: true,
        parse: (reply, concernError) => parse({ reply, concernError }),
      };
    },
  });
}

/** `Collection.insertOne`. */
export async function insertOne(
  coll: CollectionLike,
  doc: unknown,
  options: WriteOptions | undefined,
): Promise<InsertOneResult> {
  const opts = checkOptions(options, "insertOne options");
  checkOptionNames(opts, INSERT_ONE_OPTIONS, "insertOne option");
  const toSend = withId(checkDocument(doc, "the document to insert"));
  const acknowledged = writeConcernOf(coll, opts).w !== 0;
  return await writeOne(coll, "insert", opts, true, toSend, (outcome) => {
    throwIfFailed(outcome, { insertedCount: count(outcome.reply.n) });
    return { acknowledged, insertedId: toSend._id };
  });
}

/** `updateOne`, `updateMany` (`multi`) and `replaceOne` (`replace`). */
export async function runUpdate(
  coll: CollectionLike,
  what: string,
  filter: unknown,
  update: unknown,
  multi: boolean,
  replace: boolean,
  options: UpdateOptions | undefined,
): Promise<UpdateResult> {
  const q = checkDocument(filter, `the ${what} filter`);
  const opts = checkOptions(options, `${what} options`);
  checkOptionNames(opts, replace ? REPLACE_OPTIONS : UPDATE_OPTIONS, `${what} option`);
  const u = replace ? checkReplacement(update, what) : checkUpdate(update, what);
  checkHint(opts.hint);
  const statement: Document = { q, u, multi };
  if (opts.upsert !== undefined) statement.upsert = checkBoolean(opts.upsert, "upsert");
  const arrayFilters = checkArrayFilters(opts.arrayFilters, what);
  if (arrayFilters !== undefined) statement.arrayFilters = arrayFilters;
  if (opts.hint !== undefined) statement.hint = opts.hint;
  if (opts.collation !== undefined) statement.collation = checkDocument(opts.collation, "collation");
  if (opts.sort !== undefined) {
    if (multi) throw new ConfigurationError(`${what} takes no sort (it updates every matching document)`);
    statement.sort = checkDocument(opts.sort, "sort");
  }
  const acknowledged = writeConcernOf(coll, opts).w !== 0;
  // updateMany is not a retryable write (it may touch many documents).
  return await writeOne(coll, "update", opts, !multi, statement, (outcome) => {
    const reply = outcome.reply;
    const upserted = Array.isArray(reply.upserted) ? reply.upserted.filter(isDocument) : [];
    const result: UpdateResult = {
      acknowledged,
      matchedCount: Math.max(0, count(reply.n) - upserted.length),
      modifiedCount: count(reply.nModified),
      upsertedCount: upserted.length,
      upsertedId: upserted.length > 0 ? upserted[0]._id : null,
    };
    throwIfFailed(outcome, { ...result });
    return result;
  });
}

/** `deleteOne` (`limit` 1) and `deleteMany` (`limit` 0). */
export async function runDelete(
  coll: CollectionLike,
  what: string,
  filter: unknown,
  limit: 0 | 1,
  options: DeleteOptions | undefined,
): Promise<DeleteResult> {
  const q = checkDocument(filter, `the ${what} filter`);
  const opts = checkOptions(options, `${what} options`);
  checkOptionNames(opts, DELETE_OPTIONS, `${what} option`);
  checkHint(opts.hint);
  const statement: Document = { q, limit };
  if (opts.hint !== undefined) statement.hint = opts.hint;
  if (opts.collation !== undefined) statement.collation = checkDocument(opts.collation, "collation");
  const acknowledged = writeConcernOf(coll, opts).w !== 0;
  // deleteMany is not a retryable write.
  return await writeOne(coll, "delete", opts, limit === 1, statement, (outcome) => {
    const result: DeleteResult = { acknowledged, deletedCount: count(outcome.reply.n) };
    throwIfFailed(outcome, { ...result });
    return result;
  });
}
