// The unified test format's matching rules, without a server: each rule and
// special operator with a case that must match and one that must not.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { Binary, Decimal128, Double, EJSON, Int32, Int64, ObjectId } from "../../../src/bson/mod.ts";
import { match, type MatchContext, MatchError, MatcherUsageError } from "./matcher.ts";

/** Expected values are Extended JSON, as in the test files. */
const x = (text: string): unknown => EJSON.parse(text, { relaxed: false });

function matches(
  expected: string,
  actual: unknown,
  opts: { root?: boolean; ctx?: MatchContext } = {},
): void {
  match(x(expected), actual, opts);
}
function mismatches(
  expected: string,
  actual: unknown,
  opts: { root?: boolean; ctx?: MatchContext } = {},
): void {
  assert.throws(() => match(x(expected), actual, opts), MatchError);
}

const lsid = { id: new Binary(new Uint8Array(16), 4) };
const ctx: MatchContext = {
  entity(name) {
    if (name === "oid0") return new ObjectId("000000000000000000000007");
    throw new MatcherUsageError(`entity ${name} is not defined`);
  },
  sessionLsid(name) {
    if (name === "session0") return lsid;
    throw new MatcherUsageError(`session entity ${name} is not defined`);
  },
};

describe("unified format matcher", () => {
  test("root-level documents allow extra keys; missing keys do not match", () => {
    matches('{"x": 1}', { x: 1, y: 1 });
    mismatches('{"x": 1, "y": 1}', { x: 1 });
  });

  test("nested documents do not allow extra keys", () => {
    matches('{"x": {"y": 1}}', { x: { y: 1 } });
    mismatches('{"x": {"y": 1}}', { x: { y: 1, z: 1 } });
    mismatches('{"y": 1}', { y: 1, z: 1 }, { root: false });
  });

  test("key order does not matter", () => {
    matches('{"a": {"x": 1, "y": 2}}', { a: { y: 2, x: 1 } });
  });

  test("arrays need the same length and matching elements", () => {
    matches('{"a": [1, 2, 3]}', { a: [1, 2, 3] });
    mismatches('{"a": [1, 2, 3]}', { a: [1, 2, 3, 4] });
    mismatches('{"a": [1, 2, 3]}', { a: [1, 3, 2] });
    mismatches('{"a": [{"x": 1}]}', { a: [{ x: 1, y: 1 }] }); // array elements are not root-level
    mismatches('{"a": [1]}', { a: 1 });
  });

  test("int32, int64 and double match when numerically equal", () => {
    matches('{"n": 1}', { n: 1n });
    matches('{"n": {"$numberLong": "1"}}', { n: 1 });
    matches('{"n": {"$numberDouble": "1.0"}}', { n: new Int32(1) });
    matches('{"n": {"$numberLong": "9007199254740993"}}', {
      n: 9007199254740993n,
    });
    mismatches('{"n": 1}', { n: 1.5 });
    mismatches('{"n": {"$numberLong": "9007199254740993"}}', {
      n: 9007199254740992n,
    });
    mismatches('{"n": 1}', { n: "1" });
    mismatches('{"n": 1}', { n: Decimal128.fromString("1") }); // Decimal128 is not a flexible numeric
  });

  test("other scalars match by type and value", () => {
    matches(
      '{"s": "a", "b": true, "z": null, "o": {"$oid": "000000000000000000000001"}}',
      {
        s: "a",
        b: true,
        z: null,
        o: new ObjectId("000000000000000000000001"),
      },
    );
    mismatches('{"o": {"$oid": "000000000000000000000001"}}', {
      o: new ObjectId("000000000000000000000002"),
    });
    mismatches('{"o": {"$oid": "000000000000000000000001"}}', {
      o: "000000000000000000000001",
    });
    mismatches('{"z": null}', { z: 0 });
    mismatches('{"z": null}', {});
    matches('{"d": {"$date": {"$numberLong": "0"}}}', { d: new Date(0) });
    mismatches('{"d": {"$date": {"$numberLong": "0"}}}', { d: new Date(1) });
  });

  test("$$exists", () => {
    matches('{"a": {"$$exists": true}}', { a: null });
    mismatches('{"a": {"$$exists": true}}', { b: 1 });
    matches('{"a": {"$$exists": false}}', { b: 1 });
    mismatches('{"a": {"$$exists": false}}', { a: 1 });
    // Nested: the key asserted absent does not count as an expected key, others still may not appear.
    matches('{"x": {"a": 1, "w": {"$$exists": false}}}', { x: { a: 1 } });
    mismatches('{"x": {"a": 1, "w": {"$$exists": false}}}', {
      x: { a: 1, w: 2 },
    });
  });

  test("$$type, with lists and the number alias", () => {
    matches('{"a": {"$$type": "string"}}', { a: "s" });
    mismatches('{"a": {"$$type": "string"}}', { a: 1 });
    mismatches('{"a": {"$$type": "string"}}', {});
    matches('{"a": {"$$type": ["int", "long"]}}', { a: 5n });
    matches('{"a": {"$$type": ["int", "long"]}}', { a: 5 });
    mismatches('{"a": {"$$type": ["int", "long"]}}', { a: 5.5 });
    mismatches('{"a": {"$$type": "int"}}', { a: new Double(1) });
    mismatches('{"a": {"$$type": "long"}}', { a: new Int32(1) });
    for (
      const v of [
        1,
        2.5,
        3n,
        new Int32(1),
        new Double(2),
        new Int64(3),
        Decimal128.fromString("1.5"),
      ]
    ) {
      matches('{"a": {"$$type": "number"}}', { a: v });
    }
    mismatches('{"a": {"$$type": "number"}}', { a: "1" });
    matches('{"a": {"$$type": "objectId"}}', { a: new ObjectId() });
    matches('{"a": {"$$type": "object"}}', { a: { b: 1 } });
    matches('{"a": {"$$type": "array"}}', { a: [1, "x"] }); // the elements' types are not examined
    mismatches('{"a": {"$$type": "object"}}', { a: [] });
    matches('{"a": {"$$type": "binData"}}', {
      a: new Binary(new Uint8Array(1)),
    });
    matches('{"a": {"$$type": "date"}}', { a: new Date() });
    matches('{"a": {"$$type": "bool"}}', { a: false });
    matches('{"a": {"$$type": "null"}}', { a: null });
    assert.throws(
      () => match(x('{"a": {"$$type": "integer"}}'), { a: 1 }),
      MatcherUsageError,
    );
  });

  test("$$unsetOrMatches", () => {
    matches('{"id": {"$$unsetOrMatches": 2}}', {});
    matches('{"id": {"$$unsetOrMatches": 2}}', { id: 2 });
    mismatches('{"id": {"$$unsetOrMatches": 2}}', { id: 3 });
    // As a whole result: an unset value matches; a present one is matched (still root-level).
    match(x('{"$$unsetOrMatches": {"n": 1}}'), undefined);
    match(x('{"$$unsetOrMatches": {"n": 1}}'), { n: 1, extra: true });
    assert.throws(
      () => match(x('{"$$unsetOrMatches": {"n": 1}}'), { n: 2 }),
      MatchError,
    );
    // Nested: the inner document is still not root-level.
    mismatches('{"r": {"$$unsetOrMatches": {"n": 1}}}', {
      r: { n: 1, extra: 1 },
    });
  });

  test("$$matchesEntity", () => {
    matches('{"_id": {"$$matchesEntity": "oid0"}}', {
      _id: new ObjectId("000000000000000000000007"),
    }, { ctx });
    mismatches('{"_id": {"$$matchesEntity": "oid0"}}', {
      _id: new ObjectId("000000000000000000000008"),
    }, { ctx });
    assert.throws(
      () => match(x('{"_id": {"$$matchesEntity": "nope"}}'), { _id: 1 }, { ctx }),
      MatcherUsageError,
    );
  });

  test("$$matchesHexBytes", () => {
    matches('{"s": {"$$matchesHexBytes": "6869"}}', { s: "hi" });
    matches('{"s": {"$$matchesHexBytes": "6869"}}', {
      s: new Binary(new Uint8Array([0x68, 0x69])),
    });
    matches('{"s": {"$$matchesHexBytes": ""}}', { s: "" });
    mismatches('{"s": {"$$matchesHexBytes": "6869"}}', { s: "ho" });
    assert.throws(
      () => match(x('{"s": {"$$matchesHexBytes": "686"}}'), { s: "h" }),
      MatcherUsageError,
    );
  });

  test("$$sessionLsid", () => {
    matches('{"lsid": {"$$sessionLsid": "session0"}}', {
      lsid: { id: new Binary(new Uint8Array(16), 4) },
    }, { ctx });
    const other = new Uint8Array(16);
    other[0] = 1;
    mismatches('{"lsid": {"$$sessionLsid": "session0"}}', {
      lsid: { id: new Binary(other, 4) },
    }, { ctx });
    assert.throws(
      () => match(x('{"lsid": {"$$sessionLsid": "s9"}}'), { lsid: lsid }, { ctx }),
      MatcherUsageError,
    );
  });

  test("$$lte, with flexible numerics", () => {
    matches('{"n": {"$$lte": 1}}', { n: 1.0 });
    matches('{"n": {"$$lte": 1}}', { n: 0 });
    matches('{"n": {"$$lte": 5}}', { n: 5n });
    mismatches('{"n": {"$$lte": 1}}', { n: 1.1 });
    mismatches('{"n": {"$$lte": 1}}', { n: "0" });
    mismatches('{"n": {"$$lte": 1}}', {});
  });

  test("$$matchAsDocument: parses an Extended JSON string, matched as a nested document", () => {
    matches('{"j": {"$$matchAsDocument": {"x": 1, "y": "two"}}}', {
      j: '{"x": 1, "y": "two"}',
    });
    matches('{"j": {"$$matchAsDocument": {"x": {"$$type": "long"}}}}', {
      j: '{"x": {"$numberLong": "1"}}',
    });
    mismatches('{"j": {"$$matchAsDocument": {"x": 1}}}', {
      j: '{"x": 1, "y": "two"}',
    }); // no extra fields
    mismatches('{"j": {"$$matchAsDocument": {"x": 1}}}', { j: '{"x": 2}' });
    mismatches('{"j": {"$$matchAsDocument": {"x": 1}}}', { j: "[1]" });
    mismatches('{"j": {"$$matchAsDocument": {"x": 1}}}', { j: "{not json" });
    mismatches('{"j": {"$$matchAsDocument": {"x": 1}}}', { j: { x: 1 } });
  });

  test("$$matchAsRoot: a nested document allowed extra keys", () => {
    matches('{"x": {"$$matchAsRoot": {"y": 1}}}', { x: { y: 1, z: 2 } });
    mismatches('{"x": {"$$matchAsRoot": {"y": 3}}}', { x: { y: 1, z: 2 } });
    matches('{"j": {"$$matchAsDocument": {"$$matchAsRoot": {"x": 1}}}}', {
      j: '{"x": 1, "y": 2}',
    });
    mismatches('{"j": {"$$matchAsDocument": {"$$matchAsRoot": {}}}}', {
      j: "1",
    });
  });

  test("the path of a mismatch is in the message", () => {
    assert.throws(
      () => match(x('{"a": {"b": [1, {"c": 2}]}}'), { a: { b: [1, { c: 3 }] } }),
      /\$\.a\.b\[1\]\.c/,
    );
  });
});
