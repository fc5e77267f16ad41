/**
 * Server sessions and their pool (the driver sessions specification's
 * "Server Session Pool"): a `ServerSession` is the `lsid` the server knows
 * plus the transaction number of its retryable writes; the pool hands the
 * most recently used one out first (LIFO), drops those with less than a
 * minute left before the server forgets them, and drops a session that saw a
 * network error (its server side may be in an unknown state). At close the
 * client ends every pooled session with `endSessions`. Not part of the
 * public API.
 *
 * @module
 */

import { Binary, type Document } from "../bson/mod.ts";

/** The spec's margin: a session with less than this left before it times out on the server is not reused. */
const MINUTE_MS = 60_000;

/** The most sessions one `endSessions` command names (the spec's 10,000). */
export const END_SESSIONS_BATCH = 10_000;

/** A random (version 4) UUID as the BSON binary of an `lsid` (subtype 4). */
function newSessionUuid(): Binary {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return new Binary(bytes, 4);
}

/**
 * One server session: its id (`{ id: UUID }`), when it was last used, the
 * transaction number of its last retryable write or transaction, and
 * whether a network error made it dirty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerSession } from "./server_session_pool.ts";
 *
 * const s = new ServerSession();
 * assert.equal(s.txnNumber, 0n);
 * assert.equal(s.id.id.subType, 4);
 * ```
 */
export class ServerSession {
  /** The `lsid` document sent to the server. */
  readonly id: { id: Binary };
  /** `performance.now()` of the last command sent with it. */
  lastUse: number;
  /** The last transaction number used (0: none yet); incremented before each retryable write. */
  txnNumber: bigint = 0n;
  /** Set after a network error on a command that carried it: it is not returned to the pool. */
  isDirty = false;

  constructor() {
    this.id = { id: newSessionUuid() };
    this.lastUse = performance.now();
  }

  /** Whether it has less than a minute left before a server with `timeoutMinutes` forgets it. */
  aboutToExpire(timeoutMinutes: number | null): boolean {
    if (timeoutMinutes === null) return false;
    const idleMS = performance.now() - this.lastUse;
    return timeoutMinutes * MINUTE_MS - idleMS < MINUTE_MS;
  }
}

/**
 * The pool of one client's server sessions (LIFO).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerSessionPool } from "./server_session_pool.ts";
 *
 * const pool = new ServerSessionPool();
 * const a = pool.acquire(30);
 * pool.release(a, 30);
 * assert.equal(pool.acquire(30), a); // the most recently released comes back first
 * ```
 */
export class ServerSessionPool {
  /** Front (most recently released) at the end of the array. */
  #sessions: ServerSession[] = [];

  /** Sessions waiting for reuse. */
  get size(): number {
    return this.#sessions.length;
  }

  /** The most recently released session that has a minute left, or a new one. */
  acquire(timeoutMinutes: number | null): ServerSession {
    for (;;) {
      const s = this.#sessions.pop();
      if (s === undefined) return new ServerSession();
      if (!s.aboutToExpire(timeoutMinutes)) return s;
    }
  }

  /**
   * Returns a session for reuse, dropping the stale ones at the back first;
   * a dirty session or one with less than a minute left is dropped.
   */
  release(session: ServerSession, timeoutMinutes: number | null): void {
    while (this.#sessions.length > 0 && this.#sessions[0].aboutToExpire(timeoutMinutes)) this.#sessions.shift();
    if (session.isDirty || session.aboutToExpire(timeoutMinutes)) return;
    this.#sessions.push(session);
  }

  /** Empties the pool; returns the `endSessions` commands for its sessions, at most 10,000 ids each. */
  drain(): Document[] {
    const ids = this.#sessions.reverse().map((s) => s.id);
    this.#sessions = [];
    const commands: Document[] = [];
    for (let i = 0; i < ids.length; i += END_SESSIONS_BATCH) {
      commands.push({ endSessions: ids.slice(i, i + END_SESSIONS_BATCH) });
    }
    return commands;
  }
}
