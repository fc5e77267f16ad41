import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";

/**
 * A BSON regular expression (type 0x0B): a pattern and option letters in the
 * server's (PCRE) dialect. `decode` returns these rather than `RegExp`, since
 * BSON options such as `l` and `x` have no JavaScript flag and a PCRE pattern
 * need not compile in JavaScript. `encode` writes the options sorted, as the
 * BSON spec requires, and also accepts a JavaScript `RegExp`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BSONRegExp } from "@zerodep/mongo/bson";
 *
 * const re = new BSONRegExp("^a.c$", "mi");
 * assert.equal(re.pattern, "^a.c$");
 * assert.equal(re.options, "mi");
 * assert.equal(re.toRegExp().test("ABC"), true);
 * ```
 */
export class BSONRegExp {
  /** The pattern text. */
  readonly pattern: string;
  /** The option letters as given (`encode` sorts them). */
  readonly options: string;
  /** Throws a `BSONError` when either part is not a string or contains a NUL character. */
  constructor(pattern: string, options: string = "") {
    if (typeof pattern !== "string" || typeof options !== "string") {
      throw new BSONError("BSONRegExp needs a string pattern and a string of options");
    }
    if (pattern.includes("\0")) throw new BSONError("BSONRegExp pattern must not contain a NUL character");
    if (options.includes("\0")) throw new BSONError("BSONRegExp options must not contain a NUL character");
    this.pattern = pattern;
    this.options = options;
  }

  /**
   * A JavaScript `RegExp` with the options that JavaScript shares (`i`, `m`,
   * `s`, `u`); others (`l`, `x`) are dropped. Throws a `BSONError` when the
   * pattern is not valid JavaScript.
   */
  toRegExp(): RegExp {
    let flags = "";
    for (const f of "imsu") if (this.options.includes(f)) flags += f;
    try {
      return new RegExp(this.pattern, flags);
    } catch (e) {
      throw new BSONError(`BSONRegExp pattern ${JSON.stringify(this.pattern)} is not a valid JavaScript RegExp`, {
        cause: e,
      });
    }
  }
}
tagClass(BSONRegExp, BsonTag.RegExp);
