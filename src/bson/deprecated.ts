/**
 * The deprecated BSON types, kept so old data decodes faithfully and
 * re-encodes to the same bytes.
 *
 * @module
 */
import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";
import { ObjectId } from "./object_id.ts";

/**
 * A BSON symbol (deprecated type 0x0E). Decoded as this wrapper, so that it
 * round-trips; new data should use strings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BSONSymbol } from "@zerodep/mongo/bson";
 *
 * assert.equal(new BSONSymbol("sym").value, "sym");
 * ```
 */
export class BSONSymbol {
  /** The symbol's text. */
  readonly value: string;
  /** Throws a `BSONError` unless `value` is a string. */
  constructor(value: string) {
    if (typeof value !== "string") throw new BSONError(`BSONSymbol needs a string, got ${typeof value}`);
    this.value = value;
  }
  /** The text. */
  toString(): string {
    return this.value;
  }
}
tagClass(BSONSymbol, BsonTag.Symbol);

/**
 * A DBPointer (deprecated type 0x0C): a namespace string and an ObjectId.
 * New data should use a DBRef document (`{ $ref, $id }`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DBPointer, ObjectId } from "@zerodep/mongo/bson";
 *
 * const p = new DBPointer("db.coll", new ObjectId("56e1fc72e0c917e9c4714161"));
 * assert.equal(p.namespace, "db.coll");
 * assert.equal(p.id.toHexString(), "56e1fc72e0c917e9c4714161");
 * ```
 */
export class DBPointer {
  /** The namespace (`"db.collection"`). */
  readonly namespace: string;
  /** The id it points at. */
  readonly id: ObjectId;
  /** Throws a `BSONError` unless given a string and an ObjectId. */
  constructor(namespace: string, id: ObjectId) {
    if (typeof namespace !== "string") {
      throw new BSONError(`DBPointer namespace must be a string, got ${typeof namespace}`);
    }
    if (!(id instanceof ObjectId)) throw new BSONError("DBPointer id must be an ObjectId");
    this.namespace = namespace;
    this.id = id;
  }
}
tagClass(DBPointer, BsonTag.DBPointer);

/**
 * The BSON undefined value (deprecated type 0x06). JavaScript `undefined` is
 * not this: by default `encode` skips fields whose value is `undefined`.
 * Decoding type 0x06 gives an instance of this class, so it re-encodes the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BSONUndefined, decode, encode } from "@zerodep/mongo/bson";
 *
 * const doc = decode(encode({ u: new BSONUndefined() }));
 * assert.equal(doc.u instanceof BSONUndefined, true);
 * ```
 */
export class BSONUndefined {}
tagClass(BSONUndefined, BsonTag.Undefined);
