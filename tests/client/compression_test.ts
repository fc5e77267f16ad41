// Wire compression end to end: this driver's client against the simulated set
// (which decompresses with the wire layer but is checked on its own against
// PyMongo in tests/testing/compression_test.ts), judged from the members'
// request logs: what arrived compressed, and what must never be.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { type RequestLogEntry, startReplicaSet } from "../../src/testing/mod.ts";

const isHello = (r: RequestLogEntry) => /^(hello|ismaster)$/i.test(r.command);

describe("compressors", () => {
  test("compressors=snappy,zlib: zlib is agreed; every command but the handshake goes compressed", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "zip" });
    const warnings: string[] = [];
    await using c = new ReplicaSetConnection(`${rs.uri}&compressors=snappy,zlib`, {
      onWarning: (w) => warnings.push(w),
    });
    assert.ok(warnings.some((w) => /snappy: not supported by this driver/.test(w)), warnings.join("\n"));
    const coll = c.db("z").collection<{ _id: number; text: string }>("docs");
    const docs = Array.from({ length: 200 }, (_, i) => ({ _id: i, text: `document ${i} `.repeat(20) }));
    await coll.insertMany(docs);
    const back = await coll.find({}).sort({ _id: 1 }).batchSize(50).toArray();
    assert.deepEqual(back, docs, "what went through zlib both ways comes back intact");
    const log = rs.members.flatMap((m) => m.requests);
    const commands = log.filter((r) => !isHello(r));
    assert.ok(commands.some((r) => r.command === "insert") && commands.some((r) => r.command === "getMore"));
    assert.deepEqual(commands.filter((r) => r.compressor !== "zlib").map((r) => r.command), [], "all compressed");
    assert.deepEqual(log.filter((r) => isHello(r) && r.compressor !== undefined), [], "no hello compressed");
  });

  test("no compression without the option, or when the server offers none", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "plain" });
    await using off = new ReplicaSetConnection(rs.uri);
    await off.db("z").collection("c").insertOne({ _id: 1 });
    await using rsNone = await startReplicaSet({ members: 1, name: "none", compressors: [] });
    await using unagreed = new ReplicaSetConnection(`${rsNone.uri}&compressors=zlib`);
    await unagreed.db("z").collection("c").insertOne({ _id: 1 });
    for (const set of [rs, rsNone]) {
      const compressed = set.members.flatMap((m) => m.requests).filter((r) => r.compressor !== undefined);
      assert.deepEqual(compressed, [], set.name);
    }
  });

  test("with authentication: saslStart and saslContinue never compressed, the operations are", async () => {
    await using rs = await startReplicaSet({
      members: 1,
      name: "zipauth",
      users: [{ user: "ada", password: "pencil" }],
      scramIterations: 4096,
    });
    const warnings: string[] = [];
    await using c = new ReplicaSetConnection(
      `mongodb://ada:pencil@${rs.hosts[0]}/?replicaSet=zipauth&compressors=zlib&zlibCompressionLevel=6`,
      { onWarning: (w) => warnings.push(w) },
    );
    // 6 is zlib's default level, the one CompressionStream uses: honoured, no warning.
    assert.deepEqual(warnings, []);
    assert.throws(
      () =>
        new ReplicaSetConnection(
          `mongodb://${rs.hosts[0]}/?replicaSet=zipauth&compressors=zlib&zlibCompressionLevel=9`,
        ),
      (e: unknown) =>
        e instanceof ConfigurationError &&
        /zlibCompressionLevel=9 is not supported: .*CompressionStream/.test(e.message),
    );
    await c.db("z").collection("c").insertOne({ _id: 1 });
    const log = rs.members[0].requests;
    const sasl = log.filter((r) => r.command.startsWith("sasl"));
    assert.ok(sasl.length >= 1, "authenticated");
    assert.deepEqual(sasl.filter((r) => r.compressor !== undefined), []);
    assert.equal(log.find((r) => r.command === "insert")?.compressor, "zlib");
  });
});
