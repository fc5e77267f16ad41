/**
 * The unified runner pointed at a real server instead of the simulated set:
 * {@linkcode UnifiedTarget} (given to `runUnifiedArea` as `target`, or from
 * the environment: `UNIFIED_TARGET_URI`, `UNIFIED_TARGET_TOPOLOGY`).
 *
 * A target names the topology its `runOnRequirements` are checked against,
 * and may know its differences from MongoDB: `skipBefore` skips a test that
 * would hit one (e.g. a value the server refuses by dropping the connection),
 * `explainFailure` turns a failure caused by a known difference into a skip
 * with that reason. A failure no rule explains stays a failure.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { Connection, ReplicaSetConnection } from "../../../src/client/mod.ts";
import type { ReplicaSet } from "../../../src/testing/mod.ts";
import process from "node:process";
import type { RunnerEnvironment, TestFile } from "./runner.ts";

/** A deployment outside the process that the runner targets. */
export interface UnifiedTarget {
  /** Its name in the summary line: `crud (ferretdb): files ...`. */
  readonly name: string;
  /** Starts or finds the server; resolves to its URI and how to release it. */
  start(): Promise<{ uri: string; close?: () => Promise<void> }>;
  /** The topology `runOnRequirements` see: "single" (a direct connection) or "replicaset". */
  readonly topology: "single" | "replicaset";
  /** A known difference of the target that this test would hit (it then skips with that reason), or undefined. */
  skipBefore?(file: TestFile, test: Document): string | undefined;
  /** The known difference of the target that explains this failure (the test then skips), or undefined (a failure). */
  explainFailure?(error: unknown, file: TestFile, test: Document): string | undefined;
}

/** The target named by `UNIFIED_TARGET_URI` (topology from `UNIFIED_TARGET_TOPOLOGY`, default from the URI), if any. */
export function targetFromEnvironment(): UnifiedTarget | undefined {
  const uri = process.env.UNIFIED_TARGET_URI;
  if (uri === undefined || uri === "") return undefined;
  const given = process.env.UNIFIED_TARGET_TOPOLOGY;
  const topology = given === "single" || given === "replicaset"
    ? given
    : /[?&]replicaSet=/i.test(uri)
    ? "replicaset"
    : "single";
  return { name: "target", topology, start: () => Promise.resolve({ uri }) };
}

/** A stand-in for the simulated set: any use says the test needs the simulator. */
function noReplicaSet(target: string): ReplicaSet {
  return new Proxy({}, {
    get(_, key) {
      throw new Error(`the runner targets ${target}: the simulated set is not available (${String(key)})`);
    },
  }) as ReplicaSet;
}

/** Connects the runner's internal client to the target; `close` releases both. */
export async function startTargetEnvironment(
  target: UnifiedTarget,
): Promise<RunnerEnvironment & { close(): Promise<void> }> {
  const { uri, close } = await target.start();
  const options = { serverSelectionTimeoutMS: 10_000 };
  // Connection and ReplicaSetConnection share the ClientBase API the runner uses.
  const internal: ReplicaSetConnection = target.topology === "single"
    ? await Connection.connect(uri, options)
    : await ReplicaSetConnection.connect(uri, options);
  const info = await internal.admin.command("buildInfo");
  const primary = () => {
    const p = internal.primary;
    if (p === null) throw new Error(`${target.name} has no primary`);
    return `${p[0]}:${p[1]}`;
  };
  return {
    rs: noReplicaSet(target.name),
    internal,
    deployment: {
      uri: target.topology === "single" ? `mongodb://${primary()}/?directConnection=true` : uri,
      serverVersion: String(info.version),
      primary,
      topology: target.topology,
      name: target.name,
    },
    parameters: new Map(),
    async close() {
      await internal.close();
      await close?.();
    },
  };
}
