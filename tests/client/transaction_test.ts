// The transaction state machine (src/client/transaction.ts) on its own: the
// transitions and the specification's error messages, option inheritance,
// what each command of a transaction carries, and commitTransaction /
// abortTransaction with their retry, write concern and error-label rules,
// driven by a command runner that records what it was asked to send and
// answers from a script.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  AutoReconnect,
  ConfigurationError,
  OperationFailure,
  OptionTypeError,
  ServerSelectionError,
  TransactionError,
  WriteConcernError,
} from "../../src/errors.ts";
import type { Document } from "../../src/bson/mod.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { Transaction, type TransactionDefaults } from "../../src/client/transaction.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const CLIENT: TransactionDefaults = {
  readConcern: {},
  writeConcern: {},
  readPreference: ReadPreference.PRIMARY,
};

function networkError(): AutoReconnect {
  return new AutoReconnect("connection reset", {
    address: "a:27017",
    when: "afterHandshakeCompletes",
  });
}

function failure(
  code: number,
  codeName: string,
  labels?: string[],
): OperationFailure {
  const response: Document = { ok: 0, code, codeName, errmsg: codeName };
  if (labels !== undefined) response.errorLabels = labels;
  return new OperationFailure(codeName, {
    code,
    codeName,
    errorLabels: labels,
    response,
  });
}

function wcError(code: number, codeName: string): WriteConcernError {
  return new WriteConcernError(codeName, {
    code,
    codeName,
    response: {
      ok: 1,
      writeConcernError: { code, codeName, errmsg: codeName },
    },
  });
}

/** A runner answering from `script` in order (an Error is thrown, anything else returned); records the commands. */
function runner(...script: (Document | Error)[]) {
  const sent: Document[] = [];
  const run = (command: Document): Promise<Document> => {
    sent.push(command);
    const next = script.shift() ?? { ok: 1 };
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { sent, run };
}

/** A transaction with one command sent (TRANSACTION_IN_PROGRESS). */
function inProgress(
  options: Parameters<Transaction["start"]>[0] = {},
  client = CLIENT,
): Transaction {
  const txn = new Transaction();
  txn.start(options, undefined, client);
  txn.applyToCommand({ insert: "c", documents: [{}] }, 1n);
  return txn;
}

describe("transaction state machine", () => {
  test("start, first command, commit, then the next operation leaves the transaction", async () => {
    const txn = new Transaction();
    assert.equal(txn.state, "NO_TRANSACTION");
    assert.equal(txn.isActive, false);
    txn.start(undefined, undefined, CLIENT);
    assert.equal(txn.state, "STARTING_TRANSACTION");
    assert.equal(txn.isActive, true);
    txn.applyToCommand({ insert: "c", documents: [] }, 1n);
    assert.equal(txn.state, "TRANSACTION_IN_PROGRESS");
    await txn.commit(runner().run);
    assert.equal(txn.state, "TRANSACTION_COMMITTED");
    assert.equal(txn.isActive, false);
    txn.checkOperation({ name: "commitTransaction", kind: "write" });
    assert.equal(
      txn.state,
      "TRANSACTION_COMMITTED",
      "a commit does not leave the committed state",
    );
    txn.checkOperation({ name: "find", kind: "read" });
    assert.equal(txn.state, "NO_TRANSACTION");
  });

  test("a transaction inside a transaction is a TransactionError and changes nothing", () => {
    const txn = new Transaction();
    txn.start({ writeConcern: { w: 1 } }, undefined, CLIENT);
    assert.throws(
      () => txn.start({ writeConcern: { w: 2 } }, undefined, CLIENT),
      (e: unknown) => {
        assert.ok(e instanceof TransactionError);
        assert.match(e.message, /Transaction already in progress/);
        return true;
      },
    );
    assert.equal(txn.state, "STARTING_TRANSACTION");
    assert.deepEqual(txn.options?.writeConcern, { w: 1 });
    txn.applyToCommand({ find: "c" }, 1n);
    assert.throws(
      () => txn.start(undefined, undefined, CLIENT),
      /Transaction already in progress/,
    );
    assert.equal(txn.state, "TRANSACTION_IN_PROGRESS");
  });

  test("commit and abort without a transaction, after each other, and twice", async () => {
    const txn = new Transaction();
    const { sent, run } = runner();
    await rejectsWith(
      txn.commit(run),
      TransactionError,
      /No transaction started/,
    );
    await rejectsWith(
      txn.abort(run),
      TransactionError,
      /No transaction started/,
    );
    txn.start(undefined, undefined, CLIENT);
    await txn.abort(run);
    assert.equal(txn.state, "TRANSACTION_ABORTED");
    await rejectsWith(
      txn.abort(run),
      TransactionError,
      /Cannot call abortTransaction twice/,
    );
    await rejectsWith(
      txn.commit(run),
      TransactionError,
      /Cannot call commitTransaction after calling abortTransaction/,
    );
    txn.start(undefined, undefined, CLIENT);
    await txn.commit(run);
    await rejectsWith(
      txn.abort(run),
      TransactionError,
      /Cannot call abortTransaction after calling commitTransaction/,
    );
    assert.equal(txn.state, "TRANSACTION_COMMITTED");
    assert.equal(
      sent.length,
      0,
      "a transaction without commands sends no commit or abort",
    );
    await txn.commit(run);
    assert.equal(
      sent.length,
      0,
      "committing a commandless transaction again sends nothing either",
    );
  });

  test("an unacknowledged write concern, given or inherited, is refused before the transaction starts", () => {
    const txn = new Transaction();
    assert.throws(
      () => txn.start({ writeConcern: { w: 0 } }, undefined, CLIENT),
      (e: unknown) =>
        e instanceof TransactionError &&
        /transactions do not support unacknowledged write concern/.test(
          e.message,
        ),
    );
    assert.throws(
      () => txn.start(undefined, undefined, { ...CLIENT, writeConcern: { w: 0 } }),
      /transactions do not support unacknowledged write concern/,
    );
    assert.equal(txn.state, "NO_TRANSACTION");
    txn.start({ writeConcern: { w: 1 } }, undefined, {
      ...CLIENT,
      writeConcern: { w: 0 },
    });
    assert.equal(txn.state, "STARTING_TRANSACTION");
  });

  test("options: own, else the session's defaults, else the client's; bad ones are ConfigurationErrors (OptionTypeErrors for a wrong type)", () => {
    const client: TransactionDefaults = {
      readConcern: { level: "local" },
      writeConcern: { w: 1 },
      readPreference: ReadPreference.from("nearest"),
    };
    const txn = new Transaction();
    txn.start({ readConcern: { level: "snapshot" } }, {
      writeConcern: { w: "majority" },
      maxCommitTimeMS: 5,
    }, client);
    assert.deepEqual(txn.options?.readConcern, { level: "snapshot" });
    assert.deepEqual(txn.options?.writeConcern, { w: "majority" });
    assert.equal(txn.options?.readPreference.mode, "nearest");
    assert.equal(txn.options?.maxCommitTimeMS, 5);
    const other = new Transaction();
    assert.throws(
      () => other.start({ maxCommitTimeMS: -1 }, undefined, client),
      ConfigurationError,
    );
    assert.throws(
      () => other.start({ writeconcern: { w: 1 } } as never, undefined, client),
      /unknown option "writeconcern"/,
    );
    assert.throws(
      () => other.start(undefined, { readConcern: "majority" } as never, client),
      OptionTypeError,
    );
    assert.equal(other.state, "NO_TRANSACTION");
  });
});

describe("commands in a transaction", () => {
  test("the first carries startTransaction and the transaction's readConcern; the others neither", () => {
    const txn = new Transaction();
    txn.start({ readConcern: { level: "snapshot" } }, undefined, CLIENT);
    const inherited = {
      insert: "c",
      documents: [{}],
      readConcern: { level: "local" },
      writeConcern: { w: 1 },
    };
    const first = txn.applyToCommand(inherited, 7n);
    assert.deepEqual(first, {
      insert: "c",
      documents: [{}],
      readConcern: { level: "snapshot" },
      txnNumber: 7n,
      autocommit: false,
      startTransaction: true,
    });
    assert.equal(
      inherited.readConcern.level,
      "local",
      "the caller's document is not modified",
    );
    const second = txn.applyToCommand({
      find: "c",
      readConcern: { level: "majority" },
      writeConcern: { w: 2 },
    }, 7n);
    assert.deepEqual(second, { find: "c", txnNumber: 7n, autocommit: false });
  });

  test("the server's default readConcern is not sent; outside a transaction nothing changes", () => {
    const txn = new Transaction();
    const plain = { find: "c", readConcern: { level: "local" } };
    assert.equal(txn.applyToCommand(plain, 1n), plain);
    txn.start(undefined, undefined, CLIENT);
    assert.deepEqual(txn.applyToCommand({ find: "c" }, 1n), {
      find: "c",
      txnNumber: 1n,
      autocommit: false,
      startTransaction: true,
    });
  });

  test("reads must be primary; readConcern and writeConcern on an operation are refused", () => {
    const txn = new Transaction();
    txn.start({ readPreference: "secondary" }, undefined, CLIENT);
    assert.throws(
      () => txn.checkOperation({ name: "find", kind: "read" }),
      (e: unknown) =>
        e instanceof TransactionError &&
        /read preference in a transaction must be primary/.test(e.message),
    );
    txn.checkOperation({ name: "insert", kind: "write" }); // writes are not checked
    txn.checkOperation({
      name: "find",
      kind: "read",
      readPreference: ReadPreference.PRIMARY,
    });
    assert.throws(
      () =>
        txn.checkOperation({
          name: "insert",
          kind: "write",
          explicitWriteConcern: true,
        }),
      /Cannot set write concern after starting a transaction/,
    );
    assert.throws(
      () =>
        txn.checkOperation({
          name: "find",
          kind: "read",
          readPreference: ReadPreference.PRIMARY,
          explicitReadConcern: true,
        }),
      /Cannot set read concern after starting a transaction/,
    );
    assert.equal(
      txn.state,
      "STARTING_TRANSACTION",
      "client-side errors do not change the state",
    );
    const none = new Transaction();
    none.checkOperation({
      name: "find",
      kind: "read",
      readPreference: ReadPreference.from("secondary"),
      explicitWriteConcern: true,
    });
  });

  test("network and selection errors in a transaction are TransientTransactionErrors, except on commit", () => {
    const txn = inProgress();
    const net = networkError();
    txn.labelError(net, "insert");
    assert.equal(net.hasErrorLabel("TransientTransactionError"), true);
    const selection = new ServerSelectionError("no primary");
    txn.labelError(selection, "find");
    assert.equal(selection.hasErrorLabel("TransientTransactionError"), true);
    const server = failure(11000, "DuplicateKey");
    txn.labelError(server, "insert");
    assert.deepEqual(server.errorLabels, []);
    const onCommit = networkError();
    txn.labelError(onCommit, "commitTransaction");
    assert.deepEqual(onCommit.errorLabels, []);
    const outside = networkError();
    new Transaction().labelError(outside, "insert");
    assert.deepEqual(outside.errorLabels, []);
  });
});

describe("commitTransaction", () => {
  test("sends the transaction's writeConcern and maxCommitTimeMS; a second commit uses w: majority", async () => {
    const txn = inProgress({ writeConcern: { w: 2 }, maxCommitTimeMS: 60 });
    const { sent, run } = runner();
    await txn.commit(run);
    await txn.commit(run);
    assert.deepEqual(sent, [
      { commitTransaction: 1, writeConcern: { w: 2 }, maxTimeMS: 60 },
      {
        commitTransaction: 1,
        writeConcern: { w: "majority", wtimeout: 10_000 },
        maxTimeMS: 60,
      },
    ]);
    const decorated = txn.applyToCommand(sent[0], 1n);
    assert.deepEqual(
      decorated.writeConcern,
      { w: 2 },
      "commit keeps its write concern",
    );
    assert.equal(decorated.autocommit, false);
    assert.equal(decorated.startTransaction, undefined);
  });

  test("a retry keeps the transaction's wtimeout and j", async () => {
    const txn = inProgress({ writeConcern: { w: 1, j: true, wtimeout: 300 } });
    const { sent, run } = runner(networkError());
    await txn.commit(run);
    assert.deepEqual(sent.map((c) => c.writeConcern), [{
      w: 1,
      j: true,
      wtimeout: 300,
    }, {
      w: "majority",
      j: true,
      wtimeout: 300,
    }]);
  });

  test("retried once after a network error; twice failing is UnknownTransactionCommitResult + RetryableWriteError", async () => {
    const txn = inProgress();
    const { sent, run } = runner(networkError(), networkError());
    const e = await rejectsWith(txn.commit(run), AutoReconnect);
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1].writeConcern, { w: "majority", wtimeout: 10_000 });
    assert.equal(e.hasErrorLabel("UnknownTransactionCommitResult"), true);
    assert.equal(e.hasErrorLabel("RetryableWriteError"), true);
    assert.equal(e.hasErrorLabel("TransientTransactionError"), false);
    assert.equal(txn.state, "TRANSACTION_COMMITTED");
    await txn.commit(runner().run); // the application may commit again
  });

  test("retried on a retryable code or label; not on Interrupted or UnsatisfiableWriteConcern", async () => {
    for (
      const [error, attempts] of [
        [failure(91, "ShutdownInProgress"), 2],
        [failure(11601, "Interrupted"), 1],
        [failure(10107, "NotWritablePrimary", []), 1],
        [failure(64, "WriteConcernFailed", ["RetryableWriteError"]), 2],
        [wcError(100, "UnsatisfiableWriteConcern"), 1],
      ] as const
    ) {
      const txn = inProgress();
      const { sent, run } = runner(error, error);
      await assert.rejects(txn.commit(run));
      assert.equal(sent.length, attempts, `${error.message}: attempts`);
    }
  });

  test("labels: UnknownTransactionCommitResult on write concern failures and MaxTimeMSExpired only", async () => {
    const cases: [Error, boolean][] = [
      [wcError(64, "WriteConcernFailed"), true],
      [wcError(50, "MaxTimeMSExpired"), true],
      [failure(50, "MaxTimeMSExpired"), true],
      [wcError(100, "UnsatisfiableWriteConcern"), false],
      [wcError(79, "UnknownReplWriteConcern"), false],
      [failure(251, "NoSuchTransaction", ["TransientTransactionError"]), false],
      [failure(11601, "Interrupted"), false],
      [new ServerSelectionError("no primary"), true],
    ];
    for (const [error, unknown] of cases) {
      const txn = inProgress();
      const caught = await rejectsWith(
        txn.commit(runner(error, error).run),
        Error,
      );
      assert.equal(
        (caught as OperationFailure).hasErrorLabel(
          "UnknownTransactionCommitResult",
        ),
        unknown,
        `${caught.message}`,
      );
    }
  });
});

describe("abortTransaction", () => {
  test("sends the transaction's writeConcern; errors are ignored; retried once after a retryable error", async () => {
    const txn = inProgress({ writeConcern: { w: "majority" } });
    const { sent, run } = runner(
      networkError(),
      networkError(),
      networkError(),
    );
    await txn.abort(run);
    assert.equal(txn.state, "TRANSACTION_ABORTED");
    assert.deepEqual(sent, [
      { abortTransaction: 1, writeConcern: { w: "majority" } },
      { abortTransaction: 1, writeConcern: { w: "majority" } },
    ]);
    const other = inProgress();
    const interrupted = runner(failure(11601, "Interrupted"));
    await other.abort(interrupted.run);
    assert.equal(interrupted.sent.length, 1);
    assert.deepEqual(interrupted.sent[0], { abortTransaction: 1 });
  });
});
