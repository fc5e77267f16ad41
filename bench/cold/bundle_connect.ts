// cold_start.ts child (--bundle): import a single-file bundle of mod.ts (path in
// BENCH_BUNDLE, built by the bench with `bun build`), connect to the set named
// by BENCH_URI, ping, close, exit: what shipping a bundle would give.
const g = globalThis as {
  Deno?: { env: { get(k: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
};
const env = (k: string) => g.Deno !== undefined ? g.Deno.env.get(k) : g.process?.env[k];
const path = env("BENCH_BUNDLE");
const uri = env("BENCH_URI");
if (path === undefined || uri === undefined) throw new Error("BENCH_BUNDLE or BENCH_URI is not set");
const { ReplicaSetConnection } = await import(path) as typeof import("../../mod.ts");
const c = await ReplicaSetConnection.connect(uri, { serverSelectionTimeoutMS: 10_000 });
const r = await c.admin.command("ping");
if (r.ok !== 1) throw new Error(`ping: ${JSON.stringify(r)}`);
await c.close();
