// Interop: the SOCKS5 client against microsocks (Debian's `microsocks`, a C
// SOCKS5 server written by others), with and without username/password,
// a refused destination, and TLS to the server through it. Skipped with its
// reason when microsocks is not installed; under CI=true that is a failure
// (.ci/run installs it).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import { ConnectionFailure } from "../../src/errors.ts";
import { socks5SocketFactory } from "../../src/net/proxy.ts";
import type { Socket } from "../../src/net/socket.ts";
import type { Socks5Proxy } from "../../src/net/socks5.ts";
import { type Child, spawnChild } from "../helpers/spawn.ts";
import { echo, startTcpServer, type TcpServer } from "../helpers/tcp_server.ts";
import { certSkipReason, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";

const MICROSOCKS = "/usr/bin/microsocks";
const missing = existsSync(MICROSOCKS) ? undefined : `${MICROSOCKS} not found (apt-get install microsocks)`;
const ci = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.CI === "true";
if (missing !== undefined && !ci) console.log(`SKIP microsocks interop: ${missing}`);

async function freePort(): Promise<number> {
  const server = await startTcpServer();
  const port = server.port;
  await server.close();
  return port;
}

/** Starts microsocks on 127.0.0.1 and waits (bounded) until it accepts a SOCKS5 greeting. */
async function startMicrosocks(args: string[]): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = spawnChild([MICROSOCKS, "-i", "127.0.0.1", "-p", String(port), ...args]);
  const { connect } = await import("node:net");
  for (let i = 0; i < 300; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) return { child, port };
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill();
  throw new Error(`microsocks did not listen on ${port}: ${child.stderr()}`);
}

async function echoOnce(socket: Socket): Promise<string> {
  try {
    await socket.write(new TextEncoder().encode("via microsocks"));
    let text = "";
    while (text.length < "via microsocks".length) {
      const chunk = await socket.read();
      if (chunk === null) break;
      text += new TextDecoder().decode(chunk);
    }
    return text;
  } finally {
    socket.close();
  }
}

describe("SOCKS5 interop with microsocks", { skip: ci ? undefined : missing }, () => {
  let target: TcpServer;
  let open: { child: Child; port: number };
  let authed: { child: Child; port: number };
  before(async () => {
    assert.equal(missing, undefined, `CI=true and the peer is missing: ${missing}`);
    target = await startTcpServer({ onConnection: echo });
    open = await startMicrosocks([]);
    authed = await startMicrosocks(["-u", "ada", "-P", "pencil"]);
  });
  after(async () => {
    open?.child.kill();
    authed?.child.kill();
    await target?.close();
  });

  const through = (p: { port: number }, extra: Partial<Socks5Proxy> = {}) =>
    socks5SocketFactory({ host: "127.0.0.1", port: p.port, ...extra });

  test("no authentication: a host name that microsocks resolves", async () => {
    assert.equal(await echoOnce(await through(open)({ host: "localhost", port: target.port })), "via microsocks");
  });

  test("an IPv4 address", async () => {
    assert.equal(await echoOnce(await through(open)({ host: "127.0.0.1", port: target.port })), "via microsocks");
  });

  test("username/password: right, wrong, none", async () => {
    const ok = await through(authed, { username: "ada", password: "pencil" })({ host: "localhost", port: target.port });
    assert.equal(await echoOnce(ok), "via microsocks");
    await assert.rejects(
      through(authed, { username: "ada", password: "nope" })({ host: "localhost", port: target.port }),
      (e) => e instanceof ConnectionFailure && /rejected proxyUsername\/proxyPassword/.test(e.message),
    );
    await assert.rejects(
      through(authed)({ host: "localhost", port: target.port }),
      (e) => e instanceof ConnectionFailure && /requires authentication/.test(e.message),
    );
  });

  test("a destination that refuses: a ConnectionFailure with microsocks's reply code", async () => {
    const closed = await freePort();
    await assert.rejects(
      through(open)({ host: "127.0.0.1", port: closed }),
      (e) => e instanceof ConnectionFailure && /the proxy could not connect: .*\(reply \d+\)/.test(e.message),
    );
  });

  describe("TLS through microsocks", () => {
    const skip = certSkipReason();
    let certs: TestCerts;
    let tlsServer: TcpServer;
    before(async () => {
      if (skip !== undefined) return;
      certs = makeTestCerts();
      tlsServer = await startTcpServer({ tls: { cert: certs.cert, key: certs.key }, onConnection: echo });
    });
    after(async () => {
      if (skip !== undefined) return;
      await tlsServer.close();
      certs.remove();
    });

    test("TLS to localhost through the proxy", { skip }, async () => {
      const socket = await through(open)({ host: "localhost", port: tlsServer.port, tls: true, tlsCAFile: certs.caFile });
      assert.equal(await echoOnce(socket), "via microsocks");
    });
  });
});
