// cold_start.ts child: import the official Node driver, connect to the set named by BENCH_URI, ping, close, exit.
import { MongoClient } from "mongodb";

const g = globalThis as {
  Deno?: { env: { get(k: string): string | undefined } };
  process?: { env: Record<string, string | undefined> };
};
const uri = g.Deno !== undefined ? g.Deno.env.get("BENCH_URI") : g.process?.env.BENCH_URI;
if (uri === undefined) throw new Error("BENCH_URI is not set");
const c = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
await c.connect();
const r = await c.db("admin").command({ ping: 1 });
if (r.ok !== 1) throw new Error(`ping: ${JSON.stringify(r)}`);
await c.close();
