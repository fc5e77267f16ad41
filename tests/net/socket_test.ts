// The socket adapters against loopback servers made with the runtime's own
// listener. On Deno and Bun every case runs twice: with the runtime's native
// adapter (through connectSocket) and with the node:net/node:tls adapter, which
// both run through their node compatibility. On Node it runs once, through
// connectSocket, which must pick the node adapter.
import { assertExitsOnItsOwn } from "../helpers/run_child.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ConfigurationError, ConnectionFailure, MongoError, NetworkTimeout } from "../../src/errors.ts";
import { connectSocket, type Socket, type SocketOptions } from "../../src/net/socket.ts";
import { connectNodeSocket } from "../../src/net/socket_node.ts";
import { echo, type ServerConnection, silent, sink, startTcpServer, type TcpServer } from "../helpers/tcp_server.ts";
import { certSkipReason, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const host = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = host.Deno !== undefined ? "deno" : host.Bun !== undefined ? "bun" : "node";
type Connect = (options: SocketOptions) => Promise<Socket>;
// On Node the native adapter is the node one: each case runs once.
const adapters: [string, Connect][] = runtime === "node"
  ? [["node", connectSocket]]
  : [[runtime, connectSocket], ["node", connectNodeSocket]];
const nativeClass = { deno: "DenoSocket", bun: "BunSocket", node: "NodeSocket" }[runtime];

/** Reads until `n` bytes arrived (or the stream ended); returns them and the chunk count. */
async function readBytes(socket: Socket, n: number): Promise<{ bytes: Uint8Array; chunks: number }> {
  const out = new Uint8Array(n);
  let got = 0;
  let chunks = 0;
  while (got < n) {
    const chunk = await socket.read();
    if (chunk === null) break;
    chunks++;
    assert.ok(got + chunk.byteLength <= n, `received ${got + chunk.byteLength} bytes, expected ${n}`);
    out.set(chunk, got);
    got += chunk.byteLength;
  }
  assert.equal(got, n, `stream ended after ${got} of ${n} bytes`);
  return { bytes: out, chunks };
}

function pattern(n: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return bytes;
}

/** A port that was free a moment ago: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const server = await startTcpServer();
  const port = server.port;
  await server.close();
  return port;
}

for (const [name, connect] of adapters) {
  describe(`socket (${name} adapter)`, () => {
    let server: TcpServer;
    before(async () => {
      server = await startTcpServer({ onConnection: echo });
    });
    after(async () => {
      await server.close();
    });

    test("echoes 1 byte", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      assert.equal(socket.remoteAddress, `127.0.0.1:${server.port}`);
      await socket.write(new Uint8Array([0x5a]));
      const { bytes } = await readBytes(socket, 1);
      assert.deepEqual([...bytes], [0x5a]);
      socket.close();
      await socket.closed;
    });

    if (name === runtime) {
      test("connectSocket() picks this runtime's own adapter", async () => {
        const socket = await connect({ host: "127.0.0.1", port: server.port });
        assert.equal(socket.constructor.name, nativeClass);
        socket.close();
      });
    }

    test("echoes 1 MiB, delivered in chunks, byte for byte", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      const data = pattern(1 << 20, 7);
      const written = socket.write(data);
      const { bytes, chunks } = await readBytes(socket, data.byteLength);
      await written;
      assert.ok(chunks >= 1);
      assert.ok(bytes.every((b, i) => b === data[i]), "echoed bytes differ");
      socket.close();
    });

    test("keeps the order of 2000 writes issued without waiting", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      const count = 2000;
      const writes: Promise<void>[] = [];
      const expected = new Uint8Array(count * 3);
      for (let i = 0; i < count; i++) {
        const piece = new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0xee]);
        expected.set(piece, i * 3);
        writes.push(socket.write(piece));
      }
      const { bytes } = await readBytes(socket, expected.byteLength);
      await Promise.all(writes);
      assert.deepEqual(bytes, expected);
      socket.close();
    });

    test("8 MiB each way at once: partial writes wait for drain, nothing is lost or reordered", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      const data = pattern(8 << 20, 11);
      const written = socket.write(data);
      const { bytes } = await readBytes(socket, data.byteLength);
      await written;
      assert.ok(bytes.every((b, i) => b === data[i]), "echoed bytes differ");
      socket.close();
    });

    test("a reader that falls behind a 24 MiB push still gets every byte, then the end", async () => {
      const total = 24 << 20;
      const piece = 1 << 20;
      let handedOver = 0;
      // Push adapters (Bun, node) take data off the kernel into their queue, so
      // the server gets past their 8 MiB pause mark; Deno reads only on demand,
      // so there only the kernel's buffers fill.
      const backlog = (name === "deno" ? 2 : 10) * piece;
      let reached!: () => void;
      const piledUp = new Promise<void>((resolve) => (reached = resolve));
      const pusher = await startTcpServer({
        onConnection: async (conn) => {
          for (let i = 0; i < total / piece; i++) {
            await conn.write(pattern(piece, i));
            handedOver += piece;
            if (handedOver >= backlog) reached();
          }
          conn.close();
        },
      });
      try {
        const socket = await connect({ host: "127.0.0.1", port: pusher.port });
        await piledUp; // nobody has read yet: the data piles up in the kernel or the adapter's queue
        const { bytes } = await readBytes(socket, total);
        for (let i = 0; i < total / piece; i++) {
          const expected = pattern(piece, i);
          const got = bytes.subarray(i * piece, (i + 1) * piece);
          assert.ok(got.every((b, j) => b === expected[j]), `piece ${i} differs`);
        }
        assert.equal(await socket.read(), null);
      } finally {
        await pusher.close();
      }
    });

    test("a bracketed IPv6 host is named [::1]:port in errors", async () => {
      // No IPv6 listener is assumed: only the address formatting is checked, through the refusal.
      const port = await closedPort();
      await rejectsWith(connect({ host: "[::1]", port }), ConnectionFailure, (e) => {
        assert.equal(e.address, `[::1]:${port}`);
      });
    });

    test("a refused connection is a ConnectionFailure naming the address", async () => {
      const port = await closedPort();
      const error = await rejectsWith(connect({ host: "127.0.0.1", port }), ConnectionFailure);
      assert.equal(error.address, `127.0.0.1:${port}`);
      assert.ok(!(error instanceof NetworkTimeout));
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    });

    test("connect timeout: a TLS handshake that is never answered gives NetworkTimeout", async () => {
      const serverSide: ServerConnection[] = [];
      const quiet = await startTcpServer({
        onConnection: (conn) => {
          serverSide.push(conn);
          return sink(conn);
        },
      });
      try {
        const error = await rejectsWith(
          connect({ host: "127.0.0.1", port: quiet.port, tls: true, connectTimeoutMS: 100 }),
          NetworkTimeout,
        );
        assert.ok(error instanceof ConnectionFailure);
        assert.equal(error.address, `127.0.0.1:${quiet.port}`);
        assert.match(error.message, /100 ms/);
        assert.equal(serverSide.length, 1);
        if (name === "deno") {
          // Known Deno gap (see src/net/socket_deno.ts): the conn is closed and its pending handshake
          // rejected, but Deno keeps the fd in a background task until the peer answers or closes.
          console.log("note (deno adapter): not checking that the server sees the close; Deno holds the fd");
        } else {
          // The half-open client socket is released: the server sees it close.
          await serverSide[0].closed;
        }
      } finally {
        await quiet.close();
      }
    });

    test("abort before connect rejects with the signal's reason, as is", async () => {
      const reason = new Error("caller gave up");
      const controller = new AbortController();
      controller.abort(reason);
      await assert.rejects(
        connect({ host: "127.0.0.1", port: server.port, signal: controller.signal }),
        (e) => e === reason,
      );
    });

    test("abort during connect (TLS handshake pending) rejects with the reason and releases the socket", async () => {
      const controller = new AbortController();
      const reason = new Error("abort during handshake");
      let serverSide: ServerConnection | undefined;
      const quiet = await startTcpServer({
        onConnection: (conn) => {
          serverSide = conn;
          controller.abort(reason);
          return sink(conn);
        },
      });
      try {
        await assert.rejects(
          connect({ host: "127.0.0.1", port: quiet.port, tls: true, connectTimeoutMS: 0, signal: controller.signal }),
          (e) => e === reason,
        );
        assert.ok(serverSide !== undefined);
        if (name !== "deno") await serverSide.closed; // Deno: see the connect-timeout case
      } finally {
        await quiet.close();
      }
    });

    test("AbortSignal.timeout() surfaces its TimeoutError", async () => {
      const quiet = await startTcpServer({ onConnection: silent });
      try {
        await assert.rejects(
          connect({
            host: "127.0.0.1",
            port: quiet.port,
            tls: true,
            connectTimeoutMS: 0,
            signal: AbortSignal.timeout(50),
          }),
          (e) => e instanceof Error && e.name === "TimeoutError",
        );
      } finally {
        await quiet.close();
      }
    });

    test("peer close: buffered data is read, then read() gives null and closed settles", async () => {
      const bye = await startTcpServer({
        onConnection: async (conn) => {
          await conn.write(new TextEncoder().encode("bye"));
          conn.close();
        },
      });
      try {
        const socket = await connect({ host: "127.0.0.1", port: bye.port });
        const { bytes } = await readBytes(socket, 3);
        assert.equal(new TextDecoder().decode(bytes), "bye");
        assert.equal(await socket.read(), null);
        assert.equal(await socket.read(), null);
        await socket.closed;
        await rejectsWith(socket.write(new Uint8Array([1])), ConnectionFailure);
      } finally {
        await bye.close();
      }
    });

    test("a peer that closes the socket while it is idle (no read pending) settles closed", async () => {
      let hangUp = () => {};
      const idle = await startTcpServer({
        onConnection: async (conn) => {
          await conn.read();
          await conn.write(new TextEncoder().encode("reply"));
          await new Promise<void>((r) => (hangUp = r));
          conn.close();
        },
      });
      try {
        const socket = await connect({ host: "127.0.0.1", port: idle.port });
        await socket.write(new Uint8Array([1]));
        assert.equal(new TextDecoder().decode((await readBytes(socket, 5)).bytes), "reply");
        let closed = false;
        socket.closed.then(() => (closed = true));
        hangUp();
        // Nobody reads: a pool holds an idle connection like this one.
        for (let i = 0; i < 500 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(closed, true, "the close by the peer was seen without a read() call");
        assert.equal(await socket.read(), null);
      } finally {
        await idle.close();
      }
    });

    test("bytes the peer sends while nobody reads are kept for the next read(), in order", async () => {
      const chatty = await startTcpServer({
        onConnection: async (conn) => {
          await conn.read();
          await conn.write(new TextEncoder().encode("one"));
          await new Promise((r) => setTimeout(r, 50));
          await conn.write(new TextEncoder().encode("two"));
          await new Promise((r) => setTimeout(r, 50));
          await conn.write(new TextEncoder().encode("three"));
        },
      });
      try {
        const socket = await connect({ host: "127.0.0.1", port: chatty.port });
        await socket.write(new Uint8Array([1]));
        assert.equal(new TextDecoder().decode((await readBytes(socket, 3)).bytes), "one");
        await new Promise((r) => setTimeout(r, 200)); // "two" and "three" arrive with nobody reading
        assert.equal(new TextDecoder().decode((await readBytes(socket, 8)).bytes), "twothree");
        socket.close();
        await socket.closed;
      } finally {
        await chatty.close();
      }
    });

    test("close() while a read is pending settles it with null", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      const pending = socket.read();
      socket.close();
      assert.equal(await pending, null);
      await socket.closed;
    });

    test("close() is idempotent; afterwards read() is null and write() a ConnectionFailure", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      socket.close();
      socket.close();
      await socket.closed;
      socket.close();
      assert.equal(await socket.read(), null);
      await rejectsWith(socket.write(new Uint8Array([1])), ConnectionFailure, (e) => {
        assert.match(e.message, /closed/);
      });
    });

    test("close() while a large write is blocked rejects that write", async () => {
      const quiet = await startTcpServer({ onConnection: silent });
      try {
        const socket = await connect({ host: "127.0.0.1", port: quiet.port });
        // Far more than the kernel buffers of a loopback pair, and nobody reads it.
        const writing = socket.write(new Uint8Array(64 << 20));
        const queued = socket.write(new Uint8Array(10));
        socket.close();
        await rejectsWith(writing, ConnectionFailure);
        await rejectsWith(queued, ConnectionFailure);
        await socket.closed;
      } finally {
        await quiet.close();
      }
    });

    test("a second concurrent read() is refused with a MongoError", async () => {
      const socket = await connect({ host: "127.0.0.1", port: server.port });
      const first = socket.read();
      await assert.rejects(socket.read(), (e) => e instanceof MongoError && /pending/.test(e.message));
      await socket.write(new Uint8Array([9]));
      assert.deepEqual([...(await first) ?? []], [9]);
      socket.close();
    });

    test("bad options are ConfigurationErrors that name the option", async () => {
      const cases: [SocketOptions, RegExp][] = [
        [{ host: "127.0.0.1", port: 0 }, /port/],
        [{ host: "127.0.0.1", port: 65536 }, /port/],
        [{ host: "127.0.0.1", port: 1.5 }, /port/],
        [{ host: "", port: 27017 }, /host/],
        [{ host: "a b", port: 27017 }, /host/],
        [{ host: "127.0.0.1", port: 27017, connectTimeoutMS: -1 }, /connectTimeoutMS/],
        [{ host: "127.0.0.1", port: 27017, connectTimeoutMS: Number.NaN }, /connectTimeoutMS/],
        [{ host: "127.0.0.1", port: 27017, connectTimeoutMS: 2 ** 31 }, /connectTimeoutMS/],
        [{ host: "x", port: 1, path: "/tmp/x.sock", tls: true }, /Unix/],
        [{ host: "x", port: 1, path: "" }, /path/],
        [{ host: "127.0.0.1", port: 27017, tls: "yes" as unknown as boolean }, /tls/],
        [{ host: "127.0.0.1", port: 27017, servername: "" }, /servername/],
        [{ host: "127.0.0.1", port: 27017, signal: {} as AbortSignal }, /signal/],
      ];
      for (const [options, pattern] of cases) {
        await rejectsWith(connect(options), ConfigurationError, (e) => assert.match(e.message, pattern));
      }
      await rejectsWith(connect(null as unknown as SocketOptions), ConfigurationError);
    });

    test("an unreadable or non-PEM tlsCAFile is a ConfigurationError naming the file", async () => {
      const dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-ca-"));
      try {
        const missing = join(dir, "missing.pem");
        await rejectsWith(
          connect({ host: "127.0.0.1", port: server.port, tls: true, tlsCAFile: missing }),
          ConfigurationError,
          (e) => assert.ok(e.message.includes(missing)),
        );
        const junk = join(dir, "junk.pem");
        writeFileSync(junk, "not a certificate\n");
        await rejectsWith(
          connect({ host: "127.0.0.1", port: server.port, tls: true, tlsCAFile: junk }),
          ConfigurationError,
          (e) => assert.match(e.message, /no PEM certificate/),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("Unix domain socket: echo round trip", async () => {
      const dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-uds-"));
      const path = join(dir, "mongodb-test.sock");
      const unix = await startTcpServer({ path, onConnection: echo });
      try {
        const socket = await connect({ host: "ignored", port: 1, path });
        assert.equal(socket.remoteAddress, path);
        await socket.write(new Uint8Array([1, 2, 3]));
        const { bytes } = await readBytes(socket, 3);
        assert.deepEqual([...bytes], [1, 2, 3]);
        socket.close();
        await socket.closed;
      } finally {
        await unix.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    describe("TLS with a generated certificate", () => {
      const skip = certSkipReason();
      if (skip !== undefined) console.log(`SKIP TLS tests (${name} adapter): ${skip}`);
      let certs: TestCerts;
      let tlsServer: TcpServer;
      const tlsConns: ServerConnection[] = [];
      before(async () => {
        if (skip !== undefined) return;
        certs = makeTestCerts();
        tlsServer = await startTcpServer({
          tls: { cert: certs.cert, key: certs.key },
          onConnection: (conn) => {
            tlsConns.push(conn);
            return echo(conn);
          },
        });
      });
      after(async () => {
        if (skip !== undefined) return;
        await tlsServer.close();
        certs.remove();
      });

      async function roundTrip(options: Omit<SocketOptions, "port">): Promise<void> {
        const socket = await connect({ ...options, port: tlsServer.port });
        const data = pattern(100_000, 3);
        await socket.write(data);
        const { bytes } = await readBytes(socket, data.byteLength);
        assert.deepEqual(bytes, data);
        socket.close();
        await socket.closed;
      }

      test("tls + tlsCAFile to an IP literal (certificate has IP SAN 127.0.0.1)", { skip }, async () => {
        await roundTrip({ host: "127.0.0.1", tls: true, tlsCAFile: certs.caFile });
      });

      test("tls + tlsCAFile with servername localhost (SNI, DNS SAN)", { skip }, async () => {
        await roundTrip({ host: "127.0.0.1", servername: "localhost", tls: true, tlsCAFile: certs.caFile });
      });

      test("close() of a TLS socket with a read pending: null, and the server sees the close", { skip }, async () => {
        const socket = await connect({ host: "127.0.0.1", port: tlsServer.port, tls: true, tlsCAFile: certs.caFile });
        await socket.write(new Uint8Array([1]));
        await readBytes(socket, 1);
        const before = tlsConns.length;
        assert.ok(before >= 1);
        const serverSide = tlsConns[before - 1];
        const pending = socket.read();
        socket.close();
        assert.equal(await pending, null);
        await serverSide.closed;
      });

      test("a certificate from another CA fails with ConnectionFailure, not a timeout", { skip }, async () => {
        const error = await rejectsWith(
          connect({ host: "127.0.0.1", port: tlsServer.port, tls: true, tlsCAFile: certs.otherCaFile }),
          ConnectionFailure,
        );
        assert.ok(!(error instanceof NetworkTimeout));
        assert.match(error.message, /TLS|certificate|connect/i);
      });

      test("no CA at all (self-issued chain) fails with ConnectionFailure", { skip }, async () => {
        await rejectsWith(connect({ host: "127.0.0.1", port: tlsServer.port, tls: true }), ConnectionFailure);
      });

      test("a servername the certificate does not name fails with ConnectionFailure", { skip }, async () => {
        await rejectsWith(
          connect({
            host: "127.0.0.1",
            port: tlsServer.port,
            tls: true,
            tlsCAFile: certs.caFile,
            servername: "wrong.example",
          }),
          ConnectionFailure,
        );
      });

      test("tlsAllowInvalidCertificates accepts a wrong host name", { skip }, async () => {
        await roundTrip({
          host: "127.0.0.1",
          tls: true,
          tlsCAFile: certs.caFile,
          servername: "wrong.example",
          tlsAllowInvalidCertificates: true,
        });
      });

      if (name === "deno") {
        test("tlsAllowInvalidCertificates on Deno cannot skip chain validation: clear ConnectionFailure", {
          skip,
        }, async () => {
          await rejectsWith(
            connect({ host: "127.0.0.1", port: tlsServer.port, tls: true, tlsAllowInvalidCertificates: true }),
            ConnectionFailure,
            (e) => assert.match(e.message, /unsafely-ignore-certificate-errors/),
          );
        });
      } else {
        test("tlsAllowInvalidCertificates accepts an untrusted chain", { skip }, async () => {
          await roundTrip({ host: "127.0.0.1", tls: true, tlsAllowInvalidCertificates: true });
        });
      }
    });
  });
}

describe("socket lifecycle leaves nothing behind", () => {
  test("a child process that connects, times out, aborts and closes exits on its own", async () => {
    await assertExitsOnItsOwn(join(import.meta.dirname ?? ".", "fixtures", "socket_exit_child.ts"), 60_000);
  });
});
