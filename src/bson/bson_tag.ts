/**
 * The class tag the encoder dispatches on. Each wrapper class carries its BSON
 * element type on its prototype under this symbol, so the encoder needs one
 * property load instead of a chain of `instanceof` checks. `Symbol.for` keeps
 * the tag stable if two copies of this module end up in one program.
 *
 * @module
 */

/**
 * Symbol under which wrapper prototypes store their tag (a {@linkcode BsonTag}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BSON_TAG } from "./bson_tag.ts";
 * import { Int32 } from "./types.ts";
 *
 * assert.equal((new Int32(1) as unknown as Record<symbol, number>)[BSON_TAG], 16);
 * ```
 */
export const BSON_TAG: unique symbol = Symbol.for("@zerodep/mongo/bson-tag");

/**
 * Tag values: the BSON element type byte of the class, except where two
 * classes share an element type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BsonTag } from "./bson_tag.ts";
 *
 * assert.equal(BsonTag.ObjectId, 7);
 * ```
 */
export const BsonTag = {
  Double: 0x01,
  Binary: 0x05,
  Undefined: 0x06,
  ObjectId: 0x07,
  DateTime: 0x09,
  RegExp: 0x0b,
  DBPointer: 0x0c,
  Code: 0x0d,
  Symbol: 0x0e,
  Int32: 0x10,
  Timestamp: 0x11,
  Int64: 0x12,
  MaxKey: 0x7f,
  MinKey: 0xff,
} as const;

/**
 * Puts `tag` on `ctor.prototype` under {@linkcode BSON_TAG} (non-enumerable, so
 * it never shows up in `for...in`, `Object.keys` or `deepStrictEqual`).
 *
 * @example
 * ```ts
 * import { BsonTag, tagClass } from "./bson_tag.ts";
 *
 * class Custom {}
 * tagClass(Custom, BsonTag.MinKey);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function tagClass(ctor: abstract new (...args: any[]) => unknown, tag: number): void {
  Object.defineProperty(ctor.prototype, BSON_TAG, { value: tag, enumerable: false, writable: false });
}

/**
 * Non-enumerable property under which a decoded `Double` keeps the exact 8
 * bytes of a NaN whose payload is not the default one, because engines (Bun's
 * JavaScriptCore in particular) may canonicalize NaN bits when reading or
 * storing a double. The encoder writes these bytes back, so even such NaNs
 * round-trip in lossless mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NAN_BITS } from "./bson_tag.ts";
 *
 * assert.equal(typeof NAN_BITS, "symbol");
 * ```
 */
export const NAN_BITS: unique symbol = Symbol.for("@zerodep/mongo/nan-bits");
