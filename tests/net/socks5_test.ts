// The SOCKS5 socket factory against a SOCKS5 proxy written in the tests
// (tests/helpers/socks5_server.ts): plain and TLS through the proxy, with and
// without credentials, every refusal code, and proxies that lie or hang. Each
// case runs on the runtime's own adapter and on the node:tls adapter (through
// Deno's and Bun's node compatibility).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { ConfigurationError, ConnectionFailure, NetworkTimeout } from "../../src/errors.ts";
import type { Tunnel } from "../../src/net/_socket_util.ts";
import { socks5SocketFactory, type TunnelConnect } from "../../src/net/proxy.ts";
import type { Socket, SocketOptions } from "../../src/net/socket.ts";
import { connectBunSocket } from "../../src/net/socket_bun.ts";
import { connectDenoSocket } from "../../src/net/socket_deno.ts";
import { connectNodeSocket } from "../../src/net/socket_node.ts";
import type { Socks5Proxy } from "../../src/net/socks5.ts";
import { echo, startTcpServer, type TcpServer } from "../helpers/tcp_server.ts";
import { type Socks5Server, type Socks5ServerOptions, startSocks5Server } from "../helpers/socks5_server.ts";
import { certSkipReason, type ClientCerts, makeClientCerts, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import { type MtlsServer, startMtlsServer } from "../helpers/mtls_server.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const onDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const onBun = (globalThis as { Bun?: unknown }).Bun !== undefined;
const native: TunnelConnect = (o: SocketOptions, t: Tunnel) => onDeno ? connectDenoSocket(o, t) : connectBunSocket(o, t);
// The runtime's own adapter, then node:net/node:tls (on Node they are the same one).
const adapters: [string, TunnelConnect][] = onDeno || onBun
  ? [[onDeno ? "deno" : "bun", native], ["node", connectNodeSocket]]
  : [["node", connectNodeSocket]];

/** A name no resolver knows: only the proxy maps it, so reaching it proves the name went to the proxy. */
const HIDDEN = "db.hidden.test";

async function echoOnce(socket: Socket, text = "ping through the proxy"): Promise<string> {
  try {
    const data = new TextEncoder().encode(text);
    await socket.write(data);
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < data.length) {
      const chunk = await socket.read();
      if (chunk === null) throw new Error(`stream ended after ${got} bytes`);
      parts.push(chunk);
      got += chunk.length;
    }
    const all = new Uint8Array(got);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  } finally {
    socket.close();
  }
}

for (const [name, connect] of adapters) {
  describe(`SOCKS5 proxy (${name} adapter)`, () => {
    let target: TcpServer;
    const proxies: Socks5Server[] = [];
    before(async () => {
      target = await startTcpServer({ onConnection: echo });
    });
    after(async () => {
      for (const p of proxies) await p.close();
      await target.close();
    });

    /** A proxy that maps HIDDEN (and anything else) to the echo server. */
    async function proxy(options: Socks5ServerOptions = {}): Promise<Socks5Server> {
      const p = await startSocks5Server({ resolve: () => ({ host: "127.0.0.1", port: target.port }), ...options });
      proxies.push(p);
      return p;
    }
    const factory = (p: Socks5Server, extra: Partial<Socks5Proxy> = {}) =>
      socks5SocketFactory({ host: "127.0.0.1", port: p.port, ...extra }, connect);

    test("no authentication: the host name goes to the proxy as a domain name, bytes flow both ways", async () => {
      const p = await proxy();
      const socket = await factory(p)({ host: HIDDEN, port: 27017 });
      assert.equal(socket.remoteAddress, `${HIDDEN}:27017`, "the socket is named after the server, not the proxy");
      assert.equal(await echoOnce(socket), "ping through the proxy");
      assert.deepEqual(p.requests, [{ atyp: 3, host: HIDDEN, port: 27017, username: undefined }]);
    });

    test("IP literals go as IPv4 and IPv6 addresses", async () => {
      const p = await proxy();
      assert.equal(await echoOnce(await factory(p)({ host: "10.1.2.3", port: 1 })), "ping through the proxy");
      assert.equal(await echoOnce(await factory(p)({ host: "[2001:db8::7:1]", port: 65535 })), "ping through the proxy");
      assert.equal(await echoOnce(await factory(p)({ host: "::ffff:10.0.0.1", port: 2 })), "ping through the proxy");
      assert.deepEqual(p.requests.map((r) => [r.atyp, r.host, r.port]), [
        [1, "10.1.2.3", 1],
        [4, "2001:db8:0:0:0:0:7:1", 65535],
        [4, "0:0:0:0:0:ffff:a00:1", 2],
      ]);
    });

    test("username/password: the right ones connect, wrong ones are a ConnectionFailure naming the proxy", async () => {
      const p = await proxy({ auth: { username: "ada", password: "pencil" } });
      const ok = await factory(p, { username: "ada", password: "pencil" })({ host: HIDDEN, port: 1 });
      assert.equal(await echoOnce(ok), "ping through the proxy");
      assert.equal(p.requests[0].username, "ada");
      const error = await rejectsWith(
        factory(p, { username: "ada", password: "wrong" })({ host: HIDDEN, port: 1 }),
        ConnectionFailure,
        /SOCKS5 proxy 127\.0\.0\.1:\d+: the proxy rejected proxyUsername\/proxyPassword/,
      );
      assert.equal(error.address, `${HIDDEN}:1`);
      assert.equal(p.refusedLogins, 1);
      await rejectsWith(
        factory(p)({ host: HIDDEN, port: 1 }),
        ConnectionFailure,
        /requires authentication: set proxyUsername and proxyPassword/,
      );
    });

    test("credentials offered to a proxy that needs none: no authentication is used", async () => {
      const p = await proxy();
      const socket = await factory(p, { username: "ada", password: "pencil" })({ host: HIDDEN, port: 1 });
      assert.equal(await echoOnce(socket), "ping through the proxy");
    });

    test("each refusal code is a readable ConnectionFailure", async () => {
      const reasons: [number, RegExp][] = [
        [1, /general SOCKS server failure \(reply 1\)/],
        [2, /connection not allowed by ruleset \(reply 2\)/],
        [3, /network unreachable \(reply 3\)/],
        [4, /host unreachable \(reply 4\)/],
        [5, /connection refused \(reply 5\)/],
        [6, /TTL expired \(reply 6\)/],
        [7, /command not supported \(reply 7\)/],
        [8, /address type not supported \(reply 8\)/],
        [9, /unassigned reply code \(reply 9\)/],
      ];
      for (const [code, pattern] of reasons) {
        const p = await proxy({ reply: code });
        const error = await rejectsWith(factory(p)({ host: HIDDEN, port: 27017 }), ConnectionFailure, pattern);
        assert.match(error.message, new RegExp(`SOCKS5 proxy 127\\.0\\.0\\.1:${p.port}: .*connecting to ${HIDDEN}:27017`));
      }
    });

    test("a proxy that lies: wrong version bytes, a truncated reply, bytes past the reply, an unoffered method", async () => {
      const cases: [Socks5ServerOptions, RegExp][] = [
        [{ misbehave: "bad-version" }, /version byte 4, not 5: is it a SOCKS5 proxy/],
        [{ misbehave: "bad-auth-version", auth: { username: "u", password: "p" } }, /version byte 5, not 1/],
        [{ misbehave: "truncated" }, /closed the connection in the middle of its reply/],
        [{ misbehave: "extra-bytes" }, /sent 2 bytes past its reply/],
        [{ misbehave: "no-acceptable" }, /requires authentication/],
      ];
      for (const [options, pattern] of cases) {
        const p = await proxy(options);
        const creds = options.auth === undefined ? {} : { username: "u", password: "p" };
        await rejectsWith(factory(p, creds)({ host: HIDDEN, port: 1 }), ConnectionFailure, pattern);
      }
    });

    async function released(p: Socks5Server): Promise<void> {
      for (let i = 0; i < 500 && p.hangsClosed === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(p.hangsClosed, 1, "the connection to the proxy was closed when the attempt was given up");
    }

    test("a proxy that never answers: NetworkTimeout after connectTimeoutMS, at either step; the socket is released", async () => {
      for (const misbehave of ["hang", "hang-after-connect"] as const) {
        const p = await proxy({ misbehave });
        await rejectsWith(
          factory(p)({ host: HIDDEN, port: 1, connectTimeoutMS: 150 }),
          NetworkTimeout,
          /connect timed out after 150 ms/,
        );
        await released(p);
      }
    });

    test("an abort during the proxy handshake rejects with the signal's reason", async () => {
      const p = await proxy({ misbehave: "hang" });
      const controller = new AbortController();
      const pending = factory(p)({ host: HIDDEN, port: 1, connectTimeoutMS: 0, signal: controller.signal });
      for (let i = 0; i < 500 && p.greetings === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(p.greetings, 1);
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(pending, (e) => e === reason);
      await released(p);
    });

    test("no proxy listening: a ConnectionFailure naming the proxy", async () => {
      const closed = await startTcpServer();
      const port = closed.port;
      await closed.close();
      await rejectsWith(
        socks5SocketFactory({ host: "127.0.0.1", port }, connect)({ host: HIDDEN, port: 1 }),
        ConnectionFailure,
        new RegExp(`connect to SOCKS5 proxy 127\\.0\\.0\\.1:${port} failed`),
      );
    });

    test("a Unix socket path cannot go through the proxy: ConfigurationError", async () => {
      const p = await proxy();
      await rejectsWith(factory(p)({ host: "x", port: 1, path: "/tmp/x.sock" }), ConfigurationError, /Unix domain socket/);
    });

    describe("TLS to the server through the proxy", () => {
      const skip = certSkipReason();
      let certs: TestCerts;
      let client: ClientCerts;
      let tlsServer: TcpServer;
      let mtls: MtlsServer;
      before(async () => {
        if (skip !== undefined) return;
        certs = makeTestCerts();
        client = makeClientCerts(certs);
        tlsServer = await startTcpServer({ tls: { cert: certs.cert, key: certs.key }, onConnection: echo });
        mtls = await startMtlsServer({ cert: certs.cert, key: certs.key, ca: readFileSync(certs.caFile, "utf8") });
      });
      after(async () => {
        if (skip !== undefined) return;
        await tlsServer.close();
        await mtls.close();
        certs.remove();
      });

      test("TLS starts on the proxied connection and checks the server's name", { skip }, async () => {
        const p = await proxy({ resolve: () => ({ host: "127.0.0.1", port: tlsServer.port }) });
        const socket = await factory(p)({ host: "localhost", port: 27017, tls: true, tlsCAFile: certs.caFile });
        assert.equal(await echoOnce(socket), "ping through the proxy");
        assert.equal(p.requests[0].host, "localhost");
        // The certificate names localhost and 127.0.0.1, not the hidden name.
        await rejectsWith(
          factory(p)({ host: HIDDEN, port: 27017, tls: true, tlsCAFile: certs.caFile }),
          ConnectionFailure,
          /TLS handshake failed/,
        );
      });

      test("a TLS handshake the server never answers is bounded by connectTimeoutMS", { skip }, async () => {
        const quiet = await startTcpServer();
        try {
          const p = await proxy({ resolve: () => ({ host: "127.0.0.1", port: quiet.port }) });
          await rejectsWith(
            factory(p)({ host: "localhost", port: 1, tls: true, tlsCAFile: certs.caFile, connectTimeoutMS: 150 }),
            NetworkTimeout,
          );
        } finally {
          await quiet.close();
        }
      });

      test("the default adapter choice sends a client certificate through the proxy (on Deno: node:tls)", {
        skip,
      }, async () => {
        const p = await proxy({ resolve: () => ({ host: "127.0.0.1", port: mtls.port }) });
        const before = mtls.authorized;
        const socket = await socks5SocketFactory({ host: "127.0.0.1", port: p.port })({
          host: "localhost",
          port: 1,
          tls: true,
          tlsCAFile: certs.caFile,
          tlsCertificateKeyFile: client.clientFile,
        });
        assert.equal(await echoOnce(socket), "ping through the proxy");
        assert.equal(mtls.authorized, before + 1);
      });

      if (onDeno && name === "deno") {
        test("Deno's own adapter refuses a client certificate through a proxy, naming Deno", { skip }, async () => {
          const p = await proxy({ resolve: () => ({ host: "127.0.0.1", port: mtls.port }) });
          await rejectsWith(
            factory(p)({
              host: "localhost",
              port: 1,
              tls: true,
              tlsCAFile: certs.caFile,
              tlsCertificateKeyFile: client.clientFile,
            }),
            ConfigurationError,
            /through a proxy is not supported on Deno/,
          );
        });
      } else {
        test("a client certificate through the proxy", { skip }, async () => {
          const p = await proxy({ resolve: () => ({ host: "127.0.0.1", port: mtls.port }) });
          const before = mtls.authorized;
          const socket = await factory(p)({
            host: "localhost",
            port: 1,
            tls: true,
            tlsCAFile: certs.caFile,
            tlsCertificateKeyFile: client.clientFile,
          });
          assert.equal(await echoOnce(socket), "ping through the proxy");
          assert.equal(mtls.authorized, before + 1);
        });
      }
    });
  });
}
