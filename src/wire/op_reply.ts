/**
 * OP_REPLY (opcode 1), the answer to OP_QUERY and OP_GET_MORE:
 * `int32 responseFlags`, `int64 cursorID`, `int32 startingFrom`,
 * `int32 numberReturned`, then that many documents back to back. Layout from
 * the MongoDB manual, "Legacy Opcodes" (OP_REPLY).
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { ByteWriter, Document } from "../bson/mod.ts";
import { arrayField, expectEnd, FrameBuilder, int32Field, int64Field, openFrame } from "./_frame.ts";
import type { DecodeMessageOptions, EncodeMessageOptions } from "./header.ts";
import { OP_REPLY } from "./opcodes.ts";

/**
 * What {@linkcode encodeOpReply} needs. A decoded {@linkcode OpReply} has the
 * same shape, so it can be encoded again.
 *
 * @example A command reply
 * ```ts
 * import type { OpReplyFields } from "./mod.ts";
 *
 * const fields: OpReplyFields = { requestId: 10, responseTo: 1, documents: [{ ismaster: true, ok: 1 }] };
 * ```
 */
export interface OpReplyFields {
  /** This message's id. */
  requestId: number;
  /** The `requestId` of the OP_QUERY or OP_GET_MORE answered. */
  responseTo?: number;
  /** `ResponseFlags` bits, default 0 (any int32 is written as given). */
  responseFlags?: number;
  /** The cursor to continue with OP_GET_MORE; 0n (the default) when exhausted. */
  cursorId?: bigint;
  /** Position of the first document in the cursor, default 0. */
  startingFrom?: number;
  /** The documents; `numberReturned` is their count. */
  documents: readonly Document[];
}

/**
 * A decoded OP_REPLY.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpReply, encodeOpReply, ResponseFlags } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const reply = decodeOpReply(encodeOpReply(new ByteWriter(), {
 *   requestId: 2, responseTo: 1, responseFlags: ResponseFlags.AwaitCapable, documents: [{ ok: 1 }],
 * }));
 * assert.equal(reply.documents[0].ok, 1);
 * assert.equal(reply.cursorId, 0n);
 * ```
 */
export interface OpReply {
  /** Always `OP_REPLY` (1). */
  opCode: typeof OP_REPLY;
  /** The sender's id for this message. */
  requestId: number;
  /** The request answered. */
  responseTo: number;
  /** `ResponseFlags` bits, as received (reserved bits included). */
  responseFlags: number;
  /** The cursor id, 0n when the cursor is exhausted. */
  cursorId: bigint;
  /** Position of the first document in the cursor. */
  startingFrom: number;
  /** Exactly `numberReturned` documents. */
  documents: Document[];
}

/**
 * Encodes an OP_REPLY into `writer` (reset first) and returns a new
 * `Uint8Array` holding the whole message, owned by the caller.
 *
 * @throws {WireProtocolError} for a bad field or a message larger than
 * `maxMessageSizeBytes`.
 * @throws {BSONError} for a document that cannot be encoded as BSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpReply } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpReply(new ByteWriter(), { requestId: 2, responseTo: 1, documents: [{ ok: 1 }] });
 * assert.equal(frame.length, 49);
 * ```
 */
export function encodeOpReply(writer: ByteWriter, fields: OpReplyFields, options?: EncodeMessageOptions): Uint8Array {
  const b = new FrameBuilder(writer, OP_REPLY, options);
  if (fields === null || typeof fields !== "object") {
    throw new WireProtocolError(
      `cannot encode OP_REPLY: fields must be an object, got ${fields === null ? "null" : typeof fields}`,
    );
  }
  const flags = int32Field(fields.responseFlags ?? 0, "responseFlags", OP_REPLY);
  const cursorId = int64Field(fields.cursorId ?? 0n, "cursorId", OP_REPLY);
  const startingFrom = int32Field(fields.startingFrom ?? 0, "startingFrom", OP_REPLY);
  const docs = arrayField<Document>(fields.documents, "documents", OP_REPLY);
  b.header(fields.requestId, fields.responseTo);
  const w = b.w;
  w.writeInt32(flags);
  w.writeInt64(cursorId);
  w.writeInt32(startingFrom);
  w.writeInt32(docs.length);
  for (let i = 0; i < docs.length; i++) b.document(docs[i], `documents[${i}]`);
  return b.finish();
}

/**
 * Decodes one whole OP_REPLY frame (header included). `numberReturned` must
 * match the documents exactly: fewer bytes than it promises, or bytes left
 * over, are errors.
 *
 * @throws {WireProtocolError} for a malformed frame or invalid BSON inside it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpReply, encodeOpReply } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpReply(new ByteWriter(), { requestId: 2, responseTo: 1, documents: [{ a: 1 }, { a: 2 }] });
 * assert.deepEqual(decodeOpReply(frame).documents, [{ a: 1 }, { a: 2 }]);
 * ```
 */
export function decodeOpReply(frame: Uint8Array, options?: DecodeMessageOptions): OpReply {
  const c = openFrame(frame, OP_REPLY);
  const bson = options?.bson;
  const responseFlags = c.int32("responseFlags");
  const cursorId = c.int64("cursorID");
  const startingFrom = c.int32("startingFrom");
  const countAt = c.pos;
  const numberReturned = c.int32("numberReturned");
  // Each document takes at least 5 bytes, so a count that cannot fit is a lie
  // we can see before decoding anything (and before sizing any array by it).
  if (numberReturned < 0 || numberReturned > (c.end - c.pos) / 5) {
    c.fail(`numberReturned ${numberReturned} cannot fit in the ${c.end - c.pos} bytes left`, countAt);
  }
  const documents: Document[] = [];
  for (let i = 0; i < numberReturned; i++) documents.push(c.document(`document ${i}`, c.end, bson));
  if (c.pos !== c.end) {
    c.fail(`${c.end - c.pos} bytes left after the ${numberReturned} documents numberReturned promised`);
  }
  expectEnd(c);
  return {
    opCode: OP_REPLY,
    requestId: c.view.getInt32(4, true),
    responseTo: c.view.getInt32(8, true),
    responseFlags,
    cursorId,
    startingFrom,
    documents,
  };
}
