/**
 * The session table of a simulated member, as mongod's
 * `config.transactions`: for each logical session (`lsid`), its newest
 * `txnNumber`, the results of the retryable-write statements executed under
 * it, and whether a transaction of that number committed. The table is part
 * of the replicated data: an oplog entry that executes a statement carries
 * its {@linkcode SessionWrite}, and every member applying the entry records
 * it, so a retry that reaches a new primary after a failover finds the
 * original result there and the write is applied once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Binary } from "../bson/mod.ts";
 * import { SessionTable, sessionKey } from "./session_table.ts";
 *
 * const lsid = { id: new Binary(new Uint8Array(16), 4) };
 * const table = new SessionTable();
 * table.record({ key: sessionKey(lsid)!, lsid, txnNumber: 1n, stmtId: 0, outcome: { result: { n: 1 } } });
 * assert.deepEqual(table.executed(sessionKey(lsid)!, 1n, 0), { n: 1 });
 * ```
 *
 * @module
 */
import { Binary, type Document } from "../bson/mod.ts";
import { isPlainDocument } from "./query.ts";

/**
 * The outcome of one statement. A primary attaches it to the statement's
 * oplog entries before the statement ends and fills `result` in at the end
 * (in the same synchronous step), so every member sees the final result.
 *
 * @example
 * ```ts
 * import type { StatementOutcome } from "./session_table.ts";
 *
 * const o: StatementOutcome = { result: { n: 1 } };
 * ```
 */
export interface StatementOutcome {
  /** The statement's share of the reply (`{n}`, `{n, nModified, upserted}`, a findAndModify reply); absent while it runs or when it failed. */
  result?: Document;
}

/**
 * What an oplog entry tells the session table.
 *
 * @example
 * ```ts
 * import type { SessionWrite } from "./session_table.ts";
 *
 * const w: SessionWrite = { key: "00", lsid: {}, txnNumber: 3n, committed: true };
 * ```
 */
export interface SessionWrite {
  /** {@linkcode sessionKey} of `lsid`. */
  key: string;
  lsid: Document;
  txnNumber: bigint;
  /** The statement a retryable write executed (its index in the command's batch). */
  stmtId?: number;
  outcome?: StatementOutcome;
  /** The entry commits the transaction `txnNumber`. */
  committed?: boolean;
}

/**
 * One session's row.
 *
 * @example
 * ```ts
 * import type { SessionRecord } from "./session_table.ts";
 *
 * const r: SessionRecord = { lsid: {}, txnNumber: 1n, statements: new Map(), committed: false };
 * ```
 */
export interface SessionRecord {
  lsid: Document;
  /** The newest transaction number the session used. */
  txnNumber: bigint;
  /** stmtId -> outcome, for `txnNumber`. */
  statements: Map<number, StatementOutcome>;
  /** Whether the transaction `txnNumber` committed. */
  committed: boolean;
}

/**
 * A key for an `lsid` document (the hex of its `id` UUID), or undefined when
 * it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Binary } from "../bson/mod.ts";
 * import { sessionKey } from "./session_table.ts";
 *
 * assert.equal(sessionKey({ id: new Binary(new Uint8Array([1, 2]), 4) }), "0102");
 * assert.equal(sessionKey({}), undefined);
 * ```
 */
export function sessionKey(lsid: unknown): string | undefined {
  if (!isPlainDocument(lsid) || !(lsid.id instanceof Binary)) return undefined;
  return Array.from(lsid.id.buffer, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The replicated session rows of one member's data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionTable } from "./session_table.ts";
 *
 * const t = new SessionTable();
 * t.record({ key: "ab", lsid: {}, txnNumber: 2n, committed: true });
 * assert.equal(t.get("ab")?.committed, true);
 * ```
 */
export class SessionTable {
  #rows = new Map<string, SessionRecord>();

  /** The row of a session, if it ever wrote. */
  get(key: string): SessionRecord | undefined {
    return this.#rows.get(key);
  }

  /** How many sessions have a row. */
  get size(): number {
    return this.#rows.size;
  }

  /** Applies what an oplog entry says; an older txnNumber than the row's changes nothing. */
  record(w: SessionWrite): void {
    let row = this.#rows.get(w.key);
    if (row === undefined || row.txnNumber < w.txnNumber) {
      row = { lsid: w.lsid, txnNumber: w.txnNumber, statements: new Map(), committed: false };
      this.#rows.set(w.key, row);
    }
    if (row.txnNumber !== w.txnNumber) return;
    if (w.stmtId !== undefined && w.outcome !== undefined) row.statements.set(w.stmtId, w.outcome);
    if (w.committed === true) row.committed = true;
  }

  /** The stored result of a statement already executed under `txnNumber`, or undefined. */
  executed(key: string, txnNumber: bigint, stmtId: number): Document | undefined {
    const row = this.#rows.get(key);
    if (row === undefined || row.txnNumber !== txnNumber) return undefined;
    return row.statements.get(stmtId)?.result;
  }

  /** A copy (the rows are copied, the outcomes shared: they are final once their statement ends). */
  clone(): SessionTable {
    const t = new SessionTable();
    for (const [k, r] of this.#rows) t.#rows.set(k, { ...r, statements: new Map(r.statements) });
    return t;
  }

  /** Forgets every row (the data is being replayed from the oplog). */
  clear(): void {
    this.#rows.clear();
  }
}
