// The hot encode path must not leak: encoding the flat benchmark document 100,000
// times may grow the heap by at most a few MB. The work runs in a child process
// (bench/heap_check.ts) so the measurement sees only the encoder, not the test
// runner's own allocations, and so Deno can be started with --expose-gc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const LIMIT_MB = 8;
const script = fileURLToPath(new URL("../../bench/heap_check.ts", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

test("encode(flat) x 100,000 grows the heap by less than 8 MB", (t) => {
  const argv = isBun
    ? [script, "--json"]
    : isDeno
    ? ["run", "-A", "--v8-flags=--expose-gc", script, "--json"]
    : ["--expose-gc", script, "--json"];
  const child = spawnSync(process.execPath, argv, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(child.error, undefined, `could not start ${process.execPath}: ${child.error}`);
  assert.equal(child.status, 0, `heap_check exited ${child.status}\nstdout: ${child.stdout}\nstderr: ${child.stderr}`);
  const line = child.stdout.trim().split("\n").at(-1) ?? "";
  const r = JSON.parse(line) as { runtime: string; gc: boolean; iterations: number; heapGrowthMB: number | null };
  if (!r.gc) {
    const reason = `no GC hook in ${r.runtime}: heap growth cannot be measured reliably`;
    console.log(`SKIP heap check: ${reason}`);
    t.skip(reason);
    return;
  }
  assert.equal(r.iterations, 100_000);
  console.log(`heap check (${r.runtime}): grew ${r.heapGrowthMB!.toFixed(3)} MB over ${r.iterations} encodes`);
  assert.ok(r.heapGrowthMB! < LIMIT_MB, `heap grew ${r.heapGrowthMB} MB (limit ${LIMIT_MB} MB) in ${r.runtime}`);
});
