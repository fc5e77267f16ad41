/**
 * OP_MSG (opcode 2013), the message of MongoDB 3.6+ in both directions:
 * `uint32 flagBits`, sections (exactly one kind-0 body, any number of kind-1
 * document sequences, in any order), then a CRC-32C checksum when the
 * checksumPresent bit is set. Layout from the OP_MSG specification
 * (mongodb/specifications, `source/message/OP_MSG.md`).
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { ByteWriter, Document } from "../bson/mod.ts";
import { crc32c } from "./crc32c.ts";
import { expectEnd, FrameBuilder, type FrameCursor, openFrame } from "./_frame.ts";
import type { DecodeMessageOptions, EncodeMessageOptions } from "./header.ts";
import { MSG_REQUIRED_FLAGS_MASK, MsgFlags, OP_MSG } from "./opcodes.ts";

// Every bit this driver knows; the spec wants all others sent as 0.
const KNOWN_FLAGS = MsgFlags.checksumPresent | MsgFlags.moreToCome | MsgFlags.exhaustAllowed;
const CHECKSUM_SIZE = 4;

/**
 * A kind-1 section: documents that stand for the command argument named
 * `identifier` (for example the `documents` of an `insert`), sent back to back
 * instead of as a BSON array.
 *
 * @example
 * ```ts
 * import type { DocumentSequence } from "./mod.ts";
 *
 * const seq: DocumentSequence = { identifier: "documents", documents: [{ _id: 1 }, { _id: 2 }] };
 * ```
 */
export interface DocumentSequence {
  /** The command argument the documents belong to; unique within a message. */
  identifier: string;
  /** Zero or more documents. */
  documents: Document[];
}

/**
 * What {@linkcode encodeOpMsg} needs. A decoded {@linkcode OpMsg} has the
 * same shape, so it can be encoded again.
 *
 * @example
 * ```ts
 * import { MsgFlags, type OpMsgFields } from "./mod.ts";
 *
 * const fields: OpMsgFields = { requestId: 1, flagBits: MsgFlags.moreToCome, body: { insert: "c", $db: "test", writeConcern: { w: 0 } } };
 * ```
 */
export interface OpMsgFields {
  /** This message's id (see `nextRequestId`). */
  requestId: number;
  /** The id of the request this message answers; default 0 (a request). */
  responseTo?: number;
  /**
   * `MsgFlags` bits, default 0. With `checksumPresent` the encoder appends a
   * CRC-32C of the message; `moreToCome` and `exhaustAllowed` are passed on.
   * Any other bit is an error: the spec wants unused bits sent as 0.
   */
  flagBits?: number;
  /** The kind-0 section: the command (name first, `$db` required) or the reply. */
  body: Document;
  /** Kind-1 sections, written after the body in this order. */
  sequences?: readonly DocumentSequence[];
}

/**
 * A decoded OP_MSG. `flagBits` keeps the bits this driver knows (unknown
 * optional bits are dropped, as the spec says to ignore them); the checksum,
 * if there was one, has been verified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpMsg, encodeOpMsg, MsgFlags } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const msg = decodeOpMsg(encodeOpMsg(new ByteWriter(), { requestId: 5, body: { ping: 1, $db: "admin" } }));
 * assert.equal(msg.body.ping, 1);
 * assert.equal((msg.flagBits & MsgFlags.moreToCome) !== 0, false);
 * ```
 */
export interface OpMsg {
  /** Always `OP_MSG` (2013). */
  opCode: typeof OP_MSG;
  /** The sender's id for this message. */
  requestId: number;
  /** The request this message answers, or 0. */
  responseTo: number;
  /** The known `MsgFlags` bits that were set. */
  flagBits: number;
  /** The kind-0 section. */
  body: Document;
  /** The kind-1 sections, in the order they came. */
  sequences: DocumentSequence[];
}

/**
 * Encodes an OP_MSG into `writer` (reset first, and reused as scratch space)
 * and returns a new `Uint8Array` holding the whole message: the one copy out
 * of the writer, owned by the caller, so it stays valid across an async socket
 * write while the writer builds the next message.
 *
 * @throws {WireProtocolError} for a bad field (ids not int32, unknown flag
 * bits, a duplicate or NUL-containing identifier) or a message larger than
 * `maxMessageSizeBytes`.
 * @throws {BSONError} for a document that cannot be encoded as BSON.
 * @example A `ping` command
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpMsg, nextRequestId } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const writer = new ByteWriter();
 * const frame = encodeOpMsg(writer, { requestId: nextRequestId(), body: { ping: 1, $db: "admin" } });
 * assert.equal(frame.length, 51);
 * ```
 */
export function encodeOpMsg(writer: ByteWriter, fields: OpMsgFields, options?: EncodeMessageOptions): Uint8Array {
  const b = new FrameBuilder(writer, OP_MSG, options);
  if (fields === null || typeof fields !== "object") {
    throw new WireProtocolError(
      `cannot encode OP_MSG: fields must be an object, got ${fields === null ? "null" : typeof fields}`,
    );
  }
  const flagBits = fields.flagBits ?? 0;
  if (!Number.isInteger(flagBits) || flagBits < 0 || flagBits > 0xffffffff || (flagBits & ~KNOWN_FLAGS) !== 0) {
    throw new WireProtocolError(
      `cannot encode OP_MSG: flagBits may only combine checksumPresent (0x1), moreToCome (0x2) and ` +
        `exhaustAllowed (0x10000), got ${String(flagBits)}`,
    );
  }
  const sequences = fields.sequences ?? [];
  if (!Array.isArray(sequences)) {
    throw new WireProtocolError(`cannot encode OP_MSG: sequences must be an array, got ${typeof sequences}`);
  }
  b.header(fields.requestId, fields.responseTo);
  const w = b.w;
  w.writeUint32(flagBits);
  w.writeUint8(0);
  b.document(fields.body, "body");
  // Most messages have no sequence, so the duplicate check allocates only when needed.
  const seen = sequences.length > 1 ? new Set<string>() : null;
  for (let i = 0; i < sequences.length; i++) {
    const seq = sequences[i] as DocumentSequence;
    const id = seq?.identifier;
    if (typeof id !== "string" || id.length === 0 || id.includes("\0")) {
      throw new WireProtocolError(
        `cannot encode OP_MSG: sequences[${i}].identifier must be a non-empty string without NUL bytes`,
      );
    }
    if (seen !== null) {
      if (seen.has(id)) throw new WireProtocolError(`cannot encode OP_MSG: identifier "${id}" appears twice`);
      seen.add(id);
    }
    const docs = seq.documents;
    if (!Array.isArray(docs)) {
      throw new WireProtocolError(`cannot encode OP_MSG: sequences[${i}].documents must be an array`);
    }
    w.writeUint8(1);
    const sizeAt = w.reserveInt32();
    w.writeCString(id);
    for (let j = 0; j < docs.length; j++) b.document(docs[j], `sequences[${i}].documents[${j}]`);
    w.setInt32(sizeAt, w.length - sizeAt);
  }
  if ((flagBits & MsgFlags.checksumPresent) !== 0) {
    // The checksum covers every byte before it, header included, so the
    // final length has to be in place first.
    w.setInt32(0, w.length + CHECKSUM_SIZE);
    w.writeUint32(crc32c(w.subarray()));
  }
  return b.finish();
}

/**
 * Decodes one whole OP_MSG frame (header included, as `MessageReader.next()`
 * returns it). Checks that messageLength matches the frame, that no unknown
 * required flag bit (0-15) is set, that the checksum matches when present,
 * that there is exactly one kind-0 section and no unknown section kind, that
 * every length fits inside its section, and that identifiers are unique.
 *
 * @throws {WireProtocolError} for any of those, and for invalid BSON inside
 * the frame (the `BSONError` is its `cause`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpMsg, encodeOpMsg } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpMsg(new ByteWriter(), {
 *   requestId: 9,
 *   body: { insert: "people", $db: "test" },
 *   sequences: [{ identifier: "documents", documents: [{ name: "Ada" }, { name: "Grace" }] }],
 * });
 * const msg = decodeOpMsg(frame);
 * assert.equal(msg.sequences[0].documents.length, 2);
 * ```
 */
export function decodeOpMsg(frame: Uint8Array, options?: DecodeMessageOptions): OpMsg {
  const c: FrameCursor = openFrame(frame, OP_MSG);
  const bson = options?.bson;
  const requestId = c.view.getInt32(4, true);
  const responseTo = c.view.getInt32(8, true);
  const rawFlags = c.uint32("flagBits");
  const unknownRequired = rawFlags & 0xffff & ~MSG_REQUIRED_FLAGS_MASK;
  if (unknownRequired !== 0) {
    c.fail(`unknown required flag bit(s) 0x${unknownRequired.toString(16)} in flagBits 0x${rawFlags.toString(16)}`, 16);
  }
  if ((rawFlags & MsgFlags.checksumPresent) !== 0) {
    c.need(CHECKSUM_SIZE, "checksum");
    c.end -= CHECKSUM_SIZE;
    const expected = c.view.getUint32(c.end, true);
    const actual = crc32c(frame.subarray(0, c.end));
    if (expected !== actual) {
      c.fail(
        `checksum mismatch: the message says 0x${hex8(expected)}, its bytes give 0x${hex8(actual)}`,
        c.end,
      );
    }
  }
  let body: Document | undefined;
  const sequences: DocumentSequence[] = [];
  if (c.pos === c.end) c.fail("no sections (a kind-0 body is required)");
  while (c.pos < c.end) {
    const kindAt = c.pos;
    const kind = c.uint8("section kind");
    if (kind === 0) {
      if (body !== undefined) c.fail("a second kind-0 body section (exactly one is allowed)", kindAt);
      body = c.document("kind-0 body", c.end, bson);
    } else if (kind === 1) {
      const sizeAt = c.pos;
      const size = c.int32("kind-1 section size");
      // The size counts itself and at least the identifier's NUL.
      if (size < 5 || size > c.end - sizeAt) {
        c.fail(`kind-1 section size ${size} does not fit the ${c.end - sizeAt} bytes left`, sizeAt);
      }
      const sectionEnd = sizeAt + size;
      const identifier = c.cstring("kind-1 identifier", sectionEnd);
      if (sequences.some((s) => s.identifier === identifier)) {
        c.fail(`kind-1 identifier "${identifier}" appears twice`, sizeAt + 4);
      }
      const documents: Document[] = [];
      while (c.pos < sectionEnd) {
        documents.push(c.document(`document ${documents.length} of sequence "${identifier}"`, sectionEnd, bson));
      }
      sequences.push({ identifier, documents });
    } else {
      c.fail(`unknown section kind ${kind}`, kindAt);
    }
  }
  expectEnd(c);
  if (body === undefined) c.fail("no kind-0 body section", 20);
  return {
    opCode: OP_MSG,
    requestId,
    responseTo,
    flagBits: rawFlags & KNOWN_FLAGS,
    body,
    sequences,
  };
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
