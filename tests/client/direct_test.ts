// A direct Connection over real sockets and the real Topology, against the
// loopback fake mongod (tests/helpers/fake_mongod.ts): the CRUD happy path,
// what goes on the wire for each operation, and a secondary served directly.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { OperationFailure } from "../../src/errors.ts";
import { Connection } from "../../src/client/mod.ts";
import { type FakeMongod, startFakeMongod } from "../helpers/fake_mongod.ts";

const OPTIONS = { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 2000 };

describe("direct Connection against the fake mongod", () => {
  let mongod: FakeMongod;
  const stored: Document[] = [];

  before(async () => {
    mongod = await startFakeMongod({
      handler: (cmd, info) => {
        switch (info.command) {
          case "insert": {
            const docs = info.sequences.find((s) => s.identifier === "documents")?.documents ?? [];
            stored.push(...docs);
            return { ok: 1, n: docs.length };
          }
          case "find": {
            const limit = typeof cmd.limit === "number" ? cmd.limit : stored.length;
            return { ok: 1, cursor: { id: 0n, ns: `${info.db}.${cmd.find}`, firstBatch: stored.slice(0, limit) } };
          }
          case "update":
            return { ok: 1, n: 1, nModified: 1 };
          case "delete":
            return { ok: 1, n: stored.splice(0).length };
          case "boom":
            return { ok: 0, code: 2, codeName: "BadValue", errmsg: "boom" };
          default:
            return undefined;
        }
      },
    });
  });
  after(async () => {
    await mongod.close();
  });

  test("CRUD round trips; the wire carries what the spec asks for", async () => {
    await using c = await Connection.connect(mongod.address, OPTIONS);
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.port, mongod.port);
    assert.deepEqual(c.primary, ["127.0.0.1", mongod.port]);
    const coll = c.db("app").collection<{ _id?: unknown; n: number }>("items");
    const { insertedId } = await coll.insertOne({ n: 1 });
    await coll.insertMany([{ n: 2 }, { n: 3 }]);
    const one = await coll.findOne();
    assert.deepEqual(one, { _id: insertedId, n: 1 });
    assert.equal((await coll.find().toArray()).length, 3);
    assert.equal((await coll.updateOne({ n: 1 }, { $set: { n: 5 } })).modifiedCount, 1);
    assert.equal((await coll.deleteMany({})).deletedCount, 3);
    await assert.rejects(c.db("app").command("boom"), (e: unknown) => e instanceof OperationFailure && e.code === 2);

    const inserts = mongod.commands("insert");
    assert.equal(inserts[0].opName, "OP_MSG");
    assert.equal(inserts[0].body.$db, "app");
    assert.equal(inserts[0].sequences[0].identifier, "documents");
    assert.equal(inserts[1].sequences[0].documents.length, 2);
    const find = mongod.commands("find")[0];
    assert.deepEqual(find.body.filter, {});
    assert.equal(find.body.limit, 1);
    assert.equal(find.body.singleBatch, true);
    // A standalone gets no read preference at all (server selection spec).
    assert.equal("$readPreference" in find.body, false);
    assert.equal("$readPreference" in inserts[0].body, false, "writes carry no read preference");
  });

  test("a direct connection reads from a secondary", async () => {
    const secondary = await startFakeMongod({
      hello: { ismaster: false, isWritablePrimary: false, secondary: true, setName: "foo", hosts: ["x:1"] },
      handler: (_cmd, info) =>
        info.command === "find" ? { ok: 1, cursor: { id: 0n, ns: "t.c", firstBatch: [{ _id: 1 }] } } : undefined,
    });
    try {
      await using c = await Connection.connect(secondary.address, { ...OPTIONS, slaveOk: true });
      assert.equal(c.primary, null);
      assert.equal(c.port, secondary.port);
      assert.deepEqual(await c.db("t").collection("c").findOne(), { _id: 1 });
      assert.deepEqual(secondary.commands("find")[0].body.$readPreference, { mode: "secondaryPreferred" });
    } finally {
      await secondary.close();
    }
  });
});
