/**
 * The logical sessions a simulated member has seen (the `lsid` of each
 * command), for `$listLocalSessions`; `endSessions` forgets them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Binary } from "../bson/mod.ts";
 * import { LocalSessions } from "./sessions.ts";
 *
 * const sessions = new LocalSessions();
 * sessions.touch({ id: new Binary(new Uint8Array(16), 4) });
 * assert.equal(sessions.list().length, 1);
 * ```
 *
 * @module
 */
import { Binary, type Document } from "../bson/mod.ts";
import { isPlainDocument } from "./query.ts";

// SHA-256 of the empty user name: the `uid` mongod gives sessions without authentication.
const NO_USER_UID = new Uint8Array(
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".match(/../g)!.map((h) => parseInt(h, 16)),
);

function keyOf(id: unknown): string | undefined {
  if (!(id instanceof Binary)) return undefined;
  return Array.from(id.buffer, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The sessions of one member.
 *
 * @example
 * ```ts
 * import { LocalSessions } from "./sessions.ts";
 *
 * new LocalSessions().end([]);
 * ```
 */
export class LocalSessions {
  #sessions = new Map<string, { id: Binary; lastUse: Date }>();

  /** Records a command's `lsid`. */
  touch(lsid: unknown): void {
    if (!isPlainDocument(lsid)) return;
    const key = keyOf(lsid.id);
    if (key !== undefined) this.#sessions.set(key, { id: lsid.id as Binary, lastUse: new Date() });
  }

  /** Forgets the sessions `endSessions` lists. */
  end(lsids: unknown): void {
    if (!Array.isArray(lsids)) return;
    for (const l of lsids) {
      const key = isPlainDocument(l) ? keyOf(l.id) : undefined;
      if (key !== undefined) this.#sessions.delete(key);
    }
  }

  /** The `$listLocalSessions` documents. */
  list(): Document[] {
    return [...this.#sessions.values()].map((s) => ({
      _id: { id: s.id, uid: new Binary(NO_USER_UID) },
      lastUse: s.lastUse,
    }));
  }

  /** Forgets every session (a restart). */
  clear(): void {
    this.#sessions.clear();
  }
}
