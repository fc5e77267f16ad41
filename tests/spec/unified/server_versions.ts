/**
 * One simulated deployment per topology and server version: a test whose
 * `runOnRequirements` the default set (a MongoDB 7.0 replica set) does not
 * meet runs on a deployment that meets them: of a topology the area offers
 * (the replica set first, then the area's `topologies` in order, e.g. a
 * standalone for "single") and of a version taken from
 * {@linkcode SERVER_VERSIONS} (with the area's `serverVersions`; else 7.0
 * only), started the first time a test of the folder needs it. The simulator
 * gates what the CRUD tests depend on by wire version
 * (`src/testing/server_features.ts`), so such a deployment answers as that
 * version would.
 *
 * Only the static requirements decide (server version, topology, serverless,
 * auth, CSFLE); `serverParameters` is checked later by `unmetRequirements` on
 * the set chosen.
 */
import { isDocument } from "./matcher.ts";
import type { RunnerEnvironment } from "./runner.ts";
import { topologiesSatisfied } from "./sharded.ts";

/** The versions a folder may run on, the default first, then newer, then older ones; with their maxWireVersion. */
export const SERVER_VERSIONS: readonly {
  readonly version: string;
  readonly wire: number;
}[] = [
  { version: "7.0.0", wire: 21 },
  { version: "8.0.0", wire: 25 },
  { version: "8.2.0", wire: 27 },
  { version: "6.0.0", wire: 17 },
  { version: "5.0.0", wire: 13 },
  { version: "4.4.0", wire: 9 },
  { version: "4.2.0", wire: 8 },
];

/** Compares version strings numerically, component by component. */
export function compareVersions(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The topologies of `runOnRequirements` (the unified format's names). The
 * runner's default deployment is a "replicaset"; an area may offer others.
 */
export type TopologyName = "single" | "replicaset" | "sharded" | "sharded-replicaset" | "load-balanced";

/** Whether one requirement can hold on a deployment of `topology` and `version` (its static fields only). */
function possibleOn(req: unknown, version: string, auth: boolean, topology: TopologyName): boolean {
  if (!isDocument(req)) return false;
  if (
    typeof req.minServerVersion === "string" &&
    compareVersions(version, req.minServerVersion) < 0
  ) return false;
  if (
    typeof req.maxServerVersion === "string" &&
    compareVersions(version, req.maxServerVersion) > 0
  ) return false;
  const listed = req.topologies;
  if (Array.isArray(listed) && !topologiesSatisfied(topology).some((t) => listed.includes(t))) {
    return false;
  }
  if (
    req.serverless === "require" || (req.auth === true && !auth) ||
    req.authMechanism !== undefined
  ) return false;
  if (req.csfle !== undefined && req.csfle !== false) return false;
  return true;
}

function listPossibleOn(list: unknown, version: string, auth: boolean, topology: TopologyName): boolean {
  return !Array.isArray(list) || list.some((r) => possibleOn(r, version, auth, topology));
}

/**
 * The maxWireVersion of the first version of {@linkcode SERVER_VERSIONS}
 * where both the file's and the test's requirements can hold on a deployment
 * of `topology` (default a replica set), or undefined when none can.
 */
export function wireVersionFor(
  fileRequirements: unknown,
  testRequirements: unknown,
  auth = false,
  topology: TopologyName = "replicaset",
): number | undefined {
  for (const { version, wire } of SERVER_VERSIONS) {
    if (
      listPossibleOn(fileRequirements, version, auth, topology) &&
      listPossibleOn(testRequirements, version, auth, topology)
    ) return wire;
  }
  return undefined;
}

/** Which alternative deployments an area offers besides its default replica set. */
export interface AlternativeDeployments {
  /** Other server versions ({@linkcode SERVER_VERSIONS}), for every topology offered (default false). */
  readonly versions?: boolean;
  /** Other topologies, tried in this order after the replica set (default none). */
  readonly topologies?: readonly TopologyName[];
}

/** The environments of one folder, one per topology and wire version, each started once when first needed. */
export class VersionedEnvironments {
  readonly #start: (wire: number, topology: TopologyName) => Promise<RunnerEnvironment>;
  readonly #default: () => RunnerEnvironment;
  readonly #started = new Map<string, Promise<RunnerEnvironment>>();
  readonly #auth: boolean;
  readonly #alternatives: AlternativeDeployments;

  /**
   * `start` starts a deployment of the given maxWireVersion and topology; `defaultEnv` is the folder's 7.0
   * replica set, already started; `auth`: the deployments require authentication (the area's users), so
   * `auth: true` requirements can hold; `alternatives`: the other deployments the area offers (default:
   * other versions of the replica set, as before topologies were a parameter).
   */
  constructor(
    start: (wire: number, topology: TopologyName) => Promise<RunnerEnvironment>,
    defaultEnv: () => RunnerEnvironment,
    auth = false,
    alternatives: AlternativeDeployments = { versions: true },
  ) {
    this.#start = start;
    this.#default = defaultEnv;
    this.#auth = auth;
    this.#alternatives = alternatives;
  }

  /** The environment a test runs in: the default one unless its requirements need another topology or version. */
  async for(
    fileRequirements: unknown,
    testRequirements: unknown,
  ): Promise<RunnerEnvironment> {
    // The default set by the version it reports (buildInfo), the others by the list's.
    const def = this.#default();
    const version = def.deployment.serverVersion;
    const auth = this.#auth;
    const possible = (v: string, t: TopologyName) =>
      listPossibleOn(fileRequirements, v, auth, t) && listPossibleOn(testRequirements, v, auth, t);
    if (possible(version, "replicaset")) return def;
    const versions = this.#alternatives.versions === true ? SERVER_VERSIONS : SERVER_VERSIONS.slice(0, 1);
    for (const topology of ["replicaset" as const, ...(this.#alternatives.topologies ?? [])]) {
      for (const { version: v, wire } of versions) {
        if (!possible(v, topology)) continue;
        if (topology === "replicaset" && wire === SERVER_VERSIONS[0].wire) return def;
        const key = `${topology}@${wire}`;
        let env = this.#started.get(key);
        if (env === undefined) {
          env = this.#start(wire, topology);
          this.#started.set(key, env);
        }
        return await env;
      }
    }
    // Nothing offered meets them: the default set reports why.
    return def;
  }

  /** Closes every environment but the default one (the caller closes that). */
  async close(): Promise<void> {
    for (const env of this.#started.values()) {
      const e = await env.catch(() => undefined);
      await e?.internal.close();
      await e?.rs.close();
    }
  }
}
