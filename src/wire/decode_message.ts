/**
 * Decoding any wire message by its opcode.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import { HEADER_SIZE } from "./header.ts";
import type { DecodeMessageOptions } from "./header.ts";
import { decodeOpGetMore, decodeOpKillCursors } from "./op_legacy.ts";
import type { OpGetMore, OpKillCursors } from "./op_legacy.ts";
import { decodeOpMsg } from "./op_msg.ts";
import type { OpMsg } from "./op_msg.ts";
import { decodeOpQuery } from "./op_query.ts";
import type { OpQuery } from "./op_query.ts";
import { decodeOpReply } from "./op_reply.ts";
import type { OpReply } from "./op_reply.ts";
import { OP_GET_MORE, OP_KILL_CURSORS, OP_MSG, OP_NAMES, OP_QUERY, OP_REPLY } from "./opcodes.ts";

/**
 * Any message this layer decodes, tagged by `opCode`.
 *
 * @example
 * ```ts
 * import { OP_MSG, type WireMessage } from "./mod.ts";
 *
 * function commandOf(msg: WireMessage): string | undefined {
 *   return msg.opCode === OP_MSG ? Object.keys(msg.body)[0] : undefined;
 * }
 * ```
 */
export type WireMessage = OpMsg | OpQuery | OpReply | OpGetMore | OpKillCursors;

/**
 * Decodes one whole frame (as `MessageReader.next()` returns it) by its
 * opCode: OP_MSG, OP_QUERY, OP_REPLY, OP_GET_MORE or OP_KILL_CURSORS. Switch
 * on the result's `opCode` to narrow it.
 *
 * @throws {WireProtocolError} for any other opcode (OP_COMPRESSED and the
 * legacy writes included, which this layer does not decode) and for any
 * malformed frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage, encodeOpMsg, OP_MSG } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const msg = decodeMessage(encodeOpMsg(new ByteWriter(), { requestId: 1, body: { ping: 1, $db: "admin" } }));
 * assert.equal(msg.opCode, OP_MSG);
 * if (msg.opCode === OP_MSG) assert.deepEqual(msg.body, { ping: 1, $db: "admin" });
 * ```
 */
export function decodeMessage(frame: Uint8Array, options?: DecodeMessageOptions): WireMessage {
  if (!(frame instanceof Uint8Array)) {
    throw new WireProtocolError(`decodeMessage needs a Uint8Array, got ${frame === null ? "null" : typeof frame}`);
  }
  if (frame.length < HEADER_SIZE) {
    throw new WireProtocolError(
      `invalid message: a frame of ${frame.length} bytes is shorter than the ${HEADER_SIZE}-byte header`,
    );
  }
  const opCode = frame[12] | (frame[13] << 8) | (frame[14] << 16) | (frame[15] << 24);
  switch (opCode) {
    case OP_MSG:
      return decodeOpMsg(frame, options);
    case OP_REPLY:
      return decodeOpReply(frame, options);
    case OP_QUERY:
      return decodeOpQuery(frame, options);
    case OP_GET_MORE:
      return decodeOpGetMore(frame);
    case OP_KILL_CURSORS:
      return decodeOpKillCursors(frame);
    default:
      throw new WireProtocolError(
        OP_NAMES[opCode] === undefined
          ? `invalid message: unknown opCode ${opCode}`
          : `invalid message: ${OP_NAMES[opCode]} (opCode ${opCode}) is not supported`,
      );
  }
}
