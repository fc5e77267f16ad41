// The change streams specification's rules, on a fake topology whose replies
// are scripted: the commands watch() sends (collection, database, client);
// which resume token is kept (a change's _id mid-batch, the
// postBatchResumeToken at a batch's end or on an empty batch); what a resume
// sends (startAfter before the first change of a startAfter stream, else
// resumeAfter; startAtOperationTime from the first aggregate's operationTime
// when there is no token); resumable errors by label on wire 9+, by code
// below; a change without _id; the read concern the aggregate takes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, Timestamp } from "../../src/bson/mod.ts";
import { ChangeStreamError, NetworkTimeout, OperationFailure } from "../../src/errors.ts";
import { type ClientConnectionOptions, ReplicaSetConnection } from "../../src/client/mod.ts";
import { type Call, fakeSet, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

type Reply = Document | Error;

/** A server whose aggregate and getMore replies come from scripts, in order; killCursors is ok. */
function scripted(aggregates: Reply[], getMores: Reply[], wire = 17) {
  const handler = (call: Call): Document => {
    const name = Object.keys(call.cmd)[0];
    const next = name === "aggregate" ? aggregates.shift() : name === "getMore" ? getMores.shift() : { ok: 1 };
    if (next === undefined) throw new Error(`unscripted ${name}`);
    if (next instanceof Error) throw next;
    return next;
  };
  const set = fakeSet(handler, { wire });
  const client = new ReplicaSetConnection(
    "a:27017",
    { replicaSet: "foo", [TOPOLOGY_FACTORY]: set.topology.factory() } as ClientConnectionOptions,
  );
  const sent = (name: string) => set.log.filter((c) => Object.keys(c.cmd)[0] === name).map((c) => c.cmd);
  return { client, log: set.log, sent };
}

const tok = (n: number) => ({ _data: `T${n}` });
const change = (n: number) => ({ _id: tok(n), operationType: "insert", documentKey: { _id: n } });
const first = (batch: Document[], pbrt?: Document, extra: Document = {}, ns = "db.coll") => ({
  ok: 1,
  cursor: { id: 7n, ns, firstBatch: batch, ...(pbrt ? { postBatchResumeToken: pbrt } : {}) },
  ...extra,
});
const more = (batch: Document[], pbrt?: Document) => ({
  ok: 1,
  cursor: { id: 7n, ns: "db.coll", nextBatch: batch, ...(pbrt ? { postBatchResumeToken: pbrt } : {}) },
});
const resumable = () =>
  new OperationFailure("not primary", {
    code: 10107,
    errorLabels: ["ResumableChangeStreamError"],
    response: { ok: 0, code: 10107 },
  });
const stageOf = (cmd: Document) => (cmd.pipeline as Document[])[0].$changeStream as Document;

describe("change stream commands", () => {
  test("collection, database and client streams send the aggregate the specification shows", async () => {
    const { client, sent, log } = scripted(
      [first([], tok(0)), first([], tok(0), {}, "db.$cmd.aggregate"), first([], tok(0), {}, "admin.$cmd.aggregate")],
      [{ ok: 1, cursor: { id: 7n, ns: "db.$cmd.aggregate", nextBatch: [] } }],
    );
    const coll = client.db("db").collection("coll");
    await (await coll.watch([{ $match: { x: 1 } }], { batchSize: 5, fullDocument: "updateLookup", comment: "c" }).start()).close();
    const dbStream = await client.db("db").watch([], { maxAwaitTimeMS: 20 }).start();
    await dbStream.tryNext();
    await dbStream.close();
    await (await client.watch().start()).close();
    const [a, b, c] = sent("aggregate");
    assert.deepEqual(a, {
      aggregate: "coll",
      pipeline: [{ $changeStream: { fullDocument: "updateLookup" } }, { $match: { x: 1 } }],
      cursor: { batchSize: 5 },
      comment: "c",
    });
    assert.deepEqual(b, { aggregate: 1, pipeline: [{ $changeStream: {} }], cursor: {} });
    assert.deepEqual(c, { aggregate: 1, pipeline: [{ $changeStream: { allChangesForCluster: true } }], cursor: {} });
    assert.deepEqual(log.filter((x) => x.cmd.aggregate !== undefined).map((x) => x.db), ["db", "db", "admin"]);
    const getMore = sent("getMore")[0];
    assert.equal(getMore.collection, "$cmd.aggregate");
    assert.equal(getMore.maxTimeMS, 20, "maxAwaitTimeMS is each getMore's maxTimeMS");
    await client.close();
  });
});

describe("change stream read concern", () => {
  test("the aggregate takes the collection's, database's or client's read concern; none when it is the default", async () => {
    const { client, sent } = scripted([first([], tok(0)), first([], tok(0), {}, "db.$cmd.aggregate"), first([], tok(0))], []);
    const coll = client.db("db").collection("coll", { readConcern: { level: "majority" } });
    await (await coll.watch().start()).close();
    await (await client.db("db", { readConcern: { level: "local" } }).watch().start()).close();
    await (await client.db("db").collection("coll").watch().start()).close();
    assert.deepEqual(sent("aggregate").map((cmd) => cmd.readConcern), [{ level: "majority" }, { level: "local" }, undefined]);
    await client.close();
  });
});

describe("the resume token", () => {
  test("mid-batch the change's _id; at a batch's end, and on an empty batch, the postBatchResumeToken", async () => {
    const { client } = scripted([first([change(1), change(2)], tok(20))], [more([], tok(30)), more([change(3)], tok(40))]);
    const stream = await client.db("db").collection("coll").watch().start();
    assert.equal(stream.resumeToken, null, "a non-empty first batch sets nothing yet");
    await stream.next();
    assert.deepEqual(stream.resumeToken, tok(1));
    await stream.next();
    assert.deepEqual(stream.resumeToken, tok(20), "the last of its batch: the batch's token");
    assert.equal(await stream.tryNext(), null);
    assert.deepEqual(stream.resumeToken, tok(30), "an empty batch's token");
    await stream.next();
    assert.deepEqual(stream.resumeToken, tok(40));
    await stream.close();
    await client.close();
  });

  test("a change without _id is a ChangeStreamError (280) and closes the stream", async () => {
    const { client, sent } = scripted([first([{ operationType: "insert" }])], []);
    const stream = client.db("db").collection("coll").watch([{ $project: { _id: 0 } }]);
    await assert.rejects(stream.next(), (e: unknown) => e instanceof ChangeStreamError && e.code === 280);
    assert.equal(stream.closed, true);
    await client.close();
    assert.equal(sent("killCursors").length, 1, "its server cursor was killed");
  });
});

describe("resuming", () => {
  test("startAfter before any change is returned, resumeAfter after one", async () => {
    const { client, sent } = scripted(
      [first([], tok(5)), first([change(6)]), first([])],
      [resumable(), resumable()],
    );
    const stream = await client.db("db").collection("coll").watch([], { startAfter: tok(1) }).start();
    assert.deepEqual((await stream.next())?._id, tok(6));
    await stream.tryNext(); // fails resumably: reopened
    const [a, b, c] = sent("aggregate").map(stageOf);
    assert.deepEqual(a, { startAfter: tok(1) });
    assert.deepEqual(b, { startAfter: tok(5) }, "nothing returned yet: startAfter the cached token");
    assert.deepEqual(c, { resumeAfter: tok(6) }, "after a change: resumeAfter");
    await stream.close();
    await client.close();
  });

  test("no token: startAtOperationTime from the first aggregate's operationTime; a given one is kept", async () => {
    const opTime = new Timestamp({ t: 100, i: 1 });
    const { client, sent } = scripted([first([], undefined, { operationTime: opTime }), first([])], [resumable()]);
    const stream = await client.db("db").collection("coll").watch().start();
    await stream.tryNext();
    assert.deepEqual(sent("aggregate").map(stageOf), [{}, { startAtOperationTime: opTime }]);
    await stream.close();
    await client.close();

    const given = new Timestamp({ t: 50, i: 0 });
    const s2 = scripted([first([], undefined, { operationTime: opTime }), first([])], [resumable()]);
    const again = await s2.client.db("db").collection("coll").watch([], { startAtOperationTime: given }).start();
    await again.tryNext();
    assert.deepEqual(s2.sent("aggregate").map(stageOf), [{ startAtOperationTime: given }, { startAtOperationTime: given }]);
    await again.close();
    await s2.client.close();
  });

  test("wire 9+: resumable by the label only; below 9 by code; network errors and CursorNotFound always", async () => {
    const unlabelled = () => new OperationFailure("host unreachable", { code: 6, response: { ok: 0, code: 6 } });
    const modern = scripted([first([], tok(1))], [unlabelled()], 17);
    const s1 = await modern.client.db("db").collection("coll").watch().start();
    await assert.rejects(s1.next(), (e: unknown) => e instanceof OperationFailure && e.code === 6);
    assert.equal(modern.sent("aggregate").length, 1, "not resumed");
    await modern.client.close();

    const old = scripted([first([], tok(1)), first([change(2)])], [unlabelled()], 8);
    const s2 = await old.client.db("db").collection("coll").watch().start();
    assert.deepEqual((await s2.next())?._id, tok(2));
    assert.deepEqual(stageOf(old.sent("aggregate")[1]), { resumeAfter: tok(1) });
    await s2.close();
    await old.client.close();

    const network = new NetworkTimeout("timed out", { address: "a:27017", when: "afterHandshakeCompletes" });
    const notFound = new OperationFailure("cursor not found", { code: 43, response: { ok: 0, code: 43 } });
    const both = scripted([first([], tok(1)), first([], tok(1)), first([change(2)])], [network, notFound], 17);
    const s3 = await both.client.db("db").collection("coll").watch().start();
    assert.deepEqual((await s3.next())?._id, tok(2));
    assert.equal(both.sent("aggregate").length, 3, "each resumable getMore error after a successful aggregate resumes");
    await s3.close();
    await both.client.close();
  });

  test("an error of the aggregate is not resumed: it surfaces and closes the stream", async () => {
    // 234 RetryChangeStream: labelled resumable, but no retryable read code (the aggregate is not retried either).
    const failure = new OperationFailure("retry", {
      code: 234,
      errorLabels: ["ResumableChangeStreamError"],
      response: { ok: 0, code: 234 },
    });
    const { client, sent } = scripted([failure], []);
    const stream = client.db("db").collection("coll").watch();
    await assert.rejects(stream.start(), (e: unknown) => e instanceof OperationFailure && e.code === 234);
    assert.equal(stream.closed, true);
    assert.equal(sent("aggregate").length, 1);
    await client.close();
  });
});

describe("timeouts", () => {
  test("an inherited timeoutMS bounds each round trip, not the stream's life", async () => {
    const { client, sent } = scripted([first([], tok(0))], [more([], tok(1)), more([], tok(2)), more([change(3)])]);
    const coll = client.db("db").collection("coll", { timeoutMS: 60 });
    const stream = await coll.watch().start();
    assert.equal(sent("aggregate")[0].maxTimeMS, undefined, "no maxTimeMS on the aggregate: the iteration mode (a lifetime deadline would send one)");
    assert.deepEqual((await stream.next())?._id, tok(3));
    await stream.close();
    await client.close();
  });
});
