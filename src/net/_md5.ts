/**
 * MD5 (RFC 1321), which Web Crypto does not offer. SCRAM-SHA-1 needs it for
 * MongoDB's password digest (`md5("<user>:mongo:<password>")`); it is not used
 * for anything that relies on MD5 being collision-resistant.
 *
 * @module
 */

// Per-round shift amounts, four per round.
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

// K[i] = floor(abs(sin(i + 1)) * 2^32), computed once rather than written out.
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0;

/**
 * The MD5 digest of `bytes` (16 bytes).
 *
 * @example
 * ```ts ignore
 * import { md5 } from "./_md5.ts";
 *
 * console.log(md5(new TextEncoder().encode("abc"))); // 90 01 50 98 3c d2 4f b0 d6 96 3f 7d 28 e1 7f 72
 * ```
 */
export function md5(bytes: Uint8Array): Uint8Array {
  // Message, a 0x80 byte, zeros up to 56 mod 64, then the bit length (64-bit little-endian).
  const total = ((bytes.length + 8) >>> 6) + 1 << 6;
  const padded = new Uint8Array(total);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = bytes.length * 8;
  view.setUint32(total - 8, bits >>> 0, true);
  view.setUint32(total - 4, Math.floor(bits / 0x100000000), true);

  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  const m = new Int32Array(16);
  for (let block = 0; block < total; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getInt32(block + i * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const s = SHIFTS[(i >>> 4) * 4 + (i & 3)];
      const x = (a + f + K[i] + m[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  outView.setInt32(0, a0, true);
  outView.setInt32(4, b0, true);
  outView.setInt32(8, c0, true);
  outView.setInt32(12, d0, true);
  return out;
}
