import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";
import type { Document } from "./document.ts";

/**
 * JavaScript code stored in BSON. Without a scope it is type 0x0D; with any
 * scope document, even `{}`, it is code-with-scope (type 0x0F).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Code } from "@zerodep/mongo/bson";
 *
 * const plain = new Code("function () { return 1; }");
 * const scoped = new Code("function () { return x; }", { x: 1 });
 * assert.equal(plain.scope, undefined);
 * assert.deepEqual(scoped.scope, { x: 1 });
 * ```
 */
export class Code {
  /** The source text. */
  readonly code: string;
  /** The scope document, or `undefined` for plain code. */
  readonly scope: Document | undefined;
  /** Throws a `BSONError` unless `code` is a string and `scope` an object (or undefined). */
  constructor(code: string, scope?: Document) {
    if (typeof code !== "string") throw new BSONError(`Code needs a string, got ${typeof code}`);
    if (scope !== undefined && (scope === null || typeof scope !== "object" || Array.isArray(scope))) {
      throw new BSONError(`Code scope must be a document (object), got ${scope === null ? "null" : typeof scope}`);
    }
    this.code = code;
    this.scope = scope;
  }
}
tagClass(Code, BsonTag.Code);
