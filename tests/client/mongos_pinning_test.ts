// Mongos pinning and the recoveryToken of sharded transactions
// (src/client/mongos_pinning.ts) on a fake cluster of two mongoses whose
// selection takes them in turn, so that any command not pinned moves to the
// other one: the transaction's commands, commit and abort on the mongos of
// its first command; each unpinning rule of the transactions specification;
// the latest recoveryToken on commitTransaction / abortTransaction.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { AutoReconnect, OperationFailure } from "../../src/errors.ts";
import { type ClientConnectionOptions, Connection } from "../../mod.ts";
import type { ClientSession } from "../../src/client/session.ts";
import { pinnedServer } from "../../src/client/mongos_pinning.ts";
import { type Call, fakeCluster, fakeSet, markUnknown, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { rejectsWith } from "../helpers/rejects.ts";

/** A reply per command; in a transaction (autocommit: false) each ok reply carries a new recoveryToken. */
function shardedHandler(failures: Map<string, (call: Call) => Document | Error> = new Map()) {
  let tokens = 0;
  return (call: Call): Document => {
    const name = Object.keys(call.cmd)[0];
    const fail = failures.get(name);
    if (fail !== undefined) {
      failures.delete(name);
      const out = fail(call);
      if (out instanceof Error) throw out;
      return out;
    }
    const reply = okHandler(call);
    if (call.cmd.autocommit === false) reply.recoveryToken = { token: ++tokens, from: call.server };
    return reply;
  };
}

function setup(failures?: Map<string, (call: Call) => Document | Error>) {
  const cluster = fakeCluster(shardedHandler(failures));
  const client = new Connection(
    "m1:27017,m2:27017",
    { [TOPOLOGY_FACTORY]: cluster.topology.factory() } as ClientConnectionOptions,
  );
  const coll = client.db("test").collection("c");
  return { ...cluster, client, coll };
}

/** Where each command ran: `[name, server]`. */
function route(log: Call[]): [string, string][] {
  return log.map((c) => [Object.keys(c.cmd)[0], c.server]);
}

function pinned(session: ClientSession): string | undefined {
  return pinnedServer(session)?.address;
}

function networkError(): AutoReconnect {
  return new AutoReconnect("connection reset by the fake mongos", { address: "m1:27017", when: "afterHandshakeCompletes" });
}

function failure(code: number, codeName: string, labels: string[] = []): OperationFailure {
  const response: Document = { ok: 0, code, codeName, errmsg: codeName, errorLabels: labels };
  return new OperationFailure(codeName, { code, codeName, errorLabels: labels, response });
}

describe("mongos pinning (fake sharded cluster, two mongoses taken in turn)", () => {
  test("every command of a transaction, commit included, goes to the mongos of its first command", async () => {
    const { client, coll, log } = setup();
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const first = log[0].server;
    assert.equal(pinned(session), first, "pinned after the first command");
    await coll.insertOne({ _id: 2 }, { session });
    await coll.findOne({ _id: 1 }, { session });
    await coll.updateOne({ _id: 1 }, { $set: { a: 1 } }, { session });
    await session.commitTransaction();
    assert.deepEqual(route(log), [
      ["insert", first],
      ["insert", first],
      ["find", first],
      ["update", first],
      ["commitTransaction", first],
    ]);
    assert.equal(pinned(session), first, "a successful commit keeps the pin (commit may be called again)");
    await session.commitTransaction();
    assert.deepEqual(route(log).at(-1), ["commitTransaction", first], "the second commit goes to the same mongos");
    await client.close();
  });

  test("the latest recoveryToken goes, unchanged, on commitTransaction; a new transaction starts without one", async () => {
    const { client, coll, log } = setup();
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    await coll.insertOne({ _id: 2 }, { session });
    await session.commitTransaction();
    const commit = log.at(-1)!.cmd;
    assert.deepEqual(commit.recoveryToken, { token: 2, from: log[0].server }, "the second insert's token");
    assert.equal(log[0].cmd.recoveryToken, undefined, "only commit and abort carry it");
    // A transaction with no command: commit sends nothing; the next one's commit carries its own token only.
    session.startTransaction();
    await coll.insertOne({ _id: 3 }, { session });
    await session.abortTransaction();
    const abort = log.at(-1)!;
    assert.equal(Object.keys(abort.cmd)[0], "abortTransaction");
    assert.deepEqual(abort.cmd.recoveryToken, { token: 4, from: log.at(-2)!.server });
    await client.close();
  });

  test("a new transaction unpins: its first command is selected again and pins anew", async () => {
    const { client, coll, log } = setup();
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    await session.commitTransaction();
    const first = log[0].server;
    session.startTransaction();
    assert.equal(pinned(session), undefined, "startTransaction unpins");
    await coll.insertOne({ _id: 2 }, { session });
    const second = log.at(-1)!.server;
    assert.notEqual(second, first, "selected again (the fake takes the mongoses in turn)");
    assert.equal(pinned(session), second);
    await session.commitTransaction();
    assert.equal(log.at(-1)!.server, second);
    await client.close();
  });

  test("an operation outside a transaction unpins the session and is selected as usual", async () => {
    const { client, coll, log } = setup();
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    await session.commitTransaction();
    assert.ok(pinned(session) !== undefined);
    await coll.findOne({}, { session });
    assert.equal(pinned(session), undefined);
    const find = log.at(-1)!;
    assert.equal(find.cmd.autocommit, undefined, "not in the transaction");
    await client.close();
  });

  test("abortTransaction unpins, whether it succeeds, fails or sends nothing", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll, log } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    await session.abortTransaction();
    assert.equal(pinned(session), undefined, "after a successful abort");

    session.startTransaction();
    await coll.insertOne({ _id: 2 }, { session });
    const at = pinned(session);
    failures.set("abortTransaction", () => failure(8, "UnknownError")); // not retryable: errors of abort are ignored
    await session.abortTransaction();
    assert.equal(pinned(session), undefined, "after a failed abort");
    assert.deepEqual(route(log).at(-1), ["abortTransaction", at], "the abort went to the pinned mongos");

    session.startTransaction();
    await coll.insertOne({ _id: 3 }, { session });
    await session.commitTransaction();
    session.startTransaction();
    await session.abortTransaction(); // nothing sent
    assert.equal(pinned(session), undefined, "after an abort that sent nothing");
    await client.close();
  });

  test("a retryable abort error unpins before the retry selects a mongos", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll, log } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const first = pinned(session);
    failures.set("abortTransaction", () => networkError());
    await session.abortTransaction();
    const aborts = log.filter((c) => c.cmd.abortTransaction !== undefined);
    assert.equal(aborts.length, 2, "retried once");
    assert.equal(aborts[0].server, first);
    assert.notEqual(aborts[1].server, first, "the retry was selected (the fake's turn moved on)");
    assert.deepEqual(aborts[1].cmd.recoveryToken, aborts[0].cmd.recoveryToken, "both carry the recoveryToken");
    await client.close();
  });

  test("a TransientTransactionError (network error) in the transaction unpins; abort then selects", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll, log } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    failures.set("insert", () => networkError());
    const error = await rejectsWith(coll.insertOne({ _id: 2 }, { session }), AutoReconnect);
    assert.ok(error.hasErrorLabel("TransientTransactionError"));
    assert.equal(pinned(session), undefined);
    await session.abortTransaction();
    assert.equal(log.filter((c) => c.cmd.abortTransaction !== undefined).length, 1);
    await client.close();
  });

  test("a server error labelled TransientTransactionError unpins; a non-transient one keeps the pin", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const first = pinned(session);
    failures.set("insert", () => failure(11601, "Interrupted"));
    await rejectsWith(coll.insertOne({ _id: 2 }, { session }), OperationFailure);
    assert.equal(pinned(session), first, "Interrupted is not transient: still pinned");
    failures.set("insert", () => failure(251, "NoSuchTransaction", ["TransientTransactionError"]));
    await rejectsWith(coll.insertOne({ _id: 3 }, { session }), OperationFailure);
    assert.equal(pinned(session), undefined);
    await session.abortTransaction();
    await client.close();
  });

  test("commit: a non-transient error keeps the pin; a retryable one unpins before the retry, which carries the token", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll, log } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const first = pinned(session)!;
    failures.set("commitTransaction", () => failure(51, "UnknownReplWriteConcern"));
    await rejectsWith(session.commitTransaction(), OperationFailure);
    assert.equal(pinned(session), first, "no UnknownTransactionCommitResult: still pinned");

    failures.set("commitTransaction", () => networkError());
    await session.commitTransaction(); // the retry succeeds
    const commits = log.filter((c) => c.cmd.commitTransaction !== undefined);
    assert.equal(commits.length, 3);
    assert.equal(commits[1].server, first, "the attempt went to the pinned mongos");
    assert.notEqual(commits[2].server, first, "the retry was selected");
    assert.ok(commits[2].cmd.recoveryToken !== undefined);
    assert.deepEqual(commits[2].cmd.recoveryToken, commits[1].cmd.recoveryToken);
    assert.equal(pinned(session), undefined, "the retried commit does not pin again");
    await client.close();
  });

  test("commit failing with UnknownTransactionCommitResult unpins: calling it again may go to any mongos", async () => {
    const failures = new Map<string, (call: Call) => Document | Error>();
    const { client, coll } = setup(failures);
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    failures.set("commitTransaction", () => failure(50, "MaxTimeMSExpired"));
    const error = await rejectsWith(session.commitTransaction(), OperationFailure);
    assert.ok(error.hasErrorLabel("UnknownTransactionCommitResult"));
    assert.equal(pinned(session), undefined);
    await client.close();
  });

  test("a cursor opened in the transaction runs its getMore on the pinned mongos", async () => {
    let batches = 0;
    const cluster = fakeCluster((call) => {
      const name = Object.keys(call.cmd)[0];
      if (name === "find") {
        return { ok: 1, recoveryToken: { t: 1 }, cursor: { id: 7n, ns: "test.c", firstBatch: [{ _id: 1 }] } };
      }
      if (name === "getMore") {
        batches++;
        return { ok: 1, recoveryToken: { t: 2 }, cursor: { id: batches > 1 ? 0n : 7n, ns: "test.c", nextBatch: [{ _id: 2 }] } };
      }
      return okHandler(call);
    });
    const client = new Connection("m1:27017,m2:27017", {
      [TOPOLOGY_FACTORY]: cluster.topology.factory(),
    } as ClientConnectionOptions);
    await using session = client.startSession();
    session.startTransaction();
    const docs = await client.db("test").collection("c").find({}, { session, batchSize: 1 }).toArray();
    assert.equal(docs.length, 3);
    const where = new Set(cluster.log.map((c) => c.server));
    assert.equal(where.size, 1, `find and getMores on one mongos: ${[...where]}`);
    await session.commitTransaction();
    const commit = cluster.log.at(-1)!;
    assert.equal(commit.server, [...where][0]);
    assert.deepEqual(commit.cmd.recoveryToken, { t: 2 }, "the getMore's token, the latest");
    await client.close();
  });

  test("the pinned mongos gone Unknown (its monitor lost it) still gets the transaction's commands", async () => {
    const { client, coll, log, mongoses } = setup();
    await using session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    const at = mongoses.find((m) => m.address === pinned(session))!;
    markUnknown(at);
    await coll.insertOne({ _id: 2 }, { session });
    await session.commitTransaction();
    assert.deepEqual(route(log).slice(-2), [["insert", at.address], ["commitTransaction", at.address]]);
    await client.close();
  });

  test("endSession unpins", async () => {
    const { client, coll } = setup();
    const session = client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 1 }, { session });
    await session.commitTransaction();
    assert.ok(pinned(session) !== undefined);
    await session.endSession();
    assert.equal(pinned(session), undefined);
    await client.close();
  });

  test("a replica set pins nothing", async () => {
    const set = fakeSet(okHandler);
    set.primary.description = { ...set.primary.description, logicalSessionTimeoutMinutes: 30 };
    const client = new ReplicaSetConnection("a:27017", {
      replicaSet: "foo",
      [TOPOLOGY_FACTORY]: set.topology.factory(),
    } as ClientConnectionOptions);
    await using session = client.startSession();
    session.startTransaction();
    await client.db("test").collection("c").insertOne({ _id: 1 }, { session });
    assert.equal(pinned(session), undefined);
    await session.commitTransaction();
    await client.close();
  });
});
