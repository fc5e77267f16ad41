// ConnectionPool against the loopback fake mongod: size limit, wait queue,
// generations, close, background fill, idle expiry.
import { assertExitsOnItsOwn } from "../helpers/run_child.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  ConfigurationError,
  ConnectionFailure,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  PoolClosedError,
  WaitQueueTimeoutError,
} from "../../src/errors.ts";
import { Connection } from "../../src/net/connection.ts";
import { ConnectionPool } from "../../src/net/pool.ts";
import { type FakeMongod, startFakeMongod } from "../helpers/fake_mongod.ts";
import { POOL_DEFAULTS } from "../helpers/net_defaults.ts";
import { resolveClientOptions } from "../../src/topology/options.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` up to `tries` times, 10 ms apart (bounded by count, not by time). */
async function eventually(cond: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

describe("ConnectionPool", () => {
  let server: FakeMongod;
  before(async () => {
    server = await startFakeMongod({ maxWireVersion: 17 });
  });
  after(() => server.close());
  const address = () => ({ host: server.host, port: server.port });

  test("maxPoolSize is respected under 50 concurrent commands", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    server.handler = async (_c, info) => {
      if (info.command !== "work") return undefined;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(2);
      inFlight--;
      return { ok: 1, i: _c.i };
    };
    const acceptedBefore = server.accepted;
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 5 });
    let maxTotal = 0;
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          pool.withConnection(async (conn) => {
            maxTotal = Math.max(maxTotal, pool.totalConnectionCount);
            return (await conn.command("test", { work: 1, i })).i;
          })),
      );
      assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i));
      assert.ok(maxTotal <= 5, `pool had ${maxTotal} connections`);
      assert.ok(maxInFlight <= 5, `server saw ${maxInFlight} commands at once`);
      assert.ok(server.accepted - acceptedBefore <= 5, `${server.accepted - acceptedBefore} connections opened`);
      assert.equal(pool.totalConnectionCount, pool.availableConnectionCount);
      assert.equal(pool.pendingWaiters, 0);
    } finally {
      server.handler = undefined;
    }
  });

  test("maxConnecting bounds connections being opened at once", async () => {
    let opening = 0;
    let maxOpening = 0;
    await using pool = new ConnectionPool(address(), {
       ...POOL_DEFAULTS,
       maxPoolSize: 10,
      maxConnecting: 2,
      connect: async (a, o) => {
        opening++;
        maxOpening = Math.max(maxOpening, opening);
        try {
          await sleep(5);
          return await Connection.connect(a, o);
        } finally {
          opening--;
        }
      },
    });
    const conns = await Promise.all(Array.from({ length: 10 }, () => pool.checkOut()));
    assert.ok(maxOpening <= 2, `${maxOpening} connections were opened at once`);
    assert.equal(maxOpening, 2, "two at a time, not one");
    assert.equal(new Set(conns).size, 10, "every caller got its own connection");
    assert.equal(pool.totalConnectionCount, 10);
    for (const c of conns) pool.checkIn(c);
  });

  test("waitQueueTimeoutMS: a typed error that is not a network error", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 1, waitQueueTimeoutMS: 30 });
    const held = await pool.checkOut();
    const e = await rejectsWith(pool.checkOut(), WaitQueueTimeoutError);
    assert.ok(e instanceof ConnectionFailure);
    assert.equal(e.when, undefined);
    assert.equal(e.address, server.address);
    assert.match(e.message, /waitQueueTimeoutMS 30/);
    assert.equal(pool.pendingWaiters, 0);
    pool.checkIn(held);
    const again = await pool.checkOut();
    assert.equal(again, held, "the idle connection is reused");
    pool.checkIn(again);
  });

  test("a connection the server closed while idle is not handed out again: the next command runs on a new one", async () => {
    const dropping = await startFakeMongod();
    try {
      await using pool = new ConnectionPool({ host: "127.0.0.1", port: dropping.port }, POOL_DEFAULTS);
      const first = await pool.checkOut();
      await first.command("admin", { ping: 1 });
      pool.checkIn(first);
      dropping.dropConnections(); // as a server or proxy that drops idle clients does
      await eventually(() => first.isClosed, "the idle connection saw the server's close");
      await eventually(() => pool.availableConnectionCount === 0, "the closed connection left the idle set");
      assert.equal(pool.totalConnectionCount, 0);
      const second = await pool.checkOut();
      assert.notEqual(second, first);
      assert.equal((await second.command("admin", { ping: 1 })).ok, 1);
      assert.equal(dropping.accepted, 2);
      pool.checkIn(second);
    } finally {
      await dropping.close();
    }
  });

  test("waiters are served in order when connections come back", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 1 });
    const held = await pool.checkOut();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      pool.checkOut().then((c) => {
        order.push(n);
        pool.checkIn(c);
      })
    );
    assert.equal(pool.pendingWaiters, 3);
    pool.checkIn(held);
    await Promise.all(waits);
    assert.deepEqual(order, [1, 2, 3]);
  });

  test("an abort signal ends a wait with its reason", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 1 });
    const held = await pool.checkOut();
    const controller = new AbortController();
    const p = pool.checkOut({ signal: controller.signal });
    assert.equal(pool.pendingWaiters, 1);
    const reason = new Error("stop waiting");
    controller.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(pool.pendingWaiters, 0);
    pool.checkIn(held);
  });

  test("clear(): generation += 1, idle closed at once, checked-out closed on return", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 3 });
    const a = await pool.checkOut();
    const b = await pool.checkOut();
    pool.checkIn(b);
    assert.equal(pool.availableConnectionCount, 1);
    assert.equal(a.generation, 0);
    pool.clear();
    assert.equal(pool.generation, 1);
    assert.equal(b.isClosed, true, "idle connection closed at once");
    assert.equal(pool.availableConnectionCount, 0);
    assert.equal(a.isClosed, false, "checked-out connection still usable by its holder");
    assert.equal((await a.command("admin", { ping: 1 })).ok, 1);
    pool.checkIn(a);
    assert.equal(a.isClosed, true, "closed when returned");
    assert.equal(pool.totalConnectionCount, 0);
    const c = await pool.checkOut();
    assert.equal(c.generation, 1);
    assert.notEqual(c, a);
    pool.checkIn(c);
  });

  test("close() rejects waiters, closes idle and returned connections; later checkOut fails", async () => {
    const pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 1 });
    const held = await pool.checkOut();
    const waiting = pool.checkOut();
    assert.equal(pool.pendingWaiters, 1);
    await pool.close();
    await rejectsWith(waiting, PoolClosedError);
    pool.checkIn(held);
    assert.equal(held.isClosed, true);
    await rejectsWith(pool.checkOut(), PoolClosedError);
    await pool.close(); // idempotent
    assert.equal(pool.totalConnectionCount, 0);
  });

  test("withConnection keeps the connection after an OperationFailure", async () => {
    server.handler = (_c, info) => (info.command === "fail" ? { ok: 0, errmsg: "nope", code: 8 } : undefined);
    try {
      await using pool = new ConnectionPool(address(), POOL_DEFAULTS);
      await rejectsWith(pool.withConnection((c) => c.command("admin", { fail: 1 })), OperationFailure);
      assert.equal(pool.availableConnectionCount, 1);
      assert.equal(pool.totalConnectionCount, 1);
    } finally {
      server.handler = undefined;
    }
  });

  test("a connect failure rejects that checkOut and frees its place", async () => {
    let calls = 0;
    await using pool = new ConnectionPool(address(), {
       ...POOL_DEFAULTS,
       maxPoolSize: 1,
      connect: (a, o) => {
        calls++;
        return calls === 1
          ? Promise.reject(new ConnectionFailure("refused (test)", { address: "x:1" }))
          : Connection.connect(a, o);
      },
    });
    await rejectsWith(pool.checkOut(), ConnectionFailure);
    assert.equal(pool.totalConnectionCount, 0);
    const conn = await pool.checkOut();
    assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
    pool.checkIn(conn);
  });

  test("a network error or timeout while connecting carries the backpressure labels; auth and DNS failures do not", async () => {
    const failures: ConnectionFailure[] = [
      new NetworkTimeout("no handshake reply within connectTimeoutMS 250 ms (test)", { address: "x:1" }),
      new ConnectionFailure("connection reset during hello (test)", { address: "x:1" }),
      new ConnectionFailure("reset while authenticating (test)", { address: "x:1", duringAuthentication: true }),
      new ConnectionFailure("lookup failed (test)", {
        address: "x:1",
        cause: Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }),
      }),
    ];
    const labelled: boolean[] = [];
    for (const failure of failures) {
      await using pool = new ConnectionPool(address(), {
        ...POOL_DEFAULTS,
        connect: () => Promise.reject(failure),
      });
      const e = await rejectsWith(pool.checkOut(), ConnectionFailure);
      labelled.push(e.hasErrorLabel("SystemOverloadedError") && e.hasErrorLabel("RetryableError"));
    }
    assert.deepEqual(labelled, [true, true, false, false]);
  });

  test("a waiter gets a new connection when a failed one frees its place", async () => {
    server.handler = (_c, info) => (info.command === "boom" ? "close" : undefined);
    try {
      await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 1 });
      const a = await pool.checkOut();
      const waiting = pool.checkOut();
      await rejectsWith(a.command("admin", { boom: 1 }), ConnectionFailure);
      pool.checkIn(a);
      const b = await waiting;
      assert.notEqual(b, a);
      assert.equal((await b.command("admin", { ping: 1 })).ok, 1);
      pool.checkIn(b);
    } finally {
      server.handler = undefined;
    }
  });

  test("minPoolSize fills in the background", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, minPoolSize: 3, maxPoolSize: 5 });
    await eventually(() => pool.availableConnectionCount === 3, "3 idle connections");
    assert.equal(pool.lastFillError, undefined);
  });

  test("minPoolSize fill errors are recorded, not thrown", async () => {
    const gone = await startFakeMongod();
    const port = gone.port;
    await gone.close();
    await using pool = new ConnectionPool({ host: "127.0.0.1", port }, { ...POOL_DEFAULTS, minPoolSize: 1 });
    await eventually(() => pool.lastFillError !== undefined, "a recorded fill error");
    assert.ok(pool.lastFillError instanceof ConnectionFailure);
    assert.equal(pool.totalConnectionCount, 0);
  });

  test("maxIdleTimeMS: an idle connection past it is replaced", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxIdleTimeMS: 20 });
    const a = await pool.checkOut();
    pool.checkIn(a);
    await sleep(40);
    const b = await pool.checkOut();
    assert.notEqual(b, a);
    assert.equal(a.isClosed, true);
    pool.checkIn(b);
  });

  test("maxPoolSize 0 means unlimited; bad options (refused by the option resolution) and foreign check-ins are typed errors", async () => {
    await using pool = new ConnectionPool(address(), { ...POOL_DEFAULTS, maxPoolSize: 0 });
    const conns = await Promise.all(Array.from({ length: 8 }, () => pool.checkOut()));
    assert.equal(pool.totalConnectionCount, 8);
    for (const c of conns) pool.checkIn(c);
    // The pool takes resolved values: bad ones are refused where options are resolved, once.
    assert.throws(() => resolveClientOptions({}, { maxPoolSize: -1 }), ConfigurationError);
    assert.throws(() => resolveClientOptions({}, { minPoolSize: 5, maxPoolSize: 2 }), ConfigurationError);
    assert.throws(() => resolveClientOptions({}, { waitQueueTimeoutMS: Number.NaN }), ConfigurationError);
    assert.throws(() => new ConnectionPool(null as never, POOL_DEFAULTS), ConfigurationError);
    const stranger = await Connection.connect(address(), POOL_DEFAULTS);
    assert.throws(() => pool.checkIn(stranger), MongoError);
    stranger.close();
  });
});

describe("no leftover timers or sockets", () => {
  test("a process that used and closed pools exits on its own", async () => {
    const { join } = await import("node:path");
    await assertExitsOnItsOwn(join(import.meta.dirname ?? ".", "fixtures", "pool_exit_child.ts"), 30_000);
  });
});
