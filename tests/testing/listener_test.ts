import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { listen } from "../../src/testing/mod.ts";
import { ConnectionFailure } from "../../src/errors.ts";
import { connectSocket } from "../../src/net/socket.ts";

describe("listener", () => {
  test("accepts, echoes, closes connections and frees the port", async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const served = (async () => {
      for await (const conn of listener.connections) {
        for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) await conn.write(chunk);
      }
    })();
    const socket = await connectSocket({ host: "127.0.0.1", port: listener.port });
    await socket.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await socket.read())!], [1, 2, 3]);
    assert.equal(listener.open.size, 1);
    await listener.close();
    await served;
    assert.equal(await socket.read().catch(() => null), null);
    socket.close();
    await assert.rejects(connectSocket({ host: "127.0.0.1", port: listener.port }), ConnectionFailure);
  });

  test("a bad port is a ConnectionFailure", async () => {
    await assert.rejects(listen({ port: 70000 }), ConnectionFailure);
  });
});
