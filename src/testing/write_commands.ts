/**
 * The write commands of the simulated server: `insert`, `update`, `delete`
 * (ordered and unordered, one write error per failed statement with its
 * index) and `findAndModify` (query, sort, remove, update documents and
 * pipelines, new, fields, upsert, arrayFilters, hint, let,
 * bypassDocumentValidation). Every document written passes the
 * collection's validator and unique indexes first (E11000 with
 * `keyPattern`/`keyValue`), then goes through the oplog to the secondaries.
 *
 * @module
 */
import { type Document, Int32 } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { applyPipelineUpdate } from "./aggregate.ts";
import type { CommandRequest } from "./commands.ts";
import type { OplogChange, UpdateDescription } from "./store.ts";
import { evaluate, setPath, type Variables, withVariables } from "./expressions.ts";
import { withCollation } from "./collation.ts";
import { refuseView } from "./views.ts";
import { checkHint, duplicateKeyError } from "./indexes.ts";
import { checkStorableNames } from "./server_features.ts";
import {
  applyUpdate,
  cloneValue,
  isOperatorUpdate,
  isPlainDocument,
  matches,
  project,
  sortDocuments,
  upsertSeed,
  valuesEqual,
} from "./query.ts";
import { validateDocument } from "./validation.ts";
import {
  bool,
  checkCollation,
  checkCollectionName,
  checkId,
  docArg,
  idFor,
  num,
  sameBytes,
  selectDocuments,
  show,
  withIdFirst,
} from "./_args.ts";
import { badValue, serverError, toFailure, typeMismatch } from "./_server_error.ts";

function namespace(req: CommandRequest): string {
  const ns = `${req.db}.${checkCollectionName(req.db, req.body[req.name])}`;
  refuseView(req.host.store, ns);
  return ns;
}

/** The `let` variables of a command, evaluated once. */
export function letVariables(raw: unknown): Variables {
  if (raw === undefined || raw === null) return {};
  if (!isPlainDocument(raw)) throw typeMismatch("'let' must be an object");
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(raw)) out[k] = evaluate(raw[k], {}, out);
  return out;
}

// A change a write statement makes, carrying the statement when it is a retryable write's.
function logWrite(req: CommandRequest, change: OplogChange): void {
  req.host.logChange(req.retry?.tag(change) ?? change);
}

/** Inserts one document after the validator and unique-index checks; logs it for replication. */
export function storeInsert(req: CommandRequest, ns: string, doc: Document, bypass: boolean): void {
  const c = req.host.store.collection(ns);
  if (c !== undefined) validateDocument(c.options, doc, undefined, bypass);
  const dup = duplicateKeyError(ns, c, doc, undefined);
  if (dup !== undefined) throw dup;
  // An insert into a missing collection creates it, as mongod logs it (a "create" event with showExpandedEvents).
  if (c === undefined) req.host.logChange({ op: "create", ns });
  logWrite(req, { op: "i", ns, doc });
}

/** The pre-image an update or delete records when its collection has `changeStreamPreAndPostImages` on. */
function preImage(req: CommandRequest, ns: string, before: Document): { pre?: Document } {
  const images = req.host.store.collection(ns)?.options.changeStreamPreAndPostImages;
  return isPlainDocument(images) && images.enabled === true ? { pre: cloneValue(before) } : {};
}

/** Replaces one document after the same checks; false when nothing changed. */
export function storeReplace(
  req: CommandRequest,
  ns: string,
  before: Document,
  next: Document,
  bypass: boolean,
  kind: "update" | "replace" = "update",
): boolean {
  if (sameBytes(before, next)) return false;
  const c = req.host.store.collection(ns);
  if (c !== undefined) validateDocument(c.options, next, before, bypass);
  const dup = duplicateKeyError(ns, c, next, before._id);
  if (dup !== undefined) throw dup;
  const pre = preImage(req, ns, before);
  if (kind === "replace") logWrite(req, { op: "u", ns, id: before._id, doc: next, ...pre });
  else logWrite(req, { op: "u", ns, id: before._id, doc: next, update: describeUpdate(before, next), ...pre });
  return true;
}

/**
 * What changed between two versions of a document, as change streams'
 * `updateDescription` reports it: dotted paths into sub-documents and into
 * arrays that kept or grew their length (index by index), `truncatedArrays`
 * for arrays that shrank, and `disambiguatedPaths` for the paths holding a
 * numeric field name or an array index (`showExpandedEvents` shows them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeUpdate } from "./write_commands.ts";
 *
 * assert.deepEqual(describeUpdate({ a: { b: 1 }, c: 1 }, { a: { b: 2 } }), {
 *   updatedFields: { "a.b": 2 },
 *   removedFields: ["c"],
 *   truncatedArrays: [],
 *   disambiguatedPaths: {},
 * });
 * ```
 */
export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const out: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [], disambiguatedPaths: {} };
  const note = (parts: (string | number)[]) => {
    if (parts.some((p) => typeof p === "number" || /^[0-9]+$/.test(p))) {
      out.disambiguatedPaths![parts.join(".")] = parts.map((p) => typeof p === "number" ? new Int32(p) : p);
    }
    return parts.join(".");
  };
  const differ = (a: unknown, b: unknown) => !sameBytes({ v: a }, { v: b });
  const value = (parts: (string | number)[], a: unknown, b: unknown) => {
    if (isPlainDocument(a) && isPlainDocument(b)) walk(a, b, parts);
    else if (Array.isArray(a) && Array.isArray(b)) walkArray(a, b, parts);
    else if (differ(a, b)) out.updatedFields[note(parts)] = cloneValue(b);
  };
  const walk = (a: Document, b: Document, prefix: (string | number)[]) => {
    for (const k of Object.keys(b)) {
      if (!Object.hasOwn(a, k)) out.updatedFields[note([...prefix, k])] = cloneValue(b[k]);
      else value([...prefix, k], a[k], b[k]);
    }
    for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) out.removedFields.push(note([...prefix, k]));
  };
  const walkArray = (a: unknown[], b: unknown[], prefix: (string | number)[]) => {
    if (b.length < a.length) out.truncatedArrays!.push({ field: note(prefix), newSize: new Int32(b.length) });
    for (let i = 0; i < b.length; i++) {
      if (i >= a.length) out.updatedFields[note([...prefix, i])] = cloneValue(b[i]);
      else value([...prefix, i], a[i], b[i]);
    }
  };
  walk(before, after, []);
  return out;
}

function writeError(index: number, e: unknown): Document {
  const f = toFailure(e);
  return { index, code: f.code, errmsg: f.errmsg, ...f.extra };
}

/** Inserts `documents`; ordered stops at the first failure. */
export function insert(req: CommandRequest): Document {
  const ns = namespace(req);
  const docs = req.body.documents;
  if (!Array.isArray(docs)) throw typeMismatch("Field 'documents' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  const bypass = bool(req.body.bypassDocumentValidation);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    const raw = docs[i];
    if (req.retry?.stored(i) !== undefined) {
      n++;
      continue;
    }
    try {
      if (!isPlainDocument(raw)) throw typeMismatch(`documents.${i} must be an object`);
      const doc = withIdFirst(raw, idFor(raw));
      checkStorableNames(doc, req.host.maxWireVersion);
      checkId(doc._id);
      req.retry?.begin(i);
      storeInsert(req, ns, doc, bypass);
      req.retry?.end({ n: 1 });
      n++;
    } catch (e) {
      req.retry?.fail();
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  const reply: Document = { n };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  req.conn.lastError = { n: 0, err: writeErrors.length > 0 ? writeErrors[0].errmsg : null, ok: 1 };
  if (writeErrors.length > 0) req.conn.lastError.code = writeErrors[0].code;
  return reply;
}

// ---- array filters ----------------------------------------------------------

// The concrete paths `$[]` and `$[id]` stand for in `doc`.
function expandPath(
  doc: Document,
  path: string,
  filters: Map<string, Document>,
  used: Set<string>,
  query: Document,
): string[] {
  const parts = path.split(".");
  const out: string[] = [];
  const walk = (value: unknown, i: number, prefix: string[]) => {
    if (i === parts.length) {
      out.push(prefix.join("."));
      return;
    }
    const part = parts[i];
    if (part === "$") {
      walk(Array.isArray(value) ? value[positional(doc, prefix.join("."), value, query)] : undefined, i + 1, [
        ...prefix,
        String(positional(doc, prefix.join("."), value, query)),
      ]);
      return;
    }
    const m = /^\$\[([a-z][a-zA-Z0-9]*)?\]$/.exec(part);
    if (m === null) {
      const next = Array.isArray(value) ? value[Number(part)] : isPlainDocument(value) ? value[part] : undefined;
      if (next === undefined && parts.slice(i + 1).some((p) => p.startsWith("$["))) {
        throw badValue(`The path '${parts.slice(0, i + 1).join(".")}' must exist in the document in order to apply array updates.`);
      }
      walk(next, i + 1, [...prefix, part]);
      return;
    }
    if (!Array.isArray(value)) {
      throw badValue(`The path '${prefix.join(".")}' must exist in the document in order to apply array updates.`);
    }
    const id = m[1];
    let filter: Document | undefined;
    if (id !== undefined) {
      filter = filters.get(id);
      if (filter === undefined) {
        throw badValue(`No array filter found for identifier '${id}' in path '${path}'`);
      }
      used.add(id);
    }
    value.forEach((el, idx) => {
      if (filter === undefined || matches({ [id!]: el }, filter)) walk(el, i + 1, [...prefix, String(idx)]);
    });
  };
  walk(doc, 0, []);
  return out;
}

// The positional `$`: the first element of the array at `arrayPath` the query matched through.
function positional(doc: Document, arrayPath: string, value: unknown, query: Document): number {
  const fail = () =>
    badValue("The positional operator did not find the match needed from the query.");
  if (!Array.isArray(value)) throw fail();
  const conditions: Document = {};
  for (const k of Object.keys(query)) if (k === arrayPath || k.startsWith(`${arrayPath}.`)) conditions[k] = query[k];
  if (Object.keys(conditions).length === 0) throw fail();
  for (let i = 0; i < value.length; i++) {
    const probe = cloneValue(doc);
    setPath(probe, arrayPath, [value[i]]);
    if (matches(probe, conditions)) return i;
  }
  throw fail();
}

function parseArrayFilters(raw: unknown): Map<string, Document> {
  const out = new Map<string, Document>();
  if (raw === undefined || raw === null) return out;
  if (!Array.isArray(raw)) throw typeMismatch("arrayFilters must be an array");
  for (const f of raw) {
    if (!isPlainDocument(f) || Object.keys(f).length === 0) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot use an expression without a top-level field name in arrayFilters");
    const id = Object.keys(f)[0].split(".")[0];
    if (!/^[a-z][a-zA-Z0-9]*$/.test(id)) {
      throw badValue(`The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
    }
    if (out.has(id)) throw serverError(ErrorCode.FailedToParse, "FailedToParse", `Found multiple array filters with the same top-level field name ${id}`);
    out.set(id, f);
  }
  return out;
}

function withArrayFilters(doc: Document, u: Document, filters: Map<string, Document>, query: Document): Document {
  const used = new Set<string>();
  const out: Document = {};
  for (const op of Object.keys(u)) {
    const fields = u[op];
    if (!isPlainDocument(fields)) {
      out[op] = fields;
      continue;
    }
    const expanded: Document = {};
    for (const path of Object.keys(fields)) {
      if (!path.includes("$[") && !path.split(".").includes("$")) expanded[path] = fields[path];
      else for (const p of expandPath(doc, path, filters, used, query)) expanded[p] = fields[path];
    }
    out[op] = expanded;
  }
  for (const id of filters.keys()) {
    if (!used.has(id) && !Object.keys(u).some((op) => isPlainDocument(u[op]) && Object.keys(u[op] as Document).some((p) => p.includes(`$[${id}]`)))) {
      throw serverError(ErrorCode.FailedToParse, "FailedToParse", `The array filter for identifier '${id}' was not used in the update ${show(u)}`);
    }
  }
  return out;
}

// ---- update -----------------------------------------------------------------

interface UpdateSpec {
  q: Document;
  u: Document | unknown[];
  upsert: boolean;
  multi: boolean;
  sort?: Document;
  arrayFilters: Map<string, Document>;
  vars: Variables;
  bypass: boolean;
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  before?: Document;
  after?: Document;
}

function nextVersion(d: Document, spec: UpdateSpec, insert: boolean): Document {
  const u = spec.u;
  if (Array.isArray(u)) {
    const next = applyPipelineUpdate(d, u, spec.vars);
    if (!insert && !valuesEqual(next._id, d._id)) {
      throw serverError(66, "ImmutableField", "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    return withIdFirst(next, next._id ?? d._id);
  }
  if (isOperatorUpdate(u)) {
    const paths = Object.keys(u).flatMap((k) => (isPlainDocument(u[k]) ? Object.keys(u[k] as Document) : []));
    const special = paths.some((p) => p.includes("$[") || p.split(".").includes("$"));
    const ops = spec.arrayFilters.size > 0 || special ? withArrayFilters(d, u, spec.arrayFilters, spec.q) : u;
    return applyUpdate(d, ops, { insert });
  }
  if (!insert && u._id !== undefined && !valuesEqual(u._id, d._id)) {
    throw serverError(66, "ImmutableField", `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${show(u._id)}`);
  }
  return withIdFirst(cloneValue(u), insert ? (u._id ?? d._id) : d._id);
}

function checkUpdateDocument(u: unknown, multi: boolean): Document | unknown[] {
  if (Array.isArray(u)) return u;
  if (!isPlainDocument(u)) throw typeMismatch("the update must be an object or a pipeline (array)");
  if (!isOperatorUpdate(u)) {
    if (multi) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "multi update is not supported for replacement-style update");
  } else {
    for (const k of Object.keys(u)) {
      if (!k.startsWith("$")) throw serverError(ErrorCode.FailedToParse, "FailedToParse", `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
  }
  return u;
}

function runUpdate(req: CommandRequest, ns: string, spec: UpdateSpec): UpdateOutcome {
  if (!Array.isArray(spec.u) && !isOperatorUpdate(spec.u) && spec.arrayFilters.size > 0) {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot specify arrayFilters and a replacement document");
  }
  let matched = withVariables(spec.vars, () => selectDocuments(req.host.store, ns, spec.q));
  if (spec.sort !== undefined) sortDocuments(matched, spec.sort);
  if (!spec.multi) matched = matched.slice(0, 1);
  const out: UpdateOutcome = { matched: matched.length, modified: 0 };
  for (const d of matched) {
    const next = nextVersion(d, spec, false);
    out.before ??= cloneValue(d);
    out.after ??= next;
    const kind = Array.isArray(spec.u) || isOperatorUpdate(spec.u) ? "update" : "replace";
    if (storeReplace(req, ns, d, next, spec.bypass, kind)) out.modified++;
  }
  if (matched.length === 0 && spec.upsert) {
    const seed = upsertSeed(spec.q);
    let doc = nextVersion(seed, spec, true);
    const id = idFor(doc);
    checkId(id);
    doc = withIdFirst(doc, id);
    storeInsert(req, ns, doc, spec.bypass);
    out.upsertedId = id;
    out.after = doc;
  }
  return out;
}

/** Runs `updates`; ordered stops at the first failure. */
export function update(req: CommandRequest): Document {
  const ns = namespace(req);
  const updates = req.body.updates;
  if (!Array.isArray(updates)) throw typeMismatch("Field 'updates' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  const bypass = bool(req.body.bypassDocumentValidation);
  const vars = letVariables(req.body.let);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  for (let i = 0; i < updates.length; i++) {
    const stored = req.retry?.stored(i);
    if (stored !== undefined) {
      n += stored.n as number;
      nModified += stored.nModified as number;
      if (stored.upserted !== undefined) upserted.push({ index: i, _id: stored.upserted });
      continue;
    }
    try {
      const s = updates[i];
      if (!isPlainDocument(s)) throw typeMismatch(`updates.${i} must be an object`);
      checkCollation(s.collation);
      checkHint(req.host.store.collection(ns), s.hint);
      const multi = bool(s.multi);
      // (A sort before 8.0 is refused with the command: server_features.ts.)
      if (isPlainDocument(s.u) && !Object.keys(s.u).some((k) => k.startsWith("$"))) {
        checkStorableNames(s.u, req.host.maxWireVersion);
      }
      req.retry?.begin(i);
      const r = withCollation(s.collation, () => runUpdate(req, ns, {
        q: docArg(s.q, "q") ?? {},
        u: checkUpdateDocument(s.u, multi),
        upsert: bool(s.upsert),
        multi,
        ...(docArg(s.sort, "sort") !== undefined ? { sort: s.sort as Document } : {}),
        arrayFilters: parseArrayFilters(s.arrayFilters),
        vars: { ...vars, ...letVariables(s.c) },
        bypass,
      }));
      const upsertedOne = r.upsertedId !== undefined ? 1 : 0;
      req.retry?.end({
        n: r.matched + upsertedOne,
        nModified: r.modified,
        ...(r.upsertedId !== undefined ? { upserted: r.upsertedId } : {}),
      });
      n += r.matched + upsertedOne;
      nModified += r.modified;
      if (r.upsertedId !== undefined) upserted.push({ index: i, _id: r.upsertedId });
    } catch (e) {
      req.retry?.fail();
      writeErrors.push(writeError(i, e));
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

/** Runs `deletes`; ordered stops at the first failure. */
export function deleteCommand(req: CommandRequest): Document {
  const ns = namespace(req);
  const deletes = req.body.deletes;
  if (!Array.isArray(deletes)) throw typeMismatch("Field 'deletes' must be of type array");
  const ordered = req.body.ordered === undefined ? true : bool(req.body.ordered);
  const vars = letVariables(req.body.let);
  let n = 0;
  const writeErrors: Document[] = [];
  for (let i = 0; i < deletes.length; i++) {
    const stored = req.retry?.stored(i);
    if (stored !== undefined) {
      n += stored.n as number;
      continue;
    }
    try {
      const s = deletes[i];
      if (!isPlainDocument(s)) throw typeMismatch(`deletes.${i} must be an object`);
      const limit = num(s.limit, "limit");
      if (limit !== 0 && limit !== 1) throw badValue(`The limit field in delete objects must be 0 or 1. Got ${limit}`);
      checkCollation(s.collation);
      checkHint(req.host.store.collection(ns), s.hint);
      const q = docArg(s.q, "q") ?? {};
      let victims = withCollation(s.collation, () => withVariables(vars, () => selectDocuments(req.host.store, ns, q)));
      if (limit === 1) victims = victims.slice(0, 1);
      req.retry?.begin(i);
      for (const d of victims) logWrite(req, { op: "d", ns, id: d._id, ...preImage(req, ns, d) });
      req.retry?.end({ n: victims.length });
      n += victims.length;
    } catch (e) {
      req.retry?.fail();
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  const reply: Document = { n };
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  req.conn.lastError = { n, err: writeErrors.length > 0 ? writeErrors[0].errmsg : null, ok: 1 };
  return reply;
}

/** `findAndModify`: one document removed, updated or upserted; the reply carries it before or after. */
export function findAndModify(req: CommandRequest): Document {
  const ns = namespace(req);
  const stored = req.retry?.stored(0);
  if (stored !== undefined) return { ...cloneValue(stored), ok: 1 };
  req.retry?.begin(0);
  try {
    const reply = findAndModifyOnce(req, ns);
    const { ok: _, ...result } = reply;
    req.retry?.end(cloneValue(result));
    return reply;
  } catch (e) {
    req.retry?.fail();
    throw e;
  }
}

function findAndModifyOnce(req: CommandRequest, ns: string): Document {
  const b = req.body;
  const q = docArg(b.query, "query") ?? {};
  const sort = docArg(b.sort, "sort");
  const fields = docArg(b.fields, "fields");
  const vars = letVariables(b.let);
  checkCollation(b.collation);
  checkHint(req.host.store.collection(ns), b.hint);
  if (bool(b.remove)) {
    if (b.update !== undefined) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot specify both an update and remove=true");
    if (bool(b.upsert)) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot specify both upsert=true and remove=true");
    if (bool(b.new)) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
    if (b.arrayFilters !== undefined) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Cannot specify arrayFilters and remove=true");
    const victims = withVariables(vars, () => sortDocuments(selectDocuments(req.host.store, ns, q), sort).slice(0, 1));
    for (const d of victims) logWrite(req, { op: "d", ns, id: d._id, ...preImage(req, ns, d) });
    return {
      lastErrorObject: { n: victims.length },
      value: victims.length > 0 ? project(cloneValue(victims[0]), fields) : null,
      ok: 1,
    };
  }
  if (b.update === undefined) throw serverError(ErrorCode.FailedToParse, "FailedToParse", "Either an update or remove=true must be specified");
  if (isPlainDocument(b.update) && !Object.keys(b.update).some((k) => k.startsWith("$"))) {
    checkStorableNames(b.update, req.host.maxWireVersion);
  }
  const r = runUpdate(req, ns, {
    q,
    u: checkUpdateDocument(b.update, false),
    upsert: bool(b.upsert),
    multi: false,
    ...(sort !== undefined ? { sort } : {}),
    arrayFilters: parseArrayFilters(b.arrayFilters),
    vars,
    bypass: bool(b.bypassDocumentValidation),
  });
  const lastErrorObject: Document = {
    n: r.matched + (r.upsertedId !== undefined ? 1 : 0),
    updatedExisting: r.matched > 0,
  };
  if (r.upsertedId !== undefined) lastErrorObject.upserted = r.upsertedId;
  const value = bool(b.new) ? r.after : (r.upsertedId !== undefined ? undefined : r.before);
  return { lastErrorObject, value: value === undefined ? null : project(cloneValue(value), fields), ok: 1 };
}
