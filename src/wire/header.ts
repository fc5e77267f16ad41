/**
 * The 16-byte header every wire-protocol message starts with, and the options
 * shared by every message encoder and decoder.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { DecodeOptions, EncodeOptions } from "../bson/mod.ts";

/**
 * Bytes in the standard message header: messageLength, requestID, responseTo, opCode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HEADER_SIZE } from "./mod.ts";
 *
 * assert.equal(HEADER_SIZE, 16);
 * ```
 */
export const HEADER_SIZE = 16;

/**
 * The `maxMessageSizeBytes` servers usually report (48 MB), used until a
 * handshake says otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_MESSAGE_SIZE_BYTES } from "./mod.ts";
 *
 * assert.equal(DEFAULT_MAX_MESSAGE_SIZE_BYTES, 48000000);
 * ```
 */
export const DEFAULT_MAX_MESSAGE_SIZE_BYTES = 48_000_000;

/**
 * The standard message header, as read by {@linkcode readHeader}.
 *
 * @example
 * ```ts
 * import type { MessageHeader } from "./mod.ts";
 *
 * const h: MessageHeader = { messageLength: 16, requestId: 7, responseTo: 0, opCode: 2013 };
 * ```
 */
export interface MessageHeader {
  /** Length of the whole message in bytes, this header included. */
  messageLength: number;
  /** The sender's id for this message (`requestID` in the manual). */
  requestId: number;
  /** On a reply, the `requestId` of the request it answers; 0 on a request. */
  responseTo: number;
  /** What kind of message follows (see `OP_MSG` and friends). */
  opCode: number;
}

/**
 * Options for the message encoders (`encodeOpMsg`, `encodeOpQuery`, ...).
 *
 * @example
 * ```ts
 * import type { EncodeMessageOptions } from "./mod.ts";
 *
 * const options: EncodeMessageOptions = { maxMessageSizeBytes: 48_000_000, bson: { ignoreUndefined: true } };
 * ```
 */
export interface EncodeMessageOptions {
  /**
   * Largest message to build, header included (default 48000000). A larger
   * one throws a `WireProtocolError` before it is sent; pass the server's
   * `maxMessageSizeBytes` from its handshake reply.
   */
  maxMessageSizeBytes?: number;
  /**
   * Options for encoding each document (`maxSize` defaults to 16 MiB per
   * document; pass the server's `maxBsonObjectSize`, plus the 16 KiB a server
   * allows a command body beyond it, when known).
   */
  bson?: EncodeOptions;
}

/**
 * Options for the message decoders (`decodeMessage`, `decodeOpMsg`, ...).
 *
 * @example
 * ```ts
 * import type { DecodeMessageOptions } from "./mod.ts";
 *
 * // Lossless numbers, e.g. for a server simulator that stores what it gets.
 * const options: DecodeMessageOptions = { bson: { promoteValues: false } };
 * ```
 */
export interface DecodeMessageOptions {
  /** Options for decoding every document in the message. */
  bson?: DecodeOptions;
}

/**
 * Reads the standard header at the start of `frame`. Only the 16 header bytes
 * are needed; `messageLength` is reported as found, not checked against
 * `frame.length` (the message decoders check that).
 *
 * @throws {WireProtocolError} if `frame` is not a `Uint8Array` of at least 16 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHeader } from "./mod.ts";
 *
 * const frame = new Uint8Array([16, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0]);
 * assert.deepEqual(readHeader(frame), { messageLength: 16, requestId: 7, responseTo: 0, opCode: 2013 });
 * ```
 */
export function readHeader(frame: Uint8Array): MessageHeader {
  if (!(frame instanceof Uint8Array)) {
    throw new WireProtocolError(`readHeader needs a Uint8Array, got ${frame === null ? "null" : typeof frame}`);
  }
  if (frame.length < HEADER_SIZE) {
    throw new WireProtocolError(`a message header needs ${HEADER_SIZE} bytes, got ${frame.length}`);
  }
  const v = new DataView(frame.buffer, frame.byteOffset, HEADER_SIZE);
  return {
    messageLength: v.getInt32(0, true),
    requestId: v.getInt32(4, true),
    responseTo: v.getInt32(8, true),
    opCode: v.getInt32(12, true),
  };
}
