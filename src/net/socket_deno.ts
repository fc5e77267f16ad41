/**
 * The Deno adapter: `Deno.connect` (TCP or Unix), upgraded with
 * `Deno.startTls` so that the TLS handshake runs inside `connectTimeoutMS`.
 *
 * Gap: Deno 2 has no per-connection way to skip certificate-chain validation.
 * `tlsAllowInvalidCertificates` maps to `unsafelyDisableHostnameVerification`
 * (host-name check off, chain still checked); a self-signed or privately
 * issued certificate needs its CA in `tlsCAFile`, or the process-wide
 * `--unsafely-ignore-certificate-errors` flag.
 *
 * @module
 */

import { ConnectionFailure, MongoError } from "../errors.ts";
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

// Reads land in a shared slab and are handed out as views of it: no copy, and
// no 64 KiB allocation for every small reply. A view is never written again,
// because the next read starts after it.
const SLAB_SIZE = 64 * 1024;
const MIN_READ_ROOM = 16 * 1024;

function noop(): void {}

/**
 * Opens a {@linkcode Socket} with Deno's own API. `connectSocket()` calls this
 * on Deno; call it directly only to pin the adapter (tests do).
 *
 * @example
 * ```ts ignore
 * import { connectDenoSocket } from "./socket_deno.ts";
 *
 * const socket = await connectDenoSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectDenoSocket(options: SocketOptions): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  let caCerts: string[] | undefined;
  if (resolved.tls && resolved.tlsCAFile !== undefined) {
    const path = resolved.tlsCAFile;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw caFileError(path, error);
    }
    caCerts = [checkCAFileText(path, text)];
  }
  return runConnect(resolved, (giveUp) => open(resolved, caCerts, giveUp));
}

async function open(
  options: ResolvedSocketOptions,
  caCerts: string[] | undefined,
  giveUp: AbortSignal,
): Promise<DenoSocket> {
  const { address } = options;
  let conn: Deno.Conn;
  try {
    if (options.path !== undefined) {
      conn = await Deno.connect({ transport: "unix", path: options.path });
    } else {
      const tcp = await Deno.connect({ hostname: options.host, port: options.port, signal: giveUp });
      tcp.setNoDelay(true);
      tcp.setKeepAlive(true);
      conn = tcp;
    }
  } catch (error) {
    throw new ConnectionFailure(`connect failed: ${describeError(error)}`, { address, cause: error });
  }
  if (!options.tls) return new DenoSocket(conn, address);

  const release = () => {
    try {
      conn.close();
    } catch {
      // Already closed, or consumed by startTls a moment ago.
    }
  };
  if (giveUp.aborted) {
    release();
    throw giveUp.reason;
  }
  giveUp.addEventListener("abort", release, { once: true });
  try {
    const tlsConn = await Deno.startTls(conn as Deno.TcpConn, {
      hostname: options.verifyName,
      caCerts,
      unsafelyDisableHostnameVerification: options.tlsAllowInvalidCertificates,
    });
    conn = tlsConn;
    if (giveUp.aborted) throw giveUp.reason;
    await tlsConn.handshake();
  } catch (error) {
    release();
    if (giveUp.aborted) throw giveUp.reason;
    let message = `TLS handshake failed: ${describeError(error)}`;
    if (options.tlsAllowInvalidCertificates) {
      message += "; note: on Deno tlsAllowInvalidCertificates only skips the host-name check, " +
        "so give the server's CA in tlsCAFile or run Deno with --unsafely-ignore-certificate-errors";
    }
    throw new ConnectionFailure(message, { address, cause: error });
  } finally {
    giveUp.removeEventListener("abort", release);
  }
  return new DenoSocket(conn, address);
}

class DenoSocket implements Socket {
  readonly remoteAddress: string;
  readonly closed: Promise<void>;
  #conn: Deno.Conn;
  #isClosed = false;
  #resolveClosed: () => void = noop;
  #reading = false;
  /** The read posted after the last one was handed out (see read()). */
  #ahead: Promise<Uint8Array | null> | undefined;
  #slab = new Uint8Array(SLAB_SIZE);
  #offset = 0;
  #writeTail: Promise<void> | undefined;

  constructor(conn: Deno.Conn, address: string) {
    this.#conn = conn;
    this.remoteAddress = address;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  read(): Promise<Uint8Array | null> {
    if (this.#reading) {
      return Promise.reject(new MongoError(`${this.remoteAddress}: read() called while another read() is pending`));
    }
    let next = this.#ahead;
    this.#ahead = undefined;
    if (next === undefined) {
      if (this.#isClosed) return Promise.resolve(null);
      next = this.#read();
    }
    this.#reading = true;
    return next.then(
      (chunk) => {
        this.#reading = false;
        if (chunk !== null && !this.#isClosed) {
          // Deno has no close event: keep the next read posted, so that a
          // peer that closes an idle connection closes this socket (and the
          // pool drops it) instead of failing the next command sent on it.
          const ahead = this.#read();
          ahead.catch(noop); // a failure is delivered to the next read()
          this.#ahead = ahead;
        }
        return chunk;
      },
      (error) => {
        this.#reading = false;
        throw error;
      },
    );
  }

  async #read(): Promise<Uint8Array | null> {
    if (SLAB_SIZE - this.#offset < MIN_READ_ROOM) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#offset = 0;
    }
    const slab = this.#slab;
    const start = this.#offset;
    let n: number | null;
    try {
      n = await this.#conn.read(slab.subarray(start));
    } catch (error) {
      if (this.#isClosed) return null;
      this.close();
      throw connectionLost(this.remoteAddress, "read failed", error);
    }
    if (this.#isClosed) return null;
    if (n === null) {
      // MongoDB never half-closes: end of stream means the connection is over.
      this.close();
      return null;
    }
    if (slab === this.#slab) this.#offset = start + n;
    return slab.subarray(start, start + n);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed) return Promise.reject(writeAfterClose(this.remoteAddress));
    const previous = this.#writeTail;
    // Partial writes of concurrent callers must not interleave, so each write
    // starts when the one before it has been fully handed over.
    const run = previous === undefined ? this.#writeAll(bytes) : previous.then(() => this.#writeAll(bytes));
    const tail = run.then(noop, noop);
    this.#writeTail = tail;
    tail.then(() => {
      if (this.#writeTail === tail) this.#writeTail = undefined;
    });
    return run;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed) throw writeAfterClose(this.remoteAddress);
    let offset = 0;
    try {
      while (offset < bytes.byteLength) {
        offset += await this.#conn.write(offset === 0 ? bytes : bytes.subarray(offset));
      }
    } catch (error) {
      if (this.#isClosed) {
        throw new ConnectionFailure("socket closed during write", { address: this.remoteAddress, cause: error });
      }
      this.close();
      throw connectionLost(this.remoteAddress, "write failed", error);
    }
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // The runtime already released it (peer reset).
    }
    this.#resolveClosed();
  }
}
