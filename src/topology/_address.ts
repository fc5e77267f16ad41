/**
 * Turns a topology key ("host:port", "[v6]:port", or a socket path) into the
 * `{host, port}` / `{path}` form the net layer connects to.
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import type { ServerAddress } from "../net/mod.ts";

/** Splits a normalised server address (see `normalizeAddress`) for `Connection.connect`. */
export function serverAddressOf(address: string): ServerAddress {
  if (address.startsWith("/") || address.endsWith(".sock")) return { path: address };
  const colon = address.lastIndexOf(":");
  if (colon <= 0) throw new ConfigurationError(`server address "${address}" has no port`);
  let host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`server address "${address}" has an invalid port`);
  }
  // The socket adapters take IPv6 literals without brackets.
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, port };
}
