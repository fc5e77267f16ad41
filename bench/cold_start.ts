// Cold start: the wall time of a fresh process that imports the driver (and,
// separately, imports it, connects to a replica set, pings and closes), this
// module against the official Node driver (`mongodb`). The bench starts a
// simulated 3-member set in-process and hands its URI to the children in
// BENCH_URI. Children run on the bench's own runtime (`deno run -A`, `bun`
// or `node`); an empty script gives the runtime's own start-up for reference.
// One discarded warm-up run per script (it fills Deno's module cache, Node's
// compile cache and the OS file cache: this measures a fresh process, not a
// fresh machine), then N runs per script, interleaved; the table shows medians.
// On Node the children get NODE_COMPILE_CACHE (a private folder, removed
// afterwards): like Deno's module cache it keeps the type-stripped sources and
// V8's code cache between processes, for this module and the official driver
// alike. Without it Node strips every .ts file again in each process.
//
// A third row times `floor_connect.ts`: no driver, one raw connection, hello
// and ping on the runtime's own socket API: the floor under any driver here.
// With --bundle, the bench first builds a single-file bundle of `mod.ts`
// (`bun build --target=node`, into a temporary folder) and two more rows time
// it, imported and connected: what shipping a bundle instead of the sources
// would give on this runtime. Nothing published changes; this is a yardstick.
// With --phases, `ours_phases.ts` and `timer_probe.ts` also run N times each
// and a second table gives the median of each phase of our cold connect.
//
//   deno run -A bench/cold_start.ts [--runs 9] [--phases] [--bundle]
//   bun bench/cold_start.ts [--runs 9] [--phases] [--bundle]
//   node bench/cold_start.ts [--runs 9] [--phases] [--bundle]   (Node 22.18 or later; npm's node is 24)
//
// Fails loudly if any child fails (a missing `mongodb` package included).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startReplicaSet } from "../src/testing/mod.ts";
import { args, fail, median, runtimeLabel } from "./_common.ts";

const g = globalThis as {
  Deno?: { execPath(): string };
  process?: { execPath: string; env: Record<string, string | undefined> };
};
const cli = args();
const runsAt = cli.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(cli[runsAt + 1]) : 9;
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs must be a positive integer, got ${cli[runsAt + 1]}`);
const PHASES = cli.includes("--phases");
const BUNDLE = cli.includes("--bundle");
const runtime = runtimeLabel();
const dir = new URL("./cold/", import.meta.url).pathname;
const onNode = runtime.startsWith("Node");
const compileCache = onNode ? mkdtempSync(join(tmpdir(), "zerodep-mongo-cold-")) : undefined;
const bundleDir = BUNDLE ? mkdtempSync(join(tmpdir(), "zerodep-mongo-bundle-")) : undefined;
// .mjs: without a package.json "type" beside it, Node would parse a .js twice to detect its format.
const bundle = bundleDir === undefined ? undefined : join(bundleDir, "mod.mjs");

function command(script: string): [string, string[]] {
  const path = `${dir}${script}`;
  return g.Deno !== undefined ? [g.Deno.execPath(), ["run", "-A", path]] : [g.process!.execPath, [path]];
}

/** Runs one child to its exit; resolves with its wall time in ms, or dies with its output. */
function timeChild(script: string, uri: string): Promise<number> {
  return runChild(script, uri).then((r) => r.ms);
}

/** Runs one child to its exit; resolves with its wall time in ms and its stdout, or dies with its output. */
function runChild(script: string, uri: string): Promise<{ ms: number; stdout: string }> {
  const [cmd, argv] = command(script);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...g.process?.env,
        BENCH_URI: uri,
        ...(bundle === undefined ? {} : { BENCH_BUNDLE: bundle }),
        NO_COLOR: "1",
        ...(compileCache === undefined ? {} : { NODE_COMPILE_CACHE: compileCache }),
      },
    });
    let out = "";
    let stdout = "";
    child.stdout.on("data", (d) => {
      out += d;
      stdout += d;
    });
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code, signal) => {
      const ms = performance.now() - t0;
      if (code !== 0) fail(`${script} exited with ${code ?? signal}:\n${out}`);
      resolve({ ms, stdout });
    });
  });
}

if (!existsSync(new URL("../node_modules/mongodb/package.json", import.meta.url))) {
  fail("the official Node driver is missing: run `npm ci` (it is a devDependency)");
}

if (bundle !== undefined) {
  const bun = new URL("../node_modules/.bin/bun", import.meta.url).pathname;
  if (!existsSync(bun)) fail("--bundle needs bun: run `npm ci` (it is a devDependency)");
  const mod = new URL("../mod.ts", import.meta.url).pathname;
  // cloudflare:sockets is only ever imported on workerd; every other dynamic import is inlined.
  const built = spawnSync(bun, ["build", mod, "--target=node", "--external", "cloudflare:sockets", "--outfile", bundle], {
    encoding: "utf8",
  });
  if (built.status !== 0) fail(`bun build failed (${built.status}):\n${built.stdout}${built.stderr}`);
}

const scripts = [
  "empty.ts",
  "ours_import.ts",
  "node_import.ts",
  "ours_connect.ts",
  "node_connect.ts",
  "floor_connect.ts",
  ...(BUNDLE ? ["bundle_import.ts", "bundle_connect.ts"] : []),
];
const rs = await startReplicaSet({ members: 3, name: "cold" });
const times = new Map<string, number[]>(scripts.map((s) => [s, []]));
const phases = new Map<string, number[]>();
try {
  for (const s of scripts) await timeChild(s, rs.uri); // warm-up, discarded
  for (let r = 0; r < RUNS; r++) {
    // Rotate the order so drift in the machine hits every script alike.
    for (let i = 0; i < scripts.length; i++) {
      const s = scripts[(i + r) % scripts.length];
      times.get(s)!.push(await timeChild(s, rs.uri));
    }
  }
  if (PHASES) {
    for (const s of ["ours_phases.ts", "timer_probe.ts"]) {
      await runChild(s, rs.uri); // warm-up, discarded
      for (let r = 0; r < RUNS; r++) {
        const { stdout } = await runChild(s, rs.uri);
        for (const [k, v] of Object.entries(JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number>)) {
          phases.set(k, [...(phases.get(k) ?? []), v]);
        }
      }
    }
  }
} finally {
  await rs.close();
  if (compileCache !== undefined) rmSync(compileCache, { recursive: true, force: true });
  if (bundleDir !== undefined) rmSync(bundleDir, { recursive: true, force: true });
}

const m = (s: string) => median(times.get(s)!);
const base = m("empty.ts");
const range = (xs: number[], digits: number, unit = "") =>
  `${Math.min(...xs).toFixed(digits)}${unit}-${Math.max(...xs).toFixed(digits)}${unit}`;
/** The ratio in each round (runs are interleaved, so round r's runs met the same machine). */
const perRound = (ours: string, theirs: string) => times.get(ours)!.map((a, r) => a / times.get(theirs)![r]);
const row = (label: string, ours: string, theirs: string, target: string, net: boolean) => {
  const a = m(ours);
  const b = m(theirs);
  const ratio = a / b;
  const netRatio = (a - base) / (b - base);
  const judged = net ? netRatio : ratio;
  const limit = Number(target.replace(/[^0-9.]/g, ""));
  const met = target === "-" ? "-" : judged <= limit ? "yes" : "NO";
  return `| ${label} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${ratio.toFixed(3)}x | ${
    range(perRound(ours, theirs), 2, "x")
  } | ${Math.max(0, a - base).toFixed(0)} | ${Math.max(0, b - base).toFixed(0)} | ${
    netRatio.toFixed(3)
  }x | ${target} | ${met} |`;
};
console.log(
  `\ncold_start on ${runtime}: median wall ms of ${RUNS} fresh processes each (empty script: ${base.toFixed(0)} ms)`,
);
console.log(
  "| script | ours ms | node driver ms | ratio | ratio per round (min-max) | ours - empty | node - empty | ratio net of start-up | target | met? |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
console.log(row("import only", "ours_import.ts", "node_import.ts", "<= 0.2x (net)", true));
console.log(row("import + connect + ping + close", "ours_connect.ts", "node_connect.ts", "<= 0.3x", false));
console.log(row("floor: no driver, 1 raw connection, hello + ping", "floor_connect.ts", "node_connect.ts", "-", false));
if (BUNDLE) {
  console.log(row("bundle of mod.ts: import only", "bundle_import.ts", "node_import.ts", "-", true));
  console.log(row("bundle of mod.ts: import + connect + ping + close", "bundle_connect.ts", "node_connect.ts", "-", false));
}
console.log(`\nwall ms per script over the ${RUNS} runs: min / median / max`);
for (const s of scripts) {
  const xs = times.get(s)!;
  console.log(`  ${s.padEnd(20)} ${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`);
}
if (PHASES) {
  console.log(`\nphases of ours_connect on ${runtime}: median ms of ${RUNS} fresh processes (ours_phases.ts, timer_probe.ts)`);
  console.log("| phase | ms |");
  console.log("| --- | ---: |");
  for (const [k, v] of phases) console.log(`| ${k} | ${median(v).toFixed(1)} |`);
}
