/**
 * A pool of connections to one server, after the connection monitoring and
 * pooling (CMAP) specification: a size limit, a wait queue, and a generation
 * counter that retires every connection made before a `clear()`.
 *
 * @module
 */
import { labelOverload } from "./backpressure.ts";
import { ConfigurationError, MongoError, PoolClearedError, PoolClosedError, WaitQueueTimeoutError } from "../errors.ts";
import { formatAddress, type ServerAddress } from "../address.ts";
import { describeValue } from "../describe.ts";
import { Connection, type ConnectionOptions } from "./connection.ts";
import type { CheckOutFailedReason, ConnectionClosedReason, EventSink, NetEventInitMap } from "./monitoring.ts";

/**
 * Options of {@linkcode ConnectionPool}: the pool's own settings plus the
 * {@linkcode ConnectionOptions} every new connection gets. Resolved values:
 * the client's option resolution (`resolveClientOptions`) checks them and
 * fills in every default; the pool applies none.
 *
 * @example
 * ```ts
 * import type { ConnectionPoolOptions } from "./pool.ts";
 *
 * const options: ConnectionPoolOptions = {
 *   maxPoolSize: 10,
 *   minPoolSize: 0,
 *   maxConnecting: 2,
 *   maxIdleTimeMS: 0,
 *   waitQueueTimeoutMS: 2000,
 *   connectTimeoutMS: 10000,
 *   socketTimeoutMS: 0,
 *   appName: "inventory",
 * };
 * ```
 */
export interface ConnectionPoolOptions extends Omit<ConnectionOptions, "signal" | "generation"> {
  /** Most connections at once, in use, idle or being opened; 0 means no limit. */
  maxPoolSize: number;
  /** Connections kept open in the background, best effort (at most `maxPoolSize` when that is not 0). */
  minPoolSize: number;
  /** Longest wait in ms for a free connection; 0 waits until the signal, if any, aborts. */
  waitQueueTimeoutMS: number;
  /** Idle connections older than this many ms are closed instead of reused; 0 means never. */
  maxIdleTimeMS: number;
  /**
   * Most connections being opened at once (the CMAP specification's
   * `maxConnecting`, at least 1), so a burst of callers does not open a burst
   * of sockets; the others wait for one of those or for a connection to come back.
   */
  maxConnecting: number;
  /**
   * Opens one connection (default {@linkcode Connection.connect}). A hook for
   * tests and for callers that wrap connections (e.g. to authenticate).
   */
  connect?: (address: ServerAddress, options: ConnectionOptions) => Promise<Connection>;
  /**
   * Called when opening a connection fails (handshake, authentication or the
   * network), before the pool reports that connection closed: the owner's
   * error handling (SDAM, which may clear this pool) comes first, so a
   * `poolCleared` event precedes the failed connection's `connectionClosed`.
   */
  onEstablishError?: (error: unknown) => void;
  /**
   * Where the CMAP events go (pool created / ready / cleared / closed,
   * connection created / ready / closed, check-out started / failed, checked
   * out / in), and the command monitoring events of every connection the
   * pool lends. Default: none.
   */
  events?: EventSink<NetEventInitMap>;
  /**
   * Follow the CMAP specification's pause: the pool starts paused (`checkOut`
   * fails with `PoolClearedError` until `ready()`), and `clear()` pauses it
   * again, rejecting the waiters. Default false: ready at once, and `clear()`
   * only retires connections (waiters keep waiting).
   */
  paused?: boolean;
}

/**
 * Options of {@linkcode ConnectionPool.checkOut} and
 * {@linkcode ConnectionPool.withConnection}.
 *
 * @example
 * ```ts
 * import type { CheckOutOptions } from "./pool.ts";
 *
 * const options: CheckOutOptions = { signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface CheckOutOptions {
  /** Gives up waiting (or connecting): rejects with `signal.reason`. */
  signal?: AbortSignal;
}

interface Waiter {
  /** Hands over `conn`; false when the waiter already gave up (the caller keeps `conn`). */
  resolve(conn: Connection): boolean;
  reject(error: unknown): void;
}

/**
 * Connections to one server. Connections are opened lazily, when a
 * `checkOut()` finds none idle and the pool is below `maxPoolSize`; beyond
 * that, callers wait in line (first come, first served) for one to come back,
 * up to `waitQueueTimeoutMS`. A connect or handshake failure rejects only the
 * `checkOut()` that caused it, and frees its place.
 *
 * `clear()` adds one to {@linkcode ConnectionPool.generation}: idle
 * connections are closed at once, and those in use are closed when they come
 * back, so nothing made before the clear is used again. A connection that
 * comes back closed (a failed round trip closes it) is dropped, and one that
 * closes while idle (the server hung up, or sent bytes nobody asked for)
 * leaves the idle set at once.
 *
 * The pool sets no timer except while a caller waits with
 * `waitQueueTimeoutMS`, so it never keeps a process alive.
 *
 * @example
 * ```ts ignore
 * import { ConnectionPool } from "./pool.ts";
 *
 * const options = {
 *   connectTimeoutMS: 10_000,
 *   socketTimeoutMS: 0,
 *   maxPoolSize: 10,
 *   minPoolSize: 0,
 *   maxConnecting: 2,
 *   maxIdleTimeMS: 0,
 *   waitQueueTimeoutMS: 0,
 * };
 * await using pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
 * const reply = await pool.withConnection((conn) => conn.command("admin", { ping: 1 }));
 * console.log(reply.ok); // 1
 * ```
 */
export class ConnectionPool {
  /** The server, as `host:port`, `[ipv6]:port` or a socket path. */
  readonly address: string;
  #server: ServerAddress;
  #options: ConnectionPoolOptions;
  #connect: (address: ServerAddress, options: ConnectionOptions) => Promise<Connection>;
  #maxPoolSize: number;
  #minPoolSize: number;
  #waitQueueTimeoutMS: number;
  #maxIdleTimeMS: number;
  #maxConnecting: number;
  #generation = 0;
  #idle: { conn: Connection; since: number }[] = [];
  #checkedOut = new Set<Connection>();
  #pending = 0;
  #waiters: Waiter[] = [];
  #closed = false;
  #filling = false;
  #fillError: unknown = undefined;
  #events: EventSink<NetEventInitMap> | undefined;
  #pausing: boolean;
  #paused: boolean;
  #lastId = 0;

  /**
   * Creates the pool; no connection is opened here unless `minPoolSize` > 0,
   * which starts a background fill.
   *
   * @throws {ConfigurationError} when `address` is not an address.
   */
  constructor(address: ServerAddress, options: ConnectionPoolOptions) {
    if (address === null || typeof address !== "object") {
      throw new ConfigurationError(`address must be {host, port} or {path}, got ${describeValue(address)}`);
    }
    this.#server = address;
    this.address = formatAddress(address);
    this.#options = options;
    this.#connect = options.connect ?? ((a, o) => Connection.connect(a, o));
    this.#maxPoolSize = options.maxPoolSize;
    this.#minPoolSize = options.minPoolSize;
    this.#waitQueueTimeoutMS = options.waitQueueTimeoutMS;
    this.#maxIdleTimeMS = options.maxIdleTimeMS;
    this.#maxConnecting = options.maxConnecting;
    this.#events = options.events;
    this.#pausing = options.paused === true;
    this.#paused = this.#pausing;
    if (this.#events?.wants("poolCreated")) {
      this.#events.emit("poolCreated", {
        address: this.address,
        options: {
          maxPoolSize: options.maxPoolSize,
          minPoolSize: options.minPoolSize,
          maxIdleTimeMS: options.maxIdleTimeMS,
          waitQueueTimeoutMS: options.waitQueueTimeoutMS,
          maxConnecting: options.maxConnecting,
        },
      });
    }
    this.#fill();
  }

  /** Goes up by one on every `clear()`; connections from an older generation are retired. */
  get generation(): number {
    return this.#generation;
  }
  /** Connections that exist: idle, checked out, or being opened. */
  get totalConnectionCount(): number {
    return this.#idle.length + this.#checkedOut.size + this.#pending;
  }
  /** Idle connections ready to be checked out. */
  get availableConnectionCount(): number {
    return this.#idle.length;
  }
  /** Connections currently checked out. */
  get checkedOutCount(): number {
    return this.#checkedOut.size;
  }
  /** Callers waiting for a connection. */
  get pendingWaiters(): number {
    return this.#waiters.length;
  }
  /** Whether the pool is paused (only with the `paused` option: before `ready()` and after `clear()`). */
  get isPaused(): boolean {
    return this.#paused;
  }
  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }
  /** The last error of the background `minPoolSize` fill, if its last attempt failed. */
  get lastFillError(): unknown {
    return this.#fillError;
  }

  /**
   * Takes a connection for exclusive use; give it back with `checkIn()`.
   *
   * @throws {PoolClosedError} when the pool is closed (or closes while waiting).
   * @throws {WaitQueueTimeoutError} after `waitQueueTimeoutMS` without a free connection.
   * @throws {ConnectionFailure} / {NetworkTimeout} / {OperationFailure} when
   * opening a new connection fails (its place is freed).
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
   * const conn = await pool.checkOut({ signal: AbortSignal.timeout(5000) });
   * try {
   *   await conn.command("admin", { ping: 1 });
   * } finally {
   *   pool.checkIn(conn);
   * }
   * ```
   */
  checkOut(options: CheckOutOptions = {}): Promise<Connection> {
    const events = this.#events;
    if (
      events === undefined ||
      !(events.wants("connectionCheckOutStarted") || events.wants("connectionCheckedOut") ||
        events.wants("connectionCheckOutFailed"))
    ) {
      return this.#checkOut(options);
    }
    const start = performance.now();
    if (events.wants("connectionCheckOutStarted")) events.emit("connectionCheckOutStarted", { address: this.address });
    return this.#checkOut(options).then((conn) => {
      if (events.wants("connectionCheckedOut")) {
        events.emit("connectionCheckedOut", {
          address: this.address,
          connectionId: conn.id,
          durationMS: performance.now() - start,
        });
      }
      return conn;
    }, (error) => {
      if (events.wants("connectionCheckOutFailed")) {
        const reason: CheckOutFailedReason = error instanceof PoolClosedError
          ? "poolClosed"
          : error instanceof WaitQueueTimeoutError || options?.signal?.aborted === true
          ? "timeout"
          : "connectionError";
        events.emit("connectionCheckOutFailed", {
          address: this.address,
          reason,
          durationMS: performance.now() - start,
          error,
        });
      }
      throw error;
    });
  }

  #checkOut(options: CheckOutOptions): Promise<Connection> {
    const signal = options?.signal;
    if (this.#closed) return Promise.reject(this.#closedError("checkOut on a closed pool"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#paused) return Promise.reject(this.#pausedError());
    if (this.#waiters.length === 0) {
      const conn = this.#takeIdle();
      if (conn !== undefined) return Promise.resolve(this.#lend(conn));
      if (this.#canOpen()) return this.#open(signal);
    }
    return this.#wait(signal);
  }

  /**
   * Gives back a connection from `checkOut()`. A closed connection, one from
   * an older generation, or any connection after `close()` is closed and
   * dropped; otherwise it goes to the next waiter or back to the idle set.
   *
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
   * const conn = await pool.checkOut();
   * pool.checkIn(conn);
   * ```
   */
  checkIn(conn: Connection): void {
    if (!this.#checkedOut.delete(conn)) {
      throw new MongoError(`${this.address}: checkIn of a connection this pool did not check out`);
    }
    if (this.#events?.wants("connectionCheckedIn")) {
      this.#events.emit("connectionCheckedIn", { address: this.address, connectionId: conn.id });
    }
    this.#release(conn);
  }

  /**
   * Checks out a connection, runs `fn` with it, and checks it in. A failed
   * round trip has already closed the connection, so it is dropped on return;
   * an error reply (`OperationFailure`) leaves it in the pool. If `fn` throws
   * anything else while a round trip is still running, the connection is
   * closed rather than reused.
   *
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
   * const reply = await pool.withConnection((conn) => conn.command("admin", { ping: 1 }));
   * ```
   */
  async withConnection<T>(fn: (conn: Connection) => Promise<T>, options: CheckOutOptions = {}): Promise<T> {
    const conn = await this.checkOut(options);
    try {
      return await fn(conn);
    } catch (error) {
      // A round trip left running by fn could still write to the socket later.
      if (conn.inUse) conn.close();
      throw error;
    } finally {
      this.checkIn(conn);
    }
  }

  /**
   * Retires every connection: the generation goes up by one, idle connections
   * are closed now, checked-out ones when they are checked in. Waiters keep
   * waiting and get new connections.
   *
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
   * pool.clear();
   * console.log(pool.generation); // 1
   * ```
   */
  clear(): void {
    // A paused pool has nothing to retire (the CMAP specification: no event either).
    if (this.#paused || this.#closed) return;
    this.#generation++;
    if (this.#pausing) this.#paused = true;
    if (this.#events?.wants("poolCleared")) {
      this.#events.emit("poolCleared", { address: this.address, interruptInUseConnections: false });
    }
    for (const { conn } of this.#idle.splice(0)) this.#retire(conn, "stale");
    if (this.#paused) {
      for (const w of this.#waiters.splice(0)) w.reject(this.#pausedError());
      return;
    }
    this.#serveWaiters();
    this.#fill();
  }

  /**
   * Marks a paused pool ready (the CMAP specification's `ready()`): checkouts
   * succeed again and the `minPoolSize` fill resumes. Does nothing when the
   * pool is ready or closed.
   *
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, { ...options, paused: true });
   * pool.ready();
   * ```
   */
  ready(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    if (this.#events?.wants("poolReady")) this.#events.emit("poolReady", { address: this.address });
    this.#fill();
  }

  /**
   * Closes the pool: waiters are rejected with `PoolClosedError`, idle
   * connections are closed now and checked-out ones when they come back.
   * Idempotent.
   *
   * @example
   * ```ts ignore
   * import { ConnectionPool } from "./pool.ts";
   *
   * const pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, options);
   * await pool.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    for (const w of this.#waiters.splice(0)) {
      w.reject(this.#closedError("the pool was closed while waiting for a connection"));
    }
    const idle = this.#idle.splice(0);
    for (const { conn } of idle) this.#retire(conn, "poolClosed");
    if (this.#events?.wants("poolClosed")) this.#events.emit("poolClosed", { address: this.address });
    await Promise.all(idle.map(({ conn }) => conn.closed));
  }

  /** Closes the pool (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ------------------------------------------------------------

  #hasRoom(): boolean {
    return this.#maxPoolSize === 0 || this.totalConnectionCount < this.#maxPoolSize;
  }

  #canOpen(): boolean {
    return this.#pending < this.#maxConnecting && this.#hasRoom();
  }

  #lend(conn: Connection): Connection {
    this.#checkedOut.add(conn);
    return conn;
  }

  // The most recently used idle connection that is still fit; unfit ones are closed on the way.
  #takeIdle(): Connection | undefined {
    const now = Date.now();
    while (this.#idle.length > 0) {
      const { conn, since } = this.#idle.pop()!;
      const reason = this.#perished(conn, since, now);
      if (reason !== null) {
        this.#retire(conn, reason);
        continue;
      }
      return conn;
    }
    return undefined;
  }

  // A connection that closes while idle (the server or a proxy dropped it)
  // leaves the idle set at once, so the counts say what can really be lent.
  #watch(conn: Connection): void {
    conn.closed.then(() => {
      const i = this.#idle.findIndex((entry) => entry.conn === conn);
      if (i < 0) return;
      this.#idle.splice(i, 1);
      this.#closedEvent(conn, "error");
      // Its place is free: keep minPoolSize.
      this.#fill();
    });
  }

  // Why an idle connection may not be lent, or null when it may.
  #perished(conn: Connection, since: number, now: number): ConnectionClosedReason | null {
    if (conn.isClosed) return "error";
    if (conn.generation !== this.#generation) return "stale";
    if (this.#maxIdleTimeMS > 0 && now - since >= this.#maxIdleTimeMS) return "idle";
    return null;
  }

  // Closes a connection the pool drops, and says so.
  #retire(conn: Connection, reason: ConnectionClosedReason): void {
    conn.close();
    this.#closedEvent(conn, reason);
  }

  #closedEvent(conn: Connection, reason: ConnectionClosedReason, error?: unknown): void {
    if (this.#events?.wants("connectionClosed")) {
      this.#events.emit(
        "connectionClosed",
        error === undefined
          ? { address: this.address, connectionId: conn.id, reason }
          : { address: this.address, connectionId: conn.id, reason, error },
      );
    }
  }

  #release(conn: Connection): void {
    // A connection mid-stream (moreToCome) cannot take a new request either.
    if (this.#closed || conn.isClosed || conn.inUse || conn.moreToCome || conn.generation !== this.#generation) {
      this.#retire(
        conn,
        this.#closed ? "poolClosed" : conn.generation !== this.#generation && !conn.isClosed ? "stale" : "error",
      );
      this.#serveWaiters();
      this.#fill();
      return;
    }
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) {
      if (waiter.resolve(conn)) {
        this.#lend(conn);
        return;
      }
    }
    this.#idle.push({ conn, since: Date.now() });
  }

  // Opens a connection for a caller; its place is counted from now on.
  #open(signal: AbortSignal | undefined): Promise<Connection> {
    this.#pending++;
    const generation = this.#generation;
    const id = ++this.#lastId;
    const start = this.#created(id);
    return this.#connect(this.#server, { ...this.#connectionOptions(), generation, signal, id }).then(
      (conn) => {
        this.#pending--;
        conn.generation = generation;
        this.#connected(conn, start);
        this.#watch(conn);
        // A connecting slot is free again: a waiter may open the next one.
        queueMicrotask(() => this.#serveWaiters());
        if (this.#closed) {
          this.#retire(conn, "poolClosed");
          throw this.#closedError("the pool was closed while a connection was being opened");
        }
        return this.#lend(conn);
      },
      (error) => {
        this.#pending--;
        labelOverload(error);
        this.#options.onEstablishError?.(error);
        this.#failedToConnect(id, error);
        this.#serveWaiters();
        throw error;
      },
    );
  }

  // connectionCreated, as a connection starts to be opened; returns the start time.
  #created(id: number): number {
    if (this.#events?.wants("connectionCreated")) {
      this.#events.emit("connectionCreated", { address: this.address, connectionId: id });
    }
    return performance.now();
  }

  // The connection is established (handshake and authentication done): monitor its commands.
  #connected(conn: Connection, start: number): void {
    const events = this.#events;
    if (events === undefined) return;
    conn.events = events;
    if (events.wants("connectionReady")) {
      events.emit("connectionReady", {
        address: this.address,
        connectionId: conn.id,
        durationMS: performance.now() - start,
      });
    }
  }

  #failedToConnect(id: number, error: unknown): void {
    if (this.#events?.wants("connectionClosed")) {
      this.#events.emit("connectionClosed", { address: this.address, connectionId: id, reason: "error", error });
    }
  }

  // Waiters first in line get an idle connection, or a new one while there is room.
  #serveWaiters(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      const conn = this.#takeIdle();
      if (conn !== undefined) {
        if (this.#waiters.shift()!.resolve(conn)) this.#lend(conn);
        else this.#idle.push({ conn, since: Date.now() });
        continue;
      }
      if (!this.#canOpen()) return;
      const waiter = this.#waiters.shift()!;
      // The waiter may give up while the connection opens; then the connection goes back to the pool.
      this.#open(undefined).then((c) => {
        if (!waiter.resolve(c)) this.checkIn(c);
      }, (e) => waiter.reject(e));
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const done = () => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const leave = (error: unknown) => {
        if (settled) return;
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        done();
        reject(error);
      };
      const waiter: Waiter = {
        resolve: (conn) => {
          if (settled) return false;
          done();
          resolve(conn);
          return true;
        },
        reject: (error) => {
          if (settled) return;
          done();
          reject(error);
        },
      };
      const onAbort = () => leave(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (this.#waitQueueTimeoutMS > 0) {
        const ms = this.#waitQueueTimeoutMS;
        timer = setTimeout(() =>
          leave(
            new WaitQueueTimeoutError(
              `no connection became available within waitQueueTimeoutMS ${ms} ms ` +
                `(maxPoolSize ${this.#maxPoolSize}, ${this.#checkedOut.size} in use, ` +
                `${this.#pending} opening, ${this.#waiters.length - 1} other callers waiting)`,
              { address: this.address },
            ),
          ), ms);
      }
      this.#waiters.push(waiter);
      // A waiter queued behind others may still be servable at once (e.g. room freed meanwhile).
      this.#serveWaiters();
    });
  }

  // Background fill up to minPoolSize: one connection at a time, stops at the first failure.
  #fill(): void {
    if (this.#filling || this.#closed || this.#paused || this.#minPoolSize === 0) return;
    if (this.totalConnectionCount >= this.#minPoolSize || !this.#canOpen()) return;
    this.#filling = true;
    this.#pending++;
    const generation = this.#generation;
    const id = ++this.#lastId;
    const start = this.#created(id);
    this.#connect(this.#server, { ...this.#connectionOptions(), generation, id }).then(
      (conn) => {
        this.#pending--;
        this.#filling = false;
        this.#fillError = undefined;
        conn.generation = generation;
        this.#connected(conn, start);
        this.#watch(conn);
        this.#release(conn);
        this.#fill();
      },
      (error) => {
        this.#pending--;
        this.#filling = false;
        this.#fillError = labelOverload(error);
        this.#options.onEstablishError?.(error);
        this.#failedToConnect(id, error);
        // The CMAP specification: an error while filling clears (and so pauses) the pool.
        if (this.#pausing && generation === this.#generation) this.clear();
        this.#serveWaiters();
      },
    );
  }

  #connectionOptions(): ConnectionOptions {
    const {
      connect: _connect,
      maxPoolSize: _maxPoolSize,
      minPoolSize: _minPoolSize,
      waitQueueTimeoutMS: _waitQueueTimeoutMS,
      maxIdleTimeMS: _maxIdleTimeMS,
      maxConnecting: _maxConnecting,
      events: _events,
      paused: _paused,
      ...rest
    } = this.#options;
    return rest;
  }

  #pausedError(): PoolClearedError {
    return new PoolClearedError(
      this.#lastId === 0 && this.#generation === 0
        ? "the pool is paused (not ready yet): wait for the server to be checked, then retry"
        : "the pool was cleared after an error and is paused until the server is checked again: retry",
      { address: this.address },
    );
  }

  #closedError(message: string): PoolClosedError {
    return new PoolClosedError(message, { address: this.address });
  }
}
