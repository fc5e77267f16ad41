/**
 * `@zerodep/mongo`: a zero-dependency MongoDB replica-set driver for Deno and Bun,
 * in the spirit of PyMongo 2.1's `ReplicaSetConnection`: connect with seeds,
 * discover the whole set, route reads by read preference, and survive failover
 * with `AutoReconnect`.
 *
 * Also here: the BSON codec (published alone as `@zerodep/mongo/bson`),
 * `ReadPreference` and every error class. The spec machinery under the client
 * (connection strings and options, SDAM descriptions, server selection, the
 * live `Topology`) is `@zerodep/mongo/topology`; the simulated replica set for
 * tests is `@zerodep/mongo/testing`.
 *
 * Importing this module loads the client's classes, the codec and option
 * parsing only; the network stack (monitors, pools, sockets) is loaded by a
 * client's first `connect()` or operation.
 *
 * @example Connect to a replica set and read from a secondary
 * ```ts ignore
 * import { ReadPreference, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using conn = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * console.log(String(conn)); // ReplicaSetConnection(['localhost:27017', 'localhost:27018', 'localhost:27019'])
 * const people = conn.db("test").collection("people");
 * await people.insertOne({ name: "Ada" });
 * const doc = await people.findOne({ name: "Ada" }, { readPreference: ReadPreference.SECONDARY });
 * ```
 *
 * @example Encode and decode a document
 * ```ts
 * import assert from "node:assert/strict";
 * import { decode, encode } from "@zerodep/mongo";
 *
 * const bytes = encode({ hello: "world" });
 * assert.deepEqual(decode(bytes), { hello: "world" });
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/bson/mod.ts";
export * from "./src/client/mod.ts";
// Monitoring events (command, CMAP, SDAM), dispatched on the client: `conn.addEventListener(type, ...)`.
export type { ClientEventMap } from "./src/client/monitoring.ts";
export * from "./src/client/command_events.ts";
export * from "./src/client/pool_events.ts";
export * from "./src/client/sdam_events.ts";
export type { HeartbeatConnectionIds } from "./src/topology/sdam_events.ts";
// SDAM log messages (the topology component), made from those events: `logTopology(conn, { severity, write })`.
export {
  type LogSeverity,
  logTopology,
  type TopologyLoggerOptions,
  type TopologyLogMessage,
} from "./src/client/logging.ts";
export type { CheckOutFailedReason, ConnectionClosedReason } from "./src/net/monitoring.ts";
export {
  type HedgeOptions,
  type LegacyReadPreferenceName,
  ReadPreference,
  type ReadPreferenceDocument,
  type ReadPreferenceLike,
  type ReadPreferenceMode,
  type ReadPreferenceOptions,
  type TagSet,
} from "./src/topology/read_preference.ts";
// Types the client's API mentions; the functions behind them are in
// `@zerodep/mongo/topology`. Type-only: nothing of that module is loaded here.
export type {
  ClientOptions,
  ConnectionString,
  HostAddress,
  HostType,
  ResolvedClientOptions,
  Seeds,
  ServerDescription,
  ServerType,
  Socket,
  SocketFactory,
  SocketOptions,
  TopologyDescription,
  TopologyType,
  TopologyVersion,
} from "./src/topology/mod.ts";
