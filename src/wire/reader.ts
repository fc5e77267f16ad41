/**
 * Cuts a socket's byte stream into whole wire-protocol messages.
 *
 * @module
 */
import { ConfigurationError, WireProtocolError } from "../errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, HEADER_SIZE } from "./header.ts";

/**
 * Options for {@linkcode MessageReader}.
 *
 * @example
 * ```ts
 * import { MessageReader, type MessageReaderOptions } from "./mod.ts";
 *
 * const options: MessageReaderOptions = { maxMessageSizeBytes: 48_000_000 };
 * const reader = new MessageReader(options);
 * ```
 */
export interface MessageReaderOptions {
  /**
   * Largest message accepted, header included (default 48000000, the usual
   * server value). A message that declares more is an error as soon as its
   * first four bytes arrive; nothing of it is buffered or allocated.
   */
  maxMessageSizeBytes?: number;
}

// Fully consumed chunks at the front of the queue are dropped in one splice
// once there are this many and they are at least half the queue, so the
// splices cost amortized O(1) per chunk even for byte-by-byte input.
const COMPACT_AT = 64;

/**
 * An incremental message reader: {@linkcode MessageReader.push} socket chunks
 * of any size as they arrive, then call {@linkcode MessageReader.next} until it
 * returns `null` to take every whole message (header included) received so far.
 * A message split over many chunks, many messages in one chunk, or a header
 * split in two all work.
 *
 * No copy is made when a message lies inside one chunk: `next()` returns a
 * view of that chunk. So the reader takes ownership of every pushed chunk; the
 * caller must not write into it afterwards (socket adapters that hand out
 * fresh views, as this driver's do, need nothing special). A message that
 * spans chunks is copied once into a new buffer of exactly its length.
 *
 * Each message's `messageLength` is checked as soon as its first four bytes
 * are in: below 16 or above `maxMessageSizeBytes` throws a
 * {@linkcode WireProtocolError}. The stream cannot be trusted after that, so
 * the reader stays failed: every later `push()` or `next()` throws the same
 * error, and the connection must be closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOpMsg, MessageReader, readHeader } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const w = new ByteWriter();
 * const a = encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } });
 * const b = encodeOpMsg(w, { requestId: 2, body: { ping: 1, $db: "admin" } });
 * const stream = new Uint8Array([...a, ...b]);
 *
 * const reader = new MessageReader();
 * reader.push(stream.subarray(0, 10)); // half a header
 * assert.equal(reader.next(), null);
 * reader.push(stream.subarray(10));
 * assert.equal(readHeader(reader.next()!).requestId, 1);
 * assert.equal(readHeader(reader.next()!).requestId, 2);
 * assert.equal(reader.next(), null);
 * ```
 */
export class MessageReader {
  #max: number;
  #chunks: Uint8Array[] = [];
  // Index of the first chunk with unread bytes, and how much of it is read.
  #first = 0;
  #offset = 0;
  #buffered = 0;
  // messageLength of the message being assembled, once its length is in; -1 before.
  #need = -1;
  #error: WireProtocolError | null = null;

  /** Creates a reader; see {@linkcode MessageReaderOptions}. */
  constructor(options?: MessageReaderOptions) {
    this.#max = checkMax(options?.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES);
  }

  /**
   * The largest message accepted. Raise or lower it once the handshake reply
   * gives the server's `maxMessageSizeBytes`; it applies from the next
   * message whose length is not yet known.
   */
  get maxMessageSizeBytes(): number {
    return this.#max;
  }

  set maxMessageSizeBytes(value: number) {
    this.#max = checkMax(value);
  }

  /** Bytes pushed but not yet returned by `next()`. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Queues one chunk of the byte stream; empty chunks are ignored. The chunk
   * is kept by reference, not copied.
   *
   * @throws {WireProtocolError} if the reader already failed, or `chunk` is not a `Uint8Array`.
   */
  push(chunk: Uint8Array): void {
    if (this.#error !== null) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new WireProtocolError(
        `MessageReader.push needs a Uint8Array, got ${chunk === null ? "null" : typeof chunk}`,
      );
    }
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * Returns the next whole message, header included, or `null` when the
   * bytes pushed so far do not complete one.
   *
   * @throws {WireProtocolError} when a message declares a length below 16 or
   * above `maxMessageSizeBytes` (and on every call after that).
   */
  next(): Uint8Array | null {
    if (this.#error !== null) throw this.#error;
    if (this.#need < 0) {
      if (this.#buffered < 4) return null;
      const length = this.#peekInt32();
      if (length < HEADER_SIZE || length > this.#max) {
        const reason = length < HEADER_SIZE
          ? `is below the ${HEADER_SIZE}-byte header`
          : `exceeds maxMessageSizeBytes ${this.#max}`;
        this.#error = new WireProtocolError(`incoming message declares messageLength ${length}, which ${reason}`);
        this.#chunks = [];
        this.#first = 0;
        this.#offset = 0;
        this.#buffered = 0;
        throw this.#error;
      }
      this.#need = length;
    }
    const n = this.#need;
    if (this.#buffered < n) return null;
    this.#need = -1;
    this.#buffered -= n;
    const head = this.#chunks[this.#first];
    if (head.length - this.#offset >= n) {
      const frame = head.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      if (this.#offset === head.length) this.#dropHead();
      return frame;
    }
    const frame = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#first];
      const take = Math.min(chunk.length - this.#offset, n - filled);
      frame.set(chunk.subarray(this.#offset, this.#offset + take), filled);
      filled += take;
      this.#offset += take;
      if (this.#offset === chunk.length) this.#dropHead();
    }
    return frame;
  }

  #dropHead(): void {
    this.#offset = 0;
    this.#first++;
    if (this.#first === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#first = 0;
    } else if (this.#first >= COMPACT_AT && this.#first * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#first);
      this.#first = 0;
    }
  }

  // The little-endian int32 at the read position, which may straddle chunks.
  #peekInt32(): number {
    let value = 0;
    let i = this.#first;
    let o = this.#offset;
    for (let k = 0; k < 4; k++) {
      while (o === this.#chunks[i].length) {
        i++;
        o = 0;
      }
      value |= this.#chunks[i][o++] << (8 * k);
    }
    return value;
  }
}

function checkMax(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < HEADER_SIZE || value > 0x7fffffff) {
    throw new ConfigurationError(
      `maxMessageSizeBytes must be an integer in [${HEADER_SIZE}, 2^31 - 1], got ${String(value)}`,
    );
  }
  return value;
}
