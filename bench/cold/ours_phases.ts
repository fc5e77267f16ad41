// cold_start.ts child (--phases): where this module's import + connect + ping +
// close spends its time in a fresh process, from its own events. Prints one
// JSON line of ms: runtime start-up to the script, import, loading the network
// stack (connect() until topologyOpening), first monitor check to the first
// hello reply, connect() resolved (every member checked), ping, close.
const t0 = performance.now();
const { ReplicaSetConnection } = await import("../../mod.ts");
const t1 = performance.now();
const g = globalThis as {
  Deno?: { env: { get(k: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
};
const uri = g.Deno !== undefined ? g.Deno.env.get("BENCH_URI") : g.process?.env.BENCH_URI;
if (uri === undefined) throw new Error("BENCH_URI is not set");
const c = new ReplicaSetConnection(uri, { serverSelectionTimeoutMS: 10_000 });
const at: Record<string, number> = {};
const once = (type: "topologyOpening" | "serverHeartbeatStarted" | "serverHeartbeatSucceeded") =>
  c.addEventListener(type, () => (at[type] ??= performance.now()));
once("topologyOpening");
once("serverHeartbeatStarted");
once("serverHeartbeatSucceeded");
const t2 = performance.now();
await c.connect();
const t3 = performance.now();
const r = await c.admin.command("ping");
if (r.ok !== 1) throw new Error(`ping: ${JSON.stringify(r)}`);
const t4 = performance.now();
await c.close();
const t5 = performance.now();
console.log(JSON.stringify({
  "start-up to script": t0,
  "import mod.ts": t1 - t0,
  "load network stack": at.topologyOpening - t2,
  "first check started": at.serverHeartbeatStarted - at.topologyOpening,
  "first hello answered": at.serverHeartbeatSucceeded - at.serverHeartbeatStarted,
  "every member checked": t3 - at.serverHeartbeatSucceeded,
  "ping (pooled connection)": t4 - t3,
  "close": t5 - t4,
}));
