/**
 * Server addresses, for every layer: the one type, the one parser of the
 * `host[:port]` / `[ipv6][:port]` / socket-path text that topology keys and
 * error messages use, and the one formatter back to that text.
 *
 * (A connection string's host list keeps its own spec-defined parse result,
 * `HostAddress`, with the host's kind and an optional port; it becomes a
 * server address through {@linkcode parseAddress} once normalised.)
 *
 * @module
 */
import { ConfigurationError } from "./errors.ts";
import { describeValue } from "./describe.ts";

/** The port a host without one is reached on. */
export const DEFAULT_PORT = 27017;

/**
 * Where a server listens: a TCP host and port (an IPv6 literal without
 * brackets), or a Unix domain socket path.
 *
 * @example
 * ```ts
 * import type { ServerAddress } from "./address.ts";
 *
 * const tcp: ServerAddress = { host: "db1.example.com", port: 27017 };
 * const v6: ServerAddress = { host: "::1", port: 27018 };
 * const unix: ServerAddress = { path: "/tmp/mongodb-27017.sock" };
 * ```
 */
export type ServerAddress = { host: string; port: number } | { path: string };

/**
 * Whether `text` names a Unix domain socket (an absolute path, or one ending
 * in `.sock`) rather than a host.
 *
 * @example
 * ```ts
 * import { isSocketPath } from "./address.ts";
 *
 * console.log(isSocketPath("/tmp/mongodb-27017.sock"), isSocketPath("db1:27017")); // true false
 * ```
 */
export function isSocketPath(text: string): boolean {
  return text.startsWith("/") || text.endsWith(".sock");
}

/**
 * Parses `host`, `host:port`, `[ipv6]`, `[ipv6]:port` or a socket path. The
 * host is lowercased, an IPv6 literal loses its brackets, and a missing port
 * is 27017.
 *
 * @throws {ConfigurationError} naming the address and what is wrong with it:
 * an empty host, a bad port, an IPv6 address without brackets.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 *
 * console.log(parseAddress("DB1.Example.com")); // { host: "db1.example.com", port: 27017 }
 * console.log(parseAddress("[::1]:27018")); // { host: "::1", port: 27018 }
 * console.log(parseAddress("/tmp/mongodb-27017.sock")); // { path: "/tmp/mongodb-27017.sock" }
 * ```
 */
export function parseAddress(text: string): ServerAddress {
  if (typeof text !== "string" || text.length === 0) {
    throw new ConfigurationError(`a server address must be a non-empty string, got ${describeValue(text)}`);
  }
  if (isSocketPath(text)) return { path: text };
  let host: string;
  let port: string | null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new ConfigurationError(`IPv6 address "${text}" is missing its closing "]"`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === "") port = null;
    else if (rest.startsWith(":")) port = rest.slice(1);
    else throw new ConfigurationError(`unexpected "${rest}" after IPv6 address in "${text}"`);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0 && text.indexOf(":") !== colon) {
      throw new ConfigurationError(`IPv6 address "${text}" must be written in brackets, e.g. "[::1]:27017"`);
    }
    host = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? null : text.slice(colon + 1);
  }
  if (host === "") throw new ConfigurationError(`server address "${text}" has an empty host`);
  let portNumber = DEFAULT_PORT;
  if (port !== null) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new ConfigurationError(`server address "${text}" has an invalid port "${port}" (1-65535 expected)`);
    }
    portNumber = Number(port);
  }
  return { host: host.toLowerCase(), port: portNumber };
}

/**
 * The text form of an address: `host:port`, `[ipv6]:port`, or the socket path.
 * `formatAddress(parseAddress(s))` is the normalised form of `s`.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 *
 * console.log(formatAddress({ host: "::1", port: 27017 })); // [::1]:27017
 * console.log(formatAddress({ path: "/tmp/m.sock" })); // /tmp/m.sock
 * ```
 */
export function formatAddress(address: ServerAddress): string {
  if ("path" in address) return address.path;
  const { host, port } = address;
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}
