/**
 * The fallback adapter for runtimes that are neither Deno nor Bun: `node:net`
 * and `node:tls`, loaded by dynamic import only when this adapter is used, so
 * Deno and Bun never load them. The few node types used are declared here
 * instead of depending on `@types/node`.
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

interface NodeRawSocket {
  write(data: Uint8Array, callback: (error?: Error | null) => void): boolean;
  destroy(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): unknown;
  setKeepAlive(enable: boolean, initialDelay: number): unknown;
  on(event: string, listener: (arg: never) => void): unknown;
  once(event: string, listener: (arg: never) => void): unknown;
  removeListener(event: string, listener: (arg: never) => void): unknown;
}

interface NodeNet {
  connect(options: { host?: string; port?: number; path?: string }): NodeRawSocket;
}

interface NodeTlsOptions {
  servername?: string;
  ca?: string;
  rejectUnauthorized: boolean;
  checkServerIdentity?: () => undefined;
  cert?: string;
  key?: string;
  passphrase?: string;
}

interface NodeTls {
  connect(options: NodeTlsOptions & ({ host: string; port: number } | { socket: NodeRawSocket })): NodeRawSocket;
}

interface NodeFsPromises {
  readFile(path: string, encoding: "utf8"): Promise<string>;
}

// The node modules are imported with literal specifiers, so that JSR and
// bundlers can see them, but only inside the functions that use them: Deno and
// Bun never load them. Their results are narrowed to the few members used.
const KEEPALIVE_DELAY_MS = 120_000;

function noop(): void {}

/**
 * Opens a {@linkcode Socket} with `node:net` / `node:tls`. `connectSocket()`
 * calls this when neither `Deno` nor `Bun` is present; Deno and Bun can run it
 * too through their node compatibility (tests do). With `tunnel`, the TCP
 * connection goes to the proxy, the tunnel's handshake runs over it, and TLS
 * (when on) starts on the same connection (`tls.connect({ socket })`).
 *
 * @example
 * ```ts ignore
 * import { connectNodeSocket } from "./socket_node.ts";
 *
 * const socket = await connectNodeSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectNodeSocket(options: SocketOptions, tunnel?: Tunnel): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  let files = await readTlsFiles(resolved, async (path) => {
    const fs = (await import("node:fs/promises")) as unknown as NodeFsPromises;
    return await fs.readFile(path, "utf8");
  });
  // Deno's node:tls drops an encrypted key without a word and sends no
  // certificate: there the key is decrypted here first, as Deno's adapter does.
  if ((globalThis as { Deno?: unknown }).Deno !== undefined && files.clientKey?.encrypted === true) {
    files = await (await import("./_pkcs8.ts")).withDecryptedKey(resolved, files);
  }
  const tls = resolved.tls ? tlsOptions(resolved, files) : undefined;
  return runConnect(resolved, (giveUp) => open(resolved, tls, tunnel, giveUp));
}

function tlsOptions(options: ResolvedSocketOptions, files: TlsFiles): NodeTlsOptions {
  const tls: NodeTlsOptions = {
    servername: options.sni,
    ca: files.ca,
    rejectUnauthorized: !options.tlsAllowInvalidCertificates,
  };
  // The chain is still checked; only the name check is skipped.
  if (options.tlsAllowInvalidHostnames) tls.checkServerIdentity = () => undefined;
  if (files.clientKey !== undefined) {
    tls.cert = files.clientKey.cert;
    tls.key = files.clientKey.key;
    if (options.tlsCertificateKeyFilePassword !== undefined) tls.passphrase = options.tlsCertificateKeyFilePassword;
  }
  return tls;
}

async function open(
  options: ResolvedSocketOptions,
  tls: NodeTlsOptions | undefined,
  tunnel: Tunnel | undefined,
  giveUp: AbortSignal,
): Promise<NodeSocket> {
  const { address } = options;
  let raw: NodeRawSocket;
  const nodeTls = tls === undefined ? undefined : (await import("node:tls")) as unknown as NodeTls;
  if (tunnel !== undefined) {
    const net = (await import("node:net")) as unknown as NodeNet;
    raw = net.connect({ host: tunnel.host, port: tunnel.port });
    await settle(raw, "connect", `connect to ${tunnel.name} failed`, address, giveUp);
    const plain = new NodeSocket(raw, address);
    const release = () => plain.close();
    giveUp.addEventListener("abort", release, { once: true });
    try {
      await tunnel.open(plain, giveUp);
      if (giveUp.aborted) throw giveUp.reason;
    } catch (error) {
      plain.close();
      throw giveUp.aborted ? giveUp.reason : error;
    } finally {
      giveUp.removeEventListener("abort", release);
    }
    if (tls === undefined) return tuned(plain, raw);
    const under = plain.detach();
    try {
      raw = (nodeTls as NodeTls).connect({ ...tls, socket: under });
    } catch (error) {
      under.destroy();
      throw clientKeyRejected(options, error);
    }
    await settle(raw, "secureConnect", "TLS handshake failed", address, giveUp);
    return tuned(new NodeSocket(raw, address), under);
  }
  if (tls !== undefined) {
    try {
      raw = (nodeTls as NodeTls).connect({ ...tls, host: options.host, port: options.port });
    } catch (error) {
      throw clientKeyRejected(options, error);
    }
  } else {
    const net = (await import("node:net")) as unknown as NodeNet;
    raw = net.connect(options.path !== undefined ? { path: options.path } : { host: options.host, port: options.port });
  }
  let tcpConnected = false;
  const onTcpConnect = () => {
    tcpConnected = true;
  };
  raw.once("connect", onTcpConnect);
  try {
    await settle(raw, tls !== undefined ? "secureConnect" : "connect", () =>
      tls !== undefined && tcpConnected ? "TLS handshake failed" : "connect failed", address, giveUp);
  } finally {
    raw.removeListener("connect", onTcpConnect);
  }
  return tuned(new NodeSocket(raw, address), raw);
}

/** Waits for `ready` on `raw`; on an error, a close or `giveUp`, destroys it and rejects. */
async function settle(
  raw: NodeRawSocket,
  ready: string,
  what: string | (() => string),
  address: string,
  giveUp: AbortSignal,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        raw.removeListener(ready, onReady);
        raw.removeListener("error", onError);
        raw.removeListener("close", onClose);
        giveUp.removeEventListener("abort", onAbort);
      };
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        const text = typeof what === "string" ? what : what();
        reject(new ConnectionFailure(`${text}: ${describeError(error)}`, { address, cause: error }));
      };
      const onClose = () => {
        cleanup();
        reject(new ConnectionFailure("connection closed while connecting", { address }));
      };
      const onAbort = () => {
        cleanup();
        reject(giveUp.reason);
      };
      raw.once(ready, onReady);
      raw.once("error", onError);
      raw.once("close", onClose);
      if (giveUp.aborted) onAbort();
      else giveUp.addEventListener("abort", onAbort, { once: true });
    });
  } catch (error) {
    // An "error" after this point must not be thrown for want of a listener.
    raw.on("error", noop);
    raw.destroy();
    throw error;
  }
}

function tuned(socket: NodeSocket, tcp: NodeRawSocket): NodeSocket {
  try {
    tcp.setNoDelay(true);
    tcp.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  } catch {
    // Tuning only; the socket works without it.
  }
  return socket;
}

class NodeSocket implements Socket {
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  #raw: NodeRawSocket;
  #isClosed = false;
  #resolveClosed: () => void = noop;
  #writes = new Set<(error: unknown) => void>();
  #queue: ChunkQueue;
  #listeners: [string, (arg: never) => void][];

  constructor(raw: NodeRawSocket, address: string) {
    this.#raw = raw;
    this.remoteAddress = address;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#queue = new ChunkQueue({ pause: () => raw.pause(), resume: () => raw.resume() });
    // Listeners from the start: an "error" without a listener would be thrown.
    this.#listeners = [
      ["data", (chunk: Uint8Array) => {
        if (!this.#isClosed) this.#queue.push(chunk);
      }],
      ["end", () => this.#queue.end()],
      ["error", (error: Error) => {
        this.#queue.fail(connectionLost(address, "connection lost", error));
      }],
      ["close", () => this.#onClose()],
    ];
    for (const [event, listener] of this.#listeners) raw.on(event, listener as (arg: never) => void);
  }

  /**
   * Hands the raw connection over to `tls.connect({ socket })`: this socket
   * ends (as if closed) without closing the connection. Needs nothing unread.
   */
  detach(): NodeRawSocket {
    const raw = this.#raw;
    if (this.#isClosed) throw writeAfterClose(this.remoteAddress);
    if (this.#queue.buffered > 0 || this.#writes.size > 0) {
      this.close();
      throw new ConnectionFailure("the peer sent data before TLS started", { address: this.remoteAddress });
    }
    for (const [event, listener] of this.#listeners) raw.removeListener(event, listener as (arg: never) => void);
    this.#isClosed = true;
    this.#queue.clear();
    this.#resolveClosed();
    return raw;
  }

  read(): Promise<Uint8Array | null> {
    return this.#queue.read(this.remoteAddress);
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
      this.#raw.write(bytes, (error) => {
        if (settled) return;
        if (error) {
          fail(connectionLost(this.remoteAddress, "write failed", error));
          this.close();
          return;
        }
        settled = true;
        this.#writes.delete(fail);
        resolve();
      });
    });
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#queue.clear();
    this.#rejectWrites("socket closed during write");
    this.#raw.destroy();
    this.#resolveClosed();
  }

  #onClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#queue.end();
    this.#rejectWrites("connection closed by the peer during write");
    this.#resolveClosed();
  }

  #rejectWrites(message: string): void {
    const writes = [...this.#writes];
    this.#writes.clear();
    for (const fail of writes) fail(new ConnectionFailure(message, { address: this.remoteAddress }));
  }
}
