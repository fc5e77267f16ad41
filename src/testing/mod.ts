/**
 * A simulated MongoDB replica set for tests: N members on loopback ports that
 * speak the wire protocol (OP_MSG and the legacy OP_QUERY family), keep an
 * in-memory store with a useful subset of the query language, replicate with
 * a configurable lag, hold elections when the primary is killed, steps down
 * or is partitioned away, start uninitialized until `replSetInitiate` if
 * asked to, require SCRAM-SHA-256 authentication when given users, inject
 * faults, and log every request they receive. No runtime dependencies; runs
 * on Deno, Bun and Node.
 *
 * @example Fail over under a test
 * ```ts ignore
 * import { startReplicaSet } from "@zerodep/mongo/testing";
 *
 * await using rs = await startReplicaSet({ members: 3, name: "foo", electionDelayMS: 200 });
 * // point a driver at rs.uri ...
 * const old = await rs.waitForPrimary();
 * await rs.kill(old);
 * const next = await rs.waitForPrimary();
 * console.log(old.host !== next.host); // true
 * ```
 *
 * @example A sharded cluster: two mongos routers over a replica-set shard
 * ```ts ignore
 * import { startShardedCluster } from "@zerodep/mongo/testing";
 *
 * await using cluster = await startShardedCluster({ mongoses: 2, shard: { members: 3 } });
 * // point a driver at cluster.uri (every mongos) ...
 * await cluster.kill(0); // the driver goes on through the other mongos
 * ```
 *
 * @example A standalone mongod (no `--replSet`)
 * ```ts ignore
 * import { startStandalone } from "@zerodep/mongo/testing";
 *
 * await using server = await startStandalone({ maxWireVersion: 21 });
 * // mongodb://127.0.0.1:40001/ : hello says isWritablePrimary without setName; retryable writes,
 * // transactions and change streams are refused as a real standalone refuses them.
 * console.log(server.uri);
 * ```
 *
 * @module
 */
export {
  type MemberConfig,
  type MemberRef,
  ReplicaSet,
  type ReplicaSetOptions,
  startReplicaSet,
  type UserConfig,
} from "./replica_set.ts";
export { type MongosRef, ShardedCluster, type ShardedClusterOptions, startShardedCluster } from "./sharded_cluster.ts";
export type { Mongos } from "./mongos.ts";
export { Standalone, type StandaloneOptions, startStandalone } from "./standalone.ts";
export type { FaultOptions, Member, MemberState, RequestLogEntry } from "./member.ts";
export { listen, type Listener, type ListenerConnection, type ListenOptions } from "./listener.ts";
export type { Document } from "../bson/mod.ts";
