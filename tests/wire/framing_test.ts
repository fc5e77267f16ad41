// Wire-protocol framing: byte-exact vectors assembled by hand from the
// documented layouts, round trips of every opcode, and malformed frames
// (which must always give a WireProtocolError, never another error type).
//
// Sources of the layouts used below:
// - [MANUAL-HDR]  MongoDB manual, "MongoDB Wire Protocol" > "Standard Message Header"
//                 (int32 messageLength, int32 requestID, int32 responseTo, int32 opCode; little-endian)
// - [OP_MSG]      mongodb/specifications source/message/OP_MSG.md > "OP_MSG" (uint32 flagBits,
//                 Section+ {uint8 kind; kind 0: document; kind 1: int32 size, cstring identifier,
//                 document*}, [uint32 checksum]) and the manual's "OP_MSG" > "Checksum" (CRC-32C over
//                 every byte of the message before the checksum)
// - [LEGACY]      MongoDB manual, "Legacy Opcodes": OP_QUERY, OP_REPLY, OP_GET_MORE, OP_KILL_CURSORS
// - [BSON]        bsonspec.org "Specification Version 1.1" (document ::= int32 e_list "\x00")
// - [RFC3720]     RFC 3720 appendix B.4, CRC-32C test vectors
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter, decode, encode } from "../../src/bson/mod.ts";
import { BSONError, ConfigurationError, WireProtocolError } from "../../src/errors.ts";
import {
  crc32c,
  decodeMessage,
  decodeOpGetMore,
  decodeOpKillCursors,
  decodeOpMsg,
  decodeOpQuery,
  decodeOpReply,
  encodeOpGetMore,
  encodeOpKillCursors,
  encodeOpMsg,
  encodeOpQuery,
  encodeOpReply,
  MsgFlags,
  nextRequestId,
  OP_COMPRESSED,
  OP_GET_MORE,
  OP_INSERT,
  OP_KILL_CURSORS,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  QueryFlags,
  readHeader,
  ResponseFlags,
  type WireMessage,
} from "../../src/wire/mod.ts";

// ---- hand assembly ---------------------------------------------------------

const te = new TextEncoder();

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function i32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}
function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}
function i64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}
function cstr(s: string): Uint8Array {
  return cat(te.encode(s), [0]);
}
// [BSON] elements: type byte, e_name cstring, value.
function elInt32(key: string, v: number): Uint8Array {
  return cat([0x10], cstr(key), i32(v));
}
function elString(key: string, v: string): Uint8Array {
  const s = te.encode(v);
  return cat([0x02], cstr(key), i32(s.length + 1), s, [0]);
}
function elBool(key: string, v: boolean): Uint8Array {
  return cat([0x08], cstr(key), [v ? 1 : 0]);
}
function elDouble(key: string, v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return cat([0x01], cstr(key), b);
}
function bdoc(...elements: Uint8Array[]): Uint8Array {
  const body = cat(...elements);
  return cat(i32(4 + body.length + 1), body, [0]);
}
// [MANUAL-HDR]: the header is prepended once the body is known.
function frame(requestId: number, responseTo: number, opCode: number, ...body: (Uint8Array | number[])[]): Uint8Array {
  const b = cat(...body);
  return cat(i32(16 + b.length), i32(requestId), i32(responseTo), i32(opCode), b);
}
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function setI32(bytes: Uint8Array, at: number, v: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(at, v, true);
  return copy;
}
// A bit-at-a-time CRC-32C, written straight from the definition, to check the
// table-driven one against.
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of bytes) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
/** Small seeded PRNG (xorshift32), so a failure can be replayed. */
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

function assertWireError(fn: () => unknown, pattern?: RegExp): WireProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, "expected a WireProtocolError, nothing was thrown");
  assert.ok(
    caught instanceof WireProtocolError,
    `expected a WireProtocolError, got ${
      caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)
    }`,
  );
  if (pattern !== undefined) assert.match((caught as Error).message, pattern);
  return caught as WireProtocolError;
}

const w = new ByteWriter(64);

// ---- the vectors -------------------------------------------------------------

// [OP_MSG] flagBits 0, one kind-0 section holding {ping: 1, $db: "admin"}.
const PING_BODY = bdoc(elInt32("ping", 1), elString("$db", "admin"));
const PING_MSG = frame(1, 0, 2013, u32(0), [0], PING_BODY);

// [OP_MSG] an insert with its documents pulled out into a kind-1 sequence:
// int32 size (counting itself), cstring "documents", two documents back to back.
const INSERT_BODY = bdoc(elString("insert", "c"), elString("$db", "test"));
const SEQ_DOCS = [bdoc(elInt32("_id", 1)), bdoc(elInt32("_id", 2), elString("x", "y"))];
const SEQ_PAYLOAD = cat(cstr("documents"), ...SEQ_DOCS);
const INSERT_MSG = frame(2, 0, 2013, u32(0), [0], INSERT_BODY, [1], i32(4 + SEQ_PAYLOAD.length), SEQ_PAYLOAD);

// [OP_MSG] checksumPresent: the reply {ok: 1.0} answering request 1, then a
// CRC-32C of all bytes before it.
const OK_BODY = bdoc(elDouble("ok", 1));
const CRC_UNSIGNED = frame(7, 1, 2013, u32(1), [0], OK_BODY);
const CRC_MSG = (() => {
  const withLength = setI32(CRC_UNSIGNED, 0, CRC_UNSIGNED.length + 4);
  return cat(withLength, u32(crc32cBitwise(withLength)));
})();

// [LEGACY] OP_QUERY: the handshake, isMaster on admin.$cmd, numberToReturn -1.
const ISMASTER_QUERY = bdoc(elInt32("isMaster", 1), elBool("helloOk", true));
const QUERY_MSG = frame(3, 0, 2004, i32(0), cstr("admin.$cmd"), i32(0), i32(-1), ISMASTER_QUERY);

// [LEGACY] OP_QUERY with flags SecondaryOk|Exhaust, skip 5, batch 10 and a returnFieldsSelector.
const FIND_QUERY = bdoc(elString("name", "Ada"));
const FIND_FIELDS = bdoc(elInt32("name", 1));
const QUERY_FIELDS_MSG = frame(4, 0, 2004, i32(0x44), cstr("test.people"), i32(5), i32(10), FIND_QUERY, FIND_FIELDS);

// [LEGACY] OP_REPLY: AwaitCapable, cursorID 42, startingFrom 0, two documents.
const REPLY_DOCS = [bdoc(elInt32("a", 1)), bdoc(elString("b", "two"))];
const REPLY_MSG = frame(5, 4, 1, i32(8), i64(42n), i32(0), i32(2), ...REPLY_DOCS);

// [LEGACY] OP_GET_MORE: ZERO, "test.people", numberToReturn 100, cursorID 42.
const GET_MORE_MSG = frame(6, 0, 2005, i32(0), cstr("test.people"), i32(100), i64(42n));

// [LEGACY] OP_KILL_CURSORS: ZERO, two ids (one negative: cursor ids are signed int64).
const KILL_MSG = frame(8, 0, 2007, i32(0), i32(2), i64(42n), i64(-5n));

// Each valid frame, with the lengths at which a prefix (with messageLength
// rewritten to match) is itself a valid message: an OP_MSG without its
// trailing kind-1 section, an OP_QUERY without its optional selector.
const VALID_FRAMES: [string, Uint8Array, number[]][] = [
  ["OP_MSG ping", PING_MSG, []],
  ["OP_MSG kind-1 sequence", INSERT_MSG, [16 + 4 + 1 + INSERT_BODY.length]],
  ["OP_MSG with checksum", CRC_MSG, []],
  ["OP_QUERY isMaster", QUERY_MSG, []],
  ["OP_QUERY with fields selector", QUERY_FIELDS_MSG, [QUERY_FIELDS_MSG.length - FIND_FIELDS.length]],
  ["OP_REPLY two documents", REPLY_MSG, []],
  ["OP_GET_MORE", GET_MORE_MSG, []],
  ["OP_KILL_CURSORS", KILL_MSG, []],
];

// ---- tests ---------------------------------------------------------------------

describe("CRC-32C", () => {
  test('the standard check value: CRC-32C("123456789") = 0xE3069283', () => {
    assert.equal(crc32c(te.encode("123456789")), 0xe3069283);
    assert.equal(crc32cBitwise(te.encode("123456789")), 0xe3069283);
  });
  test("RFC 3720 B.4 vectors", () => {
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(ascending), 0x46dd794e);
    assert.equal(crc32c(descending), 0x113fdb5c);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });
  test("agrees with the bitwise definition on every length 0..200, and continues across pieces", () => {
    const r = rng(7);
    for (let n = 0; n <= 200; n++) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      const want = crc32cBitwise(b);
      assert.equal(crc32c(b), want, `length ${n}`);
      const cut = Math.floor(r() * (n + 1));
      assert.equal(crc32c(b.subarray(cut), crc32c(b.subarray(0, cut))), want, `length ${n} cut at ${cut}`);
    }
  });
  test("works on a view with a byteOffset", () => {
    const big = cat([1, 2, 3], te.encode("123456789"), [4]);
    assert.equal(crc32c(big.subarray(3, 12)), 0xe3069283);
  });
});

describe("byte-exact vectors from the documentation", () => {
  test('OP_MSG {ping: 1, $db: "admin"}, flagBits 0 [OP_MSG]', () => {
    const got = encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } });
    assert.equal(hex(got), hex(PING_MSG));
    assert.equal(got.length, 51);
    const msg = decodeOpMsg(PING_MSG);
    assert.deepEqual(msg, {
      opCode: OP_MSG,
      requestId: 1,
      responseTo: 0,
      flagBits: 0,
      body: { ping: 1, $db: "admin" },
      sequences: [],
    });
  });

  test('OP_MSG with a kind-1 "documents" sequence [OP_MSG]', () => {
    const fields = {
      requestId: 2,
      body: { insert: "c", $db: "test" },
      sequences: [{ identifier: "documents", documents: [{ _id: 1 }, { _id: 2, x: "y" }] }],
    };
    assert.equal(hex(encodeOpMsg(w, fields)), hex(INSERT_MSG));
    assert.deepEqual(decodeOpMsg(INSERT_MSG), { opCode: OP_MSG, responseTo: 0, flagBits: 0, ...fields });
  });

  test("OP_MSG kind-1 section before the kind-0 body decodes the same [OP_MSG: sections in any order]", () => {
    const reordered = frame(2, 0, 2013, u32(0), [1], i32(4 + SEQ_PAYLOAD.length), SEQ_PAYLOAD, [0], INSERT_BODY);
    assert.deepEqual(decodeOpMsg(reordered), decodeOpMsg(INSERT_MSG));
  });

  test("OP_MSG with checksumPresent: CRC-32C over all preceding bytes [OP_MSG, manual Checksum]", () => {
    const got = encodeOpMsg(w, { requestId: 7, responseTo: 1, flagBits: MsgFlags.checksumPresent, body: { ok: 1.0 } });
    // {ok: 1.0} is a double on the wire [BSON 0x01]; the encoder writes 1 as int32, so pin the type here.
    const expected = (() => {
      const unsigned = frame(7, 1, 2013, u32(1), [0], bdoc(elInt32("ok", 1)));
      const withLength = setI32(unsigned, 0, unsigned.length + 4);
      return cat(withLength, u32(crc32cBitwise(withLength)));
    })();
    assert.equal(hex(got), hex(expected));
    const msg = decodeOpMsg(CRC_MSG);
    assert.equal(msg.flagBits, MsgFlags.checksumPresent);
    assert.deepEqual(msg.body, { ok: 1 });
    assert.equal(readHeader(CRC_MSG).messageLength, CRC_MSG.length);
  });

  test("OP_MSG moreToCome and exhaustAllowed bits land where the spec puts them (bits 1 and 16)", () => {
    const got = encodeOpMsg(w, {
      requestId: 9,
      flagBits: MsgFlags.moreToCome | MsgFlags.exhaustAllowed,
      body: { ping: 1, $db: "admin" },
    });
    assert.equal(hex(got.subarray(16, 20)), "02000100");
    assert.equal(decodeOpMsg(got).flagBits, 0x10002);
  });

  test("OP_QUERY isMaster on admin.$cmd, numberToReturn -1 [LEGACY OP_QUERY]", () => {
    const fields = {
      requestId: 3,
      fullCollectionName: "admin.$cmd",
      numberToReturn: -1,
      query: { isMaster: 1, helloOk: true },
    };
    assert.equal(hex(encodeOpQuery(w, fields)), hex(QUERY_MSG));
    assert.deepEqual(decodeOpQuery(QUERY_MSG), {
      opCode: OP_QUERY,
      requestId: 3,
      responseTo: 0,
      flags: 0,
      fullCollectionName: "admin.$cmd",
      numberToSkip: 0,
      numberToReturn: -1,
      query: { isMaster: 1, helloOk: true },
    });
  });

  test("OP_QUERY with flags, skip, batch size and returnFieldsSelector [LEGACY OP_QUERY]", () => {
    const fields = {
      requestId: 4,
      flags: QueryFlags.SecondaryOk | QueryFlags.Exhaust,
      fullCollectionName: "test.people",
      numberToSkip: 5,
      numberToReturn: 10,
      query: { name: "Ada" },
      returnFieldsSelector: { name: 1 },
    };
    assert.equal(hex(encodeOpQuery(w, fields)), hex(QUERY_FIELDS_MSG));
    assert.deepEqual(decodeOpQuery(QUERY_FIELDS_MSG), { opCode: OP_QUERY, responseTo: 0, ...fields });
  });

  test("OP_QUERY flag bit values [LEGACY OP_QUERY flags]", () => {
    assert.deepEqual(
      [
        QueryFlags.TailableCursor,
        QueryFlags.SecondaryOk,
        QueryFlags.OplogReplay,
        QueryFlags.NoCursorTimeout,
        QueryFlags.AwaitData,
        QueryFlags.Exhaust,
        QueryFlags.Partial,
      ],
      [1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7],
    );
    for (const [name, bit] of Object.entries(QueryFlags)) {
      const f = encodeOpQuery(w, { requestId: 1, flags: bit, fullCollectionName: "a.b", query: {} });
      assert.equal(new DataView(f.buffer).getInt32(16, true), bit, name);
      assert.equal(decodeOpQuery(f).flags, bit, name);
    }
  });

  test("OP_REPLY with two documents [LEGACY OP_REPLY]", () => {
    const fields = {
      requestId: 5,
      responseTo: 4,
      responseFlags: ResponseFlags.AwaitCapable,
      cursorId: 42n,
      startingFrom: 0,
      documents: [{ a: 1 }, { b: "two" }],
    };
    assert.equal(hex(encodeOpReply(w, fields)), hex(REPLY_MSG));
    assert.deepEqual(decodeOpReply(REPLY_MSG), { opCode: OP_REPLY, ...fields });
  });

  test("OP_REPLY flag bit values and QueryFailure document [LEGACY OP_REPLY responseFlags]", () => {
    assert.deepEqual(
      [
        ResponseFlags.CursorNotFound,
        ResponseFlags.QueryFailure,
        ResponseFlags.ShardConfigStale,
        ResponseFlags.AwaitCapable,
      ],
      [1, 2, 4, 8],
    );
    const failure = frame(
      1,
      2,
      1,
      i32(0x2 | 0x8),
      i64(0n),
      i32(0),
      i32(1),
      bdoc(elString("$err", "bad"), elInt32("code", 2)),
    );
    const r = decodeOpReply(failure);
    assert.equal(r.responseFlags & ResponseFlags.QueryFailure, ResponseFlags.QueryFailure);
    assert.deepEqual(r.documents, [{ $err: "bad", code: 2 }]);
    // Reserved bits in a reply are kept as received (servers own them).
    assert.equal(decodeOpReply(setI32(failure, 16, 0x1000_0001)).responseFlags, 0x1000_0001);
    // CursorNotFound with no documents.
    const notFound = frame(1, 2, 1, i32(1), i64(0n), i32(0), i32(0));
    assert.deepEqual(decodeOpReply(notFound).documents, []);
  });

  test("OP_GET_MORE [LEGACY OP_GET_MORE]", () => {
    const fields = { requestId: 6, fullCollectionName: "test.people", numberToReturn: 100, cursorId: 42n };
    assert.equal(hex(encodeOpGetMore(w, fields)), hex(GET_MORE_MSG));
    assert.deepEqual(decodeOpGetMore(GET_MORE_MSG), { opCode: OP_GET_MORE, responseTo: 0, ...fields });
  });

  test("OP_KILL_CURSORS [LEGACY OP_KILL_CURSORS]", () => {
    assert.equal(hex(encodeOpKillCursors(w, { requestId: 8, cursorIds: [42n, -5n] })), hex(KILL_MSG));
    assert.deepEqual(decodeOpKillCursors(KILL_MSG), {
      opCode: OP_KILL_CURSORS,
      requestId: 8,
      responseTo: 0,
      cursorIds: [42n, -5n],
    });
  });

  test("readHeader reads the four header fields [MANUAL-HDR]", () => {
    assert.deepEqual(readHeader(REPLY_MSG), {
      messageLength: REPLY_MSG.length,
      requestId: 5,
      responseTo: 4,
      opCode: 1,
    });
    assert.deepEqual(readHeader(frame(-1, 0x7fffffff, 2013)), {
      messageLength: 16,
      requestId: -1,
      responseTo: 0x7fffffff,
      opCode: 2013,
    });
    assertWireError(() => readHeader(new Uint8Array(15)), /16 bytes/);
  });
});

describe("round trips", () => {
  const r = rng(42);
  function randomDoc(depth = 0): Record<string, unknown> {
    const doc: Record<string, unknown> = {};
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) {
      const k = `k${i}_${Math.floor(r() * 1000)}`;
      const t = Math.floor(r() * 6);
      doc[k] = t === 0
        ? Math.floor(r() * 1e6) - 5e5
        : t === 1
        ? r() * 1e9
        : t === 2
        ? `s${"é".repeat(Math.floor(r() * 4))}${Math.floor(r() * 1e6)}`
        : t === 3
        ? BigInt(Math.floor(r() * 1e15)) * 1000n
        : t === 4 && depth < 3
        ? randomDoc(depth + 1)
        : [1, "x", null, true];
    }
    return doc;
  }

  function check(frameBytes: Uint8Array, reencode: (m: WireMessage) => Uint8Array): void {
    const msg = decodeMessage(frameBytes);
    assert.equal(hex(reencode(msg)), hex(frameBytes));
  }

  test("every opcode: encode -> decodeMessage -> encode gives the same bytes (100 random messages each)", () => {
    for (let i = 0; i < 100; i++) {
      const id = Math.floor(r() * 0x7fffffff);
      const to = Math.floor(r() * 0x7fffffff);
      const flagBits = [0, 1, 2, 3, 0x10000, 0x10001][i % 6];
      const seqs = Array.from({ length: i % 3 }, (_, j) => ({
        identifier: ["documents", "updates", "deletes"][j],
        documents: Array.from({ length: Math.floor(r() * 4) }, () => randomDoc()),
      }));
      const msgFrame = encodeOpMsg(w, { requestId: id, responseTo: to, flagBits, body: randomDoc(), sequences: seqs });
      check(msgFrame, (m) => {
        assert.equal(m.opCode, OP_MSG);
        return encodeOpMsg(w, m as Parameters<typeof encodeOpMsg>[1]);
      });

      const q = encodeOpQuery(w, {
        requestId: id,
        flags: (i * 2) & 0xfe,
        fullCollectionName: `db${i}.coll`,
        numberToSkip: i,
        numberToReturn: -i,
        query: randomDoc(),
        returnFieldsSelector: i % 2 ? randomDoc() : undefined,
      });
      check(q, (m) => {
        assert.equal(m.opCode, OP_QUERY);
        return encodeOpQuery(w, m as Parameters<typeof encodeOpQuery>[1]);
      });

      const reply = encodeOpReply(w, {
        requestId: id,
        responseTo: to,
        responseFlags: i & 0xf,
        cursorId: BigInt(i) * 0x1_0000_0001n - 7n,
        startingFrom: i,
        documents: Array.from({ length: i % 5 }, () => randomDoc()),
      });
      check(reply, (m) => {
        assert.equal(m.opCode, OP_REPLY);
        return encodeOpReply(w, m as Parameters<typeof encodeOpReply>[1]);
      });

      const gm = encodeOpGetMore(w, {
        requestId: id,
        fullCollectionName: "d.c",
        numberToReturn: i,
        cursorId: BigInt(id) << 20n,
      });
      check(gm, (m) => {
        assert.equal(m.opCode, OP_GET_MORE);
        return encodeOpGetMore(w, m as Parameters<typeof encodeOpGetMore>[1]);
      });

      const kc = encodeOpKillCursors(w, {
        requestId: id,
        cursorIds: Array.from({ length: 1 + (i % 4) }, (_, j) => BigInt(j) - 2n ** 62n),
      });
      check(kc, (m) => {
        assert.equal(m.opCode, OP_KILL_CURSORS);
        return encodeOpKillCursors(w, m as Parameters<typeof encodeOpKillCursors>[1]);
      });
    }
  });

  test("int64 extremes and int32 extremes survive", () => {
    const f = encodeOpReply(w, {
      requestId: 0x7fffffff,
      responseTo: -0x80000000,
      cursorId: -(2n ** 63n),
      documents: [],
    });
    const r2 = decodeOpReply(f);
    assert.equal(r2.cursorId, -(2n ** 63n));
    assert.equal(r2.requestId, 0x7fffffff);
    assert.equal(r2.responseTo, -0x80000000);
    const g = decodeOpGetMore(
      encodeOpGetMore(w, { requestId: 1, fullCollectionName: "a.b", cursorId: 2n ** 63n - 1n }),
    );
    assert.equal(g.cursorId, 2n ** 63n - 1n);
  });

  test("the returned frame is a copy: reusing the writer does not change it", () => {
    const a = encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } });
    const saved = a.slice();
    encodeOpMsg(w, { requestId: 2, body: { other: "x".repeat(500), $db: "admin" } });
    assert.deepEqual(a, saved);
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, a.length);
  });

  test("decoders accept a frame that is a view into a larger buffer", () => {
    const big = cat(new Uint8Array(3), PING_MSG, new Uint8Array(5));
    assert.deepEqual(decodeMessage(big.subarray(3, 3 + PING_MSG.length)), decodeOpMsg(PING_MSG));
  });

  test("decode options reach the BSON decoder (lossless numbers)", () => {
    const msg = decodeOpMsg(PING_MSG, { bson: { promoteValues: false } });
    assert.notEqual(typeof msg.body.ping, "number");
    assert.equal(String((msg.body.ping as { value: number }).value), "1");
  });

  test("a big OP_MSG (a 1000-document sequence) round-trips with a checksum", () => {
    const docs = Array.from({ length: 1000 }, (_, i) => ({ _id: i, name: `n${i}`, pad: "p".repeat(i % 50) }));
    const f = encodeOpMsg(w, {
      requestId: 77,
      flagBits: MsgFlags.checksumPresent,
      body: { insert: "c", $db: "test", ordered: true },
      sequences: [{ identifier: "documents", documents: docs }],
    });
    const m = decodeOpMsg(f);
    assert.equal(m.sequences[0].documents.length, 1000);
    assert.deepEqual(m.sequences[0].documents[999], docs[999]);
    assert.equal(new DataView(f.buffer).getUint32(f.length - 4, true), crc32cBitwise(f.subarray(0, f.length - 4)));
  });

  test("nextRequestId gives distinct positive int32 ids in sequence", () => {
    const ids = Array.from({ length: 1000 }, () => nextRequestId());
    assert.equal(new Set(ids).size, 1000);
    for (let i = 1; i < ids.length; i++) {
      assert.ok(Number.isInteger(ids[i]) && ids[i] > 0 && ids[i] <= 0x7fffffff);
      assert.ok(ids[i] === ids[i - 1] + 1 || ids[i] === 1);
    }
  });
});

describe("malformed frames -> WireProtocolError", () => {
  for (const [name, valid, validPrefixes] of VALID_FRAMES) {
    test(`${name}: every truncation (header kept honest and not) is a WireProtocolError`, () => {
      for (let k = 0; k < valid.length; k++) {
        const cut = valid.slice(0, k);
        assertWireError(() => decodeMessage(cut));
        // The header claims exactly the bytes present, so only the inner lengths can tell.
        if (k < 16) continue;
        const honest = setI32(cut, 0, k);
        if (validPrefixes.includes(k)) assert.equal(decodeMessage(honest).opCode, readHeader(valid).opCode);
        else assertWireError(() => decodeMessage(honest));
      }
    });

    test(`${name}: messageLength that lies (bigger, smaller, negative, zero) is a WireProtocolError`, () => {
      for (const len of [valid.length + 1, valid.length - 1, valid.length + 1000, -1, 0, 15, 16, 0x7fffffff]) {
        if (len === valid.length) continue;
        assertWireError(() => decodeMessage(setI32(valid, 0, len)), /messageLength|truncated|bytes/);
      }
      // Extra bytes after an honest message, with messageLength covering them.
      const padded = setI32(cat(valid, [0, 0, 0, 0, 0]), 0, valid.length + 5);
      assertWireError(() => decodeMessage(padded));
    });

    test(`${name}: 300 random corruptions give a value or a WireProtocolError, nothing else`, () => {
      const r = rng(valid.length * 31 + 1);
      for (let i = 0; i < 300; i++) {
        const bad = valid.slice();
        const flips = 1 + Math.floor(r() * 3);
        for (let j = 0; j < flips; j++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
        try {
          decodeMessage(bad);
        } catch (e) {
          assert.ok(
            e instanceof WireProtocolError,
            `corruption ${i}: got ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
          );
        }
      }
    });
  }

  test("random bodies behind an honest header, 500 per opcode: a value or a WireProtocolError", () => {
    const r = rng(99);
    for (const opCode of [OP_MSG, OP_REPLY, OP_QUERY, OP_GET_MORE, OP_KILL_CURSORS, 0, 2012, -1]) {
      for (let i = 0; i < 500; i++) {
        const body = Uint8Array.from({ length: Math.floor(r() * 60) }, () => (r() < 0.5 ? 0 : Math.floor(r() * 256)));
        const f = frame(i, 0, opCode, body);
        try {
          decodeMessage(f);
        } catch (e) {
          assert.ok(e instanceof WireProtocolError, `opCode ${opCode} #${i}: ${e instanceof Error ? e.name : e}`);
        }
      }
    }
  });

  test("opCode of the wrong kind for the typed decoder", () => {
    assertWireError(() => decodeOpQuery(PING_MSG), /opCode is OP_MSG/);
    assertWireError(() => decodeOpMsg(REPLY_MSG), /opCode/);
    assertWireError(() => decodeOpKillCursors(GET_MORE_MSG), /opCode/);
  });

  test("unknown or unsupported opcodes", () => {
    assertWireError(() => decodeMessage(frame(1, 0, 9999, u32(0))), /unknown opCode 9999/);
    assertWireError(() => decodeMessage(frame(1, 0, OP_COMPRESSED, i32(2013), i32(5), [0])), /OP_COMPRESSED/);
    assertWireError(() => decodeMessage(frame(1, 0, OP_INSERT, i32(0), cstr("a.b"))), /OP_INSERT/);
    assertWireError(() => decodeMessage(new Uint8Array(0)), /header/);
  });

  test("not a Uint8Array", () => {
    assertWireError(() => decodeMessage(null as unknown as Uint8Array));
    assertWireError(() => decodeOpMsg("abc" as unknown as Uint8Array));
  });

  test("OP_MSG: unknown section kinds (2..255) are errors", () => {
    for (const kind of [2, 3, 7, 128, 255]) {
      assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [0], PING_BODY, [kind], PING_BODY)), /section kind/);
      assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [kind], PING_BODY)), /section kind/);
    }
  });

  test("OP_MSG: every unknown required flag bit (2..15) is an error; optional bits (17..31) are ignored", () => {
    for (let bit = 2; bit < 16; bit++) {
      assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(1 << bit), [0], PING_BODY)), /required flag/);
    }
    for (let bit = 17; bit < 32; bit++) {
      const m = decodeOpMsg(frame(1, 0, 2013, u32(((1 << bit) | 2) >>> 0), [0], PING_BODY));
      assert.equal(m.flagBits, MsgFlags.moreToCome, `bit ${bit}`);
      assert.deepEqual(m.body, { ping: 1, $db: "admin" });
    }
  });

  test("OP_MSG: a checksum mismatch is an error, wherever the damage is", () => {
    for (let i = 20; i < CRC_MSG.length; i++) {
      const bad = CRC_MSG.slice();
      bad[i] ^= 0x10;
      assertWireError(() => decodeOpMsg(bad), /checksum mismatch/);
    }
    // Damage in the header is caught too (requestId is covered by the checksum).
    const badId = CRC_MSG.slice();
    badId[5] ^= 1;
    assertWireError(() => decodeOpMsg(badId), /checksum mismatch/);
    // Flag says checksum, but the frame is too short to hold one.
    assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(1))), /checksum/);
  });

  test("OP_MSG: zero or two kind-0 sections, duplicate identifiers", () => {
    assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0))), /no sections/);
    assertWireError(
      () => decodeOpMsg(frame(1, 0, 2013, u32(0), [1], i32(4 + SEQ_PAYLOAD.length), SEQ_PAYLOAD)),
      /no kind-0 body/,
    );
    assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [0], PING_BODY, [0], PING_BODY)), /second kind-0/);
    const seq = cat([1], i32(4 + SEQ_PAYLOAD.length), SEQ_PAYLOAD);
    assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [0], PING_BODY, seq, seq)), /appears twice/);
  });

  test("OP_MSG: kind-1 section sizes and document lengths that lie", () => {
    const payloadLen = 4 + SEQ_PAYLOAD.length;
    for (const size of [-1, 0, 3, 4, payloadLen - 1, payloadLen + 1, 0x7fffffff]) {
      const f = frame(2, 0, 2013, u32(0), [0], INSERT_BODY, [1], i32(size), SEQ_PAYLOAD);
      assertWireError(() => decodeOpMsg(f));
    }
    // Size covers the identifier but not its NUL.
    assertWireError(
      () => decodeOpMsg(frame(2, 0, 2013, u32(0), [0], INSERT_BODY, [1], i32(4 + 4), cstr("documents"))),
      /NUL/,
    );
    // A document whose declared length runs past the end of its section (but not of the message).
    const longDoc = setI32(SEQ_DOCS[1], 0, SEQ_DOCS[1].length + 4);
    const sec = cat(cstr("documents"), longDoc);
    assertWireError(
      () => decodeOpMsg(frame(2, 0, 2013, u32(0), [1], i32(4 + sec.length), sec, [0], INSERT_BODY)),
      /declares length/,
    );
    // Body length lies: below 5, and past the message.
    for (const len of [0, 4, -10, PING_BODY.length + 1]) {
      assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [0], setI32(PING_BODY, 0, len))));
    }
    // An identifier that is not UTF-8.
    const badId = cat([0xff, 0xfe, 0], SEQ_DOCS[0]);
    assertWireError(
      () => decodeOpMsg(frame(2, 0, 2013, u32(0), [0], INSERT_BODY, [1], i32(4 + badId.length), badId)),
      /UTF-8/,
    );
  });

  test("invalid BSON inside a frame is a WireProtocolError whose cause is the BSONError", () => {
    const badType = PING_BODY.slice();
    badType[4] = 0x7e; // not a BSON type
    const e = assertWireError(() => decodeOpMsg(frame(1, 0, 2013, u32(0), [0], badType)), /not valid BSON/);
    assert.ok(e.cause instanceof BSONError);
    const e2 = assertWireError(() => decodeOpReply(frame(1, 0, 1, i32(0), i64(0n), i32(0), i32(1), badType)));
    assert.ok(e2.cause instanceof BSONError);
  });

  test("OP_REPLY: numberReturned must match the documents exactly", () => {
    const docs = cat(...REPLY_DOCS);
    for (const n of [-1, 0, 1, 3, 1000, 0x7fffffff]) {
      assertWireError(
        () => decodeOpReply(frame(5, 4, 1, i32(8), i64(0n), i32(0), i32(n), docs)),
        /numberReturned|bytes left|truncated|declares/,
      );
    }
  });

  test("OP_QUERY: reserved flag bits, a namespace without NUL, bytes after the selector", () => {
    for (const bit of [0, 8, 9, 16, 31]) {
      const f = setI32(QUERY_MSG, 16, (1 << bit) | 4);
      assertWireError(() => decodeOpQuery(f), /reserved/);
    }
    assertWireError(() => decodeOpQuery(frame(1, 0, 2004, i32(0), te.encode("admin.$cmd"))), /NUL/);
    const extra = frame(1, 0, 2004, i32(0), cstr("a.b"), i32(0), i32(0), FIND_QUERY, FIND_FIELDS, FIND_QUERY);
    assertWireError(() => decodeOpQuery(extra), /unexpected bytes/);
  });

  test("OP_GET_MORE / OP_KILL_CURSORS: reserved ZERO, counts that lie", () => {
    assertWireError(() => decodeOpGetMore(setI32(GET_MORE_MSG, 16, 1)), /ZERO/);
    assertWireError(() => decodeOpKillCursors(setI32(KILL_MSG, 16, 7)), /ZERO/);
    for (const n of [-1, 0, 1, 3, 0x7fffffff, -0x80000000]) {
      assertWireError(() => decodeOpKillCursors(setI32(KILL_MSG, 20, n)), /numberOfCursorIDs/);
    }
  });
});

describe("encoding bad input", () => {
  test("ids, counts and flags that are not int32, or reserved", () => {
    for (const requestId of [1.5, 2 ** 31, -(2 ** 31) - 1, NaN, "1", undefined]) {
      assertWireError(() => encodeOpMsg(w, { requestId: requestId as number, body: { ping: 1 } }), /requestId/);
    }
    assertWireError(() => encodeOpMsg(w, { requestId: 1, responseTo: 2 ** 32, body: {} }), /responseTo/);
    for (const flagBits of [4, 0x8000, 0x20000, 0x80000000, -1, 1.5]) {
      assertWireError(() => encodeOpMsg(w, { requestId: 1, flagBits, body: {} }), /flagBits/);
    }
    for (const flags of [1, 0x100, -1]) {
      assertWireError(
        () => encodeOpQuery(w, { requestId: 1, flags, fullCollectionName: "a.b", query: {} }),
        /reserved|flags/,
      );
    }
    assertWireError(
      () => encodeOpQuery(w, { requestId: 1, fullCollectionName: "a.b", numberToReturn: 2 ** 40, query: {} }),
      /numberToReturn/,
    );
    assertWireError(() => encodeOpReply(w, { requestId: 1, cursorId: 2n ** 63n, documents: [] }), /cursorId/);
    assertWireError(
      () => encodeOpReply(w, { requestId: 1, cursorId: 5 as unknown as bigint, documents: [] }),
      /cursorId/,
    );
    assertWireError(() => encodeOpKillCursors(w, { requestId: 1, cursorIds: [] }), /empty/);
    assertWireError(
      () => encodeOpKillCursors(w, { requestId: 1, cursorIds: [1n, 1 as unknown as bigint] }),
      /cursorIds\[1\]/,
    );
  });

  test("namespaces, identifiers and documents", () => {
    for (const ns of ["", "nodot", ".coll", "a\0.b", 5]) {
      assertWireError(
        () => encodeOpQuery(w, { requestId: 1, fullCollectionName: ns as string, query: {} }),
        /fullCollectionName/,
      );
      assertWireError(
        () => encodeOpGetMore(w, { requestId: 1, fullCollectionName: ns as string, cursorId: 1n }),
        /fullCollectionName/,
      );
    }
    for (const identifier of ["", "a\0b", 7]) {
      assertWireError(
        () =>
          encodeOpMsg(w, { requestId: 1, body: {}, sequences: [{ identifier: identifier as string, documents: [] }] }),
        /identifier/,
      );
    }
    assertWireError(
      () =>
        encodeOpMsg(w, {
          requestId: 1,
          body: {},
          sequences: [{ identifier: "documents", documents: [] }, { identifier: "documents", documents: [] }],
        }),
      /twice/,
    );
    assertWireError(
      () => encodeOpMsg(w, { requestId: 1, body: null as unknown as Record<string, unknown> }),
      /body must be a document/,
    );
    assertWireError(() => encodeOpMsg(w, { requestId: 1, body: [1] as unknown as Record<string, unknown> }), /body/);
    assertWireError(() => encodeOpReply(w, { requestId: 1, documents: {} as unknown as [] }), /documents/);
    assertWireError(() => encodeOpMsg(w, null as unknown as Parameters<typeof encodeOpMsg>[1]), /fields/);
    assertWireError(() => encodeOpMsg({} as ByteWriter, { requestId: 1, body: {} }), /ByteWriter/);
  });

  test("a document the BSON encoder rejects gives its BSONError (not wrapped)", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(() => encodeOpMsg(w, { requestId: 1, body: cyclic }), BSONError);
    assert.throws(() => encodeOpMsg(w, { requestId: 1, body: { fn: () => 1 } }), BSONError);
  });

  test("maxMessageSizeBytes is enforced while encoding; a bad limit is a ConfigurationError", () => {
    const docs = Array.from({ length: 100 }, (_, i) => ({ i, pad: "x".repeat(100) }));
    const fields = {
      requestId: 1,
      body: { insert: "c", $db: "t" },
      sequences: [{ identifier: "documents", documents: docs }],
    };
    assertWireError(() => encodeOpMsg(w, fields, { maxMessageSizeBytes: 1000 }), /maxMessageSizeBytes 1000/);
    assert.ok(encodeOpMsg(w, fields, { maxMessageSizeBytes: 100_000 }).length > 10_000);
    assertWireError(
      () => encodeOpReply(w, { requestId: 1, documents: docs }, { maxMessageSizeBytes: 500 }),
      /maxMessageSizeBytes/,
    );
    const exact = encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } });
    assert.equal(
      encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } }, { maxMessageSizeBytes: exact.length }).length,
      exact.length,
    );
    assertWireError(() =>
      encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } }, { maxMessageSizeBytes: exact.length - 1 })
    );
    for (const bad of [0, 15, 1.5, 2 ** 31, NaN]) {
      assert.throws(() => encodeOpMsg(w, { requestId: 1, body: {} }, { maxMessageSizeBytes: bad }), ConfigurationError);
    }
  });

  test("encoding never leaves the writer unusable after an error", () => {
    assert.throws(() => encodeOpMsg(w, { requestId: 1, body: { fn: () => 1 } }));
    assert.equal(hex(encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } })), hex(PING_MSG));
  });

  test("the bson codec agrees with the hand-assembled bodies", () => {
    // Sanity for the vectors themselves: our hand-assembled BSON matches the codec.
    assert.equal(hex(encode({ ping: 1, $db: "admin" })), hex(PING_BODY));
    assert.deepEqual(decode(ISMASTER_QUERY), { isMaster: 1, helloOk: true });
  });
});
