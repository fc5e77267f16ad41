/**
 * MongoDB Extended JSON v2, canonical and relaxed: text or plain JSON trees to
 * BSON values and back.
 *
 * The parser is its own JSON reader, because `JSON.parse` turns integers past
 * 2^53 into the wrong number and cannot tell `1` from `1.0`, both of which
 * decide a BSON type here. Objects keep `__proto__` as an ordinary own key;
 * a repeated key keeps its first position and its last value, as with
 * `JSON.parse`.
 *
 * @module
 */
import { BSONError } from "../errors.ts";
import { Binary, UUID } from "./binary.ts";
import { BSONRegExp } from "./bson_regexp.ts";
import { Code } from "./code.ts";
import { DateTime } from "./date_time.ts";
import { Decimal128 } from "./decimal128.ts";
import { BSONSymbol, BSONUndefined, DBPointer } from "./deprecated.ts";
import type { Document } from "./document.ts";
import { hexToBytes } from "./hex.ts";
import { MaxKey, MinKey } from "./min_max_key.ts";
import { Double, Int32, Int64 } from "./numeric.ts";
import { ObjectId } from "./object_id.ts";
import { Timestamp } from "./timestamp.ts";

/**
 * Options of {@linkcode EJSON.stringify}.
 *
 * @example
 * ```ts
 * import { EJSON, type EJSONStringifyOptions } from "@zerodep/mongo";
 *
 * const options: EJSONStringifyOptions = { relaxed: false, space: 2 };
 * console.log(EJSON.stringify({ n: 1 }, options));
 * ```
 */
export interface EJSONStringifyOptions {
  /**
   * `true` (the default) writes Relaxed Extended JSON: int32, int64 and finite
   * doubles as JSON numbers, dates from 1970 to 9999 as ISO-8601 strings.
   * `false` writes Canonical Extended JSON, which keeps every BSON type.
   */
  relaxed?: boolean;
  /** Indentation, as in `JSON.stringify`: a number of spaces (at most 10) or a string (first 10 characters). */
  space?: number | string;
}

/**
 * Options of {@linkcode EJSON.serialize}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EJSON, type EJSONSerializeOptions } from "@zerodep/mongo";
 *
 * const options: EJSONSerializeOptions = { relaxed: false };
 * assert.deepEqual(EJSON.serialize({ n: 1 }, options), { n: { $numberInt: "1" } });
 * ```
 */
export interface EJSONSerializeOptions {
  /**
   * `true` (the default) gives the relaxed form; `false` the canonical form.
   * A plain JSON tree cannot hold every relaxed number exactly, so in relaxed
   * mode an int64 outside ±(2^53 - 1) stays `{ $numberLong }` and a `-0.0`
   * double stays `{ $numberDouble: "-0.0" }`; both are valid relaxed input.
   */
  relaxed?: boolean;
}

/**
 * Options of {@linkcode EJSON.parse} and {@linkcode EJSON.deserialize}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EJSON, Int32, type EJSONParseOptions } from "@zerodep/mongo";
 *
 * const options: EJSONParseOptions = { relaxed: false };
 * const doc = EJSON.parse('{"n": 1}', options) as { n: Int32 };
 * assert.equal(doc.n instanceof Int32, true);
 * ```
 */
export interface EJSONParseOptions {
  /**
   * `true` (the default) returns the values `decode` returns by default:
   * int32 and double as `number`, int64 as `bigint`. `false` returns `Int32`,
   * `Double` and `Int64` wrappers, so that encoding the result gives back
   * exactly the BSON types the text describes. JSON numbers without fraction
   * or exponent are int32 when they fit, else int64 when they fit, else double;
   * other JSON numbers are doubles.
   */
  relaxed?: boolean;
}

/**
 * The Extended JSON codec: the type of {@linkcode EJSON}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EJSON, type EJSONCodec } from "@zerodep/mongo";
 *
 * const codec: EJSONCodec = EJSON;
 * assert.equal(codec.stringify({ a: 1n }), '{"a":1}');
 * ```
 */
export interface EJSONCodec {
  /**
   * Writes a value (usually a document) as Extended JSON text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EJSON } from "@zerodep/mongo";
   *
   * assert.equal(EJSON.stringify({ d: new Date(0) }), '{"d":{"$date":"1970-01-01T00:00:00Z"}}');
   * ```
   */
  stringify(value: unknown, options?: EJSONStringifyOptions): string;
  /**
   * Reads Extended JSON text (canonical, relaxed, or the legacy `$regex` and
   * `$binary`/`$type` forms) into BSON values.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EJSON } from "@zerodep/mongo";
   *
   * assert.deepEqual(EJSON.parse('{"n": {"$numberLong": "9007199254740993"}}'), { n: 9007199254740993n });
   * ```
   */
  parse(text: string, options?: EJSONParseOptions): unknown;
  /**
   * Turns a value into a plain JSON-compatible tree in Extended JSON form
   * (ready for `JSON.stringify`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EJSON, ObjectId } from "@zerodep/mongo";
   *
   * const id = new ObjectId("65a1b2c3d4e5f60718293a4b");
   * assert.deepEqual(EJSON.serialize({ _id: id }), { _id: { $oid: "65a1b2c3d4e5f60718293a4b" } });
   * ```
   */
  serialize(value: unknown, options?: EJSONSerializeOptions): unknown;
  /**
   * Turns an already `JSON.parse`d tree in Extended JSON form into BSON values.
   * Numbers in such a tree have lost their text, so an integral number is
   * typed as an integer (int32 or int64) by its value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EJSON, Timestamp } from "@zerodep/mongo";
   *
   * const tree = JSON.parse('{"t": {"$timestamp": {"t": 1, "i": 2}}}');
   * assert.deepEqual(EJSON.deserialize(tree), { t: new Timestamp({ t: 1, i: 2 }) });
   * ```
   */
  deserialize(json: unknown, options?: EJSONParseOptions): unknown;
}

/** Deeper nesting than this is refused; the spec asks for at least 200 (parse) and 100 (generate). */
const MAX_DEPTH = 1000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_DATE_MS = 8640000000000000n;
/** 9999-12-31T23:59:59.999Z: the last instant relaxed mode writes as an ISO string. */
const MAX_ISO_MS = 253402300799999;

// ---------------------------------------------------------------------------
// JSON reader

/** A JSON number as written, so its BSON type can be chosen from the text. */
class JsonNumber {
  readonly text: string;
  readonly integer: boolean;

  constructor(text: string, integer: boolean) {
    this.text = text;
    this.integer = integer;
  }
}

type Raw = null | boolean | string | number | JsonNumber | Raw[] | Map<string, Raw>;

function fail(message: string, offset?: number): never {
  throw new BSONError(`EJSON: ${message}`, offset === undefined ? undefined : { offset });
}

function showChar(c: string): string {
  return c === "" ? "end of input" : `character ${JSON.stringify(c)}`;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

class JsonReader {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  readDocument(): Raw {
    this.#skipSpace();
    const value = this.#value(0);
    this.#skipSpace();
    if (this.#pos < this.#text.length) {
      fail(`unexpected ${showChar(this.#text[this.#pos])} after the JSON value`, this.#pos);
    }
    return value;
  }

  #skipSpace(): void {
    const t = this.#text;
    let p = this.#pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.#pos = p;
  }

  #value(depth: number): Raw {
    const t = this.#text;
    const c = t.charCodeAt(this.#pos);
    switch (c) {
      case 123: // {
        return this.#object(depth + 1);
      case 91: // [
        return this.#array(depth + 1);
      case 34: // "
        return this.#string();
      case 116: // t
        return this.#literal("true", true);
      case 102: // f
        return this.#literal("false", false);
      case 110: // n
        return this.#literal("null", null);
      default:
        if (c === 45 || isDigit(c)) return this.#number();
        return fail(`unexpected ${showChar(t.charAt(this.#pos))}, expected a JSON value`, this.#pos);
    }
  }

  #literal<T extends Raw>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) {
      fail(`invalid literal, expected ${word}`, this.#pos);
    }
    this.#pos += word.length;
    return value;
  }

  #object(depth: number): Map<string, Raw> {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`, this.#pos);
    const map = new Map<string, Raw>();
    this.#pos++;
    this.#skipSpace();
    if (this.#text.charCodeAt(this.#pos) === 125) {
      this.#pos++;
      return map;
    }
    for (;;) {
      if (this.#text.charCodeAt(this.#pos) !== 34) {
        fail(`unexpected ${showChar(this.#text.charAt(this.#pos))}, expected a string key`, this.#pos);
      }
      const key = this.#string();
      this.#skipSpace();
      if (this.#text.charCodeAt(this.#pos) !== 58) {
        fail(`unexpected ${showChar(this.#text.charAt(this.#pos))}, expected ':'`, this.#pos);
      }
      this.#pos++;
      this.#skipSpace();
      map.set(key, this.#value(depth));
      this.#skipSpace();
      const c = this.#text.charCodeAt(this.#pos);
      if (c === 44) {
        this.#pos++;
        this.#skipSpace();
      } else if (c === 125) {
        this.#pos++;
        return map;
      } else {
        fail(`unexpected ${showChar(this.#text.charAt(this.#pos))}, expected ',' or '}'`, this.#pos);
      }
    }
  }

  #array(depth: number): Raw[] {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`, this.#pos);
    const out: Raw[] = [];
    this.#pos++;
    this.#skipSpace();
    if (this.#text.charCodeAt(this.#pos) === 93) {
      this.#pos++;
      return out;
    }
    for (;;) {
      out.push(this.#value(depth));
      this.#skipSpace();
      const c = this.#text.charCodeAt(this.#pos);
      if (c === 44) {
        this.#pos++;
        this.#skipSpace();
      } else if (c === 93) {
        this.#pos++;
        return out;
      } else {
        fail(`unexpected ${showChar(this.#text.charAt(this.#pos))}, expected ',' or ']'`, this.#pos);
      }
    }
  }

  #string(): string {
    const t = this.#text;
    const start = this.#pos + 1;
    let p = start;
    // Fast path: no escapes.
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 34) {
        this.#pos = p + 1;
        return t.slice(start, p);
      }
      if (c === 92 || c < 32 || Number.isNaN(c)) break;
      p++;
    }
    let out = t.slice(start, p);
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) fail("unterminated string", start - 1);
      if (c === 34) {
        this.#pos = p + 1;
        return out;
      }
      if (c < 32) fail("unescaped control character in string", p);
      if (c !== 92) {
        let q = p + 1;
        while (q < t.length) {
          const d = t.charCodeAt(q);
          if (d === 34 || d === 92 || d < 32) break;
          q++;
        }
        out += t.slice(p, q);
        p = q;
        continue;
      }
      const e = t.charAt(p + 1);
      switch (e) {
        case '"':
          out += '"';
          break;
        case "\\":
          out += "\\";
          break;
        case "/":
          out += "/";
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = t.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("invalid \\u escape in string", p);
          out += String.fromCharCode(parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          fail(`invalid escape ${JSON.stringify("\\" + e)} in string`, p);
      }
      p += 2;
    }
  }

  #number(): JsonNumber {
    const t = this.#text;
    const start = this.#pos;
    let p = start;
    if (t.charCodeAt(p) === 45) p++;
    const first = t.charCodeAt(p);
    if (first === 48) {
      p++;
    } else if (isDigit(first)) {
      while (isDigit(t.charCodeAt(p))) p++;
    } else {
      fail("invalid number: expected a digit", p);
    }
    let integer = true;
    if (t.charCodeAt(p) === 46) {
      integer = false;
      p++;
      if (!isDigit(t.charCodeAt(p))) fail("invalid number: expected a digit after '.'", p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 101 || e === 69) {
      integer = false;
      p++;
      const s = t.charCodeAt(p);
      if (s === 43 || s === 45) p++;
      if (!isDigit(t.charCodeAt(p))) fail("invalid number: expected a digit in the exponent", p);
      while (isDigit(t.charCodeAt(p))) p++;
    }
    this.#pos = p;
    return new JsonNumber(t.slice(start, p), integer);
  }
}

// ---------------------------------------------------------------------------
// Extended JSON tree -> BSON values

function setKey(doc: Document, key: string, value: unknown): void {
  // `doc[key] = v` would set the prototype for "__proto__"; define it as data instead.
  if (key === "__proto__") {
    Object.defineProperty(doc, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    doc[key] = value;
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof Map) return "object";
  if (v instanceof JsonNumber) return "number";
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A JSON object from the reader (a Map) or from a `JSON.parse` tree, as a Map. */
function asObject(v: unknown): Map<string, Raw> | null {
  if (v instanceof Map) return v as Map<string, Raw>;
  if (isPlainObject(v)) return new Map(Object.entries(v) as [string, Raw][]);
  return null;
}

/** An integer JSON number (no fraction or exponent in the text), as a bigint, or null. */
function integerOf(v: unknown): bigint | null {
  if (v instanceof JsonNumber) return v.integer ? BigInt(v.text) : null;
  if (typeof v === "number" && Number.isInteger(v) && !Object.is(v, -0)) return BigInt(v);
  return null;
}

class Reviver {
  readonly #relaxed: boolean;
  /** Keys and indexes from the root to the value being revived; left as is when an error escapes. */
  readonly path: string[] = [];

  constructor(relaxed: boolean) {
    this.#relaxed = relaxed;
  }

  /** Revives `v`, naming the dotted path of the offending value in any error. */
  root(v: unknown): unknown {
    try {
      return this.value(v, 0);
    } catch (e) {
      if (e instanceof BSONError && this.path.length > 0) {
        throw new BSONError(`${e.message} (at ${this.path.join(".")})`, { cause: e });
      }
      throw e;
    }
  }

  value(v: unknown, depth: number): unknown {
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (v instanceof JsonNumber || typeof v === "number") return this.#number(v);
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        this.path.push(String(i));
        out[i] = this.value(v[i], depth + 1);
        this.path.pop();
      }
      return out;
    }
    const map = asObject(v);
    if (map === null) fail(`not a JSON value: ${typeName(v)}`);
    for (const key of map.keys()) {
      if (key.charCodeAt(0) === 36) { // '$': maybe a type wrapper
        const wrapped = this.#wrapper(map, depth);
        if (wrapped !== NOT_A_WRAPPER) return wrapped;
        break;
      }
    }
    return this.document(map, depth);
  }

  document(map: Map<string, unknown>, depth: number): Document {
    const doc: Document = {};
    for (const [key, raw] of map) {
      if (key.includes("\0")) fail(`document key ${JSON.stringify(key)} contains a NUL character`);
      this.path.push(key);
      setKey(doc, key, this.value(raw, depth + 1));
      this.path.pop();
    }
    return doc;
  }

  #number(v: JsonNumber | number): unknown {
    const integer = integerOf(v);
    if (integer !== null) {
      if (integer >= INT32_MIN && integer <= INT32_MAX) {
        return this.#relaxed ? Number(integer) : new Int32(Number(integer));
      }
      if (integer >= INT64_MIN && integer <= INT64_MAX) {
        return this.#relaxed ? integer : new Int64(integer);
      }
    }
    const n = typeof v === "number" ? v : Number(v.text);
    if (!Number.isFinite(n) && typeof v !== "number") fail(`number ${v.text} is outside the range of a double`);
    return this.#relaxed ? n : new Double(n);
  }

  #wrapper(map: Map<string, unknown>, depth: number): unknown {
    if (map.has("$oid")) return objectId(exactly(map, "$oid"));
    if (map.has("$symbol")) return new BSONSymbol(stringValue(map, "$symbol"));
    if (map.has("$numberInt")) {
      const n = integerString(map, "$numberInt", BigInt(INT32_MIN), BigInt(INT32_MAX));
      return this.#relaxed ? Number(n) : new Int32(Number(n));
    }
    if (map.has("$numberLong")) {
      const n = integerString(map, "$numberLong", INT64_MIN, INT64_MAX);
      return this.#relaxed ? n : new Int64(n);
    }
    if (map.has("$numberDouble")) {
      const n = doubleString(stringValue(map, "$numberDouble"));
      return this.#relaxed ? n : new Double(n);
    }
    if (map.has("$numberDecimal")) return Decimal128.fromString(stringValue(map, "$numberDecimal"));
    if (map.has("$binary")) return binary(map);
    if (map.has("$uuid")) return uuid(stringValue(map, "$uuid"));
    if (map.has("$code")) {
      const code = map.get("$code");
      if (typeof code !== "string") fail(`$code must be a string, got ${typeName(code)}`);
      if (!map.has("$scope")) {
        exactly(map, "$code");
        return new Code(code);
      }
      exactly(map, "$code", "$scope");
      const scope = asObject(map.get("$scope"));
      if (scope === null) fail(`$scope must be a document, got ${typeName(map.get("$scope"))}`);
      this.path.push("$scope");
      const doc = this.document(scope, depth + 1);
      this.path.pop();
      return new Code(code, doc);
    }
    if (map.has("$scope")) fail("$scope without $code");
    if (map.has("$timestamp")) return timestamp(exactly(map, "$timestamp"));
    if (map.has("$regularExpression")) return regularExpression(exactly(map, "$regularExpression"));
    if (map.has("$dbPointer")) return dbPointer(exactly(map, "$dbPointer"));
    if (map.has("$date")) return date(exactly(map, "$date"));
    if (map.has("$minKey")) return oneKey(map, "$minKey") && new MinKey();
    if (map.has("$maxKey")) return oneKey(map, "$maxKey") && new MaxKey();
    if (map.has("$undefined")) {
      if (exactly(map, "$undefined") !== true) fail("$undefined must be true");
      return new BSONUndefined();
    }
    if (map.has("$regex")) return legacyRegex(map);
    return NOT_A_WRAPPER;
  }
}

const NOT_A_WRAPPER: unique symbol = Symbol("not a wrapper");

/** Checks that `map` has exactly `keys` (the type wrapper's keys) and returns the first key's value. */
function exactly(map: Map<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (!map.has(k)) fail(`${keys[0]} needs the key ${k}`);
  if (map.size !== keys.length) {
    const extra = [...map.keys()].filter((k) => !keys.includes(k));
    fail(
      `${keys[0]} does not allow the key${extra.length > 1 ? "s" : ""} ${
        extra.map((k) => JSON.stringify(k)).join(", ")
      }`,
    );
  }
  return map.get(keys[0]);
}

function stringValue(map: Map<string, unknown>, key: string): string {
  const v = exactly(map, key);
  if (typeof v !== "string") fail(`${key} must be a string, got ${typeName(v)}`);
  return v;
}

function integerString(map: Map<string, unknown>, key: string, min: bigint, max: bigint): bigint {
  const s = stringValue(map, key);
  if (!/^-?\d{1,30}$/.test(s)) fail(`${key} must be a string of decimal digits, got ${JSON.stringify(s.slice(0, 40))}`);
  const n = BigInt(s);
  if (n < min || n > max) fail(`${key} ${s} is out of range [${min}, ${max}]`);
  return n;
}

function doubleString(s: string): number {
  if (s === "Infinity") return Infinity;
  if (s === "-Infinity") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) {
    fail(
      `$numberDouble must be a decimal number, "Infinity", "-Infinity" or "NaN", got ${JSON.stringify(s.slice(0, 40))}`,
    );
  }
  const n = Number(s);
  if (!Number.isFinite(n)) fail(`$numberDouble ${s.slice(0, 40)} is outside the range of a double`);
  return n;
}

function objectId(v: unknown): ObjectId {
  if (typeof v !== "string") fail(`$oid must be a string, got ${typeName(v)}`);
  const bytes = hexToBytes(v, 12);
  if (bytes === null) fail(`$oid must be 24 hex digits, got ${JSON.stringify(v.slice(0, 40))}`);
  return new ObjectId(bytes);
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64_VALUE[BASE64_ALPHABET.charCodeAt(i)] = i;

function base64Decode(s: string): Uint8Array {
  if (s.length % 4 !== 0) fail(`$binary base64 length ${s.length} is not a multiple of 4 (padding is required)`);
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let group = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let v = c < 128 ? BASE64_VALUE[c] : -1;
      if (v < 0) {
        if (c === 61 && i + j >= s.length - pad) v = 0;
        else fail(`$binary base64 has an invalid character at position ${i + j}`);
      }
      group = (group << 6) | v;
    }
    if (o < out.length) out[o++] = group >> 16;
    if (o < out.length) out[o++] = (group >> 8) & 0xff;
    if (o < out.length) out[o++] = group & 0xff;
  }
  return out;
}

function base64Encode(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const g = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += BASE64_ALPHABET[g >> 18] + BASE64_ALPHABET[(g >> 12) & 63] + BASE64_ALPHABET[(g >> 6) & 63] +
      BASE64_ALPHABET[g & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const g = bytes[i] << 16;
    s += BASE64_ALPHABET[g >> 18] + BASE64_ALPHABET[(g >> 12) & 63] + "==";
  } else if (rest === 2) {
    const g = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += BASE64_ALPHABET[g >> 18] + BASE64_ALPHABET[(g >> 12) & 63] + BASE64_ALPHABET[(g >> 6) & 63] + "=";
  }
  return s;
}

function subType(v: unknown, key: string): number {
  if (typeof v !== "string" || !/^[0-9a-fA-F]{1,2}$/.test(v)) {
    fail(
      `${key} must be a one- or two-digit hex string, got ${
        typeof v === "string" ? JSON.stringify(v.slice(0, 10)) : typeName(v)
      }`,
    );
  }
  return parseInt(v, 16);
}

function makeBinary(bytes: Uint8Array, type: number): Binary {
  // Same shape `decode` gives, so parse and decode agree.
  return type === 4 && bytes.length === 16 ? new UUID(bytes) : new Binary(bytes, type);
}

function binary(map: Map<string, unknown>): Binary {
  const v = map.get("$binary");
  if (typeof v === "string") {
    // Legacy form: {"$binary": "<base64>", "$type": "<hex>"}.
    exactly(map, "$binary", "$type");
    return makeBinary(base64Decode(v), subType(map.get("$type"), "$type"));
  }
  const inner = asObject(exactly(map, "$binary"));
  if (inner === null) fail(`$binary must be a document {base64, subType}, got ${typeName(v)}`);
  const data = exactly(inner, "base64", "subType");
  if (typeof data !== "string") fail(`$binary base64 must be a string, got ${typeName(data)}`);
  return makeBinary(base64Decode(data), subType(inner.get("subType"), "$binary subType"));
}

function uuid(s: string): UUID {
  const hex = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)
    ? s.replaceAll("-", "")
    : s;
  const bytes = hexToBytes(hex, 16);
  if (bytes === null) {
    fail(`$uuid must be 32 hex digits, optionally hyphenated 8-4-4-4-12, got ${JSON.stringify(s.slice(0, 60))}`);
  }
  return new UUID(bytes);
}

function uint32(v: unknown, what: string): number {
  const n = integerOf(v);
  if (n === null || n < 0n || n > 0xffffffffn) {
    fail(`${what} must be an integer in [0, 4294967295], got ${v instanceof JsonNumber ? v.text : typeName(v)}`);
  }
  return Number(n);
}

function timestamp(v: unknown): Timestamp {
  const inner = asObject(v);
  if (inner === null) fail(`$timestamp must be a document {t, i}, got ${typeName(v)}`);
  exactly(inner, "t", "i");
  return new Timestamp({ t: uint32(inner.get("t"), "$timestamp t"), i: uint32(inner.get("i"), "$timestamp i") });
}

function sortOptions(options: string): string {
  return [...options].sort().join("");
}

function regex(pattern: string, options: string): BSONRegExp {
  if (pattern.includes("\0")) fail("regular expression pattern contains a NUL character");
  if (options.includes("\0")) fail("regular expression options contain a NUL character");
  return new BSONRegExp(pattern, sortOptions(options));
}

function regularExpression(v: unknown): BSONRegExp {
  const inner = asObject(v);
  if (inner === null) fail(`$regularExpression must be a document {pattern, options}, got ${typeName(v)}`);
  const pattern = exactly(inner, "pattern", "options");
  const options = inner.get("options");
  if (typeof pattern !== "string") fail(`$regularExpression pattern must be a string, got ${typeName(pattern)}`);
  if (typeof options !== "string") fail(`$regularExpression options must be a string, got ${typeName(options)}`);
  return regex(pattern, options);
}

/**
 * The legacy `{"$regex": <string>, "$options": <string>}` form. Anything else
 * with a `$regex` key (such as the query operator wrapping a
 * `$regularExpression`) stays an ordinary document.
 */
function legacyRegex(map: Map<string, unknown>): unknown {
  const pattern = map.get("$regex");
  if (typeof pattern !== "string") return NOT_A_WRAPPER;
  let options = "";
  for (const [k, v] of map) {
    if (k === "$regex") continue;
    if (k !== "$options" || typeof v !== "string") return NOT_A_WRAPPER;
    options = v;
  }
  return regex(pattern, options);
}

function dbPointer(v: unknown): DBPointer {
  const inner = asObject(v);
  if (inner === null) fail(`$dbPointer must be a document {$ref, $id}, got ${typeName(v)}`);
  const ref = exactly(inner, "$ref", "$id");
  if (typeof ref !== "string") fail(`$dbPointer $ref must be a string, got ${typeName(ref)}`);
  const id = asObject(inner.get("$id"));
  if (id === null || !id.has("$oid")) fail('$dbPointer $id must be an ObjectId ({"$oid": ...})');
  return new DBPointer(ref, objectId(exactly(id, "$oid")));
}

function daysFromCivil(y: number, m: number, d: number): number {
  // Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

function isoMillis(s: string): bigint {
  const m = ISO_DATE.exec(s);
  const bad = () =>
    fail(
      `$date string must be an ISO-8601 date-time like "1970-01-01T00:00:00Z", got ${JSON.stringify(s.slice(0, 60))}`,
    );
  if (m === null) return bad();
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const monthDays = [
    31,
    (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays[mo - 1] || h > 23 || mi > 59 || sec > 59) return bad();
  // Precision beyond milliseconds is cut off: BSON datetimes count whole milliseconds.
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return bad();
    offset = (m[9] === "-" ? -1 : 1) * (oh * 60 + om) * 60000;
  }
  return BigInt(daysFromCivil(y, mo, d) * 86400000 + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset);
}

function date(v: unknown): Date | DateTime {
  let ms: bigint;
  if (typeof v === "string") {
    ms = isoMillis(v);
  } else {
    const inner = asObject(v);
    if (inner === null) fail(`$date must be an ISO-8601 string or {"$numberLong": ...}, got ${typeName(v)}`);
    if (!inner.has("$numberLong")) fail('$date document must be {"$numberLong": "<milliseconds>"}');
    ms = integerString(inner, "$numberLong", INT64_MIN, INT64_MAX);
  }
  // Same shape `decode` gives: Date when it can hold the instant.
  return ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS ? new Date(Number(ms)) : new DateTime(ms);
}

function oneKey(map: Map<string, unknown>, key: string): true {
  const v = exactly(map, key);
  if (integerOf(v) !== 1n) fail(`${key} must be the integer 1, got ${v instanceof JsonNumber ? v.text : typeName(v)}`);
  return true;
}

// ---------------------------------------------------------------------------
// BSON values -> Extended JSON tree

/** A number whose JSON text must be written as is (int64 digits, `1.0`, `-0.0`). */
class RawNumber {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

type Tree = null | boolean | string | number | RawNumber | Tree[] | { [key: string]: Tree };

function isInt32(n: number): boolean {
  return (n | 0) === n && !Object.is(n, -0);
}

/** The canonical `$numberDouble` text of a finite or special double. */
function formatDouble(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Object.is(x, -0)) return "-0.0";
  // toExponential() without digits gives the shortest text that reads back exactly.
  const [mantissa, e] = x.toExponential().split("e");
  const exponent = Number(e);
  if (exponent >= 16 || exponent <= -7) {
    return `${mantissa.includes(".") ? mantissa : mantissa + ".0"}E${exponent < 0 ? "-" : "+"}${Math.abs(exponent)}`;
  }
  const s = String(x);
  return s.includes(".") ? s : `${s}.0`;
}

function isoString(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith(".000Z") ? `${s.slice(0, -5)}Z` : s;
}

class Writer {
  readonly #relaxed: boolean;
  /** Makes a number node with exact text when the tree becomes text; null for a plain JSON tree. */
  readonly #raw: ((text: string) => Tree) | null;
  readonly #path = new Set<object>();

  constructor(relaxed: boolean, raw: ((text: string) => Tree) | null) {
    this.#relaxed = relaxed;
    this.#raw = raw;
  }

  value(v: unknown, depth: number): Tree {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return isInt32(v) ? this.#int32(v) : this.#double(v);
      case "bigint":
        return this.#int64(v);
      case "undefined":
        return fail("cannot convert undefined to Extended JSON (only as a document field, where it is skipped)");
      case "object":
        if (v === null) return null;
        return this.#object(v, depth);
      default:
        return fail(`cannot convert a ${typeof v} to Extended JSON: it has no BSON type`);
    }
  }

  #int32(n: number): Tree {
    return this.#relaxed ? n : { $numberInt: String(n) };
  }

  #double(x: number): Tree {
    if (!this.#relaxed || !Number.isFinite(x)) return { $numberDouble: formatDouble(x) };
    if (this.#raw !== null) return this.#raw(formatDouble(x));
    return Object.is(x, -0) ? { $numberDouble: "-0.0" } : x;
  }

  #int64(n: bigint): Tree {
    if (n < INT64_MIN || n > INT64_MAX) fail(`bigint ${n} is outside the int64 range`);
    if (!this.#relaxed) return { $numberLong: String(n) };
    if (this.#raw !== null) return this.#raw(String(n));
    return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : { $numberLong: String(n) };
  }

  #binary(bytes: Uint8Array, subType: number): Tree {
    return { $binary: { base64: base64Encode(bytes), subType: subType.toString(16).padStart(2, "0") } };
  }

  #date(ms: bigint): Tree {
    if (this.#relaxed && ms >= 0n && ms <= BigInt(MAX_ISO_MS)) return { $date: isoString(Number(ms)) };
    return { $date: { $numberLong: String(ms) } };
  }

  #object(v: object, depth: number): Tree {
    if (v instanceof Date) {
      const ms = v.getTime();
      if (Number.isNaN(ms)) fail("cannot convert an invalid Date to Extended JSON");
      return this.#date(BigInt(ms));
    }
    if (v instanceof Double) return this.#double(v.value);
    if (v instanceof Int32) return this.#int32(v.value);
    if (v instanceof Int64) return this.#int64(v.value);
    if (v instanceof Decimal128) return { $numberDecimal: v.toString() };
    if (v instanceof ObjectId) return { $oid: v.toHexString() };
    if (v instanceof Binary) return this.#binary(v.buffer, v.subType);
    if (v instanceof DateTime) return this.#date(v.ms);
    if (v instanceof Timestamp) return { $timestamp: { t: v.t, i: v.i } };
    if (v instanceof BSONRegExp) {
      return { $regularExpression: { pattern: v.pattern, options: sortOptions(v.options) } };
    }
    if (v instanceof RegExp) return { $regularExpression: { pattern: v.source, options: regExpOptions(v) } };
    // Raw bytes encode as generic binary (subtype 0), as `encode` does.
    if (v instanceof Uint8Array) return this.#binary(v, 0);
    if (v instanceof ArrayBuffer) return this.#binary(new Uint8Array(v), 0);
    if (v instanceof DataView) return this.#binary(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 0);
    if (ArrayBuffer.isView(v)) {
      fail(`cannot convert a ${v.constructor.name} to Extended JSON: pass its bytes as a Uint8Array or a Binary`);
    }
    if (v instanceof BSONSymbol) return { $symbol: v.value };
    if (v instanceof DBPointer) return { $dbPointer: { $ref: v.namespace, $id: { $oid: v.id.toHexString() } } };
    if (v instanceof BSONUndefined) return { $undefined: true };
    if (v instanceof MinKey) return { $minKey: 1 };
    if (v instanceof MaxKey) return { $maxKey: 1 };

    if (depth >= MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    if (this.#path.has(v)) fail("cannot convert a cyclic structure to Extended JSON");
    this.#path.add(v);
    let out: Tree;
    if (v instanceof Code) {
      out = v.scope === undefined ? { $code: v.code } : { $code: v.code, $scope: this.#document(v.scope, depth) };
    } else if (Array.isArray(v)) {
      out = v.map((item) => (item === undefined ? null : this.value(item, depth + 1)));
    } else if (v instanceof Map) {
      out = this.#document(v, depth);
    } else if (
      v instanceof Set || v instanceof WeakMap || v instanceof WeakSet ||
      typeof (v as { then?: unknown }).then === "function"
    ) {
      fail(`cannot convert a ${v.constructor.name} to Extended JSON: it has no BSON type`);
    } else {
      out = this.#document(v as Document, depth);
    }
    this.#path.delete(v);
    return out;
  }

  #document(doc: Document | Map<unknown, unknown>, depth: number): Tree {
    const out: { [key: string]: Tree } = {};
    const entries = doc instanceof Map ? doc.entries() : Object.entries(doc);
    for (const [key, item] of entries) {
      if (typeof key !== "string") fail(`document keys must be strings, got ${typeof key}`);
      if (item === undefined) continue;
      if (key.includes("\0")) fail(`document key ${JSON.stringify(key)} contains a NUL character`);
      setKey(out, key, this.value(item, depth + 1));
    }
    return out;
  }
}

function regExpOptions(r: RegExp): string {
  let options = "";
  // BSON letters for the JavaScript flags that have a server-side meaning.
  if (r.ignoreCase) options += "i";
  if (r.multiline) options += "m";
  if (r.dotAll) options += "s";
  if (r.unicode || (r as { unicodeSets?: boolean }).unicodeSets) options += "u";
  return options;
}

function indentOf(space: number | string | undefined): string {
  if (typeof space === "number") return " ".repeat(Math.max(0, Math.min(10, Math.floor(space))));
  if (typeof space === "string") return space.slice(0, 10);
  return "";
}

function writeTree(t: Tree, indent: string, current: string): string {
  if (t === null) return "null";
  switch (typeof t) {
    case "string":
      return JSON.stringify(t);
    case "boolean":
      return t ? "true" : "false";
    case "number":
      return String(t);
  }
  if (t instanceof RawNumber) return t.text;
  const inner = current + indent;
  const open = indent === "" ? "" : `\n${inner}`;
  const sep = indent === "" ? "," : `,\n${inner}`;
  const close = indent === "" ? "" : `\n${current}`;
  if (Array.isArray(t)) {
    if (t.length === 0) return "[]";
    return `[${open}${t.map((x) => writeTree(x, indent, inner)).join(sep)}${close}]`;
  }
  const keys = Object.keys(t);
  if (keys.length === 0) return "{}";
  const colon = indent === "" ? ":" : ": ";
  return `{${open}${keys.map((k) => JSON.stringify(k) + colon + writeTree(t[k], indent, inner)).join(sep)}${close}}`;
}

function rawNumber(text: string): Tree {
  return new RawNumber(text);
}

function stringify(value: unknown, options?: EJSONStringifyOptions): string {
  const relaxed = options?.relaxed ?? true;
  // JSON.rawJSON (Deno 2, Bun 1.1+) lets the engine's own JSON.stringify write
  // exact number text, which is much faster than writing the tree ourselves.
  // Looked up per call, so the fallback stays reachable (and tested).
  const rawJSON = (JSON as { rawJSON?: (text: string) => Tree }).rawJSON;
  if (typeof rawJSON === "function") {
    return JSON.stringify(new Writer(relaxed, rawJSON).value(value, 0), undefined, options?.space);
  }
  return writeTree(new Writer(relaxed, rawNumber).value(value, 0), indentOf(options?.space), "");
}

function parse(text: string, options?: EJSONParseOptions): unknown {
  if (typeof text !== "string") fail(`parse needs a string, got ${typeName(text)}`);
  const raw = new JsonReader(text).readDocument();
  return new Reviver(options?.relaxed ?? true).root(raw);
}

function serialize(value: unknown, options?: EJSONSerializeOptions): unknown {
  return new Writer(options?.relaxed ?? true, null).value(value, 0);
}

function deserialize(json: unknown, options?: EJSONParseOptions): unknown {
  return new Reviver(options?.relaxed ?? true).root(json);
}

/**
 * MongoDB Extended JSON v2 (canonical and relaxed): `stringify` / `parse` for
 * text, `serialize` / `deserialize` for plain JSON trees.
 *
 * Parsing accepts canonical and relaxed input, plus `$uuid`, the legacy
 * `{"$regex", "$options"}` and `{"$binary": <base64>, "$type"}` forms and any
 * RFC 3339 `$date` string; it rejects type wrappers with missing or extra keys
 * or values of the wrong type with a `BSONError`. Stringifying writes relaxed
 * output unless `relaxed: false`.
 *
 * @example Round trip a document through canonical Extended JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { EJSON, Int64 } from "@zerodep/mongo";
 *
 * const text = EJSON.stringify({ n: 1, big: 2n ** 60n, d: 0.5 }, { relaxed: false });
 * assert.equal(text, '{"n":{"$numberInt":"1"},"big":{"$numberLong":"1152921504606846976"},"d":{"$numberDouble":"0.5"}}');
 * const back = EJSON.parse(text, { relaxed: false }) as { big: Int64 };
 * assert.equal(back.big.value, 1152921504606846976n);
 * ```
 */
export const EJSON: EJSONCodec = Object.freeze({ stringify, parse, serialize, deserialize });
