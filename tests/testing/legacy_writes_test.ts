import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Document, encode } from "../../src/bson/mod.ts";
import { OP_DELETE, OP_INSERT, OP_UPDATE } from "../../src/wire/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { withClient } from "./_client.ts";

let nextId = 1000;

// Builds a legacy write frame: header, then the parts (int32s, cstrings, documents).
function frame(opCode: number, parts: (number | string | Document)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    if (typeof p === "number") {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, p, true);
      chunks.push(b);
    } else if (typeof p === "string") chunks.push(new TextEncoder().encode(p + "\0"));
    else chunks.push(encode(p));
  }
  const length = 16 + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  v.setInt32(0, length, true);
  v.setInt32(4, nextId++, true);
  v.setInt32(12, opCode, true);
  let pos = 16;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

describe("legacy write opcodes with getLastError (wire < 14)", () => {
  test("OP_INSERT, OP_UPDATE (upsert, multi), OP_DELETE; errors reported by getLastError", async () => {
    await using rs = await startReplicaSet({ members: 2, maxWireVersion: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.send(frame(OP_INSERT, [0, "test.w", { _id: 1, n: 1 }, { _id: 2, n: 1 }]));
      let gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.err, null);
      await c.send(frame(OP_INSERT, [0, "test.w", { _id: 1 }]));
      gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.code, 11000);
      assert.match(gle.err as string, /E11000/);
      await c.send(frame(OP_UPDATE, [0, "test.w", 2, { n: 1 }, { $inc: { n: 1 } }]));
      gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.n, 2);
      assert.equal(gle.updatedExisting, true);
      await c.send(frame(OP_UPDATE, [0, "test.w", 1, { _id: 3 }, { $set: { n: 9 } }]));
      gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.upserted, 3);
      await c.send(frame(OP_DELETE, [0, "test.w", 1, { n: 2 }]));
      gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.n, 1);
      const r = await c.query("test.w", {});
      assert.deepEqual(r.documents, [{ _id: 2, n: 2 }, { _id: 3, n: 9 }]);
    });
    await withClient(rs.hosts[1], async (c) => {
      await c.send(frame(OP_INSERT, [0, "test.w", { _id: 5 }]));
      const gle = await c.legacyCommand("test", { getLastError: 1 });
      assert.equal(gle.code, 10107);
    });
  });

  test("5.1+ closes the connection on a legacy write", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      await c.send(frame(OP_INSERT, [0, "test.w", { _id: 1 }]));
      assert.equal(await c.readFrame().catch(() => null), null);
    });
  });
});
