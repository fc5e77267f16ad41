/**
 * Internal: turns the pushed `data` events of Bun and node sockets into the
 * pulled `read()` of `Socket`, with flow control so that a reader
 * that falls behind pauses the socket instead of growing memory without bound.
 *
 * @module
 */

import { MongoError } from "../errors.ts";

// Above this many unread bytes the socket is paused; it resumes once the
// reader has taken all but LOW_WATER of them. Wide apart, so a large reply
// does not flap the socket.
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** Flow-control hooks of the socket feeding a {@linkcode ChunkQueue}. */
export interface ChunkQueueHooks {
  /** Stop delivering data. */
  pause(): void;
  /** Deliver data again. */
  resume(): void;
}

/** Chunks in arrival order, an end, or an error; read by one consumer. */
export class ChunkQueue {
  #chunks: (Uint8Array | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  #paused = false;
  #ended = false;
  #error: unknown = undefined;
  #hasError = false;
  #waiter: { resolve(chunk: Uint8Array | null): void; reject(error: unknown): void } | undefined;
  #hooks: ChunkQueueHooks;

  /** A queue whose socket is paused and resumed through `hooks`. */
  constructor(hooks: ChunkQueueHooks) {
    this.#hooks = hooks;
  }

  /** Bytes queued and not yet read. */
  get buffered(): number {
    return this.#bytes;
  }

  /** Adds a chunk from the socket (ignored after the end). */
  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.byteLength === 0) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    if (!this.#paused && this.#bytes > HIGH_WATER) {
      this.#paused = true;
      this.#hooks.pause();
    }
  }

  /** The peer ended the stream: reads drain what is queued, then get `null`. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settleWaiterAtEnd();
  }

  /** The stream broke: reads drain what is queued, then one gets `error`, later ones `null`. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hasError = true;
    this.#error = error;
    this.#settleWaiterAtEnd();
  }

  /** Local close: queued data is dropped and every read from now on gets `null`. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#ended = true;
    this.#hasError = false;
    this.#error = undefined;
    this.#settleWaiterAtEnd();
  }

  /** The next chunk, `null` at the end, or the stream's error; one caller at a time. */
  read(address: string): Promise<Uint8Array | null> {
    if (this.#waiter !== undefined) {
      return Promise.reject(new MongoError(`${address}: read() called while another read() is pending`));
    }
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head] as Uint8Array;
      this.#chunks[this.#head++] = undefined;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      } else if (this.#head >= 1024) {
        this.#chunks = this.#chunks.slice(this.#head);
        this.#head = 0;
      }
      this.#bytes -= chunk.byteLength;
      if (this.#paused && this.#bytes <= LOW_WATER && !this.#ended) {
        this.#paused = false;
        this.#hooks.resume();
      }
      return Promise.resolve(chunk);
    }
    if (this.#ended) return this.#takeEnd();
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #takeEnd(): Promise<null> {
    if (!this.#hasError) return Promise.resolve(null);
    const error = this.#error;
    this.#hasError = false;
    this.#error = undefined;
    return Promise.reject(error);
  }

  #settleWaiterAtEnd(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.#head < this.#chunks.length) return;
    this.#waiter = undefined;
    this.#takeEnd().then(waiter.resolve, waiter.reject);
  }
}
