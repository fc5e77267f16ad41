/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for SCRAM-SHA-256
 * passwords. As RFC 5802 asks of SCRAM, the password is prepared as a query
 * string: unassigned code points are allowed.
 *
 * The bidirectional rule needs to know which characters are strongly
 * left-to-right (RFC 3454 table D.2, thousands of ranges); this module takes
 * letters and spacing marks outside the right-to-left table (D.1, which is
 * short and listed in full) as left-to-right. That differs from D.2 only for
 * rare characters, and only for passwords that mix right-to-left letters with
 * others, which the rule rejects anyway.
 *
 * Normalization (NFKC) is the runtime's, of a newer Unicode than the 3.2 that
 * RFC 4013 pins: characters added since that have a compatibility form (the
 * subscript letters U+2090-U+209C, say) are normalized where a 3.2-based
 * implementation leaves them. tests/net/saslprep_oracle_test.ts compares this
 * module with PyMongo's on everything else.
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";

type Ranges = readonly (readonly [number, number])[];

function inRanges(cp: number, ranges: Ranges): boolean {
  for (const [lo, hi] of ranges) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

// B.1: commonly mapped to nothing.
const MAPPED_TO_NOTHING: Ranges = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

// C.1.2: non-ASCII spaces, mapped to U+0020.
const NON_ASCII_SPACE: Ranges = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

// C.1.2 (again, after normalization), C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7,
// C.8 and C.9, merged and sorted.
const PROHIBITED: Ranges = [
  [0x0000, 0x001f],
  [0x007f, 0x00a0],
  [0x0340, 0x0341],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x1680, 0x1680],
  [0x180e, 0x180e],
  [0x2000, 0x200f],
  [0x2028, 0x202f],
  [0x205f, 0x2063],
  [0x206a, 0x206f],
  [0x2ff0, 0x2ffb],
  [0x3000, 0x3000],
  [0xd800, 0xf8ff],
  [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffd],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
];

// D.1: characters with bidirectional property R or AL.
const RAND_AL: Ranges = [
  [0x05be, 0x05be],
  [0x05c0, 0x05c0],
  [0x05c3, 0x05c3],
  [0x05d0, 0x05ea],
  [0x05f0, 0x05f4],
  [0x061b, 0x061b],
  [0x061f, 0x061f],
  [0x0621, 0x063a],
  [0x0640, 0x064a],
  [0x066d, 0x066f],
  [0x0671, 0x06d5],
  [0x06dd, 0x06dd],
  [0x06e5, 0x06e6],
  [0x06fa, 0x06fe],
  [0x0700, 0x070d],
  [0x0710, 0x0710],
  [0x0712, 0x072c],
  [0x0780, 0x07a5],
  [0x07b1, 0x07b1],
  [0x200f, 0x200f],
  [0xfb1d, 0xfb1d],
  [0xfb1f, 0xfb28],
  [0xfb2a, 0xfb36],
  [0xfb38, 0xfb3c],
  [0xfb3e, 0xfb3e],
  [0xfb40, 0xfb41],
  [0xfb43, 0xfb44],
  [0xfb46, 0xfbb1],
  [0xfbd3, 0xfd3d],
  [0xfd50, 0xfd8f],
  [0xfd92, 0xfdc7],
  [0xfdf0, 0xfdfc],
  [0xfe70, 0xfe74],
  [0xfe76, 0xfefc],
];

const STRONG_LTR = /[\p{L}\p{Mc}]/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function isProhibited(cp: number): boolean {
  // Non-characters U+xFFFE and U+xFFFF of every plane (C.4).
  if ((cp & 0xfffe) === 0xfffe) return true;
  return inRanges(cp, PROHIBITED);
}

/**
 * Prepares `value` with SASLprep. `what` names it in errors (never its content).
 *
 * @throws {ConfigurationError} when it holds a prohibited character or breaks the bidirectional rule.
 * @example
 * ```ts ignore
 * import { saslprep } from "./_saslprep.ts";
 *
 * console.log(saslprep("I\u00ADX", "password")); // "IX"
 * console.log(saslprep("\u2168", "password")); // "IX"
 * ```
 */
export function saslprep(value: string, what: string): string {
  if (PRINTABLE_ASCII.test(value)) return value;
  let mapped = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, MAPPED_TO_NOTHING)) continue;
    mapped += inRanges(cp, NON_ASCII_SPACE) ? " " : ch;
  }
  const normalized = mapped.normalize("NFKC");
  let hasRandAL = false;
  let hasL = false;
  const chars = [...normalized];
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    if (isProhibited(cp)) {
      throw new ConfigurationError(
        `the ${what} contains a character SASLprep prohibits (U+${cp.toString(16).toUpperCase().padStart(4, "0")})`,
      );
    }
    if (inRanges(cp, RAND_AL)) hasRandAL = true;
    else if (STRONG_LTR.test(ch)) hasL = true;
  }
  if (hasRandAL) {
    const first = chars[0].codePointAt(0)!;
    const last = chars[chars.length - 1].codePointAt(0)!;
    if (hasL || !inRanges(first, RAND_AL) || !inRanges(last, RAND_AL)) {
      throw new ConfigurationError(
        `the ${what} mixes right-to-left and left-to-right text in a way SASLprep prohibits (RFC 3454 section 6)`,
      );
    }
  }
  return normalized;
}
