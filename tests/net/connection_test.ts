// Connection: handshake, OP_MSG / OP_QUERY commands, reply errors, and every
// way a round trip can fail, against the loopback fake mongod.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  ConfigurationError,
  ConnectionFailure,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  WireProtocolError,
  WriteConcernError,
} from "../../src/errors.ts";
import { Connection, type ConnectionOptions } from "../../src/net/connection.ts";
import { clientMetadata, DRIVER_NAME, DRIVER_VERSION } from "../../src/net/client_metadata.ts";
import { fitClientMetadata } from "../../src/net/_client_metadata.ts";
import { ConnectionPool } from "../../src/net/pool.ts";
import { encode } from "../../src/bson/mod.ts";
import { OP_GET_MORE, OP_KILL_CURSORS, OP_MSG, OP_QUERY, QueryFlags, ResponseFlags } from "../../src/wire/mod.ts";
import { type FakeMongod, type FakeReply, startFakeMongod } from "../helpers/fake_mongod.ts";
import { certSkipReason, makeTestCerts } from "../helpers/tls_certs.ts";
import { CONNECTION_DEFAULTS, POOL_DEFAULTS } from "../helpers/net_defaults.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno !== undefined ? "Deno" : g.Bun !== undefined ? "Bun" : "Node";

function connect(server: FakeMongod, options?: Partial<ConnectionOptions>): Promise<Connection> {
  return Connection.connect({ host: server.host, port: server.port }, { ...CONNECTION_DEFAULTS, ...options });
}

describe("client metadata", () => {
  test("driver, os, platform and application fit in 512 bytes", () => {
    const doc = clientMetadata({ appName: "a".repeat(128) });
    assert.deepEqual(doc.driver, { name: DRIVER_NAME, version: DRIVER_VERSION });
    assert.equal((doc.application as { name: string }).name.length, 128);
    assert.equal(typeof (doc.os as { type: string }).type, "string");
    assert.match(String(doc.platform), new RegExp(`^${runtime} \\d`));
    assert.ok(encode(doc).length <= 512);
  });
  test("an appName over 128 bytes is a ConfigurationError", () => {
    assert.throws(() => clientMetadata({ appName: "é".repeat(65) }), ConfigurationError);
  });
  test("over 512 bytes: os fields but type go first, then platform is shortened", () => {
    const driver = { name: DRIVER_NAME, version: DRIVER_VERSION };
    const info = { osType: "Linux", osName: "linux", architecture: "x86_64", platform: "Deno 2.9.6" };
    assert.deepEqual(fitClientMetadata("app", info, driver).os, {
      type: "Linux",
      name: "linux",
      architecture: "x86_64",
    });
    // A platform that almost fits: dropping the os extras is enough.
    // (15 bytes of BSON around a string field named "platform".)
    const fits = 512 - encode({ driver, os: { type: "Linux" } }).length - 15;
    const roomy = fitClientMetadata(undefined, { ...info, platform: "p".repeat(fits) }, driver);
    assert.deepEqual(roomy.os, { type: "Linux" });
    assert.equal(roomy.platform, "p".repeat(fits));
    assert.equal(encode(roomy).length, 512);
    // A platform that cannot fit: shortened to exactly 512 bytes, never mid-character.
    const long = fitClientMetadata("a".repeat(128), { ...info, platform: "é".repeat(400) }, driver);
    assert.deepEqual(long.os, { type: "Linux" });
    assert.deepEqual(long.application, { name: "a".repeat(128) });
    const size = encode(long).length;
    assert.ok(size <= 512 && size >= 511, `size ${size}`);
    assert.match(String(long.platform), /^é+$/);
  });
  test("DRIVER_VERSION matches deno.json", () => {
    const denoJson = JSON.parse(readFileSync(new URL("../../deno.json", import.meta.url), "utf8"));
    assert.equal(DRIVER_VERSION, denoJson.version);
  });
});

for (const wire of [5, 17]) {
  describe(`handshake and commands, maxWireVersion ${wire}`, () => {
    let server: FakeMongod;
    before(async () => {
      server = await startFakeMongod({ maxWireVersion: wire });
    });
    after(() => server.close());

    test("handshake is legacy hello over OP_QUERY on admin.$cmd with client metadata", async () => {
      await using conn = await connect(server, { appName: "conn-test" });
      const hs = server.requests.filter((r) => r.connection === server.accepted)[0];
      assert.equal(hs.opCode, OP_QUERY);
      assert.equal(hs.ns, "admin.$cmd");
      assert.equal(hs.numberToReturn, -1);
      assert.equal(hs.flags, 0);
      assert.equal(Object.keys(hs.body)[0], "isMaster");
      assert.equal(hs.body.isMaster, 1);
      assert.equal(hs.body.helloOk, true);
      const client = hs.body.client as Record<string, Record<string, unknown>>;
      assert.deepEqual(client.driver, { name: "@zerodep/mongo", version: DRIVER_VERSION });
      assert.deepEqual(client.application, { name: "conn-test" });
      assert.equal(typeof client.os.type, "string");
      assert.match(String(client.platform), new RegExp(`^${runtime} `));
      assert.equal(conn.maxWireVersion, wire);
      assert.equal(conn.maxBsonObjectSize, 16 * 1024 * 1024);
      assert.equal(conn.maxMessageSizeBytes, 48_000_000);
      assert.equal(conn.maxWriteBatchSize, 100_000);
      assert.equal(conn.hello.helloOk, true);
      assert.equal(conn.usesOpMsg, wire >= 6);
    });

    test(`ping goes as ${wire >= 6 ? "OP_MSG" : "OP_QUERY"}; $db added to a copy`, async () => {
      await using conn = await connect(server);
      const cmd = { ping: 1 };
      const reply = await conn.command("admin", cmd);
      assert.equal(reply.ok, 1);
      assert.deepEqual(cmd, { ping: 1 }, "the caller's command is untouched");
      const req = server.commands("ping").at(-1)!;
      if (wire >= 6) {
        assert.equal(req.opCode, OP_MSG);
        assert.deepEqual(req.body, { ping: 1, $db: "admin" });
        assert.equal(req.flags, 0);
      } else {
        assert.equal(req.opCode, OP_QUERY);
        assert.equal(req.ns, "admin.$cmd");
        assert.equal(req.numberToReturn, -1);
        assert.deepEqual(req.body, { ping: 1 });
      }
    });

    test("secondaryOk and readPreference", async () => {
      await using conn = await connect(server);
      await conn.command("test", { count: "c" }, { secondaryOk: true, readPreference: { mode: "secondary" } });
      const req = server.commands("count").at(-1)!;
      if (wire >= 6) {
        assert.deepEqual(req.body, { count: "c", $db: "test", $readPreference: { mode: "secondary" } });
      } else {
        assert.equal(req.flags & QueryFlags.SecondaryOk, QueryFlags.SecondaryOk);
        assert.deepEqual(req.body, { $query: { count: "c" }, $readPreference: { mode: "secondary" } });
        assert.equal(req.ns, "test.$cmd");
      }
      await conn.command("test", { count: "d" }, { secondaryOk: true });
      const plain = server.commands("count").at(-1)!;
      if (wire < 6) {
        assert.equal(plain.flags, QueryFlags.SecondaryOk);
        assert.deepEqual(plain.body, { count: "d" });
      } else {
        assert.deepEqual(plain.body, { count: "d", $db: "test" });
      }
    });

    test("insert with a document sequence", async () => {
      await using conn = await connect(server);
      const documents = [{ _id: 1, a: "x" }, { _id: 2, a: "y" }];
      const reply = await conn.command("test", { insert: "people", ordered: true }, {
        sequences: [{ identifier: "documents", documents }],
      });
      assert.equal(reply.n, 2);
      const req = server.commands("insert").at(-1)!;
      if (wire >= 6) {
        assert.deepEqual(req.body, { insert: "people", ordered: true, $db: "test" });
        assert.equal(req.sequences.length, 1);
        assert.equal(req.sequences[0].identifier, "documents");
        assert.deepEqual(req.sequences[0].documents, documents);
      } else {
        assert.deepEqual(req.body, { insert: "people", ordered: true, documents });
      }
    });

    test("a message over 1 MiB, then small ones, on the same connection (its frame buffer is replaced)", async () => {
      await using conn = await connect(server);
      const big = "x".repeat(2 * 1024 * 1024);
      const documents = [{ _id: "big", big }];
      assert.equal(
        (await conn.command("test", { insert: "big" }, { sequences: [{ identifier: "documents", documents }] })).n,
        1,
      );
      const req = server.commands("insert").at(-1)!;
      const sent = wire >= 6 ? req.sequences[0].documents : (req.body.documents as unknown as typeof documents);
      assert.equal((sent[0] as { big: string }).big.length, big.length);
      await conn.command("admin", { ping: 1 });
      await conn.command("test", { insert: "small" }, {
        sequences: [{ identifier: "documents", documents: [{ _id: 1 }] }],
      });
      const last = server.commands("insert").at(-1)!;
      const lastDocs = wire >= 6 ? last.sequences[0].documents : last.body.documents;
      assert.deepEqual(lastDocs, [{ _id: 1 }]);
    });

    test("ok: 0 is an OperationFailure with code, codeName, errmsg, labels; connection stays usable", async () => {
      server.handler = (_cmd, info) =>
        info.command === "drop"
          ? { ok: 0, errmsg: "ns not found", code: 26, codeName: "NamespaceNotFound", errorLabels: ["X"] }
          : undefined;
      try {
        await using conn = await connect(server);
        const e = await rejectsWith(conn.command("test", { drop: "nope" }), OperationFailure);
        assert.equal(e.code, 26);
        assert.equal(e.codeName, "NamespaceNotFound");
        assert.equal(e.errmsg, "ns not found");
        assert.deepEqual(e.errorLabels, ["X"]);
        assert.equal(e.hasErrorLabel("X"), true);
        assert.equal(e.response.ok, 0);
        assert.equal(conn.isClosed, false);
        assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
        const raw = await conn.command("test", { drop: "nope" }, { raw: true });
        assert.equal(raw.code, 26);
      } finally {
        server.handler = undefined;
      }
    });

    test("writeConcernError is a WriteConcernError", async () => {
      server.handler = (_cmd, info) =>
        info.command === "insert"
          ? {
            ok: 1,
            n: 1,
            writeConcernError: { code: 64, codeName: "WriteConcernFailed", errmsg: "waiting timed out" },
          }
          : undefined;
      try {
        await using conn = await connect(server);
        const e = await rejectsWith(conn.command("test", { insert: "c", documents: [{}] }), WriteConcernError);
        assert.ok(e instanceof OperationFailure);
        assert.equal(e.code, 64);
        assert.equal(e.codeName, "WriteConcernFailed");
        assert.equal(e.errmsg, "waiting timed out");
        assert.equal(e.result.n, 1);
        assert.equal(conn.isClosed, false);
      } finally {
        server.handler = undefined;
      }
    });
  });
}

describe("OP_MSG details", () => {
  let server: FakeMongod;
  before(async () => {
    server = await startFakeMongod({ maxWireVersion: 17 });
  });
  after(() => server.close());

  test("moreToCome request: no reply awaited", async () => {
    await using conn = await connect(server);
    const reply = await conn.command("test", { insert: "c", writeConcern: { w: 0 } }, {
      moreToCome: true,
      sequences: [{ identifier: "documents", documents: [{ a: 1 }] }],
    });
    assert.deepEqual(reply, { ok: 1 });
    // The next command's reply still matches: nothing was left unread.
    assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
    const req = server.commands("insert").at(-1)!;
    assert.equal(req.flags & 2, 2);
  });

  test("reply with moreToCome: read on to the last one", async () => {
    server.handler = (_c, info) =>
      info.command === "getMore"
        ? { $wire: { moreToCome: [{ n: 1, ok: 1 }, { n: 2, ok: 1 }], reply: { n: 3, ok: 1 } } }
        : undefined;
    try {
      await using conn = await connect(server);
      const reply = await conn.command("test", { getMore: 1n, collection: "c" });
      assert.equal(reply.n, 3);
      assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
    } finally {
      server.handler = undefined;
    }
  });

  test("serverApi: hello over OP_MSG, apiVersion on every command but getMore", async () => {
    const conn = await connect(server, { serverApi: { version: "1", strict: true } });
    try {
      const hs = server.requests.filter((r) => r.connection === server.accepted)[0];
      assert.equal(hs.opCode, OP_MSG);
      assert.equal(Object.keys(hs.body)[0], "hello");
      assert.equal(hs.body.helloOk, true);
      assert.equal(hs.body.apiVersion, "1");
      assert.equal(hs.body.apiStrict, true);
      assert.equal(hs.body.$db, "admin");
      assert.equal(hs.body.isMaster, undefined);
      await conn.command("admin", { ping: 1 });
      assert.deepEqual(server.commands("ping").at(-1)!.body, {
        ping: 1,
        $db: "admin",
        apiVersion: "1",
        apiStrict: true,
      });
      await conn.command("test", { getMore: 5n, collection: "c" });
      assert.equal(server.commands("getMore").at(-1)!.body.apiVersion, undefined);
    } finally {
      conn.close();
    }
    await rejectsWith(connect(server, { serverApi: { version: "2" as "1" } }), ConfigurationError);
    await rejectsWith(
      connect(server, { serverApi: { version: "1", strict: "yes" as unknown as boolean } }),
      ConfigurationError,
    );
  });

  test("exhaustAllowed: each moreToCome reply is handed out; readNext reads on", async () => {
    server.handler = (_c, info) => {
      if (info.command === "stream") {
        return { $wire: { moreToCome: [{ n: 1, ok: 1 }, { n: 2, ok: 1 }], reply: { n: 3, ok: 1 } } };
      }
      if (info.command === "stall") return { $wire: { moreToCome: [{ n: 1, ok: 1 }], noFinal: true } };
      return undefined;
    };
    try {
      await using conn = await connect(server);
      await rejectsWith(conn.readNext(), MongoError);
      const first = await conn.command("admin", { stream: 1 }, { exhaustAllowed: true });
      assert.equal(first.n, 1);
      assert.equal(server.commands("stream").at(-1)!.flags, 0x10000, "exhaustAllowed flag sent");
      assert.equal(conn.moreToCome, true);
      await rejectsWith(conn.command("admin", { ping: 1 }), MongoError);
      assert.equal((await conn.readNext()).n, 2);
      assert.equal(conn.moreToCome, true);
      assert.equal((await conn.readNext()).n, 3);
      assert.equal(conn.moreToCome, false);
      assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);

      const again = await conn.command("admin", { stall: 1 }, { exhaustAllowed: true });
      assert.equal(again.n, 1);
      assert.equal(conn.moreToCome, true);
      const e = await rejectsWith(conn.readNext({ socketTimeoutMS: 50 }), NetworkTimeout);
      assert.equal(e.when, "afterHandshakeCompletes");
      assert.equal(conn.isClosed, true);
    } finally {
      server.handler = undefined;
    }
  });

  test("bad arguments are typed errors", async () => {
    await using conn = await connect(server);
    await rejectsWith(conn.command("", { ping: 1 }), ConfigurationError);
    await rejectsWith(conn.command("a.b", { ping: 1 }), ConfigurationError);
    await rejectsWith(conn.command("admin", null as never), ConfigurationError);
    await rejectsWith(conn.command("admin", { ping: 1 }, { socketTimeoutMS: -1 }), ConfigurationError);
    await rejectsWith(Connection.connect(null as never, CONNECTION_DEFAULTS), ConfigurationError);
    assert.equal(conn.isClosed, false);
  });

  test("a second command while one is in flight is refused", async () => {
    server.handler = (_c, info) =>
      info.command === "slow" ? new Promise((r) => setTimeout(() => r({ ok: 1 }), 50)) : undefined;
    try {
      await using conn = await connect(server);
      const first = conn.command("admin", { slow: 1 });
      await rejectsWith(conn.command("admin", { ping: 1 }), MongoError);
      assert.equal((await first).ok, 1);
    } finally {
      server.handler = undefined;
    }
  });
});

describe("legacy OP_QUERY / OP_GET_MORE / OP_KILL_CURSORS (wire 3)", () => {
  let server: FakeMongod;
  before(async () => {
    server = await startFakeMongod({ maxWireVersion: 3 });
  });
  after(() => server.close());

  test("query, getMore, killCursors", async () => {
    server.handler = (_c, info) => {
      if (info.opCode === OP_QUERY && info.ns === "test.people") {
        return { $wire: { documents: [{ _id: 1 }, { _id: 2 }], cursorId: 77n } };
      }
      if (info.opCode === OP_GET_MORE) {
        return info.body.cursorId === 77n
          ? { $wire: { documents: [{ _id: 3 }], cursorId: 0n } }
          : { $wire: { documents: [], responseFlags: ResponseFlags.CursorNotFound } };
      }
      return undefined;
    };
    try {
      await using conn = await connect(server);
      const first = await conn.query("test.people", { a: 1 }, {
        numberToReturn: 2,
        secondaryOk: true,
        fields: { _id: 1 },
      });
      assert.deepEqual(first.documents, [{ _id: 1 }, { _id: 2 }]);
      assert.equal(first.cursorId, 77n);
      const q = server.requests.filter((r) => r.ns === "test.people").at(-1)!;
      assert.equal(q.flags, QueryFlags.SecondaryOk);
      assert.equal(q.numberToReturn, 2);
      assert.deepEqual(q.body, { a: 1 });
      const next = await conn.getMore("test.people", 77n, 2);
      assert.deepEqual(next.documents, [{ _id: 3 }]);
      const gm = server.requests.filter((r) => r.opCode === OP_GET_MORE).at(-1)!;
      assert.deepEqual(gm.body, { cursorId: 77n, numberToReturn: 2 });
      const e = await rejectsWith(conn.getMore("test.people", 5n, 2), OperationFailure);
      assert.equal(e.code, 43);
      await conn.killCursors([77n, 78n]);
      assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
      const kc = server.requests.filter((r) => r.opCode === OP_KILL_CURSORS).at(-1)!;
      assert.deepEqual(kc.body, { cursorIds: [77n, 78n] });
    } finally {
      server.handler = undefined;
    }
  });

  test("QueryFailure ($err) is an OperationFailure", async () => {
    server.handler = (_c, info) =>
      info.ns === "test.bad"
        ? { $wire: { documents: [{ $err: "bad query", code: 2 }], responseFlags: ResponseFlags.QueryFailure } }
        : undefined;
    try {
      await using conn = await connect(server);
      const e = await rejectsWith(conn.query("test.bad", {}), OperationFailure);
      assert.equal(e.code, 2);
      assert.equal(e.errmsg, "bad query");
    } finally {
      server.handler = undefined;
    }
  });
});

// Each failing round trip: the error type, the connection closed, and a pool
// that still serves the next command on a fresh connection.
describe("failed round trips close the connection; the pool recovers", () => {
  for (const wire of [5, 17]) {
    let server: FakeMongod;
    let pool: ConnectionPool;
    before(async () => {
      server = await startFakeMongod({ maxWireVersion: wire, hello: { maxMessageSizeBytes: 4096 } });
      pool = new ConnectionPool({ host: server.host, port: server.port }, {
        ...POOL_DEFAULTS,
        maxPoolSize: 2,
        socketTimeoutMS: 2000,
      });
    });
    after(async () => {
      await pool.close();
      await server.close();
    });

    const cases: [string, FakeReply, abstract new (...a: never[]) => Error, number?][] = [
      ["server never answers (socketTimeoutMS 100)", "hang", NetworkTimeout, 100],
      ["half a message, then a stall", "half", NetworkTimeout, 100],
      ["server closes before replying", "close", ConnectionFailure],
      ["garbage bytes", "garbage", WireProtocolError],
      ["a garbled body in a valid frame", "garbled", WireProtocolError],
      ["wrong responseTo", { $wire: { responseTo: 424242, reply: { ok: 1 } } }, WireProtocolError],
      ["reply over maxMessageSizeBytes", { ok: 1, big: "x".repeat(5000) }, WireProtocolError],
    ];
    for (const [name, answer, type, timeout] of cases) {
      test(`wire ${wire}: ${name} -> ${type.name}`, async () => {
        server.handler = (_c, info) => info.command === "boom" ? answer : undefined;
        try {
          const conn = await pool.checkOut();
          const e = await rejectsWith(
            conn.command("admin", { boom: 1 }, timeout === undefined ? {} : { socketTimeoutMS: timeout }),
            type,
          );
          assert.equal(conn.isClosed, true, "the connection is closed after a failed round trip");
          const info = e as unknown as { when?: string; generation?: number; address?: string };
          assert.equal(info.when, "afterHandshakeCompletes");
          assert.equal(info.generation, pool.generation);
          assert.equal(info.address, server.address);
          await conn.closed;
          pool.checkIn(conn);
          const before = server.accepted;
          const reply = await pool.withConnection((c) => c.command("admin", { ping: 1 }));
          assert.equal(reply.ok, 1);
          assert.equal(server.accepted, before + 1, "a fresh connection served the next command");
        } finally {
          server.handler = undefined;
        }
      });
    }

    test(`wire ${wire}: server closes mid-reply -> ConnectionFailure`, async () => {
      server.handler = (_c, info) => {
        if (info.command !== "boom") return undefined;
        return { $wire: { bytes: new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, 5, 6]) } };
      };
      try {
        const conn = await pool.checkOut();
        const p = conn.command("admin", { boom: 1 });
        // The fake sends 10 of 200 bytes; then the server goes away.
        const e = await rejectsWith(
          Promise.race([p, new Promise((r) => setTimeout(r, 50)).then(() => server.close()).then(() => p)]),
          ConnectionFailure,
        );
        assert.ok(!(e instanceof NetworkTimeout));
        assert.match(e.message, /middle of a reply/);
        assert.equal(conn.isClosed, true);
        pool.checkIn(conn);
      } finally {
        server.handler = undefined;
      }
      // The server is gone: restart on a new port for the remaining tests in this group.
      await pool.close();
      server = await startFakeMongod({ maxWireVersion: wire, hello: { maxMessageSizeBytes: 4096 } });
      pool = new ConnectionPool({ host: server.host, port: server.port }, { ...POOL_DEFAULTS, maxPoolSize: 2 });
      assert.equal((await pool.withConnection((c) => c.command("admin", { ping: 1 }))).ok, 1);
    });

    test(`wire ${wire}: abort signal rejects with its reason and closes`, async () => {
      server.handler = (_c, info) => info.command === "boom" ? "hang" : undefined;
      try {
        const conn = await pool.checkOut();
        const controller = new AbortController();
        const reason = new Error("caller gave up");
        const p = conn.command("admin", { boom: 1 }, { signal: controller.signal });
        setTimeout(() => controller.abort(reason), 20);
        await assert.rejects(p, (e) => e === reason);
        assert.equal(conn.isClosed, true);
        pool.checkIn(conn);
        // Already aborted: rejects at once without sending, the connection stays open.
        const conn2 = await pool.checkOut();
        await assert.rejects(
          conn2.command("admin", { ping: 1 }, { signal: AbortSignal.abort(reason) }),
          (e) => e === reason,
        );
        assert.equal(conn2.isClosed, false);
        pool.checkIn(conn2);
        assert.equal((await pool.withConnection((c) => c.command("admin", { ping: 1 }))).ok, 1);
      } finally {
        server.handler = undefined;
      }
    });

    test(`wire ${wire}: a command larger than maxMessageSizeBytes is refused before sending; connection usable`, async () => {
      await pool.withConnection(async (conn) => {
        await rejectsWith(conn.command("admin", { echo: "y".repeat(5000) }), WireProtocolError);
        assert.equal(conn.isClosed, false);
        assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
      });
    });
  }
});

describe("connect failures", () => {
  test("handshake timeout (connectTimeoutMS) and ok:0 handshake", async () => {
    const server = await startFakeMongod({ handler: (_c, info) => (info.isHello ? "hang" : undefined) });
    try {
      const e = await rejectsWith(connect(server, { connectTimeoutMS: 100 }), NetworkTimeout);
      assert.equal(e.when, "beforeHandshakeCompletes");
      server.handler = (_c, info) => (info.isHello ? { ok: 0, errmsg: "no", code: 18 } : undefined);
      await rejectsWith(connect(server), OperationFailure);
      server.handler = (_c, info) => (info.isHello ? "close" : undefined);
      const c = await rejectsWith(connect(server), ConnectionFailure);
      assert.equal(c.when, "beforeHandshakeCompletes");
    } finally {
      await server.close();
    }
  });

  test("refused connection: ConnectionFailure before the handshake", async () => {
    const server = await startFakeMongod();
    const port = server.port;
    await server.close();
    const refused = Connection.connect({ host: "127.0.0.1", port }, CONNECTION_DEFAULTS);
    const e = await rejectsWith(refused, ConnectionFailure);
    assert.equal(e.when, "beforeHandshakeCompletes");
    assert.equal(e.generation, 0);
  });

  test("a Unix domain socket address", async (t) => {
    if ((globalThis as { Deno?: { build: { os: string } } }).Deno?.build.os === "windows") {
      t.skip("no Unix sockets on Windows");
      return;
    }
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "zerodep-net-"));
    const path = join(dir, "mongod.sock");
    const server = await startFakeMongod({ path });
    try {
      await using conn = await Connection.connect({ path }, CONNECTION_DEFAULTS);
      assert.equal(conn.address, path);
      assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("TLS with tlsCAFile: handshake and a command; the wrong CA fails before the handshake", async (t) => {
    const skip = certSkipReason();
    if (skip !== undefined) {
      console.log(`SKIP TLS connection test: ${skip}`);
      t.skip(skip);
      return;
    }
    const certs = makeTestCerts();
    const server = await startFakeMongod({ tls: { cert: certs.cert, key: certs.key } });
    try {
      await using conn = await Connection.connect({ host: "localhost", port: server.port }, {
         ...CONNECTION_DEFAULTS,
         tls: true,
        tlsCAFile: certs.caFile,
      });
      assert.equal(conn.maxWireVersion, 17);
      assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
      const e = await rejectsWith(
        Connection.connect({ host: "localhost", port: server.port }, {
          ...CONNECTION_DEFAULTS,
          tls: true,
          tlsCAFile: certs.otherCaFile,
        }),
        ConnectionFailure,
      );
      assert.equal(e.when, "beforeHandshakeCompletes");
    } finally {
      await server.close();
      certs.remove();
    }
  });

  test("a closed connection refuses commands with ConnectionFailure; close is idempotent", async () => {
    const server = await startFakeMongod();
    try {
      const conn = await connect(server);
      conn.close();
      conn.close();
      await conn.closed;
      await rejectsWith(conn.command("admin", { ping: 1 }), ConnectionFailure);
    } finally {
      await server.close();
    }
  });
});
