// Client certificates (tlsCertificateKeyFile + password) and
// tlsAllowInvalidHostnames, on the runtime's own adapter and on the node:tls
// adapter (run through Deno's and Bun's node compatibility). The mutual-TLS
// server is node:tls (rustls under Deno, BoringSSL under Bun), independent of
// src/net; certificates are made with openssl at test time.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { ConfigurationError, ConnectionFailure } from "../../src/errors.ts";
import { connectSocket, type Socket, type SocketOptions } from "../../src/net/socket.ts";
import { connectNodeSocket } from "../../src/net/socket_node.ts";
import { echo, startTcpServer, type TcpServer } from "../helpers/tcp_server.ts";
import { certSkipReason, type ClientCerts, makeClientCerts, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import { type MtlsServer, startMtlsServer } from "../helpers/mtls_server.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
type Connect = (options: SocketOptions) => Promise<Socket>;
// The runtime's own adapter, then node:tls (on Node they are the same one).
const adapters: [string, Connect][] = runtime === "node"
  ? [["node", connectNodeSocket]]
  : [[runtime, connectSocket], ["node", connectNodeSocket]];

/** Connects, sends 5 bytes and reads them back; any failure on the way is thrown. */
async function echoOnce(connect: Connect, options: SocketOptions): Promise<void> {
  const socket = await connect(options);
  try {
    const data = new TextEncoder().encode("hello");
    await socket.write(data);
    let got = 0;
    while (got < data.length) {
      const chunk = await socket.read();
      if (chunk === null) throw new ConnectionFailure("closed by the server", { address: socket.remoteAddress });
      got += chunk.length;
    }
  } finally {
    socket.close();
  }
}

const skip = certSkipReason();
if (skip !== undefined) console.log(`SKIP TLS client-certificate tests: ${skip}`);

describe("TLS options", { skip }, () => {
  let certs: TestCerts;
  let client: ClientCerts;
  let mtls: MtlsServer;
  let misnamed: TcpServer;
  let untrusted: TcpServer;
  before(async () => {
    certs = makeTestCerts();
    client = makeClientCerts(certs);
    const { readFileSync } = await import("node:fs");
    mtls = await startMtlsServer({ cert: certs.cert, key: certs.key, ca: readFileSync(certs.caFile, "utf8") });
    misnamed = await startTcpServer({ tls: { cert: client.misnamedCert, key: client.misnamedKey }, onConnection: echo });
    untrusted = await startTcpServer({
      tls: { cert: client.untrustedMisnamedCert, key: client.untrustedMisnamedKey },
      onConnection: echo,
    });
  });
  after(async () => {
    await mtls?.close();
    await misnamed?.close();
    await untrusted?.close();
    certs?.remove();
  });

  for (const [name, connect] of adapters) {
    describe(`${name} adapter`, () => {
      const base = () => ({ host: "localhost", port: mtls.port, tls: true, tlsCAFile: certs.caFile });

      test("a server that requires a client certificate accepts the right one", async () => {
        const before = mtls.authorized;
        await echoOnce(connect, { ...base(), tlsCertificateKeyFile: client.clientFile });
        assert.equal(mtls.authorized, before + 1);
      });

      test("no client certificate: a ConnectionFailure that says a certificate was required", async () => {
        await rejectsWith(echoOnce(connect, base()), ConnectionFailure, /certificate/i);
      });

      test("a certificate from another CA: a ConnectionFailure", async () => {
        const errors = mtls.clientErrors.length;
        await rejectsWith(echoOnce(connect, { ...base(), tlsCertificateKeyFile: client.wrongClientFile }), ConnectionFailure);
        assert.ok(mtls.clientErrors.length > errors, "the server saw no failed handshake");
      });

      // Bun and node:tls decrypt the key themselves; on Deno the driver decrypts it (WebCrypto) first.
      test("an encrypted key with tlsCertificateKeyFilePassword connects", async () => {
        const before = mtls.authorized;
        await echoOnce(connect, {
          ...base(),
          tlsCertificateKeyFile: client.encryptedClientFile,
          tlsCertificateKeyFilePassword: client.password,
        });
        assert.equal(mtls.authorized, before + 1);
      });

      test("a wrong tlsCertificateKeyFilePassword is a ConfigurationError", async () => {
        await rejectsWith(
          connect({ ...base(), tlsCertificateKeyFile: client.encryptedClientFile, tlsCertificateKeyFilePassword: "nope" }),
          ConfigurationError,
          /tlsCertificateKeyFilePassword/,
        );
      });

      test("an encrypted key without a password, a file without a key, a missing file: ConfigurationErrors", async () => {
        await rejectsWith(
          connect({ ...base(), tlsCertificateKeyFile: client.encryptedClientFile }),
          ConfigurationError,
          /encrypted: give tlsCertificateKeyFilePassword/,
        );
        const certOnly = join(certs.dir, "cert-only.pem");
        writeFileSync(certOnly, certs.cert);
        await rejectsWith(connect({ ...base(), tlsCertificateKeyFile: certOnly }), ConfigurationError, /no PEM private key/);
        const missing = join(certs.dir, "missing.pem");
        await rejectsWith(connect({ ...base(), tlsCertificateKeyFile: missing }), ConfigurationError, /could not be read/);
        await rejectsWith(
          connect({ ...base(), tlsCertificateKeyFilePassword: "x" }),
          ConfigurationError,
          /needs tlsCertificateKeyFile/,
        );
      });

      test("bad values of the new options are ConfigurationErrors naming the option", async () => {
        const cases: [Partial<SocketOptions>, RegExp][] = [
          [{ tlsAllowInvalidHostnames: "yes" as unknown as boolean }, /tlsAllowInvalidHostnames must be a boolean/],
          [{ tlsCertificateKeyFile: "" }, /tlsCertificateKeyFile must be a non-empty file path/],
          [{ tlsCertificateKeyFile: client.clientFile, tlsCertificateKeyFilePassword: 5 as unknown as string }, /tlsCertificateKeyFilePassword must be a string/],
        ];
        for (const [bad, pattern] of cases) await rejectsWith(connect({ ...base(), ...bad }), ConfigurationError, pattern);
      });

      if (name === "deno") {
        test("Deno's adapter: a client certificate with a servername other than the host is refused, naming Deno", async () => {
          await rejectsWith(
            connect({ ...base(), host: "127.0.0.1", servername: "localhost", tlsCertificateKeyFile: client.clientFile }),
            ConfigurationError,
            /servername other than the host is not supported on Deno/,
          );
        });
      }

      test("a certificate for another name fails by default", async () => {
        await rejectsWith(
          echoOnce(connect, { host: "localhost", port: misnamed.port, tls: true, tlsCAFile: certs.caFile }),
          ConnectionFailure,
        );
      });

      test("tlsAllowInvalidHostnames accepts a certificate for another name from a trusted CA", async () => {
        await echoOnce(connect, {
          host: "localhost",
          port: misnamed.port,
          tls: true,
          tlsCAFile: certs.caFile,
          tlsAllowInvalidHostnames: true,
        });
      });

      test("tlsAllowInvalidHostnames still validates the chain", async () => {
        await rejectsWith(
          echoOnce(connect, {
            host: "localhost",
            port: untrusted.port,
            tls: true,
            tlsCAFile: certs.caFile,
            tlsAllowInvalidHostnames: true,
          }),
          ConnectionFailure,
        );
      });
    });
  }
});
