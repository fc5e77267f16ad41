// Round trips of every BSON type through encode/decode, the JS <-> BSON
// mapping, the options, and the encoder's error messages.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { BSON } from "bson";
import {
  Binary,
  BSONError,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  ByteWriter,
  Code,
  DateTime,
  DBPointer,
  Decimal128,
  decode,
  type Document,
  Double,
  encode,
  encodeInto,
  Int32,
  Int64,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "../../src/bson/mod.ts";

const rt = (doc: Document, options?: Parameters<typeof decode>[1]) => decode(encode(doc), options);

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Type byte of the first element of an encoded document. */
function firstType(doc: Document): number {
  return encode(doc)[4];
}

function throwsBSON(fn: () => unknown, pattern?: RegExp): BSONError {
  let caught: unknown;
  assert.throws(fn, (e: unknown) => {
    caught = e;
    assert.ok(e instanceof BSONError, `expected BSONError, got ${e}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return true;
  });
  return caught as BSONError;
}

describe("numbers", () => {
  test("int32 bounds choose int32, beyond choose double", () => {
    for (const n of [0, 1, -1, 2147483647, -2147483648]) {
      assert.equal(firstType({ n }), 0x10, `${n}`);
      assert.equal(rt({ n }).n, n);
    }
    for (const n of [2147483648, -2147483649, 0.5, 1e300, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE]) {
      assert.equal(firstType({ n }), 0x01, `${n}`);
      assert.equal(rt({ n }).n, n);
    }
  });

  test("-0, NaN and infinities are doubles and survive", () => {
    assert.equal(firstType({ n: -0 }), 0x01);
    assert.ok(Object.is(rt({ n: -0 }).n, -0));
    assert.ok(Number.isNaN(rt({ n: NaN }).n));
    assert.equal(rt({ n: Infinity }).n, Infinity);
    assert.equal(rt({ n: -Infinity }).n, -Infinity);
    assert.equal(hex(encode({ d: NaN })), "10000000016400000000000000f87f00");
  });

  test("bigint is int64 across the whole range", () => {
    for (const n of [0n, -1n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      assert.equal(firstType({ n }), 0x12);
      assert.equal(rt({ n }).n, n);
    }
    throwsBSON(() => encode({ big: 2n ** 63n }), /"big".*int64/);
    throwsBSON(() => encode({ small: -(2n ** 63n) - 1n }), /int64/);
  });

  test('int64: "number" gives numbers only where exact', () => {
    const doc = rt({ a: 5n, b: 2n ** 53n - 1n, c: 2n ** 53n, d: -(2n ** 53n), e: -(2n ** 53n) + 1n, f: -1n }, {
      int64: "number",
    });
    assert.deepEqual(doc, { a: 5, b: 2 ** 53 - 1, c: 2n ** 53n, d: -(2n ** 53n), e: -(2 ** 53) + 1, f: -1 });
  });

  test("wrappers force the type; promoteValues:false returns them", () => {
    const doc = { d: new Double(1), i: new Int32(7), l: new Int64(7), ld: new Int64(-3n) };
    const bytes = encode(doc);
    const raw = decode(bytes, { promoteValues: false });
    assert.ok(raw.d instanceof Double && raw.d.value === 1);
    assert.ok(raw.i instanceof Int32 && raw.i.value === 7);
    assert.ok(raw.l instanceof Int64 && raw.l.value === 7n);
    assert.deepEqual(encode(raw), bytes);
    assert.deepEqual(decode(bytes), { d: 1, i: 7, l: 7n, ld: -3n });
  });

  test("a NaN payload survives a lossless round trip", () => {
    const bytes = Uint8Array.from([16, 0, 0, 0, 1, 100, 0, 0x12, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0]);
    assert.deepEqual(encode(decode(bytes, { promoteValues: false })), bytes);
  });
});

describe("strings and keys", () => {
  const samples = [
    "",
    "a",
    "hello world",
    "é",
    "☆",
    "日本語のテキスト",
    "😀 astral 🚀",
    "embedded\0nul",
    "x".repeat(63),
    "x".repeat(64),
    "y".repeat(600),
    "é".repeat(200),
    "mixé".repeat(100) + "😀",
    "\uFEFFleading BOM is kept",
  ];
  for (const s of samples) {
    test(`string value ${JSON.stringify(s.slice(0, 20))} (${s.length} units)`, () => {
      assert.equal(rt({ s }).s, s);
      const bytes = encode({ s });
      assert.deepEqual(bytes, new Uint8Array(BSON.serialize({ s })), "same bytes as js-bson");
    });
  }

  test("unicode keys, the empty key and astral keys", () => {
    const doc = { "": 1, "ключ": 2, "日本": 3, "😀": 4, ["k".repeat(100)]: 5, ["é".repeat(40)]: 6 };
    assert.deepEqual(rt(doc), doc);
    assert.deepEqual(encode(doc), new Uint8Array(BSON.serialize(doc)));
  });

  test("lone surrogates encode as U+FFFD, like TextEncoder", () => {
    const lone = ["\uD800", "a\uDC00b", "\uD83D", "x".repeat(70) + "\uDFFF", "\uD800".repeat(300)];
    for (const s of lone) {
      const expected = new TextDecoder().decode(new TextEncoder().encode(s));
      assert.equal(rt({ s }).s, expected);
      assert.equal(Object.keys(rt({ [s]: 1 }))[0], expected);
    }
  });

  test("__proto__ key becomes an own property and leaves the prototype alone", () => {
    const bytes = encode(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'));
    const doc = decode(bytes);
    assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    assert.ok(Object.hasOwn(doc, "__proto__"));
    assert.deepEqual(Object.keys(doc), ["__proto__", "a"]);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal((doc as Record<string, unknown>).polluted, undefined);
  });

  test("key order is kept and _id is neither moved nor added", () => {
    const doc = { z: 1, _id: 2, a: 3 };
    assert.deepEqual(Object.keys(rt(doc)), ["z", "_id", "a"]);
    assert.equal(rt({ a: 1 })._id, undefined);
  });
});

describe("dates", () => {
  test("Date round trips, including the edges of Date's range", () => {
    for (const ms of [0, 1, -1, 1700000000123, -62135596800000, 8.64e15, -8.64e15]) {
      const d = rt({ d: new Date(ms) }).d;
      assert.ok(d instanceof Date, `${ms}`);
      assert.equal(d.getTime(), ms);
    }
  });

  test("datetimes beyond Date's range decode to DateTime, losslessly", () => {
    for (const ms of [8640000000000001n, -8640000000000001n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n]) {
      const bytes = encode({ d: new DateTime(ms) });
      assert.equal(bytes[4], 0x09);
      const d = decode(bytes).d;
      assert.ok(d instanceof DateTime, `${ms}`);
      assert.equal(d.ms, ms);
      assert.deepEqual(encode(decode(bytes)), bytes);
    }
  });

  test("a DateTime inside Date's range decodes to a Date", () => {
    const d = rt({ d: new DateTime(1234n) }).d;
    assert.ok(d instanceof Date);
    assert.equal(d.getTime(), 1234);
  });

  test("an invalid Date is an error naming the key", () => {
    throwsBSON(() => encode({ when: new Date(NaN) }), /"when".*invalid Date/);
  });
});

describe("binary", () => {
  test("every subtype round trips; UUID for subtype 4 with 16 bytes", () => {
    for (const st of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xff]) {
      for (const len of [0, 3, 16, 100]) {
        const payload = Uint8Array.from({ length: len }, (_, i) => (i * 37 + st) & 0xff);
        const b = rt({ b: new Binary(payload, st) }).b as Binary;
        assert.ok(b instanceof Binary);
        assert.equal(b.subType, st);
        assert.deepEqual(Array.from(b.buffer), Array.from(payload));
        assert.equal(b instanceof UUID, st === 4 && len === 16, `subtype ${st} length ${len}`);
      }
    }
  });

  test("subtype 2 writes the inner length", () => {
    assert.equal(
      hex(encode({ x: new Binary(Uint8Array.from([0xff, 0xff]), 2) })),
      "13000000057800060000000202000000ffff00",
    );
  });

  test("Uint8Array, ArrayBuffer and DataView are subtype 0", () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    for (const v of [bytes, bytes.buffer, new DataView(bytes.buffer)]) {
      const b = rt({ v }).v as Binary;
      assert.equal(b.subType, 0);
      assert.deepEqual(Array.from(b.buffer), [1, 2, 3]);
    }
    const sub = Uint8Array.from([9, 1, 2, 9]).subarray(1, 3);
    assert.deepEqual(Array.from((rt({ sub }).sub as Binary).buffer), [1, 2]);
  });

  test("other typed arrays are refused rather than guessed", () => {
    throwsBSON(() => encode({ f: new Float64Array(2) }), /"f".*Float64Array/);
  });

  test("a Node Buffer as input still gives copies (Buffer#slice would alias)", () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const input = Buffer.from(encode({ b: payload, small: Uint8Array.from([1, 2]) }));
    const doc = decode(input);
    input.fill(0);
    assert.deepEqual(Array.from((doc.b as Binary).buffer), Array.from(payload));
    assert.deepEqual(Array.from((doc.small as Binary).buffer), [1, 2]);
  });

  test("decoded bytes are copies, not views of the input", () => {
    const id = new ObjectId();
    const bytes = encode({ id, b: new Uint8Array([5, 6]) });
    const doc = decode(bytes);
    bytes.fill(0, 4);
    assert.equal((doc.id as ObjectId).toHexString(), id.toHexString());
    assert.deepEqual(Array.from((doc.b as Binary).buffer), [5, 6]);
  });
});

describe("the other types", () => {
  test("ObjectId", () => {
    const id = new ObjectId();
    const back = rt({ id }).id as ObjectId;
    assert.ok(back instanceof ObjectId);
    assert.ok(back.equals(id));
  });

  test("Code and code with scope", () => {
    assert.equal(firstType({ c: new Code("f()") }), 0x0d);
    assert.equal(firstType({ c: new Code("f()", {}) }), 0x0f);
    const c = rt({ c: new Code("function () { return x; }", { x: 1, nested: { y: [2] } }) }).c as Code;
    assert.equal(c.code, "function () { return x; }");
    assert.deepEqual(c.scope, { x: 1, nested: { y: [2] } });
    const empty = rt({ c: new Code("x", {}) }).c as Code;
    assert.deepEqual(empty.scope, {});
    assert.equal((rt({ c: new Code("x") }).c as Code).scope, undefined);
  });

  test("regex: BSONRegExp options sorted on encode, kept on decode", () => {
    const bytes = encode({ r: new BSONRegExp("ab+c", "xmi") });
    assert.equal(hex(bytes.subarray(7, bytes.length - 1)), "61622b6300696d7800");
    const r = decode(bytes).r as BSONRegExp;
    assert.ok(r instanceof BSONRegExp);
    assert.equal(r.pattern, "ab+c");
    assert.equal(r.options, "imx");
    const raw = Uint8Array.from([0x10, 0, 0, 0, 0x0b, 0x61, 0, 0x61, 0x62, 0x63, 0, 0x6d, 0x69, 0x78, 0, 0]);
    assert.equal((decode(raw).a as BSONRegExp).options, "mix");
  });

  test("a JS RegExp maps its flags: i, m, s, u kept and sorted; g, y, d dropped", () => {
    const r = rt({ r: /a.b/gimsuyd }).r as BSONRegExp;
    assert.equal(r.pattern, "a.b");
    assert.equal(r.options, "imsu");
    assert.equal((rt({ r: /x/ }).r as BSONRegExp).options, "");
    assert.equal((rt({ r: /\d+\/x/i }).r as BSONRegExp).pattern, "\\d+\\/x");
  });

  test("Timestamp puts i in the low word and t in the high word", () => {
    const bytes = encode({ a: new Timestamp({ t: 123456789, i: 42 }) });
    assert.equal(hex(bytes), "100000001161002a00000015cd5b0700");
    const ts = decode(bytes).a as Timestamp;
    assert.ok(ts instanceof Timestamp);
    assert.equal(ts.t, 123456789);
    assert.equal(ts.i, 42);
    const max = rt({ a: new Timestamp({ t: 0xffffffff, i: 0xffffffff }) }).a as Timestamp;
    assert.equal(max.t, 0xffffffff);
    assert.equal(max.i, 0xffffffff);
  });

  test("deprecated types decode to their wrappers and re-encode identically", () => {
    const doc = {
      sym: new BSONSymbol("sym"),
      ptr: new DBPointer("db.coll", new ObjectId("56e1fc72e0c917e9c4714161")),
      und: new BSONUndefined(),
    };
    const bytes = encode(doc);
    const back = decode(bytes);
    assert.ok(back.sym instanceof BSONSymbol && back.sym.value === "sym");
    assert.ok(back.ptr instanceof DBPointer && back.ptr.namespace === "db.coll");
    assert.equal((back.ptr as DBPointer).id.toHexString(), "56e1fc72e0c917e9c4714161");
    assert.ok(back.und instanceof BSONUndefined);
    assert.deepEqual(encode(back), bytes);
  });

  test("MinKey, MaxKey, null, booleans", () => {
    const back = rt({ lo: new MinKey(), hi: new MaxKey(), n: null, t: true, f: false });
    assert.ok(back.lo instanceof MinKey);
    assert.ok(back.hi instanceof MaxKey);
    assert.deepEqual([back.n, back.t, back.f], [null, true, false]);
    assert.equal(firstType({ lo: new MinKey() }), 0xff);
    assert.equal(firstType({ hi: new MaxKey() }), 0x7f);
  });

  test("Decimal128 bytes pass through unchanged", () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x40, 0x30]);
    const back = rt({ d: new Decimal128(bytes) }).d as Decimal128;
    assert.ok(back instanceof Decimal128);
    assert.deepEqual(Array.from(back.bytes), Array.from(bytes));
    assert.equal(firstType({ d: new Decimal128(bytes) }), 0x13);
  });
});

describe("documents and arrays", () => {
  test("empty document and empty array", () => {
    assert.equal(hex(encode({})), "0500000000");
    assert.deepEqual(decode(encode({})), {});
    assert.deepEqual(rt({ a: [] }), { a: [] });
    assert.deepEqual(rt({ a: {} }), { a: {} });
  });

  test("array index keys are decimal strings, also past 10, 100 and 1000", () => {
    const arr = Array.from({ length: 1205 }, (_, i) => i);
    const bytes = encode({ arr });
    assert.deepEqual(bytes, new Uint8Array(BSON.serialize({ arr })));
    assert.deepEqual(decode(bytes).arr, arr);
  });

  test("deep nesting and mixed arrays", () => {
    const doc = { a: [[1, [2, [3, { b: [{}] }]]], { c: { d: { e: "f" } } }] };
    assert.deepEqual(rt(doc), doc);
  });

  test("undefined: skipped in documents by default, null with ignoreUndefined:false, null in arrays", () => {
    assert.deepEqual(rt({ a: undefined, b: 1 }), { b: 1 });
    assert.deepEqual(decode(encode({ a: undefined, b: 1 }, { ignoreUndefined: false })), { a: null, b: 1 });
    // deno-lint-ignore no-sparse-arrays
    assert.deepEqual(rt({ a: [1, undefined, , 3] }), { a: [1, null, null, 3] });
  });

  test("Map documents (string keys) encode like objects", () => {
    const m = new Map<string, unknown>([["b", 1], ["a", new Map([["x", "y"]])]]);
    assert.deepEqual(encode(m), encode({ b: 1, a: { x: "y" } }));
    throwsBSON(() => encode(new Map<unknown, unknown>([[1, 2]]) as Map<string, unknown>), /Map keys must be strings/);
  });

  test("class instances encode their own enumerable properties", () => {
    class Point {
      x = 1;
      y = 2;
      get sum(): number {
        return this.x + this.y;
      }
    }
    assert.deepEqual(rt({ p: new Point() as unknown as Document }), { p: { x: 1, y: 2 } });
    assert.deepEqual(decode(encode(new Point() as unknown as Document)), { x: 1, y: 2 });
    const bare = Object.create(null);
    bare.k = "v";
    assert.deepEqual(rt({ bare }), { bare: { k: "v" } });
  });

  test("decoded documents are plain objects and arrays", () => {
    const doc = rt({ a: { b: [1] } });
    assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    assert.equal(Object.getPrototypeOf(doc.a), Object.prototype);
    assert.ok(Array.isArray((doc.a as Document).b));
  });

  test("same bytes as js-bson for a document with every common type", () => {
    const id = "56e1fc72e0c917e9c4714161";
    const ours = {
      _id: new ObjectId(id),
      s: "str",
      i: 5,
      d: 2.5,
      l: 5n,
      b: true,
      n: null,
      dt: new Date(1700000000000),
      arr: [1, "two", { three: 3 }],
      bin: new Binary(Uint8Array.from([1, 2]), 0x80),
      re: new BSONRegExp("a", "i"),
      ts: new Timestamp({ t: 1, i: 2 }),
      code: new Code("x", { y: 1 }),
      min: new MinKey(),
      max: new MaxKey(),
    };
    const theirs = {
      _id: new BSON.ObjectId(id),
      s: "str",
      i: 5,
      d: 2.5,
      l: BSON.Long.fromBigInt(5n),
      b: true,
      n: null,
      dt: new Date(1700000000000),
      arr: [1, "two", { three: 3 }],
      bin: new BSON.Binary(Uint8Array.from([1, 2]), 0x80),
      re: new BSON.BSONRegExp("a", "i"),
      ts: new BSON.Timestamp({ t: 1, i: 2 }),
      code: new BSON.Code("x", { y: 1 }),
      min: new BSON.MinKey(),
      max: new BSON.MaxKey(),
    };
    assert.equal(hex(encode(ours)), hex(BSON.serialize(theirs)));
  });

  test("large documents grow the buffer; maxSize is enforced and configurable", () => {
    const big = "z".repeat(1 << 20);
    assert.equal((rt({ big }).big as string).length, 1 << 20);
    throwsBSON(() => encode({ big }, { maxSize: 1000 }), /maxSize 1000/);
    throwsBSON(() => encode({ a: Array.from({ length: 200 }, (_, i) => i) }, { maxSize: 100 }), /maxSize 100/);
    throwsBSON(() => encode({ huge: "h".repeat(16 * 1024 * 1024) }), /maxSize 16777216/);
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    assert.deepEqual(decode(encode(many, { maxSize: 2000 })), many);
  });
});

describe("encode errors name the key path", () => {
  test("functions and symbols", () => {
    throwsBSON(() => encode({ a: { b: [0, () => 1] } }), /"a\.b\[1\]".*function/);
    throwsBSON(() => encode({ s: Symbol("x") }), /"s".*symbol/);
  });

  test("cyclic objects", () => {
    const a: Document = { name: "a" };
    a.self = a;
    throwsBSON(() => encode(a), /cyclic.*"self"/);
    const b: Document = { list: [] };
    (b.list as unknown[]).push({ back: b });
    throwsBSON(() => encode({ root: b }), /cyclic/);
    throwsBSON(() => encode(a, { maxDepth: 10_000_000 }), /cyclic.*"self"/);
    const shared = { x: 1 };
    assert.deepEqual(rt({ a: shared, b: shared }), { a: { x: 1 }, b: { x: 1 } }, "shared but acyclic is fine");
  });

  test("NUL in keys and regex", () => {
    throwsBSON(() => encode({ "a\0b": 1 }), /NUL/);
    throwsBSON(() => encode({ ok: { "é\0": 1 } }), /NUL/);
    throwsBSON(() => encode({ r: new RegExp("a\0b") }), /"r".*regex pattern.*NUL/);
    throwsBSON(() => encode(new Map([["k\0", 1]])), /NUL/);
  });

  test("maxDepth: the top level is depth 1", () => {
    let doc: Document = {};
    for (let i = 1; i < 200; i++) doc = { d: doc };
    assert.doesNotThrow(() => encode(doc)); // 200 levels
    throwsBSON(() => encode({ d: doc }), /maxDepth 200/);
    throwsBSON(() => encode({ a: { b: {} } }, { maxDepth: 2 }), /maxDepth 2/);
    assert.doesNotThrow(() => encode({ a: { b: 1 } }, { maxDepth: 2 }));
    throwsBSON(() => encode({ a: [[1]] }, { maxDepth: 2 }), /maxDepth/);
  });

  test("a very large maxDepth cannot crash the stack", () => {
    let doc: Document = {};
    for (let i = 0; i < 200_000; i++) doc = { d: doc };
    throwsBSON(() => encode(doc, { maxDepth: 1_000_000 }));
  });

  test("checkKeys rejects $-prefixed and dotted keys at any level, allows DBRef keys nested", () => {
    throwsBSON(() => encode({ $set: 1 }, { checkKeys: true }), /\$/);
    throwsBSON(() => encode({ "a.b": 1 }, { checkKeys: true }), /'\.'/);
    throwsBSON(() => encode({ a: { "b.c": 1 } }, { checkKeys: true }), /"a\.b\.c"/);
    assert.doesNotThrow(() => encode({ ref: { $ref: "c", $id: 1, $db: "d" } }, { checkKeys: true }));
    assert.doesNotThrow(() => encode({ $set: 1, "a.b": 2 }), "off by default");
  });

  test("top-level value must be a document", () => {
    for (const v of [null, undefined, 1, "s", [1], new Date(), new ObjectId(), new Uint8Array(1)]) {
      throwsBSON(() => encode(v as unknown as Document), /document/);
    }
  });

  test("unsupported objects", () => {
    throwsBSON(() => encode({ s: new Set([1]) }), /"s".*Set/);
    throwsBSON(() => encode({ p: Promise.resolve(1) }), /"p".*Promise/);
    throwsBSON(() => encode({ n: new Number(1) }), /"n"/);
  });

  test("wrappers whose fields were tampered with are caught at encode", () => {
    const i = new Int32(1);
    (i as { value: number }).value = 2 ** 40;
    throwsBSON(() => encode({ i }), /"i".*Int32/);
    const t = new Timestamp({ t: 1, i: 1 });
    (t as { t: number }).t = -5;
    throwsBSON(() => encode({ t }), /Timestamp/);
  });

  test("bad options", () => {
    throwsBSON(() => encode({}, { maxSize: 2 }), /maxSize/);
    throwsBSON(() => encode({}, { maxDepth: 0 }), /maxDepth/);
  });
});

describe("encodeInto and ByteWriter", () => {
  test("appends documents back to back; on error nothing is appended", () => {
    const w = new ByteWriter(8);
    encodeInto(w, { a: 1 });
    encodeInto(w, { b: "two" });
    const len = w.length;
    assert.equal(len, 12 + 16);
    throwsBSON(() => encodeInto(w, { ok: 1, bad: () => 0 }));
    assert.equal(w.length, len);
    const all = w.toBytes();
    assert.deepEqual(decode(all.subarray(0, 12)), { a: 1 });
    assert.deepEqual(decode(all.subarray(12)), { b: "two" });
  });

  test("framing with reserveInt32 / setInt32, cstrings and strings", () => {
    const w = new ByteWriter(4);
    const at = w.reserveInt32();
    w.writeInt32(2013);
    w.writeUint32(0xffffffff);
    w.writeCString("admin.$cmd");
    w.writeString("é".repeat(50));
    w.writeString("short");
    w.writeDouble(1.5);
    w.writeInt64(-2n);
    w.writeUint8(7);
    w.writeBytes(Uint8Array.from([1, 2]));
    w.setInt32(at, w.length);
    const out = w.toBytes();
    const v = new DataView(out.buffer);
    assert.equal(v.getInt32(0, true), out.length);
    assert.equal(v.getInt32(4, true), 2013);
    assert.equal(v.getUint32(8, true), 0xffffffff);
    assert.equal(new TextDecoder().decode(out.subarray(12, 22)), "admin.$cmd");
    assert.equal(out[22], 0);
    assert.equal(v.getInt32(23, true), 101);
    assert.deepEqual(w.subarray(), out);
    throwsBSON(() => w.writeCString("a\0"), /NUL/);
    throwsBSON(() => w.setInt32(out.length - 2, 1), /outside/);
    w.reset();
    assert.equal(w.length, 0);
  });

  test("a getter that encodes while we encode does not corrupt either result", () => {
    const inner = { x: "inner" };
    const outer = {
      a: 1,
      get b() {
        return decode(encode(inner));
      },
      c: "tail",
    };
    assert.deepEqual(rt(outer), { a: 1, b: { x: "inner" }, c: "tail" });
  });

  test("100,000 encodes of one document give the same bytes (the shared buffer is reset)", () => {
    const doc = { s: "abc", n: 1, arr: [1, 2, 3], sub: { x: null } };
    const first = encode(doc);
    let same = 0;
    for (let i = 0; i < 100_000; i++) if (encode(doc).length === first.length) same++;
    assert.equal(same, 100_000);
    assert.deepEqual(encode(doc), first);
  });
});
