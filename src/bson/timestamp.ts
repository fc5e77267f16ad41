import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";

function isUint32(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/**
 * A BSON timestamp (type 0x11), the server's internal replication clock:
 * `t` is seconds since the epoch and `i` an ordinal within that second, both
 * unsigned 32-bit. On the wire `i` is the low word and `t` the high word.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timestamp } from "@zerodep/mongo/bson";
 *
 * const ts = new Timestamp({ t: 1700000000, i: 1 });
 * assert.equal(ts.t, 1700000000);
 * assert.equal(ts.i, 1);
 * ```
 */
export class Timestamp {
  /** Seconds since the Unix epoch (uint32). */
  readonly t: number;
  /** Increment within the second (uint32). */
  readonly i: number;
  /** Throws a `BSONError` unless `t` and `i` are both integers in [0, 2^32 - 1]. */
  constructor(value: { t: number; i: number }) {
    if (value === null || typeof value !== "object" || !isUint32(value.t) || !isUint32(value.i)) {
      const shown = value === null || typeof value !== "object" ? String(value) : `{ t: ${value.t}, i: ${value.i} }`;
      throw new BSONError(`Timestamp needs { t, i } with both integers in [0, 4294967295], got ${shown}`);
    }
    this.t = value.t;
    this.i = value.i;
  }
  /** The 64-bit value as the server compares it: `t * 2^32 + i`. */
  toBigInt(): bigint {
    return (BigInt(this.t) << 32n) | BigInt(this.i);
  }
}
tagClass(Timestamp, BsonTag.Timestamp);
