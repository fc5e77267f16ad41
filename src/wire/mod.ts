/**
 * The MongoDB wire protocol: encoders and decoders for OP_MSG, OP_QUERY,
 * OP_REPLY, OP_GET_MORE and OP_KILL_CURSORS (both directions, so a client and
 * a simulated server share them), an incremental {@linkcode MessageReader}
 * that cuts a socket's byte stream into messages, CRC-32C, and request ids.
 *
 * Encoders build the message in a caller's reusable `ByteWriter` and return
 * one copy of it, owned by the caller. Decoders take one whole frame, header
 * included, check every length against the bytes really there, and throw a
 * `WireProtocolError` (from `src/errors.ts`) for anything malformed.
 *
 * @example A command round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage, encodeOpMsg, MessageReader, nextRequestId, OP_MSG } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const writer = new ByteWriter();
 * const frame = encodeOpMsg(writer, { requestId: nextRequestId(), body: { ping: 1, $db: "admin" } });
 *
 * const reader = new MessageReader();
 * reader.push(frame);
 * const msg = decodeMessage(reader.next()!);
 * assert.equal(msg.opCode, OP_MSG);
 * if (msg.opCode === OP_MSG) assert.deepEqual(msg.body, { ping: 1, $db: "admin" });
 * ```
 *
 * @module
 */
export {
  MSG_REQUIRED_FLAGS_MASK,
  MsgFlags,
  OP_COMPRESSED,
  OP_DELETE,
  OP_GET_MORE,
  OP_INSERT,
  OP_KILL_CURSORS,
  OP_MSG,
  OP_NAMES,
  OP_QUERY,
  OP_REPLY,
  OP_UPDATE,
  QUERY_FLAGS_MASK,
  QueryFlags,
  ResponseFlags,
} from "./opcodes.ts";
export {
  type DecodeMessageOptions,
  DEFAULT_MAX_MESSAGE_SIZE_BYTES,
  type EncodeMessageOptions,
  HEADER_SIZE,
  type MessageHeader,
  readHeader,
} from "./header.ts";
export { crc32c } from "./crc32c.ts";
export {
  compressMessage,
  COMPRESSOR_IDS,
  decompressMessage,
  type DecompressOptions,
  type SupportedCompressor,
  UNCOMPRESSIBLE_COMMANDS,
} from "./op_compressed.ts";
export { nextRequestId } from "./request_id.ts";
export { decodeOpMsg, type DocumentSequence, encodeOpMsg, type OpMsg, type OpMsgFields } from "./op_msg.ts";
export { decodeOpQuery, encodeOpQuery, type OpQuery, type OpQueryFields } from "./op_query.ts";
export { decodeOpReply, encodeOpReply, type OpReply, type OpReplyFields } from "./op_reply.ts";
export {
  decodeOpGetMore,
  decodeOpKillCursors,
  encodeOpGetMore,
  encodeOpKillCursors,
  type OpGetMore,
  type OpGetMoreFields,
  type OpKillCursors,
  type OpKillCursorsFields,
} from "./op_legacy.ts";
export { decodeMessage, type WireMessage } from "./decode_message.ts";
export { MessageReader, type MessageReaderOptions } from "./reader.ts";
