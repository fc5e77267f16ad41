/**
 * The `aggregate` command of the simulated server: a collection's pipeline
 * or a database's (`aggregate: 1` starting with `$documents`), with the
 * writing last stages `$out` and `$merge` (through the primary's oplog, also
 * from a 5.0+ secondary, checked against the target's unique indexes and
 * validator), and a
 * first `$collStats` stage (`coll_stats.ts`).
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { runPipeline, stageOf } from "./aggregate.ts";
import type { CommandHost, CommandRequest } from "./commands.ts";
import { checkHint, firstDuplicate } from "./indexes.ts";
import { openStream, pollStream, postBatchResumeToken } from "./change_streams.ts";
import type { ServerCursor } from "./store.ts";
import { validateDocument } from "./validation.ts";
import { readableDocuments, refuseView } from "./views.ts";
import { cloneValue, isPlainDocument, numericValue, valuesEqual } from "./query.ts";
import { letVariables, storeInsert, storeReplace } from "./write_commands.ts";
import { checkCollation, checkCollectionName, cursorReply, docArg, idFor, num, withIdFirst } from "./_args.ts";
import { serverError, typeMismatch } from "./_server_error.ts";
import { collStatsStage } from "./coll_stats.ts";

function target(db: string, arg: unknown, stage: string): string {
  if (typeof arg === "string") return `${db}.${checkCollectionName(db, arg)}`;
  if (isPlainDocument(arg) && typeof arg.coll === "string") {
    const d = typeof arg.db === "string" ? arg.db : db;
    return `${d}.${checkCollectionName(d, arg.coll)}`;
  }
  throw serverError(ErrorCode.FailedToParse, "FailedToParse", `${stage} needs a collection name or {db, coll}`);
}

function out(req: CommandRequest, ns: string, docs: Document[], bypass: boolean): void {
  refuseView(req.host.store, ns);
  // Checked in full before any write, so a failure leaves the target as it was.
  const seen: unknown[] = [];
  for (const d of docs) {
    const id = d._id;
    if (seen.some((x) => valuesEqual(x, id))) {
      throw serverError(ErrorCode.DuplicateKey, "DuplicateKey", `E11000 duplicate key error collection: ${ns} index: _id_ dup key: { _id: ${String(id)} }`, { keyPattern: { _id: 1 }, keyValue: { _id: id } });
    }
    seen.push(id);
  }
  const existing = req.host.store.collection(ns);
  // mongod writes into a temporary collection and renames it: all or nothing.
  for (const spec of existing?.indexes ?? []) {
    const clash = firstDuplicate(ns, docs, spec);
    if (clash !== undefined) throw clash;
  }
  if (existing !== undefined) for (const d of docs) validateDocument(existing.options, d, undefined, bypass);
  if (existing === undefined) req.host.logChange({ op: "create", ns });
  for (const d of [...(existing?.documents ?? [])]) req.host.logChange({ op: "d", ns, id: d._id });
  for (const d of docs) storeInsert(req, ns, d, bypass);
}

function merge(req: CommandRequest, spec: unknown, docs: Document[], bypass: boolean): string {
  const s = typeof spec === "string" ? { into: spec } : spec;
  if (!isPlainDocument(s)) throw typeMismatch("$merge needs a collection name or a specification");
  const ns = target(req.db, s.into, "$merge");
  refuseView(req.host.store, ns);
  const on = s.on === undefined ? ["_id"] : typeof s.on === "string" ? [s.on] : s.on;
  if (!Array.isArray(on) || on.some((f) => typeof f !== "string")) throw typeMismatch("$merge 'on' must be a string or an array of strings");
  const whenMatched = s.whenMatched ?? "merge";
  const whenNotMatched = s.whenNotMatched ?? "insert";
  if (Array.isArray(whenMatched) || s.let !== undefined) {
    throw serverError(ErrorCode.NotImplemented, "NotImplemented", "$merge with a pipeline for whenMatched is not supported by the simulated server");
  }
  if (!["replace", "keepExisting", "merge", "fail"].includes(whenMatched as string)) {
    throw serverError(ErrorCode.BadValue, "BadValue", `Enumeration value '${String(whenMatched)}' for field '$merge.whenMatched' is not a valid value.`);
  }
  if (!["insert", "discard", "fail"].includes(whenNotMatched as string)) {
    throw serverError(ErrorCode.BadValue, "BadValue", `Enumeration value '${String(whenNotMatched)}' for field '$merge.whenNotMatched' is not a valid value.`);
  }
  if (req.host.store.collection(ns) === undefined) req.host.logChange({ op: "create", ns });
  for (const d of docs) {
    const existing = req.host.store.documents(ns).find((x) => (on as string[]).every((f) => valuesEqual(x[f] ?? null, d[f] ?? null)));
    if (existing === undefined) {
      if (whenNotMatched === "discard") continue;
      if (whenNotMatched === "fail") throw serverError(13113, "MergeStageNoMatchingDocument", "$merge could not find a matching document in the target collection for at least one document in the source collection");
      storeInsert(req, ns, withIdFirst(d, idFor(d)), bypass);
      continue;
    }
    if (whenMatched === "keepExisting") continue;
    if (whenMatched === "fail") {
      throw serverError(ErrorCode.DuplicateKey, "DuplicateKey", `$merge failed due to a DuplicateKey error: E11000 duplicate key error collection: ${ns} index: _id_`, { keyPattern: { _id: 1 }, keyValue: { _id: existing._id } });
    }
    const next = whenMatched === "replace"
      ? withIdFirst(cloneValue(d), existing._id)
      : withIdFirst({ ...cloneValue(existing), ...cloneValue(d) }, existing._id);
    storeReplace(req, ns, existing, next, bypass, whenMatched === "replace" ? "replace" : "update");
  }
  return ns;
}

/** The first wire version (MongoDB 5.0) whose secondaries run `$out` and `$merge`. */
const SECONDARY_WRITE_STAGE_WIRE_VERSION = 13;

/** The request as the primary `host` runs it, or undefined without one. */
function withHost(req: CommandRequest, host: CommandHost | undefined): CommandRequest | undefined {
  return host === undefined || host.state !== "PRIMARY" ? undefined : { ...req, host };
}

/** `aggregate`: runs the pipeline and returns a cursor (empty after `$out`/`$merge`). */
export function aggregate(req: CommandRequest): Document {
  const b = req.body;
  const onDatabase = numericValue(b.aggregate) !== undefined && Number(numericValue(b.aggregate)) === 1;
  const source = onDatabase ? `${req.db}.$cmd.aggregate` : `${req.db}.${checkCollectionName(req.db, b.aggregate)}`;
  const pipeline = b.pipeline;
  if (!Array.isArray(pipeline)) throw typeMismatch("'pipeline' option must be specified as an array");
  if (b.explain !== undefined && b.explain !== false) {
    throw serverError(ErrorCode.NotImplemented, "NotImplemented", "explain is not supported by the simulated server");
  }
  if (!isPlainDocument(b.cursor)) {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  checkCollation(b.collation);
  if (!onDatabase) checkHint(req.host.store.collection(source), b.hint);
  const vars = letVariables(b.let);
  const names = pipeline.map((s) => stageOf(s)[0]);
  const listSessions = onDatabase && names[0] === "$listLocalSessions";
  if (listSessions) {
    const arg = (pipeline[0] as Document).$listLocalSessions;
    if (!isPlainDocument(arg) || Object.keys(arg).some((k) => k !== "allUsers" || arg[k] !== true)) {
      throw serverError(ErrorCode.NotImplemented, "NotImplemented", "$listLocalSessions supports {} and {allUsers: true} in the simulated server");
    }
  } else if (onDatabase && names[0] !== "$documents" && names[0] !== "$changeStream") {
    throw serverError(ErrorCode.InvalidNamespace, "InvalidNamespace", `{aggregate: 1} is not valid for '${names[0] ?? "an empty pipeline"}' in the simulated server ($documents and $listLocalSessions are)`);
  }
  if (names[0] === "$changeStream") {
    const state = openStream(req.host, req.db, onDatabase ? undefined : source.slice(req.db.length + 1), pipeline);
    const cursor = b.cursor as Document;
    const batchSize = cursor.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
    // Events already in the oplog (a resumed stream) come in the first batch.
    const pending: ServerCursor = { id: 0n, ns: source, docs: [], position: 0, stream: state };
    pollStream(req.host, pending);
    const { batch, id } = req.host.cursors.open(source, pending.docs, { batchSize, stream: state });
    const left = id === 0n ? undefined : req.host.cursors.get(id);
    const reply = cursorReply(source, batch, id, true);
    (reply.cursor as Document).postBatchResumeToken = postBatchResumeToken(left, batch, state);
    return reply;
  }
  if (names.slice(1).includes("$changeStream")) {
    throw serverError(40602, "Location40602", "$changeStream is only valid as the first stage in a pipeline");
  }
  const writeAt = names.findIndex((n) => n === "$out" || n === "$merge");
  if (writeAt >= 0 && writeAt !== names.length - 1) {
    throw serverError(40601, "Location40601", `${names[writeAt]} can only be the final stage in the pipeline`);
  }
  const writes = writeAt >= 0;
  // From 5.0 a secondary runs the pipeline on its own data and sends the writes to the primary.
  const writer = !writes || req.host.state === "PRIMARY"
    ? req
    : req.host.maxWireVersion >= SECONDARY_WRITE_STAGE_WIRE_VERSION && req.host.state === "SECONDARY"
    ? withHost(req, req.host.primaryHost?.())
    : undefined;
  if (writer === undefined) throw serverError(ErrorCode.NotWritablePrimary, "NotWritablePrimary", "not primary");
  const collStats = !onDatabase && names[0] === "$collStats";
  const input = listSessions
    ? req.host.localSessions.list()
    : collStats
    ? [collStatsStage(req, source, (pipeline[0] as Document).$collStats)]
    : onDatabase
    ? []
    : readableDocuments(req.host.store, source).map((d) => cloneValue(d));
  const stages = (writes ? pipeline.slice(0, -1) : pipeline).slice(listSessions || collStats ? 1 : 0);
  const docs = runPipeline(input, stages, vars);
  const cursor = b.cursor as Document;
  const batchSize = cursor.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
  if (writes) {
    const bypass = b.bypassDocumentValidation === true;
    const last = pipeline[pipeline.length - 1] as Document;
    if (names[writeAt] === "$out") out(writer, target(req.db, last.$out, "$out"), docs, bypass);
    else merge(writer, last.$merge, docs, bypass);
    return cursorReply(source, [], 0n, true);
  }
  const { batch, id } = req.host.cursors.open(source, docs, { batchSize });
  return cursorReply(source, batch, id, true);
}

/** Whether an aggregate command writes (its last stage is `$out` or `$merge`). */
export function aggregateWrites(body: Document): boolean {
  const p = body.pipeline;
  if (!Array.isArray(p) || p.length === 0) return false;
  const last = docArg(p[p.length - 1], "stage");
  return last !== undefined && (Object.hasOwn(last, "$out") || Object.hasOwn(last, "$merge"));
}
