// Decimal128 beyond the corpus: exact round trips, js-bson as an oracle, and
// bad input (always a BSONError, never a hang).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Decimal128 as JsBsonDecimal128 } from "bson";
import { Decimal128 } from "../../src/bson/decimal128.ts";
import { BSONError } from "../../src/errors.ts";

/** Small seeded PRNG (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function build(negative: boolean, exponent: number, coefficient: bigint): Decimal128 {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  const high = (negative ? 1n << 63n : 0n) | (BigInt(exponent + 6176) << 49n) | (coefficient >> 64n);
  view.setBigUint64(0, coefficient & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(8, high, true);
  return new Decimal128(bytes);
}

/** True for the first-form encodings whose coefficient is 10^34 or more (non-canonical). */
function isNonCanonical(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const high = view.getBigUint64(8, true);
  // The "11" form (other than Infinity and NaN) implies a coefficient >= 2^113.
  if (((high >> 61n) & 3n) === 3n) return ((high >> 59n) & 3n) !== 3n;
  return (((high & ((1n << 49n) - 1n)) << 64n) | view.getBigUint64(0, true)) >= 10n ** 34n;
}

/** A finite decimal string reduced to "sign digits e exponent" with no leading or trailing zeros. */
function exactValue(s: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  assert.ok(m, s);
  let digits = (m[2] ?? "") + (m[3] ?? "");
  let exponent = Number(m[4] ?? 0) - (m[3] ?? "").length;
  digits = digits.replace(/^0+/, "");
  if (digits === "") return "0";
  while (digits.endsWith("0")) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return `${m[1] === "-" ? "-" : ""}${digits}e${exponent}`;
}

function randomCoefficient(next: () => number): bigint {
  const digits = 1 + Math.floor(next() * 34);
  let s = "";
  for (let i = 0; i < digits; i++) s += Math.floor(next() * 10);
  return BigInt(s);
}

describe("Decimal128.fromString / toString", () => {
  test("canonical strings of the decimal specification", () => {
    const cases: [string, string][] = [
      ["0", "0"],
      ["-0", "-0"],
      ["0.00", "0.00"],
      ["12.70", "12.70"],
      ["+0.003", "0.003"],
      ["017.", "17"],
      [".5", "0.5"],
      ["4E+9", "4E+9"],
      ["0.73e-7", "7.3E-8"],
      ["123E-9", "1.23E-7"],
      ["0.000001", "0.000001"],
      ["0.0000001", "1E-7"],
      ["1E3", "1E+3"],
      ["-100E-10", "-1.00E-8"],
      ["9999999999999999999999999999999999", "9999999999999999999999999999999999"],
      ["9.999999999999999999999999999999999E+6144", "9.999999999999999999999999999999999E+6144"],
      ["1E-6176", "1E-6176"],
      ["1E6111", "1E+6111"],
      ["1E6112", "1.0E+6112"], // clamped: the coefficient gains a zero
      ["1E6144", "1.000000000000000000000000000000000E+6144"],
    ];
    for (const [input, expected] of cases) {
      assert.equal(Decimal128.fromString(input).toString(), expected, input);
    }
  });

  test("special values in any letter case, with optional sign", () => {
    for (const s of ["Infinity", "infinity", "INF", "inf", "+Inf", "iNfInItY"]) {
      assert.equal(Decimal128.fromString(s).toString(), "Infinity", s);
    }
    for (const s of ["-Infinity", "-inf", "-INFINITY"]) {
      assert.equal(Decimal128.fromString(s).toString(), "-Infinity", s);
    }
    for (const s of ["NaN", "nan", "-NaN", "+nAn"]) assert.equal(Decimal128.fromString(s).toString(), "NaN", s);
    // Only the sign bit differs between NaN and -NaN; both print as NaN.
    assert.equal(Decimal128.fromString("NaN").bytes[15], 0x7c);
    assert.equal(Decimal128.fromString("-NaN").bytes[15], 0xfc);
    assert.equal(Decimal128.fromString("Inf").bytes[15], 0x78);
  });

  test("trailing zeros beyond 34 digits are dropped exactly; other digits are an error", () => {
    assert.equal(
      Decimal128.fromString("1234567890123456789012345678901234000").toString(),
      "1.234567890123456789012345678901234E+36",
    );
    assert.throws(() => Decimal128.fromString("1234567890123456789012345678901234001"), /inexact rounding/);
    assert.throws(() => Decimal128.fromString("12345678901234567890123456789012345"), BSONError);
  });

  test("overflow and underflow are BSONErrors naming the string", () => {
    assert.throws(() => Decimal128.fromString("1E6145000"), (e: unknown) => {
      assert.ok(e instanceof BSONError);
      assert.match(e.message, /"1E6145000"/);
      assert.match(e.message, /overflow/);
      return true;
    });
    assert.throws(() => Decimal128.fromString("1E6145"), /overflow/);
    assert.throws(() => Decimal128.fromString("1E-6177"), /underflow/);
    assert.throws(() => Decimal128.fromString("12E-6178"), /underflow/);
    assert.equal(Decimal128.fromString("120E-6177").toString(), "1.2E-6175");
    // 34 digits cannot be clamped any further.
    assert.throws(() => Decimal128.fromString("1234567890123456789012345678901234E6112"), /overflow/);
  });

  test("zeros clamp to the exponent range whatever the exponent", () => {
    assert.equal(Decimal128.fromString("0E+99999999999999999999999").toString(), "0E+6111");
    assert.equal(Decimal128.fromString("-0e-99999999999999999999999").toString(), "-0E-6176");
    assert.equal(Decimal128.fromString("0.0000000000").toString(), "0E-10");
  });

  test("huge inputs finish quickly (bounded by their length, no hang)", () => {
    const zeros = "0".repeat(200_000);
    assert.equal(Decimal128.fromString(`1${zeros}E-200000`).toString(), "1.000000000000000000000000000000000");
    assert.throws(() => Decimal128.fromString(`0.${zeros}1`), /underflow/);
    assert.throws(() => Decimal128.fromString(`1${zeros}1`), /inexact/);
    assert.throws(() => Decimal128.fromString(`1E${"9".repeat(100_000)}`), /overflow/);
  });

  test("syntax errors", () => {
    const bad = [
      "",
      " 1",
      "1 ",
      "1e",
      "e1",
      ".",
      "-",
      "+",
      "1..2",
      "1.2.3",
      "--1",
      "+-1",
      "1e+",
      "1e1.5",
      "0x10",
      "1_000",
      "Infinit",
      "NaN1",
      "sNaN",
      "Inf1",
      "1,5",
      "١",
      "\u00001",
      "1\n",
    ];
    for (const s of bad) {
      assert.throws(() => Decimal128.fromString(s), BSONError, JSON.stringify(s));
    }
    // Not a string at all.
    assert.throws(() => Decimal128.fromString(1 as unknown as string), BSONError);
    assert.throws(() => Decimal128.fromString(undefined as unknown as string), BSONError);
  });

  test("a long invalid string is shortened in the message", () => {
    const s = "x".repeat(1000);
    assert.throws(() => Decimal128.fromString(s), (e: unknown) => {
      assert.ok(e instanceof BSONError);
      assert.ok(e.message.length < 200, e.message);
      assert.match(e.message, /1000 chars/);
      return true;
    });
  });
});

describe("Decimal128 bytes", () => {
  test("constructor checks the length and the type, and copies", () => {
    assert.throws(() => new Decimal128(new Uint8Array(15)), BSONError);
    assert.throws(() => new Decimal128(new Uint8Array(17)), BSONError);
    assert.throws(() => new Decimal128("1.5" as unknown as Uint8Array), BSONError);
    const raw = Decimal128.fromString("42").bytes.slice();
    const d = new Decimal128(raw);
    raw[0] = 0;
    assert.equal(d.toString(), "42");
  });

  test("non-canonical encodings read as zero with their exponent", () => {
    // Coefficient 10^34 (one past the largest) in the first form.
    assert.equal(build(false, 0, 10n ** 34n).toString(), "0");
    assert.equal(build(true, -2, 10n ** 34n).toString(), "-0.00");
    // The "11" form always implies a coefficient of at least 2^113.
    const bytes = new Uint8Array(16);
    bytes[15] = 0x6c;
    bytes[14] = 0x11;
    bytes[13] = 0x80; // lowest exponent bit of the "11" form
    assert.equal(new Decimal128(bytes).toString(), "0E+3");
  });

  test("toJSON gives the canonical Extended JSON wrapper", () => {
    assert.equal(JSON.stringify({ d: Decimal128.fromString("1.50") }), '{"d":{"$numberDecimal":"1.50"}}');
  });

  test("10,000 random finite values survive toString -> fromString byte for byte", () => {
    const next = rng(0xdec128);
    for (let i = 0; i < 10_000; i++) {
      const exponent = next() < 0.5 ? Math.floor(next() * 40) - 30 : Math.floor(next() * 12288) - 6176;
      const d = build(next() < 0.5, exponent, next() < 0.05 ? 0n : randomCoefficient(next));
      const s = d.toString();
      assert.equal(hex(Decimal128.fromString(s).bytes), hex(d.bytes), `${s} (iteration ${i})`);
    }
  });
});

describe("Decimal128 against js-bson (dev-only oracle)", () => {
  test("toString of 10,000 random 16-byte patterns matches js-bson", () => {
    const next = rng(0xb1d);
    for (let i = 0; i < 10_000; i++) {
      const bytes = new Uint8Array(16);
      for (let j = 0; j < 16; j++) bytes[j] = Math.floor(next() * 256);
      // Bias half the cases towards the canonical first form with a sane exponent.
      if (i % 2 === 0) bytes[15] = (bytes[15] & 0x80) | (0x20 + Math.floor(next() * 0x20));
      const ours = new Decimal128(bytes).toString();
      if (isNonCanonical(bytes)) {
        // Known js-bson deviation: it prints coefficients >= 10^34 as they are;
        // IEEE 754-2008 (3.5.2) and the BSON spec read them as zero.
        assert.match(ours, /^-?0(E[+-]\d+|\.0*)?$/, `bytes ${hex(bytes)} (iteration ${i})`);
        continue;
      }
      const theirs = new JsBsonDecimal128(bytes).toString();
      assert.equal(ours, theirs, `bytes ${hex(bytes)} (iteration ${i})`);
    }
  });

  test("fromString of 10,000 random numeric strings matches js-bson (value or rejection)", () => {
    const next = rng(0x5eed);
    for (let i = 0; i < 10_000; i++) {
      let digits = "";
      const n = 1 + Math.floor(next() * 40);
      for (let j = 0; j < n; j++) digits += next() < 0.3 ? "0" : String(Math.floor(next() * 10));
      const point = Math.floor(next() * (n + 1));
      let s = next() < 0.5 ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
      if (s === ".") s = "0";
      if (next() < 0.6) s += `${next() < 0.5 ? "e" : "E"}${next() < 0.5 ? "-" : "+"}${Math.floor(next() * 6300)}`;
      if (next() < 0.3) s = (next() < 0.5 ? "-" : "+") + s;
      let ours: string;
      let theirs: string;
      try {
        ours = hex(Decimal128.fromString(s).bytes);
      } catch (e) {
        assert.ok(e instanceof BSONError, `non-BSONError for ${s}`);
        ours = "error";
      }
      try {
        theirs = hex(JsBsonDecimal128.fromString(s).bytes);
      } catch {
        theirs = "error";
      }
      if (theirs === "error" && ours !== "error") {
        // Known js-bson deviation: it counts leading zeros towards the 34-digit
        // limit, so it rejects e.g. "0" + 34 digits + "0" although dropping the
        // trailing zero is exact. Check our value exactly instead.
        assert.equal(exactValue(Decimal128.fromString(s).toString()), exactValue(s), `${s} (iteration ${i})`);
        continue;
      }
      if (ours === "error" && theirs !== "error") {
        // Known js-bson deviation: with leading zeros it can round away nonzero
        // digits silently. Our rejection is right exactly when its value differs.
        const rounded = JsBsonDecimal128.fromString(s).toString();
        assert.notEqual(exactValue(rounded), exactValue(s), `${s} (iteration ${i}): we rejected an exact value`);
        continue;
      }
      assert.equal(ours, theirs, `${s} (iteration ${i})`);
    }
  });
});
