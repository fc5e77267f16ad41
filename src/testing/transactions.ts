/**
 * Sessions and multi-document transactions on a simulated member, as
 * mongod 7.0 runs them on a replica set:
 *
 * - a command with `lsid` + `txnNumber` and no `autocommit` is a retryable
 *   write (see `retryable_writes.ts`);
 * - `startTransaction: true, autocommit: false` starts transaction
 *   `txnNumber` on the session: its statements read a snapshot of the data
 *   taken at the start plus their own writes, and their writes are buffered;
 *   `commitTransaction` applies them all as one `applyOps` oplog entry (a
 *   secondary sees all of them or none), `abortTransaction` drops them;
 * - a transaction writing a document another open transaction wrote, or one
 *   changed since its snapshot, gets WriteConflict (112, label
 *   TransientTransactionError) and is aborted; a write outside any
 *   transaction waits until the open transaction holding the document ends
 *   (or its `maxTimeMS` runs out);
 * - a statement of an unknown or aborted transaction gets NoSuchTransaction
 *   (251, TransientTransactionError); a commit retried after it succeeded
 *   succeeds again, on a new primary too (the commit is recorded in the
 *   replicated session table);
 * - stepping down, being killed, `killSessions`, `killAllSessions` and
 *   `endSessions` abort open transactions; so does the 60 s
 *   `transactionLifetimeLimitSeconds`.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import type { CommandHost, CommandRequest } from "./commands.ts";
import { isPlainDocument, matches, numericValue } from "./query.ts";
import { idKey, type OplogChange, splitNamespace, type Store } from "./store.ts";
import { sessionKey } from "./session_table.ts";
import { scopedHost } from "./_scoped_host.ts";
import { isSnapshotRead, snapshotRead } from "./snapshot_reads.ts";
import { RETRYABLE_WRITE_COMMANDS, RetryableStatements, TRANSACTION_TOO_OLD, txnNumberOf } from "./retryable_writes.ts";
import { aggregateWrites } from "./aggregate_command.ts";
import { endsTransaction, NO_SUCH_TRANSACTION, WRITE_CONFLICT } from "./_error_labels.ts";

/**
 * The commands a transaction may run (mongod 7.0's list, on a replica set).
 *
 * @example
 * ```ts
 * import { TRANSACTION_COMMANDS } from "./transactions.ts";
 *
 * console.log(TRANSACTION_COMMANDS.has("count")); // false: OperationNotSupportedInTransaction
 * ```
 */
export const TRANSACTION_COMMANDS: ReadonlySet<string> = new Set([
  "find",
  "getMore",
  "killCursors",
  "insert",
  "update",
  "delete",
  "findAndModify",
  "findandmodify",
  "aggregate",
  "distinct",
  "create",
  "createIndexes",
  "commitTransaction",
  "abortTransaction",
]);

// mongod's transactionLifetimeLimitSeconds.
const LIFETIME_MS = 60_000;

/**
 * The state of a session's newest transaction.
 *
 * @example
 * ```ts
 * import type { TransactionState } from "./transactions.ts";
 *
 * const s: TransactionState = "inProgress";
 * ```
 */
export type TransactionState = "inProgress" | "committed" | "aborted";

interface Transaction {
  key: string;
  lsid: Document;
  txnNumber: bigint;
  state: TransactionState;
  startedAt: number;
  /** The write sequence number when the snapshot was taken. */
  snapshotSeq: number;
  /** The snapshot plus the transaction's own writes. */
  store: Store;
  /** Buffered writes, in order. */
  changes: OplogChange[];
  /** Document keys written. */
  written: Set<string>;
  /** Set when a write conflicted (the statement fails with WriteConflict). */
  conflict?: string;
}

/**
 * What the engine needs from its member.
 *
 * @example
 * ```ts ignore
 * const host: TransactionHost = member; // a SimulatedMember
 * ```
 */
export interface TransactionHost extends CommandHost {
  /** Logs a change as primary (the commit's `applyOps`). */
  logChange(change: OplogChange): void;
}

function docKey(ns: string, id: unknown): string {
  return `${ns}\u0000${idKey(id)}`;
}

// The documents a change writes, as keys.
function writtenKeys(change: OplogChange): string[] {
  switch (change.op) {
    case "i":
      return [docKey(change.ns, change.doc._id)];
    case "u":
    case "d":
      return [docKey(change.ns, change.id)];
    case "applyOps":
      return change.changes.flatMap(writtenKeys);
    default:
      return [];
  }
}

function failure(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

function noSuchTransaction(txnNumber: bigint, key: string): Document {
  return failure(
    NO_SUCH_TRANSACTION,
    "NoSuchTransaction",
    `Transaction with { txnNumber: ${txnNumber} } has been aborted. (session ${key})`,
  );
}

/**
 * The transactions (and session bookkeeping) of one member.
 *
 * @example
 * ```ts ignore
 * const transactions = new Transactions(member);
 * const reply = await transactions.run(request, runCommand);
 * ```
 */
export class Transactions {
  #host: TransactionHost;
  #txns = new Map<string, Transaction>();
  // Document key -> the session key of the open transaction that wrote it.
  #locks = new Map<string, string>();
  // While a transaction is open: document / namespace / database key -> write sequence number.
  #lastWrite = new Map<string, number>();
  #seq = 0;

  /** The engine of `host`. */
  constructor(host: TransactionHost) {
    this.#host = host;
  }

  /** How many transactions are in progress. */
  get open(): number {
    let n = 0;
    for (const t of this.#txns.values()) if (t.state === "inProgress") n++;
    return n;
  }

  /** The state of a session's newest transaction on this member, if any. */
  state(lsid: unknown): { txnNumber: bigint; state: TransactionState } | undefined {
    const key = sessionKey(lsid);
    const t = key === undefined ? undefined : this.#txns.get(key);
    return t === undefined ? undefined : { txnNumber: t.txnNumber, state: t.state };
  }

  /** Notes a change the member is about to log (conflict detection for open transactions). */
  noteWrite(change: OplogChange): void {
    if (this.open === 0) return;
    const seq = ++this.#seq;
    for (const k of writtenKeys(change)) this.#lastWrite.set(k, seq);
    const c = change.op === "applyOps" ? change.changes : [change];
    for (const x of c) {
      if (x.op === "drop" || x.op === "create") this.#lastWrite.set(`ns\u0000${x.ns}`, seq);
      if (x.op === "rename") {
        this.#lastWrite.set(`ns\u0000${x.from}`, seq);
        this.#lastWrite.set(`ns\u0000${x.to}`, seq);
      }
      if (x.op === "dropDatabase") this.#lastWrite.set(`db\u0000${x.db}`, seq);
    }
  }

  /** Aborts every open transaction (step-down, shutdown, `killAllSessions`). */
  abortAll(): void {
    for (const t of this.#txns.values()) this.#abort(t);
    this.#txns.clear();
  }

  /** Aborts the open transactions of the given sessions (`killSessions`, `endSessions`). */
  kill(lsids: unknown): void {
    if (!Array.isArray(lsids)) return;
    for (const l of lsids) {
      const key = sessionKey(l);
      const t = key === undefined ? undefined : this.#txns.get(key);
      if (t !== undefined) this.#abort(t);
    }
  }

  #abort(t: Transaction): void {
    if (t.state !== "inProgress") return;
    t.state = "aborted";
    t.changes = [];
    t.store = this.#host.store; // drop the snapshot (no statement runs on an aborted transaction)
    for (const k of t.written) if (this.#locks.get(k) === t.key) this.#locks.delete(k);
    t.written.clear();
    if (this.open === 0) this.#lastWrite.clear();
  }

  // The session's transaction, aborted first when it outlived transactionLifetimeLimitSeconds.
  #txn(key: string): Transaction | undefined {
    const t = this.#txns.get(key);
    if (t !== undefined && t.state === "inProgress" && Date.now() - t.startedAt > LIFETIME_MS) this.#abort(t);
    return t;
  }

  /**
   * Runs a command with its session semantics; `exec` runs a request as
   * `runCommand` does. The caller waits for the write concern afterwards
   * when {@linkcode Transactions.waitsForWriteConcern} says so. Null: the
   * connection is to be closed without a reply (`onPrimaryTransactionalWrite`).
   */
  async run(req: CommandRequest, exec: (req: CommandRequest) => Promise<Document>): Promise<Document | null> {
    const { name, body } = req;
    if (name === "killAllSessions") {
      this.abortAll();
      return { ok: 1 };
    }
    if (name === "killSessions" || name === "endSessions") this.kill(body[name]);
    if (body.autocommit === undefined && body.startTransaction === undefined) {
      if (endsTransaction(name)) {
        return failure(
          ErrorCode.InvalidOptions,
          "InvalidOptions",
          `${name} must be run within a transaction: send lsid, txnNumber and autocommit: false`,
        );
      }
      return await this.#runOutside(req, exec);
    }
    return await this.#runInside(req, exec);
  }

  /** Whether the member waits for `body.writeConcern` after command `name` succeeded. */
  static waitsForWriteConcern(name: string, body: Document): boolean {
    return body.autocommit === undefined || endsTransaction(name);
  }

  async #runOutside(
    req: CommandRequest,
    exec: (req: CommandRequest) => Promise<Document>,
  ): Promise<Document | null> {
    const { name, body } = req;
    const txnNumber = txnNumberOf(body);
    let retry: RetryableStatements | undefined;
    if (txnNumber !== undefined && body.lsid !== undefined) {
      if (!RETRYABLE_WRITE_COMMANDS.has(name)) {
        return failure(
          50768,
          "Location50768",
          `txnNumber may only be provided for multi-document transactions and retryable write commands. ` +
            `autocommit:false was not provided, and ${name} is not a retryable write command.`,
        );
      }
      const key = sessionKey(body.lsid);
      const t = key === undefined ? undefined : this.#txn(key);
      if (t !== undefined && t.txnNumber > txnNumber) {
        return failure(
          TRANSACTION_TOO_OLD,
          "TransactionTooOld",
          `Retryable write with txnNumber ${txnNumber} is prohibited on session ${key} because a newer ` +
            `transaction with txnNumber ${t.txnNumber} has already started on this session.`,
        );
      }
      if (t !== undefined && t.txnNumber < txnNumber) this.#abort(t);
      const opened = RetryableStatements.open(this.#host, body);
      if (opened !== undefined && !(opened instanceof RetryableStatements)) return opened;
      retry = opened;
    }
    if (isSnapshotRead(name, body)) return await snapshotRead(this.#host, req, exec);
    if (RETRYABLE_WRITE_COMMANDS.has(name) && this.#locks.size > 0) {
      const timedOut = await this.#waitForLocks(req);
      if (timedOut !== null) return timedOut;
    }
    if (retry === undefined) return await exec(req);
    const reply = await exec({ ...req, retry });
    return retry.closeConnection ? null : reply;
  }

  // A write outside transactions waits while an open transaction holds a document it targets.
  async #waitForLocks(req: CommandRequest): Promise<Document | null> {
    const maxTimeMS = Number(numericValue(req.body.maxTimeMS) ?? 0);
    const deadline = maxTimeMS > 0 ? Date.now() + maxTimeMS : Infinity;
    for (;;) {
      const holder = this.#heldBy(req);
      if (holder === undefined) return null;
      if (Date.now() >= deadline) {
        return failure(ErrorCode.MaxTimeMSExpired, "MaxTimeMSExpired", "operation exceeded time limit");
      }
      if (this.#host.state !== "PRIMARY") return null; // the state check of the command answers
      await this.#host.sleep(5);
    }
  }

  // The open transaction holding a document the write command targets, if any.
  #heldBy(req: CommandRequest): Transaction | undefined {
    const { body, name, db } = req;
    const coll = body[name];
    if (typeof coll !== "string") return undefined;
    const ns = `${db}.${coll}`;
    const held = (id: unknown): Transaction | undefined => {
      const owner = this.#locks.get(docKey(ns, id));
      const t = owner === undefined ? undefined : this.#txn(owner);
      return t?.state === "inProgress" ? t : undefined;
    };
    const matching = (q: unknown): Transaction | undefined => {
      if (q !== undefined && !isPlainDocument(q)) return undefined;
      for (const d of this.#host.store.documents(ns)) {
        let hit = false;
        try {
          hit = matches(d, (q ?? {}) as Document);
        } catch {
          return undefined; // the command reports its bad filter
        }
        const t = hit ? held(d._id) : undefined;
        if (t !== undefined) return t;
      }
      return undefined;
    };
    const statements = (field: string, q: string): Transaction | undefined => {
      const list = body[field];
      if (!Array.isArray(list)) return undefined;
      for (const s of list) {
        const t = isPlainDocument(s) ? matching(s[q]) : undefined;
        if (t !== undefined) return t;
      }
      return undefined;
    };
    switch (name) {
      case "insert": {
        const docs = body.documents;
        if (!Array.isArray(docs)) return undefined;
        for (const d of docs) {
          const t = isPlainDocument(d) && d._id !== undefined ? held(d._id) : undefined;
          if (t !== undefined) return t;
        }
        return undefined;
      }
      case "update":
        return statements("updates", "q");
      case "delete":
        return statements("deletes", "q");
      default:
        return matching(body.query);
    }
  }

  async #runInside(req: CommandRequest, exec: (req: CommandRequest) => Promise<Document>): Promise<Document> {
    const { name, body } = req;
    const txnNumber = txnNumberOf(body);
    const key = sessionKey(body.lsid);
    if (body.autocommit !== false) {
      return failure(ErrorCode.InvalidOptions, "InvalidOptions", "autocommit may only be false (a transaction) or absent");
    }
    if (txnNumber === undefined || key === undefined || !isPlainDocument(body.lsid)) {
      return failure(
        ErrorCode.InvalidOptions,
        "InvalidOptions",
        "a transaction's commands need a session (lsid) and a transaction number (txnNumber)",
      );
    }
    if (body.startTransaction !== undefined && body.startTransaction !== true) {
      return failure(ErrorCode.InvalidOptions, "InvalidOptions", "startTransaction may only be true");
    }
    if (this.#host.state !== "PRIMARY") {
      return failure(ErrorCode.NotWritablePrimary, "NotWritablePrimary", "not primary");
    }
    if (endsTransaction(name) && req.db !== "admin") {
      return failure(ErrorCode.Unauthorized, "Unauthorized", `${name} may only be run against the admin database.`);
    }
    if (name === "commitTransaction") return this.#commit(key, txnNumber);
    if (name === "abortTransaction") return this.#abortCommand(key, txnNumber);
    let t = this.#txn(key);
    if (!TRANSACTION_COMMANDS.has(name) || (name === "aggregate" && aggregateWrites(body))) {
      if (t !== undefined && t.txnNumber === txnNumber) this.#abort(t);
      return failure(263, "OperationNotSupportedInTransaction", `Cannot run '${name}' in a multi-document transaction.`);
    }
    if (body.writeConcern !== undefined) {
      return failure(ErrorCode.InvalidOptions, "InvalidOptions", "Cannot set write concern after starting a transaction.");
    }
    const row = this.#host.store.sessions.get(key);
    const newest = t === undefined ? row?.txnNumber : (row === undefined || row.txnNumber < t.txnNumber ? t.txnNumber : row.txnNumber);
    if (newest !== undefined && newest > txnNumber) {
      return failure(
        TRANSACTION_TOO_OLD,
        "TransactionTooOld",
        `Cannot start transaction ${txnNumber} on session ${key} because a newer transaction ${newest} has already started.`,
      );
    }
    if (body.startTransaction === true) {
      if (newest === txnNumber) {
        return failure(
          117,
          "ConflictingOperationInProgress",
          `Cannot start a transaction at given transaction number ${txnNumber}: the session already used it.`,
        );
      }
      const rc = body.readConcern;
      const level = isPlainDocument(rc) ? rc.level : undefined;
      if (level !== undefined && level !== "local" && level !== "majority" && level !== "snapshot") {
        return failure(
          ErrorCode.InvalidOptions,
          "InvalidOptions",
          "The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction",
        );
      }
      if (t !== undefined) this.#abort(t);
      t = {
        key,
        lsid: body.lsid,
        txnNumber,
        state: "inProgress",
        startedAt: Date.now(),
        snapshotSeq: this.#seq,
        store: this.#host.store.clone(),
        changes: [],
        written: new Set(),
      };
      this.#txns.set(key, t);
    } else {
      if (t === undefined || t.txnNumber !== txnNumber || t.state === "aborted") {
        return noSuchTransaction(txnNumber, key);
      }
      if (t.state === "committed") {
        return failure(256, "TransactionCommitted", `Transaction ${txnNumber} has been committed.`);
      }
      if (body.readConcern !== undefined) {
        return failure(ErrorCode.InvalidOptions, "InvalidOptions", "Only the first command in a transaction may specify a readConcern");
      }
    }
    const txn = t;
    const reply = await exec({ ...req, host: this.#statementHost(txn) });
    if (txn.state !== "inProgress") return noSuchTransaction(txnNumber, key); // killed meanwhile
    if (txn.conflict !== undefined) {
      this.#abort(txn);
      return failure(WRITE_CONFLICT, "WriteConflict", txn.conflict);
    }
    // A failed statement, a write error included, aborts the transaction.
    if (Number(reply.ok) !== 1 || Array.isArray(reply.writeErrors)) this.#abort(txn);
    return reply;
  }

  // TransactionTooOld when the session moved past `txnNumber` (a newer transaction or retryable write).
  #tooOld(key: string, txnNumber: bigint, what: string): Document | undefined {
    const t = this.#txn(key);
    const row = this.#host.store.sessions.get(key);
    let newest = t?.txnNumber;
    if (row !== undefined && (newest === undefined || row.txnNumber > newest)) newest = row.txnNumber;
    if (newest === undefined || newest <= txnNumber) return undefined;
    return failure(
      TRANSACTION_TOO_OLD,
      "TransactionTooOld",
      `Cannot ${what} transaction ${txnNumber} on session ${key}: a newer transaction number ${newest} is in use.`,
    );
  }

  #commit(key: string, txnNumber: bigint): Document {
    const old = this.#tooOld(key, txnNumber, "commit");
    if (old !== undefined) return old;
    const t = this.#txn(key);
    if (t !== undefined && t.txnNumber === txnNumber) {
      if (t.state === "aborted") return noSuchTransaction(txnNumber, key);
      if (t.state === "committed") return { ok: 1 };
      t.state = "committed";
      for (const k of t.written) if (this.#locks.get(k) === t.key) this.#locks.delete(k);
      const changes = t.changes;
      t.changes = [];
      t.store = this.#host.store; // the snapshot is no longer needed
      if (changes.length > 0) {
        this.#host.logChange({
          op: "applyOps",
          changes,
          session: { key, lsid: t.lsid, txnNumber, committed: true },
        });
      }
      if (this.open === 0) this.#lastWrite.clear();
      return { ok: 1 };
    }
    // Not known here (a new primary, a restart): the replicated table knows whether it committed.
    const row = this.#host.store.sessions.get(key);
    if (row !== undefined && row.txnNumber === txnNumber && row.committed) return { ok: 1 };
    return noSuchTransaction(txnNumber, key);
  }

  #abortCommand(key: string, txnNumber: bigint): Document {
    const old = this.#tooOld(key, txnNumber, "abort");
    if (old !== undefined) return old;
    const t = this.#txn(key);
    if (t !== undefined && t.txnNumber === txnNumber) {
      if (t.state === "committed") return failure(256, "TransactionCommitted", `Transaction ${txnNumber} has been committed.`);
      if (t.state === "aborted") return noSuchTransaction(txnNumber, key);
      this.#abort(t);
      return { ok: 1 };
    }
    const row = this.#host.store.sessions.get(key);
    if (row !== undefined && row.txnNumber === txnNumber && row.committed) {
      return failure(256, "TransactionCommitted", `Transaction ${txnNumber} has been committed.`);
    }
    return noSuchTransaction(txnNumber, key);
  }

  // The member as a transaction's statement sees it: the snapshot's data, writes buffered.
  #statementHost(t: Transaction): CommandHost {
    return scopedHost(this.#host, t.store, (change) => this.#buffer(t, change));
  }

  // A transaction's write: conflict checks, then into its snapshot and its buffer.
  #buffer(t: Transaction, change: OplogChange): void {
    if (t.state !== "inProgress") throw new Error("the transaction ended while its statement ran");
    for (const k of writtenKeys(change)) {
      const owner = this.#locks.get(k);
      const other = owner === undefined || owner === t.key ? undefined : this.#txn(owner);
      const ns = k.slice(0, k.indexOf("\u0000"));
      const [db] = splitNamespace(ns);
      const changedSince = Math.max(
        this.#lastWrite.get(k) ?? 0,
        this.#lastWrite.get(`ns\u0000${ns}`) ?? 0,
        this.#lastWrite.get(`db\u0000${db}`) ?? 0,
      ) > t.snapshotSeq;
      if (other?.state === "inProgress" || changedSince) {
        t.conflict = "Caused by :: Write conflict during plan execution and yielding is disabled. :: " +
          "Please retry your operation or multi-document transaction.";
        throw new Error(t.conflict); // stops the statement; the engine answers WriteConflict
      }
    }
    t.store.apply(change);
    t.changes.push(change);
    for (const k of writtenKeys(change)) {
      t.written.add(k);
      this.#locks.set(k, t.key);
    }
  }
}
