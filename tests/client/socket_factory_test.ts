// The `socketFactory` client option: every connection, pooled and monitoring,
// is opened through the factory the application gives, with the options the
// driver would have used; a factory that fails surfaces as the driver's own
// connection error; a factory that is not a function is refused up front.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConnectionFailure, OptionTypeError, ServerSelectionError } from "../../src/errors.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { connectSocket, type SocketOptions } from "../../src/net/socket.ts";
import { startReplicaSet } from "../../src/testing/mod.ts";

describe("socketFactory", () => {
  test("every connection goes through the factory, which can map names the resolver does not know", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "sf" });
    const seen: SocketOptions[] = [];
    const factory = (options: SocketOptions) => {
      seen.push(options);
      const host = options.host.endsWith(".zerodep.invalid") ? "127.0.0.1" : options.host;
      return connectSocket({ ...options, host });
    };
    // The seed's name resolves nowhere: only the factory can reach it.
    const seed = `seed.zerodep.invalid:${rs.hosts[0].split(":")[1]}`;
    await using c = await ReplicaSetConnection.connect(seed, {
      replicaSet: "sf",
      socketFactory: factory,
      connectTimeoutMS: 4321,
      serverSelectionTimeoutMS: 10_000,
    });
    const coll = c.db("t").collection("c");
    await coll.insertOne({ _id: 1 });
    assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1 });
    const hosts = new Set(seen.map((o) => `${o.host}:${o.port}`));
    assert.ok(hosts.has(seed), "the seed was reached through the factory");
    for (const h of rs.hosts) assert.ok(hosts.has(h), `a connection to ${h} went through the factory`);
    for (const o of seen) {
      assert.equal(o.connectTimeoutMS, 4321, "the factory gets the driver's connectTimeoutMS");
      assert.equal(o.tls, false);
    }
  });

  test("a factory that throws is a connection failure: server selection names it", async () => {
    await using rs = await startReplicaSet({ members: 1, name: "sff" });
    let calls = 0;
    const c = new ReplicaSetConnection(rs.hosts[0], {
      replicaSet: "sff",
      serverSelectionTimeoutMS: 300,
      socketFactory: (o) => {
        calls++;
        return Promise.reject(new ConnectionFailure("tunnel down", { address: `${o.host}:${o.port}` }));
      },
    });
    try {
      const error = await c.db("t").collection("c").findOne().then(() => null, (e) => e);
      assert.ok(error instanceof ServerSelectionError, `got ${error}`);
      assert.match(String(error.message), /tunnel down/);
      assert.ok(calls > 0);
    } finally {
      await c.close();
    }
  });

  test("a factory that is not a function is an OptionTypeError at construction", () => {
    assert.throws(
      () => new ReplicaSetConnection("a:1", { replicaSet: "x", socketFactory: "nope" as never }),
      (e: unknown) => e instanceof OptionTypeError && /socketFactory must be a function/.test(e.message),
    );
  });
});
