/**
 * A loopback TLS echo server that requires a client certificate signed by a
 * given CA, built on `node:tls` (which Deno and Bun both provide, on rustls
 * and BoringSSL), so that it is independent of `src/net`. Test helper only.
 *
 * @module
 */
import { createServer, type TLSSocket } from "node:tls";

/** A running mutual-TLS server. */
export interface MtlsServer {
  readonly port: number;
  /** How many clients completed the handshake with a trusted certificate. */
  readonly authorized: number;
  /** Why handshakes failed, as the server saw it. */
  readonly clientErrors: string[];
  close(): Promise<void>;
}

/** Starts a server with `cert`/`key` that trusts client certificates from `ca` (PEM text) only. */
export function startMtlsServer(options: { cert: string; key: string; ca: string }): Promise<MtlsServer> {
  let authorized = 0;
  const clientErrors: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createServer(
    { cert: options.cert, key: options.key, ca: options.ca, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      authorized++;
      sockets.add(socket);
      socket.on("data", (data) => socket.write(data));
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    },
  );
  server.on("tlsClientError", (error) => clientErrors.push(error.message));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({
        port,
        get authorized() {
          return authorized;
        },
        clientErrors,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
