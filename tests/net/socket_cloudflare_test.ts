// The Cloudflare Workers socket adapter, run where it runs: a worker under
// workerd (tests/net/fixtures/cloudflare_socket_worker.ts) opens sockets with
// connectSocket(), which must pick cloudflare:sockets there, to servers this
// test starts on loopback. One check per request; the answers are asserted here.
// Runs once per suite, from the Node run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { echo, silent, startTcpServer, type TcpServer } from "../helpers/tcp_server.ts";
import { certSkipReason, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import { startWorkerd, type Workerd } from "../helpers/workerd.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const onNode = g.Deno === undefined && g.Bun === undefined;
const skip = onNode ? false : "runs once per suite, from the node run";

describe("socket (cloudflare adapter, under workerd)", { skip }, () => {
  let worker: Workerd;
  let echoServer: TcpServer;
  let closer: TcpServer;
  let silentServer: TcpServer;
  let refusedPort: number;
  let tlsServer: TcpServer | undefined;
  let certs: TestCerts | undefined;
  const noCerts = certSkipReason();

  before(async () => {
    echoServer = await startTcpServer({ onConnection: echo });
    closer = await startTcpServer({ onConnection: (conn) => conn.close() });
    silentServer = await startTcpServer({ onConnection: silent });
    const gone = await startTcpServer();
    refusedPort = gone.port;
    await gone.close();
    if (noCerts === undefined) {
      certs = makeTestCerts();
      tlsServer = await startTcpServer({ tls: { cert: certs.cert, key: certs.key }, onConnection: echo });
    }
    const ca = certs === undefined ? [] : [readFileSync(certs.caFile, "utf8")];
    worker = await startWorkerd("tests/net/fixtures/cloudflare_socket_worker.ts", { trustedCertificates: ca });
  });

  after(async () => {
    const stopped = await worker?.stop();
    assert.equal(stopped?.killed, false, "workerd ended on SIGTERM");
    await echoServer?.close();
    await closer?.close();
    await silentServer?.close();
    await tlsServer?.close();
    certs?.remove();
  });

  async function check(name: string, port: number): Promise<Record<string, unknown>> {
    const res = await fetch(`${worker.base}/${name}?port=${port}`);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.ok, true, `${name}: ${JSON.stringify(body)}\n${worker.output()}`);
    return body;
  }

  test("connectSocket() picks the cloudflare:sockets adapter on workerd", async () => {
    const r = await check("adapter", echoServer.port);
    assert.equal(r.className, "CloudflareSocket");
    assert.equal(r.remoteAddress, `127.0.0.1:${echoServer.port}`);
  });

  test("echoes 1 MiB sent in 64 writes issued without waiting, in order", async () => {
    const r = await check("echo", echoServer.port);
    assert.equal(r.bytes, 1 << 20);
    assert.equal(r.equal, true);
  });

  test("8 MiB through the echo with a reader that starts late: every byte, in order", async () => {
    const r = await check("lateReader", echoServer.port);
    assert.equal(r.bytes, 8 << 20);
    assert.equal(r.equal, true);
  });

  test("64 MiB to a server that never reads: writes wait (backpressure); close() rejects them with ConnectionFailure", async () => {
    const r = await check("backpressure", silentServer.port);
    const written = r.writtenBeforeClose as number;
    console.log(`workerd backpressure: ${written} of 64 x 1 MiB writes settled before close; ${r.failedAtClose} rejected by it`);
    assert.ok(written < 64, `only what the buffers on the way hold is written: ${written} of 64 MiB`);
    assert.equal(r.failedAtClose, 64 - written);
    assert.deepEqual(r.other, []);
  });

  test("close() with a read pending: null, then null again; a write after close is a ConnectionFailure", async () => {
    const r = await check("close", echoServer.port);
    assert.equal(r.read, null);
    assert.equal(r.later, null);
    const w = r.writeAfterClose as Record<string, unknown>;
    assert.equal(w.connectionFailure, true, JSON.stringify(w));
  });

  test("the peer closing is the end of the stream", async () => {
    const r = await check("peerClose", closer.port);
    assert.equal(r.read, null);
  });

  test("a second read while one is pending is refused", async () => {
    const r = await check("concurrentRead", echoServer.port);
    const second = r.second as Record<string, unknown>;
    assert.equal(second.mongoError, true, JSON.stringify(second));
    assert.match(String(second.message), /another read\(\) is pending/);
    assert.equal(r.firstAfterClose, null);
  });

  test("TLS through secureTransport: 100 kB echoed by a TLS server whose CA workerd trusts", {
    skip: noCerts ?? false,
  }, async () => {
    const r = await check("tls", tlsServer!.port);
    assert.equal(r.className, "CloudflareSocket");
    assert.equal(r.equal, true);
  });

  test("TLS to a server that does not speak it is a ConnectionFailure, not a hang", async () => {
    const r = await check("tlsToPlain", echoServer.port);
    if (r.at === "connect") assert.equal(r.connectionFailure, true, JSON.stringify(r));
    else {
      const failed = [r.written, r.read].filter((x) => (x as Record<string, unknown>).connectionFailure === true);
      assert.ok(failed.length > 0, JSON.stringify(r));
    }
    console.log(`workerd TLS to a plain server fails at ${r.at}: ${JSON.stringify(r).slice(0, 300)}`);
  });

  test("a refused connection is a ConnectionFailure naming the address", async () => {
    const r = await check("refused", refusedPort);
    assert.equal(r.connectionFailure, true, JSON.stringify(r));
    assert.equal(r.name, "ConnectionFailure");
  });

  test("what Workers cannot do is a ConfigurationError, not ignored: Unix sockets, tlsCAFile, tlsAllowInvalidCertificates", async () => {
    for (const name of ["unixPath", "caFile", "allowInvalid"]) {
      const r = await check(name, echoServer.port);
      assert.equal(r.configurationError, true, `${name}: ${JSON.stringify(r)}`);
      assert.match(String(r.message), /Cloudflare Workers/);
    }
  });

  test("an aborted signal rejects with its reason", async () => {
    const r = await check("aborted", echoServer.port);
    assert.equal(r.message, "stop");
  });
});
