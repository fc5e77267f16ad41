/**
 * One rule for every interop test whose peer (PyMongo, MockupDB, a Python
 * script) may be missing: on a developer's machine the test is skipped, counted
 * as skipped, and prints why; under `CI=true` a missing peer is a failure.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { test, type TestContext } from "node:test";

/**
 * The interpreter the interop scripts run with: /usr/bin/python3 (Debian's
 * python3-pymongo and python3-mockupdb), or ZERODEP_PYTHON, e.g. a wrapper
 * running `python3 -S` to see how the suite behaves without the modules.
 */
export const PYTHON: string = process.env.ZERODEP_PYTHON ?? "/usr/bin/python3";

/** True when missing peers must fail the run (`CI=true`, as `.ci/run` and CI services set). */
export const peersRequired: boolean = process.env.CI === "true";

const importable = new Map<string, string | undefined>();

/**
 * Why {@link PYTHON} cannot import every one of `modules` (undefined when it
 * can). Each set of modules is probed once per process.
 */
export function pythonMissing(modules: readonly string[]): string | undefined {
  const key = modules.join(",");
  if (importable.has(key)) return importable.get(key);
  let reason: string | undefined;
  if (!existsSync(PYTHON)) {
    reason = `${PYTHON} not found`;
  } else {
    const probe = spawnSync(PYTHON, ["-c", `import ${key}`], { encoding: "utf8" });
    if (probe.status !== 0) {
      const last = String(probe.stderr ?? probe.error ?? "").trim().split("\n").pop();
      reason = `${PYTHON} cannot import ${modules.join(" and ")}: ${last}`;
    }
  }
  importable.set(key, reason);
  return reason;
}

/**
 * The `skip` option for the tests that need a peer, decided before they run.
 * Peer present: false. Missing: the reason, printed; and under `CI=true` a
 * failing test named after the peer is registered too, so the run fails.
 */
export function peerSkip(peer: string, missing: string | undefined): string | false {
  if (missing === undefined) return false;
  const reason = `${peer}: ${missing}`;
  console.log(`SKIP ${reason}${peersRequired ? " (a failure: CI=true)" : ""}`);
  if (peersRequired) {
    test(`${peer} is available (CI=true requires every interop peer)`, () => {
      throw new Error(`${reason}. Under CI=true every peer must be installed (.ci/run installs them).`);
    });
  }
  return reason;
}

/**
 * For a peer found missing while a test runs (a script that reports it cannot
 * start): skips the test with the reason, or under `CI=true` fails it.
 */
export function skipForMissingPeer(t: TestContext, peer: string, missing: string): void {
  const reason = `${peer}: ${missing}`;
  if (peersRequired) throw new Error(`${reason}. Under CI=true every peer must be installed (.ci/run installs them).`);
  console.log(`SKIP ${reason}`);
  t.skip(reason);
}
