/**
 * The network layer: runtime socket adapters, one {@linkcode Connection}
 * (handshake, commands over OP_MSG or OP_QUERY, timeouts, cancellation) and a
 * {@linkcode ConnectionPool} per server. It takes resolved option values: the
 * client's option resolution (`resolveClientOptions`) is where defaults live.
 *
 * Network errors from a connection are `ConnectionFailure` (`NetworkTimeout`
 * for timeouts) or, for bytes that make no sense, `WireProtocolError`; each
 * carries `address`, `when` (`"beforeHandshakeCompletes"` or
 * `"afterHandshakeCompletes"`) and `generation`, which is what SDAM's
 * error handling needs. The client layer hands them to SDAM's
 * `handleApplicationError` as `{address, when, generation, maxWireVersion,
 * type: NetworkTimeout ? "timeout" : "network"}` (an `OperationFailure` as
 * `type: "command"` with its `response`), clears the pool when told to, and
 * then throws `AutoReconnect` with the original error as `cause`.
 *
 * @example
 * ```ts ignore
 * import { ConnectionPool } from "./mod.ts";
 *
 * await using pool = new ConnectionPool({ host: "127.0.0.1", port: 27017 }, {
 *   connectTimeoutMS: 10_000,
 *   socketTimeoutMS: 0,
 *   maxPoolSize: 100,
 *   minPoolSize: 0,
 *   maxConnecting: 2,
 *   maxIdleTimeMS: 0,
 *   waitQueueTimeoutMS: 0,
 *   appName: "demo",
 * });
 * const reply = await pool.withConnection((conn) => conn.command("admin", { ping: 1 }));
 * console.log(reply.ok); // 1
 * ```
 *
 * @module
 */
export { connectSocket, type Socket, type SocketFactory, type SocketOptions } from "./socket.ts";
export { proxySocketFactory } from "./proxy.ts";
export {
  type CommandOptions,
  Connection,
  type ConnectionOptions,
  type QueryOptions,
  type ReadNextOptions,
  type RoundTripOptions,
  type ServerAddress,
  type ServerApi,
  type ServerLimits,
} from "./connection.ts";
export { type CheckOutOptions, ConnectionPool, type ConnectionPoolOptions } from "./pool.ts";
export {
  type CheckOutFailedReason,
  type CommandEventBase,
  type CommandFailedInit,
  type CommandStartedInit,
  type CommandSucceededInit,
  type ConnectionClosedReason,
  type EventSink,
  isSensitiveCommand,
  type NetEventInitMap,
} from "./monitoring.ts";
export type { Credential, ScramMechanism } from "./auth.ts";
export { clientMetadata, type ClientMetadataOptions, DRIVER_NAME, DRIVER_VERSION } from "./client_metadata.ts";
