/**
 * Which transport settings go together, checked when a client is built (this
 * module loads none of the network code): `proxyHost` and a `socketFactory`
 * are exclusive, and Deno cannot send a client certificate through a proxy.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { SocketFactory } from "./socket.ts";

/**
 * The proxy and TLS settings of resolved client options.
 *
 * @example
 * ```ts
 * import type { ProxySettings } from "./proxy_options.ts";
 *
 * const settings: ProxySettings = { proxyHost: "127.0.0.1", proxyPort: 1080, tls: false };
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
  /** TLS to the server, on top of the proxied connection. */
  tls?: boolean;
  /** A client certificate for the server. */
  tlsCertificateKeyFile?: string;
}

/**
 * Refuses what no proxied connection could do: `proxyHost` with a
 * `socketFactory` (both decide how connections are opened: a factory that
 * needs the proxy opens its own), and on Deno a client certificate through the
 * proxy (`Deno.startTls`, which starts TLS on the proxied connection, takes no
 * client certificate).
 *
 * @throws {ConfigurationError} For those combinations.
 *
 * @example
 * ```ts
 * import { checkProxyOptions } from "./proxy_options.ts";
 *
 * checkProxyOptions({ proxyHost: "127.0.0.1" }, undefined); // fine
 * try {
 *   checkProxyOptions({ proxyHost: "127.0.0.1" }, () => Promise.reject(new Error("unused")));
 * } catch (error) {
 *   console.log((error as Error).name); // "ConfigurationError"
 * }
 * ```
 */
export function checkProxyOptions(options: ProxySettings, socketFactory: SocketFactory | undefined): void {
  if (options.proxyHost === undefined) return;
  if (socketFactory !== undefined) {
    throw new ConfigurationError(
      "proxyHost and socketFactory both decide how connections are opened: give one " +
        "(a socketFactory that needs the proxy must open its own SOCKS5 connection)",
    );
  }
  if (
    options.tls === true && options.tlsCertificateKeyFile !== undefined &&
    (globalThis as { Deno?: unknown }).Deno !== undefined
  ) {
    throw new ConfigurationError(
      "a client certificate (tlsCertificateKeyFile) through a proxy (proxyHost) is not supported on Deno: " +
        "Deno.startTls, which starts TLS on the proxied connection, takes no client certificate",
    );
  }
}
