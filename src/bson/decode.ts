/**
 * The BSON decoder: bytes to JavaScript values. Every length field is checked
 * against the bytes available before anything is read or allocated, so bad
 * input gives a `BSONError` with the offset, never a bare `RangeError`, a hang
 * or an allocation larger than the input.
 *
 * @module
 */
import { BSONError } from "../errors.ts";
import { NAN_BITS } from "./bson_tag.ts";
import { isJSC } from "./engine.ts";
import { Binary, UUID } from "./binary.ts";
import { BSONRegExp } from "./bson_regexp.ts";
import { Code } from "./code.ts";
import { DateTime, MAX_DATE_MS } from "./date_time.ts";
import { Decimal128 } from "./decimal128.ts";
import { BSONSymbol, BSONUndefined, DBPointer } from "./deprecated.ts";
import type { Document } from "./document.ts";
import { MaxKey, MinKey } from "./min_max_key.ts";
import { Double, Int32, Int64 } from "./numeric.ts";
import { ObjectId } from "./object_id.ts";
import { Timestamp } from "./timestamp.ts";

/** Options for {@linkcode decode}. */
export interface DecodeOptions {
  /**
   * Turn double, int32 and int64 into JavaScript numbers/bigints (default
   * `true`). With `false` they come back as `Double`, `Int32` and `Int64`
   * wrappers, so that re-encoding gives the same bytes (lossless mode).
   */
  promoteValues?: boolean;
  /**
   * How int64 values come back when `promoteValues` is on: `"bigint"` (default)
   * always gives a bigint; `"number"` gives a number when the value is a safe
   * integer and a bigint otherwise, so no precision is ever lost.
   */
  int64?: "bigint" | "number";
  /**
   * Deepest nesting accepted (default 200, the server's own `maxBSONDepth`).
   * The top-level document is depth 1; each embedded document, array or code
   * scope adds one level.
   */
  maxDepth?: number;
  /** Largest document accepted, in bytes (default: no limit beyond the input itself). */
  maxSize?: number;
}

const DEFAULT_MAX_DEPTH = 200;
const EMPTY = new Uint8Array(0);
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const fromCharCode = String.fromCharCode;

// Decoder state for the call in progress (decoding runs no user code, so it
// cannot be re-entered).
let buf: Uint8Array = EMPTY;
let view: DataView = new DataView(EMPTY.buffer);
let pos = 0;
let promote = true;
let int64AsNumber = false;
let maxDepth = DEFAULT_MAX_DEPTH;

// Decoded keys, interned by a hash of their bytes: documents repeat the same
// keys, and reusing one string saves an allocation and makes property stores
// hit the engine's caches.
const KEY_CACHE_SIZE = 4096;
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

/**
 * Decodes one BSON document. `bytes` must hold exactly one document: trailing
 * bytes are an error, as is any malformed content; each is a `BSONError` whose
 * `offset` is where decoding failed.
 *
 * Mapping: double and int32 give numbers, int64 a bigint, datetime a `Date`
 * (a {@linkcode DateTime} outside `Date`'s range), binary a {@linkcode Binary}
 * ({@linkcode UUID} for subtype 4 with 16 bytes), regex a {@linkcode BSONRegExp},
 * and every other type its wrapper class. A key named `__proto__` becomes an
 * ordinary own property. Array element keys are not checked against their
 * index (the BSON spec has decoders ignore them), only for being valid cstrings.
 *
 * Byte arrays in the result (ObjectId ids, Binary payloads, Decimal128 bytes)
 * are copies, never views of `bytes`. Small ones (128 bytes or less) may be
 * carved out of a shared ArrayBuffer, as Node's Buffer pool does: use
 * `byteOffset` and `byteLength` when you reach for their `.buffer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, encode, Int32 } from "@zerodep/mongo/bson";
 *
 * const doc = decode(encode({ a: 1, b: [true, null], n: 5n }));
 * assert.deepEqual(doc, { a: 1, b: [true, null], n: 5n });
 * const lossless = decode(encode({ a: 1 }), { promoteValues: false });
 * assert.ok(lossless.a instanceof Int32);
 * assert.equal(lossless.a.value, 1);
 * ```
 */
export function decode<T = Document>(bytes: Uint8Array, options?: DecodeOptions): T {
  if (!(bytes instanceof Uint8Array)) {
    if (bytes as unknown instanceof ArrayBuffer) bytes = new Uint8Array(bytes as unknown as ArrayBuffer);
    else throw new BSONError(`decode needs a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  }
  let maxSize = Infinity;
  if (options === undefined) {
    promote = true;
    int64AsNumber = false;
    maxDepth = DEFAULT_MAX_DEPTH;
  } else {
    promote = options.promoteValues ?? true;
    int64AsNumber = options.int64 === "number";
    if (options.int64 !== undefined && options.int64 !== "number" && options.int64 !== "bigint") {
      throw new BSONError(`int64 option must be "bigint" or "number", got ${String(options.int64)}`);
    }
    maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1) {
      throw new BSONError(`maxDepth must be a positive integer, got ${String(options.maxDepth)}`);
    }
    if (options.maxSize !== undefined) {
      maxSize = options.maxSize;
      if (!(maxSize >= 5)) throw new BSONError(`maxSize must be a number >= 5, got ${String(options.maxSize)}`);
    }
  }
  if (bytes.constructor !== Uint8Array) {
    // A subclass (Node's Buffer, say) would make slices views instead of copies.
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const n = bytes.length;
  if (n < 5) throw new BSONError(`input of ${n} bytes is too short for a BSON document (minimum 5)`, { offset: 0 });
  const size = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
  if (size < 5) throw new BSONError(`document length ${size} is less than the minimum of 5`, { offset: 0 });
  if (size > maxSize) throw new BSONError(`document length ${size} exceeds maxSize ${maxSize}`, { offset: 0 });
  if (size > n) {
    throw new BSONError(`document length ${size} exceeds the ${n} bytes given (truncated input?)`, { offset: 0 });
  }
  if (size < n) {
    throw new BSONError(`${n - size} unexpected bytes after the end of the ${size}-byte document`, { offset: size });
  }
  buf = bytes;
  view = new DataView(bytes.buffer, bytes.byteOffset, n);
  pos = 0;
  try {
    return readDocument(n, 1) as T;
  } catch (e) {
    if (e instanceof BSONError) throw e;
    // Nothing else should escape; if it does, still keep the promise of a typed error.
    throw new BSONError(`cannot decode: ${e instanceof Error ? e.message : String(e)}`, { offset: pos, cause: e });
  } finally {
    buf = EMPTY;
  }
}

// Small byte arrays (ObjectId, Decimal128, binaries up to POOL_MAX bytes) are
// carved out of a shared 8 KiB ArrayBuffer on V8, where allocating a tiny
// Uint8Array of its own costs ~200 ns but a view ~25 ns; Node's Buffer pool
// does the same. Such arrays have a non-zero byteOffset into a larger
// `.buffer`. On JavaScriptCore a fresh small Uint8Array is the cheaper one.
const POOL_SIZE = 8192;
const POOL_MAX = 128;
const usePool = !isJSC;
let pool = new ArrayBuffer(POOL_SIZE);
let poolPos = 0;

/** A copy of bytes [start, start + n) of the input. */
function copyBytes(start: number, n: number): Uint8Array {
  if (n > POOL_MAX) return buf.slice(start, start + n);
  let out: Uint8Array;
  if (usePool) {
    if (poolPos + n > POOL_SIZE || pool.byteLength === 0 /* detached by a transfer */) {
      pool = new ArrayBuffer(POOL_SIZE);
      poolPos = 0;
    }
    out = new Uint8Array(pool, poolPos, n);
    poolPos += n;
  } else {
    out = new Uint8Array(n);
  }
  for (let i = 0; i < n; i++) out[i] = buf[start + i];
  return out;
}

function keepNaNBits(d: Double, at: number): void {
  const bits = buf.slice(at, at + 8);
  // The default quiet NaN (0x7FF8000000000000) needs no help.
  if (
    bits[7] === 0x7f && bits[6] === 0xf8 && bits[5] === 0 && bits[4] === 0 && bits[3] === 0 && bits[2] === 0 &&
    bits[1] === 0 && bits[0] === 0
  ) return;
  Object.defineProperty(d, NAN_BITS, { value: bits, enumerable: false });
}

function fail(reason: string, offset: number): never {
  throw new BSONError(reason, { offset });
}

function int32At(p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
}

/**
 * Reads the document at `pos`, which must end at or before `limit`
 * (exclusive), and leaves `pos` after it.
 */
function readDocument(limit: number, depth: number): Document {
  const start = pos;
  if (depth > maxDepth) fail(`nesting deeper than maxDepth ${maxDepth}`, start);
  if (start + 5 > limit) fail("embedded document truncated", start);
  const size = int32At(start);
  if (size < 5 || size > limit - start) {
    fail(`embedded document length ${size} does not fit the ${limit - start} bytes its parent has left`, start);
  }
  const end = start + size - 1;
  if (buf[end] !== 0) fail("document is not terminated by a 0x00 byte", end);
  pos = start + 4;
  const obj: Document = {};
  while (pos < end) {
    const typePos = pos++;
    const key = readKey(end);
    const value = readValue(buf[typePos], typePos, end, depth);
    if (key === "__proto__") {
      Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
    } else {
      obj[key] = value;
    }
  }
  pos = end + 1;
  return obj;
}

function readArray(limit: number, depth: number): unknown[] {
  const start = pos;
  if (depth > maxDepth) fail(`nesting deeper than maxDepth ${maxDepth}`, start);
  if (start + 5 > limit) fail("embedded array truncated", start);
  const size = int32At(start);
  if (size < 5 || size > limit - start) {
    fail(`embedded array length ${size} does not fit the ${limit - start} bytes its parent has left`, start);
  }
  const end = start + size - 1;
  if (buf[end] !== 0) fail("array is not terminated by a 0x00 byte", end);
  pos = start + 4;
  const arr: unknown[] = [];
  while (pos < end) {
    const typePos = pos++;
    // Array keys carry no information (the spec has decoders ignore them),
    // but they must still be NUL-terminated, valid UTF-8 cstrings.
    let p = pos;
    let high = 0;
    while (p < end && buf[p] !== 0) high |= buf[p++];
    if (p >= end) fail("array key is not NUL-terminated inside its array", pos);
    if (high >= 0x80) utf8Slice(pos, p);
    pos = p + 1;
    arr.push(readValue(buf[typePos], typePos, end, depth));
  }
  pos = end + 1;
  return arr;
}

/** Reads a cstring key at `pos` whose NUL must lie before `end`. */
function readKey(end: number): string {
  const start = pos;
  let p = start;
  let h = 0;
  let high = 0;
  for (;;) {
    if (p >= end) fail("key is not NUL-terminated inside its document", start);
    const b = buf[p];
    if (b === 0) break;
    h = (h * 31 + b) | 0;
    high |= b;
    p++;
  }
  pos = p + 1;
  const len = p - start;
  if (high >= 0x80) return utf8Slice(start, p);
  if (len > 64) return asciiSlice(start, p);
  const slot = (h ^ (len << 7)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return cached;
  }
  const s = asciiSlice(start, p);
  keyCache[slot] = s;
  return s;
}

// Strings up to this many bytes are decoded in JavaScript; longer ones go to
// TextDecoder. On V8 (Deno) each TextDecoder call costs ~300 ns of fixed
// overhead, so the JS path wins up to a few hundred bytes; on JavaScriptCore
// (Bun) the native decoder is cheap and wins from ~16 bytes on.
const JS_DECODE_MAX = isJSC ? 16 : 256;
// unitArrays[n] is a reusable array of n UTF-16 code units for
// String.fromCharCode.apply, which is fastest with an exact-length packed array.
const unitArrays: number[][] = [];
for (let n = 0; n <= JS_DECODE_MAX; n++) unitArrays.push(new Array<number>(n).fill(0));
const scratch: number[] = new Array<number>(JS_DECODE_MAX).fill(0);

/** Bytes [start, end) known to be ASCII, as a string. */
function asciiSlice(start: number, end: number): string {
  const n = end - start;
  if (n > JS_DECODE_MAX) return utf8Decoder.decode(buf.subarray(start, end));
  const a = unitArrays[n];
  for (let i = 0; i < n; i++) a[i] = buf[start + i];
  return fromCharCode.apply(null, a);
}

/** Bytes [start, end) as a string, rejecting invalid UTF-8. */
function utf8Slice(start: number, end: number): string {
  const n = end - start;
  if (n > JS_DECODE_MAX) return utf8SliceSlow(start, end);
  const a = unitArrays[n];
  for (let i = 0; i < n; i++) {
    const b = buf[start + i];
    if (b >= 0x80) return utf8SliceJs(start, end);
    a[i] = b;
  }
  return fromCharCode.apply(null, a);
}

/**
 * Strict UTF-8 decoding of a short slice (at most JS_DECODE_MAX bytes):
 * rejects overlong forms, surrogates, code points past U+10FFFF and
 * truncated sequences, exactly as a fatal TextDecoder does.
 */
function utf8SliceJs(start: number, end: number): string {
  let u = 0;
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      scratch[u++] = b;
      i++;
      continue;
    }
    let cp: number;
    let extra: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      cp = b & 0x1f;
      extra = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      cp = b & 0x0f;
      extra = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      cp = b & 0x07;
      extra = 3;
      min = 0x10000;
    } else {
      return fail("invalid UTF-8 in a string or key", i);
    }
    if (i + extra >= end) {
      return fail("invalid UTF-8 in a string or key: truncated sequence", i);
    }
    for (let k = 1; k <= extra; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) return fail("invalid UTF-8 in a string or key", i);
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return fail("invalid UTF-8 in a string or key", i);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      scratch[u++] = 0xd800 | (cp >> 10);
      scratch[u++] = 0xdc00 | (cp & 0x3ff);
    } else {
      scratch[u++] = cp;
    }
    i += extra + 1;
  }
  const a = unitArrays[u];
  for (let k = 0; k < u; k++) a[k] = scratch[k];
  return fromCharCode.apply(null, a);
}

function utf8SliceSlow(start: number, end: number): string {
  try {
    return utf8Decoder.decode(buf.subarray(start, end));
  } catch (e) {
    throw new BSONError("invalid UTF-8 in a string or key", { offset: start, cause: e });
  }
}

/** Reads a BSON string (int32 length, bytes, NUL) that must end before `limit`. */
function readString(limit: number): string {
  const at = pos;
  if (at + 4 > limit) fail("string length truncated", at);
  const len = int32At(at);
  if (len < 1 || len > limit - at - 4) {
    fail(`string length ${len} is invalid: it must be at least 1 and fit the ${limit - at - 4} bytes left`, at);
  }
  const end = at + 3 + len; // index of the NUL
  if (buf[end] !== 0) fail("string is not NUL-terminated", end);
  pos = end + 1;
  return utf8Slice(at + 4, end);
}

function readCString(limit: number): string {
  const start = pos;
  let p = start;
  while (p < limit && buf[p] !== 0) p++;
  if (p >= limit) fail("cstring is not NUL-terminated inside its document", start);
  pos = p + 1;
  return utf8Slice(start, p);
}

function need(n: number, limit: number, what: string): void {
  if (pos + n > limit) fail(`${what} truncated: needs ${n} bytes, ${limit - pos} left in the document`, pos);
}

function readValue(type: number, typePos: number, limit: number, depth: number): unknown {
  switch (type) {
    case 0x01: {
      need(8, limit, "double");
      const v = view.getFloat64(pos, true);
      pos += 8;
      if (promote) return v;
      const d = new Double(v);
      if (v !== v) keepNaNBits(d, pos - 8);
      return d;
    }
    case 0x02:
      return readString(limit);
    case 0x03:
      return readDocument(limit, depth + 1);
    case 0x04:
      return readArray(limit, depth + 1);
    case 0x05:
      return readBinary(limit);
    case 0x06:
      return new BSONUndefined();
    case 0x07: {
      need(12, limit, "ObjectId");
      const id = copyBytes(pos, 12);
      pos += 12;
      return new ObjectId(id);
    }
    case 0x08: {
      need(1, limit, "boolean");
      const b = buf[pos];
      if (b > 1) fail(`boolean byte must be 0 or 1, got ${b}`, pos);
      pos++;
      return b === 1;
    }
    case 0x09: {
      need(8, limit, "datetime");
      const lo = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
      const hi = int32At(pos + 4);
      if (hi >= -0x200000 && hi < 0x200000) {
        const ms = hi * 4294967296 + lo;
        if (ms <= MAX_DATE_MS && ms >= -MAX_DATE_MS) {
          pos += 8;
          return new Date(ms);
        }
      }
      const big = view.getBigInt64(pos, true);
      pos += 8;
      return new DateTime(big);
    }
    case 0x0a:
      return null;
    case 0x0b: {
      const pattern = readCString(limit);
      const options = readCString(limit);
      return new BSONRegExp(pattern, options);
    }
    case 0x0c: {
      const ns = readString(limit);
      need(12, limit, "DBPointer ObjectId");
      const id = copyBytes(pos, 12);
      pos += 12;
      return new DBPointer(ns, new ObjectId(id));
    }
    case 0x0d:
      return new Code(readString(limit));
    case 0x0e:
      return new BSONSymbol(readString(limit));
    case 0x0f:
      return readCodeWithScope(limit, depth);
    case 0x10: {
      need(4, limit, "int32");
      const v = int32At(pos);
      pos += 4;
      return promote ? v : new Int32(v);
    }
    case 0x11: {
      need(8, limit, "timestamp");
      const i = int32At(pos) >>> 0;
      const t = int32At(pos + 4) >>> 0;
      pos += 8;
      return new Timestamp({ t, i });
    }
    case 0x12: {
      need(8, limit, "int64");
      if (promote && int64AsNumber) {
        const hi = int32At(pos + 4);
        if (hi >= -0x200000 && hi < 0x200000) {
          const v = hi * 4294967296 + (int32At(pos) >>> 0);
          if (Number.isSafeInteger(v)) {
            pos += 8;
            return v;
          }
        }
      }
      const v = view.getBigInt64(pos, true);
      pos += 8;
      return promote ? v : new Int64(v);
    }
    case 0x13: {
      need(16, limit, "Decimal128");
      const b = copyBytes(pos, 16);
      pos += 16;
      return new Decimal128(b);
    }
    case 0xff:
      return new MinKey();
    case 0x7f:
      return new MaxKey();
    case 0x00:
      return fail("unexpected 0x00 (end of document) before the document's stated end", typePos);
    default:
      return fail(`unknown BSON element type 0x${type.toString(16).padStart(2, "0")}`, typePos);
  }
}

function readBinary(limit: number): Binary {
  const at = pos;
  need(5, limit, "binary");
  const len = int32At(at);
  const subType = buf[at + 4];
  if (len < 0 || len > limit - at - 5) {
    fail(`binary length ${len} is invalid: it must be >= 0 and fit the ${limit - at - 5} bytes left`, at);
  }
  let start = at + 5;
  const end = start + len;
  if (subType === 2) {
    // The old binary subtype repeats the length inside the payload.
    if (len < 4) fail(`binary subtype 2 needs an inner length, but the payload is ${len} bytes`, at);
    const inner = int32At(start);
    if (inner !== len - 4) fail(`binary subtype 2 inner length ${inner} disagrees with outer length ${len}`, start);
    start += 4;
  }
  const bytes = copyBytes(start, end - start);
  pos = end;
  return subType === 4 && bytes.length === 16 ? new UUID(bytes) : new Binary(bytes, subType);
}

function readCodeWithScope(limit: number, depth: number): Code {
  const at = pos;
  need(4, limit, "code with scope");
  const total = int32At(at);
  // Smallest: int32 total + string (int32 1, NUL) + empty document (5).
  if (total < 14 || total > limit - at) {
    fail(`code with scope length ${total} is invalid: it must be >= 14 and fit the ${limit - at} bytes left`, at);
  }
  const end = at + total;
  pos = at + 4;
  const code = readString(end);
  const scope = readDocument(end, depth + 1);
  if (pos !== end) fail(`code with scope length ${total} disagrees with its contents (${pos - at} bytes)`, at);
  return new Code(code, scope);
}
