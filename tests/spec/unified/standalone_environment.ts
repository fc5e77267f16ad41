/**
 * The unified runner's "single" deployment: a simulated standalone mongod
 * (`src/testing/standalone.ts`) and the runner's internal client, for the
 * tests whose `runOnRequirements` name the topology "single"
 * (`server_versions.ts` picks it; the area lists "single" in `topologies`).
 *
 * Clients reach it as drivers' CI reaches a standalone: by its one host,
 * discovering it (the SDAM specification's default for one seed without a
 * replica set name: the topology turns Single when the server answers as a
 * standalone); `directConnection: true` in a test's uriOptions connects
 * directly instead.
 */
import { Connection, type ReplicaSetConnection } from "../../../src/client/mod.ts";
import { type ReplicaSetOptions, startStandalone } from "../../../src/testing/mod.ts";
import type { RunnerEnvironment } from "./runner.ts";

/** Starts a standalone with the area's users, compressors and wire version, and the internal client. */
export async function startStandaloneEnvironment(options: ReplicaSetOptions = {}): Promise<RunnerEnvironment> {
  const server = await startStandalone({
    maxWireVersion: options.maxWireVersion,
    hostname: options.hostname,
    users: options.users,
    scramIterations: options.scramIterations,
    compressors: options.compressors,
  });
  try {
    const user = options.users?.[0];
    const userinfo = user === undefined
      ? undefined
      : `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@`;
    const base = `mongodb://${userinfo ?? ""}${server.host}/`;
    // Connection and ReplicaSetConnection share the ClientBase API the runner uses (as in target.ts).
    const internal = await Connection.connect(base, { serverSelectionTimeoutMS: 10_000 }) as unknown as
      ReplicaSetConnection;
    const info = await internal.admin.command("buildInfo");
    return {
      rs: server,
      internal,
      deployment: {
        // One seed, no replica set name: discovery, which finds a Single topology.
        uri: `${base}?directConnection=false`,
        serverVersion: String(info.version),
        ...(userinfo === undefined ? {} : { userinfo }),
        primary: () => server.host,
        topology: "single",
      },
      parameters: new Map(),
    };
  } catch (e) {
    await server.close();
    throw e;
  }
}
