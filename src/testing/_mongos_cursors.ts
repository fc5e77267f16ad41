/**
 * The cursors a simulated mongos owns: each cursor a shard member opened for
 * a command routed through it gets an id of the mongos's own, which only
 * that mongos knows (a getMore or killCursors sent to another mongos finds
 * nothing, as with real mongos).
 *
 * @module
 */
import { type Document, Int64 } from "../bson/mod.ts";
import { isPlainDocument, numericValue } from "./query.ts";

/** Where a routed cursor lives: the shard member that holds it and its id there. */
export interface RoutedCursor<M> {
  readonly member: M;
  readonly shardId: bigint;
  readonly ns: string;
}

function randomId(): bigint {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = ((BigInt(hi & 0x7fffffff) << 32n) | BigInt(lo));
  return id === 0n ? 1n : id;
}

/**
 * The cursor table of one mongos.
 *
 * @example
 * ```ts
 * import { MongosCursors } from "./_mongos_cursors.ts";
 *
 * const cursors = new MongosCursors<string>();
 * const reply = { cursor: { firstBatch: [], id: 7n, ns: "db.c" }, ok: 1 };
 * cursors.adopt(reply, "member0");
 * ```
 */
export class MongosCursors<M> {
  #cursors = new Map<bigint, RoutedCursor<M>>();

  /** Replaces the member's cursor id in `reply.cursor.id` by a new one of the mongos (nothing for id 0). */
  adopt(reply: Document, member: M): void {
    const cursor = reply.cursor;
    if (!isPlainDocument(cursor)) return;
    const id = numericValue(cursor.id);
    if (id === undefined || BigInt(id) === 0n) return;
    const own = randomId();
    this.#cursors.set(own, { member, shardId: BigInt(id), ns: String(cursor.ns ?? "") });
    cursor.id = new Int64(own);
  }

  /** The cursor behind an id of this mongos, if it has one. */
  get(id: bigint): RoutedCursor<M> | undefined {
    return this.#cursors.get(id);
  }

  /** After a getMore through `own`: the shard's reply gets the mongos id back; an exhausted cursor is forgotten. */
  translateBack(own: bigint, reply: Document): void {
    const cursor = reply.cursor;
    if (!isPlainDocument(cursor)) return; // an error: the shard decides whether its cursor lives on
    const id = numericValue(cursor.id);
    if (id === undefined || BigInt(id) === 0n) {
      this.#cursors.delete(own);
      return;
    }
    cursor.id = new Int64(own);
  }

  /** Forgets one cursor. */
  delete(id: bigint): void {
    this.#cursors.delete(id);
  }

  /** Forgets every cursor (a restarted mongos has none). */
  clear(): void {
    this.#cursors.clear();
  }
}
