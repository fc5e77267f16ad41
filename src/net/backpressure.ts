/**
 * The connection pool's backpressure error labels (connection monitoring and
 * pooling specification, "Backpressure-enabled"): a network error or timeout
 * while a connection is being established, up to and including its `hello`,
 * may only mean the server is overloaded, so it carries the labels
 * `SystemOverloadedError` and `RetryableError`; SDAM then leaves the server's
 * description and pool alone. Errors overload cannot cause get no label: a
 * failure while authenticating (after `hello`), a name that does not resolve,
 * a refused connection (nothing listens there).
 *
 * @module
 */
import { ConnectionFailure } from "../errors.ts";

/** The labels a connection-establishment network error gets. */
export const BACKPRESSURE_LABELS: readonly string[] = [
  "SystemOverloadedError",
  "RetryableError",
];

/**
 * Whether `error`, from establishing a connection, may come from an
 * overloaded server: a network error or timeout before the handshake
 * completed, outside authentication, other than a failed name lookup or a
 * refused connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NetworkTimeout } from "../errors.ts";
 * import { isOverloadSymptom } from "./backpressure.ts";
 *
 * const e = new NetworkTimeout("no handshake reply within 250 ms", { address: "db1:27017" });
 * assert.equal(isOverloadSymptom(e), true);
 * ```
 */
export function isOverloadSymptom(error: unknown): boolean {
  if (!(error instanceof ConnectionFailure)) return false;
  if (
    (error.when ?? "beforeHandshakeCompletes") !== "beforeHandshakeCompletes"
  ) return false;
  if (error.duringAuthentication) return false;
  for (
    let e: unknown = error, depth = 0;
    e instanceof Error && depth < 4;
    e = e.cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (
      code === "ECONNREFUSED" || code === "ENOTFOUND" ||
      e.name === "ConnectionRefused"
    ) return false;
    if (
      /failed to lookup address information|getaddrinfo ENOTFOUND/.test(
        e.message,
      )
    ) return false;
  }
  return true;
}

/**
 * Adds the backpressure labels to a connection-establishment error that may
 * come from an overloaded server ({@linkcode isOverloadSymptom}); returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionFailure } from "../errors.ts";
 * import { labelOverload } from "./backpressure.ts";
 *
 * const e = labelOverload(new ConnectionFailure("connection reset during hello", { address: "db1:27017" }));
 * assert.equal(e.hasErrorLabel("SystemOverloadedError"), true);
 * ```
 */
export function labelOverload<E>(error: E): E {
  if (isOverloadSymptom(error)) {
    for (const label of BACKPRESSURE_LABELS) {
      (error as ConnectionFailure).addErrorLabel(label);
    }
  }
  return error;
}
