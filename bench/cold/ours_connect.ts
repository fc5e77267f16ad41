// cold_start.ts child: import this module, connect to the set named by BENCH_URI, ping, close, exit.
import { ReplicaSetConnection } from "../../mod.ts";

const g = globalThis as {
  Deno?: { env: { get(k: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
};
const uri = g.Deno !== undefined ? g.Deno.env.get("BENCH_URI") : g.process?.env.BENCH_URI;
if (uri === undefined) throw new Error("BENCH_URI is not set");
const c = await ReplicaSetConnection.connect(uri, { serverSelectionTimeoutMS: 10_000 });
const r = await c.admin.command("ping");
if (r.ok !== 1) throw new Error(`ping: ${JSON.stringify(r)}`);
await c.close();
