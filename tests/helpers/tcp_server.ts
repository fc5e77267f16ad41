/**
 * A loopback test server built on the runtime's own listener (`Deno.listen` /
 * `Deno.listenTls` on Deno, `Bun.listen` on Bun, `node:net` / `node:tls` on
 * Node). It listens on 127.0.0.1 at a
 * free port (or on a Unix socket path), hands each accepted connection to
 * `onConnection`, and `close()` shuts the listener and every connection.
 *
 * Deliberately independent of `src/net`, so that it can test that code.
 *
 * @example Echo server
 * ```ts ignore
 * import { echo, startTcpServer } from "./tcp_server.ts";
 *
 * const server = await startTcpServer({ onConnection: echo });
 * // ... connect to 127.0.0.1:server.port ...
 * await server.close();
 * ```
 *
 * @module
 */

/** One accepted connection, seen from the server side. */
export interface ServerConnection {
  /** The next chunk from the client, or `null` once it closed (or on error, or after `close()`). */
  read(): Promise<Uint8Array | null>;
  /** Sends bytes; resolves once all were handed to the OS. Rejects if the connection is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes at once; idempotent. */
  close(): void;
  /** Resolves when the connection is closed by either side. */
  readonly closed: Promise<void>;
}

/** Options of {@linkcode startTcpServer}. */
export interface TcpServerOptions {
  /** Serve TLS with this PEM certificate chain and key. */
  tls?: { cert: string; key: string };
  /** Listen on this Unix socket path instead of 127.0.0.1. */
  path?: string;
  /** Called for each accepted connection; errors it throws or rejects with are kept in `errors`. */
  onConnection?: (conn: ServerConnection) => void | Promise<void>;
}

/** A running test server. */
export interface TcpServer {
  /** Always `"127.0.0.1"` (unused for a Unix socket). */
  readonly hostname: string;
  /** The port chosen by the OS (0 for a Unix socket). */
  readonly port: number;
  /** How many connections were accepted so far. */
  readonly accepted: number;
  /** Errors from `onConnection` handlers. */
  readonly errors: unknown[];
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts a server; see the module doc. */
export function startTcpServer(options: TcpServerOptions = {}): Promise<TcpServer> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return startDeno(options);
  if (g.Bun !== undefined) return startBun(options);
  return startNode(options);
}

/** A connection handler that writes back everything it reads until the client closes. */
export async function echo(conn: ServerConnection): Promise<void> {
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) break;
    await conn.write(chunk);
  }
  conn.close();
}

/** A connection handler that does nothing: the connection stays open and silent until the server closes. */
export function silent(_conn: ServerConnection): void {}

/**
 * A connection handler that reads and discards everything and never answers.
 * Unlike {@linkcode silent} it notices when the client goes away, so `closed`
 * settles then (Deno only learns of a close by reading).
 */
export async function sink(conn: ServerConnection): Promise<void> {
  while ((await conn.read()) !== null) { /* discard */ }
  conn.close();
}

class Base {
  accepted = 0;
  errors: unknown[] = [];
  conns = new Set<ServerConnection>();
  readonly options: TcpServerOptions;

  constructor(options: TcpServerOptions) {
    this.options = options;
  }

  serve(conn: ServerConnection): void {
    this.accepted++;
    this.conns.add(conn);
    conn.closed.then(() => this.conns.delete(conn));
    const handler = this.options.onConnection;
    if (handler === undefined) return;
    try {
      Promise.resolve(handler(conn)).catch((e) => this.errors.push(e));
    } catch (e) {
      this.errors.push(e);
    }
  }

  closeAll(): void {
    for (const conn of [...this.conns]) conn.close();
  }
}

// ---- Deno -------------------------------------------------------------------

function startDeno(options: TcpServerOptions): Promise<TcpServer> {
  const listener: Deno.Listener = options.path !== undefined
    ? Deno.listen({ transport: "unix", path: options.path })
    : options.tls !== undefined
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: options.tls.cert, key: options.tls.key })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const base = new Base(options);
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // listener closed
      }
      base.serve(denoConnection(conn));
    }
  })();
  let closing: Promise<void> | undefined;
  const port = options.path !== undefined ? 0 : (listener.addr as Deno.NetAddr).port;
  return Promise.resolve({
    hostname: "127.0.0.1",
    port,
    get accepted() {
      return base.accepted;
    },
    errors: base.errors,
    close() {
      closing ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        await loop;
        base.closeAll();
        if (options.path !== undefined) {
          try {
            await Deno.remove(options.path);
          } catch { /* gone */ }
        }
      })();
      return closing;
    },
  });
}

function denoConnection(conn: Deno.Conn): ServerConnection {
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
      if (isClosed) throw new Error("server connection is closed");
      let off = 0;
      while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
    },
  };
}

// ---- Bun --------------------------------------------------------------------

interface BunRaw {
  write(data: Uint8Array): number;
  end(): void;
}

interface BunListener {
  port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunApi {
  listen(options: Record<string, unknown>): BunListener;
}

function startBun(options: TcpServerOptions): Promise<TcpServer> {
  const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const base = new Base(options);
  const byRaw = new Map<BunRaw, ReturnType<typeof bunConnection>>();
  const socket = {
    open(raw: BunRaw) {
      const conn = bunConnection(raw);
      byRaw.set(raw, conn);
      conn.closed.then(() => byRaw.delete(raw));
      base.serve(conn);
    },
    data(raw: BunRaw, data: Uint8Array) {
      byRaw.get(raw)?.onData(data);
    },
    drain(raw: BunRaw) {
      byRaw.get(raw)?.onDrain();
    },
    end(raw: BunRaw) {
      byRaw.get(raw)?.onGone();
    },
    close(raw: BunRaw) {
      byRaw.get(raw)?.onGone();
    },
    error(raw: BunRaw) {
      byRaw.get(raw)?.onGone();
    },
  };
  const listener = options.path !== undefined
    ? bun.listen({ unix: options.path, socket })
    : bun.listen({ hostname: "127.0.0.1", port: 0, socket, ...(options.tls ? { tls: options.tls } : {}) });
  let closing: Promise<void> | undefined;
  return Promise.resolve({
    hostname: "127.0.0.1",
    port: options.path !== undefined ? 0 : listener.port,
    get accepted() {
      return base.accepted;
    },
    errors: base.errors,
    close() {
      closing ??= (async () => {
        listener.stop(true);
        base.closeAll();
        if (options.path !== undefined) {
          const fs = await import("node:fs");
          fs.rmSync(options.path, { force: true });
        }
      })();
      return closing;
    },
  });
}

function bunConnection(raw: BunRaw) {
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const chunks: Uint8Array[] = [];
  let waiter: ((chunk: Uint8Array | null) => void) | undefined;
  const pending: { bytes: Uint8Array; resolve(): void; reject(e: unknown): void }[] = [];
  const finish = () => {
    if (isClosed) return;
    isClosed = true;
    chunks.length = 0;
    waiter?.(null);
    waiter = undefined;
    for (const p of pending.splice(0)) p.reject(new Error("server connection closed during write"));
    resolveClosed();
  };
  return {
    closed,
    close() {
      if (isClosed) return;
      finish();
      raw.end(); // graceful FIN: terminate() would reset and lose bytes in flight
    },
    read(): Promise<Uint8Array | null> {
      if (chunks.length > 0) return Promise.resolve(chunks.shift()!);
      if (isClosed) return Promise.resolve(null);
      return new Promise((resolve) => (waiter = resolve));
    },
    write(bytes: Uint8Array): Promise<void> {
      if (isClosed) return Promise.reject(new Error("server connection is closed"));
      if (pending.length === 0) {
        const n = raw.write(bytes);
        if (n === bytes.byteLength) return Promise.resolve();
        if (n < 0) return Promise.reject(new Error("server write failed"));
        bytes = bytes.subarray(n);
      }
      return new Promise((resolve, reject) => pending.push({ bytes, resolve, reject }));
    },
    onData(data: Uint8Array) {
      if (isClosed) return;
      if (waiter !== undefined) {
        const w = waiter;
        waiter = undefined;
        w(data);
      } else chunks.push(data);
    },
    onDrain() {
      while (pending.length > 0) {
        const p = pending[0];
        const n = raw.write(p.bytes);
        if (n < 0) return;
        if (n < p.bytes.byteLength) {
          p.bytes = p.bytes.subarray(n);
          return;
        }
        pending.shift();
        p.resolve();
      }
    },
    // Peer end or error: unread data stays readable, then reads get null.
    onGone() {
      if (isClosed) return;
      isClosed = true;
      waiter?.(null);
      waiter = undefined;
      for (const p of pending.splice(0)) p.reject(new Error("server connection closed during write"));
      resolveClosed();
    },
  };
}

// ---- Node -------------------------------------------------------------------

async function startNode(options: TcpServerOptions): Promise<TcpServer> {
  const net = await import("node:net");
  const tls = await import("node:tls");
  const base = new Base(options);
  const onSocket = (raw: import("node:net").Socket) => base.serve(nodeConnection(raw));
  const server = options.tls !== undefined
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onSocket)
    : net.createServer(onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (options.path !== undefined) server.listen(options.path, () => resolve());
    else server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  let closing: Promise<void> | undefined;
  return {
    hostname: "127.0.0.1",
    port: typeof address === "object" && address !== null ? address.port : 0,
    get accepted() {
      return base.accepted;
    },
    errors: base.errors,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        base.closeAll();
        await stopped; // also removes the Unix socket file
      })();
      return closing;
    },
  };
}

function nodeConnection(raw: import("node:net").Socket): ServerConnection {
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const chunks: Uint8Array[] = [];
  let waiter: ((chunk: Uint8Array | null) => void) | undefined;
  const gone = (local: boolean) => {
    if (isClosed) return;
    isClosed = true;
    if (local) chunks.length = 0;
    waiter?.(null);
    waiter = undefined;
    resolveClosed();
  };
  // Unread data past 1 MiB pauses the socket, so a handler that does not read
  // (silent) pushes back on the client as a real server's kernel would.
  let buffered = 0;
  raw.on("data", (data: Uint8Array) => {
    if (isClosed) return;
    if (waiter !== undefined) {
      const w = waiter;
      waiter = undefined;
      w(data);
    } else {
      chunks.push(data);
      buffered += data.byteLength;
      if (buffered > 1 << 20) raw.pause();
    }
  });
  // Peer end or error: unread data stays readable, then reads get null.
  raw.on("end", () => gone(false));
  raw.on("close", () => gone(false));
  raw.on("error", () => gone(false));
  return {
    closed,
    close() {
      if (isClosed) return;
      gone(true);
      raw.end(); // graceful FIN, like the Bun server: bytes in flight are not lost
      raw.destroySoon();
    },
    read(): Promise<Uint8Array | null> {
      if (chunks.length > 0) {
        const chunk = chunks.shift()!;
        buffered -= chunk.byteLength;
        if (raw.isPaused() && buffered <= 1 << 20) raw.resume();
        return Promise.resolve(chunk);
      }
      if (isClosed) return Promise.resolve(null);
      if (raw.isPaused()) raw.resume();
      return new Promise((resolve) => (waiter = resolve));
    },
    write(bytes: Uint8Array): Promise<void> {
      if (isClosed) return Promise.reject(new Error("server connection is closed"));
      return new Promise((resolve, reject) => {
        raw.write(bytes, (error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
