/**
 * `@zerodep/mongo`: a zero-dependency MongoDB replica-set driver for Deno and Bun.
 *
 * Today this module holds the BSON codec (also published alone as
 * `@zerodep/mongo/bson`) and the topology logic: connection strings and seeds,
 * SDAM server and topology descriptions, read preferences with PyMongo 2.1's
 * names (`ReadPreference.SECONDARY_ONLY`) and server selection.
 *
 * @example Encode and decode a document
 * ```ts
 * import { decode, encode } from "@zerodep/mongo";
 *
 * const bytes = encode({ hello: "world" });
 * console.log(decode(bytes)); // { hello: "world" }
 * ```
 *
 * @example Route a read the way the guide's `SECONDARY` does
 * ```ts
 * import { ReadPreference } from "@zerodep/mongo";
 *
 * console.log(ReadPreference.SECONDARY.mode); // "secondaryPreferred"
 * console.log(ReadPreference.SECONDARY_ONLY.mode); // "secondary"
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/bson/mod.ts";
export * from "./src/topology/mod.ts";
