#!/usr/bin/env node
// Runs the whole suite on Deno, Bun and Node 24 (the binaries come from npm as
// devDependencies) and prints one closing line summed over the runtimes.
// A failure, a crash or an empty run on any runtime fails the whole run.
//
//   node tests/run.mjs                 all three runtimes, every tests/**/*_test.ts
//   node tests/run.mjs tests/bson      only files under a path
//   TEST_RUNTIMES=deno node tests/run.mjs
//
// Each runtime is one entry of RUNTIMES: the command that runs the tests and
// writes a JUnit report, and the reading of that report into counts. Adding a
// runtime is adding an entry.
//
// Counts are honest: a skipped test is counted as skipped on every runtime.
// Deno's node:test reports `t.skip()` as a pass and its JUnit has no
// <skipped/> for it, so tests/helpers/deno_preload.ts logs each such skip and
// the Deno entry moves those tests from passed to skipped. Bun leaves skipped
// describe() groups out of its report, so tests/helpers/bun_preload.ts turns
// them into groups of skipped tests. Every runtime gets the same per-test
// timeout (TEST_TIMEOUT_MS, default 120 s).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
// A private folder per run, so concurrent runs never read each other's reports.
const out = mkdtempSync(join(tmpdir(), "zerodep-mongo-tests-"));
process.on("exit", () => rmSync(out, { recursive: true, force: true }));

const paths = process.argv.slice(2);
const targets = paths.length > 0 ? paths : ["tests/"];
const runtimes = (process.env.TEST_RUNTIMES ?? "deno,bun,node").split(",").map((s) => s.trim()).filter(Boolean);
const timeoutMS = Number(process.env.TEST_TIMEOUT_MS ?? 120_000);

function run(cmd, args, env = {}) {
  console.log(`\n$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1", ...env } });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

const unescapeXml = (s) =>
  s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]);

/**
 * The leaf test cases of a JUnit file (Deno also lists each describe() group
 * as a case, named "group"; its tests are "group > test"), or null if there
 * is no report.
 */
function readJUnit(file) {
  if (!existsSync(file)) return null;
  const xml = readFileSync(file, "utf8");
  const cases = [];
  // Attribute values may hold a raw ">" (Node's reporter does not escape it): skip quoted text.
  const re = /<testcase\b((?:[^>"]|"[^"]*")*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const name = unescapeXml(/\bname="([^"]*)"/.exec(m[1])?.[1] ?? "");
    const body = m[3] ?? "";
    cases.push({ name, failed: /<failure\b|<error\b/.test(body), skipped: /<skipped\b/.test(body) });
  }
  const names = cases.map((c) => c.name);
  return cases.filter((c) => !names.some((n) => n.startsWith(`${c.name} > `)));
}

function tally(leaves) {
  const failed = leaves.filter((c) => c.failed).length;
  const skipped = leaves.filter((c) => c.skipped && !c.failed).length;
  return { passed: leaves.length - failed - skipped, failed, skipped };
}

/** Runtime entries: `command()` gives [binary, args, env]; `count()` reads the report it wrote. */
const RUNTIMES = {
  deno: {
    junit: join(out, "deno.xml"),
    skipLog: join(out, "deno-skips.jsonl"),
    command() {
      return [bin("deno"), [
        "test",
        "-A",
        "--no-check", // checked once, before the runs (denoChecks)
        // Lets the garbage-collection tests force a collection (globalThis.gc), as Bun.gc does on Bun.
        "--v8-flags=--expose-gc",
        "--preload=tests/helpers/deno_preload.ts",
        `--junit-path=${this.junit}`,
        ...targets,
      ], { ZERODEP_TEST_SKIP_LOG: this.skipLog, ZERODEP_TEST_TIMEOUT_MS: String(timeoutMS) }];
    },
    count() {
      const leaves = readJUnit(this.junit);
      if (leaves === null) return null;
      // Tests that called t.skip(): Deno reported them as passed.
      const logged = existsSync(this.skipLog)
        ? readFileSync(this.skipLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
        : [];
      const pending = new Map();
      for (const { name } of logged) pending.set(name, (pending.get(name) ?? 0) + 1);
      for (const c of leaves) {
        if (c.failed || c.skipped || !pending.get(c.name)) continue;
        pending.set(c.name, pending.get(c.name) - 1);
        c.skipped = true;
      }
      const unmatched = [...pending].filter(([, n]) => n > 0).map(([name]) => name);
      if (unmatched.length > 0) console.log(`deno: skips logged for tests not in the report: ${unmatched.join("; ")}`);
      return { ...tally(leaves), reasons: logged.map((l) => `${l.name}: ${l.reason}`) };
    },
  },
  bun: {
    junit: join(out, "bun.xml"),
    command() {
      return [bin("bun"), [
        "test",
        `--timeout=${timeoutMS}`,
        "--preload=./tests/helpers/bun_preload.ts",
        "--reporter=junit",
        `--reporter-outfile=${this.junit}`,
        ...targets.map((t) => (t.startsWith(".") || t.startsWith("/")) ? t : `./${t}`),
      ], {}];
    },
    count() {
      const leaves = readJUnit(this.junit);
      return leaves === null ? null : { ...tally(leaves), reasons: [] };
    },
  },
  node: {
    junit: join(out, "node.xml"),
    // Node 24 (the `node` devDependency) runs the .ts files by type stripping. Its runner takes
    // globs, not folders; it writes JUnit with <skipped> like Bun, and the spec report on stdout.
    // --expose-gc (passed on to each test file's process) lets the garbage-collection tests run.
    command() {
      const globs = targets.map((t) => /\.[cm]?[jt]s$/.test(t) ? t : `${t.replace(/\/+$/, "")}/**/*_test.ts`);
      return [bin("node"), [
        "--expose-gc",
        "--test",
        `--test-timeout=${timeoutMS}`,
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=junit",
        `--test-reporter-destination=${this.junit}`,
        ...globs,
      ], {}];
    },
    count() {
      const leaves = readJUnit(this.junit);
      return leaves === null ? null : { ...tally(leaves), reasons: [] };
    },
  },
};

/**
 * Deno type-checks the published entry points on their own, every JSDoc
 * example under them, then the tests, benchmarks and examples; last it runs
 * the JSDoc examples (those that state a result assert it) when the whole
 * suite runs.
 */
function denoChecks() {
  return [
    ...[
      ["mod.ts", "src/bson/mod.ts", "src/topology/mod.ts", "src/testing/mod.ts"],
      ["--doc", "mod.ts", "src/"],
      ["tests/", "bench/", "examples/"],
    ].map((files) => [`deno check ${files.join(" ")}`, bin("deno"), ["check", ...files]]),
    ...(paths.length > 0
      ? []
      : [["deno test --doc mod.ts src/", bin("deno"), ["test", "--doc", "--no-check", "-A", "mod.ts", "src/"]]]),
  ];
}

for (const r of runtimes) {
  if (!(r in RUNTIMES)) {
    console.error(`tests/run.mjs: unknown runtime ${r} in TEST_RUNTIMES (known: ${Object.keys(RUNTIMES).join(", ")})`);
    process.exit(2);
  }
  if (!existsSync(bin(r))) {
    console.error(`tests/run.mjs: ${bin(r)} is missing: run \`npm ci\` first`);
    process.exit(2);
  }
  // `npm ci --ignore-scripts` leaves Bun's 450-byte placeholder script where its binary belongs.
  if (statSync(bin(r)).size < 4096 && readFileSync(bin(r), "utf8").includes("postinstall script was not run")) {
    console.error(`tests/run.mjs: ${bin(r)} is a placeholder: run \`npm ci\` without --ignore-scripts`);
    process.exit(2);
  }
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
let bad = false;

// node:test's types come from the @types/node devDependency; the test runs below skip a second check.
if (runtimes.includes("deno")) {
  for (const [label, cmd, args] of denoChecks()) {
    if (run(cmd, args) !== 0) {
      lines.push(`${label}: FAILED`);
      totals.failed += 1;
      bad = true;
    }
  }
}

for (const name of runtimes) {
  const rt = RUNTIMES[name];
  const [cmd, args, env] = rt.command();
  const status = run(cmd, args, env);
  const c = rt.count();
  if (c === null) {
    lines.push(`${name}: no test report (exit ${status})`);
    totals.failed += 1;
    bad = true;
    continue;
  }
  for (const reason of c.reasons) lines.push(`${name} skipped ${reason}`);
  lines.push(`${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (exit ${status})`);
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
  if (status !== 0 || c.failed > 0 || c.passed === 0) {
    if (status !== 0 && c.failed === 0) totals.failed += 1; // a crash outside any test still fails the run
    bad = true;
  }
}

console.log("\n" + lines.join("\n"));
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(bad ? 1 : 0);
