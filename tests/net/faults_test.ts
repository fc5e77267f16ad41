// A hostile server (issue 13): bytes left over after a valid reply, in the
// same write or arriving later while the connection sits idle in the pool, and
// a server that closes idle connections. The reply that was valid still
// counts; the connection that carries the extra bytes is closed and replaced,
// so the next, unrelated operation succeeds even with retries off.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { Connection as Client } from "../../src/client/mod.ts";
import { ConnectionPool } from "../../src/net/pool.ts";
import { type FakeMongod, startFakeMongod, type WireReply } from "../helpers/fake_mongod.ts";
import { POOL_DEFAULTS } from "../helpers/net_defaults.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` up to `tries` times, 10 ms apart (bounded by count, not by time). */
async function eventually(cond: () => boolean, what: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

// Not a message: its first four bytes read as a length of about 1.8 GB.
const JUNK = new TextEncoder().encode("junk after the reply, from a confused proxy\n");

const CASES: { name: string; extra: WireReply["extra"]; extraDelayMS: number }[] = [
  { name: "a duplicate reply in the same write", extra: "duplicate", extraDelayMS: 0 },
  { name: "a duplicate reply 50 ms later", extra: "duplicate", extraDelayMS: 50 },
  { name: "trailing junk in the same write", extra: JUNK, extraDelayMS: 0 },
  { name: "trailing junk 50 ms later", extra: JUNK, extraDelayMS: 50 },
];

describe("bytes left over after a reply", () => {
  let mongod: FakeMongod;
  let poisonNext = false;
  before(async () => {
    mongod = await startFakeMongod({ maxWireVersion: 17 });
  });
  after(() => mongod.close());
  /** A pool of at most one connection: any reuse of a poisoned connection would show. */
  const onePool = () =>
    new ConnectionPool({ host: mongod.host, port: mongod.port }, { ...POOL_DEFAULTS, maxPoolSize: 1 });

  /** The next `ping` gets a valid reply followed by `extra`. */
  function poisonNextPing(extra: WireReply["extra"], extraDelayMS: number): void {
    poisonNext = true;
    mongod.handler = (_cmd, info) => {
      if (info.command !== "ping" || !poisonNext) return undefined;
      poisonNext = false;
      return { $wire: { reply: { ok: 1, poisoned: true }, extra, extraDelayMS } };
    };
  }

  for (const { name, extra, extraDelayMS } of CASES) {
    test(`client, ${name}: the op succeeds, the next ones (no retries) run on a new connection`, async () => {
      poisonNextPing(extra, extraDelayMS);
      const extrasBefore = mongod.extrasWritten;
      const pingsBefore = mongod.commands("ping").length;
      await using client = await Client.connect(mongod.address, {
        retryReads: false,
        retryWrites: false,
        maxPoolSize: 1,
        serverSelectionTimeoutMS: 3000,
        connectTimeoutMS: 2000,
      });
      const admin = client.db("admin");
      const first = await admin.command("ping");
      assert.equal(first.ok, 1);
      assert.equal(first.poisoned, true, "the valid reply is the one returned");
      const poisoned = mongod.commands("ping")[pingsBefore].connection;
      if (extraDelayMS > 0) {
        // The extra bytes reach a connection that sits idle in the pool.
        await eventually(() => mongod.extrasWritten > extrasBefore, "the server sent the extra bytes");
        await eventually(() => mongod.isClosed(poisoned), "the client closed the idle connection the bytes arrived on");
      }
      // With retries off, any reuse of the poisoned connection would fail these.
      assert.equal((await admin.command("ping")).ok, 1);
      const items = client.db("app").collection("items");
      assert.deepEqual(await items.find({}).toArray(), []);
      await items.insertOne({ n: 1 });
      const later = mongod.requests.filter((r) =>
        !r.isHello && r.connection !== poisoned && ["ping", "find", "insert"].includes(r.command)
      );
      assert.deepEqual(later.slice(-3).map((r) => r.command), ["ping", "find", "insert"]);
      assert.ok(
        mongod.requests.filter((r) => !r.isHello && r.connection === poisoned).length === 1,
        "only the poisoned ping ran on the poisoned connection",
      );
      await eventually(() => mongod.isClosed(poisoned), "the poisoned connection is closed");
    });

    test(`pool, ${name}: the poisoned connection leaves the pool; the next check-out opens a new one`, async () => {
      poisonNextPing(extra, extraDelayMS);
      const extrasBefore = mongod.extrasWritten;
      await using pool = onePool();
      let firstId = 0;
      const reply = await pool.withConnection((conn) => {
        firstId = conn.id;
        return conn.command("admin", { ping: 1 });
      });
      assert.equal(reply.poisoned, true);
      if (extraDelayMS > 0) {
        await eventually(() => mongod.extrasWritten > extrasBefore, "the server sent the extra bytes");
      }
      await eventually(() => pool.totalConnectionCount === 0, "the pool dropped the poisoned connection");
      let secondId = 0;
      const next = await pool.withConnection((conn) => {
        secondId = conn.id;
        return conn.command("admin", { ping: 1 });
      });
      assert.equal(next.ok, 1);
      assert.notEqual(secondId, firstId, "a new connection, not the poisoned one");
      assert.equal(pool.totalConnectionCount, 1);
    });
  }

  test("a clean reply keeps its connection: the same one serves the next check-out", async () => {
    mongod.handler = undefined;
    await using pool = onePool();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      await pool.withConnection((conn) => {
        ids.push(conn.id);
        return conn.command("admin", { ping: 1 });
      });
    }
    assert.equal(new Set(ids).size, 1, `ids ${ids}`);
    assert.equal(pool.totalConnectionCount, 1);
  });

  test("a moreToCome stream keeps the bytes of the replies that follow: not a leftover", async () => {
    const stream = { moreToCome: [{ ok: 1, n: 1 }, { ok: 1, n: 2 }], reply: { ok: 1, n: 3 } };
    mongod.handler = (_cmd, info) => info.command === "stream" ? { $wire: stream } : undefined;
    await using pool = onePool();
    const conn = await pool.checkOut();
    const ns: unknown[] = [(await conn.command("admin", { stream: 1 }, { exhaustAllowed: true })).n];
    while (conn.moreToCome) ns.push((await conn.readNext()).n);
    assert.deepEqual(ns, [1, 2, 3]);
    assert.equal(conn.isClosed, false);
    pool.checkIn(conn);
    assert.equal((await pool.withConnection((c) => c.command("admin", { ping: 1 }))).ok, 1);
    assert.equal(pool.totalConnectionCount, 1);
  });

  test("with minPoolSize, a connection dropped while idle is replaced in the background", async () => {
    mongod.handler = undefined;
    await using pool = new ConnectionPool({ host: mongod.host, port: mongod.port }, {
      ...POOL_DEFAULTS,
      minPoolSize: 1,
      maxPoolSize: 1,
    });
    await eventually(() => pool.availableConnectionCount === 1, "the background fill opened one");
    const first = await pool.withConnection(async (conn) => conn.id);
    const accepted = mongod.accepted;
    mongod.dropConnections();
    await eventually(
      () => mongod.accepted > accepted && pool.availableConnectionCount === 1,
      "a new one was filled in",
    );
    const second = await pool.withConnection(async (conn) => conn.id);
    assert.notEqual(second, first);
  });

  test("a connection the server closes while idle leaves the pool at once; the next one is new", async () => {
    mongod.handler = undefined;
    await using pool = onePool();
    let firstId = 0;
    await pool.withConnection((conn) => {
      firstId = conn.id;
      return conn.command("admin", { ping: 1 });
    });
    assert.equal(pool.availableConnectionCount, 1);
    mongod.dropConnections();
    await eventually(() => pool.totalConnectionCount === 0, "the pool noticed the close");
    let secondId = 0;
    const reply = await pool.withConnection((conn) => {
      secondId = conn.id;
      return conn.command("admin", { ping: 1 });
    });
    assert.equal(reply.ok, 1);
    assert.notEqual(secondId, firstId);
  });
});
