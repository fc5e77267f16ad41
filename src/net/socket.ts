/**
 * The byte stream every layer above `src/net` talks to, and `connectSocket()`,
 * which opens one with the runtime's own sockets: `Deno.connect` /
 * `Deno.startTls` on Deno, `Bun.connect` on Bun, `cloudflare:sockets` on
 * Cloudflare Workers, `node:net` / `node:tls` on Node.js. Nothing above this
 * file knows which runtime it runs on.
 *
 * @module
 */

import { detectSocketRuntime, type SocketRuntime, unsupportedRuntime } from "./_runtime.ts";

/**
 * Where and how to connect. With `path` set, the socket is a Unix domain
 * socket and `host`/`port` are ignored.
 *
 * @example
 * ```ts
 * import type { SocketOptions } from "./socket.ts";
 *
 * const options: SocketOptions = { host: "db1.example.com", port: 27017, tls: true, connectTimeoutMS: 5000 };
 * ```
 */
export interface SocketOptions {
  /** Host name or IP literal (IPv6 with or without brackets). Ignored when `path` is set. */
  host: string;
  /** TCP port, 1 to 65535. Ignored when `path` is set. */
  port: number;
  /** When set, connect to this Unix domain socket instead of `host:port` (TLS is then refused). */
  path?: string;
  /** Wrap the connection in TLS. Default `false`. */
  tls?: boolean;
  /**
   * The name sent as SNI and checked against the certificate. Default: `host`.
   * SNI is never sent for an IP literal (RFC 6066); the certificate is then checked against the IP.
   */
  servername?: string;
  /**
   * A PEM file of the certificate authorities to trust for this connection, in addition to the
   * runtime's defaults. Read with the runtime's file API; an unreadable file is a `ConfigurationError`.
   */
  tlsCAFile?: string;
  /**
   * Accept any certificate and any host name. On Bun and node:tls this is complete. On Deno 2 it
   * only disables the host-name check: Deno has no per-connection switch for chain validation
   * (only the process-wide `--unsafely-ignore-certificate-errors` flag), so an untrusted chain
   * still fails unless its CA is given in `tlsCAFile` or that flag is set.
   */
  tlsAllowInvalidCertificates?: boolean;
  /**
   * Accept a certificate issued for another name, while still validating its chain. Deno:
   * `unsafelyDisableHostnameVerification`; Bun and node:tls: the host-name check is skipped.
   */
  tlsAllowInvalidHostnames?: boolean;
  /**
   * A PEM file holding the client certificate (and any intermediates) and its private key, for
   * servers that require one. On Deno an encrypted key is decrypted in memory first (PKCS#8 with
   * PBES2 and AES-CBC only), and Deno's adapter cannot send a certificate on a connection it
   * upgrades after a proxy (`Deno.startTls` takes none; the SOCKS5 path then uses Deno's
   * `node:tls`).
   */
  tlsCertificateKeyFile?: string;
  /** The password of an encrypted key in `tlsCertificateKeyFile`. */
  tlsCertificateKeyFilePassword?: string;
  /** Limit on TCP connect plus TLS handshake, in ms; 0 means none. Default 10000. */
  connectTimeoutMS?: number;
  /**
   * Aborts the connection attempt. A connect aborted this way rejects with `signal.reason` as is
   * (like `fetch`), so `AbortSignal.timeout()` still gives its `TimeoutError`. Once connected,
   * the signal has no effect: call `close()`.
   */
  signal?: AbortSignal;
}

/**
 * An open byte stream to one server. Reads are pulled: `read()` resolves with
 * the next chunk the peer sent (any size, in order), or `null` once the stream
 * has ended: the peer closed it, or `close()` was called. A pull method is the
 * cheapest shape on all three runtimes (Deno reads straight into a buffer;
 * Bun and node push into a small queue) and it leaves timeouts to the caller:
 * race `read()` against a timer or signal and call `close()` when it fires,
 * which settles the pending read with `null`. One read at a time; a second
 * concurrent `read()` is rejected.
 *
 * Errors are `ConnectionFailure`s (`NetworkTimeout` for timeouts) naming the
 * address. A failed read or write closes the socket.
 *
 * @example Send bytes and read the reply
 * ```ts ignore
 * import { connectSocket } from "./socket.ts";
 *
 * const socket = await connectSocket({ host: "127.0.0.1", port: 27017 });
 * await socket.write(new Uint8Array([1, 2, 3]));
 * const chunk = await socket.read(); // Uint8Array, or null at end of stream
 * socket.close();
 * await socket.closed;
 * ```
 */
export interface Socket {
  /** The address connected to, as given: `host:port`, `[ipv6]:port`, or the Unix socket path. */
  readonly remoteAddress: string;
  /**
   * Sends `bytes`. Resolves once they are handed to the operating system; writes are sent in call
   * order, and a caller that awaits each write never buffers more than one in user space. Do not
   * modify `bytes` before the promise settles. Rejects with `ConnectionFailure` when the socket is
   * closed (before or during the write) or the write fails.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * The next chunk from the peer, or `null` at end of stream (peer closed, or `close()` called).
   * The returned bytes belong to the caller and are never reused. Rejects with `ConnectionFailure`
   * when the connection breaks (reset, TLS error).
   */
  read(): Promise<Uint8Array | null>;
  /** Closes at once and releases the file descriptor. Idempotent. Pending reads get `null`, pending writes reject. */
  close(): void;
  /**
   * Settles when the socket is closed, for any reason. Never rejects. A close by the peer is seen
   * at once on Bun and node. Deno has no close event, so its socket keeps the next read posted
   * once it has handed out a chunk: from the first reply on, an idle socket sees the close at once
   * too (and that posted read keeps the process alive while the socket is open, as on Bun and node).
   */
  readonly closed: Promise<void>;
}

/**
 * What opens a {@linkcode Socket}: {@linkcode connectSocket} by default. Give
 * your own as the client option `socketFactory` to bring a transport this
 * driver does not know (a tunnel, an in-process pipe, a host-name map); it
 * receives every option the driver would have used, `connectTimeoutMS` and
 * `signal` included, and must honour them. Errors it throws should be
 * `ConnectionFailure`s naming the address, as the default's are.
 *
 * @example Send a test's host names to loopback, then connect as usual
 * ```ts
 * import { connectSocket, type SocketFactory } from "@zerodep/mongo/topology";
 *
 * const toLoopback: SocketFactory = (options) =>
 *   connectSocket({ ...options, host: options.host.endsWith(".test") ? "127.0.0.1" : options.host });
 * ```
 */
export type SocketFactory = (options: SocketOptions) => Promise<Socket>;

/**
 * Opens a socket with the current runtime's own API: Deno when `globalThis.Deno`
 * exists, else Bun when `globalThis.Bun` exists, else `cloudflare:sockets` on
 * Cloudflare Workers (`navigator.userAgent` is `Cloudflare-Workers`), else
 * `node:net`/`node:tls` on Node.js (the last two loaded only then, by dynamic
 * import).
 *
 * Rejects with `ConfigurationError` on a runtime with none of these (a browser
 * page), for invalid options, an unreadable `tlsCAFile` or
 * `tlsCertificateKeyFile`, a key that cannot be used (wrong password; on Deno,
 * an encryption scheme other than PBES2/AES-CBC), `NetworkTimeout` when
 * `connectTimeoutMS` passes before the TCP connection and TLS handshake are
 * done, `ConnectionFailure` for anything else
 * that stops the connection (refused, unknown host, TLS verification), and
 * `signal.reason` when `signal` aborts. A failed attempt leaves no timer or
 * handle behind.
 *
 * @example Connect with TLS and a private CA
 * ```ts ignore
 * import { connectSocket } from "./socket.ts";
 *
 * const socket = await connectSocket({
 *   host: "db1.example.com",
 *   port: 27017,
 *   tls: true,
 *   tlsCAFile: "/etc/ssl/mongo-ca.pem",
 *   connectTimeoutMS: 5000,
 * });
 * socket.close();
 * ```
 */
export async function connectSocket(options: SocketOptions): Promise<Socket> {
  const runtime = detectSocketRuntime(globalThis);
  if (runtime === undefined) throw unsupportedRuntime();
  return (await socketAdapter(runtime))(options);
}

/**
 * Starts loading the socket adapter of the running runtime, so that it loads
 * beside other modules rather than after them at the first connection
 * ({@linkcode connectSocket} loads it in any case). Does nothing on a runtime
 * without one; a failed load shows at the first connection.
 *
 * @example
 * ```ts
 * import { preloadSocketAdapter } from "./socket.ts";
 *
 * preloadSocketAdapter(); // before loading the rest of the network stack
 * ```
 */
export function preloadSocketAdapter(): void {
  const runtime = detectSocketRuntime(globalThis);
  if (runtime !== undefined) socketAdapter(runtime).catch(() => {});
}

// Only the running runtime's adapter is loaded, by an import of a static
// specifier (so the module graph stays analyzable): a cold start reads one
// adapter, not four.
function socketAdapter(runtime: SocketRuntime): Promise<(options: SocketOptions) => Promise<Socket>> {
  switch (runtime) {
    case "deno":
      return import("./socket_deno.ts").then((m) => m.connectDenoSocket);
    case "bun":
      return import("./socket_bun.ts").then((m) => m.connectBunSocket);
    case "workers":
      return import("./socket_cloudflare.ts").then((m) => m.connectCloudflareSocket);
    case "node":
      return import("./socket_node.ts").then((m) => m.connectNodeSocket);
  }
}
