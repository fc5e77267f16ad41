/**
 * The BSON codec of `@zerodep/mongo`: `encode`/`decode` for every type of the
 * BSON spec (the deprecated ones included), wrapper classes for the types
 * JavaScript lacks, a reusable {@linkcode ByteWriter}, and Extended JSON v2.
 *
 * JavaScript to BSON: a number is int32 when it is an integer in int32 range
 * (and not -0), otherwise double; bigint is int64; string, boolean, null, Date,
 * arrays and plain objects map to their BSON twins; `Uint8Array` is binary
 * subtype 0; `undefined` fields are skipped. BSON to JavaScript: double and
 * int32 give numbers, int64 a bigint, and the other types their wrappers.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, encode, ObjectId } from "@zerodep/mongo/bson";
 *
 * const bytes = encode({ _id: new ObjectId(), name: "Ada", year: 1843, big: 2n ** 60n });
 * const doc = decode(bytes);
 * assert.equal(doc.name, "Ada");
 * assert.equal(doc.year, 1843);
 * assert.equal(doc.big, 1152921504606846976n);
 * ```
 *
 * @module
 */
export { BSONError, MongoError } from "../errors.ts";
export type { Document } from "./document.ts";
export {
  Binary,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  Code,
  DateTime,
  DBPointer,
  Decimal128,
  Double,
  Int32,
  Int64,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "./types.ts";
export { ByteWriter } from "./writer.ts";
export { encode, encodeInto, type EncodeOptions } from "./encode.ts";
export { decode, type DecodeOptions } from "./decode.ts";
export { EJSON } from "./ejson.ts";
export type { EJSONCodec, EJSONParseOptions, EJSONSerializeOptions, EJSONStringifyOptions } from "./ejson.ts";
