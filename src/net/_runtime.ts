/**
 * Internal: which JavaScript runtime this is, judged from its globals, so that
 * `connectSocket()` can pick the socket adapter. Not exported from the package.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** The runtimes with a socket adapter, in the order they are tested for. */
export type SocketRuntime = "deno" | "bun" | "workers" | "node";

/** How the supported runtimes are named in messages. */
export const SUPPORTED_RUNTIMES = "Deno 2, Bun, Node.js 22.18 or later, and Cloudflare Workers (cloudflare:sockets)";

/**
 * The runtime whose socket API `globals` offers, or `undefined` when it offers
 * none this driver knows. Deno and Bun also define `process.versions.node`, so
 * they are tested first; Workers are recognised by `navigator.userAgent`,
 * which workerd sets to `Cloudflare-Workers` (also with the `nodejs_compat`
 * flag, which adds a `process` global).
 *
 * @example
 * ```ts ignore
 * import { detectSocketRuntime } from "./_runtime.ts";
 *
 * detectSocketRuntime({ Deno: {} }); // "deno"
 * detectSocketRuntime({ navigator: { userAgent: "Mozilla/5.0" } }); // undefined: a browser page
 * ```
 */
export function detectSocketRuntime(globals: object): SocketRuntime | undefined {
  const g = globals as {
    Deno?: unknown;
    Bun?: unknown;
    navigator?: { userAgent?: unknown };
    process?: { versions?: { node?: unknown } };
  };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workers";
  if (typeof g.process?.versions?.node === "string") return "node";
  return undefined;
}

/** The error for a runtime with no socket API this driver knows (a browser page, for one). */
export function unsupportedRuntime(): ConfigurationError {
  return new ConfigurationError(
    `this JavaScript runtime has no TCP socket API that @zerodep/mongo knows: it connects from ${SUPPORTED_RUNTIMES}. ` +
      "Browsers cannot open TCP connections; reach MongoDB through a server of yours instead.",
  );
}
