/**
 * One simulated set per server version: a test whose `runOnRequirements`
 * the default set (MongoDB 7.0) does not meet runs on a set of a version
 * that meets them, taken from {@linkcode SERVER_VERSIONS} and started the
 * first time a test of the folder needs it. The simulator gates what the
 * CRUD tests depend on by wire version (`src/testing/server_features.ts`),
 * so such a set answers as that version would.
 *
 * Only the static requirements decide (server version, topology, serverless,
 * auth, CSFLE); `serverParameters` is checked later by `unmetRequirements` on
 * the set chosen.
 */
import { isDocument } from "./matcher.ts";
import type { RunnerEnvironment } from "./runner.ts";

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

/** Whether one requirement can hold on a replica set of `version` (its static fields only). */
function possibleOn(req: unknown, version: string, auth: boolean): boolean {
  if (!isDocument(req)) return false;
  if (
    typeof req.minServerVersion === "string" &&
    compareVersions(version, req.minServerVersion) < 0
  ) return false;
  if (
    typeof req.maxServerVersion === "string" &&
    compareVersions(version, req.maxServerVersion) > 0
  ) return false;
  if (Array.isArray(req.topologies) && !req.topologies.includes("replicaset")) {
    return false;
  }
  if (
    req.serverless === "require" || (req.auth === true && !auth) ||
    req.authMechanism !== undefined
  ) return false;
  if (req.csfle !== undefined && req.csfle !== false) return false;
  return true;
}

function listPossibleOn(list: unknown, version: string, auth: boolean): boolean {
  return !Array.isArray(list) || list.some((r) => possibleOn(r, version, auth));
}

/**
 * The maxWireVersion of the first version of {@linkcode SERVER_VERSIONS}
 * where both the file's and the test's requirements can hold, or undefined
 * when none can (the default set then reports why).
 */
export function wireVersionFor(
  fileRequirements: unknown,
  testRequirements: unknown,
  auth = false,
): number | undefined {
  for (const { version, wire } of SERVER_VERSIONS) {
    if (
      listPossibleOn(fileRequirements, version, auth) &&
      listPossibleOn(testRequirements, version, auth)
    ) return wire;
  }
  return undefined;
}

/** The environments of one folder, one per wire version, each started once when first needed. */
export class VersionedEnvironments {
  readonly #start: (wire: number) => Promise<RunnerEnvironment>;
  readonly #default: () => RunnerEnvironment;
  readonly #started = new Map<number, Promise<RunnerEnvironment>>();
  readonly #auth: boolean;

  /**
   * `start` starts a set of the given maxWireVersion; `defaultEnv` is the folder's 7.0 set, already started;
   * `auth`: the sets require authentication (the area's users), so `auth: true` requirements can hold.
   */
  constructor(
    start: (wire: number) => Promise<RunnerEnvironment>,
    defaultEnv: () => RunnerEnvironment,
    auth = false,
  ) {
    this.#start = start;
    this.#default = defaultEnv;
    this.#auth = auth;
  }

  /** The environment a test runs in: the default one unless its requirements need another version. */
  async for(
    fileRequirements: unknown,
    testRequirements: unknown,
  ): Promise<RunnerEnvironment> {
    // The default set by the version it reports (buildInfo), the others by the list's.
    const def = this.#default();
    const version = def.deployment.serverVersion;
    const auth = this.#auth;
    if (listPossibleOn(fileRequirements, version, auth) && listPossibleOn(testRequirements, version, auth)) return def;
    const wire = wireVersionFor(fileRequirements, testRequirements, auth) ?? SERVER_VERSIONS[0].wire;
    if (wire === SERVER_VERSIONS[0].wire) return def;
    let env = this.#started.get(wire);
    if (env === undefined) {
      env = this.#start(wire);
      this.#started.set(wire, env);
    }
    return await env;
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
