// OP_COMPRESSED framing (src/wire/op_compressed.ts): round trips, interop with
// node:zlib (an independent zlib) in both directions, and every way a
// compressed frame can lie, each a WireProtocolError.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync, inflateSync } from "node:zlib";

import { ByteWriter } from "../../src/bson/mod.ts";
import { WireProtocolError } from "../../src/errors.ts";
import {
  compressMessage,
  COMPRESSOR_IDS,
  decodeOpMsg,
  decompressMessage,
  encodeOpMsg,
  encodeOpReply,
  OP_COMPRESSED,
  OP_MSG,
  OP_REPLY,
  readHeader,
  UNCOMPRESSIBLE_COMMANDS,
} from "../../src/wire/mod.ts";

function message(size = 2000): Uint8Array {
  return encodeOpMsg(new ByteWriter(), {
    requestId: 41,
    body: { insert: "c", $db: "test", note: "abc".repeat(size / 3) },
  });
}

/** An OP_COMPRESSED frame assembled by hand around `packed`. */
function frame(original: Uint8Array, id: number, packed: Uint8Array, size = original.length - 16): Uint8Array {
  const out = new Uint8Array(25 + packed.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, out.length, true);
  v.setInt32(4, 41, true);
  v.setInt32(8, 7, true);
  v.setInt32(12, OP_COMPRESSED, true);
  v.setInt32(16, readHeader(original).opCode, true);
  v.setInt32(20, size, true);
  out[24] = id;
  out.set(packed, 25);
  return out;
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e) => e instanceof WireProtocolError && pattern.test(e.message));
}

describe("OP_COMPRESSED", () => {
  test("zlib and noop round-trip an OP_MSG and an OP_REPLY, keeping requestId and responseTo", async () => {
    const reply = encodeOpReply(new ByteWriter(), { requestId: 5, responseTo: 41, documents: [{ ok: 1, n: 3 }] });
    for (const original of [message(), reply]) {
      for (const compressor of ["zlib", "noop"] as const) {
        const packed = await compressMessage(original, compressor);
        const h = readHeader(packed);
        assert.equal(h.opCode, OP_COMPRESSED);
        assert.equal(h.requestId, readHeader(original).requestId);
        assert.equal(h.responseTo, readHeader(original).responseTo);
        assert.equal(packed[24], COMPRESSOR_IDS[compressor]);
        const back = await decompressMessage(packed);
        assert.deepEqual([...back], [...original], `${compressor} ${readHeader(original).opCode}`);
      }
    }
    const big = message(30_000);
    assert.ok((await compressMessage(big, "zlib")).length < big.length / 10, "repetitive text compresses");
    assert.equal(decodeOpMsg(await decompressMessage(await compressMessage(big, "zlib"))).body.insert, "c");
    assert.equal(readHeader(reply).opCode, OP_REPLY);
    assert.equal(readHeader(message()).opCode, OP_MSG);
  });

  test("interoperates with node:zlib in both directions", async () => {
    for (const size of [0, 1, 100, 70_000]) {
      const original = message(size);
      const ours = await compressMessage(original, "zlib");
      assert.deepEqual([...inflateSync(ours.subarray(25))], [...original.subarray(16)], `node inflates ours (${size})`);
      const theirs = frame(original, COMPRESSOR_IDS.zlib, deflateSync(original.subarray(16), { level: 9 }));
      const back = await decompressMessage(theirs);
      assert.deepEqual([...back.subarray(16)], [...original.subarray(16)], `we inflate node's (${size})`);
    }
  });

  test("every lie is a WireProtocolError, and inflating stops at the announced size", async () => {
    const original = message();
    const body = original.subarray(16);
    const zlib = deflateSync(body);
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.snappy, body)), /compressor snappy.*only zlib/);
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.zstd, body)), /compressor zstd/);
    await rejects(decompressMessage(frame(original, 9, body)), /compressor id 9/);
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.zlib, zlib, body.length - 1)), /inflates past/);
    await rejects(
      decompressMessage(frame(original, COMPRESSOR_IDS.zlib, zlib, body.length + 1)),
      /says \d+ bytes but the body inflates to/,
    );
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.noop, body, body.length + 5)), /says/);
    await rejects(
      decompressMessage(frame(original, COMPRESSOR_IDS.zlib, new Uint8Array([1, 2, 3, 4, 5]))),
      /does not inflate/,
    );
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.zlib, zlib, -1)), /original body is -1 bytes/);
    await rejects(
      decompressMessage(frame(original, COMPRESSOR_IDS.zlib, zlib), { maxMessageSizeBytes: 100 }),
      /at most 84/,
    );
    const nested = frame(original, COMPRESSOR_IDS.noop, body);
    new DataView(nested.buffer).setInt32(16, OP_COMPRESSED, true);
    await rejects(decompressMessage(nested), /inside OP_COMPRESSED/);
    const short = frame(original, COMPRESSOR_IDS.noop, body);
    await rejects(decompressMessage(short.subarray(0, 30)), /truncated|short/);
    await rejects(decompressMessage(original), /expected OP_COMPRESSED/);
    // A bomb: 16 MiB of zeros deflate to about 16 KiB; it claims 1000 bytes and is stopped there.
    const zeros = deflateSync(new Uint8Array(16 * 1024 * 1024));
    await rejects(decompressMessage(frame(original, COMPRESSOR_IDS.zlib, zeros, 1000)), /inflates past the 1000 bytes/);
  });

  test("the handshake and authentication are never compressed", () => {
    for (const name of ["hello", "isMaster", "ismaster", "saslStart", "saslContinue", "authenticate", "createUser"]) {
      assert.ok(UNCOMPRESSIBLE_COMMANDS.has(name), name);
    }
    assert.ok(!UNCOMPRESSIBLE_COMMANDS.has("find"));
  });
});
