/**
 * `runOnRequirements` of the unified test format, against the simulated
 * replica set: a replica set (topology "replicaset") of its configured server
 * version, without authentication, CSFLE or serverless.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { plain, TestFileError } from "./entities.ts";
import { isDocument, match } from "./matcher.ts";
import type { RunnerEnvironment } from "./runner.ts";
import { compareVersions } from "./server_versions.ts";
import { topologiesSatisfied } from "./sharded.ts";


/**
 * Why a `runOnRequirements` list is not met here, or undefined when one of
 * its requirements is. The simulated set is a replica set of its configured
 * version, without authentication, CSFLE or serverless.
 */
export async function unmetRequirements(
  list: unknown,
  env: RunnerEnvironment,
): Promise<string | undefined> {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) {
    throw new TestFileError("runOnRequirements must be an array");
  }
  const reasons: string[] = [];
  for (const req of list) {
    const why = await unmet(req, env);
    if (why === undefined) return undefined;
    reasons.push(why);
  }
  return `runOnRequirements not met: ${reasons.join("; or ")}`;
}

async function unmet(
  req: unknown,
  env: RunnerEnvironment,
): Promise<string | undefined> {
  if (!isDocument(req)) {
    throw new TestFileError("a runOnRequirement must be a document");
  }
  const version = env.deployment.serverVersion;
  for (const [k, v] of Object.entries(req)) {
    switch (k) {
      case "minServerVersion":
        if (compareVersions(version, v as string) < 0) {
          return `server ${version} < minServerVersion ${v}`;
        }
        break;
      case "maxServerVersion":
        if (compareVersions(version, v as string) > 0) {
          return `server ${version} > maxServerVersion ${v}`;
        }
        break;
      case "topologies": {
        const topology = env.deployment.topology ?? "replicaset";
        if (!topologiesSatisfied(topology).some((t) => (v as string[]).includes(t))) {
          return `topologies ${(v as string[]).join(", ")} not applicable to ${
            topology === "replicaset"
              ? "a replica set"
              : `${env.deployment.name ?? `the simulated ${topology === "single" ? "standalone" : topology === "sharded" ? "sharded cluster" : "deployment"}`} (${topology})`
          }`;
        }
        break;
      }
      case "serverless":
        if (v === "require") {
          return "serverless: not applicable to the simulated replica set";
        }
        break;
      case "auth":
        if (v === true && env.deployment.userinfo === undefined) {
          return "auth: the simulated set runs without authentication";
        }
        if (v === false && env.deployment.userinfo !== undefined) {
          return "auth: false, but this area's simulated set requires authentication";
        }
        break;
      case "authMechanism":
        return `authMechanism ${v}: the simulated set runs without authentication`;
      case "csfle":
        if (v !== false) {
          return "csfle: the driver lacks client-side encryption";
        }
        break;
      case "serverParameters": {
        for (const [p, want] of Object.entries(v as Document)) {
          let have = env.parameters.get(p);
          if (!env.parameters.has(p)) {
            try {
              have = (await env.internal.admin.command({ getParameter: 1, [p]: 1 }))[
                p
              ];
            } catch {
              have = undefined;
            }
            env.parameters.set(p, have);
          }
          try {
            match(want, have, { root: false });
          } catch {
            return `serverParameters ${p}: the server has ${JSON.stringify(plain(have)) ?? "no such parameter"}`;
          }
        }
        break;
      }
      default:
        throw new TestFileError(`unknown runOnRequirement field ${k}`);
    }
  }
  return undefined;
}
