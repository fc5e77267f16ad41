/**
 * OP_QUERY (opcode 2004), the legacy query and command request: `int32 flags`,
 * `cstring fullCollectionName`, `int32 numberToSkip`, `int32 numberToReturn`,
 * `document query`, optional `document returnFieldsSelector`. Layout from the
 * MongoDB manual, "Legacy Opcodes" (OP_QUERY). On MongoDB 5.1+ it is only
 * accepted for the `isMaster`/`hello` handshake.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { ByteWriter, Document } from "../bson/mod.ts";
import { expectEnd, FrameBuilder, int32Field, namespaceField, openFrame } from "./_frame.ts";
import type { DecodeMessageOptions, EncodeMessageOptions } from "./header.ts";
import { OP_QUERY, QUERY_FLAGS_MASK } from "./opcodes.ts";

/**
 * What {@linkcode encodeOpQuery} needs. A decoded {@linkcode OpQuery} has the
 * same shape, so it can be encoded again.
 *
 * @example The handshake
 * ```ts
 * import type { OpQueryFields } from "./mod.ts";
 *
 * const fields: OpQueryFields = {
 *   requestId: 1,
 *   fullCollectionName: "admin.$cmd",
 *   numberToReturn: -1,
 *   query: { isMaster: 1, helloOk: true },
 * };
 * ```
 */
export interface OpQueryFields {
  /** This message's id (see `nextRequestId`). */
  requestId: number;
  /** Default 0: requests answer nothing. */
  responseTo?: number;
  /** `QueryFlags` bits, default 0. Reserved bits (0 and 8-31) are an error. */
  flags?: number;
  /** `"<db>.<collection>"`, or `"<db>.$cmd"` for a command. */
  fullCollectionName: string;
  /** Documents to skip, default 0. */
  numberToSkip?: number;
  /**
   * Batch size, default 0 (server default); negative means "return at most
   * this many and close the cursor", so commands send -1.
   */
  numberToReturn?: number;
  /** The query, or the command document on `<db>.$cmd`. */
  query: Document;
  /** Optional projection. */
  returnFieldsSelector?: Document;
}

/**
 * A decoded OP_QUERY.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpQuery, encodeOpQuery, QueryFlags } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpQuery(new ByteWriter(), {
 *   requestId: 3, flags: QueryFlags.SecondaryOk, fullCollectionName: "test.people", query: { name: "Ada" },
 * });
 * const q = decodeOpQuery(frame);
 * assert.equal(q.fullCollectionName, "test.people");
 * assert.equal((q.flags & QueryFlags.SecondaryOk) !== 0, true);
 * ```
 */
export interface OpQuery {
  /** Always `OP_QUERY` (2004). */
  opCode: typeof OP_QUERY;
  /** The sender's id for this message. */
  requestId: number;
  /** As sent (0 for a well-behaved client). */
  responseTo: number;
  /** `QueryFlags` bits. */
  flags: number;
  /** The namespace, `"<db>.<collection>"` or `"<db>.$cmd"`. */
  fullCollectionName: string;
  /** Documents to skip. */
  numberToSkip: number;
  /** Batch size (negative: single batch). */
  numberToReturn: number;
  /** The query or command document. */
  query: Document;
  /** The projection, when one was sent. */
  returnFieldsSelector?: Document;
}

/**
 * Encodes an OP_QUERY into `writer` (reset first) and returns a new
 * `Uint8Array` holding the whole message, owned by the caller.
 *
 * @throws {WireProtocolError} for a bad field (ids or counts not int32,
 * reserved flag bits, a namespace without a database) or a message larger
 * than `maxMessageSizeBytes`.
 * @throws {BSONError} for a document that cannot be encoded as BSON.
 * @example The legacy handshake
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpQuery, nextRequestId } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpQuery(new ByteWriter(), {
 *   requestId: nextRequestId(),
 *   fullCollectionName: "admin.$cmd",
 *   numberToReturn: -1,
 *   query: { isMaster: 1 },
 * });
 * assert.equal(frame.length, 58);
 * ```
 */
export function encodeOpQuery(writer: ByteWriter, fields: OpQueryFields, options?: EncodeMessageOptions): Uint8Array {
  const b = new FrameBuilder(writer, OP_QUERY, options);
  if (fields === null || typeof fields !== "object") {
    throw new WireProtocolError(
      `cannot encode OP_QUERY: fields must be an object, got ${fields === null ? "null" : typeof fields}`,
    );
  }
  const flags = int32Field(fields.flags ?? 0, "flags", OP_QUERY);
  if ((flags & ~QUERY_FLAGS_MASK) !== 0) {
    throw new WireProtocolError(
      `cannot encode OP_QUERY: flags 0x${(flags >>> 0).toString(16)} set reserved bits (only 0x${
        QUERY_FLAGS_MASK.toString(16)
      } are defined)`,
    );
  }
  const ns = namespaceField(fields.fullCollectionName, "fullCollectionName", OP_QUERY);
  const skip = int32Field(fields.numberToSkip ?? 0, "numberToSkip", OP_QUERY);
  const limit = int32Field(fields.numberToReturn ?? 0, "numberToReturn", OP_QUERY);
  b.header(fields.requestId, fields.responseTo);
  const w = b.w;
  w.writeInt32(flags);
  w.writeCString(ns);
  w.writeInt32(skip);
  w.writeInt32(limit);
  b.document(fields.query, "query");
  if (fields.returnFieldsSelector !== undefined) b.document(fields.returnFieldsSelector, "returnFieldsSelector");
  return b.finish();
}

/**
 * Decodes one whole OP_QUERY frame (header included). Reserved flag bits, a
 * length that does not match, or bytes after the optional projection are errors.
 *
 * @throws {WireProtocolError} for a malformed frame or invalid BSON inside it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpQuery, encodeOpQuery } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const q = decodeOpQuery(encodeOpQuery(new ByteWriter(), {
 *   requestId: 1, fullCollectionName: "admin.$cmd", numberToReturn: -1, query: { isMaster: 1 },
 * }));
 * assert.deepEqual(q.query, { isMaster: 1 });
 * ```
 */
export function decodeOpQuery(frame: Uint8Array, options?: DecodeMessageOptions): OpQuery {
  const c = openFrame(frame, OP_QUERY);
  const bson = options?.bson;
  const flags = c.int32("flags");
  if ((flags & ~QUERY_FLAGS_MASK) !== 0) {
    c.fail(`flags 0x${(flags >>> 0).toString(16)} set reserved bits`, 16);
  }
  const fullCollectionName = c.cstring("fullCollectionName");
  const numberToSkip = c.int32("numberToSkip");
  const numberToReturn = c.int32("numberToReturn");
  const query = c.document("query", c.end, bson);
  const msg: OpQuery = {
    opCode: OP_QUERY,
    requestId: c.view.getInt32(4, true),
    responseTo: c.view.getInt32(8, true),
    flags,
    fullCollectionName,
    numberToSkip,
    numberToReturn,
    query,
  };
  if (c.pos < c.end) msg.returnFieldsSelector = c.document("returnFieldsSelector", c.end, bson);
  expectEnd(c);
  return msg;
}
