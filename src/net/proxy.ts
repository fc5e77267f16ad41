/**
 * Connections through a SOCKS5 proxy: a built-in {@linkcode SocketFactory}
 * that the topology installs when `proxyHost` is set. It opens plain TCP to
 * the proxy with the runtime's adapter, runs {@linkcode socks5Handshake} over
 * that {@linkcode Socket}, then starts TLS to the server on the same
 * connection when `tls` is on (`Deno.startTls`, Bun's `upgradeTLS`,
 * `tls.connect({ socket })`; on Deno with a client certificate, Deno's
 * `node:tls`). TCP connect, handshake and TLS all run inside
 * one `connectTimeoutMS` and the `signal`, as a direct connection does.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { Tunnel } from "./_socket_util.ts";
import { formatAddress } from "../address.ts";
import type { Socket, SocketFactory, SocketOptions } from "./socket.ts";
import { detectSocketRuntime, unsupportedRuntime } from "./_runtime.ts";
import type { Socks5Proxy } from "./socks5.ts";

/** The refusal of `proxyHost` with a `socketFactory` (the client says the same at construction). */
const PROXY_AND_FACTORY = "proxyHost and socketFactory both decide how connections are opened: give one " +
  "(a socketFactory that needs the proxy must open its own SOCKS5 connection)";

/** Opens a socket through a tunnel: one of the runtime adapters. */
export type TunnelConnect = (options: SocketOptions, tunnel: Tunnel) => Promise<Socket>;

/**
 * The runtime's own adapter, chosen as `connectSocket()` chooses it, except
 * for a client certificate over TLS on Deno: `Deno.startTls` takes none, so
 * that one connection goes through Deno's `node:tls` (`tls.connect({ socket })`).
 */
async function connectThroughRuntime(options: SocketOptions, tunnel: Tunnel): Promise<Socket> {
  switch (detectSocketRuntime(globalThis)) {
    case "deno": {
      const clientCertificate = options?.tls === true && options.tlsCertificateKeyFile !== undefined;
      return clientCertificate
        ? (await import("./socket_node.ts")).connectNodeSocket(options, tunnel)
        : (await import("./socket_deno.ts")).connectDenoSocket(options, tunnel);
    }
    case "bun":
      return (await import("./socket_bun.ts")).connectBunSocket(options, tunnel);
    case "node":
      return (await import("./socket_node.ts")).connectNodeSocket(options, tunnel);
    case "workers":
      throw new ConfigurationError(
        "proxyHost: a SOCKS5 proxy is not supported on Cloudflare Workers (its sockets reach the server directly)",
      );
    default:
      throw unsupportedRuntime();
  }
}

/**
 * A {@linkcode SocketFactory} that reaches every server through the SOCKS5
 * proxy `proxy`. The returned sockets are named after the server, never the
 * proxy; errors name both.
 *
 * @param proxy The proxy's address and optional credentials.
 * @param connect The adapter to use (default: the runtime's own); tests pin one.
 *
 * @example
 * ```ts ignore
 * import { socks5SocketFactory } from "./proxy.ts";
 *
 * const factory = socks5SocketFactory({ host: "127.0.0.1", port: 1080 });
 * const socket = await factory({ host: "db1.internal", port: 27017, connectTimeoutMS: 5000 });
 * socket.close();
 * ```
 */
export function socks5SocketFactory(proxy: Socks5Proxy, connect: TunnelConnect = connectThroughRuntime): SocketFactory {
  const host = proxy.host.startsWith("[") && proxy.host.endsWith("]") ? proxy.host.slice(1, -1) : proxy.host;
  const tunnelProxy = { ...proxy, host };
  const name = `SOCKS5 proxy ${formatAddress({ host, port: proxy.port })}`;
  return (options) => {
    if (options?.path !== undefined) {
      return Promise.reject(
        new ConfigurationError(`a Unix domain socket (${options.path}) cannot be reached through the ${name}`),
      );
    }
    return connect(options, {
      host,
      port: proxy.port,
      name,
      // The SOCKS5 code is loaded by the first proxied connection only.
      open: async (socket) =>
        (await import("./socks5.ts")).socks5Handshake(socket, { host: options.host, port: options.port }, tunnelProxy),
    });
  };
}

/**
 * The proxy settings of resolved client options.
 *
 * @example
 * ```ts
 * import type { ProxySettings } from "./proxy.ts";
 *
 * const settings: ProxySettings = { proxyHost: "127.0.0.1", proxyPort: 1080 };
 * ```
 */
export interface ProxySettings {
  /** SOCKS5 proxy host; no proxy when absent. */
  proxyHost?: string;
  /** Default 1080. */
  proxyPort?: number;
  /** With `proxyPassword`: RFC 1929 authentication. */
  proxyUsername?: string;
  /** With `proxyUsername`. */
  proxyPassword?: string;
}

/**
 * The built-in factory for `proxyHost`, or `undefined` without one. The
 * client refuses `proxyHost` with a `socketFactory` when it is built (both
 * decide how connections are opened); so does this function.
 *
 * @throws {ConfigurationError} For `proxyHost` with a `socketFactory`.
 *
 * @example
 * ```ts
 * import { proxySocketFactory } from "./proxy.ts";
 *
 * const factory = proxySocketFactory({ proxyHost: "127.0.0.1", proxyPort: 1080 }, undefined);
 * console.log(typeof factory); // "function"
 * ```
 */
export function proxySocketFactory(
  options: ProxySettings,
  socketFactory: SocketFactory | undefined,
): SocketFactory | undefined {
  if (options.proxyHost === undefined) return undefined;
  if (socketFactory !== undefined) throw new ConfigurationError(PROXY_AND_FACTORY);
  return socks5SocketFactory({
    host: options.proxyHost,
    port: options.proxyPort ?? 1080,
    username: options.proxyUsername,
    password: options.proxyPassword,
  });
}
