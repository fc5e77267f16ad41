/**
 * Which JavaScript engine runs us, for the few hot-path choices where V8
 * (Deno) and JavaScriptCore (Bun) disagree about what is fast. Only speed
 * depends on this, never behaviour: both branches of every choice produce the
 * same bytes and values, and the tests run on both runtimes.
 *
 * @module
 */

/**
 * True on JavaScriptCore (Bun), false on V8 (Deno, Node).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isJSC } from "./engine.ts";
 *
 * assert.equal(typeof isJSC, "boolean");
 * ```
 */
export const isJSC: boolean = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
