// The application API of the official drivers, on a fake topology: the
// command documents findOneAnd*, distinct, estimatedDocumentCount and the
// find/aggregate options send, their results, and bad input refused before
// anything is sent. Behaviour against the simulated set is in
// api_integration_test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { ConfigurationError, WriteConcernError } from "../../src/errors.ts";
import { ReadPreference, ReplicaSetConnection } from "../../mod.ts";
import type { Call } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

const name = (call: Call) => Object.keys(call.cmd)[0];

describe("findOneAndDelete / findOneAndReplace / findOneAndUpdate", () => {
  const reply = (value: Document | null) => () => ({
    ok: 1,
    lastErrorObject: { n: value === null ? 0 : 1 },
    value,
  });

  test("findOneAndDelete sends remove with sort, fields, hint, collation, let, comment, maxTimeMS", async () => {
    const { coll, log } = setup(reply({ _id: 1, name: "Ada" }));
    const doc = await coll.findOneAndDelete({ name: "Ada" }, {
      sort: { age: 1 },
      projection: { name: 1 },
      hint: "name_1",
      collation: { locale: "en", strength: 2 },
      let: { x: 1 },
      comment: "c",
      maxTimeMS: 500,
      writeConcern: { w: "majority" },
    });
    assert.deepEqual(doc, { _id: 1, name: "Ada" });
    assert.equal(log.length, 1);
    assert.equal(log[0].server, "a:27017", "a write goes to the primary");
    assert.deepEqual(log[0].cmd, {
      findAndModify: "people",
      query: { name: "Ada" },
      sort: { age: 1 },
      remove: true,
      fields: { name: 1 },
      hint: "name_1",
      collation: { locale: "en", strength: 2 },
      let: { x: 1 },
      comment: "c",
      maxTimeMS: 500,
      writeConcern: { w: "majority" },
    });
  });

  test("findOneAndUpdate: update, new from returnDocument, upsert, arrayFilters; null when none matched", async () => {
    const { coll, log } = setup(reply(null));
    const r = await coll.findOneAndUpdate(
      { _id: 1 },
      { $set: { "a.$[e]": 0 } },
      {
        returnDocument: "after",
        upsert: true,
        arrayFilters: [{ e: { $lt: 0 } }],
        bypassDocumentValidation: true,
      },
    );
    assert.equal(r, null);
    assert.deepEqual(log[0].cmd, {
      findAndModify: "people",
      query: { _id: 1 },
      update: { $set: { "a.$[e]": 0 } },
      new: true,
      upsert: true,
      bypassDocumentValidation: true,
      arrayFilters: [{ e: { $lt: 0 } }],
    });
    // A pipeline update; returnDocument defaults to "before".
    await coll.findOneAndUpdate({}, [{ $set: { n: 1 } }]);
    assert.deepEqual(log[1].cmd, {
      findAndModify: "people",
      query: {},
      update: [{ $set: { n: 1 } }],
      new: false,
    });
  });

  test("findOneAndReplace sends the replacement; operators in it are refused before any I/O", async () => {
    const { coll, log } = setup(reply({ _id: 1, name: "Ada", age: 37 }));
    const r = await coll.findOneAndReplace(
      { _id: 1 },
      { name: "Ada", age: 37 },
      { returnDocument: "after" },
    );
    assert.deepEqual(r, { _id: 1, name: "Ada", age: 37 });
    assert.deepEqual(log[0].cmd, {
      findAndModify: "people",
      query: { _id: 1 },
      update: { name: "Ada", age: 37 },
      new: true,
    });
    await assert.rejects(
      coll.findOneAndReplace({}, { $set: { a: 1 } }),
      /must not contain update operators/,
    );
    await assert.rejects(
      coll.findOneAndUpdate({}, { a: 1 }),
      /update operators such as \$set/,
    );
    await assert.rejects(coll.findOneAndUpdate({}, []), /at least one stage/);
    await assert.rejects(
      coll.findOneAndUpdate({}, { $set: { a: 1 } }, {
        returnDocument: "later" as "after",
      }),
      /returnDocument must be "before" or "after"/,
    );
    await assert.rejects(
      coll.findOneAndDelete({}, { upsert: true } as Document),
      (e: unknown) => {
        assert.ok(e instanceof ConfigurationError);
        assert.match(e.message, /unknown findOneAndDelete option "upsert"/);
        return true;
      },
    );
    await assert.rejects(
      coll.findOneAndUpdate({}, { $set: { a: 1 } }, { sortt: {} } as Document),
      /"sortt"/,
    );
    assert.equal(log.length, 1, "nothing sent for bad input");
  });

  test("a writeConcernError is a WriteConcernError (the write happened)", async () => {
    const { coll } = setup(() => {
      const wce = {
        code: 64,
        codeName: "WriteConcernFailed",
        errmsg: "waiting for replication timed out",
      };
      // The connection throws this for an ok: 1 reply with a writeConcernError.
      throw new WriteConcernError(wce.errmsg, {
        code: 64,
        response: { ok: 1, value: { _id: 1 }, writeConcernError: wce },
      });
    });
    await assert.rejects(coll.findOneAndDelete({ _id: 1 }), WriteConcernError);
  });
});

describe("distinct / estimatedDocumentCount", () => {
  test("distinct sends key, query, collation and returns values; reads follow the read preference", async () => {
    const { coll, log } = setup(() => ({ ok: 1, values: ["x", "y"] }));
    const values = await coll.distinct("city", { age: { $gt: 1 } }, {
      collation: { locale: "en" },
      readPreference: ReadPreference.SECONDARY,
      readConcern: { level: "majority" },
      comment: "why",
      maxTimeMS: 10,
    });
    assert.deepEqual(values, ["x", "y"]);
    assert.equal(log[0].server, "b:27017");
    assert.deepEqual(log[0].cmd, {
      distinct: "people",
      key: "city",
      query: { age: { $gt: 1 } },
      collation: { locale: "en" },
      comment: "why",
      maxTimeMS: 10,
      readConcern: { level: "majority" },
    });
    await coll.distinct("city");
    assert.deepEqual(log[1].cmd, {
      distinct: "people",
      key: "city",
      query: {},
    });
    await assert.rejects(coll.distinct(3 as unknown as string), ConfigurationError);
    await assert.rejects(
      coll.distinct("a", {}, { limit: 1 } as Document),
      /unknown distinct option "limit"/,
    );
  });

  test("estimatedDocumentCount sends count without a filter and returns n (int64 too)", async () => {
    const { coll, log } = setup(() => ({ ok: 1, n: 42n }));
    assert.equal(
      await coll.estimatedDocumentCount({ maxTimeMS: 100, comment: "c" }),
      42,
    );
    assert.deepEqual(log[0].cmd, {
      count: "people",
      comment: "c",
      maxTimeMS: 100,
    });
    await assert.rejects(
      coll.estimatedDocumentCount({ filter: {} } as Document),
      /unknown estimatedDocumentCount option/,
    );
  });
});

describe("find and aggregate options", () => {
  test("find sends every option of the CRUD specification", async () => {
    const { coll, log } = setup();
    await coll.find({ a: 1 }, {
      sort: { a: 1 },
      projection: { a: 1 },
      skip: 1,
      limit: 5,
      batchSize: 2,
      hint: { a: 1 },
      comment: { why: "test" },
      maxTimeMS: 100,
      collation: { locale: "fr" },
      min: { a: 0 },
      max: { a: 9 },
      returnKey: true,
      showRecordId: true,
      noCursorTimeout: true,
      allowPartialResults: true,
      let: { v: 1 },
    }).toArray();
    assert.deepEqual(log[0].cmd, {
      find: "people",
      filter: { a: 1 },
      sort: { a: 1 },
      projection: { a: 1 },
      skip: 1,
      limit: 5,
      batchSize: 2,
      hint: { a: 1 },
      maxTimeMS: 100,
      comment: { why: "test" },
      collation: { locale: "fr" },
      min: { a: 0 },
      max: { a: 9 },
      let: { v: 1 },
      returnKey: true,
      showRecordId: true,
      noCursorTimeout: true,
      allowPartialResults: true,
    });
  });

  test("tailable awaitData: the getMore carries maxAwaitTimeMS as maxTimeMS; tryNext returns null on an empty batch", async () => {
    let getMores = 0;
    const { coll, log } = setup((call) => {
      if (name(call) === "find") {
        return {
          ok: 1,
          cursor: { id: 5n, ns: "test.people", firstBatch: [{ _id: 1 }] },
        };
      }
      if (name(call) === "getMore") {
        getMores++;
        return {
          ok: 1,
          cursor: {
            id: 5n,
            ns: "test.people",
            nextBatch: getMores === 2 ? [{ _id: 2 }] : [],
          },
        };
      }
      return { ok: 1 };
    });
    const cursor = coll.find({}, {
      tailable: true,
      awaitData: true,
      maxAwaitTimeMS: 250,
    });
    assert.deepEqual(await cursor.tryNext(), { _id: 1 });
    assert.equal(
      await cursor.tryNext(),
      null,
      "no new data: null, the cursor stays open",
    );
    assert.equal(cursor.closed, false);
    assert.deepEqual(await cursor.next(), { _id: 2 });
    assert.deepEqual(log[0].cmd, {
      find: "people",
      filter: {},
      tailable: true,
      awaitData: true,
    });
    assert.deepEqual(log[1].cmd, {
      getMore: 5n,
      collection: "people",
      maxTimeMS: 250,
    });
    await cursor.close();
    assert.equal(name(log[log.length - 1]), "killCursors");
  });

  test("below wire 4 (OP_QUERY) the options become modifiers and flag bits; collation is refused", async () => {
    const { coll, log } = setup(() => ({ responseFlags: 0, cursorId: 0n, startingFrom: 0, documents: [] } as never), {}, 3);
    await coll.find({ a: 1 }, {
      tailable: true,
      awaitData: true,
      noCursorTimeout: true,
      allowPartialResults: true,
      min: { a: 0 },
      max: { a: 9 },
      returnKey: true,
      showRecordId: true,
    }).toArray();
    assert.equal(log[0].via, "query");
    assert.equal(log[0].options.flags, 0x2 | 0x20 | 0x10 | 0x80);
    assert.deepEqual(log[0].cmd, {
      $query: { a: 1 },
      $min: { a: 0 },
      $max: { a: 9 },
      $returnKey: true,
      $showDiskLoc: true,
    });
    await assert.rejects(coll.find({}, { collation: { locale: "en" } }).toArray(), /collation needs the find command/);
  });

  test("bad find options are refused when the cursor is made", () => {
    const { coll, log } = setup();
    assert.throws(
      () => coll.find({}, { awaitData: true }),
      /awaitData needs tailable/,
    );
    assert.throws(
      () => coll.find({}, { tailable: true, maxAwaitTimeMS: 5 }),
      /maxAwaitTimeMS needs/,
    );
    assert.throws(
      () => coll.find({}, { returnKey: "yes" as unknown as boolean }),
      /returnKey must be a boolean/,
    );
    assert.throws(
      () => coll.find({}, { collation: 1 as unknown as Document }),
      /collation must be a document/,
    );
    assert.equal(log.length, 0);
  });

  test("aggregate sends allowDiskUse, batchSize, maxTimeMS, comment, collation, hint, let", async () => {
    const { coll, log } = setup();
    await coll.aggregate([{ $match: {} }], {
      allowDiskUse: true,
      batchSize: 10,
      maxTimeMS: 50,
      comment: "agg",
      collation: { locale: "en" },
      hint: "a_1",
      let: { v: 2 },
    }).toArray();
    assert.deepEqual(log[0].cmd, {
      aggregate: "people",
      pipeline: [{ $match: {} }],
      cursor: { batchSize: 10 },
      allowDiskUse: true,
      maxTimeMS: 50,
      comment: "agg",
      hint: "a_1",
      collation: { locale: "en" },
      let: { v: 2 },
    });
  });
});

describe("bad input: unknown option names and wrong types, before any I/O", () => {
  test("an unknown option name is a ConfigurationError naming it, at every level", async () => {
    const { client, coll, log } = setup();
    const names = (fn: () => unknown, name: string) =>
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ConfigurationError, String(e));
        assert.match(e.message, new RegExp(`"${name}"|'${name}'`));
        return true;
      });
    names(() => new ReplicaSetConnection("a:27017", { replicaSet: "foo", maxPoolSzie: 5 } as Document), "maxPoolSzie");
    names(() => client.db("test", { readPreferance: "secondary" } as Document), "readPreferance");
    names(() => client.db("test").collection("c", { writeConcer: { w: 1 } } as Document), "writeConcer");
    names(() => coll.find({}, { projecton: { a: 1 } } as Document), "projecton");
    names(() => coll.aggregate([], { allowDiskuse: true } as Document), "allowDiskuse");
    const rejects = (p: Promise<unknown>, name: string) =>
      assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof ConfigurationError, String(e));
        assert.ok(e.message.includes(`"${name}"`), e.message);
        return true;
      });
    await rejects(coll.insertOne({}, { writeconcern: { w: 1 } } as Document), "writeconcern");
    await rejects(coll.insertMany([{}], { orderd: false } as Document), "orderd");
    await rejects(coll.updateOne({}, { $set: { a: 1 } }, { upsrt: true } as Document), "upsrt");
    await rejects(coll.replaceOne({}, {}, { arrayFilters: [] } as Document), "arrayFilters");
    await rejects(coll.deleteMany({}, { limit: 1 } as Document), "limit");
    await rejects(coll.countDocuments({}, { sort: {} } as Document), "sort");
    await rejects(coll.drop({ force: true } as Document), "force");
    await rejects(coll.findOne({}, { projektion: {} } as Document), "projektion");
    await rejects(client.db("test").command({ ping: 1 }, { readPref: "primary" } as Document), "readPref");
    await rejects(client.db("test").drop({ w: 1 } as Document), "w");
    await rejects(client.listDatabases({ nameonly: true } as Document), "nameonly");
    await rejects(client.connect({ timeout: 5 } as Document), "timeout");
    assert.equal(log.length, 0, "nothing sent");
  });

  test("a wrong type is a ConfigurationError naming the option and the value, nothing sent", async () => {
    const { coll, log } = setup();
    await assert.rejects(
      coll.updateOne({}, { $set: { a: 1 } }, { arrayFilters: {} as Document[] }),
      /arrayFilters must be an array/,
    );
    await assert.rejects(
      coll.findOneAndDelete({}, { maxTimeMS: "5" as unknown as number }),
      /maxTimeMS must be an integer/,
    );
    await assert.rejects(coll.insertOne({}, { timeoutMS: -1 }), /timeoutMS must be an integer >= 0, got -1/);
    await assert.rejects(
      coll.bulkWrite([{ deleteOne: { filter: {} } }], { ordered: "no" as unknown as boolean }),
      /ordered must be a boolean/,
    );
    assert.throws(() => coll.find({}, { hint: 5 as unknown as string }), /hint must be an index name or a key pattern/);
    assert.equal(log.length, 0);
  });
});
