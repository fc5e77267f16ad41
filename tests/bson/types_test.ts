// The wrapper classes: construction, validation (bad fields are a BSONError at
// construction), ObjectId generation layout and the helpers each class offers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Binary,
  BSONError,
  BSONRegExp,
  BSONSymbol,
  BSONUndefined,
  Code,
  DateTime,
  DBPointer,
  Double,
  Int32,
  Int64,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "../../src/bson/mod.ts";
import { setObjectIdCounter } from "../../src/bson/object_id.ts";

function throwsBSON(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BSONError, `expected BSONError, got ${e}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return true;
  });
}

function counterOf(id: ObjectId): number {
  return (id.id[9] << 16) | (id.id[10] << 8) | id.id[11];
}

describe("ObjectId", () => {
  test("generation layout: BE seconds, 5 process bytes, BE counter", () => {
    const before = Math.floor(Date.now() / 1000);
    const a = new ObjectId();
    const b = new ObjectId();
    const after = Math.floor(Date.now() / 1000);
    assert.equal(a.id.length, 12);
    const secs = a.getTimestamp().getTime() / 1000;
    assert.ok(secs >= before && secs <= after, `timestamp ${secs} not within [${before}, ${after}]`);
    assert.deepEqual(a.id.subarray(4, 9), b.id.subarray(4, 9), "process-unique bytes are stable");
    assert.equal(counterOf(b), (counterOf(a) + 1) & 0xffffff, "counter increments by one");
  });

  test("the 5 random bytes stay the same across many ids", () => {
    const first = new ObjectId().id.slice(4, 9);
    for (let i = 0; i < 1000; i++) assert.deepEqual(new ObjectId().id.slice(4, 9), first);
  });

  test("counter wraps from 0xFFFFFF to 0", () => {
    setObjectIdCounter(0xfffffd);
    const a = new ObjectId();
    const b = new ObjectId();
    const c = new ObjectId();
    assert.equal(counterOf(a), 0xfffffe);
    assert.equal(counterOf(b), 0xffffff);
    assert.equal(counterOf(c), 0);
  });

  test("hex parsing, either case, round trip to lower case", () => {
    const id = new ObjectId("56E1FC72e0c917e9c4714161");
    assert.equal(id.toHexString(), "56e1fc72e0c917e9c4714161");
    assert.equal(id.toString(), "56e1fc72e0c917e9c4714161");
    assert.equal(JSON.stringify({ id }), '{"id":"56e1fc72e0c917e9c4714161"}');
    assert.deepEqual(Array.from(id.id), [0x56, 0xe1, 0xfc, 0x72, 0xe0, 0xc9, 0x17, 0xe9, 0xc4, 0x71, 0x41, 0x61]);
    assert.equal(id.getTimestamp().toISOString(), "2016-03-10T23:00:02.000Z");
  });

  test("isValid", () => {
    assert.equal(ObjectId.isValid("56e1fc72e0c917e9c4714161"), true);
    assert.equal(ObjectId.isValid("56E1FC72E0C917E9C4714161"), true);
    assert.equal(ObjectId.isValid("56e1fc72e0c917e9c471416"), false);
    assert.equal(ObjectId.isValid("56e1fc72e0c917e9c47141611"), false);
    assert.equal(ObjectId.isValid("zze1fc72e0c917e9c4714161"), false);
    assert.equal(ObjectId.isValid(""), false);
    assert.equal(ObjectId.isValid(12 as unknown as string), false);
  });

  test("bad input is a BSONError at construction", () => {
    throwsBSON(() => new ObjectId("xyz"), /24 hex digits/);
    throwsBSON(() => new ObjectId("56e1fc72e0c917e9c471416g"));
    throwsBSON(() => new ObjectId(new Uint8Array(11)), /11 bytes/);
    throwsBSON(() => new ObjectId(42 as unknown as string));
  });

  test("12 bytes are used as given; equals compares bytes", () => {
    const bytes = new Uint8Array(12).fill(7);
    const a = new ObjectId(bytes);
    assert.equal(a.id, bytes);
    assert.ok(a.equals(new ObjectId("070707070707070707070707")));
    assert.ok(!a.equals(new ObjectId()));
    assert.ok(!a.equals(null as unknown as ObjectId));
  });
});

describe("numeric wrappers", () => {
  test("Int32 accepts the int32 range only", () => {
    assert.equal(new Int32(-2147483648).value, -2147483648);
    assert.equal(new Int32(2147483647).value, 2147483647);
    assert.ok(Object.is(new Int32(-0).value, 0), "int32 has no -0");
    throwsBSON(() => new Int32(2147483648), /Int32/);
    throwsBSON(() => new Int32(-2147483649));
    throwsBSON(() => new Int32(1.5));
    throwsBSON(() => new Int32(NaN));
    throwsBSON(() => new Int32("1" as unknown as number));
  });

  test("Int64 takes bigint or integer numbers within int64", () => {
    assert.equal(new Int64(5).value, 5n);
    assert.equal(new Int64(-(2n ** 63n)).value, -(2n ** 63n));
    assert.equal(new Int64(2n ** 63n - 1n).value, 2n ** 63n - 1n);
    assert.equal(new Int64(2 ** 60).value, 2n ** 60n);
    throwsBSON(() => new Int64(2n ** 63n), /int64 range/);
    throwsBSON(() => new Int64(-(2n ** 63n) - 1n));
    throwsBSON(() => new Int64(0.5));
    throwsBSON(() => new Int64(Infinity));
    assert.equal(Long, Int64);
    assert.equal(new Int64(7n).toString(), "7");
  });

  test("Double keeps any number, even -0 and NaN", () => {
    assert.ok(Object.is(new Double(-0).value, -0));
    assert.ok(Number.isNaN(new Double(NaN).value));
    assert.equal(+new Double(2.5), 2.5);
    throwsBSON(() => new Double("1" as unknown as number));
  });
});

describe("Timestamp", () => {
  test("t and i are uint32", () => {
    const ts = new Timestamp({ t: 0xffffffff, i: 0 });
    assert.equal(ts.t, 0xffffffff);
    assert.equal(ts.i, 0);
    assert.equal(new Timestamp({ t: 1, i: 2 }).toBigInt(), (1n << 32n) | 2n);
    throwsBSON(() => new Timestamp({ t: -1, i: 0 }), /uint|4294967295/);
    throwsBSON(() => new Timestamp({ t: 0, i: 2 ** 32 }));
    throwsBSON(() => new Timestamp({ t: 1.5, i: 0 }));
    throwsBSON(() => new Timestamp(null as unknown as { t: number; i: number }));
  });
});

describe("Binary and UUID", () => {
  test("subtype constants", () => {
    assert.deepEqual(
      [
        Binary.SUBTYPE_DEFAULT,
        Binary.SUBTYPE_FUNCTION,
        Binary.SUBTYPE_BYTE_ARRAY,
        Binary.SUBTYPE_UUID_OLD,
        Binary.SUBTYPE_UUID,
        Binary.SUBTYPE_MD5,
        Binary.SUBTYPE_ENCRYPTED,
        Binary.SUBTYPE_COLUMN,
        Binary.SUBTYPE_SENSITIVE,
        Binary.SUBTYPE_VECTOR,
        Binary.SUBTYPE_USER_DEFINED,
      ],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80],
    );
  });

  test("Binary validates buffer and subtype", () => {
    const b = new Binary(new Uint8Array([1, 2]), 0x80);
    assert.equal(b.subType, 0x80);
    assert.equal(b.length, 2);
    assert.equal(new Binary(new Uint8Array(0)).subType, 0);
    throwsBSON(() => new Binary(new Uint8Array(1), 256), /subtype/);
    throwsBSON(() => new Binary(new Uint8Array(1), -1));
    throwsBSON(() => new Binary([1, 2] as unknown as Uint8Array), /Uint8Array/);
  });

  test("UUID parses, prints, generates v4", () => {
    const s = "0e9c7e0b-4c1e-4b5a-9d3e-4ab1f1b2c3d4";
    const u = new UUID(s);
    assert.equal(u.toString(), s);
    assert.equal(u.toHexString(), s.replaceAll("-", ""));
    assert.equal(u.subType, 4);
    assert.ok(u instanceof Binary);
    assert.ok(new UUID(s.replaceAll("-", "").toUpperCase()).equals(u));
    const g = UUID.generate();
    assert.equal(g.buffer.length, 16);
    assert.equal(g.buffer[6] >> 4, 4, "version 4");
    assert.equal(g.buffer[8] >> 6, 2, "RFC 4122 variant");
    assert.match(new UUID().toString(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    throwsBSON(() => new UUID("not-a-uuid"), /UUID/);
    throwsBSON(() => new UUID("0e9c7e0b4c1e-4b5a-9d3e-4ab1f1b2c3d4"));
    throwsBSON(() => new UUID(new Uint8Array(15)));
  });
});

describe("other wrappers", () => {
  test("Code: scope undefined vs a document", () => {
    assert.equal(new Code("x").scope, undefined);
    assert.deepEqual(new Code("x", {}).scope, {});
    throwsBSON(() => new Code(1 as unknown as string));
    throwsBSON(() => new Code("x", [] as unknown as Record<string, unknown>), /scope/);
    throwsBSON(() => new Code("x", null as unknown as Record<string, unknown>));
  });

  test("BSONRegExp: strings without NUL; toRegExp maps shared flags", () => {
    const r = new BSONRegExp("a.c", "xsmi");
    assert.equal(r.options, "xsmi");
    const js = r.toRegExp();
    assert.equal(js.flags, "ims");
    throwsBSON(() => new BSONRegExp("a\0b"), /NUL/);
    throwsBSON(() => new BSONRegExp("ab", "i\0"), /NUL/);
    throwsBSON(() => new BSONRegExp("(", "").toRegExp(), /not a valid JavaScript RegExp/);
  });

  test("deprecated types", () => {
    assert.equal(new BSONSymbol("s").value, "s");
    assert.equal(String(new BSONSymbol("s")), "s");
    const id = new ObjectId();
    const p = new DBPointer("db.c", id);
    assert.equal(p.namespace, "db.c");
    assert.equal(p.id, id);
    throwsBSON(() => new DBPointer("db.c", "x" as unknown as ObjectId));
    throwsBSON(() => new BSONSymbol(1 as unknown as string));
    assert.ok(new BSONUndefined() instanceof BSONUndefined);
    assert.ok(new MinKey() instanceof MinKey);
    assert.ok(new MaxKey() instanceof MaxKey);
  });

  test("DateTime: int64 ms; toDate only inside Date's range", () => {
    assert.equal(new DateTime(0n).toDate()?.getTime(), 0);
    assert.equal(new DateTime(8640000000000000n).toDate()?.getTime(), 8.64e15);
    assert.equal(new DateTime(8640000000000001n).toDate(), null);
    assert.equal(new DateTime(-(2n ** 63n)).toDate(), null);
    assert.equal(new DateTime(1234).ms, 1234n);
    throwsBSON(() => new DateTime(2n ** 63n), /int64/);
    throwsBSON(() => new DateTime(1.5));
  });
});
