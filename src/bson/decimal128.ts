// STUB: owned by the EJSON/Decimal128 helper, who replaces this whole file.
import { BSONError } from "../errors.ts";

/** A 128-bit IEEE 754-2008 decimal (BID encoding), stored as its 16 wire bytes. */
export class Decimal128 {
  /** The 16 bytes, little-endian, exactly as on the wire. */
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) throw new BSONError("Decimal128 needs exactly 16 bytes");
    this.bytes = bytes;
  }
  static fromString(_s: string): Decimal128 {
    throw new BSONError("Decimal128.fromString: not implemented yet");
  }
  toString(): string {
    throw new BSONError("Decimal128.toString: not implemented yet");
  }
}
