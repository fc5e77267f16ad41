// MessageReader: a socket's chunks, cut at every possible place, must give back
// exactly the messages that were sent; bad lengths fail at once, before the
// reader buffers or allocates anything for the message.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/bson/mod.ts";
import { ConfigurationError, WireProtocolError } from "../../src/errors.ts";
import {
  decodeMessage,
  encodeOpKillCursors,
  encodeOpMsg,
  encodeOpQuery,
  encodeOpReply,
  MessageReader,
  MsgFlags,
  readHeader,
} from "../../src/wire/mod.ts";

const w = new ByteWriter();

// A few real messages of different sizes and opcodes, plus the smallest frame
// the reader accepts (a bare 16-byte header; the reader frames, it does not parse).
const MESSAGES: Uint8Array[] = [
  encodeOpMsg(w, { requestId: 1, body: { ping: 1, $db: "admin" } }),
  new Uint8Array([16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0]),
  encodeOpReply(w, { requestId: 3, responseTo: 1, documents: [{ ok: 1, hosts: ["a:1", "b:2"] }, { n: 2n }] }),
  encodeOpQuery(w, { requestId: 4, fullCollectionName: "admin.$cmd", numberToReturn: -1, query: { isMaster: 1 } }),
  encodeOpMsg(w, {
    requestId: 5,
    flagBits: MsgFlags.checksumPresent,
    body: { insert: "c", $db: "t" },
    sequences: [{ identifier: "documents", documents: [{ _id: 1 }, { _id: 2 }] }],
  }),
  encodeOpKillCursors(w, { requestId: 6, cursorIds: [1n] }),
];
const STREAM = concat(MESSAGES);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Feeds `chunks` one by one, draining after each, and returns every frame. */
function feed(reader: MessageReader, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    reader.push(c);
    for (let f = reader.next(); f !== null; f = reader.next()) out.push(f);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function assertSameFrames(got: Uint8Array[], label: string): void {
  assert.equal(got.length, MESSAGES.length, `${label}: frame count`);
  for (let i = 0; i < MESSAGES.length; i++) {
    // Cheap comparison first; the hex diff only when it fails.
    if (!sameBytes(got[i], MESSAGES[i])) assert.equal(hex(got[i]), hex(MESSAGES[i]), `${label}: frame ${i}`);
  }
}

function header(length: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setInt32(0, length, true);
  v.setInt32(12, 2013, true);
  return b;
}

describe("MessageReader: chunk boundaries", () => {
  test(`all in one chunk (${MESSAGES.length} messages, ${STREAM.length} bytes): frames are views, no copy`, () => {
    const chunk = STREAM.slice();
    const reader = new MessageReader();
    const got = feed(reader, [chunk]);
    assertSameFrames(got, "one chunk");
    for (const f of got) assert.equal(f.buffer, chunk.buffer, "a frame inside one chunk is a view of it");
    assert.equal(reader.bufferedBytes, 0);
    assert.equal(reader.next(), null);
  });

  test("every single split point (two chunks)", () => {
    for (let k = 0; k <= STREAM.length; k++) {
      const got = feed(new MessageReader(), [STREAM.subarray(0, k), STREAM.subarray(k)]);
      assertSameFrames(got, `split at ${k}`);
    }
  });

  test("every pair of split points (three chunks)", () => {
    let cases = 0;
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j++) {
        const got = feed(new MessageReader(), [STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]);
        assertSameFrames(got, `splits at ${i}, ${j}`);
        cases++;
      }
    }
    assert.equal(cases, ((STREAM.length + 1) * (STREAM.length + 2)) / 2);
  });

  test("byte by byte: each frame appears exactly when its last byte arrives", () => {
    const reader = new MessageReader();
    const ends = new Set<number>();
    let end = 0;
    for (const m of MESSAGES) ends.add(end += m.length);
    const got: Uint8Array[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      reader.push(STREAM.subarray(i, i + 1));
      const f = reader.next();
      if (ends.has(i + 1)) {
        assert.ok(f !== null, `a frame should complete at byte ${i + 1}`);
        got.push(f);
        assert.equal(reader.next(), null);
      } else {
        assert.equal(f, null, `no frame should complete at byte ${i + 1}`);
      }
    }
    assertSameFrames(got, "byte by byte");
    assert.equal(reader.bufferedBytes, 0);
  });

  test("a header split in two, then the body in many small pieces", () => {
    const m = MESSAGES[2];
    for (let k = 1; k < 16; k++) {
      const reader = new MessageReader();
      reader.push(m.subarray(0, k));
      assert.equal(reader.next(), null);
      reader.push(m.subarray(k, 16));
      assert.equal(reader.next(), null);
      for (let i = 16; i < m.length; i += 3) reader.push(m.subarray(i, Math.min(i + 3, m.length)));
      const f = reader.next();
      assert.ok(f !== null);
      assert.equal(hex(f), hex(m));
      assert.equal(reader.next(), null);
    }
  });

  test("a frame that spans chunks is one fresh buffer of exactly its length", () => {
    const m = MESSAGES[0];
    const reader = new MessageReader();
    reader.push(m.subarray(0, 20));
    reader.push(m.subarray(20));
    const f = reader.next()!;
    assert.equal(f.byteOffset, 0);
    assert.equal(f.buffer.byteLength, m.length);
    assert.equal(hex(f), hex(m));
  });

  test("many messages in one chunk with a partial one at the end; empty chunks are ignored", () => {
    const reader = new MessageReader();
    const cut = STREAM.length - 5;
    reader.push(new Uint8Array(0));
    reader.push(STREAM.subarray(0, cut));
    const got: Uint8Array[] = [];
    for (let f = reader.next(); f !== null; f = reader.next()) got.push(f);
    assert.equal(got.length, MESSAGES.length - 1);
    assert.equal(reader.bufferedBytes, MESSAGES[MESSAGES.length - 1].length - 5);
    reader.push(new Uint8Array(0));
    reader.push(STREAM.subarray(cut));
    got.push(reader.next()!);
    assertSameFrames(got, "partial tail");
  });

  test("1000 messages byte by byte stay consistent (the chunk queue is compacted)", () => {
    const msgs = Array.from({ length: 1000 }, (_, i) => encodeOpMsg(w, { requestId: i + 1, body: { i, $db: "x" } }));
    const stream = concat(msgs);
    const reader = new MessageReader();
    let n = 0;
    for (let i = 0; i < stream.length; i++) {
      reader.push(stream.subarray(i, i + 1));
      const f = reader.next();
      if (f !== null) {
        assert.equal(readHeader(f).requestId, ++n);
        const msg = decodeMessage(f);
        assert.equal(msg.opCode === 2013 && msg.body.i, n - 1);
      }
    }
    assert.equal(n, 1000);
    assert.equal(reader.bufferedBytes, 0);
  });

  test("frames from the reader decode to what was encoded", () => {
    const got = feed(new MessageReader(), [STREAM.subarray(0, 7), STREAM.subarray(7, 90), STREAM.subarray(90)]);
    const first = decodeMessage(got[0]);
    assert.equal(first.opCode, 2013);
    assert.deepEqual(first.opCode === 2013 && first.body, { ping: 1, $db: "admin" });
    const reply = decodeMessage(got[2]);
    assert.deepEqual(reply.opCode === 1 && reply.documents, [{ ok: 1, hosts: ["a:1", "b:2"] }, { n: 2n }]);
  });
});

describe("MessageReader: bad lengths", () => {
  for (const length of [15, 0, 1, -1, -16, -0x80000000]) {
    test(`messageLength ${length} (< 16) is a WireProtocolError as soon as its 4 bytes arrive`, () => {
      const reader = new MessageReader();
      const h = header(length);
      for (let i = 0; i < 3; i++) {
        reader.push(h.subarray(i, i + 1));
        assert.equal(reader.next(), null, "not enough bytes to know the length yet");
      }
      reader.push(h.subarray(3, 4));
      assert.throws(
        () => reader.next(),
        (e: unknown) => e instanceof WireProtocolError && /below the 16-byte header/.test(e.message),
      );
      // The stream is out of step: the reader stays failed.
      assert.throws(() => reader.next(), WireProtocolError);
      assert.throws(() => reader.push(new Uint8Array(4)), WireProtocolError);
      assert.equal(reader.bufferedBytes, 0);
    });
  }

  test("a length over the default maxMessageSizeBytes (48000000) fails after 4 bytes; nothing is buffered", () => {
    const reader = new MessageReader();
    assert.equal(reader.maxMessageSizeBytes, 48_000_000);
    reader.push(header(48_000_001).subarray(0, 4));
    assert.equal(reader.bufferedBytes, 4);
    assert.throws(
      () => reader.next(),
      (e: unknown) => e instanceof WireProtocolError && /exceeds maxMessageSizeBytes 48000000/.test(e.message),
    );
    // The reader dropped what it held and never grew a buffer for the message.
    assert.equal(reader.bufferedBytes, 0);
  });

  test("a length of 2^31 - 1 fails from the header alone, with a small custom limit", () => {
    const reader = new MessageReader({ maxMessageSizeBytes: 1024 });
    reader.push(header(0x7fffffff));
    assert.throws(() => reader.next(), /exceeds maxMessageSizeBytes 1024/);
    assert.equal(reader.bufferedBytes, 0);
  });

  test("exactly maxMessageSizeBytes is accepted, one more is not", () => {
    const m = MESSAGES[0];
    const ok = new MessageReader({ maxMessageSizeBytes: m.length });
    ok.push(m);
    assert.equal(hex(ok.next()!), hex(m));
    const tooBig = new MessageReader({ maxMessageSizeBytes: m.length - 1 });
    tooBig.push(m);
    assert.throws(() => tooBig.next(), WireProtocolError);
  });

  test("a bad length after good messages: the good ones come out first", () => {
    const reader = new MessageReader({ maxMessageSizeBytes: 1000 });
    reader.push(concat([MESSAGES[0], MESSAGES[1], header(5000)]));
    assert.equal(hex(reader.next()!), hex(MESSAGES[0]));
    assert.equal(hex(reader.next()!), hex(MESSAGES[1]));
    assert.throws(() => reader.next(), WireProtocolError);
  });

  test("maxMessageSizeBytes can be changed (after the handshake) and applies to the next message", () => {
    const reader = new MessageReader({ maxMessageSizeBytes: 100 });
    const big = encodeOpMsg(w, { requestId: 1, body: { pad: "x".repeat(200), $db: "a" } });
    reader.maxMessageSizeBytes = 1000;
    reader.push(big);
    assert.equal(hex(reader.next()!), hex(big));
    reader.maxMessageSizeBytes = 100;
    reader.push(big);
    assert.throws(() => reader.next(), WireProtocolError);
  });

  test("bad options and bad chunks", () => {
    for (const bad of [0, 15, -1, 1.5, 2 ** 31, NaN, "48000000"]) {
      assert.throws(() => new MessageReader({ maxMessageSizeBytes: bad as number }), ConfigurationError);
      assert.throws(() => {
        new MessageReader().maxMessageSizeBytes = bad as number;
      }, ConfigurationError);
    }
    const reader = new MessageReader();
    assert.throws(() => reader.push("abc" as unknown as Uint8Array), WireProtocolError);
    assert.throws(() => reader.push(null as unknown as Uint8Array), WireProtocolError);
    // A rejected push leaves the reader usable.
    reader.push(MESSAGES[0]);
    assert.equal(hex(reader.next()!), hex(MESSAGES[0]));
  });
});
