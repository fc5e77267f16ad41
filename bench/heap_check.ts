/**
 * Heap growth of the hot encode path: encodes the flat benchmark document 100,000 times
 * and reports how much the heap grew between a forced GC before and one after.
 * The encoder reuses one growable buffer, so the figure should be near zero.
 *
 *   deno run -A --v8-flags=--expose-gc bench/heap_check.ts [--iterations N] [--json]
 *   bun bench/heap_check.ts [--iterations N] [--json]
 *
 * `--json` prints one JSON line instead (read by tests/bson/heap_test.ts). Without a
 * GC hook the growth figure would only measure when the collector last ran, so the
 * script then reports `gc: false` and no figure rather than a misleading one.
 *
 * @module
 */
import { args, exit, fail, readBytes, runtimeLabel } from "./_common.ts";

/** The parts of the globals this script touches, typed once for both runtimes. */
interface Runtime {
  Deno?: { memoryUsage(): { heapUsed: number; external: number } };
  Bun?: { gc(force: boolean): void };
  process?: { memoryUsage(): { heapUsed: number; external: number } };
  gc?: () => void;
}

const g = globalThis as unknown as Runtime;

/** The strongest "collect now" each runtime offers, or null when none is exposed. */
function gcHook(): (() => void) | null {
  if (g.Bun) return () => g.Bun!.gc(true);
  if (typeof g.gc === "function") return () => g.gc!();
  return null;
}

function memory(): { heapUsed: number; external: number } {
  if (g.Deno) return g.Deno.memoryUsage();
  const m = g.process!.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external };
}

function parseIterations(a: string[]): number {
  const i = a.indexOf("--iterations");
  if (i < 0) return 100_000;
  const n = Number(a[i + 1]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`heap_check: --iterations needs a positive integer, got ${JSON.stringify(a[i + 1])}`);
    exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const a = args();
  const json = a.includes("--json");
  const iterations = parseIterations(a);

  let mine: typeof import("../src/bson/mod.ts");
  try {
    mine = await import("../src/bson/mod.ts");
  } catch (e) {
    fail("cannot import src/bson/mod.ts", e);
  }
  const { encode, EJSON } = mine;
  const doc = EJSON.parse(new TextDecoder().decode(await readBytes("./data/flat.json")), { relaxed: false }) as Record<
    string,
    unknown
  >;
  const reference = await readBytes("./data/flat.bson");

  // One encode before the baseline: the reusable buffer and compiled code exist from
  // here on, and they are the steady state the check is about. It also proves the
  // loop below encodes the right thing.
  const first = encode(doc).slice();
  if (first.length !== reference.length || first.some((b, i) => b !== reference[i])) {
    fail("encode(flat) does not produce bench/data/flat.bson");
  }

  const gc = gcHook();
  const settle = () => {
    // Several passes: one collection can leave garbage that only the next one frees.
    for (let i = 0; i < 4; i++) gc?.();
  };
  settle();
  const before = memory();
  let sink = 0;
  for (let i = 0; i < iterations; i++) sink += encode(doc)[4];
  settle();
  const after = memory();

  const result = {
    runtime: runtimeLabel(),
    gc: gc !== null,
    iterations,
    bytesPerEncode: reference.length,
    heapBeforeMB: before.heapUsed / 1e6,
    heapAfterMB: after.heapUsed / 1e6,
    heapGrowthMB: gc ? (after.heapUsed - before.heapUsed) / 1e6 : null,
    externalGrowthMB: gc ? (after.external - before.external) / 1e6 : null,
    sink,
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`# heap check: encode(flat) x ${iterations} on ${result.runtime}`);
  if (!gc) {
    console.log("no GC hook: run Deno with --v8-flags=--expose-gc (Bun always has Bun.gc); no figure reported");
    return;
  }
  console.log(`heapUsed before ${result.heapBeforeMB.toFixed(2)} MB, after ${result.heapAfterMB.toFixed(2)} MB`);
  console.log(`heap grown: ${result.heapGrowthMB!.toFixed(3)} MB (external memory: ${result.externalGrowthMB!.toFixed(3)} MB)`);
}

await main();
