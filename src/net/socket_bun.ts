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
  clientKeyRejected,
  connectionLost,
  describeError,
  readTlsFiles,
  type ResolvedSocketOptions,
  resolveSocketOptions,
  runConnect,
  type TlsFiles,
  type Tunnel,
  writeAfterClose,
} from "./_socket_util.ts";
import type { Socket, SocketOptions } from "./socket.ts";

// Only the parts of Bun's API this adapter uses, so that no Bun type package
// is needed to type-check the module on Deno.
interface BunRawSocket {
  write(data: Uint8Array): number;
  upgradeTLS(options: { tls: BunTlsOptions; socket: BunHandlers }): [BunRawSocket, BunRawSocket];
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
  handshake(socket: BunRawSocket, success: boolean, authorizationError: (Error & { code?: string }) | null): void;
}

interface BunTlsOptions {
  rejectUnauthorized: boolean;
  ca?: string;
  serverName?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
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
/** The `authorizationError.code` of a certificate that is valid but names another host. */
const HOSTNAME_MISMATCH = "ERR_TLS_CERT_ALTNAME_INVALID";
const KEEPALIVE_DELAY_MS = 120_000;

function noop(): void {}

function bun(): BunApi {
  return (globalThis as unknown as { Bun: BunApi }).Bun;
}

/**
 * Opens a {@linkcode Socket} with Bun's own API. `connectSocket()` calls this
 * on Bun; call it directly only to pin the adapter (tests do). With `tunnel`,
 * the TCP connection goes to the proxy, the tunnel's handshake runs over it,
 * and TLS (when on) starts on the same connection (`socket.upgradeTLS`).
 *
 * @example
 * ```ts ignore
 * import { connectBunSocket } from "./socket_bun.ts";
 *
 * const socket = await connectBunSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectBunSocket(options: SocketOptions, tunnel?: Tunnel): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  const files = await readTlsFiles(resolved, (path) => bun().file(path).text());
  const tls = resolved.tls ? tlsOptions(resolved, files) : undefined;
  return runConnect(resolved, (giveUp) => open(resolved, tls, tunnel, giveUp));
}

function tlsOptions(options: ResolvedSocketOptions, files: TlsFiles): BunTlsOptions {
  const tls: BunTlsOptions = {
    // Off when a check is relaxed: the handshake handler then decides which failures to accept.
    rejectUnauthorized: !options.tlsAllowInvalidHostnames,
    ca: files.ca,
    serverName: options.sni,
  };
  if (files.clientKey !== undefined) {
    tls.cert = files.clientKey.cert;
    tls.key = files.clientKey.key;
    if (options.tlsCertificateKeyFilePassword !== undefined) tls.passphrase = options.tlsCertificateKeyFilePassword;
  }
  return tls;
}

async function open(
  options: ResolvedSocketOptions,
  tls: BunTlsOptions | undefined,
  tunnel: Tunnel | undefined,
  giveUp: AbortSignal,
): Promise<BunSocket> {
  const { address } = options;
  const target = tunnel === undefined ? "" : ` to ${tunnel.name}`;
  // Through a tunnel the first leg is plain TCP; TLS starts once the tunnel is up.
  const first = wire(options, tunnel === undefined ? tls : undefined, giveUp);
  let connecting: Promise<BunRawSocket>;
  try {
    connecting = options.path !== undefined
      ? bun().connect({ unix: options.path, socket: first.handlers })
      : bun().connect({
        hostname: tunnel?.host ?? options.host,
        port: tunnel?.port ?? options.port,
        tls: tunnel === undefined ? tls : undefined,
        socket: first.handlers,
      });
  } catch (error) {
    // Bun checks the certificate and key (and decrypts the key) before connecting.
    throw clientKeyRejected(options, error);
  }
  let raw: BunRawSocket;
  try {
    raw = await connecting;
  } catch (error) {
    first.abandon();
    throw new ConnectionFailure(`connect${target} failed: ${describeError(error)}`, { address, cause: error });
  }
  first.socket.attach(raw);
  if (tunnel === undefined) {
    await first.ready;
    return first.socket;
  }

  const plain = first.socket;
  try {
    await tunnel.open(plain, giveUp);
    if (giveUp.aborted) throw giveUp.reason;
  } catch (error) {
    plain.close();
    throw giveUp.aborted ? giveUp.reason : error;
  }
  if (tls === undefined) return plain;
  const rawPlain = plain.detach();
  const second = wire(options, tls, giveUp);
  let upgraded: BunRawSocket;
  try {
    upgraded = rawPlain.upgradeTLS({ tls, socket: second.handlers })[1];
  } catch (error) {
    rawPlain.end();
    throw clientKeyRejected(options, error);
  }
  second.socket.attach(upgraded);
  await second.ready;
  return second.socket;
}

/** A socket, the handlers that feed it, and the promise of its TLS handshake (resolved at once without TLS). */
function wire(
  options: ResolvedSocketOptions,
  tls: BunTlsOptions | undefined,
  giveUp: AbortSignal,
): { socket: BunSocket; handlers: BunHandlers; ready: Promise<void>; abandon(): void } {
  const { address } = options;
  const socket = new BunSocket(address);
  let handshake: { resolve(): void; reject(error: unknown): void } | undefined;
  const handshakeDone = tls !== undefined
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
      if (socket.isDetached) return;
      failHandshake(
        error === undefined || error === null
          ? new ConnectionFailure("connection closed during the TLS handshake", { address })
          : connectionLost(address, "TLS handshake failed", error),
      );
      socket.onClose(error);
    },
    error(_raw, error) {
      if (socket.isDetached) return;
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
      // connection open. A chain failure is reported before a name mismatch.
      const accepted = authorizationError === null
        ? success
        : options.tlsAllowInvalidCertificates ||
          (options.tlsAllowInvalidHostnames && authorizationError.code === HOSTNAME_MISMATCH);
      if (accepted) {
        pending?.resolve();
        return;
      }
      const cause = authorizationError ?? new Error("TLS handshake failed");
      pending?.reject(connectionLost(address, "TLS handshake failed", cause));
      socket.close();
    },
  };
  return {
    socket,
    handlers,
    ready: handshakeDone.then(() => {
      if (giveUp.aborted) throw giveUp.reason;
    }),
    abandon: () => {
      handshake = undefined;
    },
  };
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
  #detached = false;

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

  /** Whether the raw socket was handed over to TLS (its events are then the TLS layer's ciphertext). */
  get isDetached(): boolean {
    return this.#detached;
  }

  /**
   * Hands the raw connection over for `upgradeTLS`: this socket ends (as if
   * closed) without closing the connection, and ignores the raw socket's
   * events from now on. Needs nothing unread and nothing unsent.
   */
  detach(): BunRawSocket {
    const raw = this.#raw;
    if (this.#isClosed || raw === undefined) throw writeAfterClose(this.remoteAddress);
    if (this.#queue.buffered > 0 || this.#writes.length > 0) {
      this.close();
      throw new ConnectionFailure("the peer sent data before TLS started", { address: this.remoteAddress });
    }
    this.#detached = true;
    this.#isClosed = true;
    this.#queue.clear();
    this.#resolveClosed();
    return raw;
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
