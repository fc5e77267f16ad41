/**
 * Wrappers that pin a JavaScript number or bigint to one BSON numeric type.
 *
 * @module
 */
import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";

/** Smallest int64. */
export const INT64_MIN: bigint = -(2n ** 63n);
/** Largest int64. */
export const INT64_MAX: bigint = 2n ** 63n - 1n;

/**
 * A number that encodes as a BSON double (type 0x01) even when it is an
 * integer. Decoding with `promoteValues: false` gives these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, Double, encode } from "@zerodep/mongo/bson";
 *
 * const bytes = encode({ x: new Double(1) }); // double 1.0, not int32 1
 * assert.equal(bytes[4], 1); // the double type byte
 * assert.deepEqual(decode(bytes), { x: 1 });
 * ```
 */
export class Double {
  /** The number; any value a JavaScript number can hold, NaN and -0 included. */
  readonly value: number;
  /** Wraps `value`; throws a `BSONError` when it is not a number. */
  constructor(value: number) {
    if (typeof value !== "number") throw new BSONError(`Double needs a number, got ${typeof value}`);
    this.value = value;
  }
  /** The wrapped number, so `+double` works. */
  valueOf(): number {
    return this.value;
  }
}
tagClass(Double, BsonTag.Double);

/**
 * A number that encodes as a BSON int32 (type 0x10).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Int32 } from "@zerodep/mongo/bson";
 *
 * assert.equal(new Int32(-5).value, -5);
 * // new Int32(2 ** 31) throws a BSONError: out of range
 * ```
 */
export class Int32 {
  /** An integer in [-2^31, 2^31 - 1]. */
  readonly value: number;
  /** Wraps `value`; throws a `BSONError` unless it is an integer in int32 range. */
  constructor(value: number) {
    if (typeof value !== "number" || (value | 0) !== value) {
      throw new BSONError(`Int32 needs an integer in [-2147483648, 2147483647], got ${String(value)}`);
    }
    this.value = value | 0; // folds -0 into 0: int32 has no negative zero
  }
  /** The wrapped number. */
  valueOf(): number {
    return this.value;
  }
}
tagClass(Int32, BsonTag.Int32);

/**
 * A 64-bit signed integer (BSON type 0x12). Plain `bigint` values already
 * encode as int64; this wrapper exists for numbers that must be int64 and for
 * decoding with `promoteValues: false`. Also exported as `Long`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, Int64 } from "@zerodep/mongo/bson";
 *
 * const bytes = encode({ n: new Int64(5) });
 * assert.equal(bytes[4], 0x12); // int64
 * assert.equal(new Int64(5).value, 5n);
 * ```
 */
export class Int64 {
  /** The value, in [-2^63, 2^63 - 1]. */
  readonly value: bigint;
  /** Wraps an integer; throws a `BSONError` for fractions, NaN or values outside int64. */
  constructor(value: bigint | number) {
    let v: bigint;
    if (typeof value === "bigint") v = value;
    else if (typeof value === "number" && Number.isInteger(value)) v = BigInt(value);
    else throw new BSONError(`Int64 needs a bigint or an integer number, got ${String(value)}`);
    if (v < INT64_MIN || v > INT64_MAX) throw new BSONError(`Int64 value ${v} is outside the int64 range`);
    this.value = v;
  }
  /** The value as a bigint. */
  valueOf(): bigint {
    return this.value;
  }
  /** Decimal digits of the value. */
  toString(): string {
    return this.value.toString();
  }
}
tagClass(Int64, BsonTag.Int64);

/**
 * Alias of {@linkcode Int64}, under the name js-bson and the MongoDB drivers use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Long } from "@zerodep/mongo/bson";
 *
 * assert.equal(new Long(1n).value, 1n);
 * ```
 */
export const Long: typeof Int64 = Int64;
/** Alias of {@linkcode Int64}. */
export type Long = Int64;
