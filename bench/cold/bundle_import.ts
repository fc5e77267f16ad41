// cold_start.ts child (--bundle): import a single-file bundle of mod.ts (path in
// BENCH_BUNDLE, built by the bench with `bun build`) and nothing else.
const g = globalThis as {
  Deno?: { env: { get(k: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
};
const path = g.Deno !== undefined ? g.Deno.env.get("BENCH_BUNDLE") : g.process?.env.BENCH_BUNDLE;
if (path === undefined) throw new Error("BENCH_BUNDLE is not set");
const { ObjectId, ReplicaSetConnection } = await import(path) as typeof import("../../mod.ts");
if (typeof ReplicaSetConnection !== "function" || typeof ObjectId !== "function") throw new Error("import failed");
