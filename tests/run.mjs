#!/usr/bin/env node
// Runs the whole suite on Deno, Bun and Node 24 (the binaries come from npm as
// devDependencies) and prints one closing line summed over the runtimes.
// A failure, a crash or an empty run on any runtime fails the whole run.
//
//   node tests/run.mjs                 all three runtimes, every tests/**/*_test.ts
//   node tests/run.mjs tests/bson      only files under a path
//   TEST_RUNTIMES=deno node tests/run.mjs
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

for (const r of runtimes) {
  if (!existsSync(bin(r))) {
    console.error(`tests/run.mjs: ${bin(r)} is missing: run \`npm ci\` first`);
    process.exit(2);
  }
}

function run(cmd, args) {
  console.log(`\n$ ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** Counts leaf test cases in a JUnit file (Deno also lists each describe() group as a case). */
function countJUnit(file) {
  if (!existsSync(file)) return null;
  const xml = readFileSync(file, "utf8");
  const cases = [];
  // Attribute values may hold a raw ">" (Node's reporter does not escape it): skip quoted text.
  const re = /<testcase\b((?:[^>"]|"[^"]*")*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const name = /\bname="([^"]*)"/.exec(m[1])?.[1] ?? "";
    const body = m[3] ?? "";
    cases.push({ name, failed: /<failure\b|<error\b/.test(body), skipped: /<skipped\b/.test(body) });
  }
  const names = cases.map((c) => c.name);
  const leaves = cases.filter((c) => !names.some((n) => n.startsWith(`${c.name} &gt; `)));
  const failed = leaves.filter((c) => c.failed).length;
  const skipped = leaves.filter((c) => c.skipped && !c.failed).length;
  return { passed: leaves.length - failed - skipped, failed, skipped };
}

/**
 * Node 24 (the `node` devDependency) runs the .ts files by type stripping. Its runner takes
 * globs, not folders, and writes JUnit (skips as <skipped>) like the others, plus the spec
 * report on stdout. The timeout matches Bun's; --expose-gc (passed on to each test file's
 * process) lets the garbage-collection tests run, as they do on Bun.
 */
function nodeTestArgs(junit, targets) {
  const globs = targets.map((t) => /\.[cm]?[jt]s$/.test(t) ? t : `${t.replace(/\/+$/, "")}/**/*_test.ts`);
  return [
    "--expose-gc",
    "--test",
    "--test-timeout=120000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=junit",
    `--test-reporter-destination=${junit}`,
    ...globs,
  ];
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
let bad = false;

if (runtimes.includes("deno")) {
  // Type-check first: the published entry points on their own, then the
  // tests, benchmarks and examples (node:test's types come from the
  // @types/node devDependency). The test runs below skip a second check.
  const checks = [
    ["mod.ts", "src/bson/mod.ts", "src/topology/mod.ts", "src/testing/mod.ts"],
    ["tests/", "bench/", "examples/"],
  ];
  for (const files of checks) {
    if (run(bin("deno"), ["check", ...files]) !== 0) {
      lines.push(`deno check ${files.join(" ")}: FAILED`);
      totals.failed += 1;
      bad = true;
    }
  }
}

for (const rt of runtimes) {
  const junit = join(out, `${rt}.xml`);
  const status = rt === "deno"
    ? run(bin("deno"), ["test", "-A", "--no-check", `--junit-path=${junit}`, ...targets])
    : rt === "node"
    ? run(bin("node"), nodeTestArgs(junit, targets))
    : run(bin("bun"), ["test", "--timeout=120000", "--reporter=junit", `--reporter-outfile=${junit}`, ...targets.map((t) => (t.startsWith(".") || t.startsWith("/")) ? t : `./${t}`)]);
  const c = countJUnit(junit);
  if (c === null) {
    lines.push(`${rt}: no test report (exit ${status})`);
    totals.failed += 1;
    bad = true;
    continue;
  }
  lines.push(`${rt}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (exit ${status})`);
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
