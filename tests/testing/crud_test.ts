import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ObjectId } from "../../src/bson/mod.ts";
import { QueryFlags, ResponseFlags } from "../../src/wire/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

type Doc = Record<string, unknown>;

describe("CRUD and cursors over OP_MSG", () => {
  test("insert generates _id first, duplicate _id is E11000 in writeErrors", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("test", {
        insert: "c",
        documents: [{ a: 1 }, { _id: 7, a: 2 }, { _id: 7 }, { _id: 8 }],
      });
      assert.equal(r.n, 2, "ordered insert stops at the first error");
      const we = r.writeErrors as Doc[];
      assert.equal(we.length, 1);
      assert.equal(we[0].index, 2);
      assert.equal(we[0].code, 11000);
      assert.match(we[0].errmsg as string, /^E11000 duplicate key error collection: test.c index: _id_ dup key/);
      const un = await c.command("test", { insert: "c", documents: [{ _id: 7 }, { _id: 9 }], ordered: false });
      assert.equal(un.n, 1);
      const f = await c.command("test", { find: "c", filter: {} });
      const docs = (f.cursor as Doc).firstBatch as Doc[];
      assert.equal(docs.length, 3);
      assert.ok(docs[0]._id instanceof ObjectId);
      assert.deepEqual(Object.keys(docs[0]), ["_id", "a"]);
    });
  });

  test("document sequences (kind 1) carry the documents", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("test", { insert: "seq" }, {
        sequences: [{ identifier: "documents", documents: [{ _id: 1 }, { _id: 2 }] }],
      });
      assert.equal(r.n, 2);
    });
  });

  test("find with filter, sort, skip, limit, projection; cursors with getMore and killCursors", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const documents = Array.from({ length: 10 }, (_, i) => ({ _id: i, n: i % 3, tag: i % 2 === 0 ? "even" : "odd" }));
      await c.command("test", { insert: "c", documents });
      const r = await c.command("test", {
        find: "c",
        filter: { tag: "even", n: { $gte: 0 } },
        sort: { n: -1, _id: 1 },
        skip: 1,
        limit: 3,
        projection: { n: 1 },
      });
      assert.deepEqual((r.cursor as Doc).firstBatch, [{ _id: 8, n: 2 }, { _id: 4, n: 1 }, { _id: 0, n: 0 }]);
      assert.equal((r.cursor as Doc).id, 0n);

      const first = await c.command("test", { find: "c", batchSize: 4 });
      const cur = first.cursor as Doc;
      assert.equal((cur.firstBatch as Doc[]).length, 4);
      assert.equal(cur.ns, "test.c");
      const id = cur.id as bigint;
      assert.ok(typeof id === "bigint" && id > 0n, "an open cursor has an int64 id");
      const more = await c.command("test", { getMore: id, collection: "c", batchSize: 4 });
      assert.deepEqual(((more.cursor as Doc).nextBatch as Doc[]).map((d) => d._id), [4, 5, 6, 7]);
      assert.equal((more.cursor as Doc).id, id);
      const killed = await c.command("test", { killCursors: "c", cursors: [id] });
      assert.deepEqual(killed.cursorsKilled, [id]);
      const gone = await c.command("test", { getMore: id, collection: "c" });
      assert.equal(gone.code, 43);
      assert.equal(gone.codeName, "CursorNotFound");

      const all = await c.command("test", { find: "c", batchSize: 4 });
      const allId = (all.cursor as Doc).id as bigint;
      const rest = await c.command("test", { getMore: allId, collection: "c" });
      assert.equal(((rest.cursor as Doc).nextBatch as Doc[]).length, 6);
      assert.equal((rest.cursor as Doc).id, 0n, "an exhausted cursor reports id 0");
    });
  });

  test("update: operators, replacement, upsert, multi; delete limit 0/1; count", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.command("test", { insert: "u", documents: [{ _id: 1, n: 1 }, { _id: 2, n: 1 }, { _id: 3, n: 2 }] });
      const u1 = await c.command("test", {
        update: "u",
        updates: [{ q: { n: 1 }, u: { $inc: { n: 10 } }, multi: true }],
      });
      assert.equal(u1.n, 2);
      assert.equal(u1.nModified, 2);
      const u2 = await c.command("test", { update: "u", updates: [{ q: { _id: 3 }, u: { $set: { n: 2 } } }] });
      assert.equal(u2.n, 1);
      assert.equal(u2.nModified, 0, "a no-op update matches but does not modify");
      const u3 = await c.command("test", {
        update: "u",
        updates: [{ q: { _id: 9 }, u: { $set: { x: 1 } }, upsert: true }, { q: { _id: 3 }, u: { y: 1 } }],
      });
      assert.equal(u3.n, 2);
      assert.deepEqual(u3.upserted, [{ index: 0, _id: 9 }]);
      const f = await c.command("test", { find: "u", filter: { _id: { $in: [3, 9] } }, sort: { _id: 1 } });
      assert.deepEqual((f.cursor as Doc).firstBatch, [{ _id: 3, y: 1 }, { _id: 9, x: 1 }]);
      const bad = await c.command("test", { update: "u", updates: [{ q: {}, u: { $bogus: { a: 1 } } }] });
      assert.equal((bad.writeErrors as Doc[])[0].code, 9);
      const cnt = await c.command("test", { count: "u", query: { n: { $gt: 5 } } });
      assert.equal(cnt.n, 2);
      const d1 = await c.command("test", { delete: "u", deletes: [{ q: { n: { $gt: 5 } }, limit: 1 }] });
      assert.equal(d1.n, 1);
      const d0 = await c.command("test", { delete: "u", deletes: [{ q: {}, limit: 0 }] });
      assert.equal(d0.n, 3);
    });
  });

  test("catalog and diagnostics: create, drop, listCollections, listDatabases, ping, buildInfo, unknown command", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      assert.equal((await c.command("app", { create: "a" })).ok, 1);
      assert.equal((await c.command("app", { create: "a" })).code, 48);
      await c.command("app", { insert: "b", documents: [{}] });
      const lc = await c.command("app", { listCollections: 1, nameOnly: true });
      assert.deepEqual(((lc.cursor as Doc).firstBatch as Doc[]).map((d) => d.name), ["a", "b"]);
      const ld = await c.command("admin", { listDatabases: 1 });
      assert.ok((ld.databases as Doc[]).some((d) => d.name === "app"));
      assert.equal((await c.command("app", { listDatabases: 1 })).code, 13);
      assert.equal((await c.command("app", { drop: "a" })).ok, 1);
      assert.equal((await c.command("app", { dropDatabase: 1 })).dropped, "app");
      assert.deepEqual((await c.command("admin", { ping: 1 })).ok, 1);
      assert.equal((await c.command("admin", { buildInfo: 1 })).version, "7.0.5");
      const { $clusterTime: _ct, operationTime: _ot, ...unknown } = await c.command("admin", { frobnicate: 1 });
      assert.ok(_ct !== undefined && _ot !== undefined, "replica-set members gossip the cluster time");
      assert.deepEqual(unknown, {
        ok: 0,
        errmsg: "no such command: 'frobnicate'",
        code: 59,
        codeName: "CommandNotFound",
      });
      const noDb = await c.command("admin", { endSessions: [] });
      assert.equal(noDb.ok, 1);
    });
  });

  test("OP_QUERY commands are refused after the handshake on wire >= 14 (5.1+)", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.legacyCommand("test", { find: "c" });
      assert.equal(r.code, 352);
      assert.equal(r.codeName, "UnsupportedOpQueryCommand");
      const q = await c.query("test.c", {});
      assert.equal(q.responseFlags & ResponseFlags.QueryFailure, ResponseFlags.QueryFailure);
    });
  });
});

describe("legacy opcodes on wire 3 (3.0)", () => {
  test("OP_QUERY find on a collection namespace, OP_GET_MORE, OP_KILL_CURSORS, getLastError", async () => {
    await using rs = await startReplicaSet({ members: 2, maxWireVersion: 3 });
    await withClient(rs.hosts[0], async (c) => {
      const docs = Array.from({ length: 5 }, (_, i) => ({ _id: i, v: i * 10 }));
      const ins = await c.legacyCommand("test", { insert: "old", documents: docs });
      assert.equal(ins.n, 5);
      const gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.err, null);
      const r = await c.query("test.old", { $query: { v: { $gte: 10 } }, $orderby: { v: -1 } }, { numberToReturn: 2 });
      assert.deepEqual(r.documents.map((d) => d._id), [4, 3]);
      assert.ok(r.cursorId > 0n);
      const more = await c.getMore("test.old", r.cursorId, 1);
      assert.deepEqual(more.documents.map((d) => d._id), [2]);
      assert.equal(more.startingFrom, 2);
      await c.killCursors([r.cursorId]);
      const gone = await c.getMore("test.old", r.cursorId, 1);
      assert.equal(gone.responseFlags & ResponseFlags.CursorNotFound, ResponseFlags.CursorNotFound);
      const single = await c.query("test.old", {}, { numberToReturn: -2, returnFieldsSelector: { v: 1, _id: 0 } });
      assert.deepEqual(single.documents, [{ v: 0 }, { v: 10 }]);
      assert.equal(single.cursorId, 0n);
    });
    await withClient(rs.hosts[1], async (c) => {
      const refused = await c.query("test.old", {});
      assert.equal(refused.responseFlags & ResponseFlags.QueryFailure, ResponseFlags.QueryFailure);
      assert.equal(refused.documents[0].code, 13435);
      const ok = await c.query("test.old", {}, { flags: QueryFlags.SecondaryOk });
      assert.equal(ok.documents.length, 5);
    });
  });
});
