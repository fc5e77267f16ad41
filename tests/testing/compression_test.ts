// OP_COMPRESSED in the simulated replica set: negotiation in the handshake,
// compressed requests handled as the messages they wrap, compressed replies,
// malformed ones closing the connection; then PyMongo and the official Node
// driver as independent clients that compress with zlib.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { ByteWriter, type Document } from "../../src/bson/mod.ts";
import { ConfigurationError } from "../../src/errors.ts";
import {
  compressMessage,
  COMPRESSOR_IDS,
  decodeMessage,
  decompressMessage,
  encodeOpMsg,
  encodeOpQuery,
  nextRequestId,
  OP_COMPRESSED,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  type OpMsg,
  type OpReply,
  readHeader,
} from "../../src/wire/mod.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { RawClient, withClient } from "./_client.ts";
import { type PythonRun, runPythonResults } from "../helpers/python_results.ts";
import { PYTHON, peerSkip, pythonMissing } from "../helpers/peers.ts";

const writer = new ByteWriter();

function opMsg(db: string, body: Document): Uint8Array {
  return encodeOpMsg(writer, { requestId: nextRequestId(), body: { ...body, $db: db } });
}

interface Answer {
  /** The opcode on the wire (OP_COMPRESSED or the plain one). */
  wireOpCode: number;
  /** The compressor id when it came compressed. */
  compressorId?: number;
  /** The OP_MSG body or OP_REPLY documents, after any decompression. */
  msg: OpMsg | OpReply;
}

// Sends one frame and reads one answer, decompressing it if needed; null when
// the member closed the connection instead.
async function exchange(c: RawClient, frame: Uint8Array): Promise<Answer | null> {
  await c.send(frame);
  const reply = await c.readFrame();
  if (reply === null) return null;
  const wireOpCode = readHeader(reply).opCode;
  if (wireOpCode !== OP_COMPRESSED) return { wireOpCode, msg: decodeMessage(reply) as OpMsg | OpReply };
  const original = await decompressMessage(reply);
  return { wireOpCode, compressorId: reply[24], msg: decodeMessage(original) as OpMsg | OpReply };
}

async function zlibCommand(c: RawClient, db: string, body: Document): Promise<Answer | null> {
  return await exchange(c, await compressMessage(opMsg(db, body), "zlib"));
}

function bodyOf(a: Answer | null): Document {
  assert.ok(a !== null, "the member answered");
  assert.equal(a.msg.opCode, OP_MSG);
  return (a.msg as OpMsg).body;
}

// Resolves true when the member ends the connection (within a bounded number of reads).
async function closesConnection(c: RawClient, frame: Uint8Array): Promise<boolean> {
  await c.send(frame);
  for (let i = 0; i < 4; i++) {
    const f = await c.readFrame().catch(() => null);
    if (f === null) return true;
  }
  return false;
}

describe("OP_COMPRESSED: handshake negotiation", () => {
  test("hello offering snappy and zlib is answered with zlib only; isMaster over OP_QUERY too", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const hello = await c.command("admin", { hello: 1, compression: ["snappy", "zlib"] });
      assert.deepEqual(hello.compression, ["zlib"]);
      assert.equal(hello.ok, 1);
      const legacy = await c.legacyCommand("admin", { isMaster: 1, compression: ["zstd", "zlib", "snappy"] });
      assert.deepEqual(legacy.compression, ["zlib"]);
      const none = await c.command("admin", { hello: 1, compression: ["snappy", "zstd"] });
      assert.equal("compression" in none, false, "no common compressor: no field, as mongod");
      const notAsked = await c.command("admin", { hello: 1 });
      assert.equal("compression" in notAsked, false, "a client that offers nothing gets no field");
      const empty = await c.command("admin", { hello: 1, compression: [] });
      assert.equal("compression" in empty, false);
    });
  });

  test("compressors: [] means no compression field, and an OP_COMPRESSED request closes the connection", async () => {
    await using rs = await startReplicaSet({ members: 1, compressors: [] });
    await withClient(rs.hosts[0], async (c) => {
      const hello = await c.command("admin", { hello: 1, compression: ["snappy", "zlib"] });
      assert.equal(hello.ok, 1);
      assert.equal("compression" in hello, false);
      assert.ok(await closesConnection(c, await compressMessage(opMsg("admin", { ping: 1 }), "zlib")));
    });
  });

  test("a compression field of the wrong type gets TypeMismatch, as mongod's parser gives", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("admin", { hello: 1, compression: "zlib" });
      assert.equal(r.ok, 0);
      assert.equal(r.code, 14);
      assert.match(String(r.errmsg), /hello\.compression.*'string'.*'array'/);
      const el = await c.command("admin", { hello: 1, compression: ["zlib", 3] });
      assert.equal(el.code, 14);
      assert.match(String(el.errmsg), /compression\.1/);
    });
  });

  test("a member below maxWireVersion 6 (before MongoDB 3.6) does not speak zlib", async () => {
    await using rs = await startReplicaSet({ members: 1, maxWireVersion: 5 });
    await withClient(rs.hosts[0], async (c) => {
      const legacy = await c.legacyCommand("admin", { isMaster: 1, compression: ["zlib"] });
      assert.equal(legacy.ok, 1);
      assert.equal("compression" in legacy, false);
    });
  });

  test("invalid compressors options are ConfigurationErrors that name the problem", async () => {
    await Promise.all([
      assert.rejects(startReplicaSet({ compressors: ["snappy"] }), (e: unknown) => {
        assert.ok(e instanceof ConfigurationError);
        assert.match(e.message, /compressors\[0\].*snappy.*"zlib" is the only one/);
        return true;
      }),
      assert.rejects(startReplicaSet({ compressors: ["zlib", "lz4"] }), /compressors\[1\].*no such compressor/),
      assert.rejects(startReplicaSet({ compressors: "zlib" as unknown as string[] }), ConfigurationError),
      assert.rejects(startReplicaSet({ compressors: [2 as unknown as string] }), ConfigurationError),
      assert.rejects(startReplicaSet({ compressors: [1n as unknown as string] }), /compressors\[0\] is 1n \(a bigint\):/),
      assert.rejects(
        startReplicaSet({ compressors: Object.create(null) as string[] }),
        /compressors must be an array of compressor names, got an object/,
      ),
    ]);
  });
});

describe("OP_COMPRESSED: requests and replies", () => {
  test("a compressed insert and find are answered compressed with zlib; the log says how they arrived", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const primary = await rs.waitForPrimary();
    rs.clearLog();
    await withClient(primary.host, async (c) => {
      const docs = Array.from({ length: 20 }, (_, i) => ({ _id: i, text: "zlib ".repeat(30) }));
      const ins = await zlibCommand(c, "test", { insert: "c", documents: docs });
      assert.ok(ins !== null);
      assert.equal(ins.wireOpCode, OP_COMPRESSED, "the insert's reply is compressed");
      assert.equal(ins.compressorId, COMPRESSOR_IDS.zlib);
      assert.equal(bodyOf(ins).ok, 1);
      assert.equal(bodyOf(ins).n, 20);

      const found = await zlibCommand(c, "test", { find: "c", filter: { _id: { $gte: 15 } }, sort: { _id: 1 } });
      assert.ok(found !== null);
      assert.equal(found.wireOpCode, OP_COMPRESSED);
      assert.equal(found.compressorId, COMPRESSOR_IDS.zlib);
      const batch = (bodyOf(found).cursor as Document).firstBatch as Document[];
      assert.deepEqual(batch.map((d) => d._id), [15, 16, 17, 18, 19]);
      assert.equal(batch[0].text, "zlib ".repeat(30));

      // The same connection still takes plain requests, answered plainly.
      const plain = await exchange(c, opMsg("test", { count: "c" }));
      assert.ok(plain !== null);
      assert.equal(plain.wireOpCode, OP_MSG);
      assert.equal(bodyOf(plain).n, 20);
    });
    const log = primary.requests;
    const insert = log.find((r) => r.command === "insert");
    const find = log.find((r) => r.command === "find");
    const count = log.find((r) => r.command === "count");
    assert.equal(insert?.compressor, "zlib");
    assert.equal(insert?.opName, "OP_MSG", "the log shows the original opcode");
    assert.equal((insert?.body.documents as Document[]).length, 20);
    assert.equal(find?.compressor, "zlib");
    assert.equal(count !== undefined && !("compressor" in count), true, "uncompressed requests have no compressor");
    assert.equal(primary.documents("test.c").length, 20);
  });

  test("a compressed hello is answered, uncompressed (the handshake is never compressed)", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    rs.clearLog();
    await withClient(rs.hosts[0], async (c) => {
      const a = await zlibCommand(c, "admin", { hello: 1, compression: ["zlib"] });
      assert.ok(a !== null);
      assert.equal(a.wireOpCode, OP_MSG);
      assert.equal(bodyOf(a).isWritablePrimary, true);
      assert.deepEqual(bodyOf(a).compression, ["zlib"]);
      // saslStart is another command never answered compressed.
      const s = await zlibCommand(c, "admin", { saslStart: 1, mechanism: "SCRAM-SHA-256", payload: new Uint8Array(0) });
      assert.ok(s !== null);
      assert.equal(s.wireOpCode, OP_MSG);
      // ...while ping is.
      const p = await zlibCommand(c, "admin", { ping: 1 });
      assert.equal(p?.wireOpCode, OP_COMPRESSED);
      assert.equal(bodyOf(p).ok, 1);
    });
    const hello = rs.requests(0).find((r) => r.command === "hello");
    assert.equal(hello?.compressor, "zlib");
  });

  test("noop-compressed requests (id 0) close the connection: the member speaks only zlib", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    await withClient(rs.hosts[0], async (c) => {
      assert.ok(await closesConnection(c, await compressMessage(opMsg("admin", { ping: 1 }), "noop")));
    });
  });

  test("snappy (id 1), zstd (id 3) and unknown ids close the connection", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    for (const id of [COMPRESSOR_IDS.snappy, COMPRESSOR_IDS.zstd, 200]) {
      const c = await RawClient.connect(rs.hosts[0]);
      try {
        const frame = await compressMessage(opMsg("admin", { ping: 1 }), "zlib");
        frame[24] = id;
        assert.ok(await closesConnection(c, frame), `compressor id ${id}`);
      } finally {
        c.close();
      }
    }
    // The member itself is fine.
    await withClient(rs.hosts[0], async (c) => assert.equal((await c.command("admin", { ping: 1 })).ok, 1));
  });

  test("a lying uncompressedSize, a body that does not inflate, or nesting closes the connection", async () => {
    await using rs = await startReplicaSet({ members: 1 });
    const good = await compressMessage(opMsg("admin", { ping: 1 }), "zlib");
    const view = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset, f.byteLength);
    const bigger = good.slice();
    view(bigger).setInt32(20, view(good).getInt32(20, true) + 1, true);
    const smaller = good.slice();
    view(smaller).setInt32(20, view(good).getInt32(20, true) - 1, true);
    const huge = good.slice();
    view(huge).setInt32(20, 0x7fffffff, true);
    const negative = good.slice();
    view(negative).setInt32(20, -1, true);
    const garbage = good.slice();
    garbage.fill(0xab, 25);
    const truncatedHeader = good.slice(0, 22);
    view(truncatedHeader).setInt32(0, 22, true);
    const nested = await compressMessage(good, "zlib");
    const cases: [string, Uint8Array][] = [
      ["size + 1", bigger],
      ["size - 1", smaller],
      ["size 2^31-1", huge],
      ["size -1", negative],
      ["garbage body", garbage],
      ["too short for its fields", truncatedHeader],
      ["OP_COMPRESSED inside OP_COMPRESSED", nested],
    ];
    for (const [name, frame] of cases) {
      const c = await RawClient.connect(rs.hosts[0]);
      try {
        assert.ok(await closesConnection(c, frame), name);
      } finally {
        c.close();
      }
    }
    assert.ok(!rs.requests(0).some((r) => r.compressor !== undefined), "malformed messages are not logged");
    await withClient(rs.hosts[0], async (c) => assert.equal((await c.command("admin", { ping: 1 })).ok, 1));
  });

  test("legacy OP_QUERY inside OP_COMPRESSED (maxWireVersion 8) gets a compressed OP_REPLY", async () => {
    await using rs = await startReplicaSet({ members: 1, maxWireVersion: 8 });
    const primary = await rs.waitForPrimary();
    await withClient(primary.host, async (c) => {
      assert.equal((await c.command("test", { insert: "c", documents: [{ _id: 1, a: "x" }, { _id: 2 }] })).ok, 1);
      const query = encodeOpQuery(writer, {
        requestId: nextRequestId(),
        fullCollectionName: "test.c",
        query: { _id: 1 },
        numberToReturn: 0,
      });
      const a = await exchange(c, await compressMessage(query, "zlib"));
      assert.ok(a !== null);
      assert.equal(a.wireOpCode, OP_COMPRESSED);
      assert.equal(a.msg.opCode, OP_REPLY);
      assert.deepEqual((a.msg as OpReply).documents, [{ _id: 1, a: "x" }]);
      const cmd = encodeOpQuery(writer, {
        requestId: nextRequestId(),
        fullCollectionName: "test.$cmd",
        query: { count: "c" },
        numberToReturn: -1,
      });
      const counted = await exchange(c, await compressMessage(cmd, "zlib"));
      assert.equal(counted?.wireOpCode, OP_COMPRESSED);
      assert.equal((counted?.msg as OpReply).documents[0].n, 2);
    });
    const legacy = primary.requests.find((r) => r.opCode === OP_QUERY && r.ns === "test.c");
    assert.equal(legacy?.compressor, "zlib");
  });
});

const SCRIPT = fileURLToPath(new URL("../helpers/pymongo_compress_client.py", import.meta.url));

function pythonMissingReason(): string | undefined {
  const missing = pythonMissing(["pymongo"]);
  if (missing !== undefined) return missing;
  const probe = spawnSync(PYTHON, [SCRIPT, "probe"], { encoding: "utf8" });
  const out = String(probe.stdout ?? "").trim();
  if (probe.status !== 0) return `the PyMongo probe failed: ${String(probe.stderr ?? "").trim()}`;
  return out === "OK" ? undefined : out.replace(/^SKIP /, "");
}

const pySkip = peerSkip("PyMongo with zlib compression", pythonMissingReason());

function runPython(args: string[]): Promise<PythonRun> {
  return runPythonResults(SCRIPT, args);
}

const HANDSHAKES = new Set(["hello", "isMaster", "ismaster"]);

describe("independent clients compressing with zlib", () => {
  test("PyMongo 3.11 with compressors=zlib: 100 documents in and out, compressed", { skip: pySkip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo" });
    const primary = await rs.waitForPrimary();
    const run = await runPython(["run", `${rs.uri}&serverSelectionTimeoutMS=10000`]);
    assert.equal(run.code, 0, run.stderr);
    const r = run.results;
    assert.equal(r.version, "3.11.0");
    assert.equal(r.inserted, 100);
    assert.equal(r.read, 100);
    assert.equal(r.same, true);
    assert.equal(r.count, 50);
    const log = primary.requests;
    const inserts = log.filter((q) => q.command === "insert");
    const finds = log.filter((q) => q.command === "find" || q.command === "getMore");
    const hellos = rs.members.flatMap((m) => m.requests).filter((q) => HANDSHAKES.has(q.command));
    assert.ok(inserts.length >= 1 && finds.length >= 2, "the insert, the find and its getMores reached the primary");
    for (const q of [...inserts, ...finds]) assert.equal(q.compressor, "zlib", `${q.command} arrived compressed`);
    assert.equal(inserts.reduce((n, q) => n + (q.body.documents as Document[]).length, 0), 100);
    assert.ok(hellos.length > 0);
    for (const q of hellos) assert.equal(q.compressor, undefined, "handshakes arrive uncompressed");
    assert.equal(primary.documents("test.packed").length, 100);
  });

  test("the official Node driver with compressors=zlib", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "foo" });
    const primary = await rs.waitForPrimary();
    const client = new MongoClient(`${rs.uri}&compressors=zlib&serverSelectionTimeoutMS=10000`);
    try {
      const coll = client.db("test").collection<{ _id: number; text: string }>("packed");
      const docs = Array.from({ length: 100 }, (_, i) => ({ _id: i, text: "compress me ".repeat(20) }));
      await coll.insertMany(docs);
      const back = await coll.find({}, { batchSize: 30 }).sort({ _id: 1 }).toArray();
      assert.deepEqual(back, docs);
    } finally {
      await client.close();
    }
    const log = primary.requests;
    const ops = log.filter((q) => ["insert", "find", "getMore"].includes(q.command));
    assert.ok(ops.length >= 3);
    for (const q of ops) assert.equal(q.compressor, "zlib", `${q.command} arrived compressed`);
    for (const q of log.filter((q) => HANDSHAKES.has(q.command))) assert.equal(q.compressor, undefined);
  });
});
