/**
 * What a server's answer means: an `ok: 0` reply, a `writeConcernError`, an
 * OP_REPLY with the QueryFailure or CursorNotFound flag, each turned into the
 * driver's error for it; and the shape a command's OP_REPLY must have.
 *
 * @module
 */
import { OperationFailure, WireProtocolError, WriteConcernError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { Document } from "../bson/mod.ts";
import { type OpReply, ResponseFlags } from "../wire/mod.ts";

/**
 * Throws the error an `ok: 0` reply (`OperationFailure`) or a
 * `writeConcernError` (`WriteConcernError`) stands for; returns the reply
 * otherwise.
 *
 * @throws {OperationFailure} for `ok` other than 1, with the reply's `code`, `codeName`, `errorLabels`.
 * @throws {WriteConcernError} for an `ok: 1` reply with a `writeConcernError`.
 * @example
 * ```ts
 * import { checkReply } from "./reply.ts";
 *
 * console.log(checkReply({ ok: 1, n: 1 }).n); // 1
 * try {
 *   checkReply({ ok: 0, code: 26, codeName: "NamespaceNotFound", errmsg: "ns not found" });
 * } catch (e) {
 *   console.log((e as Error).message); // ns not found
 * }
 * ```
 */
export function checkReply(reply: Document, origin: { fromMongos?: boolean } = {}): Document {
  const ok = reply.ok;
  const okNumber = typeof ok === "bigint" ? Number(ok) : typeof ok === "boolean" ? Number(ok) : ok;
  if (okNumber !== 1) {
    const errmsg = typeof reply.errmsg === "string"
      ? reply.errmsg
      : typeof reply.$err === "string"
      ? reply.$err
      : "command failed";
    throw new OperationFailure(errmsg, {
      code: codeOf(reply.code),
      codeName: typeof reply.codeName === "string" ? reply.codeName : undefined,
      errorLabels: labelsOf(reply.errorLabels),
      response: reply,
    });
  }
  const wce = reply.writeConcernError;
  if (wce !== undefined && wce !== null && typeof wce === "object") {
    const w = wce as Document;
    throw new WriteConcernError(typeof w.errmsg === "string" ? w.errmsg : "write concern error", {
      code: codeOf(w.code),
      codeName: typeof w.codeName === "string" ? w.codeName : undefined,
      errorLabels: labelsOf(reply.errorLabels ?? w.errorLabels),
      response: reply,
      fromMongos: origin.fromMongos === true,
    });
  }
  return reply;
}

/**
 * The `OperationFailure` for an OP_REPLY with the QueryFailure flag: its one
 * document carries `$err` (or `errmsg`) and `code`.
 *
 * @example
 * ```ts
 * import { queryFailure } from "./reply.ts";
 *
 * console.log(queryFailure({ $err: "bad query", code: 2 }).code); // 2
 * ```
 */
export function queryFailure(doc: Document): OperationFailure {
  const errmsg = typeof doc.$err === "string" ? doc.$err : typeof doc.errmsg === "string" ? doc.errmsg : "query failed";
  return new OperationFailure(errmsg, {
    code: codeOf(doc.code),
    codeName: typeof doc.codeName === "string" ? doc.codeName : undefined,
    errorLabels: labelsOf(doc.errorLabels),
    response: doc,
  });
}

/**
 * Throws for an OP_REPLY flagged CursorNotFound (an `OperationFailure` with
 * code 43) or QueryFailure; returns the reply otherwise.
 *
 * @throws {OperationFailure} as described.
 * @example
 * ```ts ignore
 * import { checkOpReply } from "./reply.ts";
 *
 * const reply = checkOpReply(opReply, { cursorId: 5n, address: "db1:27017" });
 * ```
 */
export function checkOpReply(reply: OpReply, cursor?: { cursorId: bigint; address: string }): OpReply {
  if (cursor !== undefined && (reply.responseFlags & ResponseFlags.CursorNotFound) !== 0) {
    const code = ErrorCode.CursorNotFound;
    throw new OperationFailure(`cursor ${cursor.cursorId} not found on ${cursor.address}`, {
      code,
      codeName: "CursorNotFound",
      response: { ok: 0, code, codeName: "CursorNotFound", errmsg: `cursor ${cursor.cursorId} not found` },
    });
  }
  if ((reply.responseFlags & ResponseFlags.QueryFailure) !== 0) throw queryFailure(reply.documents[0] ?? {});
  return reply;
}

/**
 * The one document a command answers with over OP_REPLY.
 *
 * @throws {OperationFailure} for a QueryFailure reply.
 * @throws {WireProtocolError} when the reply holds other than one document
 * (the caller closes the connection: the server is out of step).
 * @example
 * ```ts ignore
 * import { commandDocument } from "./reply.ts";
 *
 * const doc = commandDocument(opReply, "db1:27017");
 * ```
 */
export function commandDocument(reply: OpReply, address: string): Document {
  if ((reply.responseFlags & ResponseFlags.QueryFailure) !== 0) throw queryFailure(reply.documents[0] ?? {});
  if (reply.documents.length !== 1) {
    throw new WireProtocolError(
      `${address}: a command reply must hold one document, this one holds ${reply.documents.length}`,
    );
  }
  return reply.documents[0];
}

function codeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

function labelsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
