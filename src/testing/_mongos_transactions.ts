/**
 * What a simulated mongos knows of transactions: the ones it routed (so a
 * `commitTransaction`/`abortTransaction` it receives reaches their shard),
 * the `recoveryToken` every reply inside a transaction carries, and the
 * answer of a mongos that never saw a transaction and got no token
 * (NoSuchTransaction, 251).
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { NO_SUCH_TRANSACTION } from "./_error_labels.ts";
import { numericValue } from "./query.ts";
import { sessionKey } from "./session_table.ts";

/**
 * The transactions one mongos has routed, by session.
 *
 * @example
 * ```ts
 * import { MongosTransactions } from "./_mongos_transactions.ts";
 *
 * const txns = new MongosTransactions("shard0");
 * const body = { commitTransaction: 1, txnNumber: 1, autocommit: false };
 * console.log(txns.refuseEnd("commitTransaction", body)?.code); // 251 (no lsid: never seen)
 * ```
 */
export class MongosTransactions {
  readonly #shardName: string;
  #routed = new Map<string, bigint>();

  /** `shardName`: the id recovery tokens name. */
  constructor(shardName: string) {
    this.#shardName = shardName;
  }

  /** Notes a statement of a transaction routed through this mongos. */
  note(body: Document): void {
    const key = sessionKey(body.lsid);
    const txn = numericValue(body.txnNumber);
    if (key === undefined || txn === undefined || body.autocommit === undefined) return;
    this.#routed.set(key, BigInt(txn));
  }

  /** Whether this mongos routed the transaction `body` names. */
  knows(body: Document): boolean {
    const key = sessionKey(body.lsid);
    const txn = numericValue(body.txnNumber);
    return key !== undefined && txn !== undefined && this.#routed.get(key) === BigInt(txn);
  }

  /**
   * The reply of a mongos to a commit or abort of a transaction it never
   * routed and that came without a `recoveryToken`, or undefined when it can
   * reach the transaction.
   */
  refuseEnd(name: string, body: Document): Document | undefined {
    if (this.knows(body) || body.recoveryToken !== undefined) return undefined;
    return {
      ok: 0,
      errmsg: `${name} cannot be run on this mongos: it never routed transaction ${
        String(numericValue(body.txnNumber))
      } of this session and the command has no recoveryToken`,
      code: NO_SUCH_TRANSACTION,
      codeName: "NoSuchTransaction",
    };
  }

  /**
   * The reply to a `commitTransaction` of a transaction this mongos never
   * routed, sent with a `recoveryToken`: such a mongos recovers the decision
   * of a commit begun through another mongos, but never commits a
   * transaction itself (a real one waits for the transaction to time out and
   * then answers that it was aborted). Undefined when `committed` says the
   * shard committed it (the command routes, and the shard answers ok), else
   * NoSuchTransaction.
   */
  refuseRecovery(name: string, body: Document, committed: (key: string, txnNumber: bigint) => boolean): Document | undefined {
    if (name !== "commitTransaction" || this.knows(body) || body.recoveryToken === undefined) return undefined;
    const key = sessionKey(body.lsid);
    const txn = numericValue(body.txnNumber);
    if (key !== undefined && txn !== undefined && committed(key, BigInt(txn))) return undefined;
    return {
      ok: 0,
      errmsg: `commitTransaction: transaction ${String(txn)} of this session was not being committed when this mongos ` +
        "recovered its decision from the recoveryToken: it was aborted",
      code: NO_SUCH_TRANSACTION,
      codeName: "NoSuchTransaction",
    };
  }

  /** Adds the `recoveryToken` of a reply to a command inside a transaction (before `ok`, as mongos orders it). */
  addRecoveryToken(body: Document, reply: Document): void {
    if (body.autocommit === undefined || body.lsid === undefined) return;
    const ok = reply.ok;
    delete reply.ok;
    reply.recoveryToken = { recoveryShardId: this.#shardName };
    reply.ok = ok;
  }

  /** Forgets the sessions killed (`lsids`: an array of lsids, or undefined for every session). */
  forget(lsids?: unknown): void {
    if (!Array.isArray(lsids) || lsids.length === 0) return this.#routed.clear();
    for (const l of lsids) {
      const key = sessionKey(l);
      if (key !== undefined) this.#routed.delete(key);
    }
  }
}
