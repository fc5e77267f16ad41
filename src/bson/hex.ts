/**
 * Hex helpers shared by ObjectId and UUID.
 *
 * @module
 */

const HEX_DIGITS = "0123456789abcdef";
const BYTE_TO_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_TO_HEX.push(HEX_DIGITS[i >> 4] + HEX_DIGITS[i & 15]);

/**
 * Lower-case hex of `bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesToHex } from "./hex.ts";
 *
 * assert.equal(bytesToHex(new Uint8Array([0, 255])), "00ff");
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_HEX[bytes[i]];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses exactly `length` bytes of hex from `s`; returns `null` when `s` is not
 * exactly that many hex digit pairs (either case).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexToBytes } from "./hex.ts";
 *
 * assert.deepEqual(hexToBytes("00ff", 2), new Uint8Array([0, 255]));
 * ```
 */
export function hexToBytes(s: string, length: number): Uint8Array | null {
  if (s.length !== length * 2) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Fills `bytes` with cryptographically strong random values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomBytes } from "./hex.ts";
 *
 * assert.equal(randomBytes(5).length, 5);
 * ```
 */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}
