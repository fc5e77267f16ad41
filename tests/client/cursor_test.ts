// Cursors with a fake topology: find/aggregate bodies, getMore and
// killCursors on the same server, closing on break, limits, the legacy
// OP_QUERY path for servers below wire 4, and retryReads.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { OP_REPLY, type OpReply } from "../../src/wire/mod.ts";
import { AutoReconnect, MongoError, NetworkTimeout, OperationFailure } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { type ClientConnectionOptions, ReplicaSetConnection } from "../../src/client/mod.ts";
import { type Call, fakeSet, type Handler, markUnknown, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

function setup(handler: Handler, options: ClientConnectionOptions = {}, wire = 17) {
  const set = fakeSet(handler, { wire });
  const client = new ReplicaSetConnection(
    "a:27017",
    { replicaSet: "foo", ...options, [TOPOLOGY_FACTORY]: set.topology.factory() } as ClientConnectionOptions,
  );
  return { client, coll: client.db("test").collection<{ _id: number }>("people"), ...set };
}

/** A server-side cursor over `total` documents {_id: i}, served in batches. */
function cursorServer(total: number, defaultBatch = 101): Handler {
  let next = 0;
  const batch = (size: number) => {
    const docs: Document[] = [];
    while (docs.length < size && next < total) docs.push({ _id: next++ });
    return docs;
  };
  return (call: Call) => {
    const name = Object.keys(call.cmd)[0];
    if (name === "find" || name === "aggregate") {
      next = 0;
      const size = (call.cmd.batchSize as number | undefined) ??
        ((call.cmd.cursor as Document | undefined)?.batchSize as number | undefined) ?? defaultBatch;
      const limit = (call.cmd.limit as number | undefined) ?? 0;
      const docs = batch(limit > 0 ? Math.min(size, limit) : size);
      const done = next >= total || call.cmd.singleBatch === true || (limit > 0 && next >= limit);
      return { ok: 1, cursor: { id: done ? 0n : 99n, ns: "test.people", firstBatch: docs } };
    }
    if (name === "getMore") {
      const docs = batch((call.cmd.batchSize as number | undefined) ?? defaultBatch);
      return { ok: 1, cursor: { id: next >= total ? 0n : 99n, ns: "test.people", nextBatch: docs } };
    }
    if (name === "killCursors") return { ok: 1, cursorsKilled: call.cmd.cursors };
    return { ok: 1 };
  };
}

describe("find", () => {
  test("the find command carries filter, sort, projection, skip, limit, batchSize, hint, comment", async () => {
    const { coll, log } = setup(cursorServer(0));
    await coll.find({ a: 1 }, { hint: { a: 1 }, comment: "c", maxTimeMS: 50 })
      .sort({ b: -1 }).project({ a: 1 }).skip(2).limit(10).batchSize(5).toArray();
    assert.deepEqual(log[0].cmd, {
      find: "people",
      filter: { a: 1 },
      sort: { b: -1 },
      projection: { a: 1 },
      hint: { a: 1 },
      skip: 2,
      limit: 10,
      batchSize: 5,
      maxTimeMS: 50,
      comment: "c",
    });
    assert.equal(log[0].via, "command");
    assert.equal(log[0].options.operation, "read");
  });

  test("getMore goes to the same server with the cursor id, collection and batch size; toArray reads all", async () => {
    const { coll, log } = setup(cursorServer(7), { readPreference: ReadPreference.SECONDARY_ONLY });
    const docs = await coll.find({}).batchSize(3).toArray();
    assert.deepEqual(docs.map((d) => d._id), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(log.length, 3);
    assert.deepEqual(log[1].cmd, { getMore: 99n, collection: "people", batchSize: 3 });
    assert.equal(log[1].db, "test");
    assert.equal(log[1].via, "conn");
    assert.ok(log.every((c) => c.server === log[0].server), "every round trip on the first server");
    assert.notEqual(log[0].server, "a:27017", "SECONDARY_ONLY never reads the primary");
  });

  test("breaking out of for await kills the server cursor", async () => {
    const { coll, log } = setup(cursorServer(10, 2));
    const seen: number[] = [];
    for await (const doc of coll.find({})) {
      seen.push(doc._id as number);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, [0, 1, 2]);
    const kill = log[log.length - 1];
    assert.deepEqual(kill.cmd, { killCursors: "people", cursors: [99n] });
    assert.equal(kill.server, log[0].server);
  });

  test("close() before the end kills the cursor once; an exhausted cursor kills nothing", async () => {
    const { coll, log } = setup(cursorServer(10, 4));
    const cursor = coll.find({});
    assert.equal((await cursor.next())?._id, 0);
    assert.equal(cursor.id, 99n);
    await cursor.close();
    await cursor.close();
    assert.equal(log.filter((c) => Object.keys(c.cmd)[0] === "killCursors").length, 1);
    assert.equal(await cursor.next(), null);
    assert.throws(() => cursor.limit(1), MongoError);

    log.length = 0;
    const all = coll.find({});
    for await (const _ of all) { /* read to the end */ }
    assert.equal(log.some((c) => Object.keys(c.cmd)[0] === "killCursors"), false);
    assert.equal(all.closed, true);
  });

  test("a limit is kept exactly and caps getMore's batch size", async () => {
    const { coll, log } = setup(cursorServer(100, 4));
    const docs = await coll.find({}).batchSize(4).limit(6).toArray();
    assert.equal(docs.length, 6);
    assert.deepEqual(log[1].cmd, { getMore: 99n, collection: "people", batchSize: 2 });
  });

  test("findOne sends limit 1 and singleBatch, and returns null when nothing matches", async () => {
    const { coll, log } = setup(cursorServer(3));
    assert.deepEqual(await coll.findOne({ a: 1 }), { _id: 0 });
    assert.deepEqual(log[0].cmd, { find: "people", filter: { a: 1 }, limit: 1, singleBatch: true });
    const empty = setup(cursorServer(0));
    assert.equal(await empty.coll.findOne(), null);
  });

  test("next() and hasNext() walk the cursor", async () => {
    const { coll } = setup(cursorServer(3, 2));
    const cursor = coll.find();
    const seen: number[] = [];
    while (await cursor.hasNext()) seen.push((await cursor.next())!._id);
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(await cursor.next(), null);
  });
});

describe("aggregate", () => {
  test("sends pipeline and cursor batchSize; getMore follows", async () => {
    const { coll, log } = setup(cursorServer(5, 2));
    const docs = await coll.aggregate([{ $match: {} }], { batchSize: 2, allowDiskUse: true }).toArray();
    assert.equal(docs.length, 5);
    assert.deepEqual(log[0].cmd, {
      aggregate: "people",
      pipeline: [{ $match: {} }],
      cursor: { batchSize: 2 },
      allowDiskUse: true,
    });
    assert.equal(Object.keys(log[1].cmd)[0], "getMore");
  });

  test("a $out pipeline is a write with the write concern, on a secondary when its read preference says so and every server is 5.0+", async () => {
    for (const [wire, server, mode] of [[13, "b:27017", "secondaryPreferred"], [9, "a:27017", "primary"]] as const) {
      const { client, log, topology } = setup(cursorServer(0), {
        readPreference: ReadPreference.SECONDARY,
        writeConcern: { w: "majority" },
      }, wire);
      await client.db("test").collection("people").aggregate([{ $match: {} }, { $out: "copy" }]).toArray();
      assert.equal(log[0].server, server, `wire ${wire}`);
      assert.equal(log[0].options.operation, "read", `wire ${wire}: selected and sent as a read, with the primary below 5.0`);
      assert.equal((log[0].options.readPreference as ReadPreference).mode, mode, `wire ${wire}: sent with the read preference used`);
      assert.deepEqual(log[0].cmd.writeConcern, { w: "majority" });
      assert.equal(topology.selections[0].selector.writeStage, true);
    }
  });

  test("a $merge pipeline without a read preference goes to the primary", async () => {
    const { client, log } = setup(cursorServer(0), {}, 21);
    await client.db("test").collection("people").aggregate([{ $merge: { into: "copy" } }]).toArray();
    assert.equal(log[0].server, "a:27017");
  });
});

describe("legacy OP_QUERY (wire < 4)", () => {
  test("find is an OP_QUERY on the collection; getMore and killCursors are legacy opcodes", async () => {
    let next = 0;
    const reply = (docs: Document[], id: bigint): OpReply => ({
      opCode: OP_REPLY,
      requestId: 0,
      responseTo: 0,
      responseFlags: 0,
      cursorId: id,
      startingFrom: 0,
      documents: docs,
    });
    const { coll, log } = setup(
      (call) => {
        const docs: Document[] = [];
        if (call.via === "query") {
          next = 0;
          for (let i = 0; i < 2; i++) docs.push({ _id: next++ });
          return reply(docs, 5n);
        }
        if (call.via === "getMore") {
          for (let i = 0; i < 2; i++) docs.push({ _id: next++ });
          return reply(docs, 5n);
        }
        return { ok: 1 };
      },
      { readPreference: ReadPreference.SECONDARY },
      3,
    );
    const cursor = coll.find({ a: 1 }).sort({ b: 1 }).project({ b: 1 }).skip(3).batchSize(2);
    const seen: number[] = [];
    for await (const doc of cursor) {
      seen.push(doc._id as number);
      if (seen.length === 3) break;
    }
    assert.equal(log[0].via, "query");
    assert.equal(log[0].db, "test.people");
    assert.deepEqual(log[0].cmd, { $query: { a: 1 }, $orderby: { b: 1 } });
    assert.equal(log[0].options.skip, 3);
    assert.equal(log[0].options.numberToReturn, 2);
    assert.equal(log[0].options.secondaryOk, true);
    assert.deepEqual(log[0].options.fields, { b: 1 });
    assert.equal(log[1].via, "getMore");
    assert.deepEqual(log[1].cmd, { cursorId: 5n, numberToReturn: 2 });
    assert.equal(log[2].via, "killCursors");
    assert.deepEqual(log[2].cmd, { cursorIds: [5n] });
  });

  test("a primary read does not set secondaryOk; findOne asks for one document (-1)", async () => {
    const { coll, log } = setup(
      () =>
        ({
          opCode: OP_REPLY,
          requestId: 0,
          responseTo: 0,
          responseFlags: 0,
          cursorId: 0n,
          startingFrom: 0,
          documents: [{ _id: 1 }],
        }) satisfies OpReply,
      {},
      3,
    );
    assert.deepEqual(await coll.findOne({}), { _id: 1 });
    assert.equal(log[0].options.secondaryOk, false);
    assert.equal(log[0].options.numberToReturn, -1);
    assert.deepEqual(log[0].cmd, {});
  });
});

describe("retryReads", () => {
  const reset = () =>
    new AutoReconnect("connection reset; the operation may or may not have happened", { address: "x" });

  test("a read that hits AutoReconnect is retried once on a newly selected server", async () => {
    let failures = 1;
    const { coll, log, topology, secondaries } = setup((call) => {
      if (failures > 0 && call.server === secondaries[0].address) {
        failures--;
        markUnknown(secondaries[0]);
        throw reset();
      }
      return { ok: 1, cursor: { id: 0n, ns: "test.people", firstBatch: [{ _id: 1 }] } };
    }, { readPreference: ReadPreference.SECONDARY_ONLY });
    assert.deepEqual(await coll.findOne(), { _id: 1 });
    assert.equal(log.length, 2);
    assert.equal(log[0].server, "b:27017");
    assert.equal(log[1].server, "c:27017");
    assert.deepEqual(topology.selections[1].deprioritized, ["b:27017"]);
  });

  test("a socket timeout (NetworkTimeout, with or without a phase) is retried once too", async () => {
    for (const when of [undefined, "afterHandshakeCompletes"] as const) {
      let failures = 1;
      const { coll, log } = setup(() => {
        if (failures-- > 0) throw new NetworkTimeout("timed out after socketTimeoutMS", { address: "b:27017", when });
        return { ok: 1, cursor: { id: 0n, ns: "test.people", firstBatch: [{ _id: 2 }] } };
      }, { readPreference: ReadPreference.SECONDARY_ONLY });
      assert.deepEqual(await coll.findOne(), { _id: 2 }, `when: ${when}`);
      assert.equal(log.length, 2, `when: ${when}: one retry`);
    }
  });

  test("only once: a second failure reaches the caller", async () => {
    const { coll, log } = setup(() => {
      throw reset();
    });
    await assert.rejects(coll.findOne(), AutoReconnect);
    assert.equal(log.length, 2);
    await assert.rejects(coll.countDocuments(), AutoReconnect);
    assert.equal(log.length, 4);
  });

  test("retryReads: false shows the guide's behaviour: the AutoReconnect reaches the caller", async () => {
    const { coll, log } = setup(() => {
      throw reset();
    }, { retryReads: false });
    await assert.rejects(coll.findOne(), AutoReconnect);
    assert.equal(log.length, 1);
  });

  test("not retried: generic commands, non-retryable errors, pre-3.6 servers", async () => {
    const a = setup(() => {
      throw reset();
    });
    await assert.rejects(a.client.admin.command("ping"), AutoReconnect);
    assert.equal(a.log.length, 1);
    const b = setup(() => {
      throw new OperationFailure("bad query", { code: 2, response: { ok: 0, code: 2 } });
    });
    await assert.rejects(b.coll.findOne(), OperationFailure);
    assert.equal(b.log.length, 1);
    const c = setup(
      () => {
        throw reset();
      },
      {},
      5,
    );
    await assert.rejects(c.coll.aggregate([]).toArray(), AutoReconnect);
    assert.equal(c.log.length, 1);
    const d = setup((call) => {
      if (Object.keys(call.cmd)[0] === "getMore") throw reset();
      return { ok: 1, cursor: { id: 9n, ns: "test.people", firstBatch: [{ _id: 0 }] } };
    });
    const cursor = d.coll.find();
    await cursor.next();
    await assert.rejects(cursor.next(), AutoReconnect);
    assert.equal(d.log.filter((call) => Object.keys(call.cmd)[0] === "getMore").length, 1, "getMore is not retried");
    assert.equal(cursor.closed, true);
  });

  test("a retryable server error code is retried", async () => {
    let first = true;
    const { coll, log } = setup(() => {
      if (first) {
        first = false;
        throw new OperationFailure("interrupted", { code: 11602, response: { ok: 0, code: 11602 } });
      }
      return { ok: 1, cursor: { id: 0n, ns: "test.people", firstBatch: [] } };
    });
    assert.equal(await coll.findOne(), null);
    assert.equal(log.length, 2);
  });
});

describe("concurrency and abandonment", () => {
  test("concurrent next() calls share one fetch and get distinct documents", async () => {
    const { coll, log } = setup(cursorServer(4, 2));
    const cursor = coll.find();
    const docs = await Promise.all([cursor.next(), cursor.next(), cursor.next(), cursor.next(), cursor.next()]);
    assert.deepEqual(docs.map((d) => d?._id ?? null).sort(), [0, 1, 2, 3, null]);
    assert.equal(log.filter((c) => Object.keys(c.cmd)[0] === "find").length, 1);
  });

  test("an abandoned cursor's server cursor is killed when it is garbage-collected", async (t) => {
    const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
    const gc = bun ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) {
      console.log("skipped: no way to force a garbage collection in this runtime (Deno without --expose-gc)");
      t.skip("no way to force a garbage collection in this runtime (Deno without --expose-gc)");
      return;
    }
    const { coll, log } = setup(cursorServer(10, 2));
    await (async () => {
      const cursor = coll.find();
      await cursor.next();
    })();
    for (let i = 0; i < 50 && !log.some((c) => Object.keys(c.cmd)[0] === "killCursors"); i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    const kill = log.find((c) => Object.keys(c.cmd)[0] === "killCursors");
    assert.ok(kill, "killCursors was sent for the abandoned cursor");
    assert.deepEqual(kill.cmd, { killCursors: "people", cursors: [99n] });
  });
});
