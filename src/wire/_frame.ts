// Helpers shared by the message encoders and decoders (not exported from mod.ts).
import { BSONError, ConfigurationError, WireProtocolError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import { ByteWriter, decode, encodeInto } from "../bson/mod.ts";
import type { DecodeOptions, Document, EncodeOptions } from "../bson/mod.ts";
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, HEADER_SIZE } from "./header.ts";
import type { EncodeMessageOptions } from "./header.ts";
import { OP_NAMES } from "./opcodes.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Names an opcode for messages: `OP_MSG (2013)`, or just the number when unknown. */
export function opName(opCode: number): string {
  const name = OP_NAMES[opCode];
  return name === undefined ? `opcode ${opCode}` : name;
}

/**
 * A bounds-checked reader over one frame. Every read checks the bytes left
 * before `end`, so a lying length turns into a WireProtocolError that names
 * the message, the field and the offset instead of a RangeError or a read
 * past the message.
 */
export class FrameCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly what: string;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.what = what;
    this.pos = HEADER_SIZE;
    this.end = bytes.length;
  }

  fail(reason: string, offset: number = this.pos, cause?: unknown): never {
    throw new WireProtocolError(
      `invalid ${this.what}: ${reason} (at offset ${offset})`,
      cause === undefined ? undefined : { cause },
    );
  }

  need(n: number, field: string, limit: number = this.end): void {
    if (this.pos + n > limit) {
      this.fail(`truncated ${field}: needs ${n} bytes, ${Math.max(0, limit - this.pos)} left`);
    }
  }

  int32(field: string): number {
    this.need(4, field);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  uint32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  int64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  uint8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++];
  }

  /** A NUL-terminated UTF-8 string that must end before `limit`. */
  cstring(field: string, limit: number = this.end): string {
    const start = this.pos;
    const nul = this.bytes.subarray(0, limit).indexOf(0, start);
    if (nul < 0) this.fail(`${field} has no NUL terminator before the end of its ${this.#scope(limit)}`, start);
    let s: string;
    try {
      s = utf8.decode(this.bytes.subarray(start, nul));
    } catch (e) {
      this.fail(`${field} is not valid UTF-8`, start, e);
    }
    this.pos = nul + 1;
    return s;
  }

  /** One BSON document whose declared length must fit before `limit`. */
  document(field: string, limit: number, options: DecodeOptions | undefined): Document {
    const start = this.pos;
    if (start + 4 > limit) {
      this.fail(`truncated ${field}: a document needs at least 5 bytes, ${Math.max(0, limit - start)} left`);
    }
    const size = this.view.getInt32(start, true);
    if (size < 5) this.fail(`${field} declares length ${size}, below the BSON minimum of 5`);
    if (size > limit - start) {
      this.fail(
        `${field} declares length ${size}, but only ${limit - start} bytes are left in the ${this.#scope(limit)}`,
      );
    }
    let doc: Document;
    try {
      doc = decode(this.bytes.subarray(start, start + size), options);
    } catch (e) {
      if (e instanceof BSONError && e.offset !== undefined) {
        this.fail(`${field} is not valid BSON: ${e.message}`, start + e.offset, e);
      }
      this.fail(`${field} is not valid BSON: ${e instanceof Error ? e.message : String(e)}`, start, e);
    }
    this.pos = start + size;
    return doc;
  }

  #scope(limit: number): string {
    return limit === this.end ? "message" : "section";
  }
}

/**
 * Checks that `frame` is one whole message of the expected opcode (a
 * messageLength equal to the frame's length) and returns a cursor at its body.
 */
export function openFrame(frame: Uint8Array, opCode: number): FrameCursor {
  const what = opName(opCode);
  if (!(frame instanceof Uint8Array)) {
    throw new WireProtocolError(`decoding ${what} needs a Uint8Array, got ${frame === null ? "null" : typeof frame}`);
  }
  const c = new FrameCursor(frame, what);
  if (frame.length < HEADER_SIZE) {
    c.fail(`a frame of ${frame.length} bytes is shorter than the ${HEADER_SIZE}-byte header`, 0);
  }
  const messageLength = c.view.getInt32(0, true);
  if (messageLength !== frame.length) {
    c.fail(`messageLength says ${messageLength} bytes, but the frame has ${frame.length}`, 0);
  }
  const actual = c.view.getInt32(12, true);
  if (actual !== opCode) c.fail(`the header's opCode is ${opName(actual)}, expected ${opCode}`, 12);
  return c;
}

/** Throws unless the frame was used up exactly. */
export function expectEnd(c: FrameCursor): void {
  if (c.pos !== c.end) c.fail(`${c.end - c.pos} unexpected bytes after the last field`);
}

function checkInt32(value: unknown, field: string, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new WireProtocolError(`cannot encode ${what}: ${field} must be an int32, got ${describeValue(value)}`);
  }
  return value;
}

/** Validates a field that must be an int32. */
export function int32Field(value: unknown, field: string, opCode: number): number {
  return checkInt32(value, field, opName(opCode));
}

/** Validates a field that must be an int64 given as a bigint. */
export function int64Field(value: unknown, field: string, opCode: number): bigint {
  if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
    throw new WireProtocolError(
      `cannot encode ${opName(opCode)}: ${field} must be a bigint in the int64 range, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Validates a namespace: a non-empty database name, a dot, and no NUL. */
export function namespaceField(value: unknown, field: string, opCode: number): string {
  if (typeof value !== "string" || value.includes("\0") || value.indexOf(".") < 1) {
    throw new WireProtocolError(
      `cannot encode ${opName(opCode)}: ${field} must be "<db>.<collection>" without NUL bytes, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Validates a field that must be a document (a plain object or a Map). */
export function documentField(value: unknown, field: string, opCode: number): Document {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new WireProtocolError(`cannot encode ${opName(opCode)}: ${field} must be a document, got ${describeValue(value)}`);
  }
  return value as Document;
}

/** Validates a field that must be an array. */
export function arrayField<T>(value: unknown, field: string, opCode: number): readonly T[] {
  if (!Array.isArray(value)) {
    throw new WireProtocolError(`cannot encode ${opName(opCode)}: ${field} must be an array, got ${describeValue(value)}`);
  }
  return value as T[];
}

/**
 * The encoder side: one message built in a caller's reusable ByteWriter. It
 * writes the header, checks the growing size against maxMessageSizeBytes as
 * documents are appended (so a huge batch fails early), and copies the result
 * out once at the end.
 */
export class FrameBuilder {
  readonly w: ByteWriter;
  readonly opCode: number;
  readonly max: number;
  readonly bson: EncodeOptions | undefined;

  constructor(w: ByteWriter, opCode: number, options: EncodeMessageOptions | undefined) {
    if (!(w instanceof ByteWriter)) {
      throw new WireProtocolError(`encoding ${opName(opCode)} needs a ByteWriter as its first argument`);
    }
    const max = options?.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES;
    if (!Number.isInteger(max) || max < HEADER_SIZE || max > INT32_MAX) {
      throw new ConfigurationError(
        `maxMessageSizeBytes must be an integer in [${HEADER_SIZE}, 2^31 - 1], got ${
          describeValue(options?.maxMessageSizeBytes)
        }`,
      );
    }
    this.w = w;
    this.opCode = opCode;
    this.max = max;
    this.bson = options?.bson;
  }

  header(requestId: unknown, responseTo: unknown): void {
    const id = int32Field(requestId, "requestId", this.opCode);
    const to = int32Field(responseTo ?? 0, "responseTo", this.opCode);
    const w = this.w;
    w.reset();
    w.writeInt32(0);
    w.writeInt32(id);
    w.writeInt32(to);
    w.writeInt32(this.opCode);
  }

  document(doc: unknown, field: string): void {
    encodeInto(this.w, documentField(doc, field, this.opCode), this.bson);
    this.checkSize();
  }

  checkSize(): void {
    if (this.w.length > this.max) {
      throw new WireProtocolError(
        `cannot encode ${opName(this.opCode)}: the message exceeds maxMessageSizeBytes ${this.max}` +
          ` (${this.w.length} bytes so far)`,
      );
    }
  }

  /** Patches messageLength and returns a copy of the frame, owned by the caller. */
  finish(): Uint8Array {
    this.checkSize();
    const w = this.w;
    w.setInt32(0, w.length);
    return w.buffer.slice(0, w.length);
  }
}
