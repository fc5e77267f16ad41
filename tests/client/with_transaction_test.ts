// session.withTransaction's loops (src/client/with_transaction.ts) on a fake
// session holding a real Transaction: the callback run again on
// TransientTransactionError, the commit run again on
// UnknownTransactionCommitResult (not on MaxTimeMSExpired), the abort when the
// callback throws, the retry limit through the WITH_TRANSACTION_TIMING seam (a
// fake clock, no waiting), and the signal.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  AutoReconnect,
  OperationFailure,
  OperationTimeoutError,
  TransactionError,
  WriteConcernError,
} from "../../src/errors.ts";
import type { Document } from "../../src/bson/mod.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { Transaction, type TransactionOptions } from "../../src/client/transaction.ts";
import {
  WITH_TRANSACTION_TIMING,
  withTransaction,
  type WithTransactionOptions,
  type WithTransactionTiming,
} from "../../src/client/with_transaction.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const CLIENT = { readConcern: {}, writeConcern: {}, readPreference: ReadPreference.PRIMARY };

/** A server error; `labels` undefined: a reply without errorLabels (a pre-4.4 server's). */
function failure(code: number, codeName: string, labels?: string[]): OperationFailure {
  const response: Document = { ok: 0, code, codeName };
  if (labels !== undefined) response.errorLabels = labels;
  return new OperationFailure(codeName, { code, codeName, errorLabels: labels, response });
}

/** A session whose commit/abort commands answer from `commitScript` (an Error is thrown); it records them. */
class FakeSession {
  readonly transaction = new Transaction();
  readonly sent: Document[] = [];
  readonly starts: (TransactionOptions | undefined)[] = [];
  readonly commitScript: (Document | Error)[];
  constructor(...commitScript: (Document | Error)[]) {
    this.commitScript = commitScript;
  }
  #run = (command: Document): Promise<Document> => {
    this.sent.push(command);
    if (command.abortTransaction !== undefined) return Promise.resolve({ ok: 1 });
    const next = this.commitScript.shift() ?? { ok: 1 };
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  startTransaction(options?: TransactionOptions): void {
    this.transaction.start(options, undefined, CLIENT);
    this.starts.push(options);
  }
  commitTransaction(): Promise<void> {
    return this.transaction.commit(this.#run);
  }
  abortTransaction(): Promise<void> {
    return this.transaction.abort(this.#run);
  }
  /** One command in the transaction (moves it to TRANSACTION_IN_PROGRESS). */
  insert(): void {
    this.transaction.checkOperation({ name: "insert", kind: "write" });
    this.transaction.applyToCommand({ insert: "c", documents: [{}] }, 1n);
  }
  names(): string[] {
    return this.sent.map((c) => Object.keys(c)[0]);
  }
}

/** A fake clock and recorded sleeps: each sleep moves the clock forward. */
function clock(limitMS: number, random = 1) {
  let now = 0;
  const sleeps: number[] = [];
  const timing: WithTransactionTiming = {
    limitMS,
    now: () => now,
    random: () => random,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
  return {
    sleeps,
    advance: (ms: number) => (now += ms),
    options: (extra: WithTransactionOptions = {}) => ({ ...extra, [WITH_TRANSACTION_TIMING]: timing }),
  };
}

describe("withTransaction", () => {
  test("runs the callback in a transaction, commits once, and returns the callback's value", async () => {
    const s = new FakeSession();
    const result = await withTransaction(s, (session) => {
      assert.equal(session, s);
      assert.equal(s.transaction.state, "STARTING_TRANSACTION");
      s.insert();
      return Promise.resolve(42);
    }, { writeConcern: { w: "majority" } });
    assert.equal(result, 42);
    assert.deepEqual(s.sent, [{ commitTransaction: 1, writeConcern: { w: "majority" } }]);
    assert.deepEqual(s.starts, [{ writeConcern: { w: "majority" } }]);
    assert.equal(s.transaction.state, "TRANSACTION_COMMITTED");
  });

  test("a TransientTransactionError from the callback aborts and runs the whole transaction again", async () => {
    const s = new FakeSession();
    const c = clock(120_000);
    let runs = 0;
    const result = await withTransaction(s, () => {
      runs++;
      s.insert();
      if (runs < 3) throw failure(112, "WriteConflict", ["TransientTransactionError"]);
      return "done";
    }, c.options());
    assert.equal(result, "done");
    assert.equal(runs, 3);
    assert.deepEqual(s.names(), ["abortTransaction", "abortTransaction", "commitTransaction"]);
    assert.deepEqual(c.sleeps, [5 * 1.5, 5 * 1.5 ** 2], "backoff: jitter * min(5 * 1.5^attempt, 500) ms");
  });

  test("a TransientTransactionError from the commit runs the whole transaction again", async () => {
    const s = new FakeSession(failure(251, "NoSuchTransaction", ["TransientTransactionError"]));
    const c = clock(120_000, 0);
    let runs = 0;
    await withTransaction(s, () => {
      runs++;
      s.insert();
    }, c.options());
    assert.equal(runs, 2);
    assert.deepEqual(s.names(), ["commitTransaction", "commitTransaction"]);
    assert.deepEqual(s.sent[1], { commitTransaction: 1 }, "a new transaction's first commit is not a retry");
  });

  test("UnknownTransactionCommitResult retries the commit alone, with w: majority", async () => {
    const timeout = new WriteConcernError("waiting for replication timed out", {
      code: 64,
      codeName: "WriteConcernFailed",
      response: { ok: 1, writeConcernError: { code: 64, errmsg: "timed out" } },
    });
    const s = new FakeSession(timeout, failure(91, "ShutdownInProgress"), failure(91, "ShutdownInProgress"));
    let runs = 0;
    await withTransaction(s, () => {
      runs++;
      s.insert();
    }, clock(120_000).options());
    assert.equal(runs, 1);
    assert.deepEqual(s.sent, [
      { commitTransaction: 1 },
      { commitTransaction: 1, writeConcern: { w: "majority", wtimeout: 10_000 } },
      { commitTransaction: 1, writeConcern: { w: "majority", wtimeout: 10_000 } }, // the driver's own retry
      { commitTransaction: 1, writeConcern: { w: "majority", wtimeout: 10_000 } },
    ]);
  });

  test("MaxTimeMSExpired on commit is not retried, though labeled UnknownTransactionCommitResult", async () => {
    const s = new FakeSession(failure(50, "MaxTimeMSExpired"));
    const e = await rejectsWith(withTransaction(s, () => s.insert(), { maxCommitTimeMS: 1 }), OperationFailure);
    assert.equal(e.code, 50);
    assert.equal(e.hasErrorLabel("UnknownTransactionCommitResult"), true);
    assert.deepEqual(s.names(), ["commitTransaction"]);
    const wce = new WriteConcernError("operation exceeded time limit", {
      code: 50,
      codeName: "MaxTimeMSExpired",
      response: { ok: 1, writeConcernError: { code: 50, errmsg: "x" } },
    });
    const t = new FakeSession(wce);
    assert.equal(await withTransaction(t, () => t.insert()).catch((err) => err), wce);
    assert.deepEqual(t.names(), ["commitTransaction"]);
  });

  test("any other error from the callback aborts the transaction and is thrown as it is", async () => {
    const s = new FakeSession();
    const dup = failure(11000, "DuplicateKey");
    let runs = 0;
    const caught = await withTransaction(s, () => {
      runs++;
      s.insert();
      throw dup;
    }).catch((e) => e);
    assert.equal(caught, dup);
    assert.equal(runs, 1);
    assert.deepEqual(s.names(), ["abortTransaction"]);
    assert.equal(s.transaction.state, "TRANSACTION_ABORTED");
    const plain = new FakeSession();
    const boom = new Error("application bug");
    assert.equal(await withTransaction(plain, () => Promise.reject(boom)).catch((e) => e), boom);
    assert.deepEqual(plain.sent, [], "nothing was sent in the transaction, so no abort command either");
  });

  test("a callback that commits or aborts itself ends withTransaction", async () => {
    const s = new FakeSession();
    assert.equal(
      await withTransaction(s, async () => {
        s.insert();
        await s.abortTransaction();
        return "aborted";
      }),
      "aborted",
    );
    assert.deepEqual(s.names(), ["abortTransaction"]);
    const t = new FakeSession();
    await withTransaction(t, async () => {
      t.insert();
      await t.commitTransaction();
    });
    assert.deepEqual(t.names(), ["commitTransaction"]);
  });

  test("stops retrying once the limit has passed: an OperationTimeoutError keeping the last error and its labels", async () => {
    const s = new FakeSession();
    const c = clock(1000, 0);
    let runs = 0;
    const e = await rejectsWith(
      withTransaction(s, () => {
        runs++;
        c.advance(300);
        s.insert();
        throw failure(112, "WriteConflict", ["TransientTransactionError"]);
      }, c.options()),
      OperationTimeoutError,
    );
    assert.equal(runs, 4, "runs at 300, 600, 900 ms retried; the one ending at 1200 ms is the last");
    assert.equal(e.phase, "withTransaction");
    assert.equal(e.timeoutMS, 1000);
    assert.equal((e.cause as OperationFailure).code, 112);
    assert.equal(e.hasErrorLabel("TransientTransactionError"), true);
    assert.equal(s.transaction.state, "TRANSACTION_ABORTED");
  });

  test("the commit is not retried past the limit either", async () => {
    const unknown = () => new AutoReconnect("reset", { address: "a:1", when: "afterHandshakeCompletes" });
    const s = new FakeSession(unknown(), unknown(), unknown(), unknown());
    const c = clock(0);
    const e = await rejectsWith(withTransaction(s, () => s.insert(), c.options()), OperationTimeoutError);
    assert.ok(e.cause instanceof AutoReconnect);
    assert.equal(e.hasErrorLabel("UnknownTransactionCommitResult"), true);
    assert.deepEqual(s.names(), ["commitTransaction", "commitTransaction"], "one commit, retried once by the driver");
  });

  test("in a transaction already: a TransactionError, the callback not run", async () => {
    const s = new FakeSession();
    s.startTransaction();
    let runs = 0;
    await rejectsWith(withTransaction(s, () => void runs++), TransactionError, /Transaction already in progress/);
    assert.equal(runs, 0);
    assert.equal(s.transaction.state, "STARTING_TRANSACTION");
  });

  test("the signal stops it: the transaction in progress is aborted and the reason thrown", async () => {
    const s = new FakeSession();
    const controller = new AbortController();
    const reason = new Error("request cancelled");
    const caught = await withTransaction(s, () => {
      s.insert();
      controller.abort(reason);
    }, { signal: controller.signal }).catch((e) => e);
    assert.equal(caught, reason);
    assert.deepEqual(s.names(), ["abortTransaction"]);
    const before = new FakeSession();
    const gone = AbortSignal.abort(reason);
    assert.equal(await withTransaction(before, () => before.insert(), { signal: gone }).catch((e) => e), reason);
    assert.equal(before.transaction.state, "NO_TRANSACTION");
  });
});
