/**
 * The unified runner's `sharded` deployment: a simulated sharded cluster
 * (`src/testing/sharded_cluster.ts`: two mongoses over a replica-set shard,
 * so also `sharded-replicaset`). Clients with `useMultipleMongoses: true`
 * get both mongoses in their URI, others only the first; the internal client
 * (initialData, outcome) goes through the first mongos, and the runner kills
 * sessions and turns fail points off on every mongos, through one direct
 * client per mongos.
 */
import { Connection, type ReplicaSetConnection } from "../../../src/client/mod.ts";
import { type ReplicaSetOptions, startShardedCluster } from "../../../src/testing/mod.ts";
import type { RunnerEnvironment } from "./runner.ts";

/** The topologies of `runOnRequirements` a deployment of `topology` satisfies. */
export function topologiesSatisfied(topology: string): readonly string[] {
  return topology === "sharded" ? ["sharded", "sharded-replicaset"] : [topology];
}

/** The number of mongoses of the runner's cluster (the format's tests of pinning need at least two). */
export const MONGOSES = 2;

/** Starts a sharded cluster whose shard has `options` (users: the cluster's), and the runner's clients to it. */
export async function startShardedEnvironment(options: ReplicaSetOptions = {}): Promise<RunnerEnvironment> {
  const { users, scramIterations, ...shard } = options;
  const cluster = await startShardedCluster({
    mongoses: MONGOSES,
    shard: { members: 3, ...shard, ...(scramIterations === undefined ? {} : { scramIterations }) },
    ...(users === undefined ? {} : { users }),
  });
  const routers: ReplicaSetConnection[] = [];
  try {
    const user = users?.[0];
    const userinfo = user === undefined
      ? undefined
      : `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@`;
    const uriOf = (hosts: string[]) => `mongodb://${userinfo ?? ""}${hosts.join(",")}/?directConnection=false`;
    const uri = uriOf(cluster.hosts);
    const singleUri = uriOf([cluster.hosts[0]]);
    // Connection and ReplicaSetConnection share the ClientBase API the runner uses.
    const internal: ReplicaSetConnection = await Connection.connect(singleUri, { serverSelectionTimeoutMS: 10_000 });
    routers.push(internal);
    for (const host of cluster.hosts.slice(1)) {
      routers.push(await Connection.connect(uriOf([host]), { serverSelectionTimeoutMS: 10_000 }));
    }
    const info = await internal.admin.command("buildInfo");
    return {
      // Closing the deployment closes the mongoses' clients, the mongoses and the shard.
      rs: {
        close: async () => {
          for (const r of routers) await r.close();
          await cluster.close();
        },
      },
      internal,
      routers,
      deployment: {
        uri,
        singleUri,
        serverVersion: String(info.version),
        ...(userinfo === undefined ? {} : { userinfo }),
        // A client asking for directConnection talks to one mongos.
        primary: () => cluster.hosts[0],
        topology: "sharded",
      },
      parameters: new Map(),
    };
  } catch (e) {
    for (const r of routers) await r.close().catch(() => {});
    await cluster.close();
    throw e;
  }
}
