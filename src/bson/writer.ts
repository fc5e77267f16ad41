import { BSONError } from "../errors.ts";
import { writeUtf8 } from "./utf8.ts";

const textEncoder = new TextEncoder();

/**
 * A growable little-endian byte buffer, meant to be reused across calls.
 * The BSON encoder appends documents to one (see `encodeInto`), and the wire
 * layer builds whole messages in one: reserve a length slot, append header,
 * flags, cstrings and documents, then patch the length with `setInt32`.
 *
 * `buffer` and `view` expose the backing store for code that writes bytes
 * directly; they are replaced when the writer grows, so re-read them after
 * `ensureCapacity`. Bytes `[0, length)` are the content.
 *
 * @example Frame a length-prefixed message
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter } from "@zerodep/mongo/bson";
 *
 * const w = new ByteWriter();
 * const at = w.reserveInt32();
 * w.writeInt32(2013);
 * w.writeCString("admin.$cmd");
 * w.setInt32(at, w.length);
 * assert.equal(w.toBytes().length, 19);
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  /** Creates an empty writer with room for `initialCapacity` bytes (default 1024). */
  constructor(initialCapacity: number = 1024) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 0) {
      throw new BSONError(`ByteWriter capacity must be a non-negative integer, got ${initialCapacity}`);
    }
    this.#buf = new Uint8Array(Math.max(initialCapacity, 16));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /**
   * Moves the write position: shrinking truncates; growing (up to `capacity`)
   * keeps whatever bytes are already in the backing store.
   */
  set length(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > this.#buf.length) {
      throw new BSONError(`ByteWriter length must be an integer in [0, ${this.#buf.length}], got ${n}`);
    }
    this.#len = n;
  }

  /** Size of the backing store. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** The backing store (its length is `capacity`, not `length`). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** A DataView over the whole backing store. */
  get view(): DataView {
    return this.#view;
  }

  /** Empties the writer, keeping its backing store for reuse. */
  reset(): void {
    this.#len = 0;
  }

  /** Makes sure at least `extra` more bytes fit after `length`, growing the backing store if needed. */
  ensureCapacity(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    if (!(need <= 0x7fffffff)) throw new BSONError(`ByteWriter cannot grow to ${need} bytes (limit 2^31 - 1)`);
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(Math.min(cap, 0x7fffffff));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Appends one byte. */
  writeUint8(value: number): void {
    this.ensureCapacity(1);
    this.#buf[this.#len++] = value;
  }

  /** Appends a little-endian int32 (the low 32 bits of `value`). */
  writeInt32(value: number): void {
    this.ensureCapacity(4);
    this.#view.setInt32(this.#len, value, true);
    this.#len += 4;
  }

  /** Appends a little-endian uint32. */
  writeUint32(value: number): void {
    this.ensureCapacity(4);
    this.#view.setUint32(this.#len, value, true);
    this.#len += 4;
  }

  /** Appends a little-endian int64. */
  writeInt64(value: bigint): void {
    this.ensureCapacity(8);
    this.#view.setBigInt64(this.#len, value, true);
    this.#len += 8;
  }

  /** Appends a little-endian IEEE 754 double. */
  writeDouble(value: number): void {
    this.ensureCapacity(8);
    this.#view.setFloat64(this.#len, value, true);
    this.#len += 8;
  }

  /** Appends raw bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.ensureCapacity(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Appends `s` as UTF-8 followed by a NUL; throws a `BSONError` if `s` contains a NUL. */
  writeCString(s: string): void {
    if (s.includes("\0")) throw new BSONError(`cstring ${JSON.stringify(s)} contains a NUL character`);
    this.ensureCapacity(s.length * 3 + 1);
    this.#len = writeUtf8(this.#buf, this.#len, s, 0);
    this.#buf[this.#len++] = 0;
  }

  /** Appends a BSON string: int32 byte length (NUL included), UTF-8 bytes, NUL. */
  writeString(s: string): void {
    this.ensureCapacity(s.length * 3 + 5);
    const at = this.#len;
    const end = s.length > 64
      ? at + 4 + textEncoder.encodeInto(s, this.#buf.subarray(at + 4)).written
      : writeUtf8(this.#buf, at + 4, s, 0);
    this.#buf[end] = 0;
    this.#view.setInt32(at, end + 1 - at - 4, true);
    this.#len = end + 1;
  }

  /** Appends a zero int32 and returns its offset, to be patched with `setInt32`. */
  reserveInt32(): number {
    const at = this.#len;
    this.writeInt32(0);
    return at;
  }

  /** Overwrites the int32 at `offset` (which must lie inside `[0, length - 4]`). */
  setInt32(offset: number, value: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + 4 > this.#len) {
      throw new BSONError(`ByteWriter.setInt32 offset ${offset} is outside the ${this.#len} bytes written`);
    }
    this.#view.setInt32(offset, value, true);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  /** The bytes written so far, without copying (valid until the next write or reset). */
  subarray(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
