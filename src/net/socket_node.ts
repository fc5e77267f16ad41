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

interface NodeTls {
  connect(options: {
    host: string;
    port: number;
    servername?: string;
    ca?: string;
    rejectUnauthorized: boolean;
  }): NodeRawSocket;
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
 * too through their node compatibility (tests do).
 *
 * @example
 * ```ts ignore
 * import { connectNodeSocket } from "./socket_node.ts";
 *
 * const socket = await connectNodeSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectNodeSocket(options: SocketOptions): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  let ca: string | undefined;
  if (resolved.tls && resolved.tlsCAFile !== undefined) {
    const path = resolved.tlsCAFile;
    let text: string;
    try {
      const fs = (await import("node:fs/promises")) as NodeFsPromises;
      text = await fs.readFile(path, "utf8");
    } catch (error) {
      throw caFileError(path, error);
    }
    ca = checkCAFileText(path, text);
  }
  return runConnect(resolved, (giveUp) => open(resolved, ca, giveUp));
}

async function open(options: ResolvedSocketOptions, ca: string | undefined, giveUp: AbortSignal): Promise<NodeSocket> {
  const { address } = options;
  let raw: NodeRawSocket;
  if (options.tls) {
    const tls = (await import("node:tls")) as unknown as NodeTls;
    raw = tls.connect({
      host: options.host,
      port: options.port,
      servername: options.sni,
      ca,
      rejectUnauthorized: !options.tlsAllowInvalidCertificates,
    });
  } else {
    const net = (await import("node:net")) as unknown as NodeNet;
    raw = net.connect(options.path !== undefined ? { path: options.path } : { host: options.host, port: options.port });
  }
  const socket = new NodeSocket(raw, address);
  let tcpConnected = false;
  const onTcpConnect = () => {
    tcpConnected = true;
  };
  raw.once("connect", onTcpConnect);
  try {
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        raw.removeListener(options.tls ? "secureConnect" : "connect", onReady);
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
        const what = options.tls && tcpConnected ? "TLS handshake failed" : "connect failed";
        reject(new ConnectionFailure(`${what}: ${describeError(error)}`, { address, cause: error }));
      };
      const onClose = () => {
        cleanup();
        reject(new ConnectionFailure("connection closed while connecting", { address }));
      };
      const onAbort = () => {
        cleanup();
        reject(giveUp.reason);
      };
      raw.once(options.tls ? "secureConnect" : "connect", onReady);
      raw.once("error", onError);
      raw.once("close", onClose);
      if (giveUp.aborted) onAbort();
      else giveUp.addEventListener("abort", onAbort, { once: true });
    });
  } catch (error) {
    socket.close();
    throw error;
  } finally {
    raw.removeListener("connect", onTcpConnect);
  }
  try {
    raw.setNoDelay(true);
    raw.setKeepAlive(true, KEEPALIVE_DELAY_MS);
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

  constructor(raw: NodeRawSocket, address: string) {
    this.#raw = raw;
    this.remoteAddress = address;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#queue = new ChunkQueue({ pause: () => raw.pause(), resume: () => raw.resume() });
    // Listeners from the start: an "error" without a listener would be thrown.
    raw.on("data", (chunk: Uint8Array) => {
      if (!this.#isClosed) this.#queue.push(chunk);
    });
    raw.on("end", () => this.#queue.end());
    raw.on("error", (error: Error) => {
      this.#queue.fail(connectionLost(address, "connection lost", error));
    });
    raw.on("close", () => this.#onClose());
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
