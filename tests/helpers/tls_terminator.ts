/**
 * A TLS terminator for loopback tests: it accepts TLS connections on
 * 127.0.0.1 (the listener of `tcp_server.ts`, with a certificate from
 * `tls_certs.ts`) and carries each one's plaintext to a plain TCP server, as
 * a TLS-terminating proxy in front of a server that speaks no TLS (the
 * simulated replica set). Its back leg is `node:net`, which Deno and Bun both
 * provide, so it is independent of the driver's code.
 *
 * @module
 */
import { createConnection } from "node:net";
import { startTcpServer, type TcpServer } from "./tcp_server.ts";

/** Options of {@linkcode startTlsTerminator}. */
export interface TlsTerminatorOptions {
  /** The PEM certificate chain and key to serve. */
  tls: { cert: string; key: string };
  /** Where each connection's plaintext goes. */
  target: { host: string; port: number };
}

/** Starts a terminator; `close()` stops it and every connection through it. */
export function startTlsTerminator(options: TlsTerminatorOptions): Promise<TcpServer> {
  return startTcpServer({
    tls: options.tls,
    onConnection: async (conn) => {
      const back = createConnection({ host: options.target.host, port: options.target.port });
      back.on("data", (chunk: Uint8Array) => {
        conn.write(new Uint8Array(chunk)).catch(() => back.destroy());
      });
      back.on("close", () => conn.close());
      back.on("error", () => conn.close());
      try {
        for (;;) {
          const chunk = await conn.read();
          if (chunk === null) break;
          back.write(chunk);
        }
      } finally {
        back.destroy();
        conn.close();
      }
    },
  });
}
