// Extended JSON beyond the corpus: the JS value mapping, both modes, legacy
// input forms, error cases, and a differential round trip through js-bson.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BSON, EJSON as JsBsonEJSON } from "bson";
import { EJSON } from "../../src/bson/ejson.ts";
import { encode } from "../../src/bson/encode.ts";
import { decode } from "../../src/bson/decode.ts";
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  Code,
  DateTime,
  DBPointer,
  Decimal128,
  type Document,
  Double,
  Int32,
  Int64,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "../../src/bson/types.ts";
import { BSONError } from "../../src/errors.ts";

const canonical = { relaxed: false } as const;

function throwsBSON(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BSONError, `expected BSONError, got ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

describe("EJSON.stringify", () => {
  test("JS numbers follow the encoder's int32/double rule", () => {
    assert.equal(EJSON.stringify({ a: 1 }), '{"a":1}');
    assert.equal(EJSON.stringify({ a: 1 }, canonical), '{"a":{"$numberInt":"1"}}');
    assert.equal(EJSON.stringify({ a: 1.5 }), '{"a":1.5}');
    assert.equal(EJSON.stringify({ a: 1.5 }, canonical), '{"a":{"$numberDouble":"1.5"}}');
    // Integral but outside int32: a double, so relaxed keeps it non-integer.
    assert.equal(EJSON.stringify({ a: 2 ** 31 }), '{"a":2147483648.0}');
    assert.equal(EJSON.stringify({ a: 2 ** 31 }, canonical), '{"a":{"$numberDouble":"2147483648.0"}}');
    assert.equal(EJSON.stringify({ a: -0 }), '{"a":-0.0}');
    assert.equal(EJSON.stringify({ a: -0 }, canonical), '{"a":{"$numberDouble":"-0.0"}}');
    assert.equal(EJSON.stringify({ a: NaN }), '{"a":{"$numberDouble":"NaN"}}');
    assert.equal(EJSON.stringify({ a: -Infinity }), '{"a":{"$numberDouble":"-Infinity"}}');
    assert.equal(EJSON.stringify({ a: 1e300 }, canonical), '{"a":{"$numberDouble":"1.0E+300"}}');
    assert.equal(EJSON.stringify({ a: 1.2345678921232e18 }), '{"a":1.2345678921232E+18}');
    assert.equal(EJSON.stringify({ a: 5e-324 }), '{"a":5.0E-324}');
    assert.equal(EJSON.stringify({ a: 1e-7 }), '{"a":1.0E-7}');
    assert.equal(EJSON.stringify({ a: 0.000001 }), '{"a":0.000001}');
  });

  test("bigint is int64: exact digits in relaxed mode", () => {
    assert.equal(EJSON.stringify({ a: 2n ** 63n - 1n }), '{"a":9223372036854775807}');
    assert.equal(EJSON.stringify({ a: -(2n ** 63n) }, canonical), '{"a":{"$numberLong":"-9223372036854775808"}}');
    throwsBSON(() => EJSON.stringify({ a: 2n ** 63n }), /int64 range/);
  });

  test("wrappers in canonical and relaxed form", () => {
    const id = new ObjectId("57e193d7a9cc81b4027498b5");
    const doc = {
      i: new Int32(7),
      l: new Int64(7n),
      d: new Double(7),
      dec: Decimal128.fromString("1234.5"),
      id,
      bin: new Binary(new Uint8Array([1, 2, 3]), 0x80),
      uuid: new UUID("c8edabc3-f738-4ca3-b68d-ab92a91478a3"),
      code: new Code("function() {}"),
      scoped: new Code("f()", { x: 1 }),
      ts: new Timestamp({ t: 42, i: 1 }),
      re: new BSONRegExp("foo*", "xi"),
      sym: new BSONSymbol("s"),
      ptr: new DBPointer("db.c", id),
      undef: new BSONUndefined(),
      min: new MinKey(),
      max: new MaxKey(),
      date: new Date(Date.UTC(2012, 11, 24, 12, 15, 30, 501)),
    };
    assert.equal(
      EJSON.stringify(doc, canonical),
      '{"i":{"$numberInt":"7"},"l":{"$numberLong":"7"},"d":{"$numberDouble":"7.0"},' +
        '"dec":{"$numberDecimal":"1234.5"},"id":{"$oid":"57e193d7a9cc81b4027498b5"},' +
        '"bin":{"$binary":{"base64":"AQID","subType":"80"}},' +
        '"uuid":{"$binary":{"base64":"yO2rw/c4TKO2jauSqRR4ow==","subType":"04"}},' +
        '"code":{"$code":"function() {}"},"scoped":{"$code":"f()","$scope":{"x":{"$numberInt":"1"}}},' +
        '"ts":{"$timestamp":{"t":42,"i":1}},"re":{"$regularExpression":{"pattern":"foo*","options":"ix"}},' +
        '"sym":{"$symbol":"s"},"ptr":{"$dbPointer":{"$ref":"db.c","$id":{"$oid":"57e193d7a9cc81b4027498b5"}}},' +
        '"undef":{"$undefined":true},"min":{"$minKey":1},"max":{"$maxKey":1},' +
        '"date":{"$date":{"$numberLong":"1356351330501"}}}',
    );
    assert.equal(
      EJSON.stringify({ i: new Int32(7), l: new Int64(7n), d: new Double(7), date: doc.date }),
      '{"i":7,"l":7,"d":7.0,"date":{"$date":"2012-12-24T12:15:30.501Z"}}',
    );
  });

  test("dates: ISO only for years 1970-9999 in relaxed mode, whole seconds without a fraction", () => {
    assert.equal(EJSON.stringify({ d: new Date(0) }), '{"d":{"$date":"1970-01-01T00:00:00Z"}}');
    assert.equal(EJSON.stringify({ d: new Date(-1) }), '{"d":{"$date":{"$numberLong":"-1"}}}');
    assert.equal(EJSON.stringify({ d: new Date(253402300799999) }), '{"d":{"$date":"9999-12-31T23:59:59.999Z"}}');
    assert.equal(
      EJSON.stringify({ d: new Date(253402300800000) }),
      '{"d":{"$date":{"$numberLong":"253402300800000"}}}',
    );
    assert.equal(
      EJSON.stringify({ d: new DateTime(2n ** 62n) }),
      '{"d":{"$date":{"$numberLong":"4611686018427387904"}}}',
    );
    throwsBSON(() => EJSON.stringify({ d: new Date(NaN) }), /invalid Date/);
  });

  test("JS RegExp, raw bytes, Map, undefined", () => {
    assert.equal(
      EJSON.stringify({ r: /a+b/gmiy }),
      '{"r":{"$regularExpression":{"pattern":"a+b","options":"im"}}}',
    );
    assert.equal(
      EJSON.stringify({ b: new Uint8Array([255, 255]) }),
      '{"b":{"$binary":{"base64":"//8=","subType":"00"}}}',
    );
    assert.equal(EJSON.stringify(new Map<string, unknown>([["z", 1], ["a", "x"]])), '{"z":1,"a":"x"}');
    assert.equal(EJSON.stringify({ a: undefined, b: [undefined, 1] }), '{"b":[null,1]}');
    throwsBSON(() => EJSON.stringify(undefined), /undefined/);
    throwsBSON(() => EJSON.stringify({ f() {} }), /function/);
    throwsBSON(() => EJSON.stringify({ s: Symbol("x") }), /symbol/);
    throwsBSON(() => EJSON.stringify({ s: new Set([1]) }), /Set/);
    throwsBSON(() => EJSON.stringify({ s: new Float64Array(1) }), /Float64Array/);
    throwsBSON(() => EJSON.stringify(new Map<unknown, unknown>([[1, 1]])), /keys must be strings/);
  });

  test("cycles, NUL keys and excessive depth are BSONErrors", () => {
    const a: Document = { x: 1 };
    a.self = a;
    throwsBSON(() => EJSON.stringify(a), /cyclic/);
    const arr: unknown[] = [];
    arr.push(arr);
    throwsBSON(() => EJSON.stringify({ arr }), /cyclic/);
    throwsBSON(() => EJSON.stringify({ "a\0b": 1 }), /NUL/);
    let deep: Document = {};
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    throwsBSON(() => EJSON.stringify(deep), /nesting/);
    // The same object twice (not a cycle) is fine.
    const shared = { v: 1 };
    assert.equal(EJSON.stringify({ a: shared, b: shared }), '{"a":{"v":1},"b":{"v":1}}');
  });

  test("space indents like JSON.stringify", () => {
    const value = { a: "x", b: [true, null, { c: [] }], d: {}, e: [1, "y"] };
    assert.equal(EJSON.stringify(value, { space: 2 }), JSON.stringify(value, null, 2));
    assert.equal(EJSON.stringify(value, { space: "\t" }), JSON.stringify(value, null, "\t"));
    assert.equal(EJSON.stringify(value, { space: 20 }), JSON.stringify(value, null, 20));
    assert.equal(EJSON.stringify(value, { space: 0 }), JSON.stringify(value));
  });

  test("strings are escaped as JSON requires", () => {
    const s = 'q"b\\s\u0000\u001f\u2028é😀\ud800';
    assert.equal(EJSON.stringify({ s }), JSON.stringify({ s }));
    assert.deepEqual(EJSON.parse(EJSON.stringify({ s })), { s });
  });
});

describe("EJSON.parse", () => {
  test("relaxed (default) gives decode's default values", () => {
    const doc = EJSON.parse(
      '{"i": 1, "big": 9007199254740993, "huge": 12345678901234567890123,' +
        '"x": 1.0, "neg": -0.0, "l": {"$numberLong": "5"}, "n": {"$numberInt": "-5"}, "d": {"$numberDouble": "1.0E+3"}}',
    );
    assert.deepStrictEqual(doc, {
      i: 1,
      big: 9007199254740993n,
      huge: 12345678901234567890123,
      x: 1,
      neg: -0,
      l: 5n,
      n: -5,
      d: 1000,
    });
  });

  test("relaxed: false gives lossless wrappers", () => {
    const doc = EJSON.parse('{"i": 1, "l": 3000000000, "x": 1.0, "z": -0}', canonical) as Document;
    assert.deepStrictEqual(doc, { i: new Int32(1), l: new Int64(3000000000n), x: new Double(1), z: new Int32(0) });
    assert.deepStrictEqual(EJSON.parse('{"d": {"$numberDouble": "-0.0"}}', canonical), { d: new Double(-0) });
    assert.ok(Object.is((EJSON.parse('{"d": -0.0}', canonical) as { d: Double }).d.value, -0));
  });

  test("top-level values other than documents", () => {
    assert.equal(EJSON.parse('"s"'), "s");
    assert.equal(EJSON.parse(" 5 "), 5);
    assert.equal(EJSON.parse("null"), null);
    assert.deepStrictEqual(EJSON.parse('[1, {"$numberLong": "2"}]'), [1, 2n]);
    assert.equal(EJSON.parse('{"$numberLong": "42"}'), 42n);
  });

  test("__proto__ is an own key, and duplicate keys keep the first position and the last value", () => {
    const doc = EJSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Document;
    assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    assert.deepEqual(Object.keys(doc), ["__proto__", "a"]);
    assert.equal(({} as Document).polluted, undefined);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(doc, "__proto__")?.value, { polluted: true });
    assert.equal(EJSON.stringify(doc), '{"__proto__":{"polluted":true},"a":1}');
    const dup = EJSON.parse('{"a": 1, "b": 2, "a": 3}') as Document;
    assert.deepEqual(Object.entries(dup), [["a", 3], ["b", 2]]);
  });

  test("$uuid, legacy $binary/$type, $type query operator", () => {
    const want = new UUID("73ffd264-44b3-4c69-90e8-e7d1dfc035d4");
    for (const s of ["73ffd264-44b3-4c69-90e8-e7d1dfc035d4", "73FFD26444B34C6990E8E7D1DFC035D4"]) {
      const got = (EJSON.parse(`{"u": {"$uuid": "${s}"}}`) as { u: UUID }).u;
      assert.ok(got instanceof UUID);
      assert.ok(got.equals(want));
    }
    throwsBSON(() => EJSON.parse('{"u": {"$uuid": "urn:uuid:73ffd264-44b3-4c69-90e8-e7d1dfc035d4"}}'), /\$uuid/);
    throwsBSON(() => EJSON.parse('{"u": {"$uuid": "73ffd264-44b3-4c69-90e8-e7d1dfc035d"}}'), /\$uuid/);
    const legacy = EJSON.parse('{"b": {"$binary": "AQID", "$type": "80"}}') as { b: Binary };
    assert.deepStrictEqual(legacy.b, new Binary(new Uint8Array([1, 2, 3]), 0x80));
    throwsBSON(() => EJSON.parse('{"b": {"$binary": "AQID"}}'), /\$type/);
    assert.deepStrictEqual(EJSON.parse('{"x": {"$type": "string"}}'), { x: { $type: "string" } });
    assert.deepStrictEqual(EJSON.parse('{"x": {"$type": 2}}', canonical), { x: { $type: new Int32(2) } });
    // Subtype 4 with 16 bytes is a UUID, as decode gives.
    const b = EJSON.parse('{"b": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "4"}}}') as {
      b: Binary;
    };
    assert.ok(b.b instanceof UUID);
  });

  test("base64 and subtype are checked", () => {
    const bin = (base64: string, subType = "00") => () =>
      EJSON.parse(`{"b": {"$binary": {"base64": "${base64}", "subType": "${subType}"}}}`);
    throwsBSON(bin("AQI"), /multiple of 4/);
    throwsBSON(bin("AQ=D"), /invalid character/);
    throwsBSON(bin("AQI*"), /invalid character/);
    throwsBSON(bin("A-_B"), /invalid character/);
    throwsBSON(bin("AQID", "100"), /hex/);
    throwsBSON(bin("AQID", "g"), /hex/);
    throwsBSON(bin("AQID", ""), /hex/);
    assert.deepStrictEqual((bin("", "FF")() as { b: Binary }).b, new Binary(new Uint8Array(0), 255));
    const all = new Uint8Array(256).map((_, i) => i);
    const text = EJSON.stringify({ b: new Binary(all) });
    assert.deepStrictEqual((EJSON.parse(text) as { b: Binary }).b.buffer, all);
  });

  test("legacy $regex / $options, and $regex as a query operator", () => {
    assert.deepStrictEqual(EJSON.parse('{"r": {"$regex": "^a", "$options": "mi"}}'), { r: new BSONRegExp("^a", "im") });
    assert.deepStrictEqual(EJSON.parse('{"r": {"$regex": "^a"}}'), { r: new BSONRegExp("^a", "") });
    assert.deepStrictEqual(EJSON.parse('{"r": {"$regex": {"$regularExpression": {"pattern": "p", "options": ""}}}}'), {
      r: { $regex: new BSONRegExp("p", "") },
    });
    assert.deepStrictEqual(EJSON.parse('{"r": {"$regex": "a", "other": 1}}'), { r: { $regex: "a", other: 1 } });
  });

  test("$date: ISO-8601 with offsets and fractions, $numberLong, range", () => {
    const ms = Date.UTC(2012, 11, 24, 12, 15, 30, 501);
    for (
      const s of [
        "2012-12-24T12:15:30.501Z",
        "2012-12-24T13:15:30.501+01:00",
        "2012-12-24T11:45:30.501-0030",
        "2012-12-24t12:15:30.501z",
        "2012-12-24T12:15:30.501999Z",
      ]
    ) {
      assert.deepStrictEqual(EJSON.parse(`{"d": {"$date": "${s}"}}`), { d: new Date(ms) }, s);
    }
    assert.equal(
      (EJSON.parse('{"d": {"$date": "0001-01-01T00:00:00Z"}}') as { d: Date }).d.toISOString(),
      "0001-01-01T00:00:00.000Z",
    );
    assert.deepStrictEqual(EJSON.parse('{"d": {"$date": {"$numberLong": "-1"}}}'), { d: new Date(-1) });
    assert.deepStrictEqual(EJSON.parse('{"d": {"$date": {"$numberLong": "9223372036854775807"}}}'), {
      d: new DateTime(2n ** 63n - 1n),
    });
    for (
      const bad of [
        '"2012-02-30T00:00:00Z"',
        '"2012-13-01T00:00:00Z"',
        '"2012-12-24T24:00:00Z"',
        '"2012-12-24 12:15:30Z"',
        '"2012-12-24T12:15:30"',
        '"yesterday"',
        "42",
        "null",
        '{"$numberLong": 5}',
        '{"$numberLong": "9223372036854775808"}',
        '{"$numberInt": "5"}',
      ]
    ) {
      throwsBSON(() => EJSON.parse(`{"d": {"$date": ${bad}}}`), /\$date|\$numberLong/);
    }
    assert.deepStrictEqual(EJSON.parse('{"d": {"$date": "2000-02-29T00:00:00Z"}}'), {
      d: new Date(Date.UTC(2000, 1, 29)),
    });
    throwsBSON(() => EJSON.parse('{"d": {"$date": "1900-02-29T00:00:00Z"}}'));
  });

  test("numeric wrappers reject wrong text and out-of-range values", () => {
    const bad = [
      '{"$numberInt": "2147483648"}',
      '{"$numberInt": "1.0"}',
      '{"$numberInt": " 1"}',
      '{"$numberInt": ""}',
      '{"$numberLong": "9223372036854775808"}',
      '{"$numberLong": "-9223372036854775809"}',
      '{"$numberLong": "1e3"}',
      '{"$numberDouble": "1e400"}',
      '{"$numberDouble": "abc"}',
      '{"$numberDouble": "inf"}',
      '{"$numberDouble": 1.5}',
      '{"$numberDecimal": "1.2.3"}',
      '{"$timestamp": {"t": 4294967296, "i": 0}}',
      '{"$timestamp": {"t": 1.0, "i": 0}}',
      '{"$timestamp": {"t": -1, "i": 0}}',
      '{"$minKey": 1.0}',
      '{"$maxKey": "1"}',
      '{"$undefined": false}',
      '{"$oid": "0123456789abcdef0123456"}',
      '{"$oid": "0123456789abcdef0123456g"}',
      '{"$symbol": 1}',
      '{"$scope": {}}',
      '{"$code": "x", "$scope": []}',
      '{"$dbPointer": {"$ref": "a.b", "$id": "57e193d7a9cc81b4027498b5"}}',
    ];
    for (const s of bad) throwsBSON(() => EJSON.parse(`{"v": ${s}}`), undefined);
    assert.deepStrictEqual(EJSON.parse('{"v": {"$numberDouble": "-0.0"}}'), { v: -0 });
    assert.deepStrictEqual(EJSON.parse('{"v": {"$numberDouble": "1.0E+3"}}', canonical), { v: new Double(1000) });
    assert.deepStrictEqual(EJSON.parse('{"v": {"$timestamp": {"t": 4294967295, "i": 0}}}'), {
      v: new Timestamp({ t: 4294967295, i: 0 }),
    });
  });

  test("unknown $-keys and DBRefs stay documents", () => {
    const text = '{"ref": {"$ref": "c", "$id": {"$oid": "57e193d7a9cc81b4027498b5"}, "$db": "d", "x": 1}, "$k": 2}';
    assert.deepStrictEqual(EJSON.parse(text), {
      ref: { $ref: "c", $id: new ObjectId("57e193d7a9cc81b4027498b5"), $db: "d", x: 1 },
      $k: 2,
    });
  });

  test("NUL characters in keys and regex parts are rejected; in values they are fine", () => {
    throwsBSON(() => EJSON.parse('{"a\\u0000": 1}'), /NUL/);
    throwsBSON(() => EJSON.parse('{"r": {"$regex": "a\\u0000"}}'), /NUL/);
    assert.deepStrictEqual(EJSON.parse('{"a": "x\\u0000y"}'), { a: "x\0y" });
  });

  test("malformed JSON is a BSONError with the offset", () => {
    const bad: [string, RegExp][] = [
      ["", /expected a JSON value/],
      ["{", /expected a string key/],
      ['{"a" 1}', /expected ':'/],
      ['{"a": 1,}', /expected a string key/],
      ["[1,]", /expected a JSON value/],
      ["[1 2]", /expected ',' or '\]'/],
      ["{'a': 1}", /expected a string key/],
      ['{"a": NaN}', /expected a JSON value/],
      ['{"a": 01}', /after the JSON value|expected ','/],
      ['{"a": 1.}', /digit after '.'/],
      ['{"a": 1e}', /exponent/],
      ['{"a": -}', /expected a digit/],
      ['{"a": "x', /unterminated/],
      ['{"a": "\t"}', /control character/],
      ['{"a": "\\x"}', /invalid escape/],
      ['{"a": "\\u12G4"}', /\\u escape/],
      ['{"a": tru}', /expected true/],
      ["{} {}", /after the JSON value/],
    ];
    for (const [text, pattern] of bad) {
      assert.throws(() => EJSON.parse(text), (e: unknown) => {
        assert.ok(e instanceof BSONError, `${text}: ${e}`);
        assert.match(e.message, pattern, text);
        assert.equal(typeof e.offset, "number", text);
        return true;
      });
    }
    throwsBSON(() => EJSON.parse(5 as unknown as string), /needs a string/);
  });

  test("deep nesting is refused with a BSONError, not a stack overflow", () => {
    throwsBSON(() => EJSON.parse("[".repeat(100_000) + "]".repeat(100_000)), /nesting/);
    throwsBSON(() => EJSON.parse('{"a":'.repeat(5000) + "1" + "}".repeat(5000)), /nesting/);
    // 200 levels (what the spec asks a parser to support) are fine.
    const ok = '{"a":'.repeat(200) + "1" + "}".repeat(200);
    assert.equal(EJSON.stringify(EJSON.parse(ok)), ok);
  });

  test("strings: escapes and surrogate pairs", () => {
    assert.deepStrictEqual(EJSON.parse('["\\ud83d\\ude00", "\\/\\b\\f\\n\\r\\t\\"\\\\", "é😀"]'), [
      "😀",
      '/\b\f\n\r\t"\\',
      "é😀",
    ]);
  });
});

describe("EJSON.serialize / deserialize", () => {
  test("serialize gives a plain JSON tree; relaxed keeps unsafe int64 and -0.0 as wrappers", () => {
    const tree = EJSON.serialize({ a: 1, b: 2n ** 60n, c: 5n, d: -0, e: 1.5, f: new Date(0) });
    assert.deepStrictEqual(tree, {
      a: 1,
      b: { $numberLong: "1152921504606846976" },
      c: 5,
      d: { $numberDouble: "-0.0" },
      e: 1.5,
      f: { $date: "1970-01-01T00:00:00Z" },
    });
    assert.deepStrictEqual(EJSON.serialize({ a: 1, b: 2n }, canonical), {
      a: { $numberInt: "1" },
      b: { $numberLong: "2" },
    });
  });

  test("deserialize reads a JSON.parse tree; integral numbers are typed by value", () => {
    const tree = JSON.parse(
      '{"a": 1, "b": 3000000000, "c": 1.5, "d": {"$oid": "57e193d7a9cc81b4027498b5"}, "e": [1e300]}',
    );
    assert.deepStrictEqual(EJSON.deserialize(tree), {
      a: 1,
      b: 3000000000n,
      c: 1.5,
      d: new ObjectId("57e193d7a9cc81b4027498b5"),
      e: [1e300],
    });
    assert.deepStrictEqual(EJSON.deserialize(tree, canonical), {
      a: new Int32(1),
      b: new Int64(3000000000n),
      c: new Double(1.5),
      d: new ObjectId("57e193d7a9cc81b4027498b5"),
      e: [new Double(1e300)],
    });
    throwsBSON(() => EJSON.deserialize({ d: new Date(0) }), /not a JSON value/);
    throwsBSON(() => EJSON.deserialize({ "$numberInt": 5 }), /\$numberInt/);
  });

  test("canonical serialize -> JSON text -> deserialize is lossless", () => {
    const doc = {
      i: new Int32(-3),
      l: new Int64(-(2n ** 63n)),
      d: new Double(-0),
      big: 2n ** 62n,
      ts: new Timestamp({ t: 1, i: 2 }),
      date: new DateTime(-(2n ** 60n)),
      nested: [{ x: new Double(1) }],
    };
    const back = EJSON.deserialize(JSON.parse(JSON.stringify(EJSON.serialize(doc, canonical))), canonical) as Document;
    assert.deepStrictEqual(encode(back), encode(doc));
  });
});

// --- differential round trip through js-bson ---------------------------------

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function randomString(next: () => number): string {
  const n = Math.floor(next() * 8);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.6) s += String.fromCharCode(32 + Math.floor(next() * 95));
    else if (r < 0.7) s += String.fromCharCode(Math.floor(next() * 32));
    else if (r < 0.9) s += String.fromCharCode(0xa0 + Math.floor(next() * 0xd700));
    else s += String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff));
  }
  return s;
}

function randomDouble(next: () => number): number {
  const specials = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 2 ** 53, 1e16, 1e21, 0.1];
  const r = next();
  if (r < 0.2) return specials[Math.floor(next() * specials.length)];
  if (r < 0.4) return Math.floor((next() - 0.5) * 2 ** 40) + 0.5;
  return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
}

function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 16 : 18));
  switch (kind) {
    case 0:
      return Math.floor((next() - 0.5) * 2 ** 32) | 0;
    case 1:
      return new Double(randomDouble(next));
    case 2:
      return BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * BigInt(Math.floor(next() * 1024));
    case 3:
      return randomString(next);
    case 4:
      return next() < 0.5;
    case 5:
      return null;
    case 6:
      return new Date(Math.floor((next() - 0.5) * 2 * 8.64e15));
    case 7: {
      const id = new Uint8Array(12);
      for (let i = 0; i < 12; i++) id[i] = Math.floor(next() * 256);
      return new ObjectId(id);
    }
    case 8: {
      const bytes = new Uint8Array(Math.floor(next() * 20));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      const sub = [0, 1, 5, 0x80, 0xff][Math.floor(next() * 5)];
      return new Binary(bytes, sub);
    }
    case 9: {
      const bytes = new Uint8Array(16);
      for (let i = 0; i < 16; i++) bytes[i] = Math.floor(next() * 256);
      return new UUID(bytes);
    }
    case 10: {
      let digits = String(Math.floor(next() * 1e15));
      if (next() < 0.5) digits += String(Math.floor(next() * 1e15));
      return Decimal128.fromString(`${next() < 0.5 ? "-" : ""}${digits}E${Math.floor(next() * 200) - 100}`);
    }
    case 11:
      return new Timestamp({ t: Math.floor(next() * 2 ** 32), i: Math.floor(next() * 2 ** 32) });
    case 12:
      return new BSONRegExp(
        randomString(next).replaceAll("\0", ""),
        ["", "i", "imsx", "mx", "lu"][Math.floor(next() * 5)],
      );
    case 13:
      return new Code(randomString(next));
    case 14:
      return next() < 0.5 ? new MinKey() : new MaxKey();
    case 15:
      return new Int64(BigInt(Math.floor((next() - 0.5) * 2 ** 31)));
    case 16:
      return randomDocument(next, depth + 1);
    default: {
      const n = Math.floor(next() * 5);
      const arr: unknown[] = [];
      for (let i = 0; i < n; i++) arr.push(randomValue(next, depth + 1));
      return arr;
    }
  }
}

function randomDocument(next: () => number, depth: number): Document {
  const doc: Document = {};
  const n = Math.floor(next() * 6);
  for (let i = 0; i < n; i++) doc[`k${randomString(next).replaceAll("\0", "")}`] = randomValue(next, depth);
  return doc;
}

describe("EJSON against js-bson (dev-only oracle)", () => {
  test("2,000 random documents: our canonical EJSON read by js-bson, and js-bson's read by us, give the same BSON", () => {
    const next = rng(0xe150);
    for (let i = 0; i < 2000; i++) {
      const doc = randomDocument(next, 0);
      const bytes = encode(doc);
      const ours = EJSON.stringify(doc, canonical);
      const viaJsBson = BSON.serialize(JsBsonEJSON.parse(ours, { relaxed: false }) as Document);
      assert.equal(hex(viaJsBson), hex(bytes), `js-bson reading our text (iteration ${i}): ${ours}`);
      const theirs = JsBsonEJSON.stringify(BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true }), {
        relaxed: false,
      });
      assert.equal(
        hex(encode(EJSON.parse(theirs, canonical) as Document)),
        hex(bytes),
        `us reading js-bson's text (iteration ${i}): ${theirs}`,
      );
      // And our own round trip, through the text and through a JSON tree.
      assert.deepStrictEqual(
        encode(EJSON.parse(ours, canonical) as Document),
        bytes,
        `our round trip (iteration ${i})`,
      );
      const tree = JSON.parse(JSON.stringify(EJSON.serialize(doc, canonical)));
      assert.deepStrictEqual(
        encode(EJSON.deserialize(tree, canonical) as Document),
        bytes,
        `tree round trip (iteration ${i})`,
      );
      // Relaxed text parses back to what decode gives by default, wherever relaxed is exact.
      const relaxedText = EJSON.stringify(decode(bytes, { promoteValues: false }));
      assert.doesNotThrow(() => EJSON.parse(relaxedText), `relaxed text parses (iteration ${i})`);
    }
  });
});

// --- robustness: mutated corpus texts ----------------------------------------

describe("EJSON.parse robustness", () => {
  test("20,000 mutated Extended JSON texts: parse or BSONError; what parses is stable and encodes", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const dir = new URL("../spec/bson-corpus/", import.meta.url);
    const seeds: string[] = [];
    for (const f of readdirSync(dir).filter((n: string) => n.endsWith(".json")).sort()) {
      const data = JSON.parse(readFileSync(new URL(f, dir), "utf8"));
      for (const c of data.valid ?? []) {
        for (const k of ["canonical_extjson", "relaxed_extjson", "degenerate_extjson"]) {
          if (typeof c[k] === "string" && c[k].length < 2000) seeds.push(c[k]);
        }
      }
      for (const c of data.parseErrors ?? []) if (data.bson_type !== "0x13") seeds.push(c.string);
    }
    assert.ok(seeds.length > 100, "corpus seeds found");
    const alphabet = [
      "{",
      "}",
      "[",
      "]",
      '"',
      ":",
      ",",
      "$",
      "0",
      "1",
      "9",
      "-",
      ".",
      "e",
      "E",
      "+",
      "\\",
      " ",
      "a",
      "n",
    ];
    const words = [
      '"$numberLong"',
      '"$date"',
      '"$oid"',
      '"$binary"',
      '"$regex"',
      '"$code"',
      '"$scope"',
      "1",
      '"x"',
      "{}",
    ];
    const next = rng(0xf022);
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      let t = seeds[Math.floor(next() * seeds.length)];
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (t.length + 1));
        const r = next();
        if (r < 0.3) t = t.slice(0, at) + t.slice(at + 1);
        else if (r < 0.6) t = t.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + t.slice(at);
        else if (r < 0.8) t = t.slice(0, at) + words[Math.floor(next() * words.length)] + t.slice(at);
        else {
          const from = Math.floor(next() * t.length);
          t = t.slice(0, at) + t.slice(from, from + Math.floor(next() * 12)) + t.slice(at);
        }
      }
      let value: unknown;
      try {
        value = EJSON.parse(t, canonical);
      } catch (err) {
        assert.ok(err instanceof BSONError, `non-BSONError for ${JSON.stringify(t)}: ${err}`);
        continue;
      }
      parsed++;
      // What parses prints, and printing is a fixed point of parse -> stringify.
      const once = EJSON.stringify(value, canonical);
      assert.equal(EJSON.stringify(EJSON.parse(once, canonical), canonical), once, `unstable: ${JSON.stringify(t)}`);
      assert.doesNotThrow(
        () => EJSON.parse(EJSON.stringify(EJSON.parse(t)), canonical),
        `relaxed: ${JSON.stringify(t)}`,
      );
      if (
        value === null || typeof value !== "object" || Array.isArray(value) ||
        Object.getPrototypeOf(value) !== Object.prototype
      ) continue;
      let bytes: Uint8Array;
      try {
        bytes = encode(value as Document);
      } catch (err) {
        assert.ok(err instanceof BSONError, `encode threw a non-BSONError for ${JSON.stringify(t)}: ${err}`);
        continue;
      }
      assert.equal(
        EJSON.stringify(decode(bytes, { promoteValues: false }), canonical),
        once,
        `BSON round trip: ${JSON.stringify(t)}`,
      );
    }
    assert.ok(parsed > 1000, `only ${parsed} mutated texts parsed; the mutation is too destructive to test much`);
  });
});

describe("EJSON.stringify writers", () => {
  test("without JSON.rawJSON the fallback writer gives the same text", () => {
    const next = rng(0x7a11);
    const values: unknown[] = [
      { a: [], b: {}, c: [{}], d: "x\n\u2028", e: -0, f: 1e21, g: 2n ** 63n - 1n, h: new Double(3) },
      [1, "two", null, true, [new Int64(-5n)]],
      "top-level string",
      new Date(0),
    ];
    for (let i = 0; i < 300; i++) values.push(randomDocument(next, 0));
    const modes = [{}, canonical, { space: 2 }, { relaxed: false, space: "--" }, { space: 12 }];
    const expected = values.map((v) => modes.map((m) => EJSON.stringify(v, m)));
    const saved = Object.getOwnPropertyDescriptor(JSON, "rawJSON");
    try {
      delete (JSON as { rawJSON?: unknown }).rawJSON;
      assert.equal(typeof (JSON as { rawJSON?: unknown }).rawJSON, "undefined");
      values.forEach((v, i) => {
        modes.forEach((m, j) =>
          assert.equal(EJSON.stringify(v, m), expected[i][j], `value ${i}, mode ${JSON.stringify(m)}`)
        );
      });
    } finally {
      if (saved !== undefined) Object.defineProperty(JSON, "rawJSON", saved);
    }
  });
});

describe("EJSON error messages", () => {
  test("name the dotted path of the bad value", () => {
    throwsBSON(() => EJSON.parse('{"a": {"b": [1, {"$oid": "zz"}]}}'), /\$oid must be 24 hex digits.*\(at a\.b\.1\)/);
    throwsBSON(
      () => EJSON.parse('{"c": {"$code": "f", "$scope": {"x": {"$numberInt": "x"}}}}'),
      /\(at c\.\$scope\.x\)/,
    );
    throwsBSON(() => EJSON.parse('{"d": {"$numberDecimal": "1.2.3"}}'), /"1\.2\.3".*\(at d\)/);
    throwsBSON(() => EJSON.deserialize({ list: [{ $date: 42 }] }), /\$date.*\(at list\.0\)/);
    // A bad top-level wrapper has no path to name.
    throwsBSON(
      () => EJSON.parse('{"$numberInt": "x"}'),
      /^EJSON: \$numberInt must be a string of decimal digits, got "x"$/,
    );
  });
});
