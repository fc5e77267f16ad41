/**
 * A BSON document as JavaScript sees it: a plain object with string keys.
 * `encode` also accepts a `Map` with string keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Document } from "./document.ts";
 *
 * const doc: Document = { name: "Ada", born: new Date(Date.UTC(1815, 11, 10)) };
 * assert.deepEqual(Object.keys(doc), ["name", "born"]);
 * ```
 */
export type Document = { [key: string]: unknown };
