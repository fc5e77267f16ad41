// Differential test: seeded random documents through this codec and through js-bson
// (`npm:bson`, dev-only) must give byte-identical BSON, and our decoder must give back
// the value we encoded.
//
// Each document is generated ONCE as a neutral description (`N` below) and then
// materialized twice: as our value tree (our wrapper classes) and as js-bson's (its
// classes). Neither codec's output feeds the other's input, so a shared mistake in a
// helper cannot hide a disagreement.
//
// Where the generator deliberately avoids something, it is because js-bson does
// something other than the BSON spec and this codec, and the difference is by design:
//  - JS `undefined`: skipped in documents (js-bson: ignoreUndefined), written as null in
//    arrays (js-bson ignores ignoreUndefined there, and so do we), so decode gives null.
//  - JS RegExp flags: js-bson writes `g` as BSON option `s` and drops `s`/`u`/`y`, in
//    the order i,s,m (not the alphabetical order the spec requires). Native RegExp values
//    here only use flags from "im", where the two mappings coincide.
//  - BSONRegExp options: js-bson sorts them when encoding; the generator emits them
//    already sorted, the only form the spec calls valid.
//  - DBPointer and BSON undefined (deprecated): js-bson cannot encode them at all.
//  - Dates outside JS Date's +-8.64e15 ms: js-bson has no way to express them.
//  - Keys named "__proto__" are made with defineProperty (an assignment would set the
//    prototype instead of adding a field); both codecs treat them as ordinary keys.
//  - Binary subtype 9 (vector): js-bson rejects malformed vector headers, so vectors
//    here are well-formed (int8, float32, packed bit).
//  - Lone UTF-16 surrogates: not in the random strings. Both codecs write U+FFFD (the
//    TextEncoder rule), so the bytes agree but decode cannot give the input back.
//
// DIFF_SEED (env) picks another seed; DIFF_DOCS another document count.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as JSB from "bson";
import * as Ours from "../../src/bson/mod.ts";

const SEED = Number(process.env.DIFF_SEED ?? 0x5eed2026);
const DOCS = Number(process.env.DIFF_DOCS ?? 10_000);
const BATCH = 1000;
const MAX_DEPTH = 8;

// ---------------------------------------------------------------- PRNG (sfc32)

class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

// ---------------------------------------------------------------- neutral description

type Fields = [string, N][];
type N =
  | { k: "num"; v: number } // a plain JS number: the mapping picks int32 or double
  | { k: "double"; v: number } // explicit Double wrapper
  | { k: "int32"; v: number } // explicit Int32 wrapper
  | { k: "int64"; v: bigint; wrap: boolean } // wrap: Int64/Long wrapper, else a bare bigint
  | { k: "str"; v: string }
  | { k: "bool"; v: boolean }
  | { k: "null" }
  | { k: "undef" }
  | { k: "doc"; v: Fields }
  | { k: "arr"; v: N[] }
  | { k: "bin"; sub: number; v: Uint8Array } // Binary wrapper
  | { k: "u8"; v: Uint8Array } // bare Uint8Array: binary subtype 0
  | { k: "uuid"; v: Uint8Array }
  | { k: "oid"; v: Uint8Array }
  | { k: "date"; v: number }
  | { k: "regex"; pattern: string; options: string } // BSONRegExp
  | { k: "jsregex"; pattern: string; flags: string } // native RegExp
  | { k: "code"; code: string }
  | { k: "codews"; code: string; scope: Fields }
  | { k: "ts"; t: number; i: number }
  | { k: "dec"; v: string }
  | { k: "min" }
  | { k: "max" }
  | { k: "sym"; v: string };

// ---------------------------------------------------------------- generators

/** Code points by UTF-8 width, so every width (and the astral plane) is exercised. */
function codePoint(r: Rng, allowNul: boolean): number {
  switch (r.int(10)) {
    case 0:
      return r.range(allowNul ? 0 : 1, 0x1f); // control characters (NUL only in values)
    case 1:
      return r.range(0x80, 0x7ff); // 2 bytes
    case 2: {
      // 3 bytes, skipping the surrogate block
      const c = r.range(0x800, 0xffff - 0x800);
      return c >= 0xd800 ? c + 0x800 : c;
    }
    case 3:
      return r.range(0x10000, 0x10ffff); // 4 bytes: a surrogate pair in JS
    case 4:
      return r.pick([0xe9, 0xf1, 0x416, 0x65e5, 0x672c, 0x20ac, 0xfeff, 0xfffd, 0xffff, 0x1f600, 0x1f680, 0x1d11e, 0x10ffff]);
    default:
      return r.range(0x20, 0x7e); // printable ASCII, the common case
  }
}

function randString(r: Rng, opts: { min: number; max: number; allowNul: boolean; ascii?: boolean }): string {
  // Mostly short; sometimes long enough to leave any small-string fast path.
  const len = r.chance(0.05) ? r.range(opts.max, opts.max * 20) : r.range(opts.min, opts.max);
  const asciiOnly = opts.ascii ?? r.chance(0.4);
  let s = "";
  for (let i = 0; i < len; i++) {
    s += String.fromCodePoint(asciiOnly ? r.range(0x20, 0x7e) : codePoint(r, opts.allowNul));
  }
  return s;
}

function randKey(r: Rng, taken: Set<string>): string {
  for (;;) {
    const k = r.chance(0.1) ? String(r.int(20)) : r.chance(0.005) ? "__proto__" : randString(r, { min: 1, max: 12, allowNul: false });
    if (!taken.has(k)) {
      taken.add(k);
      return k;
    }
  }
}

const f64 = new DataView(new ArrayBuffer(8));

function doubleFromBits(hi: number, lo: number): number {
  f64.setUint32(0, hi);
  f64.setUint32(4, lo);
  return f64.getFloat64(0);
}

const SPECIAL_DOUBLES = [
  0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
  2.2250738585072014e-308, 2.225073858507201e-308, Number.EPSILON, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 0.1, -1.5,
  2 ** 31, -(2 ** 31) - 1, 2 ** 63, 1.7976931348623157e308, 5e-324, 1 / 3,
];

function randDouble(r: Rng): number {
  switch (r.int(6)) {
    case 0:
      return r.pick(SPECIAL_DOUBLES);
    case 1: {
      // subnormal: zero exponent, random mantissa
      const v = doubleFromBits(r.u32() & 0x000fffff, r.u32());
      return r.chance(0.5) ? -v : v;
    }
    case 2: {
      // any bit pattern; NaNs collapse to the canonical NaN, whose bits every engine writes alike
      const v = doubleFromBits(r.u32(), r.u32());
      return Number.isNaN(v) ? NaN : v;
    }
    case 3:
      return (r.u32() - 0x8000_0000) / 997; // everyday fractions
    case 4:
      return r.range(-1e6, 1e6) * 2 ** r.range(-60, 60);
    default:
      return (r.u32() / 0x1_0000_0000 - 0.5) * 10 ** r.range(-20, 20);
  }
}

const INT32_EDGES = [0, 1, -1, 2147483647, -2147483648, 2147483646, -2147483647, 127, 128, 255, 256, 65535, 65536];

function randInt32(r: Rng): number {
  return r.chance(0.3) ? r.pick(INT32_EDGES) : r.u32() | 0;
}

/** Plain JS numbers, chosen around the int32/double boundary of the mapping. */
function randNum(r: Rng): number {
  switch (r.int(6)) {
    case 0:
      return randInt32(r);
    case 1:
      return r.pick([2147483648, -2147483649, 4294967296, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e15, -1e300]);
    case 2:
      return r.range(-1000, 1000);
    case 3:
      return r.range(-(2 ** 40), 2 ** 40); // integral, mostly outside int32: a double
    default:
      return randDouble(r);
  }
}

const INT64_EDGES = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 32n];

function randInt64(r: Rng): bigint {
  switch (r.int(4)) {
    case 0:
      return r.pick(INT64_EDGES);
    case 1:
      return BigInt(r.range(-100000, 100000));
    default:
      return BigInt.asIntN(64, r.u64());
  }
}

const DATE_LIMIT = 8.64e15;

function randDate(r: Rng): number {
  switch (r.int(5)) {
    case 0:
      return r.pick([0, -1, 1, DATE_LIMIT, -DATE_LIMIT, DATE_LIMIT - 1, -62135596800000, 253402300799999]);
    case 1:
      return -r.range(0, 2 ** 40); // before 1970
    case 2:
      return Math.round((r.u32() / 0x1_0000_0000 * 2 - 1) * DATE_LIMIT);
    default:
      return r.range(0, 4102444800) * 1000 + r.int(1000); // 1970..2100
  }
}

/** Decimal128 strings that are exactly representable (no rounding), in many spellings. */
function randDecimalString(r: Rng): string {
  if (r.chance(0.05)) {
    return r.pick([
      "Infinity", "-Infinity", "NaN", "inf", "-Inf", "+INFINITY", "nan", "0", "-0", "0E-6176", "-0E+6111", "1E+6111",
      "1E-6176", ".5", "5.", "-.0", "+0.000", "00012.3400", "0E+6200", "0E-6200", "1E+6144", "10E-6177",
      "9999999999999999999999999999999999E+6111", "-1234567890123456789012345678901234E-6176",
    ]);
  }
  const digits = r.chance(0.2) ? 34 : r.range(1, r.chance(0.5) ? 6 : 34);
  let coef = "";
  for (let i = 0; i < digits; i++) coef += String(i === 0 && digits > 1 && r.chance(0.8) ? r.range(1, 9) : r.int(10));
  const sign = r.chance(0.4) ? "-" : r.chance(0.05) ? "+" : "";
  const form = r.int(4);
  if (form === 0) return sign + coef; // integer
  if (form === 1) {
    // decimal point inside or in front of the digits
    const at = r.range(0, coef.length - 1);
    return sign + (at === 0 ? "0" : coef.slice(0, at)) + "." + coef.slice(at);
  }
  // scientific notation; exponent chosen so the value needs no rounding or clamping
  // beyond what padding the coefficient with zeros can do (digits + exp - 6111 <= 34)
  let exp: number;
  if (r.chance(0.1)) {
    exp = r.pick([-6176, 6111, 6111 + (34 - digits), -6176 + digits - 1]);
  } else {
    exp = r.range(-300, 300);
  }
  const e = r.chance(0.2) ? "e" : "E";
  const es = exp >= 0 ? (r.chance(0.5) ? "+" : "") + exp : String(exp);
  return sign + coef + e + es;
}

const BIN_SUBTYPES = [0, 0, 0, 1, 2, 3, 5, 6, 7, 8, 9, 0x80, 0x81, 0xff];

function randBinary(r: Rng): N {
  const sub = r.pick(BIN_SUBTYPES);
  if (sub === 9) {
    // well-formed vectors only: [dtype, padding, ...data]
    const kind = r.int(3);
    if (kind === 0) return { k: "bin", sub, v: Uint8Array.of(0x03, 0, ...r.bytes(r.int(16))) }; // int8
    if (kind === 1) return { k: "bin", sub, v: Uint8Array.of(0x27, 0, ...r.bytes(4 * r.int(6))) }; // float32
    const n = r.int(6);
    return { k: "bin", sub, v: Uint8Array.of(0x10, n === 0 ? 0 : r.int(8), ...r.bytes(n)) }; // packed bit
  }
  const len = r.chance(0.1) ? r.range(17, 300) : r.int(17);
  return { k: "bin", sub, v: r.bytes(sub === 3 || sub === 4 ? 16 : len) };
}

// Pieces that compose into a valid JS RegExp in any order (native RegExp values are built from them).
const REGEX_PIECES = ["a", "b+", "\\d+", "\\w*", ".*", "^", "$", "[a-z]", "(x|y)", "\\.", "é", "日本", "😀", "\\/", "c{2,3}", "/"];

function randRegexOptions(r: Rng): string {
  return ["i", "l", "m", "s", "u", "x"].filter(() => r.chance(0.3)).join("");
}

function randScalar(r: Rng): N {
  switch (r.int(24)) {
    case 0:
    case 1:
      return { k: "num", v: randNum(r) };
    case 2:
      return { k: "double", v: randDouble(r) };
    case 3:
      return { k: "int32", v: randInt32(r) };
    case 4:
    case 5:
      return { k: "int64", v: randInt64(r), wrap: r.chance(0.5) };
    case 6:
    case 7:
      return { k: "str", v: randString(r, { min: 0, max: 24, allowNul: true }) };
    case 8:
      return { k: "bool", v: r.chance(0.5) };
    case 9:
      return { k: "null" };
    case 10:
      return randBinary(r);
    case 11:
      return { k: "u8", v: r.bytes(r.int(40)) };
    case 12:
      return { k: "uuid", v: r.bytes(16) };
    case 13:
      return { k: "oid", v: r.bytes(12) };
    case 14:
      return { k: "date", v: randDate(r) };
    case 15:
      return r.chance(0.3)
        ? { k: "regex", pattern: randString(r, { min: 0, max: 12, allowNul: false }), options: randRegexOptions(r) }
        : { k: "regex", pattern: Array.from({ length: r.range(1, 4) }, () => r.pick(REGEX_PIECES)).join(""), options: randRegexOptions(r) };
    case 16: {
      const flags = r.pick(["", "i", "m", "im"]);
      return { k: "jsregex", pattern: Array.from({ length: r.range(1, 4) }, () => r.pick(REGEX_PIECES)).join(""), flags };
    }
    case 17:
      return { k: "code", code: randString(r, { min: 0, max: 40, allowNul: true }) };
    case 18:
      return { k: "ts", t: r.chance(0.2) ? r.pick([0, 0xffffffff]) : r.u32(), i: r.chance(0.2) ? r.pick([0, 1, 0xffffffff]) : r.u32() };
    case 19:
    case 20:
      return { k: "dec", v: randDecimalString(r) };
    case 21:
      return r.chance(0.5) ? { k: "min" } : { k: "max" };
    case 22:
      return { k: "sym", v: randString(r, { min: 0, max: 12, allowNul: true }) };
    default:
      return { k: "undef" };
  }
}

function randValue(r: Rng, depth: number): N {
  const nest = depth < MAX_DEPTH && r.chance(depth === 0 ? 0.25 : 0.45 / depth);
  if (nest) {
    switch (r.int(5)) {
      case 0:
      case 1:
        return { k: "doc", v: randFields(r, depth + 1) };
      case 2:
      case 3:
        return { k: "arr", v: Array.from({ length: r.int(6) }, () => randValue(r, depth + 1)) };
      default:
        return { k: "codews", code: randString(r, { min: 0, max: 30, allowNul: true }), scope: randFields(r, depth + 1) };
    }
  }
  return randScalar(r);
}

function randFields(r: Rng, depth: number): Fields {
  const n = depth === 0 ? r.range(1, 14) : r.int(6);
  const taken = new Set<string>();
  const out: Fields = [];
  for (let i = 0; i < n; i++) out.push([randKey(r, taken), randValue(r, depth)]);
  if (depth === 0 && r.chance(0.01)) {
    // now and then a large value, so the encoder's buffer has to grow mid-document
    out.push([randKey(r, taken), r.chance(0.5)
      ? { k: "str", v: randString(r, { min: 5_000, max: 5_000, allowNul: true }) }
      : { k: "bin", sub: 0, v: r.bytes(r.range(20_000, 200_000)) }]);
  }
  return out;
}

// ---------------------------------------------------------------- materializers

type Doc = Record<string, unknown>;

function theirs(n: N): unknown {
  switch (n.k) {
    case "num":
      return n.v;
    case "double":
      return new JSB.Double(n.v);
    case "int32":
      return new JSB.Int32(n.v);
    case "int64":
      return n.wrap ? JSB.Long.fromBigInt(n.v) : n.v;
    case "str":
      return n.v;
    case "bool":
      return n.v;
    case "null":
      return null;
    case "undef":
      return undefined;
    case "doc":
      return theirsDoc(n.v);
    case "arr":
      return n.v.map(theirs);
    case "bin":
      return new JSB.Binary(n.v.slice(), n.sub);
    case "u8":
      return n.v.slice();
    case "uuid":
      return new JSB.UUID(n.v.slice());
    case "oid":
      return new JSB.ObjectId(n.v.slice());
    case "date":
      return new Date(n.v);
    case "regex":
      return new JSB.BSONRegExp(n.pattern, n.options);
    case "jsregex":
      return new RegExp(n.pattern, n.flags);
    case "code":
      return new JSB.Code(n.code);
    case "codews":
      return new JSB.Code(n.code, theirsDoc(n.scope));
    case "ts":
      return new JSB.Timestamp({ t: n.t, i: n.i });
    case "dec":
      return JSB.Decimal128.fromString(n.v);
    case "min":
      return new JSB.MinKey();
    case "max":
      return new JSB.MaxKey();
    case "sym":
      return new JSB.BSONSymbol(n.v);
  }
}

/** Adds a field the way a literal would, even for the key "__proto__". */
function put(d: Doc, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true });
  else d[k] = v;
}

function theirsDoc(fields: Fields): Doc {
  const d: Doc = {};
  for (const [k, v] of fields) put(d, k, theirs(v));
  return d;
}

function ours(n: N): unknown {
  switch (n.k) {
    case "num":
      return n.v;
    case "double":
      return new Ours.Double(n.v);
    case "int32":
      return new Ours.Int32(n.v);
    case "int64":
      return n.wrap ? new Ours.Int64(n.v) : n.v;
    case "str":
      return n.v;
    case "bool":
      return n.v;
    case "null":
      return null;
    case "undef":
      return undefined;
    case "doc":
      return oursDoc(n.v);
    case "arr":
      return n.v.map(ours);
    case "bin":
      return new Ours.Binary(n.v.slice(), n.sub);
    case "u8":
      return n.v.slice();
    case "uuid":
      return new Ours.UUID(n.v.slice());
    case "oid":
      return new Ours.ObjectId(n.v.slice());
    case "date":
      return new Date(n.v);
    case "regex":
      return new Ours.BSONRegExp(n.pattern, n.options);
    case "jsregex":
      return new RegExp(n.pattern, n.flags);
    case "code":
      return new Ours.Code(n.code);
    case "codews":
      return new Ours.Code(n.code, oursDoc(n.scope));
    case "ts":
      return new Ours.Timestamp({ t: n.t, i: n.i });
    case "dec":
      return Ours.Decimal128.fromString(n.v);
    case "min":
      return new Ours.MinKey();
    case "max":
      return new Ours.MaxKey();
    case "sym":
      return new Ours.BSONSymbol(n.v);
  }
}

function oursDoc(fields: Fields): Doc {
  const d: Doc = {};
  for (const [k, v] of fields) put(d, k, ours(v));
  return d;
}

// ---------------------------------------------------------------- expected decode

/**
 * The value `decode(bytes)` (default options) must give back for a description:
 * doubles and int32s of every spelling come back as JS numbers, int64 as bigint,
 * native RegExp as BSONRegExp, a bare Uint8Array as Binary subtype 0, undefined
 * fields are gone. Everything else comes back as the wrapper that went in.
 * With `int64: "number"`, int64 values that are safe integers come back as numbers.
 */
function expected(n: N, int64AsNumber: boolean): unknown {
  switch (n.k) {
    case "num":
    case "double":
    case "int32":
      return n.v;
    case "int64":
      return int64AsNumber && n.v >= BigInt(Number.MIN_SAFE_INTEGER) && n.v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(n.v)
        : n.v;
    case "doc":
      return expectedDoc(n.v, int64AsNumber);
    case "arr":
      return n.v.map((x) => x.k === "undef" ? null : expected(x, int64AsNumber));
    case "u8":
      return new Ours.Binary(n.v.slice(), 0);
    case "bin":
      // subtype 4 with 16 bytes is a UUID, whichever class encoded it
      return n.sub === 4 && n.v.length === 16 ? new Ours.UUID(n.v.slice()) : ours(n);
    case "jsregex":
      return new Ours.BSONRegExp(new RegExp(n.pattern, n.flags).source, n.flags);
    case "codews":
      return new Ours.Code(n.code, expectedDoc(n.scope, int64AsNumber));
    default:
      return ours(n);
  }
}

function expectedDoc(fields: Fields, int64AsNumber = false): Doc {
  const d: Doc = {};
  for (const [k, v] of fields) if (v.k !== "undef") put(d, k, expected(v, int64AsNumber));
  return d;
}

// ---------------------------------------------------------------- canonical comparison form

const hex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Turns a value tree into plain data that names each wrapper's type and content through
 * its public API, so that deepStrictEqual cannot pass two wrappers whose state lives in
 * #private fields it does not look at.
 */
function canon(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(canon);
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof Ours.UUID) return { $uuid: hex(v.buffer) };
  if (v instanceof Ours.Binary) return { $binary: hex(v.buffer), sub: v.subType };
  if (v instanceof Ours.ObjectId) return { $oid: v.toHexString() };
  if (v instanceof Ours.BSONRegExp) return { $regex: v.pattern, options: v.options };
  if (v instanceof Ours.Code) return { $code: v.code, scope: v.scope === undefined ? undefined : canon(v.scope) };
  if (v instanceof Ours.Timestamp) return { $ts: [v.t, v.i] };
  if (v instanceof Ours.Decimal128) return { $dec: v.toString() };
  if (v instanceof Ours.MinKey) return { $minKey: 1 };
  if (v instanceof Ours.MaxKey) return { $maxKey: 1 };
  if (v instanceof Ours.BSONSymbol) return { $symbol: v.value };
  if (v instanceof Ours.Double) return { $double: v.value };
  if (v instanceof Ours.Int32) return { $int32: v.value };
  if (v instanceof Ours.Int64) return { $int64: v.value };
  if (v instanceof Uint8Array) return { $u8: hex(v) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) put(out, k, canon(x));
  return out;
}

// ---------------------------------------------------------------- coverage

/** What the generated documents actually held: the test fails if a case never came up. */
const seen = new Map<string, number>();
/** Every Decimal128 string generated, for the toString comparison. */
const decimals: string[] = [];

function count(what: string): void {
  seen.set(what, (seen.get(what) ?? 0) + 1);
}

function isSubnormal(v: number): boolean {
  return v !== 0 && Number.isFinite(v) && Math.abs(v) < 2.2250738585072014e-308;
}

function tally(n: N, depth: number): void {
  count(n.k);
  count(`depth ${depth}`);
  switch (n.k) {
    case "num":
    case "double":
      if (Object.is(n.v, -0)) count(`${n.k} -0`);
      if (Number.isNaN(n.v)) count(`${n.k} NaN`);
      if (n.v === Infinity || n.v === -Infinity) count(`${n.k} +-Infinity`);
      if (isSubnormal(n.v)) count(`${n.k} subnormal`);
      if (n.k === "num" && Number.isInteger(n.v) && !Object.is(n.v, -0)) {
        count(n.v >= -2147483648 && n.v <= 2147483647 ? "num as int32" : "num integral outside int32");
      }
      break;
    case "int32":
      if (n.v === 2147483647 || n.v === -2147483648) count("int32 bound");
      break;
    case "int64":
      if (n.v === 2n ** 63n - 1n || n.v === -(2n ** 63n)) count("int64 bound");
      count(n.wrap ? "int64 wrapped" : "int64 bigint");
      break;
    case "str":
    case "sym":
    case "code":
      if ((n.k === "code" ? n.code : n.v).length >= 5_000) count("large value");
      if (/[\u{10000}-\u{10ffff}]/u.test(n.k === "code" ? n.code : n.v)) count(`${n.k} astral`);
      if (/[\u0080-\uffff]/.test(n.k === "code" ? n.code : n.v)) count(`${n.k} multi-byte`);
      break;
    case "dec":
      decimals.push(n.v);
      break;
    case "date":
      if (n.v < 0) count("date negative");
      break;
    case "bin":
      count(`binary subtype ${n.sub}`);
      if (n.v.length >= 20_000) count("large value");
      break;
    case "doc":
      for (const [k, v] of n.v) {
        if (/[\u0080-\u{10ffff}]/u.test(k)) count("key non-ASCII");
        if (k === "__proto__") count("key __proto__");
        tally(v, depth + 1);
      }
      break;
    case "codews":
      for (const [, v] of n.scope) tally(v, depth + 1);
      break;
    case "arr":
      for (const v of n.v) {
        if (v.k === "undef") count("undefined in array");
        tally(v, depth + 1);
      }
      break;
  }
}

const MUST_SEE = [
  "num", "double", "int32", "int64", "str", "bool", "null", "undef", "doc", "arr", "bin", "u8", "uuid", "oid",
  "date", "regex", "jsregex", "code", "codews", "ts", "dec", "min", "max", "sym",
  "double -0", "double NaN", "double +-Infinity", "double subnormal", "num -0", "num NaN", "num +-Infinity",
  "num as int32", "num integral outside int32", "int32 bound", "int64 bound", "int64 wrapped", "int64 bigint",
  "str astral", "str multi-byte", "key non-ASCII", "date negative", `depth ${MAX_DEPTH}`, "large value", "key __proto__", "undefined in array",
  ...BIN_SUBTYPES.map((s) => `binary subtype ${s}`),
];

// ---------------------------------------------------------------- the test

function describeDoc(fields: Fields): string {
  return JSON.stringify(fields, (_k, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) return `hex:${hex(v)}`;
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    if (Object.is(v, -0)) return "-0";
    return v;
  });
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const around = (u: Uint8Array) => hex(u.subarray(Math.max(0, i - 12), i + 12));
  return `lengths ours ${a.length} / js-bson ${b.length}, first difference at byte ${i}\n  ours:    ${around(a)}\n  js-bson: ${around(b)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const totals = { docs: 0, identical: 0, decoded: 0, roundTripped: 0 };

function runBatch(batch: number): string[] {
  const failures: string[] = [];
  for (let j = 0; j < BATCH && batch * BATCH + j < DOCS; j++) {
    const index = batch * BATCH + j;
    // One generator per document: any failing document can be regenerated from (SEED, index) alone.
    const r = new Rng((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    const fields = randFields(r, 0);
    tally({ k: "doc", v: fields }, 0);
    totals.docs++;
    const where = () => `doc #${index} (seed ${SEED}): ${describeDoc(fields).slice(0, 1500)}`;
    let mine: Uint8Array, ref: Uint8Array;
    try {
      ref = JSB.BSON.serialize(theirsDoc(fields), { ignoreUndefined: true });
    } catch (e) {
      failures.push(`${where()}\n  js-bson serialize threw: ${e}`);
      continue;
    }
    try {
      mine = Ours.encode(oursDoc(fields)).slice();
    } catch (e) {
      failures.push(`${where()}\n  our encode threw: ${e}`);
      continue;
    }
    if (!sameBytes(mine, ref)) {
      failures.push(`${where()}\n  ${firstDiff(mine, ref)}`);
      continue;
    }
    totals.identical++;
    // Decode our own copy of the bytes: js-bson returns a Node Buffer, and views into it
    // would not be deepStrictEqual to plain Uint8Arrays.
    try {
      assert.deepStrictEqual(canon(Ours.decode(mine)), canon(expectedDoc(fields)));
      assert.deepStrictEqual(Ours.decode(mine), expectedDoc(fields));
      assert.deepStrictEqual(Ours.decode(mine, { int64: "number" }), expectedDoc(fields, true));
      totals.decoded++;
    } catch (e) {
      failures.push(`${where()}\n  decode(bytes) differs from the value encoded: ${e instanceof Error ? e.message.slice(0, 2000) : e}`);
      continue;
    }
    try {
      const again = Ours.encode(Ours.decode(mine, { promoteValues: false })).slice();
      if (!sameBytes(again, ref)) throw new Error(firstDiff(again, ref));
      totals.roundTripped++;
    } catch (e) {
      failures.push(`${where()}\n  encode(decode(bytes, {promoteValues:false})) is not the same bytes: ${e}`);
    }
  }
  return failures;
}

describe(`differential vs js-bson: ${DOCS} seeded random documents (seed ${SEED})`, () => {
  for (let b = 0; b * BATCH < DOCS; b++) {
    test(`documents ${b * BATCH}..${Math.min(DOCS, (b + 1) * BATCH) - 1}: identical bytes, decode gives back the value`, () => {
      const failures = runBatch(b);
      assert.equal(failures.length, 0, `${failures.length} failing documents; the first ones:\n\n${failures.slice(0, 4).join("\n\n")}`);
    });
  }
  test("Decimal128: every generated string gives js-bson's bytes and js-bson's toString()", () => {
    assert.ok(decimals.length > 1000, `only ${decimals.length} decimals were generated`);
    const bad: string[] = [];
    for (const text of decimals) {
      const mine = Ours.Decimal128.fromString(text);
      const ref = JSB.Decimal128.fromString(text);
      if (hex(mine.bytes) !== hex(ref.bytes)) bad.push(`${JSON.stringify(text)}: bytes ${hex(mine.bytes)} vs ${hex(ref.bytes)}`);
      else if (mine.toString() !== ref.toString()) bad.push(`${JSON.stringify(text)}: toString ${mine.toString()} vs ${ref.toString()}`);
    }
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${decimals.length} decimals disagree`);
  });
  test("summary", () => {
    console.log(
      `differential: documents ${totals.docs}, byte-identical ${totals.identical}, decode-equal ${totals.decoded}, re-encode-identical ${totals.roundTripped}`,
    );
    assert.equal(totals.docs, DOCS);
    console.log(`differential coverage: ${[...seen].sort().map(([k, v]) => `${k}=${v}`).join(", ")}`);
    if (DOCS >= 10_000) {
      const missing = MUST_SEE.filter((k) => !seen.has(k));
      assert.deepEqual(missing, [], `the generator never produced: ${missing.join(", ")}`);
    }
  });
});
