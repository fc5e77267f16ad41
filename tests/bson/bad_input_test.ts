// Malformed BSON: every case is a BSONError with a numeric offset and a
// reason, never a RangeError/TypeError, a hang or a wrong value.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BSONError, ByteWriter, decode, type Document, encode } from "../../src/bson/mod.ts";

function fromHex(h: string): Uint8Array {
  const clean = h.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (x) => parseInt(x, 16));
}

/** Asserts decode(bytes) throws a BSONError with a numeric offset; returns it. */
function rejects(bytes: Uint8Array, pattern?: RegExp, offset?: number, options?: Parameters<typeof decode>[1]) {
  let err: BSONError | undefined;
  try {
    decode(bytes, options);
  } catch (e) {
    if (!(e instanceof BSONError)) throw new assert.AssertionError({ message: `expected BSONError, got ${e}` });
    err = e;
  }
  assert.ok(err, "decode accepted malformed input");
  assert.equal(typeof err.offset, "number", `no offset: ${err.message}`);
  if (pattern) assert.match(err.message, pattern);
  if (offset !== undefined) assert.equal(err.offset, offset, err.message);
  return err;
}

/** Builds a document from raw element bytes (type, key, value), fixing up the length. */
function doc(...elementsHex: string[]): Uint8Array {
  const body = fromHex(elementsHex.join(""));
  const out = new Uint8Array(body.length + 5);
  new DataView(out.buffer).setInt32(0, out.length, true);
  out.set(body, 4);
  return out;
}

const le32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
};

describe("truncation and lengths that lie", () => {
  test("every truncation of a valid document is rejected", () => {
    const full = encode({ a: 1, s: "string", d: { x: [1, 2, { y: 2.5 }] }, b: new Uint8Array(5) });
    for (let n = 0; n < full.length; n++) rejects(full.subarray(0, n), undefined, 0);
  });

  test("inputs shorter than 5 bytes", () => {
    for (const h of ["", "05", "050000", "05000000"]) rejects(fromHex(h), /too short/, 0);
  });

  test("document length longer than the bytes", () => {
    rejects(fromHex("1300000002666F6F00040000006261720000"), /exceeds the 18 bytes/, 0);
  });

  test("document length shorter than the bytes: trailing bytes", () => {
    rejects(fromHex("1200000002666F6F00040000006261720000DEADBEEF"), /unexpected bytes after/, 0x12);
    rejects(fromHex("050000000000"), /1 unexpected bytes/, 5);
  });

  test("document length below the minimum", () => {
    rejects(fromHex("0400000000"), /less than the minimum/, 0);
    rejects(fromHex("FFFFFFFF00"), /less than the minimum/, 0);
  });

  test("a length that would need an enormous allocation is only compared, never allocated", () => {
    rejects(fromHex("FFFFFF7F00"), /exceeds/, 0);
    rejects(doc("026100FFFFFF7F00"), /string length 2147483647/, 7);
    rejects(doc("056100FFFFFF7F0000"), /binary length/, 7);
  });

  test("embedded document longer than its parent's space (eats the terminator)", () => {
    rejects(fromHex("1800000003666F6F000F0000001062617200FFFFFF7F0000"), /does not fit/, 9);
    rejects(fromHex("140000000461000D0000001030000A0000000000"), /does not fit/, 7);
  });

  test("embedded document shorter than its content (leaks the terminator)", () => {
    rejects(fromHex("1500000003666F6F000A0000000862617200010000"));
    rejects(fromHex("140000000461000B0000001030000A0000000000"), /int32 truncated/);
  });

  test("missing terminator byte", () => {
    rejects(fromHex("0500000001"), /not terminated/, 4);
    rejects(fromHex("0C000000106100010000007F"), /not terminated/, 11);
  });

  test("document truncated mid-key, and a key with no NUL inside the document", () => {
    rejects(fromHex("1200000002666F"), undefined, 0);
    rejects(fromHex("0800000010616263"), /not terminated/, 7);
    rejects(fromHex("0800000010616200"), /key is not NUL-terminated/, 5);
  });
});

describe("strings", () => {
  test("string length < 1", () => {
    rejects(fromHex("0C0000000261000000000000"), /string length 0/, 7);
    rejects(fromHex("0C000000026100FFFFFFFF00"), /string length -1/, 7);
  });

  test("string length that eats the terminator or runs past the document", () => {
    rejects(fromHex("10000000026100050000006200620000"), /string length 5/, 7);
    rejects(fromHex("120000000200FFFFFF00666F6F6261720000"), /string length/, 6);
  });

  test("string not NUL-terminated; an empty string with an extra NUL", () => {
    rejects(fromHex("1000000002610004000000616263FF00"), /not NUL-terminated/, 14);
    rejects(fromHex("0E00000002610001000000000000"));
  });

  test("strings inside code, symbol and DBPointer get the same checks", () => {
    rejects(fromHex("0C0000000D6100FFFFFFFF00"), /string length -1/);
    rejects(fromHex("100000000E610004000000616263FF00"), /not NUL-terminated/);
    rejects(fromHex("1A0000000C610000000000620056E1FC72E0C917E9C471416100"), /string length 0/);
    rejects(fromHex("1A0000000C61000300000061620056E1FC72E0C917E9C4716100"), /ObjectId truncated/);
  });
});

describe("invalid UTF-8", () => {
  const bad = [
    "E9", // lone lead byte
    "C080", // overlong NUL
    "C1BF", // overlong
    "E08080", // overlong 3-byte
    "EDA080", // UTF-16 surrogate D800
    "EDBFBF", // surrogate DFFF
    "F4908080", // past U+10FFFF
    "F8888080", // 5-byte form
    "80", // stray continuation
    "61E282", // truncated 3-byte sequence at the end
    "F09F98", // truncated 4-byte sequence
    "E228A1", // bad continuation
  ];
  for (const seq of bad) {
    test(`string ${seq}`, () => {
      const n = seq.length / 2 + 1;
      const e = rejects(doc(`026100${le32(n)}${seq}00`), /invalid UTF-8/);
      assert.ok(e.offset! >= 11 && e.offset! < 11 + n, `offset ${e.offset}`);
    });
    test(`key ${seq}`, () => {
      const e = rejects(doc(`10${seq}0001000000`), /invalid UTF-8/);
      assert.ok(e.offset! >= 5 && e.offset! < 5 + seq.length / 2, `offset ${e.offset}`);
    });
    test(`long string ending in ${seq}`, () => {
      const prefix = "61".repeat(400);
      const n = 400 + seq.length / 2 + 1;
      rejects(doc(`026100${le32(n)}${prefix}${seq}00`), /invalid UTF-8/);
    });
  }

  test("array keys and regex parts are checked too", () => {
    rejects(doc(`046100${le32(10)}10E90001000000 00`.replace(" ", "")), /invalid UTF-8/);
    rejects(doc("0B6100E9006900"), /invalid UTF-8/);
  });

  test("the decoder agrees with a fatal TextDecoder on 20,000 random byte strings", () => {
    const td = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    const interesting = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    let agreed = 0;
    for (let i = 0; i < 20_000; i++) {
      const len = 1 + (rnd() % (i % 2 === 0 ? 12 : 300));
      const bytes = Uint8Array.from({ length: len }, () => {
        const r = rnd();
        return r % 3 === 0 ? interesting[r % interesting.length] : r % 3 === 1 ? 0x80 | (r & 0x3f) : r & 0xff;
      }).map((b) => (b === 0 ? 0x20 : b));
      let expected: string | null;
      try {
        expected = td.decode(bytes);
      } catch {
        expected = null;
      }
      const w = new ByteWriter();
      w.writeInt32(0);
      w.writeUint8(2);
      w.writeCString("s");
      w.writeInt32(len + 1);
      w.writeBytes(bytes);
      w.writeUint8(0);
      w.writeUint8(0);
      w.setInt32(0, w.length);
      let got: string | null;
      try {
        got = decode(w.toBytes()).s as string;
      } catch (e) {
        assert.ok(e instanceof BSONError, `not a BSONError: ${e}`);
        got = null;
      }
      assert.equal(got, expected, `bytes ${Array.from(bytes, (b) => b.toString(16)).join(" ")}`);
      agreed++;
    }
    assert.equal(agreed, 20_000);
  });
});

describe("element values", () => {
  test("unknown type bytes, and 0x00 before the document's end", () => {
    rejects(fromHex("07000000000000"), /0x00.*before/, 4);
    rejects(fromHex("07000000800000"), /unknown BSON element type 0x80/, 4);
    for (const t of [0x14, 0x15, 0x20, 0x7e, 0x80, 0xfe]) {
      rejects(doc(`${t.toString(16).padStart(2, "0")}6100`), /unknown BSON element type/, 4);
    }
  });

  test("boolean byte other than 0 or 1", () => {
    rejects(fromHex("090000000862000200"), /boolean byte must be 0 or 1, got 2/, 7);
    rejects(fromHex("09000000086200FF00"), /got 255/, 7);
  });

  test("fixed-size values cut short", () => {
    rejects(fromHex("0B0000000164000000F03F00"));
    rejects(doc("0164000000F03F"), /double truncated/, 7);
    rejects(fromHex("090000001061000500"), /int32 truncated/, 7);
    rejects(fromHex("0C0000001261001234567800"), /int64 truncated/, 7);
    rejects(fromHex("0C0000000961001234567800"), /datetime truncated/, 7);
    rejects(fromHex("0f0000001161002A00000015CD5B00"), /timestamp truncated/, 7);
    rejects(fromHex("1200000007610056E1FC72E0C917E9C471"), undefined, 0);
    rejects(doc("07610056E1FC72E0C917E9C471"), /ObjectId truncated/, 7);
    rejects(doc("13610000000000000000000000000000"), /Decimal128 truncated/, 7);
  });

  test("binary: negative or oversized length, subtype 2 inner length disagreeing", () => {
    rejects(fromHex("0D000000057800FFFFFFFF0000"), /binary length -1/, 7);
    rejects(fromHex("1D000000057800FF0000000573FFD26444B34C6990E8E7D1DFC035D400"), /binary length 255/, 7);
    rejects(fromHex("13000000057800060000000203000000FFFF00"), /inner length 3 disagrees/, 12);
    rejects(fromHex("13000000057800060000000201000000FFFF00"), /inner length 1 disagrees/, 12);
    rejects(fromHex("130000000578000600000002FFFFFFFFFFFF00"), /inner length -1/, 12);
    rejects(doc("0578000200000002FFFF"), /needs an inner length/, 7);
  });

  test("regex parts must be NUL-terminated inside the document", () => {
    rejects(doc("0B61006162"), /cstring is not NUL-terminated/);
  });

  test("code with scope whose lengths disagree", () => {
    const cases = [
      "280000000F6100000000000500000061626364001300000010780001000000107900010000000000",
      "280000000F6100FFFFFFFF0500000061626364001300000010780001000000107900010000000000",
      "160000000F61000D0000000100000000050000000000",
      "280000000F61001F0000000500000061626364001300000010780001000000107900010000000000",
      "280000000F6100210000000500000061626364001300000010780001000000107900010000000000",
      "280000000F6100FF0000000500000061626364001300000010780001000000107900010000000000",
      "280000000F6100200000000400000061626364001300000010780001000000107900010000000000",
      "280000000F6100200000000600000061626364001300000010780001000000107900010000000000",
      "280000000F610020000000FFFFFFFF61626364001300000010780001000000107900010000000000",
      "280000000F610020000000FF00000061626364001300000010780001000000107900010000000000",
      "1C0000000F001500000001000000000C000000020000000000000000",
    ];
    for (const h of cases) rejects(fromHex(h));
    rejects(fromHex(cases[4]), /code with scope length 33 is invalid/, 7);
    // Room to spare in the parent, but the scope ends before the stated total.
    const cws = "0F6100" + le32(4 + 9 + 12 + 1) + le32(5) + "6162636400" + "0C000000106100010000000000" + "EE";
    rejects(doc(cws), /code with scope length 26 disagrees with its contents \(25 bytes\)/, 7);
  });
});

describe("limits and input type", () => {
  test("nesting past maxDepth (default 200, top level = 1)", () => {
    let d: Document = {};
    for (let i = 1; i < 200; i++) d = { d };
    const ok = encode(d);
    assert.doesNotThrow(() => decode(ok));
    const deeper = encode({ d }, { maxDepth: 201 });
    rejects(deeper, /maxDepth 200/);
    assert.doesNotThrow(() => decode(deeper, { maxDepth: 201 }));
    rejects(encode({ a: [[1]] }), /maxDepth 2/, undefined, { maxDepth: 2 });
  });

  test("deep nesting in arrays and code scopes counts too", () => {
    let a: unknown = 1;
    for (let i = 0; i < 300; i++) a = [a];
    rejects(encode({ a: a as unknown[] }, { maxDepth: 400 }), /maxDepth/);
  });

  test("a huge maxDepth with absurdly deep input still ends in a BSONError, not a stack overflow", () => {
    const D = 200_000; // { a: { a: ... {} } } built by hand: 7 bytes per level, then the terminators
    const bytes = new Uint8Array(8 * D + 5);
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < D; i++) {
      v.setInt32(7 * i, 8 * (D - i) + 5, true);
      bytes.set([0x03, 0x61, 0x00], 7 * i + 4);
    }
    v.setInt32(7 * D, 5, true);
    rejects(bytes, /maxDepth 200/, 7 * 200);
    rejects(bytes, undefined, undefined, { maxDepth: 10_000_000 });
  });

  test("maxSize", () => {
    const bytes = encode({ s: "x".repeat(100) });
    rejects(bytes, /exceeds maxSize 50/, 0, { maxSize: 50 });
    assert.doesNotThrow(() => decode(bytes, { maxSize: bytes.length }));
  });

  test("input that is not bytes, and bad options", () => {
    for (const v of [null, undefined, "05000000 00", [5, 0, 0, 0, 0], 5]) {
      assert.throws(() => decode(v as unknown as Uint8Array), BSONError);
    }
    assert.deepEqual(decode(new Uint8Array([5, 0, 0, 0, 0]).buffer as unknown as Uint8Array), {});
    assert.throws(() => decode(encode({}), { maxDepth: 0 }), BSONError);
    assert.throws(() => decode(encode({}), { int64: "string" as "number" }), BSONError);
  });

  test("a subarray view of a larger buffer decodes only its own bytes", () => {
    const big = new Uint8Array(64).fill(0xee);
    const d = encode({ a: 1.5, s: "x" });
    big.set(d, 10);
    assert.deepEqual(decode(big.subarray(10, 10 + d.length)), { a: 1.5, s: "x" });
  });
});
