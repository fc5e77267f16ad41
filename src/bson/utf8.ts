/**
 * UTF-8 helpers for the codec's slow paths (the ASCII fast paths are inlined
 * in the encoder and decoder).
 *
 * @module
 */

/**
 * Writes `s` from UTF-16 index `from` as UTF-8 into `buf` at `pos` and returns
 * the position after it. The caller guarantees room for 3 bytes per UTF-16
 * unit. A lone surrogate becomes U+FFFD (EF BF BD), exactly as `TextEncoder`
 * does, so every JavaScript string encodes and the output is always valid UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeUtf8 } from "./utf8.ts";
 *
 * const buf = new Uint8Array(8);
 * assert.equal(writeUtf8(buf, 0, "é", 0), 2);
 * ```
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string, from: number): number {
  const len = s.length;
  for (let i = from; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      const d = c <= 0xdbff && i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else {
        buf[pos++] = 0xef;
        buf[pos++] = 0xbf;
        buf[pos++] = 0xbd;
      }
    }
  }
  return pos;
}
