/**
 * The resolved option values the net layer takes, for tests and benchmarks
 * that open connections and pools directly: the client's own defaults, read
 * from the one place they live (`resolveClientOptions`), so a test never
 * restates a default. Spread and override: `{ ...POOL_DEFAULTS, maxPoolSize: 1 }`.
 *
 * @module
 */
import { resolveClientOptions } from "../../src/topology/options.ts";

const resolved = resolveClientOptions({});

/** `connectTimeoutMS` and `socketTimeoutMS` as a client without options resolves them. */
export const CONNECTION_DEFAULTS = Object.freeze({
  connectTimeoutMS: resolved.connectTimeoutMS,
  socketTimeoutMS: resolved.socketTimeoutMS,
});

/** {@linkcode CONNECTION_DEFAULTS} and the pool settings, as a client without options resolves them. */
export const POOL_DEFAULTS = Object.freeze({
  ...CONNECTION_DEFAULTS,
  maxPoolSize: resolved.maxPoolSize,
  minPoolSize: resolved.minPoolSize,
  maxConnecting: resolved.maxConnecting,
  maxIdleTimeMS: resolved.maxIdleTimeMS,
  waitQueueTimeoutMS: resolved.waitQueueTimeoutMS,
});
