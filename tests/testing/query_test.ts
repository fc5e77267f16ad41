import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Double, Int32, Int64, MaxKey, MinKey, ObjectId } from "../../src/bson/mod.ts";
import { applyUpdate, compareValues, matches, project, sortDocuments, upsertSeed } from "../../src/testing/query.ts";
import { MongoError } from "../../src/errors.ts";

describe("compareValues: the server's cross-type order", () => {
  test("MinKey < null < numbers < strings < objects < arrays < ObjectId < booleans < dates < MaxKey", () => {
    const ordered = [
      new MinKey(),
      null,
      1,
      "a",
      { a: 1 },
      [1],
      new ObjectId("000000000000000000000001"),
      false,
      new Date(0),
      new MaxKey(),
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.ok(compareValues(ordered[i], ordered[i + 1]) < 0, `${i} < ${i + 1}`);
    }
  });
  test("numbers of different BSON types compare by value", () => {
    assert.equal(compareValues(new Int32(2), new Double(2)), 0);
    assert.equal(compareValues(new Int64(3n), 2.5), 1);
    assert.equal(compareValues(2n ** 62n, 2n ** 62n + 1n), -1);
  });
});

describe("matches", () => {
  const doc = { _id: 1, a: { b: [1, 5, { c: "x" }] }, n: new Int32(7), tags: ["red", "blue"], s: "hello" };
  const cases: [string, unknown, boolean][] = [
    ["equality", { n: 7 }, true],
    ["equality across number types", { n: new Double(7) }, true],
    ["dotted path into array element", { "a.b": 5 }, true],
    ["dotted path through array of documents", { "a.b.c": "x" }, true],
    ["numeric index", { "tags.1": "blue" }, true],
    ["array element match", { tags: "red" }, true],
    ["whole array match", { tags: ["red", "blue"] }, true],
    ["$gt on array elements", { "a.b": { $gt: 4 } }, true],
    ["$gt type bracketing", { s: { $gt: 1 } }, false],
    ["$lt/$lte", { n: { $lt: 8, $lte: 7 } }, true],
    ["$ne", { n: { $ne: 7 } }, false],
    ["$in", { tags: { $in: ["green", "blue"] } }, true],
    ["$nin", { tags: { $nin: ["green"] } }, true],
    ["$exists true", { "a.b": { $exists: true } }, true],
    ["$exists false on missing", { zzz: { $exists: false } }, true],
    ["null matches missing", { zzz: null }, true],
    ["$and", { $and: [{ n: 7 }, { s: "hello" }] }, true],
    ["$or", { $or: [{ n: 8 }, { s: "nope" }] }, false],
    ["$nor", { $nor: [{ n: 8 }] }, true],
    ["$not", { n: { $not: { $gt: 5 } } }, false],
    ["$regex", { s: { $regex: "^he" } }, true],
    ["$size", { tags: { $size: 2 } }, true],
    ["$elemMatch", { "a.b": { $elemMatch: { c: "x" } } }, true],
    ["$all", { tags: { $all: ["blue", "red"] } }, true],
    ["$type", { n: { $type: "int" } }, true],
    ["$eq on subdocument", { a: { b: [1, 5, { c: "x" }] } }, true],
  ];
  for (const [name, filter, expected] of cases) {
    test(`${name}: ${JSON.stringify(filter)}`, () => {
      assert.equal(matches(doc, filter as Record<string, unknown>), expected);
    });
  }
  test("an unknown operator is a BadValue server error", () => {
    assert.throws(
      () => matches(doc, { n: { $bogus: 1 } }),
      (e: unknown) => e instanceof MongoError && /unknown operator/.test(e.message),
    );
    assert.throws(() => matches(doc, { $where: "1" }), MongoError);
  });
});

describe("sort and projection", () => {
  test("sorts by several keys, missing as null, arrays by min/max", () => {
    const docs = [{ _id: 1, a: 2, b: 1 }, { _id: 2, a: 1 }, { _id: 3, a: 2, b: 0 }, { _id: 4 }, { _id: 5, a: [0, 9] }];
    assert.deepEqual(sortDocuments([...docs], { a: 1, b: -1 }).map((d) => d._id), [4, 5, 2, 1, 3]);
    assert.deepEqual(sortDocuments([...docs], { a: -1 }).map((d) => d._id), [5, 1, 3, 2, 4]);
  });
  test("rejects a bad direction", () => {
    assert.throws(() => sortDocuments([{}], { a: 2 }), MongoError);
  });
  test("inclusion keeps _id unless excluded; exclusion removes fields", () => {
    const d = { _id: 1, a: 1, b: { c: 2, d: 3 }, e: 4 };
    assert.deepEqual(project(d, { a: 1, "b.c": 1 }), { _id: 1, a: 1, b: { c: 2 } });
    assert.deepEqual(project(d, { a: 1, _id: 0 }), { a: 1 });
    assert.deepEqual(project(d, { b: 0, e: 0 }), { _id: 1, a: 1 });
    assert.throws(() => project(d, { a: 1, e: 0 }), /Cannot do exclusion/);
  });
});

describe("updates", () => {
  test("$set $unset $inc $push with dotted paths", () => {
    const out = applyUpdate({ _id: 1, n: new Int32(1), arr: [1], x: 1 }, {
      $set: { "a.b": true },
      $unset: { x: "" },
      $inc: { n: 2, m: 5 },
      $push: { arr: { $each: [2, 3] } },
    });
    assert.deepEqual(out, { _id: 1, n: new Int32(3), arr: [1, 2, 3], a: { b: true }, m: 5 });
  });
  test("$inc keeps BSON number types (int32 overflow becomes int64, double stays double)", () => {
    assert.deepEqual(applyUpdate({ n: new Int32(2147483647) }, { $inc: { n: 1 } }).n, new Int64(2147483648n));
    assert.deepEqual(applyUpdate({ n: new Double(1.5) }, { $inc: { n: 1 } }).n, new Double(2.5));
  });
  test("errors: $inc on a string, unknown modifier, changing _id", () => {
    assert.throws(() => applyUpdate({ _id: 1, s: "x" }, { $inc: { s: 1 } }), /non-numeric/);
    assert.throws(() => applyUpdate({ _id: 1 }, { $frob: { a: 1 } }), /Unknown modifier/);
    assert.throws(() => applyUpdate({ _id: 1 }, { $set: { _id: 2 } }), /immutable/);
  });
  test("upsert seed takes the equality conditions", () => {
    assert.deepEqual(upsertSeed({ a: 1, "b.c": 2, d: { $gt: 1 }, $and: [{ e: { $eq: 3 } }] }), {
      a: 1,
      b: { c: 2 },
      e: 3,
    });
  });
});
