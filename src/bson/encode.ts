/**
 * The BSON encoder: JavaScript values to BSON bytes. This is the driver's hot
 * path, so it writes straight into one reused buffer held in module state, and
 * dispatches on `typeof` first and on a prototype tag second.
 *
 * @module
 */
import { BSONError } from "../errors.ts";
import { BSON_TAG, BsonTag, NAN_BITS } from "./bson_tag.ts";
import type { Binary } from "./binary.ts";
import type { Code } from "./code.ts";
import type { BSONRegExp } from "./bson_regexp.ts";
import type { DateTime } from "./date_time.ts";
import { Decimal128 } from "./decimal128.ts";
import type { BSONSymbol, DBPointer } from "./deprecated.ts";
import type { Document } from "./document.ts";
import { INT64_MAX, INT64_MIN } from "./numeric.ts";
import type { Double, Int32, Int64 } from "./numeric.ts";
import type { ObjectId } from "./object_id.ts";
import type { Timestamp } from "./timestamp.ts";
import { isJSC } from "./engine.ts";
import { writeUtf8 } from "./utf8.ts";
import { ByteWriter } from "./writer.ts";

/** Options for {@linkcode encode} and {@linkcode encodeInto}. */
export interface EncodeOptions {
  /**
   * Skip fields whose value is `undefined` (default `true`). With `false` they
   * are written as BSON null, as js-bson does by default. Inside arrays
   * `undefined` (and holes) are always written as null, so indexes stay dense.
   */
  ignoreUndefined?: boolean;
  /**
   * Reject keys that start with `$` or contain `.` (default `false`), as the
   * server once required of stored documents. Applies at every nesting level
   * of documents (array indexes are never checked); inside embedded documents
   * the DBRef keys `$ref`, `$id` and `$db` are allowed.
   */
  checkKeys?: boolean;
  /**
   * Deepest nesting allowed (default 200, the server's own `maxBSONDepth`).
   * The top-level document is depth 1; each embedded document, array or code
   * scope adds one level.
   */
  maxDepth?: number;
  /**
   * Largest document in bytes (default 16 MiB = 16777216, the server's usual
   * `maxBsonObjectSize`). A larger document throws a `BSONError`.
   */
  maxSize?: number;
}

const DEFAULT_MAX_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 200;
// The shared writer is replaced when a huge document left it bigger than this,
// so one outlier does not pin its memory forever.
const KEEP_CAPACITY = 32 * 1024 * 1024;
const textEncoder = new TextEncoder();
// From this many UTF-16 units on, TextEncoder.encodeInto beats the JS loop. On
// V8 its fixed cost (~60-90 ns, mostly the subarray) pays off early, and it
// does not slow down on sliced or rope strings the way charCodeAt does; on
// JavaScriptCore (Bun) creating the subarray costs more than copying a few
// hundred characters by hand. Measured on both, see the README's benchmark notes.
const nativeStringMin = isJSC ? 512 : 64;
const hasOwn = Object.prototype.hasOwnProperty;
const objectProto = Object.prototype;

let shared = new ByteWriter(64 * 1024);

// Encoder state. One encode runs at a time; a re-entrant call (from a getter
// or a Proxy trap inside the document) saves and restores it.
const EMPTY = new Uint8Array(0);
let writer: ByteWriter | null = null;
let buf: Uint8Array = EMPTY;
let view: DataView = new DataView(buf.buffer);
let pos = 0;
let docStart = 0;
let maxSize = DEFAULT_MAX_SIZE;
let maxDepth = DEFAULT_MAX_DEPTH;
let ignoreUndefined = true;
let checkKeys = false;
// Objects and keys on the way down from the root: the stack names the path in
// error messages and lets the depth-limit error tell a cycle from deep data,
// so cycle detection costs nothing on the normal path.
let stack: (object | undefined)[] = [];
let keys: (string | number)[] = [];

/**
 * Encodes `doc` to BSON and returns a new `Uint8Array` holding exactly its
 * bytes. `doc` is a plain object, a `Map` with string keys, or a class
 * instance. A value that cannot be encoded throws a `BSONError` naming its
 * key path (`"a.b[2].c"`); so do cycles, NUL characters in keys or regex
 * parts, nesting past `maxDepth` and documents past `maxSize`.
 *
 * | JavaScript | BSON |
 * | --- | --- |
 * | number | int32 if an integer in int32 range and not -0, else double |
 * | bigint | int64 (outside int64: error) |
 * | string | string (lone surrogates become U+FFFD, as with `TextEncoder`) |
 * | boolean, null | boolean, null |
 * | undefined | skipped (null with `ignoreUndefined: false`; null in arrays) |
 * | Date | UTC datetime (an invalid Date is an error) |
 * | Uint8Array, ArrayBuffer, DataView | binary subtype 0 |
 * | RegExp | regex; flags i, m, s, u kept (v as u), g, y, d dropped; sorted |
 * | Array | array (holes as null) |
 * | plain object, Map, null-prototype object | document; key order kept, `_id` not moved or added |
 * | other class instances | document of their own enumerable properties (like js-bson) |
 * | wrappers (Int32, ObjectId, Binary, ...) | their BSON type |
 * | function, symbol, Set, Promise, other typed arrays | error |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, ObjectId } from "@zerodep/mongo/bson";
 *
 * const bytes = encode({ _id: new ObjectId(), n: 1, big: 2n ** 40n, when: new Date(), tags: ["a"] });
 * const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
 * assert.equal(bytes.length === view.getInt32(0, true), true);
 * ```
 */
export function encode(doc: Document | Map<string, unknown>, options?: EncodeOptions): Uint8Array {
  if (writer !== null) {
    // Re-entrant: the shared writer is in use further up the call stack.
    const w = new ByteWriter(256);
    encodeInto(w, doc, options);
    return w.toBytes();
  }
  const w = shared;
  w.reset();
  encodeInto(w, doc, options);
  const out = copyOut(w.buffer, w.length);
  if (w.capacity > KEEP_CAPACITY) shared = new ByteWriter(64 * 1024);
  return out;
}

/** The fastest way to copy `n` bytes into a fresh array differs per engine. */
const copyOut: (b: Uint8Array, n: number) => Uint8Array = isJSC
  ? (b, n) => new Uint8Array(b.subarray(0, n))
  : (b, n) => b.slice(0, n);

/**
 * Appends the BSON encoding of `doc` to `target` without an intermediate copy.
 * On error nothing is appended (`target.length` is restored) and a `BSONError`
 * is thrown.
 *
 * @example Two documents back to back, as in an OP_MSG document sequence
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteWriter, encodeInto } from "@zerodep/mongo/bson";
 *
 * const w = new ByteWriter();
 * encodeInto(w, { a: 1 });
 * encodeInto(w, { b: "two" });
 * assert.equal(w.length, 28); // 12 + 16
 * ```
 */
export function encodeInto(target: ByteWriter, doc: Document | Map<string, unknown>, options?: EncodeOptions): void {
  if (!(target instanceof ByteWriter)) throw new BSONError("encodeInto needs a ByteWriter as its first argument");
  const start = target.length;
  const saved = writer === null ? null : saveState();
  if (saved !== null) {
    stack = [];
    keys = [];
  }
  writer = target;
  buf = target.buffer;
  view = target.view;
  pos = start;
  docStart = start;
  try {
    readOptions(options);
    if (doc === null || typeof doc !== "object") {
      throw new BSONError(`encode needs a document (an object or a Map), got ${doc === null ? "null" : typeof doc}`);
    }
    const proto = Object.getPrototypeOf(doc);
    if (proto !== objectProto && proto !== null && !(doc instanceof Map)) {
      if (Array.isArray(doc) || (doc as Tagged)[BSON_TAG] !== undefined || isSpecialObject(doc)) {
        throw new BSONError(`encode needs a document (an object or a Map), got ${describe(doc)}`);
      }
    }
    writeDocument(doc, 1);
    if (pos - start > maxSize) {
      throw new BSONError(`document is ${pos - start} bytes, larger than maxSize ${maxSize}`);
    }
    target.length = pos;
  } catch (e) {
    target.length = start;
    if (e instanceof RangeError) {
      // The JS call stack ran out (only possible with a very large maxDepth):
      // name the cycle if that is what it was.
      const first = new Map<object, number>();
      for (let d = 1; d < stack.length; d++) {
        const o = stack[d];
        if (o === undefined) break;
        const earlier = first.get(o);
        if (earlier !== undefined) {
          throw new BSONError(
            `cannot encode: cyclic reference, ${pathAt(d - 1)} is the same object as ${pathAt(earlier - 1)}`,
            { cause: e },
          );
        }
        first.set(o, d);
      }
      throw new BSONError(`cannot encode: ${e.message} (nesting too deep?)`, { cause: e });
    }
    throw e;
  } finally {
    if (saved !== null) restoreState(saved);
    else {
      writer = null;
      buf = EMPTY;
      // Drop references to the caller's objects, but keep the arrays' storage.
      for (let i = 0; i < stack.length; i++) stack[i] = undefined;
    }
  }
}

type Tagged = { [BSON_TAG]?: number };

function readOptions(options: EncodeOptions | undefined): void {
  if (options === undefined) {
    maxSize = DEFAULT_MAX_SIZE;
    maxDepth = DEFAULT_MAX_DEPTH;
    ignoreUndefined = true;
    checkKeys = false;
    return;
  }
  maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  ignoreUndefined = options.ignoreUndefined ?? true;
  checkKeys = options.checkKeys ?? false;
  if (!Number.isInteger(maxSize) || maxSize < 5 || maxSize > 0x7fffffff) {
    throw new BSONError(`maxSize must be an integer in [5, 2^31 - 1], got ${String(options.maxSize)}`);
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new BSONError(`maxDepth must be a positive integer, got ${String(options.maxDepth)}`);
  }
}

interface SavedState {
  writer: ByteWriter | null;
  buf: Uint8Array;
  view: DataView;
  pos: number;
  docStart: number;
  maxSize: number;
  maxDepth: number;
  ignoreUndefined: boolean;
  checkKeys: boolean;
  stack: (object | undefined)[];
  keys: (string | number)[];
}

function saveState(): SavedState {
  if (writer !== null) writer.length = Math.min(pos, writer.capacity);
  return { writer, buf, view, pos, docStart, maxSize, maxDepth, ignoreUndefined, checkKeys, stack, keys };
}

function restoreState(s: SavedState): void {
  writer = s.writer;
  // The outer writer may have been used (and grown) by the nested call only if
  // it is the same object; re-read its store to be safe.
  buf = s.writer !== null ? s.writer.buffer : s.buf;
  view = s.writer !== null ? s.writer.view : s.view;
  pos = s.pos;
  docStart = s.docStart;
  maxSize = s.maxSize;
  maxDepth = s.maxDepth;
  ignoreUndefined = s.ignoreUndefined;
  checkKeys = s.checkKeys;
  stack = s.stack;
  keys = s.keys;
}

/** Grows the buffer so that `n` more bytes fit at `pos`. */
function grow(n: number): void {
  if (pos - docStart > maxSize) {
    throw new BSONError(`document is larger than maxSize ${maxSize} bytes`);
  }
  const w = writer!;
  w.length = pos;
  w.ensureCapacity(n);
  buf = w.buffer;
  view = w.view;
}

// ---------------------------------------------------------------------------
// Error helpers

function pathAt(depth: number): string {
  let s = "";
  for (let d = 1; d <= depth && d < keys.length; d++) {
    const k = keys[d];
    if (typeof k === "number") s += `[${k}]`;
    else s += s === "" ? k : `.${k}`;
  }
  return s === "" ? "(top level)" : JSON.stringify(s);
}

function fail(depth: number, reason: string): never {
  throw new BSONError(`cannot encode the value at ${pathAt(depth)}: ${reason}`);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  if (Array.isArray(v)) return "an array";
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object";
}

function depthExceeded(obj: object, depth: number): never {
  // Every cycle ends up here, so the normal path needs no visited set: look
  // for the first object on the path that appears twice.
  stack[depth] = obj;
  for (let d = 1; d < depth; d++) {
    for (let e = d + 1; e <= depth; e++) {
      if (stack[e] === stack[d]) {
        throw new BSONError(`cannot encode: cyclic reference, ${pathAt(e - 1)} is the same object as ${pathAt(d - 1)}`);
      }
    }
  }
  throw new BSONError(`cannot encode: nesting deeper than maxDepth ${maxDepth} at ${pathAt(depth - 1)}`);
}

function isSpecialObject(v: object): boolean {
  return v instanceof Date || v instanceof RegExp || ArrayBuffer.isView(v) || v instanceof ArrayBuffer ||
    v instanceof Decimal128 || v instanceof Set || v instanceof WeakMap || v instanceof WeakSet ||
    v instanceof Promise || v instanceof Number || v instanceof String || v instanceof Boolean;
}

// ---------------------------------------------------------------------------
// Writers

function writeInt32At(p: number, v: number): void {
  buf[p] = v;
  buf[p + 1] = v >>> 8;
  buf[p + 2] = v >>> 16;
  buf[p + 3] = v >>> 24;
}

/** Writes a document (plain object, Map or class instance) at the current position. */
function writeDocument(obj: object, depth: number): void {
  if (depth > maxDepth) depthExceeded(obj, depth);
  stack[depth] = obj;
  if (pos + 5 > buf.length) grow(5);
  const start = pos;
  pos += 4;
  if (obj instanceof Map) {
    for (const [key, value] of obj) {
      if (typeof key !== "string") {
        keys[depth] = String(key);
        fail(depth, `Map keys must be strings, got ${typeof key}`);
      }
      writeElement(key, value, depth);
    }
  } else {
    const o = obj as Record<string, unknown>;
    if (isJSC) {
      // JavaScriptCore enumerates for...in from a per-shape cache: fastest there.
      for (const key in o) {
        if (!hasOwn.call(o, key)) continue;
        writeElement(key, o[key], depth);
      }
    } else {
      // V8 keeps objects with many keys in dictionary mode, where for...in
      // re-checks every key; Object.keys is a single pass.
      const ks = Object.keys(o);
      for (let i = 0; i < ks.length; i++) {
        const key = ks[i];
        writeElement(key, o[key], depth);
      }
    }
  }
  if (pos + 1 > buf.length) grow(1);
  buf[pos++] = 0;
  writeInt32At(start, pos - start);
}

function writeElement(key: string, value: unknown, depth: number): void {
  keys[depth] = key;
  const klen = key.length;
  // Room for type byte, key (3 bytes per UTF-16 unit at worst), NUL and any
  // fixed-size value (16 bytes at most).
  if (pos + klen * 3 + 18 > buf.length) grow(klen * 3 + 18);
  const typePos = pos;
  let p = pos + 1;
  for (let i = 0; i < klen; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80 && c !== 0) buf[p++] = c;
    else {
      if (key.includes("\0", i)) fail(depth, "keys must not contain a NUL character");
      p = writeUtf8(buf, p, key, i);
      break;
    }
  }
  buf[p] = 0;
  pos = p + 1;
  if (checkKeys) checkKey(key, depth);
  const type = writeValue(value, depth);
  if (type > 0) buf[typePos] = type;
  else pos = typePos; // undefined skipped
}

function checkKey(key: string, depth: number): void {
  if (key.charCodeAt(0) === 36 /* $ */) {
    if (depth > 1 && (key === "$ref" || key === "$id" || key === "$db")) return;
    fail(depth, "checkKeys: keys must not start with '$'");
  }
  if (key.includes(".")) fail(depth, "checkKeys: keys must not contain '.'");
}

function writeArray(arr: unknown[], depth: number): void {
  if (depth > maxDepth) depthExceeded(arr, depth);
  stack[depth] = arr;
  if (pos + 5 > buf.length) grow(5);
  const start = pos;
  pos += 4;
  const n = arr.length;
  for (let i = 0; i < n; i++) {
    keys[depth] = i;
    if (pos + 30 > buf.length) grow(30);
    const typePos = pos;
    let p = pos + 1;
    if (i < 10) {
      buf[p++] = 48 + i;
    } else if (i < 100) {
      buf[p++] = 48 + ((i / 10) | 0);
      buf[p++] = 48 + (i % 10);
    } else {
      const s = String(i);
      for (let j = 0; j < s.length; j++) buf[p++] = s.charCodeAt(j);
    }
    buf[p] = 0;
    pos = p + 1;
    const type = writeValue(arr[i], depth);
    buf[typePos] = type > 0 ? type : 0x0a;
  }
  if (pos + 1 > buf.length) grow(1);
  buf[pos++] = 0;
  writeInt32At(start, pos - start);
}

/** Writes the string's int32 length, UTF-8 bytes and NUL. */
function writeString(s: string, depth: number): void {
  const len = s.length;
  if (len > maxSize) fail(depth, `string of ${len} characters exceeds maxSize ${maxSize}`);
  if (pos + len * 3 + 5 > buf.length) grow(len * 3 + 5);
  const lenPos = pos;
  let p = pos + 4;
  if (len >= nativeStringMin) {
    p += textEncoder.encodeInto(s, buf.subarray(p)).written;
  } else {
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2), d = s.charCodeAt(i + 3);
      if ((a | b | c | d) >= 0x80) break;
      buf[p] = a;
      buf[p + 1] = b;
      buf[p + 2] = c;
      buf[p + 3] = d;
      p += 4;
    }
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i < len) p = writeUtf8(buf, p, s, i);
  }
  buf[p++] = 0;
  writeInt32At(lenPos, p - lenPos - 4);
  pos = p;
}

function writeCString(s: string, depth: number, what: string): void {
  if (s.includes("\0")) fail(depth, `${what} must not contain a NUL character`);
  const len = s.length;
  if (len > maxSize) fail(depth, `${what} of ${len} characters exceeds maxSize ${maxSize}`);
  if (pos + len * 3 + 1 > buf.length) grow(len * 3 + 1);
  pos = writeUtf8(buf, pos, s, 0);
  buf[pos++] = 0;
}

/** Writes an int64 given as a safe-integer-or-so number (|n| < 2^63). */
function writeInt64Number(n: number): void {
  const hi = Math.floor(n / 4294967296);
  const lo = n - hi * 4294967296;
  writeInt32At(pos, lo);
  writeInt32At(pos + 4, hi);
  pos += 8;
}

function writeBytes(bytes: Uint8Array, depth: number): void {
  const n = bytes.length;
  if (n > maxSize) fail(depth, `binary of ${n} bytes exceeds maxSize ${maxSize}`);
  if (pos + n > buf.length) grow(n);
  if (n < 32) {
    for (let i = 0; i < n; i++) buf[pos + i] = bytes[i];
  } else {
    buf.set(bytes, pos);
  }
  pos += n;
}

function writeBinary(bytes: Uint8Array, subType: number, depth: number): number {
  if (pos + 9 > buf.length) grow(9);
  if (subType === 2) {
    writeInt32At(pos, bytes.length + 4);
    buf[pos + 4] = 2;
    writeInt32At(pos + 5, bytes.length);
    pos += 9;
  } else {
    writeInt32At(pos, bytes.length);
    buf[pos + 4] = subType;
    pos += 5;
  }
  writeBytes(bytes, depth);
  return 0x05;
}

/** BSON wants regex options in alphabetical order. */
function sortedOptions(options: string): string {
  for (let i = 1; i < options.length; i++) {
    if (options.charCodeAt(i - 1) > options.charCodeAt(i)) return options.split("").sort().join("");
  }
  return options;
}

function regExpOptions(re: RegExp): string {
  // JS flags with a BSON meaning; g, y and d only matter to JS's own matcher.
  let o = "";
  if (re.ignoreCase) o += "i";
  if (re.multiline) o += "m";
  if (re.dotAll) o += "s";
  if (re.unicode || (re as { unicodeSets?: boolean }).unicodeSets) o += "u";
  return o;
}

/**
 * Writes the value at `pos` (the key is already written) and returns its
 * element type, or -1 when the field is to be skipped (`undefined`).
 */
function writeValue(v: unknown, depth: number): number {
  switch (typeof v) {
    case "string":
      writeString(v, depth);
      return 0x02;
    case "number":
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        writeInt32At(pos, v);
        pos += 4;
        return 0x10;
      }
      view.setFloat64(pos, v, true);
      pos += 8;
      return 0x01;
    case "boolean":
      buf[pos++] = v ? 1 : 0;
      return 0x08;
    case "object":
      if (v === null) return 0x0a;
      return writeObject(v, depth);
    case "bigint":
      if (v < INT64_MIN || v > INT64_MAX) fail(depth, `bigint ${v} is outside the int64 range`);
      view.setBigInt64(pos, v, true);
      pos += 8;
      return 0x12;
    case "undefined":
      return ignoreUndefined ? -1 : 0x0a;
    case "function":
      return fail(depth, "functions cannot be encoded (wrap source text in Code)");
    default:
      return fail(depth, `values of type ${typeof v} cannot be encoded`);
  }
}

function writeObject(v: object, depth: number): number {
  if (Array.isArray(v)) {
    writeArray(v, depth + 1);
    return 0x04;
  }
  const tag = (v as Tagged)[BSON_TAG];
  if (tag !== undefined) return writeWrapper(v, tag, depth);
  const proto = Object.getPrototypeOf(v);
  if (proto === objectProto) {
    writeDocument(v, depth + 1);
    return 0x03;
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (ms !== ms) fail(depth, "invalid Date (its time is NaN)");
    writeInt64Number(ms);
    return 0x09;
  }
  if (v instanceof Uint8Array) return writeBinary(v, 0, depth);
  if (proto === null || v instanceof Map) {
    writeDocument(v, depth + 1);
    return 0x03;
  }
  if (v instanceof Decimal128) {
    const b = v.bytes;
    if (!(b instanceof Uint8Array) || b.length !== 16) fail(depth, "Decimal128 must hold exactly 16 bytes");
    for (let i = 0; i < 16; i++) buf[pos + i] = b[i];
    pos += 16;
    return 0x13;
  }
  if (v instanceof RegExp) {
    writeCString(v.source, depth, "regex pattern");
    writeCString(regExpOptions(v), depth, "regex options");
    return 0x0b;
  }
  if (v instanceof ArrayBuffer) return writeBinary(new Uint8Array(v), 0, depth);
  if (v instanceof DataView) return writeBinary(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 0, depth);
  if (ArrayBuffer.isView(v)) {
    return fail(depth, `${describe(v)} cannot be encoded; pass its bytes as a Uint8Array or a Binary`);
  }
  if (isSpecialObject(v) || typeof (v as { then?: unknown }).then === "function") {
    return fail(depth, `${describe(v)} cannot be encoded as BSON`);
  }
  // Any other class instance: its own enumerable properties, like js-bson and JSON.stringify.
  writeDocument(v, depth + 1);
  return 0x03;
}

function writeWrapper(v: object, tag: number, depth: number): number {
  switch (tag) {
    case BsonTag.Double: {
      const n = (v as Double).value;
      if (n !== n && (v as { [NAN_BITS]?: Uint8Array })[NAN_BITS] !== undefined) {
        const bits = (v as { [NAN_BITS]: Uint8Array })[NAN_BITS];
        for (let i = 0; i < 8; i++) buf[pos + i] = bits[i];
      } else {
        view.setFloat64(pos, n, true);
      }
      pos += 8;
      return 0x01;
    }
    case BsonTag.Int32: {
      const n = (v as Int32).value;
      if ((n | 0) !== n) fail(depth, `Int32 value ${n} is not an int32`);
      writeInt32At(pos, n);
      pos += 4;
      return 0x10;
    }
    case BsonTag.Int64: {
      const n = (v as Int64).value;
      if (typeof n !== "bigint" || n < INT64_MIN || n > INT64_MAX) fail(depth, `Int64 value ${n} is not an int64`);
      view.setBigInt64(pos, n, true);
      pos += 8;
      return 0x12;
    }
    case BsonTag.ObjectId: {
      const id = (v as ObjectId).id;
      if (!(id instanceof Uint8Array) || id.length !== 12) fail(depth, "ObjectId must hold exactly 12 bytes");
      for (let i = 0; i < 12; i++) buf[pos + i] = id[i];
      pos += 12;
      return 0x07;
    }
    case BsonTag.Binary: {
      const b = v as Binary;
      const st = b.subType;
      if (!(b.buffer instanceof Uint8Array) || (st & 0xff) !== st) {
        fail(depth, "Binary must hold a Uint8Array and a subtype in 0-255");
      }
      return writeBinary(b.buffer, st, depth);
    }
    case BsonTag.Timestamp: {
      const t = v as Timestamp;
      if (!(t.t >= 0 && t.t <= 0xffffffff && t.i >= 0 && t.i <= 0xffffffff && t.t % 1 === 0 && t.i % 1 === 0)) {
        fail(depth, "Timestamp t and i must be uint32 integers");
      }
      writeInt32At(pos, t.i);
      writeInt32At(pos + 4, t.t);
      pos += 8;
      return 0x11;
    }
    case BsonTag.DateTime: {
      const ms = (v as DateTime).ms;
      if (typeof ms !== "bigint" || ms < INT64_MIN || ms > INT64_MAX) {
        fail(depth, "DateTime ms must be an int64 bigint");
      }
      view.setBigInt64(pos, ms, true);
      pos += 8;
      return 0x09;
    }
    case BsonTag.Code: {
      const c = v as Code;
      if (c.scope === undefined) {
        writeString(c.code, depth);
        return 0x0d;
      }
      if (c.scope === null || typeof c.scope !== "object") fail(depth, "Code scope must be a document");
      const start = pos;
      pos += 4;
      writeString(c.code, depth);
      writeDocument(c.scope, depth + 1);
      writeInt32At(start, pos - start);
      return 0x0f;
    }
    case BsonTag.RegExp: {
      const r = v as BSONRegExp;
      writeCString(r.pattern, depth, "regex pattern");
      writeCString(sortedOptions(r.options), depth, "regex options");
      return 0x0b;
    }
    case BsonTag.Symbol:
      writeString((v as BSONSymbol).value, depth);
      return 0x0e;
    case BsonTag.DBPointer: {
      const d = v as DBPointer;
      writeString(d.namespace, depth);
      const id = d.id?.id;
      if (!(id instanceof Uint8Array) || id.length !== 12) fail(depth, "DBPointer id must be an ObjectId");
      if (pos + 12 > buf.length) grow(12);
      for (let i = 0; i < 12; i++) buf[pos + i] = id[i];
      pos += 12;
      return 0x0c;
    }
    case BsonTag.Undefined:
      return 0x06;
    case BsonTag.MinKey:
      return 0xff;
    case BsonTag.MaxKey:
      return 0x7f;
    default:
      return fail(depth, `unknown BSON wrapper tag ${tag}`);
  }
}
