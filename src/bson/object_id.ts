import { BSONError } from "../errors.ts";
import { BsonTag, tagClass } from "./bson_tag.ts";
import { bytesToHex, hexToBytes, randomBytes } from "./hex.ts";

// Per the ObjectId spec: 5 random bytes chosen once per process, and a 3-byte
// counter that starts at a random value and wraps at 2^24.
let processUnique: Uint8Array | undefined;
let counter = -1;

/**
 * A BSON ObjectId (type 0x07): 12 bytes, by convention a 4-byte big-endian
 * creation time in seconds, 5 random bytes fixed per process and a 3-byte
 * big-endian counter.
 *
 * `new ObjectId()` generates a fresh id; `new ObjectId(hex)` parses 24 hex
 * digits; `new ObjectId(bytes)` takes 12 bytes (used as is, not copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ObjectId } from "@zerodep/mongo/bson";
 *
 * const id = new ObjectId("65a1b2c3d4e5f60718293a4b");
 * assert.equal(id.toHexString(), "65a1b2c3d4e5f60718293a4b");
 * assert.equal(id.getTimestamp().toISOString(), "2024-01-12T21:44:35.000Z");
 * assert.equal(new ObjectId().equals(new ObjectId()), false);
 * ```
 */
export class ObjectId {
  /** The 12 bytes of the id. */
  readonly id: Uint8Array;

  /** Generates, parses (24 hex digits) or wraps (12 bytes) an id; bad input throws a `BSONError`. */
  constructor(input?: string | Uint8Array) {
    if (input === undefined) {
      this.id = generate();
    } else if (typeof input === "string") {
      const bytes = hexToBytes(input, 12);
      if (bytes === null) {
        throw new BSONError(`ObjectId needs a string of 24 hex digits, got ${JSON.stringify(input.slice(0, 40))}`);
      }
      this.id = bytes;
    } else if (input instanceof Uint8Array && input.length === 12) {
      this.id = input;
    } else {
      const what = input instanceof Uint8Array ? `${input.length} bytes` : typeof input;
      throw new BSONError(`ObjectId needs 24 hex digits or 12 bytes, got ${what}`);
    }
  }

  /** True when `s` is 24 hex digits (either case). */
  static isValid(s: string): boolean {
    return typeof s === "string" && hexToBytes(s, 12) !== null;
  }

  /** The 24 lower-case hex digits. */
  toHexString(): string {
    return bytesToHex(this.id);
  }

  /** Same as {@linkcode ObjectId.prototype.toHexString}. */
  toString(): string {
    return bytesToHex(this.id);
  }

  /** The hex string, so `JSON.stringify` gives something readable. */
  toJSON(): string {
    return bytesToHex(this.id);
  }

  /** True when `other` is an ObjectId with the same 12 bytes. */
  equals(other: ObjectId): boolean {
    if (other === this) return true;
    if (other === null || typeof other !== "object" || !(other.id instanceof Uint8Array) || other.id.length !== 12) {
      return false;
    }
    for (let i = 0; i < 12; i++) if (this.id[i] !== other.id[i]) return false;
    return true;
  }

  /** The creation time stored in the first four bytes (second precision). */
  getTimestamp(): Date {
    const id = this.id;
    const seconds = ((id[0] << 24) >>> 0) + (id[1] << 16) + (id[2] << 8) + id[3];
    return new Date(seconds * 1000);
  }

  /** How Deno's `console.log` shows it. */
  [Symbol.for("Deno.customInspect")](): string {
    return `new ObjectId("${this.toHexString()}")`;
  }

  /** How Node's and Bun's `console.log` show it. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `new ObjectId("${this.toHexString()}")`;
  }
}
tagClass(ObjectId, BsonTag.ObjectId);

/**
 * Sets the generation counter (the next generated id gets `value + 1`, mod
 * 2^24). For tests of the wrap-around only; not exported from the module's
 * front door.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ObjectId, setObjectIdCounter } from "./object_id.ts";
 *
 * setObjectIdCounter(0xfffffe);
 * assert.equal(new ObjectId().id[11], 255);
 * ```
 */
export function setObjectIdCounter(value: number): void {
  if (processUnique === undefined) generate();
  counter = value & 0xffffff;
}

function generate(): Uint8Array {
  if (processUnique === undefined) {
    processUnique = randomBytes(5);
    const r = randomBytes(3);
    counter = (r[0] << 16) | (r[1] << 8) | r[2];
  }
  counter = (counter + 1) & 0xffffff;
  const seconds = Math.floor(Date.now() / 1000);
  const id = new Uint8Array(12);
  id[0] = seconds >>> 24;
  id[1] = seconds >>> 16;
  id[2] = seconds >>> 8;
  id[3] = seconds;
  id[4] = processUnique[0];
  id[5] = processUnique[1];
  id[6] = processUnique[2];
  id[7] = processUnique[3];
  id[8] = processUnique[4];
  id[9] = counter >>> 16;
  id[10] = counter >>> 8;
  id[11] = counter;
  return id;
}
