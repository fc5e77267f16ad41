/**
 * The Bun adapter: `Bun.connect` with socket handlers, TLS included. The
 * handlers push into a {@linkcode ChunkQueue}; writes that the kernel does not
 * take at once wait for `drain`.
 *
 * Gap: `Bun.connect` cannot be cancelled before the TCP connection exists. A
 * timed-out or aborted attempt rejects at once, and the socket is closed the
 * moment it opens (or the attempt fails on its own).
 *
 * @module
 */

import { ConnectionFailure } from "../errors.ts";
import { ChunkQueue } from "./_chunk_queue.ts";
import {
  caFileError,
  checkCAFileText,
  connectionLost,
  describeError,
  type ResolvedSocketOptions,
  resolveSocketOptions,
  runConnect,
  writeAfterClose,
} from "./_socket_util.ts";
import type { Socket, SocketOptions } from "./socket.ts";

// Only the parts of Bun's API this adapter uses, so that no Bun type package
// is needed to type-check the module on Deno.
interface BunRawSocket {
  write(data: Uint8Array): number;
  end(): void;
  pause?(): void;
  resume?(): void;
  setNoDelay?(noDelay: boolean): unknown;
  setKeepAlive?(enable: boolean, initialDelay?: number): unknown;
}

interface BunHandlers {
  open(socket: BunRawSocket): void;
  data(socket: BunRawSocket, data: Uint8Array): void;
  drain(socket: BunRawSocket): void;
  end(socket: BunRawSocket): void;
  close(socket: BunRawSocket, error?: unknown): void;
  error(socket: BunRawSocket, error: Error): void;
  connectError(socket: BunRawSocket, error: Error): void;
  handshake(socket: BunRawSocket, success: boolean, authorizationError: Error | null): void;
}

interface BunTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  serverName?: string;
}

interface BunConnectOptions {
  hostname?: string;
  port?: number;
  unix?: string;
  tls?: BunTlsOptions;
  socket: BunHandlers;
}

interface BunApi {
  connect(options: BunConnectOptions): Promise<BunRawSocket>;
  file(path: string): { text(): Promise<string> };
}

const DONE: Promise<void> = Promise.resolve();
const KEEPALIVE_DELAY_MS = 120_000;

function noop(): void {}

function bun(): BunApi {
  return (globalThis as unknown as { Bun: BunApi }).Bun;
}

/**
 * Opens a {@linkcode Socket} with Bun's own API. `connectSocket()` calls this
 * on Bun; call it directly only to pin the adapter (tests do).
 *
 * @example
 * ```ts ignore
 * import { connectBunSocket } from "./socket_bun.ts";
 *
 * const socket = await connectBunSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectBunSocket(options: SocketOptions): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  let ca: string | undefined;
  if (resolved.tls && resolved.tlsCAFile !== undefined) {
    const path = resolved.tlsCAFile;
    let text: string;
    try {
      text = await bun().file(path).text();
    } catch (error) {
      throw caFileError(path, error);
    }
    ca = checkCAFileText(path, text);
  }
  return runConnect(resolved, (giveUp) => open(resolved, ca, giveUp));
}

function open(options: ResolvedSocketOptions, ca: string | undefined, giveUp: AbortSignal): Promise<BunSocket> {
  const { address } = options;
  const socket = new BunSocket(address);
  let handshake: { resolve(): void; reject(error: unknown): void } | undefined;
  const handshakeDone = options.tls
    ? new Promise<void>((resolve, reject) => {
      handshake = { resolve, reject };
    })
    : DONE;
  // Rejected early (abort, close) it may have no reader yet; the later
  // `.then` still sees the rejection.
  handshakeDone.catch(noop);
  const failHandshake = (error: ConnectionFailure) => {
    const pending = handshake;
    handshake = undefined;
    pending?.reject(error);
  };
  giveUp.addEventListener("abort", () => {
    failHandshake(new ConnectionFailure("connect given up", { address }));
    socket.close();
  }, { once: true });

  const handlers: BunHandlers = {
    open(raw) {
      socket.attach(raw);
      if (giveUp.aborted) socket.close();
    },
    data(_raw, data) {
      socket.onData(data);
    },
    drain() {
      socket.onDrain();
    },
    end() {
      socket.onEnd();
    },
    close(_raw, error) {
      failHandshake(
        error === undefined || error === null
          ? new ConnectionFailure("connection closed during the TLS handshake", { address })
          : connectionLost(address, "TLS handshake failed", error),
      );
      socket.onClose(error);
    },
    error(_raw, error) {
      failHandshake(connectionLost(address, "TLS handshake failed", error));
      socket.onError(error);
    },
    connectError() {
      // Bun.connect() rejects with the same error; it is handled there.
    },
    handshake(_raw, success, authorizationError) {
      const pending = handshake;
      handshake = undefined;
      // With rejectUnauthorized off Bun still reports a failed verification
      // (for a host-name mismatch even as success = false) and keeps the
      // connection open: only a handshake without a verification error failed.
      if (success || (options.tlsAllowInvalidCertificates && authorizationError !== null)) {
        pending?.resolve();
        return;
      }
      const cause = authorizationError ?? new Error("TLS handshake failed");
      pending?.reject(connectionLost(address, "TLS handshake failed", cause));
      socket.close();
    },
  };

  const tls: BunTlsOptions | undefined = options.tls
    ? { rejectUnauthorized: !options.tlsAllowInvalidCertificates, ca, serverName: options.sni }
    : undefined;
  const connecting = options.path !== undefined
    ? bun().connect({ unix: options.path, socket: handlers })
    : bun().connect({ hostname: options.host, port: options.port, tls, socket: handlers });

  return connecting.then(
    (raw) => {
      socket.attach(raw);
      return handshakeDone.then(() => socket);
    },
    (error) => {
      handshake = undefined;
      throw new ConnectionFailure(`connect failed: ${describeError(error)}`, { address, cause: error });
    },
  );
}

interface PendingWrite {
  bytes: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

class BunSocket implements Socket {
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  #raw: BunRawSocket | undefined;
  #isClosed = false;
  #resolveClosed: () => void = noop;
  #writes: PendingWrite[] = [];
  #queue: ChunkQueue;

  constructor(address: string) {
    this.remoteAddress = address;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#queue = new ChunkQueue({
      pause: () => this.#raw?.pause?.(),
      resume: () => this.#raw?.resume?.(),
    });
  }

  attach(raw: BunRawSocket): void {
    if (this.#raw === raw) return;
    this.#raw = raw;
    if (this.#isClosed) {
      raw.end();
      return;
    }
    try {
      raw.setNoDelay?.(true);
      raw.setKeepAlive?.(true, KEEPALIVE_DELAY_MS);
    } catch {
      // Tuning only; the socket works without it.
    }
  }

  read(): Promise<Uint8Array | null> {
    return this.#queue.read(this.remoteAddress);
  }

  write(bytes: Uint8Array): Promise<void> {
    const raw = this.#raw;
    if (this.#isClosed || raw === undefined) return Promise.reject(writeAfterClose(this.remoteAddress));
    let rest = bytes;
    if (this.#writes.length === 0) {
      const n = raw.write(bytes);
      if (n === bytes.byteLength) return DONE;
      if (n < 0) {
        this.close();
        return Promise.reject(new ConnectionFailure("write failed: the socket is closed", { address: this.remoteAddress }));
      }
      rest = bytes.subarray(n);
    }
    return new Promise((resolve, reject) => {
      this.#writes.push({ bytes: rest, resolve, reject });
    });
  }

  onData(data: Uint8Array): void {
    if (!this.#isClosed) this.#queue.push(data);
  }

  onDrain(): void {
    const raw = this.#raw;
    if (raw === undefined || this.#isClosed) return;
    const writes = this.#writes;
    let done = 0;
    while (done < writes.length) {
      const pending = writes[done];
      const n = raw.write(pending.bytes);
      if (n < 0) break;
      if (n < pending.bytes.byteLength) {
        pending.bytes = pending.bytes.subarray(n);
        break;
      }
      pending.resolve();
      done++;
    }
    if (done > 0) writes.splice(0, done);
  }

  onEnd(): void {
    this.#queue.end();
  }

  onError(error: unknown): void {
    this.#queue.fail(connectionLost(this.remoteAddress, "connection lost", error));
  }

  onClose(error: unknown): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    if (error !== undefined && error !== null) {
      this.#queue.fail(connectionLost(this.remoteAddress, "connection lost", error));
    } else {
      this.#queue.end();
    }
    this.#rejectWrites(() => new ConnectionFailure("connection closed by the peer during write", { address: this.remoteAddress }));
    this.#resolveClosed();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#queue.clear();
    this.#rejectWrites(() => new ConnectionFailure("socket closed during write", { address: this.remoteAddress }));
    try {
      // end(), not terminate(): terminate() resets the connection, and the
      // peer may then lose bytes already handed to the kernel. Bun still
      // releases the socket at once (the close handler runs right away).
      this.#raw?.end();
    } catch {
      // Already gone.
    }
    this.#resolveClosed();
  }

  #rejectWrites(makeError: () => ConnectionFailure): void {
    const writes = this.#writes;
    this.#writes = [];
    for (const pending of writes) pending.reject(makeError());
  }
}
