/**
 * Connections through a SOCKS5 proxy: a built-in {@linkcode SocketFactory}
 * that the topology installs when `proxyHost` is set. It opens plain TCP to
 * the proxy with the runtime's adapter, runs {@linkcode socks5Handshake} over
 * that {@linkcode Socket}, then starts TLS to the server on the same
 * connection when `tls` is on (`Deno.startTls`, Bun's `upgradeTLS`,
 * `tls.connect({ socket })`). TCP connect, handshake and TLS all run inside
 * one `connectTimeoutMS` and the `signal`, as a direct connection does.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { formatAddress, type Tunnel } from "./_socket_util.ts";
import { checkProxyOptions, type ProxySettings } from "./proxy_options.ts";
import type { Socket, SocketFactory, SocketOptions } from "./socket.ts";
import { connectBunSocket } from "./socket_bun.ts";
import { connectDenoSocket } from "./socket_deno.ts";
import { connectNodeSocket } from "./socket_node.ts";
import { socks5Handshake, type Socks5Proxy } from "./socks5.ts";

/** Opens a socket through a tunnel: one of the runtime adapters. */
export type TunnelConnect = (options: SocketOptions, tunnel: Tunnel) => Promise<Socket>;

/** The runtime's own adapter, chosen as `connectSocket()` chooses it. */
function connectThroughRuntime(options: SocketOptions, tunnel: Tunnel): Promise<Socket> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return connectDenoSocket(options, tunnel);
  if (g.Bun !== undefined) return connectBunSocket(options, tunnel);
  return connectNodeSocket(options, tunnel);
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
  const name = `SOCKS5 proxy ${formatAddress(host, proxy.port)}`;
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
      open: (socket) => socks5Handshake(socket, { host: options.host, port: options.port }, tunnelProxy),
    });
  };
}

/**
 * The built-in factory for `proxyHost`, or `undefined` without one. Checks
 * the combination first ({@linkcode checkProxyOptions}).
 *
 * @throws {ConfigurationError} For settings that cannot go together.
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
  checkProxyOptions(options, socketFactory);
  if (options.proxyHost === undefined) return undefined;
  return socks5SocketFactory({
    host: options.proxyHost,
    port: options.proxyPort ?? 1080,
    username: options.proxyUsername,
    password: options.proxyPassword,
  });
}
