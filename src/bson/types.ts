/**
 * Every BSON wrapper type, in one place (the Extended JSON module and the
 * codec import them from here).
 *
 * @module
 */
export type { Document } from "./document.ts";
export { Double, Int32, Int64, Long } from "./numeric.ts";
export { ObjectId } from "./object_id.ts";
export { Timestamp } from "./timestamp.ts";
export { Binary, UUID } from "./binary.ts";
export { Code } from "./code.ts";
export { BSONRegExp } from "./bson_regexp.ts";
export { BSONSymbol, BSONUndefined, DBPointer } from "./deprecated.ts";
export { MaxKey, MinKey } from "./min_max_key.ts";
export { DateTime } from "./date_time.ts";
export { Decimal128 } from "./decimal128.ts";
