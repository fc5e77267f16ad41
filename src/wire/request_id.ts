/**
 * Request ids for outgoing messages.
 *
 * @module
 */

const INT32_MAX = 0x7fffffff;

// One counter for the whole process: ids only need to be unique per
// connection, and a shared counter makes them unique across connections too,
// which keeps logs and simulator traces unambiguous.
let last = 0;

/**
 * Returns the next request id: 1, 2, 3, ... up to 2^31 - 1, then 1 again.
 * Ids stay positive int32 values, as the header's `requestID` field needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextRequestId } from "./mod.ts";
 *
 * const a = nextRequestId();
 * const b = nextRequestId();
 * assert.equal(b === a + 1 || b === 1, true);
 * ```
 */
export function nextRequestId(): number {
  last = last >= INT32_MAX ? 1 : last + 1;
  return last;
}
