/**
 * The round-trip-time monitor of the streaming protocol (server monitoring
 * specification, "Measuring RTT"): while a server's monitor waits on
 * awaitable `hello`s, whose durations are mostly the server's wait, this one
 * sends a plain `hello` on its own connection every `heartbeatFrequencyMS`
 * and keeps the exponentially weighted average of their round trips. Its
 * errors never change the topology: it closes its connection and tries again
 * at the next interval.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
// From connection.ts, not the ../net/mod.ts barrel: nothing else on a cold connect loads the barrel.
import { Connection, type ConnectionOptions, type ServerAddress } from "../net/connection.ts";
import { updateRoundTripTime } from "./rtt.ts";

/**
 * Options of {@linkcode RttMonitor}.
 *
 * @example
 * ```ts
 * import type { RttMonitorOptions } from "./rtt_monitor.ts";
 *
 * const options: RttMonitorOptions = { heartbeatFrequencyMS: 10_000, connectTimeoutMS: 10_000 };
 * ```
 */
export interface RttMonitorOptions {
  /** Time between two measurements, in ms. */
  heartbeatFrequencyMS: number;
  /** Bounds the connect, the handshake and each `hello` (0: no limit). */
  connectTimeoutMS: number;
  /** Settings of its connection (TLS, appName, Stable API...). */
  connection?: Omit<
    ConnectionOptions,
    "signal" | "generation" | "connectTimeoutMS" | "socketTimeoutMS"
  >;
  /** Opens its connection (default {@linkcode Connection.connect}). */
  connect?: (
    address: ServerAddress,
    options: ConnectionOptions,
  ) => Promise<Connection>;
}

/**
 * Measures one server's round-trip time on a dedicated connection.
 *
 * @example
 * ```ts ignore
 * import { RttMonitor } from "./rtt_monitor.ts";
 *
 * const rtt = new RttMonitor({ host: "127.0.0.1", port: 27017 }, { heartbeatFrequencyMS: 500, connectTimeoutMS: 1000 });
 * rtt.start();
 * // ... rtt.average
 * await rtt.close();
 * ```
 */
export class RttMonitor {
  #server: ServerAddress;
  #options: RttMonitorOptions;
  #connect: (
    address: ServerAddress,
    options: ConnectionOptions,
  ) => Promise<Connection>;
  #conn: Connection | null = null;
  #average: number | null = null;
  #loop: Promise<void> | null = null;
  #stopped = false;
  /** The measurement in flight (a connection's signal must not outlive its connect: one controller each). */
  #current: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | null = null;

  /**
   * Creates the monitor; nothing runs until {@linkcode RttMonitor.start}.
   *
   * @param server The server.
   * @param options Timing and connection settings.
   */
  constructor(server: ServerAddress, options: RttMonitorOptions) {
    this.#server = server;
    this.#options = options;
    this.#connect = options.connect ?? ((a, o) => Connection.connect(a, o));
  }

  /** The average round-trip time so far, in ms, or null before the first measurement. */
  get average(): number | null {
    return this.#average;
  }

  /** Starts measuring (idempotent; nothing after `close()`). */
  start(): void {
    if (this.#loop !== null || this.#stopped) return;
    this.#loop = this.#run();
  }

  /** Stops: closes the connection and waits for the loop to end. Idempotent. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
    // A round trip in flight ends with its connection. A connect in flight is not aborted (an aborted connect
    // is reported as an error on Bun): the loop closes that connection as soon as it is open, bounded by
    // connectTimeoutMS, without holding up close().
    const connecting = this.#conn === null && this.#current !== null;
    this.#conn?.close();
    this.#conn = null;
    if (!connecting) await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const controller = new AbortController();
      this.#current = controller;
      await this.#measure(controller.signal);
      this.#current = null;
      if (this.#stopped) break;
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(() => {
          this.#wake = null;
          resolve();
        }, this.#options.heartbeatFrequencyMS);
      });
    }
    this.#conn?.close();
    this.#conn = null;
  }

  async #measure(signal: AbortSignal): Promise<void> {
    const timeout = this.#options.connectTimeoutMS;
    try {
      const start = performance.now();
      if (this.#conn === null || this.#conn.isClosed) {
        this.#conn = null;
        const conn = await this.#connect(this.#server, {
          ...this.#options.connection,
          connectTimeoutMS: timeout,
          socketTimeoutMS: timeout,
          signal,
        });
        if (signal.aborted || this.#stopped) {
          conn.close();
          return;
        }
        this.#conn = conn;
        // The handshake is the first measurement, as the monitor's first check is.
        this.#average = updateRoundTripTime(
          this.#average,
          performance.now() - start,
        );
        return;
      }
      const conn = this.#conn;
      const helloOk = conn.hello.helloOk === true ||
        this.#options.connection?.serverApi !== undefined;
      const cmd: Document = helloOk && conn.usesOpMsg
        ? { hello: 1 }
        : { isMaster: 1 };
      // No signal here: close() closes the connection, which ends the round trip.
      const reply = await conn.command("admin", cmd, {
        raw: true,
        socketTimeoutMS: timeout,
      });
      if (reply.ok === 1 || reply.ok === true) {
        this.#average = updateRoundTripTime(
          this.#average,
          performance.now() - start,
        );
      }
    } catch {
      // Not the topology's business: the monitor reports failures; measure again at the next interval.
      this.#conn?.close();
      this.#conn = null;
    }
  }
}
