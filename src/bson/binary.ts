import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";
import { bytesToHex, hexToBytes, randomBytes } from "./hex.ts";

/**
 * BSON binary data (type 0x05): bytes plus a one-byte subtype. Plain
 * `Uint8Array` values encode as subtype 0; `decode` returns `Binary` (or
 * {@linkcode UUID} for subtype 4 with 16 bytes). The buffer is used as is, not
 * copied.
 *
 * Subtype 2 (the old binary form) carries a second length inside the payload
 * on the wire; `buffer` holds the bytes after it and `encode` writes it back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Binary } from "@zerodep/mongo/bson";
 *
 * const b = new Binary(new Uint8Array([1, 2, 3]), Binary.SUBTYPE_USER_DEFINED);
 * assert.equal(b.subType, 128);
 * assert.equal(b.buffer.length, 3);
 * ```
 */
export class Binary {
  /** Subtype 0x00: generic bytes. */
  static readonly SUBTYPE_DEFAULT = 0;
  /** Subtype 0x01: function. */
  static readonly SUBTYPE_FUNCTION = 1;
  /** Subtype 0x02: old generic binary (length-prefixed payload). */
  static readonly SUBTYPE_BYTE_ARRAY = 2;
  /** Subtype 0x03: old UUID (driver-specific byte order). */
  static readonly SUBTYPE_UUID_OLD = 3;
  /** Subtype 0x04: RFC 4122 UUID. */
  static readonly SUBTYPE_UUID = 4;
  /** Subtype 0x05: MD5 digest. */
  static readonly SUBTYPE_MD5 = 5;
  /** Subtype 0x06: encrypted value (client-side field level encryption). */
  static readonly SUBTYPE_ENCRYPTED = 6;
  /** Subtype 0x07: compressed time-series column. */
  static readonly SUBTYPE_COLUMN = 7;
  /** Subtype 0x08: sensitive data. */
  static readonly SUBTYPE_SENSITIVE = 8;
  /** Subtype 0x09: vector. */
  static readonly SUBTYPE_VECTOR = 9;
  /** Subtype 0x80: first user-defined subtype (0x80-0xFF). */
  static readonly SUBTYPE_USER_DEFINED = 0x80;

  /** The payload bytes. */
  readonly buffer: Uint8Array;
  /** The subtype, 0-255. */
  readonly subType: number;

  /** Throws a `BSONError` unless `buffer` is a `Uint8Array` and `subType` an integer in 0-255. */
  constructor(buffer: Uint8Array, subType: number = 0) {
    if (!(buffer instanceof Uint8Array)) {
      throw new BSONError(`Binary needs a Uint8Array, got ${buffer === null ? "null" : typeof buffer}`);
    }
    if (typeof subType !== "number" || !Number.isInteger(subType) || subType < 0 || subType > 255) {
      throw new BSONError(`Binary subtype must be an integer in 0-255, got ${String(subType)}`);
    }
    this.buffer = buffer;
    this.subType = subType;
  }

  /** Number of payload bytes. */
  get length(): number {
    return this.buffer.length;
  }
}
tagClass(Binary, BsonTag.Binary);

/**
 * An RFC 4122 UUID: BSON binary subtype 4 with exactly 16 bytes.
 * `new UUID()` makes a random (version 4) UUID; `new UUID(s)` parses 32 hex
 * digits with or without the 8-4-4-4-12 hyphens; `new UUID(bytes)` takes 16 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UUID } from "@zerodep/mongo/bson";
 *
 * const u = new UUID("0e9c7e0b-4c1e-4b5a-9d3e-4ab1f1b2c3d4");
 * assert.equal(u.toString(), "0e9c7e0b-4c1e-4b5a-9d3e-4ab1f1b2c3d4");
 * assert.equal(UUID.generate().buffer.length, 16);
 * ```
 */
export class UUID extends Binary {
  /** Generates, parses or wraps a UUID; bad input throws a `BSONError`. */
  constructor(input?: string | Uint8Array) {
    let bytes: Uint8Array;
    if (input === undefined) {
      bytes = randomBytes(16);
      bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
      bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    } else if (typeof input === "string") {
      const hyphenated = input.length === 36 && input[8] === "-" && input[13] === "-" && input[18] === "-" &&
        input[23] === "-";
      const hex = hyphenated ? input.replaceAll("-", "") : input;
      const parsed = hexToBytes(hex, 16);
      if (parsed === null) {
        throw new BSONError(
          `UUID needs 32 hex digits, optionally as 8-4-4-4-12 groups, got ${JSON.stringify(input.slice(0, 60))}`,
        );
      }
      bytes = parsed;
    } else if (input instanceof Uint8Array && input.length === 16) {
      bytes = input;
    } else {
      const what = input instanceof Uint8Array ? `${input.length} bytes` : typeof input;
      throw new BSONError(`UUID needs a hex string or 16 bytes, got ${what}`);
    }
    super(bytes, 4);
  }

  /** A new random (version 4) UUID. */
  static generate(): UUID {
    return new UUID();
  }

  /** The 32 hex digits without hyphens. */
  toHexString(): string {
    return bytesToHex(this.buffer);
  }

  /** The canonical 8-4-4-4-12 lower-case form. */
  override toString(): string {
    const h = bytesToHex(this.buffer);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** The canonical string, for `JSON.stringify`. */
  toJSON(): string {
    return this.toString();
  }

  /** True when `other` is a UUID with the same bytes. */
  equals(other: UUID): boolean {
    if (!(other instanceof Binary) || other.subType !== 4 || other.buffer.length !== 16) return false;
    for (let i = 0; i < 16; i++) if (this.buffer[i] !== other.buffer[i]) return false;
    return true;
  }

  /** How Deno's `console.log` shows it. */
  [Symbol.for("Deno.customInspect")](): string {
    return `new UUID("${this.toString()}")`;
  }

  /** How Node's and Bun's `console.log` show it. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `new UUID("${this.toString()}")`;
  }
}
