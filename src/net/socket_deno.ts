/**
 * The Deno adapter: `Deno.connect` (TCP or Unix), upgraded with
 * `Deno.startTls` so that the TLS handshake runs inside `connectTimeoutMS`.
 *
 * Gaps: Deno 2 has no per-connection way to skip certificate-chain validation.
 * `tlsAllowInvalidCertificates` maps to `unsafelyDisableHostnameVerification`
 * (host-name check off, chain still checked), as `tlsAllowInvalidHostnames`
 * does; a self-signed or privately issued certificate needs its CA in
 * `tlsCAFile`, or the process-wide `--unsafely-ignore-certificate-errors` flag.
 * A client certificate goes through `Deno.connectTls` (`Deno.startTls` takes
 * none), so this adapter refuses one through a proxy (the SOCKS5 path then
 * picks Deno's `node:tls` instead). Deno parses unencrypted PEM keys only, so
 * an encrypted PKCS#8 key is decrypted in memory with WebCrypto first
 * (PBES2/PBKDF2/AES-CBC; other schemes are a `ConfigurationError` saying how
 * to convert the key).
 *
 * @module
 */

import { ConnectionFailure, MongoError } from "../errors.ts";
import {
  type ClientKey,
  clientKeyRejected,
  connectionLost,
  describeError,
  readTlsFiles,
  type ResolvedSocketOptions,
  resolveSocketOptions,
  runConnect,
  type TlsFiles,
  type Tunnel,
  unsupportedOnRuntime,
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
 * on Deno; call it directly only to pin the adapter (tests do). With `tunnel`,
 * the TCP connection goes to the proxy, the tunnel's handshake runs over it,
 * and TLS (when on) starts on the same connection.
 *
 * @example
 * ```ts ignore
 * import { connectDenoSocket } from "./socket_deno.ts";
 *
 * const socket = await connectDenoSocket({ host: "127.0.0.1", port: 27017 });
 * socket.close();
 * ```
 */
export async function connectDenoSocket(options: SocketOptions, tunnel?: Tunnel): Promise<Socket> {
  const resolved = resolveSocketOptions(options);
  if (resolved.tls && resolved.tlsCertificateKeyFile !== undefined) {
    if (tunnel !== undefined) {
      throw unsupportedOnRuntime(
        "Deno",
        "a client certificate (tlsCertificateKeyFile) through a proxy",
        "Deno.startTls, which starts TLS on the proxied connection, takes no client certificate",
      );
    }
    if (options.servername !== undefined && options.servername !== resolved.host) {
      throw unsupportedOnRuntime(
        "Deno",
        "a client certificate (tlsCertificateKeyFile) with a servername other than the host",
        "Deno.connectTls checks the certificate against the host it connects to",
      );
    }
  }
  // Deno's TLS reads unencrypted keys only: an encrypted one is decrypted here, in memory.
  const read = await readTlsFiles(resolved, (path) => Deno.readTextFile(path));
  // The PKCS#8 decryption code is loaded for an encrypted key only.
  const files = read.clientKey?.encrypted === true
    ? await (await import("./_pkcs8.ts")).withDecryptedKey(resolved, read)
    : read;
  return runConnect(resolved, (giveUp) => open(resolved, files, tunnel, giveUp));
}

async function open(
  options: ResolvedSocketOptions,
  files: TlsFiles,
  tunnel: Tunnel | undefined,
  giveUp: AbortSignal,
): Promise<DenoSocket> {
  const { address } = options;
  if (options.tls && files.clientKey !== undefined) return await openWithClientKey(options, files, giveUp);
  let conn: Deno.Conn;
  try {
    if (options.path !== undefined) {
      conn = await Deno.connect({ transport: "unix", path: options.path });
    } else {
      const hostname = tunnel?.host ?? options.host;
      const tcp = await Deno.connect({ hostname, port: tunnel?.port ?? options.port, signal: giveUp });
      tcp.setNoDelay(true);
      tcp.setKeepAlive(true);
      conn = tcp;
    }
  } catch (error) {
    const to = tunnel === undefined ? "" : ` to ${tunnel.name}`;
    throw new ConnectionFailure(`connect${to} failed: ${describeError(error)}`, { address, cause: error });
  }
  if (tunnel !== undefined) {
    // No read-ahead until the tunnel is up: startTls needs the connection unused.
    const plain = new DenoSocket(conn, address, false);
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
    if (!options.tls) {
      plain.readAhead();
      return plain;
    }
    conn = plain.detach();
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
      caCerts: files.ca === undefined ? undefined : [files.ca],
      unsafelyDisableHostnameVerification: options.tlsAllowInvalidHostnames,
    });
    conn = tlsConn;
    if (giveUp.aborted) throw giveUp.reason;
    await tlsConn.handshake();
  } catch (error) {
    release();
    if (giveUp.aborted) throw giveUp.reason;
    throw handshakeFailure(options, error);
  } finally {
    giveUp.removeEventListener("abort", release);
  }
  return new DenoSocket(conn, address);
}

/**
 * `Deno.startTls` takes no client certificate; `Deno.connectTls` does, so a
 * connection with one is opened with it (its TCP connect cannot be cancelled:
 * a connection that arrives after the attempt was given up is closed).
 */
async function openWithClientKey(options: ResolvedSocketOptions, files: TlsFiles, giveUp: AbortSignal): Promise<DenoSocket> {
  const { address } = options;
  const clientKey = files.clientKey as ClientKey;
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.connectTls({
      hostname: options.host,
      port: options.port,
      caCerts: files.ca === undefined ? undefined : [files.ca],
      cert: clientKey.cert,
      key: clientKey.key,
      unsafelyDisableHostnameVerification: options.tlsAllowInvalidHostnames,
    });
  } catch (error) {
    // The TCP connect and the key's parsing happen here; the handshake comes later.
    if (error instanceof Error && error.name === "InvalidData") throw clientKeyRejected(options, error);
    throw new ConnectionFailure(`connect failed: ${describeError(error)}`, { address, cause: error });
  }
  const release = () => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  if (giveUp.aborted) {
    release();
    throw giveUp.reason;
  }
  giveUp.addEventListener("abort", release, { once: true });
  try {
    await conn.handshake();
  } catch (error) {
    release();
    if (giveUp.aborted) throw giveUp.reason;
    throw handshakeFailure(options, error);
  } finally {
    giveUp.removeEventListener("abort", release);
  }
  return new DenoSocket(conn, address);
}

function handshakeFailure(options: ResolvedSocketOptions, error: unknown): ConnectionFailure {
  let message = `TLS handshake failed: ${describeError(error)}`;
  if (options.tlsAllowInvalidCertificates) {
    message += "; note: on Deno tlsAllowInvalidCertificates only skips the host-name check, " +
      "so give the server's CA in tlsCAFile or run Deno with --unsafely-ignore-certificate-errors";
  }
  return new ConnectionFailure(message, { address: options.address, cause: error });
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
  #readAhead: boolean;

  constructor(conn: Deno.Conn, address: string, readAhead = true) {
    this.#conn = conn;
    this.remoteAddress = address;
    this.#readAhead = readAhead;
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
        if (chunk !== null && !this.#isClosed && this.#readAhead) {
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

  /** Starts keeping a read posted (see read()); a socket made without it is a tunnel's plain leg. */
  readAhead(): void {
    this.#readAhead = true;
  }

  /**
   * Hands the connection over for `Deno.startTls`: this socket ends (as if
   * closed) without closing the connection. Needs no read pending.
   */
  detach(): Deno.Conn {
    if (this.#isClosed || this.#reading || this.#ahead !== undefined || this.#writeTail !== undefined) {
      throw new MongoError(`${this.remoteAddress}: the connection is in use and cannot start TLS`);
    }
    this.#isClosed = true;
    this.#resolveClosed();
    return this.#conn;
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
