/**
 * A loopback TCP listener on the runtime's own API: `Deno.listen` on Deno,
 * `Bun.listen` on Bun, `node:net` (loaded by dynamic import) elsewhere. The
 * simulated members serve their clients through it.
 *
 * `tests/helpers/tcp_server.ts` does the same for the driver's own socket
 * tests; it stays separate on purpose, so that the code under test and the
 * server it talks to never share a bug. Both could later share one private
 * adapter if that independence stops mattering.
 *
 * @example Echo one message
 * ```ts ignore
 * import { listen } from "./listener.ts";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * (async () => {
 *   for await (const conn of listener.connections) {
 *     const chunk = await conn.read();
 *     if (chunk !== null) await conn.write(chunk);
 *     conn.close();
 *   }
 * })();
 * console.log(listener.port > 0); // true
 * await listener.close();
 * ```
 *
 * @module
 */

import { ConnectionFailure } from "../errors.ts";

/**
 * Where to listen.
 *
 * @example
 * ```ts
 * import type { ListenOptions } from "./listener.ts";
 *
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0 };
 * ```
 */
export interface ListenOptions {
  /** The address to bind; default `"127.0.0.1"`. */
  hostname?: string;
  /** The port; default 0, which lets the operating system pick a free one. */
  port?: number;
}

/**
 * One accepted connection, seen from the server side.
 *
 * @example
 * ```ts ignore
 * import type { ListenerConnection } from "./listener.ts";
 *
 * async function echo(conn: ListenerConnection): Promise<void> {
 *   for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) await conn.write(chunk);
 * }
 * ```
 */
export interface ListenerConnection {
  /** The next chunk from the client, or `null` once the connection ended (either side, or an error). */
  read(): Promise<Uint8Array | null>;
  /** Sends bytes; resolves once the OS has them. Rejects with `ConnectionFailure` when the connection is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes at once; idempotent. A pending `read()` then resolves with `null`. */
  close(): void;
  /**
   * Closes as a dying process does: nothing more is read or sent, and the
   * client sees the connection end or reset even if it is idle or keeps
   * writing. Idempotent.
   */
  abort(): void;
  /** Settles when the connection is closed by either side. Never rejects. */
  readonly closed: Promise<void>;
}

/**
 * A listening socket.
 *
 * @example
 * ```ts ignore
 * import { listen } from "./listener.ts";
 *
 * const listener = await listen({ port: 0 });
 * console.log(`listening on ${listener.hostname}:${listener.port}`);
 * await listener.close();
 * ```
 */
export interface Listener {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the chosen one when 0 was asked). */
  readonly port: number;
  /** Accepted connections, in order; the iteration ends when the listener closes. */
  readonly connections: AsyncIterable<ListenerConnection>;
  /** The connections accepted and not yet closed. */
  readonly open: ReadonlySet<ListenerConnection>;
  /** Stops listening, closes every open connection and frees the port. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts listening. Rejects with `ConnectionFailure` when the address cannot
 * be bound (port in use, bad address).
 *
 * @example
 * ```ts ignore
 * import { listen } from "./listener.ts";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * await listener.close();
 * ```
 */
export async function listen(options: ListenOptions = {}): Promise<Listener> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConnectionFailure(`cannot listen: port must be an integer in [0, 65535], got ${String(port)}`, {
      address: `${hostname}:${String(port)}`,
    });
  }
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  try {
    if (g.Deno !== undefined) return listenDeno(hostname, port);
    if (g.Bun !== undefined) return listenBun(hostname, port);
    return await listenNode(hostname, port);
  } catch (error) {
    if (error instanceof ConnectionFailure) throw error;
    throw new ConnectionFailure(`cannot listen: ${describe(error)}`, { address: `${hostname}:${port}`, cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Accepted connections wait here until the accept loop pulls them.
class AcceptQueue {
  #items: ListenerConnection[] = [];
  #waiter: ((c: ListenerConnection | null) => void) | undefined;
  #ended = false;
  readonly open = new Set<ListenerConnection>();

  push(conn: ListenerConnection): void {
    if (this.#ended) {
      conn.close();
      return;
    }
    this.open.add(conn);
    conn.closed.then(() => this.open.delete(conn));
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(conn);
    } else this.#items.push(conn);
  }

  end(): void {
    this.#ended = true;
    for (const c of this.#items.splice(0)) c.abort();
    for (const c of [...this.open]) c.abort();
    this.#waiter?.(null);
    this.#waiter = undefined;
  }

  next(): Promise<ListenerConnection | null> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  iterable(): AsyncIterable<ListenerConnection> {
    const next = () => this.next();
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const c = await next();
          if (c === null) return;
          yield c;
        }
      },
    };
  }
}

// A connection fed by callbacks (Bun, node): chunks queue until read.
class PushConnection implements ListenerConnection {
  #chunks: Uint8Array[] = [];
  #waiter: ((c: Uint8Array | null) => void) | undefined;
  #gone = false;
  #resolveClosed!: () => void;
  readonly closed: Promise<void> = new Promise((r) => (this.#resolveClosed = r));
  #end: () => void;
  #kill: () => void;
  #send: (bytes: Uint8Array) => Promise<void>;
  readonly address: string;

  constructor(address: string, end: () => void, kill: () => void, send: (bytes: Uint8Array) => Promise<void>) {
    this.address = address;
    this.#end = end;
    this.#kill = kill;
    this.#send = send;
  }

  get isClosed(): boolean {
    return this.#gone;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#chunks.shift()!);
    if (this.#gone) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#gone) return Promise.reject(new ConnectionFailure("connection is closed", { address: this.address }));
    return this.#send(bytes);
  }

  close(): void {
    if (this.#gone) return;
    this.#chunks.length = 0;
    this.gone();
    try {
      this.#end();
    } catch { /* already released */ }
  }

  abort(): void {
    this.#chunks.length = 0;
    this.gone();
    try {
      this.#kill();
    } catch { /* already released */ }
  }

  onData(data: Uint8Array): void {
    if (this.#gone) return;
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(data);
    } else this.#chunks.push(data);
  }

  // Peer end or error: unread data stays readable, then reads get null.
  gone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#waiter?.(null);
    this.#waiter = undefined;
    this.#resolveClosed();
  }
}

// ---- Deno -------------------------------------------------------------------

function listenDeno(hostname: string, port: number): Listener {
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  const queue = new AcceptQueue();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // listener closed
      }
      queue.push(denoConnection(conn, `${hostname}:${port}`));
    }
  })();
  let closing: Promise<void> | undefined;
  return {
    hostname,
    port: (listener.addr as Deno.NetAddr).port,
    connections: queue.iterable(),
    open: queue.open,
    close() {
      closing ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        await loop;
        queue.end();
      })();
      return closing;
    },
  };
}

function denoConnection(conn: Deno.Conn, address: string): ListenerConnection {
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const close = () => {
    if (isClosed) return;
    isClosed = true;
    try {
      conn.close();
    } catch { /* already released */ }
    resolveClosed();
  };
  return {
    closed,
    close,
    abort: close, // closing the descriptor is what a dying process does
    async read() {
      if (isClosed) return null;
      const buf = new Uint8Array(64 * 1024);
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        close();
        return null;
      }
      return buf.subarray(0, n);
    },
    async write(bytes) {
      if (isClosed) throw new ConnectionFailure("connection is closed", { address });
      try {
        let off = 0;
        while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
      } catch (error) {
        close();
        throw new ConnectionFailure(`write failed: ${describe(error)}`, { address, cause: error });
      }
    },
  };
}

// ---- Bun --------------------------------------------------------------------

interface BunRaw {
  write(data: Uint8Array): number;
  end(): void;
  terminate?(): void;
  data: PushConnection | undefined;
}

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunApi {
  listen(options: Record<string, unknown>): BunServer;
}

function listenBun(hostname: string, port: number): Listener {
  const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const queue = new AcceptQueue();
  const address = `${hostname}:${port}`;
  // Bytes the kernel did not take yet, per socket, flushed on drain.
  const pending = new Map<BunRaw, { bytes: Uint8Array; resolve(): void; reject(e: unknown): void }[]>();
  const flush = (raw: BunRaw) => {
    const list = pending.get(raw);
    while (list !== undefined && list.length > 0) {
      const p = list[0];
      const n = raw.write(p.bytes);
      if (n < 0) return;
      if (n < p.bytes.byteLength) {
        p.bytes = p.bytes.subarray(n);
        return;
      }
      list.shift();
      p.resolve();
    }
  };
  const drop = (raw: BunRaw) => {
    raw.data?.gone();
    for (const p of pending.get(raw)?.splice(0) ?? []) {
      p.reject(new ConnectionFailure("connection closed during write", { address }));
    }
    pending.delete(raw);
  };
  const server = bun.listen({
    hostname,
    port,
    socket: {
      open(raw: BunRaw) {
        pending.set(raw, []);
        const conn = new PushConnection(address, () => {
          drop(raw);
          // A graceful FIN, so replies already written arrive. end() only
          // half-closes, though: data() below resets the socket if the
          // client writes again, as a kernel does for a closed socket.
          raw.end();
        }, () => {
          drop(raw);
          // Bun has no plain close(2): terminate() resets, which clients
          // handle as the network error a killed server gives them.
          if (raw.terminate !== undefined) raw.terminate();
          else raw.end();
        }, (bytes) => {
          const list = pending.get(raw);
          if (list === undefined) return Promise.reject(new ConnectionFailure("connection is closed", { address }));
          if (list.length === 0) {
            const n = raw.write(bytes);
            if (n === bytes.byteLength) return Promise.resolve();
            if (n < 0) return Promise.reject(new ConnectionFailure("write failed", { address }));
            bytes = bytes.subarray(n);
          }
          return new Promise((resolve, reject) => list.push({ bytes, resolve, reject }));
        });
        raw.data = conn;
        queue.push(conn);
      },
      data(raw: BunRaw, data: Uint8Array) {
        const conn = raw.data;
        if (conn === undefined || conn.isClosed) raw.terminate?.();
        else conn.onData(data);
      },
      drain(raw: BunRaw) {
        flush(raw);
      },
      end(raw: BunRaw) {
        drop(raw);
      },
      close(raw: BunRaw) {
        drop(raw);
      },
      error(raw: BunRaw) {
        drop(raw);
      },
    },
  });
  let closing: Promise<void> | undefined;
  return {
    hostname,
    port: server.port,
    connections: queue.iterable(),
    open: queue.open,
    close() {
      closing ??= (async () => {
        server.stop(true);
        queue.end();
        // Let Bun run the close callbacks before the port is reused.
        await new Promise((r) => setTimeout(r, 0));
      })();
      return closing;
    },
  };
}

// ---- node:net ----------------------------------------------------------------

interface NodeSocket {
  write(data: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

interface NodeServer {
  listen(port: number, hostname: string, cb: () => void): void;
  address(): { port: number } | string | null;
  close(cb?: () => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
}

interface NodeNet {
  createServer(listener: (socket: NodeSocket) => void): NodeServer;
}

async function listenNode(hostname: string, port: number): Promise<Listener> {
  const net = (await import("node:net")) as unknown as NodeNet;
  const queue = new AcceptQueue();
  const address = `${hostname}:${port}`;
  const server = net.createServer((socket) => {
    const conn = new PushConnection(
      address,
      () => socket.destroy(),
      () => socket.destroy(),
      (bytes) =>
        new Promise((resolve, reject) => {
          socket.write(bytes, (err) => {
            if (err) reject(new ConnectionFailure(`write failed: ${err.message}`, { address, cause: err }));
            else resolve();
          });
        }),
    );
    socket.on("data", (d) => conn.onData(d as Uint8Array));
    socket.on("end", () => conn.gone());
    socket.on("close", () => conn.gone());
    socket.on("error", () => conn.gone());
    queue.push(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(e));
    server.listen(port, hostname, () => resolve());
  });
  const bound = server.address();
  let closing: Promise<void> | undefined;
  return {
    hostname,
    port: typeof bound === "object" && bound !== null ? bound.port : port,
    connections: queue.iterable(),
    open: queue.open,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        queue.end();
      });
      return closing;
    },
  };
}
