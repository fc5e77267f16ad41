import { BsonTag, tagClass } from "./bson_tag.ts";

/**
 * BSON MinKey (type 0xFF): compares lower than every other BSON value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, MinKey } from "@zerodep/mongo/bson";
 *
 * assert.equal(encode({ k: new MinKey() })[4], 255);
 * ```
 */
export class MinKey {}
tagClass(MinKey, BsonTag.MinKey);

/**
 * BSON MaxKey (type 0x7F): compares higher than every other BSON value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode, MaxKey } from "@zerodep/mongo/bson";
 *
 * assert.equal(encode({ k: new MaxKey() })[4], 127);
 * ```
 */
export class MaxKey {}
tagClass(MaxKey, BsonTag.MaxKey);
