/**
 * The BSON Decimal128 type: an IEEE 754-2008 128-bit decimal in the BID
 * (binary integer decimal) encoding, with exact string conversion both ways.
 *
 * @module
 */
import { BSONError } from "../errors.ts";

/** Largest exponent a finite value can carry (the coefficient is an integer). */
const EXPONENT_MAX = 6111;
/** Smallest exponent a finite value can carry. */
const EXPONENT_MIN = -6176;
const EXPONENT_BIAS = 6176;
/** Decimal128 keeps at most 34 significant decimal digits. */
const MAX_DIGITS = 34;
/** One past the largest valid coefficient; anything at or above it is a non-canonical zero. */
const COEFFICIENT_LIMIT = 10n ** 34n;
const LOW_64 = 0xffff_ffff_ffff_ffffn;
const HIGH_COEFFICIENT_MASK = (1n << 49n) - 1n;
const SIGN_BIT = 1n << 63n;
const INFINITY_HIGH = 0x7800_0000_0000_0000n;
const NAN_HIGH = 0x7c00_0000_0000_0000n;
/**
 * Exponents this far out can never be brought into range by adding or dropping
 * digits of any string a JS engine can hold, so a longer exponent is saturated
 * here instead of being parsed (which could overflow a double).
 */
const EXPONENT_SATURATION = 1e15;

const FINITE = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?)(\d+))?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

function shown(s: string): string {
  return s.length > 60 ? `${JSON.stringify(s.slice(0, 60))}... (${s.length} chars)` : JSON.stringify(s);
}

function parseExponent(sign: string, digits: string): number {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  const significant = digits.slice(i);
  const magnitude = significant.length > 15 ? EXPONENT_SATURATION : Number(significant);
  return sign === "-" ? -magnitude : magnitude;
}

function fromHighLow(high: bigint, low: bigint): Decimal128 {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, low, true);
  view.setBigUint64(8, high, true);
  return new Decimal128(bytes);
}

/**
 * A 128-bit IEEE 754-2008 decimal (BID encoding), stored as its 16 wire bytes.
 *
 * It is a value object: no arithmetic, only exact conversion from and to the
 * decimal string form that the BSON Decimal128 specification defines. Values
 * that cannot be stored exactly (more than 34 significant digits that are not
 * all trailing zeros, or an exponent out of range) are rejected, never rounded.
 *
 * @example Parse, inspect and print a decimal
 * ```ts
 * import assert from "node:assert/strict";
 * import { Decimal128 } from "@zerodep/mongo";
 *
 * const d = Decimal128.fromString("12.50");
 * assert.equal(d.toString(), "12.50");
 * assert.equal(d.bytes.length, 16);
 * assert.equal(Decimal128.fromString("1e3").toString(), "1E+3");
 * ```
 */
export class Decimal128 {
  /** The 16 bytes, little-endian, exactly as on the wire. */
  readonly bytes: Uint8Array;

  /**
   * Wraps 16 wire bytes (little-endian BID). The bytes are copied, so later
   * changes to the caller's buffer do not change this value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Decimal128 } from "@zerodep/mongo";
   *
   * const bytes = new Uint8Array(16);
   * bytes[14] = 0x40; bytes[15] = 0x30; // exponent 0, coefficient 0
   * assert.equal(new Decimal128(bytes).toString(), "0");
   * ```
   */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) {
      throw new BSONError(`Decimal128 needs a Uint8Array of 16 bytes, got ${typeof bytes}`);
    }
    if (bytes.length !== 16) {
      throw new BSONError(`Decimal128 needs exactly 16 bytes, got ${bytes.length}`);
    }
    this.bytes = bytes.slice();
  }

  /**
   * Parses a decimal string: `[sign] digits [. digits] [e|E [sign] digits]`,
   * or (in any letter case) `Infinity`, `Inf` or `NaN`, optionally signed.
   * No whitespace is allowed. Digits beyond 34 are accepted only when they are
   * zeros that can be dropped without changing the value; a large exponent is
   * clamped by padding the coefficient with zeros when that fits.
   *
   * @throws {BSONError} when the string is not a decimal number, or its value
   * cannot be stored exactly (inexact rounding, overflow or underflow).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BSONError, Decimal128 } from "@zerodep/mongo";
   *
   * assert.equal(Decimal128.fromString("-0.000").toString(), "-0.000");
   * assert.equal(Decimal128.fromString("inf").toString(), "Infinity");
   * try {
   *   Decimal128.fromString("1.11111111111111111111111111111111111"); // 36 digits
   * } catch (e) {
   *   assert.equal(e instanceof BSONError, true);
   * }
   * ```
   */
  static fromString(s: string): Decimal128 {
    if (typeof s !== "string") {
      throw new BSONError(`Decimal128.fromString needs a string, got ${typeof s}`);
    }
    const special = SPECIAL.exec(s);
    if (special !== null) {
      const sign = special[1] === "-" ? SIGN_BIT : 0n;
      const isNaN = special[2].toLowerCase() === "nan";
      return fromHighLow(sign | (isNaN ? NAN_HIGH : INFINITY_HIGH), 0n);
    }
    const m = FINITE.exec(s);
    if (m === null) {
      throw new BSONError(`invalid Decimal128 string ${shown(s)}: not a decimal number`);
    }
    const negative = m[1] === "-";
    const fraction = m[3] ?? m[4] ?? "";
    const digits = (m[2] ?? "") + fraction;
    let exponent = (m[6] === undefined ? 0 : parseExponent(m[5], m[6])) - fraction.length;

    let first = 0;
    while (first < digits.length && digits.charCodeAt(first) === 48) first++;
    let coefficient: string;
    if (first === digits.length) {
      // Zero has no digits to lose, so any exponent just clamps into range.
      coefficient = "0";
      exponent = Math.min(EXPONENT_MAX, Math.max(EXPONENT_MIN, exponent));
    } else {
      let end = digits.length;
      // Dropping a trailing digit is exact only if it is a zero: that is the
      // only rounding the specification allows without an error.
      while (end - first > MAX_DIGITS || exponent < EXPONENT_MIN) {
        if (digits.charCodeAt(end - 1) !== 48) {
          const why = end - first > MAX_DIGITS
            ? "more than 34 significant digits (inexact rounding)"
            : "exponent too small (underflow)";
          throw new BSONError(`invalid Decimal128 string ${shown(s)}: ${why}`);
        }
        end--;
        exponent++;
      }
      coefficient = digits.slice(first, end);
      if (exponent > EXPONENT_MAX) {
        // Clamping: trade exponent for trailing zeros while digits are left.
        const pad = exponent - EXPONENT_MAX;
        if (coefficient.length + pad > MAX_DIGITS) {
          throw new BSONError(`invalid Decimal128 string ${shown(s)}: exponent too large (overflow)`);
        }
        coefficient += "0".repeat(pad);
        exponent = EXPONENT_MAX;
      }
    }
    const c = BigInt(coefficient);
    const high = (negative ? SIGN_BIT : 0n) | (BigInt(exponent + EXPONENT_BIAS) << 49n) | (c >> 64n);
    return fromHighLow(high, c & LOW_64);
  }

  /**
   * The canonical string: plain notation when the exponent is at most 0 and
   * the adjusted exponent is at least -6, scientific (`1.23E+5`) otherwise;
   * `Infinity`, `-Infinity` or `NaN` for special values. Non-canonical
   * encodings (coefficient of 10^34 or more) read as zero, as IEEE 754 says.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Decimal128 } from "@zerodep/mongo";
   *
   * assert.equal(Decimal128.fromString("0.00000005").toString(), "5E-8");
   * assert.equal(Decimal128.fromString("-100E-10").toString(), "-1.00E-8");
   * ```
   */
  toString(): string {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, 16);
    const low = view.getBigUint64(0, true);
    const high = view.getBigUint64(8, true);
    const negative = (high & SIGN_BIT) !== 0n;
    const combination = Number((high >> 58n) & 0x1fn);
    if (combination === 0x1f) return "NaN";
    if (combination === 0x1e) return negative ? "-Infinity" : "Infinity";

    let biased: number;
    let coefficient: bigint;
    if (((high >> 61n) & 3n) === 3n) {
      // The "11" form implies a coefficient of at least 2^113 > 10^34: always non-canonical.
      biased = Number((high >> 47n) & 0x3fffn);
      coefficient = 0n;
    } else {
      biased = Number((high >> 49n) & 0x3fffn);
      coefficient = ((high & HIGH_COEFFICIENT_MASK) << 64n) | low;
      if (coefficient >= COEFFICIENT_LIMIT) coefficient = 0n;
    }
    const exponent = biased - EXPONENT_BIAS;
    const digits = coefficient.toString();
    const adjusted = exponent + digits.length - 1;
    let text: string;
    if (exponent <= 0 && adjusted >= -6) {
      if (exponent === 0) {
        text = digits;
      } else {
        const point = digits.length + exponent;
        text = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${"0".repeat(-point)}${digits}`;
      }
    } else {
      const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      text = `${mantissa}E${adjusted < 0 ? "-" : "+"}${Math.abs(adjusted)}`;
    }
    return negative ? `-${text}` : text;
  }

  /**
   * The canonical Extended JSON form, so `JSON.stringify` keeps the exact value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Decimal128 } from "@zerodep/mongo";
   *
   * assert.equal(JSON.stringify({ d: Decimal128.fromString("1.5") }), '{"d":{"$numberDecimal":"1.5"}}');
   * ```
   */
  toJSON(): { $numberDecimal: string } {
    return { $numberDecimal: this.toString() };
  }
}
