// Mutation fuzzing of the decoder: 120,000 corrupted copies of valid documents
// (seeded, so a failure reproduces), each of which must either decode or
// throw a BSONError; anything else (RangeError, TypeError, a hang) fails.
// Work per case is bounded by counting, not by a clock: a decoded result may
// hold at most one value per input byte, and a result must re-encode.
// FUZZ_SEED and FUZZ_CASES (env) pick another seed or count.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  Binary,
  BSONError,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  Code,
  DateTime,
  DBPointer,
  Decimal128,
  decode,
  type Document,
  Double,
  encode,
  Int32,
  Int64,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "../../src/bson/mod.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CASES = Number(process.env.FUZZ_CASES ?? 120_000);

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds: Document[] = [
  {},
  { a: 1 },
  { s: "hello", n: -5, d: 2.5, b: true, z: null, big: 2n ** 40n },
  { nested: { a: { b: { c: [1, 2, { d: "e" }] } } }, arr: [[], {}, [[1]]] },
  { u: "é☆😀 日本語", "ключ": "значение", long: "x".repeat(300) },
  {
    _id: new ObjectId("56e1fc72e0c917e9c4714161"),
    when: new Date(1700000000000),
    far: new DateTime(2n ** 60n),
    bin: new Binary(Uint8Array.from([1, 2, 3, 4]), 0x80),
    old: new Binary(Uint8Array.from([9, 9]), 2),
    uuid: new UUID("0e9c7e0b-4c1e-4b5a-9d3e-4ab1f1b2c3d4"),
    re: new BSONRegExp("^a.*z$", "imx"),
    ts: new Timestamp({ t: 1, i: 2 }),
  },
  {
    code: new Code("function () {}"),
    scoped: new Code("x + y", { x: 1, y: { deep: [1, "two"] } }),
    sym: new BSONSymbol("sym"),
    ptr: new DBPointer("db.coll", new ObjectId("56e1fc72e0c917e9c4714161")),
    und: new BSONUndefined(),
    min: new MinKey(),
    max: new MaxKey(),
    dec: new Decimal128(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x30])),
    i32: new Int32(7),
    i64: new Int64(-7n),
    dbl: new Double(1),
  },
  { list: Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `s${i}` : i % 3 === 1 ? i : { i })) },
];
const seedBytes = seeds.map((d) => encode(d));

/** Offsets of every int32 that is a length in `bytes` (documents, strings, binaries...), found by re-parsing. */
function lengthOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  function doc(p: number): number {
    out.push(p);
    const end = p + v.getInt32(p, true) - 1;
    p += 4;
    while (p < end) {
      const t = bytes[p++];
      while (bytes[p] !== 0) p++;
      p++;
      switch (t) {
        case 0x01:
        case 0x09:
        case 0x11:
        case 0x12:
          p += 8;
          break;
        case 0x02:
        case 0x0d:
        case 0x0e:
          out.push(p);
          p += 4 + v.getInt32(p, true);
          break;
        case 0x03:
        case 0x04:
          p = doc(p);
          break;
        case 0x05:
          out.push(p);
          if (bytes[p + 4] === 2) out.push(p + 5);
          p += 5 + v.getInt32(p, true);
          break;
        case 0x07:
          p += 12;
          break;
        case 0x08:
          p += 1;
          break;
        case 0x0b:
          while (bytes[p] !== 0) p++;
          p++;
          while (bytes[p] !== 0) p++;
          p++;
          break;
        case 0x0c:
          out.push(p);
          p += 4 + v.getInt32(p, true) + 12;
          break;
        case 0x0f:
          out.push(p);
          out.push(p + 4);
          p += v.getInt32(p, true);
          break;
        case 0x10:
          p += 4;
          break;
        case 0x13:
          p += 16;
          break;
        default:
          break; // 0x06, 0x0a, 0x7f, 0xff: no value
      }
    }
    return end + 1;
  }
  doc(0);
  return out;
}
const seedLengths = seedBytes.map(lengthOffsets);

const INTERESTING_INT32 = [0, 1, -1, 4, 5, 0x7f, 0x80, 0xff, 0x7fffffff, -0x80000000, 0x10000, 2 ** 24];

function mutate(rnd: () => number, src: Uint8Array, lengths: number[]): Uint8Array {
  let b: Uint8Array = src.slice();
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const kind = Math.floor(rnd() * 8);
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (kind) {
      case 0: // flip one bit
        if (b.length) b[at] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // overwrite a byte
        if (b.length) b[at] = Math.floor(rnd() * 256);
        break;
      case 2: { // insert bytes
        const n = 1 + Math.floor(rnd() * 4);
        const out = new Uint8Array(b.length + n);
        out.set(b.subarray(0, at));
        for (let i = 0; i < n; i++) out[at + i] = Math.floor(rnd() * 256);
        out.set(b.subarray(at), at + n);
        b = out;
        break;
      }
      case 3: { // delete bytes
        const n = Math.min(1 + Math.floor(rnd() * 4), b.length - at);
        if (n <= 0) break;
        const out = new Uint8Array(b.length - n);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + n), at);
        b = out;
        break;
      }
      case 4:
      case 5: { // make a length field lie
        const off = lengths[Math.floor(rnd() * lengths.length)];
        if (off + 4 > b.length) break;
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const old = v.getInt32(off, true);
        const choice = rnd();
        const value = choice < 0.4
          ? old + Math.floor(rnd() * 9) - 4
          : choice < 0.8
          ? INTERESTING_INT32[Math.floor(rnd() * INTERESTING_INT32.length)]
          : (Math.floor(rnd() * 2 ** 32) | 0);
        v.setInt32(off, value, true);
        break;
      }
      case 6: // truncate
        b = b.slice(0, at);
        break;
      default: { // overwrite a type byte-like position with a random type
        const types = [
          0x00,
          0x01,
          0x02,
          0x03,
          0x04,
          0x05,
          0x06,
          0x07,
          0x08,
          0x09,
          0x0a,
          0x0b,
          0x0c,
          0x0d,
          0x0e,
          0x0f,
          0x10,
          0x11,
          0x12,
          0x13,
          0x14,
          0x7f,
          0xff,
          0x80,
        ];
        if (b.length) b[at] = types[Math.floor(rnd() * types.length)];
      }
    }
  }
  return b;
}

/** Number of values in a decoded result (documents, arrays and leaves). */
function countValues(v: unknown, budget: { n: number }): void {
  budget.n++;
  if (Array.isArray(v)) { for (const x of v) countValues(x, budget); }
  else if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    for (const k of Object.keys(v)) countValues((v as Document)[k], budget);
  } else if (v instanceof Code && v.scope !== undefined) countValues(v.scope, budget);
}

test(`decode of ${CASES} mutated documents: a value or a BSONError, nothing else (seed ${SEED})`, () => {
  const rnd = prng(SEED);
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < CASES; i++) {
    const which = i % seedBytes.length;
    const bytes = mutate(rnd, seedBytes[which], seedLengths[which]);
    let result: Document;
    try {
      result = decode(bytes, { promoteValues: i % 2 === 0, int64: i % 3 === 0 ? "number" : "bigint" });
    } catch (e) {
      if (e instanceof BSONError) {
        assert.equal(typeof e.offset, "number", `case ${i}: BSONError without offset: ${e.message}`);
        assert.ok(e.offset! >= 0 && e.offset! <= bytes.length, `case ${i}: offset ${e.offset} outside the input`);
        rejected++;
        continue;
      }
      const hex = Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
      assert.fail(`case ${i} (seed ${SEED}): ${e instanceof Error ? e.name : typeof e}: ${e} for input ${hex}`);
    }
    decoded++;
    const budget = { n: 0 };
    countValues(result, budget);
    assert.ok(budget.n <= bytes.length, `case ${i}: ${budget.n} values out of ${bytes.length} bytes`);
    // Whatever decodes must encode again.
    if (i % 8 === 0) encode(result, { maxDepth: 1000 });
  }
  console.log(`fuzz: ${CASES} cases, ${decoded} decoded, ${rejected} rejected with BSONError (seed ${SEED})`);
  assert.equal(decoded + rejected, CASES);
  assert.ok(rejected > CASES / 4, "mutations should mostly break the documents");
  assert.ok(decoded > 100, "some mutations should still decode");
});

/** A random JS value, sometimes one that cannot be encoded. */
function randomValue(rnd: () => number, depth: number, parents: object[]): unknown {
  const pick = Math.floor(rnd() * (depth > 4 ? 22 : 26));
  switch (pick) {
    case 0:
      return Math.floor(rnd() * 2 ** 32) - 2 ** 31;
    case 1:
      return [0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 1.5, Number.MAX_VALUE][Math.floor(rnd() * 9)];
    case 2:
      return BigInt.asIntN(64, BigInt(Math.floor(rnd() * 2 ** 53)) * 4099n) * (rnd() < 0.5 ? 1n : -1n);
    case 3:
      return rnd() < 0.97 ? -(2n ** 63n) : 2n ** 63n; // out of range sometimes
    case 4:
      return String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 0xffff)));
    case 5:
      return "ascii".repeat(Math.floor(rnd() * 30));
    case 6:
      return rnd() < 0.5;
    case 7:
      return rnd() < 0.5 ? null : undefined;
    case 8:
      return new Date(rnd() < 0.95 ? Math.floor((rnd() - 0.5) * 1.7e16) : NaN);
    case 9:
      return Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
    case 10:
      return new ObjectId();
    case 11:
      return new Timestamp({ t: Math.floor(rnd() * 2 ** 32), i: Math.floor(rnd() * 2 ** 32) });
    case 12:
      return new BSONRegExp("a+b", "xsmi".slice(0, Math.floor(rnd() * 5)));
    case 13:
      return rnd() < 0.5 ? /x.y/gimsu : new RegExp("n\0ul");
    case 14:
      return new Binary(new Uint8Array(Math.floor(rnd() * 20)), Math.floor(rnd() * 256));
    case 15:
      return new DateTime(BigInt(Math.floor((rnd() - 0.5) * 2 ** 53)) * 1024n);
    case 16:
      return [new MinKey(), new MaxKey(), new BSONUndefined(), new BSONSymbol("s"), new Int32(5), new Double(-0)][
        Math.floor(rnd() * 6)
      ];
    case 17:
      return rnd() < 0.5 ? () => 1 : Symbol("s");
    case 18:
      return rnd() < 0.5 ? new Set([1]) : new Float32Array(2);
    case 19:
      return parents.length > 0 && rnd() < 0.3 ? parents[Math.floor(rnd() * parents.length)] : { cycle: "none" };
    case 20:
      return new Code("f()", rnd() < 0.5 ? undefined : { s: 1 });
    case 21:
      return new UUID();
    default: {
      const isArray = rnd() < 0.4;
      const out: Document | unknown[] = isArray ? [] : {};
      parents.push(out);
      const n = Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) {
        const v = randomValue(rnd, depth + 1, parents);
        if (isArray) (out as unknown[]).push(v);
        else {
          const keyKind = rnd();
          const key = keyKind < 0.02 ? "nul\0key" : keyKind < 0.1 ? "ключ😀" : keyKind < 0.12 ? "__proto__" : `k${i}`;
          Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
      parents.pop();
      return out;
    }
  }
}

test("encode of 30,000 random value trees: bytes that decode, or a BSONError", () => {
  const rnd = prng(SEED ^ 0x5a5a5a5a);
  let encoded = 0;
  let rejected = 0;
  for (let i = 0; i < 30_000; i++) {
    const doc: Document = {};
    const n = 1 + Math.floor(rnd() * 5);
    for (let k = 0; k < n; k++) doc[`f${k}`] = randomValue(rnd, 1, [doc]);
    let bytes: Uint8Array;
    try {
      bytes = encode(doc, { ignoreUndefined: rnd() < 0.5, maxDepth: 20 });
    } catch (e) {
      assert.ok(e instanceof BSONError, `case ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
      assert.match(e.message, /cannot encode|int64|NUL|maxDepth|maxSize/);
      rejected++;
      continue;
    }
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true), bytes.length);
    const back = decode(bytes, { promoteValues: false });
    assert.deepEqual(encode(back, { ignoreUndefined: false }).length, bytes.length, `case ${i}: re-encode size`);
    encoded++;
  }
  console.log(`encode fuzz: ${encoded} encoded, ${rejected} rejected with BSONError`);
  assert.ok(encoded > 1000 && rejected > 1000);
});
