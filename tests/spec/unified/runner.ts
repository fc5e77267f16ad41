/**
 * The unified test format runner (`specs/unified-test-format/unified-test-format.md`)
 * against the simulated replica set (`src/testing`).
 *
 * {@linkcode runUnifiedArea} registers one `node:test` suite per folder of
 * test files: one simulated set and one internal client per folder, one test
 * per test case, and a last test that prints the folder's one summary line
 * `<area>: files F, tests T, passed P, failed X, skipped S` and asserts that
 * the folder held files and that none failed. A skipped test prints its reason.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";

import { type Document, EJSON } from "../../../src/bson/mod.ts";
import { ReplicaSetConnection } from "../../../src/client/mod.ts";
import { type ReplicaSet, type ReplicaSetOptions, startReplicaSet } from "../../../src/testing/mod.ts";
import { createEntities, type Deployment, EntityMap, SkipTest, TestFileError, validateEntities } from "./entities.ts";
import { isDocument, MatcherUsageError } from "./matcher.ts";
import { type FailPointRecord, type OperationResult, runOperation, validateOperation } from "./operations.ts";
import { simulatorGap } from "./simulator_gaps.ts";
import { unmetRequirements } from "./requirements.ts";
import { checkError, checkOutcome, checkResult, matchContext } from "./expectations.ts";
import { checkLogMessages } from "./log_messages.ts";
import { checkExpectedEvents } from "./events.ts";
import { type TopologyName, VersionedEnvironments } from "./server_versions.ts";
import { startStandaloneEnvironment } from "./standalone_environment.ts";
import { startShardedEnvironment } from "./sharded.ts";
import { startTargetEnvironment, targetFromEnvironment, type UnifiedTarget } from "./target.ts";

/** The newest schema version this runner implements; files of a newer minor or another major are refused. */
export const SCHEMA_VERSION: readonly [number, number] = [1, 28];

/** One parsed test file. */
export interface TestFile {
  readonly name: string;
  readonly doc: Record<string, unknown>;
}

/** How one test ended. */
export type TestOutcome = { status: "passed" } | {
  status: "skipped";
  reason: string;
} | { status: "failed"; error: unknown };

/** The environment a folder's tests share. */
export interface RunnerEnvironment {
  /** The simulated deployment (a replica set, or another topology's; see DEPLOYMENTS), closed with the folder. */
  readonly rs: Pick<ReplicaSet, "close">;
  readonly internal: ReplicaSetConnection;
  readonly deployment: Deployment;
  /** Cached `getParameter` answers for `serverParameters` requirements. */
  readonly parameters: Map<string, unknown>;
  /** On a sharded deployment: one client per mongos (the first is `internal`), to kill sessions and turn fail points off on each. */
  readonly routers?: readonly ReplicaSetConnection[];
}

/** Parses a file as the format says: Extended JSON, numbers keeping their BSON types. */
export function parseTestFile(path: string, name: string): TestFile {
  const doc = EJSON.parse(readFileSync(path, "utf8"), { relaxed: false });
  if (!isDocument(doc)) {
    throw new TestFileError(`${name} is not a JSON document`);
  }
  return { name, doc };
}

/** Refuses a file this runner cannot interpret (another major, or a newer minor, schema version). */
export function checkSchemaVersion(file: TestFile): void {
  const v = file.doc.schemaVersion;
  if (typeof v !== "string" || !/^\d+(\.\d+){0,2}$/.test(v)) {
    throw new TestFileError(
      `${file.name}: schemaVersion must be a version string, got ${JSON.stringify(v)}`,
    );
  }
  const [major, minor = 0] = v.split(".").map(Number);
  if (major !== SCHEMA_VERSION[0] || minor > SCHEMA_VERSION[1]) {
    throw new TestFileError(
      `${file.name}: schemaVersion ${v} is not supported (this runner implements ${SCHEMA_VERSION.join(".")})`,
    );
  }
}

/**
 * Static checks of a file's header: schema version, tests list, entity
 * definitions. Returns the entities `createEntities` defines (id to type).
 */
export function validateFile(file: TestFile): Map<string, string> {
  checkSchemaVersion(file);
  const d = file.doc;
  if (!Array.isArray(d.tests)) {
    throw new TestFileError(`${file.name}: tests must be an array`);
  }
  const known = new Map<string, string>();
  if (d.createEntities !== undefined) validateEntities(d.createEntities, known);
  return known;
}

/** Static checks of one test: its operations' names and required arguments, the entities it creates. */
export function validateTest(test: unknown, known: Map<string, string>): void {
  if (!isDocument(test) || !Array.isArray(test.operations)) {
    throw new TestFileError("a test needs operations");
  }
  const inTest = new Map(known);
  for (const op of test.operations) {
    if (!isDocument(op)) {
      throw new TestFileError("an operation must be a document");
    }
    validateOperation(op);
    if (op.name === "createEntities" && op.object === "testRunner") {
      validateEntities((op.arguments as Document).entities, inTest);
    }
  }
}

/** Drops and refills the collections of `initialData` through the internal client. */
async function loadInitialData(
  data: unknown,
  env: RunnerEnvironment,
): Promise<void> {
  if (data === undefined) return;
  if (!Array.isArray(data)) {
    throw new TestFileError("initialData must be an array");
  }
  for (const c of data) {
    if (
      !isDocument(c) || typeof c.collectionName !== "string" ||
      typeof c.databaseName !== "string"
    ) {
      throw new TestFileError(
        "each initialData entry needs collectionName and databaseName",
      );
    }
    const db = env.internal.db(c.databaseName, {
      writeConcern: { w: "majority" },
    });
    await db.collection(c.collectionName).drop();
    const docs = (c.documents ?? []) as Document[];
    if (c.createOptions !== undefined || docs.length === 0) {
      await db.command({
        create: c.collectionName,
        ...(c.createOptions as Document ?? {}),
        writeConcern: { w: "majority" },
      });
    }
    if (docs.length > 0) await db.collection(c.collectionName).insertMany(docs);
  }
}

/** Runs one test of a validated file. */
export async function runTest(
  file: TestFile,
  test: Document,
  env: RunnerEnvironment,
): Promise<TestOutcome> {
  const entities = new EntityMap();
  const failPoints: FailPointRecord[] = [];
  try {
    const unmetFile = await unmetRequirements(file.doc.runOnRequirements, env);
    if (unmetFile !== undefined) {
      return { status: "skipped", reason: unmetFile };
    }
    const unmetTest = await unmetRequirements(test.runOnRequirements, env);
    if (unmetTest !== undefined) {
      return { status: "skipped", reason: unmetTest };
    }
    if (typeof test.skipReason === "string") {
      return { status: "skipped", reason: `skipReason: ${test.skipReason}` };
    }

    // The format: end transactions a failed test may have left open (they hold locks: WriteConflict).
    for (const c of env.routers ?? [env.internal]) await c.admin.command({ killAllSessions: [] }).catch(() => {});
    await loadInitialData(file.doc.initialData, env).catch((e) => {
      const gap = env.deployment.name === undefined ? simulatorGap(e) : undefined; // a target explains its own
      throw gap === undefined ? e : new SkipTest(`${gap} (initialData)`);
    });
    await createEntities(
      (file.doc.createEntities ?? []) as unknown[],
      entities,
      env.deployment,
    );
    const ctx = matchContext(entities);
    const opCtx = {
      entities,
      internal: env.internal,
      failPoints,
      createEntities: (list: unknown) => createEntities(list as unknown[], entities, env.deployment),
      deployment: env.deployment,
    };
    for (const op of test.operations as Document[]) {
      let result: OperationResult | undefined;
      let error: unknown;
      try {
        result = await runOperation(op, opCtx);
      } catch (e) {
        if (
          e instanceof SkipTest || e instanceof TestFileError ||
          e instanceof MatcherUsageError
        ) throw e;
        error = e;
      }
      const where = `operation ${op.name} on ${op.object}`;
      if (op.ignoreResultAndError === true) continue;
      if (op.expectError !== undefined) {
        if (error === undefined) {
          assert.fail(
            `${where}: expected an error, got ${EJSON.stringify(result?.value ?? null)}`,
          );
        }
        checkError(op.expectError as Document, error, ctx);
        continue;
      }
      if (error !== undefined) {
        const gap = env.deployment.name === undefined ? simulatorGap(error) : undefined;
        if (gap !== undefined) throw new SkipTest(gap);
        throw error;
      }
      if (op.expectResult !== undefined) {
        checkResult(op.expectResult, result!, ctx);
      }
      if (typeof op.saveResultAsEntity === "string") {
        entities.set(
          op.saveResultAsEntity,
          result!.iterable === undefined && isCursor(result!.value) ? "cursor" : "value",
          result!.value,
        );
      }
    }
    await checkOutcome(test.outcome, env);
    await checkExpectedEvents(test.expectEvents, (id) => entities.get(id, "client").events, ctx);
    const gap = checkLogMessages(test.expectLogMessages, (id) => entities.get(id, "client").logs, ctx);
    if (gap !== undefined) return { status: "skipped", reason: gap };
    return { status: "passed" };
  } catch (e) {
    if (e instanceof SkipTest) return { status: "skipped", reason: e.reason };
    return { status: "failed", error: e };
  } finally {
    await entities.close();
    for (const fp of failPoints) {
      for (const c of env.routers ?? [env.internal]) {
        await c.admin.command({ configureFailPoint: fp.name, mode: "off" }).catch(() => {});
      }
    }
  }
}

function isCursor(v: unknown): boolean {
  return v !== null && typeof v === "object" &&
    typeof (v as { next?: unknown }).next === "function" &&
    typeof (v as { close?: unknown }).close === "function";
}

/** Starts the simulated set and the internal client a folder's tests share. */
export async function startEnvironment(
  options: ReplicaSetOptions = {},
): Promise<RunnerEnvironment> {
  const rs = await startReplicaSet({ members: 3, ...options });
  // With `users`, the set requires authentication: every client (the runner's too) logs in as the first user.
  const user = options.users?.[0];
  const userinfo = user === undefined
    ? undefined
    : `${encodeURIComponent(user.user)}:${encodeURIComponent(user.password)}@`;
  const uri = userinfo === undefined ? rs.uri : rs.uri.replace("mongodb://", `mongodb://${userinfo}`);
  const internal = await ReplicaSetConnection.connect(uri, {
    serverSelectionTimeoutMS: 10_000,
  });
  const info = await internal.admin.command("buildInfo");
  return {
    rs,
    internal,
    deployment: {
      uri,
      serverVersion: String(info.version),
      ...(userinfo === undefined ? {} : { userinfo }),
      primary: () => {
        const p = internal.primary;
        if (p === null) throw new Error("the simulated set has no primary");
        return `${p[0]}:${p[1]}`;
      },
    },
    parameters: new Map(),
  };
}

/** How the runner starts each topology it can simulate: the default replica set, and the areas' `topologies`. */
const DEPLOYMENTS: Partial<Record<TopologyName, (options: ReplicaSetOptions) => Promise<RunnerEnvironment>>> = {
  replicaset: startEnvironment,
  single: startStandaloneEnvironment,
  sharded: startShardedEnvironment,
};

function startDeployment(topology: TopologyName, options: ReplicaSetOptions): Promise<RunnerEnvironment> {
  const start = DEPLOYMENTS[topology];
  if (start === undefined) throw new Error(`the simulator has no ${topology} deployment`);
  return start(options);
}

/** One folder of an area: its path, and whether its files must pass (or be rejected, for `valid-fail`). */
export interface AreaFolder {
  readonly path: string;
  readonly expect: "pass" | "fail";
}

/** Options of {@linkcode runUnifiedArea}. */
export interface UnifiedAreaOptions {
  /** The area as named upstream: the summary line's label (`crud`, `unified-test-format`). */
  readonly area: string;
  /** The environment variable naming the folder (`CRUD_SPEC_DIR`). */
  readonly envVar: string;
  /** The folder's default: the copy under `tests/spec/`. */
  readonly defaultDir: string;
  /** Subfolders and their expectation (default: the folder itself, files must pass). */
  readonly subfolders?: readonly {
    readonly name: string;
    readonly expect: "pass" | "fail";
  }[];
  /**
   * Tests skipped for a known bug, by `"<file>: <test description>"`; each
   * reason starts with "known driver bug: ", "known simulator bug: " or
   * "known test-file bug: " (an upstream file that fails against mongod too).
   * Keep it short and reported.
   */
  readonly knownBugs?: Readonly<Record<string, string>>;
  /** Options of the simulated set. */
  readonly replicaSet?: ReplicaSetOptions;
  /**
   * Run a test whose runOnRequirements the default set does not meet on a
   * set of a version that meets them (`server_versions.ts`), started when
   * first needed (default false: every test on the one set).
   */
  readonly serverVersions?: boolean;
  /**
   * Run a test whose runOnRequirements no replica set meets on a deployment
   * of one of these topologies (tried in order; "single": a simulated
   * standalone, "sharded": a simulated sharded cluster, `sharded.ts`) that meets them, started when first needed; of another
   * version too with `serverVersions` (default none: replica sets only).
   */
  readonly topologies?: readonly TopologyName[];
  /** Run against this server instead of the simulated set (default: `UNIFIED_TARGET_URI`, if set); see target.ts. */
  readonly target?: UnifiedTarget;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
}

/**
 * Registers the suite of one area: every `*.json` of its folder (or
 * subfolders), one test per test case, and the summary test.
 */
export function runUnifiedArea(options: UnifiedAreaOptions): void {
  const target = options.target ?? targetFromEnvironment();
  const area = target === undefined ? options.area : `${options.area} (${target.name})`;
  const root = resolve(process.env[options.envVar] || options.defaultDir);
  const folders: AreaFolder[] = (options.subfolders ?? [{ name: ".", expect: "pass" as const }]).map((
    s,
  ) => ({
    path: join(root, s.name),
    expect: s.expect,
  }));
  const tally = { files: 0, tests: 0, passed: 0, failed: 0, skipped: 0 };
  const reasons = new Map<string, number>();
  const usedBugs = new Set<string>();
  for (const r of Object.values(options.knownBugs ?? {})) {
    if (!/^known (driver|simulator|test-file) bug: ./.test(r)) {
      throw new Error(
        `a known-bug reason must start with "known driver bug: ", "known simulator bug: " or "known test-file bug: ": ${r}`,
      );
    }
  }

  describe(`${area} unified spec tests (${root})`, () => {
    let env: RunnerEnvironment | undefined;
    const versioned = new VersionedEnvironments(
      (wire, topology) => startDeployment(topology, { ...options.replicaSet, maxWireVersion: wire }),
      () => env!,
      (options.replicaSet?.users?.length ?? 0) > 0,
      { versions: options.serverVersions === true, topologies: options.topologies },
    );
    let closeTarget: (() => Promise<void>) | undefined;
    before(async () => {
      if (target === undefined) {
        env = await startEnvironment(options.replicaSet);
      } else {
        const t = await startTargetEnvironment(target);
        env = t;
        closeTarget = () => t.close();
      }
    });
    after(async () => {
      await versioned.close();
      if (closeTarget !== undefined) return await closeTarget();
      await env?.internal.close();
      await env?.rs.close();
    });

    for (const folder of folders) {
      for (const fileName of listFiles(folder.path)) {
        tally.files++;
        const label = folder.expect === "fail" ? `valid-fail/${fileName}` : fileName;
        let file: TestFile | undefined;
        let fileError: unknown;
        let known = new Map<string, string>();
        try {
          file = parseTestFile(join(folder.path, fileName), fileName);
          known = validateFile(file);
        } catch (e) {
          fileError = e;
        }
        const tests = Array.isArray(file?.doc.tests) ? (file!.doc.tests as Document[]) : [{ description: "(file)" }];
        const results: TestOutcome[] = [];
        for (const t of tests) {
          tally.tests++;
          const key = `${fileName}: ${String(t.description)}`;
          const bug = options.knownBugs?.[key];
          test(`${label}: ${String(t.description)}`, async (ctx) => {
            let outcome: TestOutcome;
            if (bug !== undefined) {
              usedBugs.add(key);
              outcome = { status: "skipped", reason: bug };
            } else if (fileError !== undefined) {
              outcome = { status: "failed", error: fileError };
            } else {
              try {
                validateTest(t, known);
                const gap = target?.skipBefore?.(file!, t);
                if (gap !== undefined) {
                  outcome = { status: "skipped", reason: gap };
                } else {
                  // Against a target there is one server, of its own version.
                  const alternatives = options.serverVersions === true || options.topologies !== undefined;
                  const testEnv = alternatives && target === undefined
                    ? await versioned.for(file!.doc.runOnRequirements, t.runOnRequirements)
                    : env!;
                  outcome = await runTest(file!, t, testEnv);
                }
              } catch (e) {
                outcome = { status: "failed", error: e };
              }
              if (outcome.status === "failed" && target?.explainFailure !== undefined) {
                const gap = target.explainFailure(outcome.error, file!, t);
                if (gap !== undefined) outcome = { status: "skipped", reason: gap };
              }
            }
            results.push(outcome);
            if (folder.expect === "fail") {
              // A valid-fail test passes when the runner rejects it.
              if (outcome.status === "failed") {
                if (process.env.UNIFIED_VERBOSE === "1") {
                  console.log(
                    `${area}: rejected ${label}: ${String(t.description)}: ${String(outcome.error)}`,
                  );
                }
                outcome = { status: "passed" };
              } else if (outcome.status === "passed") {
                outcome = {
                  status: "failed",
                  error: new Error(
                    "the runner accepted a test that must be rejected",
                  ),
                };
              }
            }
            if (outcome.status === "skipped") {
              tally.skipped++;
              reasons.set(
                outcome.reason,
                (reasons.get(outcome.reason) ?? 0) + 1,
              );
              console.log(
                `${area}: skipped ${label}: ${String(t.description)}: ${outcome.reason}`,
              );
              ctx.skip(outcome.reason);
              return;
            }
            if (outcome.status === "failed") {
              tally.failed++;
              throw outcome.error;
            }
            tally.passed++;
          });
        }
        if (folder.expect === "fail") {
          test(`${label}: the file is rejected`, () => {
            assert.ok(
              results.some((r) => r.status === "failed"),
              `${label}: no test of the file was rejected`,
            );
            assert.ok(
              !results.some((r) => r.status === "passed"),
              `${label}: a test of the file ran through`,
            );
          });
        }
      }
    }

    test(`${area}: the folder holds test files, and none failed`, () => {
      console.log(
        `${area}: files ${tally.files}, tests ${tally.tests}, passed ${tally.passed}, failed ${tally.failed}, skipped ${tally.skipped}`,
      );
      if (process.env.UNIFIED_VERBOSE === "1") {
        for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) {
          console.log(`  ${n}\t${r}`);
        }
      }
      for (const f of folders) {
        assert.ok(
          listFiles(f.path).length > 0,
          `no *.json test file in ${f.path} (check ${options.envVar})`,
        );
      }
      assert.equal(
        tally.passed + tally.failed + tally.skipped,
        tally.tests,
        "every test ran or was skipped",
      );
      assert.equal(tally.failed, 0, `${area}: failed tests`);
      const unused = Object.keys(options.knownBugs ?? {}).filter((k) => !usedBugs.has(k));
      assert.deepEqual(
        unused,
        [],
        "known-bug entries that match no test (remove them)",
      );
    });
  });
}
