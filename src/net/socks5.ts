/**
 * The client side of a SOCKS5 handshake (RFC 1928 `CONNECT`, with RFC 1929
 * username/password authentication), spoken over an open {@linkcode Socket}
 * to the proxy. The destination goes to the proxy as given: a host name as a
 * domain-name address, so that the proxy resolves it (the SOCKS5 support
 * specification forbids resolving it here); IP literals as IP addresses.
 *
 * Every failure is a `ConnectionFailure` naming the proxy and the server; the
 * SOCKS5 specification has drivers treat it as any network error. Time limits
 * are the caller's: race the handshake against a timer and close the socket.
 *
 * @module
 */

import { ConfigurationError, ConnectionFailure } from "../errors.ts";
import { describeError } from "./_socket_util.ts";
import { formatAddress } from "../address.ts";
import type { Socket } from "./socket.ts";

/**
 * Where the proxy listens and how to log in to it.
 *
 * @example
 * ```ts
 * import type { Socks5Proxy } from "./socks5.ts";
 *
 * const proxy: Socks5Proxy = { host: "127.0.0.1", port: 1080, username: "app", password: "secret" };
 * ```
 */
export interface Socks5Proxy {
  /** Proxy host name or IP literal. */
  host: string;
  /** Proxy port (the option's default is 1080). */
  port: number;
  /** RFC 1929 user name (1 to 255 bytes of UTF-8); with `password`. An empty string means none. */
  username?: string;
  /** RFC 1929 password (1 to 255 bytes of UTF-8); with `username`. */
  password?: string;
}

const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const NO_AUTH = 0x00;
const USER_PASS = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 section 6: the REP field of a reply. */
const REPLIES: Readonly<Record<number, string>> = {
  0x01: "general SOCKS server failure",
  0x02: "connection not allowed by ruleset",
  0x03: "network unreachable",
  0x04: "host unreachable",
  0x05: "connection refused",
  0x06: "TTL expired",
  0x07: "command not supported",
  0x08: "address type not supported",
};

const encoder = new TextEncoder();

/**
 * Runs the SOCKS5 handshake on `socket` (a plain connection to the proxy) so
 * that it then carries the byte stream of `target`. Offers "no
 * authentication", plus "username/password" when `proxy` has both. Reads
 * exactly the proxy's replies: bytes past them (the server never speaks first)
 * are a protocol error.
 *
 * @param socket An open connection to the proxy; closed on failure.
 * @param target The destination, as the driver would have connected to it.
 * @param proxy The proxy's address (for messages) and credentials.
 * @throws {ConnectionFailure} The proxy refused, failed authentication, or broke the protocol.
 * @throws {ConfigurationError} A host name or credential too long for SOCKS5 (255 bytes).
 *
 * @example
 * ```ts ignore
 * import { connectSocket } from "./socket.ts";
 * import { socks5Handshake } from "./socks5.ts";
 *
 * const socket = await connectSocket({ host: "127.0.0.1", port: 1080 });
 * await socks5Handshake(socket, { host: "db1.internal", port: 27017 }, { host: "127.0.0.1", port: 1080 });
 * // socket now talks to db1.internal:27017
 * ```
 */
export async function socks5Handshake(
  socket: Socket,
  target: { host: string; port: number },
  proxy: Socks5Proxy,
): Promise<void> {
  const host = target.host.startsWith("[") && target.host.endsWith("]") ? target.host.slice(1, -1) : target.host;
  const to = formatAddress({ host, port: target.port });
  const where = `SOCKS5 proxy ${formatAddress({ host: proxy.host, port: proxy.port })}`;
  const fail = (message: string, cause?: unknown) =>
    new ConnectionFailure(`${where}: ${message} (connecting to ${to})`, { address: to, cause });
  const credentials = proxy.username !== undefined && proxy.username !== "" && proxy.password !== undefined &&
      proxy.password !== ""
    ? { username: field("proxyUsername", proxy.username), password: field("proxyPassword", proxy.password) }
    : undefined;
  const request = connectRequest(host, target.port);
  const reader = new ReplyReader(socket, fail);
  try {
    await socket.write(new Uint8Array(credentials ? [VERSION, 2, NO_AUTH, USER_PASS] : [VERSION, 1, NO_AUTH]));
    const [version, method] = await reader.take(2);
    if (version !== VERSION) {
      throw fail(`the proxy answered with version byte ${version}, not 5: is it a SOCKS5 proxy?`);
    }
    if (method === NO_ACCEPTABLE) {
      throw fail(
        credentials
          ? "the proxy accepts neither no authentication nor username/password"
          : "the proxy requires authentication: set proxyUsername and proxyPassword",
      );
    }
    if (method === USER_PASS && credentials) {
      const { username, password } = credentials;
      await socket.write(
        new Uint8Array([AUTH_VERSION, username.length, ...username, password.length, ...password]),
      );
      const [authVersion, status] = await reader.take(2);
      if (authVersion !== AUTH_VERSION) {
        throw fail(`the proxy answered the username/password request with version byte ${authVersion}, not 1`);
      }
      if (status !== 0) {
        throw fail(`the proxy rejected proxyUsername/proxyPassword (status ${status}): check them`);
      }
    } else if (method !== NO_AUTH) {
      throw fail(`the proxy chose authentication method ${method}, which was not offered`);
    }

    await socket.write(request);
    const [replyVersion, rep, , atyp] = await reader.take(4);
    if (replyVersion !== VERSION) {
      throw fail(`the proxy answered the CONNECT request with version byte ${replyVersion}, not 5`);
    }
    if (rep !== 0) {
      const reason = REPLIES[rep] ?? "unassigned reply code";
      throw fail(`the proxy could not connect: ${reason} (reply ${rep})`);
    }
    // The bound address and port, which this driver has no use for.
    if (atyp === ATYP_IPV4) await reader.take(4 + 2);
    else if (atyp === ATYP_IPV6) await reader.take(16 + 2);
    else if (atyp === ATYP_DOMAIN) await reader.take((await reader.take(1))[0] + 2);
    else throw fail(`the proxy's reply has an unknown address type ${atyp}`);
    reader.end();
  } catch (error) {
    socket.close();
    if (error instanceof ConnectionFailure && !error.message.startsWith(where)) {
      // A read or write of the socket failed: say it was the proxy's connection.
      throw fail(`the connection to the proxy broke: ${describeError(error)}`, error);
    }
    throw error;
  }
}

/** A value of at most 255 bytes of UTF-8, as RFC 1929 and a domain-name address need. */
function field(name: string, value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length > 255) {
    throw new ConfigurationError(`${name} is ${bytes.length} bytes of UTF-8; SOCKS5 allows at most 255`);
  }
  return bytes;
}

function connectRequest(host: string, port: number): Uint8Array {
  let address: number[];
  const ipv4 = parseIPv4(host);
  const ipv6 = ipv4 === undefined && host.includes(":") ? parseIPv6(host) : undefined;
  if (ipv4 !== undefined) {
    address = [ATYP_IPV4, ...ipv4];
  } else if (ipv6 !== undefined) {
    address = [ATYP_IPV6, ...ipv6];
  } else {
    const name = field("the host name", host);
    if (name.length === 0) throw new ConfigurationError("the host name is empty");
    address = [ATYP_DOMAIN, name.length, ...name];
  }
  return new Uint8Array([VERSION, CMD_CONNECT, 0x00, ...address, port >> 8, port & 0xff]);
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** The 16 bytes of an IPv6 literal (`::` and a trailing dotted IPv4 allowed; no zone), or `undefined`. */
function parseIPv6(text: string): number[] | undefined {
  let groups = text.split(":");
  const last = groups[groups.length - 1];
  const tail: number[] = [];
  if (last.includes(".")) {
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    groups = groups.slice(0, -1);
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
  }
  const gap = text.indexOf("::");
  let words: number[];
  const parse = (list: string[]) => list.map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  if (gap >= 0) {
    if (text.indexOf("::", gap + 1) >= 0) return undefined;
    const joined = groups.join(":");
    const [left, right] = joined.split("::");
    const head = left === "" ? [] : parse(left.split(":"));
    const rest = right === "" ? [] : parse(right.split(":"));
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return undefined;
    words = [...head, ...new Array(fill).fill(0), ...rest, ...tail];
  } else {
    words = [...parse(groups), ...tail];
  }
  if (words.length !== 8 || words.some((w) => Number.isNaN(w))) return undefined;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Reads exact byte counts from a socket that delivers chunks of any size. */
class ReplyReader {
  #socket: Socket;
  #fail: (message: string) => ConnectionFailure;
  #buffer = new Uint8Array(0);

  constructor(socket: Socket, fail: (message: string) => ConnectionFailure) {
    this.#socket = socket;
    this.#fail = fail;
  }

  async take(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) {
      const chunk = await this.#socket.read();
      if (chunk === null) {
        throw this.#fail(
          this.#buffer.length === 0
            ? "the proxy closed the connection instead of replying"
            : "the proxy closed the connection in the middle of its reply",
        );
      }
      const joined = new Uint8Array(this.#buffer.length + chunk.length);
      joined.set(this.#buffer);
      joined.set(chunk, this.#buffer.length);
      this.#buffer = joined;
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** The handshake is over: nothing may follow the last reply. */
  end(): void {
    if (this.#buffer.length > 0) {
      throw this.#fail(`the proxy sent ${this.#buffer.length} bytes past its reply`);
    }
  }
}
