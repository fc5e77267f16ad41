/**
 * `@zerodep/mongo`: a zero-dependency MongoDB replica-set driver for Deno and Bun.
 *
 * @example Encode and decode a document
 * ```ts
 * import { decode, encode } from "@zerodep/mongo";
 *
 * const bytes = encode({ hello: "world" });
 * console.log(decode(bytes)); // { hello: "world" }
 * ```
 *
 * @module
 */
export * from "./src/bson/mod.ts";
