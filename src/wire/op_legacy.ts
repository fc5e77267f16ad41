/**
 * The legacy cursor messages for servers older than wire version 4 (MongoDB
 * 3.2), which have no `getMore`/`killCursors` commands. Layouts from the
 * MongoDB manual, "Legacy Opcodes":
 *
 * - OP_GET_MORE (2005): `int32 ZERO`, `cstring fullCollectionName`,
 *   `int32 numberToReturn`, `int64 cursorID`; answered by an OP_REPLY.
 * - OP_KILL_CURSORS (2007): `int32 ZERO`, `int32 numberOfCursorIDs`,
 *   `int64 cursorIDs[numberOfCursorIDs]`; never answered.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { ByteWriter } from "../bson/mod.ts";
import { arrayField, expectEnd, FrameBuilder, int32Field, int64Field, namespaceField, openFrame } from "./_frame.ts";
import type { FrameCursor } from "./_frame.ts";
import type { EncodeMessageOptions } from "./header.ts";
import { OP_GET_MORE, OP_KILL_CURSORS } from "./opcodes.ts";

/**
 * What {@linkcode encodeOpGetMore} needs. A decoded {@linkcode OpGetMore} has
 * the same shape, so it can be encoded again.
 *
 * @example
 * ```ts
 * import type { OpGetMoreFields } from "./mod.ts";
 *
 * const fields: OpGetMoreFields = { requestId: 4, fullCollectionName: "test.people", numberToReturn: 100, cursorId: 1234n };
 * ```
 */
export interface OpGetMoreFields {
  /** This message's id (see `nextRequestId`). */
  requestId: number;
  /** Default 0: requests answer nothing. */
  responseTo?: number;
  /** The namespace the cursor belongs to, `"<db>.<collection>"`. */
  fullCollectionName: string;
  /** Batch size; default 0 (the server's default). */
  numberToReturn?: number;
  /** The cursor id from the previous OP_REPLY. */
  cursorId: bigint;
}

/**
 * A decoded OP_GET_MORE.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpGetMore, encodeOpGetMore } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const m = decodeOpGetMore(encodeOpGetMore(new ByteWriter(), { requestId: 4, fullCollectionName: "test.c", cursorId: 77n }));
 * assert.equal(m.cursorId, 77n);
 * ```
 */
export interface OpGetMore {
  /** Always `OP_GET_MORE` (2005). */
  opCode: typeof OP_GET_MORE;
  /** The sender's id for this message. */
  requestId: number;
  /** As sent (0 for a well-behaved client). */
  responseTo: number;
  /** The namespace the cursor belongs to. */
  fullCollectionName: string;
  /** Batch size. */
  numberToReturn: number;
  /** The cursor to continue. */
  cursorId: bigint;
}

/**
 * What {@linkcode encodeOpKillCursors} needs. A decoded
 * {@linkcode OpKillCursors} has the same shape, so it can be encoded again.
 *
 * @example
 * ```ts
 * import type { OpKillCursorsFields } from "./mod.ts";
 *
 * const fields: OpKillCursorsFields = { requestId: 5, cursorIds: [1234n, 5678n] };
 * ```
 */
export interface OpKillCursorsFields {
  /** This message's id (see `nextRequestId`). */
  requestId: number;
  /** Default 0: requests answer nothing. */
  responseTo?: number;
  /** The cursors to close (at least one). */
  cursorIds: readonly bigint[];
}

/**
 * A decoded OP_KILL_CURSORS.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpKillCursors, encodeOpKillCursors } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const m = decodeOpKillCursors(encodeOpKillCursors(new ByteWriter(), { requestId: 5, cursorIds: [1n, 2n] }));
 * assert.deepEqual(m.cursorIds, [1n, 2n]);
 * ```
 */
export interface OpKillCursors {
  /** Always `OP_KILL_CURSORS` (2007). */
  opCode: typeof OP_KILL_CURSORS;
  /** The sender's id for this message. */
  requestId: number;
  /** As sent (0 for a well-behaved client). */
  responseTo: number;
  /** The cursors to close. */
  cursorIds: bigint[];
}

/**
 * Encodes an OP_GET_MORE into `writer` (reset first) and returns a new
 * `Uint8Array` holding the whole message, owned by the caller.
 *
 * @throws {WireProtocolError} for a bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpGetMore, nextRequestId } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpGetMore(new ByteWriter(), {
 *   requestId: nextRequestId(), fullCollectionName: "test.people", numberToReturn: 100, cursorId: 1234n,
 * });
 * assert.equal(frame.length, 44);
 * ```
 */
export function encodeOpGetMore(
  writer: ByteWriter,
  fields: OpGetMoreFields,
  options?: EncodeMessageOptions,
): Uint8Array {
  const b = new FrameBuilder(writer, OP_GET_MORE, options);
  checkFields(fields, OP_GET_MORE);
  const ns = namespaceField(fields.fullCollectionName, "fullCollectionName", OP_GET_MORE);
  const limit = int32Field(fields.numberToReturn ?? 0, "numberToReturn", OP_GET_MORE);
  const cursorId = int64Field(fields.cursorId, "cursorId", OP_GET_MORE);
  b.header(fields.requestId, fields.responseTo);
  const w = b.w;
  w.writeInt32(0);
  w.writeCString(ns);
  w.writeInt32(limit);
  w.writeInt64(cursorId);
  return b.finish();
}

/**
 * Decodes one whole OP_GET_MORE frame (header included). The reserved ZERO
 * field must be 0 and the frame must end right after the cursor id.
 *
 * @throws {WireProtocolError} for a malformed frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpGetMore, encodeOpGetMore } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpGetMore(new ByteWriter(), { requestId: 4, fullCollectionName: "test.c", numberToReturn: 2, cursorId: 9n });
 * assert.equal(decodeOpGetMore(frame).numberToReturn, 2);
 * ```
 */
export function decodeOpGetMore(frame: Uint8Array): OpGetMore {
  const c = openFrame(frame, OP_GET_MORE);
  zero(c);
  const fullCollectionName = c.cstring("fullCollectionName");
  const numberToReturn = c.int32("numberToReturn");
  const cursorId = c.int64("cursorID");
  expectEnd(c);
  return {
    opCode: OP_GET_MORE,
    requestId: c.view.getInt32(4, true),
    responseTo: c.view.getInt32(8, true),
    fullCollectionName,
    numberToReturn,
    cursorId,
  };
}

/**
 * Encodes an OP_KILL_CURSORS into `writer` (reset first) and returns a new
 * `Uint8Array` holding the whole message, owned by the caller.
 *
 * @throws {WireProtocolError} for a bad field or an empty `cursorIds`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpKillCursors, nextRequestId } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpKillCursors(new ByteWriter(), { requestId: nextRequestId(), cursorIds: [1234n] });
 * assert.equal(frame.length, 32);
 * ```
 */
export function encodeOpKillCursors(
  writer: ByteWriter,
  fields: OpKillCursorsFields,
  options?: EncodeMessageOptions,
): Uint8Array {
  const b = new FrameBuilder(writer, OP_KILL_CURSORS, options);
  checkFields(fields, OP_KILL_CURSORS);
  const ids = arrayField<bigint>(fields.cursorIds, "cursorIds", OP_KILL_CURSORS);
  if (ids.length === 0) throw new WireProtocolError("cannot encode OP_KILL_CURSORS: cursorIds is empty");
  for (let i = 0; i < ids.length; i++) int64Field(ids[i], `cursorIds[${i}]`, OP_KILL_CURSORS);
  b.header(fields.requestId, fields.responseTo);
  const w = b.w;
  w.writeInt32(0);
  w.writeInt32(ids.length);
  for (let i = 0; i < ids.length; i++) {
    w.writeInt64(ids[i]);
    if ((i & 0xfff) === 0xfff) b.checkSize();
  }
  return b.finish();
}

/**
 * Decodes one whole OP_KILL_CURSORS frame (header included).
 * `numberOfCursorIDs` must match the bytes exactly and be at least 1.
 *
 * @throws {WireProtocolError} for a malformed frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOpKillCursors, encodeOpKillCursors } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const frame = encodeOpKillCursors(new ByteWriter(), { requestId: 5, cursorIds: [7n] });
 * assert.deepEqual(decodeOpKillCursors(frame).cursorIds, [7n]);
 * ```
 */
export function decodeOpKillCursors(frame: Uint8Array): OpKillCursors {
  const c = openFrame(frame, OP_KILL_CURSORS);
  zero(c);
  const countAt = c.pos;
  const n = c.int32("numberOfCursorIDs");
  const left = c.end - c.pos;
  if (n < 1 || n * 8 !== left) {
    c.fail(`numberOfCursorIDs ${n} does not match the ${left} bytes of cursor ids (8 each, at least one)`, countAt);
  }
  const cursorIds: bigint[] = new Array(n);
  for (let i = 0; i < n; i++) cursorIds[i] = c.int64("cursorID");
  expectEnd(c);
  return {
    opCode: OP_KILL_CURSORS,
    requestId: c.view.getInt32(4, true),
    responseTo: c.view.getInt32(8, true),
    cursorIds,
  };
}

function checkFields(fields: unknown, opCode: number): void {
  if (fields === null || typeof fields !== "object") {
    const name = opCode === OP_GET_MORE ? "OP_GET_MORE" : "OP_KILL_CURSORS";
    throw new WireProtocolError(
      `cannot encode ${name}: fields must be an object, got ${fields === null ? "null" : typeof fields}`,
    );
  }
}

function zero(c: FrameCursor): void {
  const at = c.pos;
  const z = c.int32("ZERO");
  if (z !== 0) c.fail(`the reserved ZERO field is ${z}`, at);
}
