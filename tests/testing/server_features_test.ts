// The simulator answers as the version its maxWireVersion says
// (src/testing/server_features.ts): fields mongod of that version does not
// take are refused as it refuses them, and the 8.0 bulkWrite command
// (src/testing/client_bulk_write.ts) runs only from wire 25.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

type Doc = Record<string, unknown>;

describe("server features by wire version", () => {
  test("4.2 (wire 8) refuses comment on writes, let, hint on deletes, allowDiskUse on find, $-prefixed names", async () => {
    await using rs = await startReplicaSet({ members: 1, maxWireVersion: 8 });
    await withClient(rs.hosts[0], async (c) => {
      const comment = await c.command("t", { insert: "c", documents: [{ _id: 1 }], comment: "x" });
      assert.equal(comment.code, 40415);
      assert.match(comment.errmsg as string, /'insert\.comment' is an unknown field/);
      const letVars = await c.command("t", { update: "c", updates: [{ q: {}, u: { $set: { a: 1 } } }], let: { v: 1 } });
      assert.match(letVars.errmsg as string, /'update\.let' is an unknown field/);
      const hint = await c.command("t", { delete: "c", deletes: [{ q: {}, limit: 1, hint: "_id_" }] });
      assert.equal(hint.code, 40415);
      const disk = await c.command("t", { find: "c", filter: {}, allowDiskUse: true });
      assert.equal(disk.code, 40415);
      const docComment = await c.command("t", { find: "c", filter: {}, comment: { a: 1 } });
      assert.equal(docComment.code, 14, "a document comment on a read is a TypeMismatch before 4.4");
      assert.equal((await c.command("t", { find: "c", filter: {}, comment: "s" })).ok, 1, "a string comment is fine");
      const dollar = await c.command("t", { insert: "c", documents: [{ _id: 2, $a: 1 }] });
      assert.equal((dollar.writeErrors as Doc[])[0].code, 52);
      const bulk = await c.command("admin", { bulkWrite: 1, ops: [], nsInfo: [] });
      assert.equal(bulk.code, 59, "no bulkWrite command before 8.0");
    });
  });

  test("7.0 (wire 21) takes them all but sort on update and rawData", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      assert.equal((await c.command("t", { insert: "c", documents: [{ _id: 1, $a: 1 }], comment: { x: 1 } })).n, 1);
      const sort = await c.command("t", { update: "c", updates: [{ q: {}, u: { $set: { b: 1 } }, sort: { _id: 1 } }] });
      assert.match(String(sort.errmsg ?? (sort.writeErrors as Doc[])?.[0]?.errmsg), /'update\.updates\.sort' is an unknown field/);
      assert.equal((await c.command("t", { find: "c", filter: {}, rawData: true })).code, 40415);
      assert.equal((await c.command("admin", { bulkWrite: 1, ops: [], nsInfo: [] })).code, 59);
    });
  });

  test("8.0 (wire 25) runs bulkWrite across namespaces: per-op results, summary counts, ordered stop", async () => {
    await using rs = await startReplicaSet({ members: 1, maxWireVersion: 25 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("admin", {
        bulkWrite: 1,
        ops: [
          { insert: 0, document: { _id: 1, n: 1 } },
          { insert: 1, document: { _id: 1 } },
          { update: 0, filter: { _id: 1 }, updateMods: { $inc: { n: 1 } }, multi: false },
          { update: 0, filter: { _id: 2 }, updateMods: { n: 7 }, upsert: true },
          { insert: 0, document: { _id: 1 } },
          { delete: 1, filter: {}, multi: true },
        ],
        nsInfo: [{ ns: "a.x" }, { ns: "b.y" }],
      });
      assert.equal(r.ok, 1);
      const batch = (r.cursor as Doc).firstBatch as Doc[];
      assert.deepEqual(batch.map((d) => [d.idx, d.ok]), [[0, 1], [1, 1], [2, 1], [3, 1], [4, 0]]);
      assert.equal(batch[4].code, 11000);
      assert.deepEqual(batch[3].upserted, { _id: 2 });
      assert.deepEqual([r.nErrors, r.nInserted, r.nMatched, r.nModified, r.nUpserted, r.nDeleted], [1, 2, 1, 1, 1, 0]);
      const errorsOnly = await c.command("admin", {
        bulkWrite: 1,
        ops: [{ delete: 0, filter: {}, multi: true }],
        nsInfo: [{ ns: "b.y" }],
        errorsOnly: true,
      });
      assert.deepEqual((errorsOnly.cursor as Doc).firstBatch, []);
      assert.equal(errorsOnly.nDeleted, 1);
      assert.equal((await c.command("t", { bulkWrite: 1, ops: [], nsInfo: [] })).code, 13, "admin only");
    });
  });
});
