/**
 * The `bulkWrite` command of MongoDB 8.0 (a client-level bulk write across
 * namespaces): `ops` and `nsInfo`, `ordered`, `errorsOnly`, `let`,
 * `bypassDocumentValidation`. Each operation runs as the one-statement
 * `insert`, `update` or `delete` it stands for, so it behaves exactly as
 * those do (validation, unique indexes, upserts, the oplog); the reply is a
 * cursor of per-operation results (all in the first batch) and the summary
 * counts. Members below wire version 25 do not know the command
 * (`server_features.ts`).
 *
 * @module
 */
import { Int32, Int64 } from "../bson/mod.ts";
import type { Document } from "../bson/mod.ts";
import { bool } from "./_args.ts";
import { isPlainDocument } from "./query.ts";
import { badValue, serverError, toFailure, typeMismatch } from "./_server_error.ts";
import type { CommandRequest } from "./commands.ts";
import { deleteCommand, insert, update } from "./write_commands.ts";

/** One operation of `ops` as the one-statement command it runs as. */
function asCommand(op: Document, i: number, namespaces: string[], common: Document): { db: string; name: string; body: Document } {
  const [kind] = Object.keys(op);
  const nsIndex = op[kind];
  if (typeof nsIndex !== "number" && !(nsIndex instanceof Int32)) {
    throw typeMismatch(`BSON field 'bulkWrite.ops.${kind}' is the wrong type, expected type 'int'`);
  }
  const ns = namespaces[Number(nsIndex)];
  if (ns === undefined) throw badValue(`BulkWrite ops entry ${i} has an invalid nsInfo index ${Number(nsIndex)}`);
  const dot = ns.indexOf(".");
  const db = ns.slice(0, dot);
  const coll = ns.slice(dot + 1);
  const pick = (names: string[]): Document => {
    const out: Document = {};
    for (const n of names) if (op[n] !== undefined) out[n] = op[n];
    return out;
  };
  switch (kind) {
    case "insert":
      if (!isPlainDocument(op.document)) throw typeMismatch("BSON field 'bulkWrite.ops.document' must be an object");
      return { db, name: "insert", body: { insert: coll, documents: [op.document], ordered: true, ...common } };
    case "update":
      return {
        db,
        name: "update",
        body: {
          update: coll,
          updates: [{ q: op.filter, u: op.updateMods, multi: bool(op.multi), ...pick(["upsert", "arrayFilters", "hint", "collation", "sort"]) }],
          ordered: true,
          ...common,
        },
      };
    case "delete":
      return {
        db,
        name: "delete",
        body: {
          delete: coll,
          deletes: [{ q: op.filter, limit: bool(op.multi) ? 0 : 1, ...pick(["hint", "collation"]) }],
          ordered: true,
          ...common,
        },
      };
    default:
      throw serverError(40415, "Location40415", `BSON field 'bulkWrite.ops.${kind}' is an unknown field.`);
  }
}

/**
 * Runs a `bulkWrite` command (admin database only).
 *
 * @example
 * ```ts ignore
 * const reply = clientBulkWrite(req); // { cursor: { id: 0n, firstBatch: [...] }, nInserted: 1, ... }
 * ```
 */
export function clientBulkWrite(req: CommandRequest): Document {
  if (req.db !== "admin") {
    throw serverError(13, "Unauthorized", "bulkWrite may only be run against the admin database.");
  }
  const b = req.body;
  if (!Array.isArray(b.ops)) throw typeMismatch("BSON field 'bulkWrite.ops' is missing or not an array");
  if (!Array.isArray(b.nsInfo)) throw typeMismatch("BSON field 'bulkWrite.nsInfo' is missing or not an array");
  const namespaces = (b.nsInfo as unknown[]).map((n, i) => {
    if (!isPlainDocument(n) || typeof n.ns !== "string" || !n.ns.includes(".")) {
      throw badValue(`BulkWrite nsInfo entry ${i} needs a namespace "db.collection"`);
    }
    return n.ns;
  });
  const ordered = b.ordered === undefined ? true : bool(b.ordered);
  const errorsOnly = bool(b.errorsOnly);
  const common: Document = {};
  for (const k of ["let", "bypassDocumentValidation"]) if (b[k] !== undefined) common[k] = b[k];
  const results: Document[] = [];
  const totals = { nErrors: 0, nInserted: 0, nUpserted: 0, nMatched: 0, nModified: 0, nDeleted: 0 };
  for (let i = 0; i < b.ops.length; i++) {
    const op = b.ops[i];
    let reply: Document;
    let kind = "";
    try {
      if (!isPlainDocument(op)) throw typeMismatch(`bulkWrite.ops.${i} must be an object`);
      const sub = asCommand(op, i, namespaces, common);
      kind = sub.name;
      // A retryable bulkWrite's operation i is statement i of the session (retryable_writes.ts).
      const subReq: CommandRequest = {
        ...req,
        db: sub.db,
        name: sub.name,
        body: sub.body,
        ...(req.retry !== undefined ? { retry: req.retry.shifted(i) } : {}),
      };
      reply = sub.name === "insert" ? insert(subReq) : sub.name === "update" ? update(subReq) : deleteCommand(subReq);
    } catch (e) {
      const f = toFailure(e);
      reply = { n: 0, writeErrors: [{ index: 0, code: f.code, errmsg: f.errmsg, ...f.extra }] };
    }
    const errors = Array.isArray(reply.writeErrors) ? reply.writeErrors as Document[] : [];
    if (errors.length > 0) {
      const { index: _index, ...error } = errors[0];
      totals.nErrors++;
      results.push({ ok: 0, idx: new Int32(i), n: 0, ...error });
      if (ordered) break;
      continue;
    }
    const n = Number(reply.n ?? 0);
    const result: Document = { ok: 1, idx: new Int32(i), n: new Int32(n) };
    if (kind === "insert") totals.nInserted += n;
    else if (kind === "delete") totals.nDeleted += n;
    else {
      const upserted = Array.isArray(reply.upserted) ? reply.upserted as Document[] : [];
      result.nModified = new Int32(Number(reply.nModified ?? 0));
      if (upserted.length > 0) {
        result.upserted = { _id: upserted[0]._id };
        totals.nUpserted++;
        totals.nMatched += n - 1;
      } else {
        totals.nMatched += n;
      }
      totals.nModified += Number(reply.nModified ?? 0);
    }
    if (!errorsOnly) results.push(result);
  }
  return {
    cursor: { id: new Int64(0n), firstBatch: results, ns: "admin.$cmd.bulkWrite" },
    nErrors: new Int32(totals.nErrors),
    nInserted: new Int32(totals.nInserted),
    nUpserted: new Int32(totals.nUpserted),
    nMatched: new Int32(totals.nMatched),
    nModified: new Int32(totals.nModified),
    nDeleted: new Int32(totals.nDeleted),
    ok: 1,
  };
}
