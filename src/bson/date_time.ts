import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";
import { INT64_MAX, INT64_MIN } from "./numeric.ts";

/** Largest |milliseconds| a JavaScript `Date` can hold (ECMA-262 time value range). */
export const MAX_DATE_MS = 8.64e15;

/**
 * A BSON UTC datetime (type 0x09) as signed milliseconds since the epoch.
 * BSON allows the whole int64 range, a `Date` only ±8.64e15 ms, so `decode`
 * returns a `Date` when it fits and a `DateTime` otherwise: nothing is lost.
 * `encode` takes either.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DateTime } from "@zerodep/mongo/bson";
 *
 * assert.equal(new DateTime(0n).toDate()?.toISOString(), "1970-01-01T00:00:00.000Z");
 * assert.equal(new DateTime(2n ** 62n).toDate(), null); // beyond Date's range
 * ```
 */
export class DateTime {
  /** Milliseconds since the Unix epoch, in int64 range. */
  readonly ms: bigint;
  /** Throws a `BSONError` when `ms` is not an integer in int64 range. */
  constructor(ms: bigint | number) {
    let v: bigint;
    if (typeof ms === "bigint") v = ms;
    else if (typeof ms === "number" && Number.isInteger(ms)) v = BigInt(ms);
    else throw new BSONError(`DateTime needs integer milliseconds as a bigint, got ${String(ms)}`);
    if (v < INT64_MIN || v > INT64_MAX) throw new BSONError(`DateTime milliseconds ${v} are outside the int64 range`);
    this.ms = v;
  }
  /** The same instant as a `Date`, or `null` when it is outside `Date`'s range. */
  toDate(): Date | null {
    if (this.ms > 8640000000000000n || this.ms < -8640000000000000n) return null;
    return new Date(Number(this.ms));
  }
}
tagClass(DateTime, BsonTag.DateTime);
