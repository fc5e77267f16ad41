/**
 * The Cloudflare Workers adapter: `connect()` from `cloudflare:sockets`, TLS
 * through `secureTransport: "on"`. The module is loaded by dynamic import only
 * when this adapter is used, so no other runtime loads it.
 *
 * The socket's `readable` stream already has the pull shape of
 * {@linkcode Socket}: `read()` is one `reader.read()`, and a reader that falls
 * behind leaves the bytes in the platform's buffer (backpressure comes from the
 * stream). Writes go through one writer, in call order.
 *
 * Limits of the platform, refused with a `ConfigurationError` rather than
 * ignored: no Unix domain sockets, no private CA (`tlsCAFile`), no switching
 * certificate checks off (`tlsAllowInvalidCertificates`), and no SNI name other
 * than the host connected to (`servername`).
 *
 * @module
 */

import { ConfigurationError, ConnectionFailure, MongoError } from "../errors.ts";
import {
  connectionLost,
  describeError,
  type ResolvedSocketOptions,
  resolveSocketOptions,
  runConnect,
  writeAfterClose,
} from "./_socket_util.ts";
import type { Socket, SocketOptions } from "./socket.ts";

// Only the parts of the Workers socket API this adapter uses, so that no
// Workers type package is needed to type-check the module.
interface WorkersRawSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<unknown>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

interface WorkersSockets {
  connect(
    address: { hostname: string; port: number },
    options: { secureTransport: "on" | "off"; allowHalfOpen: boolean },
  ): WorkersRawSocket;
}

function noop(): void {}

/** Runs a teardown step whose failure, thrown or rejected, changes nothing. */
function settle(step: () => Promise<unknown>): void {
  try {
    step().catch(noop);
  } catch {
    // Already gone.
  }
}

/**
 * Opens a {@linkcode Socket} with `connect()` from `cloudflare:sockets`.
 * `connectSocket()` calls this on Cloudflare Workers (and on workerd).
 *
 * Rejects with `ConfigurationError` for options Workers cannot honour (Unix
 * socket `path`, `tlsCAFile`, `tlsAllowInvalidCertificates`, a `servername`
 * other than `host`), `NetworkTimeout` after `connectTimeoutMS`, and
 * `ConnectionFailure` when the connection cannot be opened.
 *
 * @example
 * ```ts ignore
 * import { connectCloudflareSocket } from "./socket_cloudflare.ts";
 *
 * const socket = await connectCloudflareSocket({ host: "db1.example.com", port: 27017, tls: true });
 * socket.close();
 * ```
 */
export async function connectCloudflareSocket(options: SocketOptions): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  if (resolved.path !== undefined) {
    throw new ConfigurationError(
      `Cloudflare Workers cannot open Unix domain sockets (path ${resolved.path}): connect to a host and port`,
    );
  }
  if (resolved.tls) {
    if (resolved.tlsCAFile !== undefined) {
      throw new ConfigurationError(
        "tlsCAFile is not supported on Cloudflare Workers: cloudflare:sockets trusts only the platform's public " +
          "certificate authorities (use a server certificate they sign)",
      );
    }
    if (resolved.tlsAllowInvalidCertificates) {
      throw new ConfigurationError(
        "tlsAllowInvalidCertificates is not supported on Cloudflare Workers: cloudflare:sockets always verifies the " +
          "certificate",
      );
    }
    if (options.servername !== undefined && options.servername !== resolved.host) {
      throw new ConfigurationError(
        `servername ${JSON.stringify(options.servername)} is not supported on Cloudflare Workers: the name sent and ` +
          `checked is always the host connected to (${resolved.host})`,
      );
    }
  }
  const sockets = (await import("cloudflare:sockets")) as unknown as WorkersSockets;
  return runConnect(resolved, (giveUp) => open(sockets, resolved, giveUp));
}

async function open(sockets: WorkersSockets, options: ResolvedSocketOptions, giveUp: AbortSignal): Promise<Socket> {
  const { address } = options;
  const raw = sockets.connect(
    { hostname: options.host, port: options.port },
    { secureTransport: options.tls ? "on" : "off", allowHalfOpen: false },
  );
  const socket = new CloudflareSocket(raw, address);
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(giveUp.reason);
      if (giveUp.aborted) onAbort();
      else giveUp.addEventListener("abort", onAbort, { once: true });
      raw.opened.then(
        () => {
          giveUp.removeEventListener("abort", onAbort);
          resolve();
        },
        (error: unknown) => {
          giveUp.removeEventListener("abort", onAbort);
          const what = options.tls ? "connect or TLS handshake failed" : "connect failed";
          reject(new ConnectionFailure(`${what}: ${describeError(error)}`, { address, cause: error }));
        },
      );
    });
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}

class CloudflareSocket implements Socket {
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  #raw: WorkersRawSocket;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #isClosed = false;
  #reading = false;
  #resolveClosed: () => void = noop;
  #writes = new Set<(error: unknown) => void>();

  constructor(raw: WorkersRawSocket, address: string) {
    this.#raw = raw;
    this.remoteAddress = address;
    this.#reader = raw.readable.getReader();
    this.#writer = raw.writable.getWriter();
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    // A failed connect also rejects `closed`; that case is reported by `opened`.
    raw.closed.then(() => this.#onPeerClose(), () => this.#onPeerClose());
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#reading) {
      throw new MongoError(`${this.remoteAddress}: read() called while another read() is pending`);
    }
    this.#reading = true;
    try {
      for (;;) {
        // After close() the reader is cancelled: a pending read and every later
        // one settle with done, so they get null.
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await this.#reader.read();
        } catch (error) {
          if (this.#isClosed) return null;
          const failure = connectionLost(this.remoteAddress, "connection lost", error);
          this.close();
          throw failure;
        }
        if (result.done) return null;
        const chunk = result.value;
        if (chunk.byteLength > 0) return chunk;
      }
    } finally {
      this.#reading = false;
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed) return Promise.reject(writeAfterClose(this.remoteAddress));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        this.#writes.delete(fail);
        reject(error);
      };
      this.#writes.add(fail);
      let written: Promise<void>;
      try {
        written = this.#writer.write(bytes);
      } catch (error) {
        written = Promise.reject(error);
      }
      written.then(
        () => {
          if (settled) return;
          settled = true;
          this.#writes.delete(fail);
          resolve();
        },
        (error: unknown) => {
          if (settled) return;
          fail(connectionLost(this.remoteAddress, "write failed", error));
          this.close();
        },
      );
    });
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#rejectWrites("socket closed during write");
    // Cancelling settles a pending read with done; aborting drops queued writes.
    // Each may also throw at once (a socket used from another request's context).
    settle(() => this.#reader.cancel());
    settle(() => this.#writer.abort());
    settle(() => this.#raw.close());
    this.#resolveClosed();
  }

  #onPeerClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    // Bytes the peer sent before closing stay readable: the reader is not cancelled.
    this.#rejectWrites("connection closed by the peer during write");
    this.#resolveClosed();
  }

  #rejectWrites(message: string): void {
    const writes = [...this.#writes];
    this.#writes.clear();
    for (const fail of writes) fail(new ConnectionFailure(message, { address: this.remoteAddress }));
  }
}
