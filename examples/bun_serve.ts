/**
 * A Bun HTTP server on `@zerodep/mongo`: `Bun.serve` with one client made at
 * module level and reused by every request (it pools its connections and
 * follows failovers by itself), closed on SIGINT/SIGTERM after the server has
 * stopped taking requests. The routes are in `_app.ts`.
 *
 *   MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' bun examples/bun_serve.ts
 *
 * `PORT` defaults to 8000 (0 picks a free one). The address is printed as
 * "listening on http://127.0.0.1:PORT"; "closed" once the client is closed.
 */
import process from "node:process";
import { ReplicaSetConnection } from "../mod.ts";
import { handle } from "./_app.ts";

/** The part of Bun's API used here (no Bun type package is needed to check this file). */
interface BunServe {
  serve(options: { hostname: string; port: number; fetch(request: Request): Promise<Response> }): {
    port: number;
    stop(closeActiveConnections?: boolean): Promise<void>;
  };
}
const Bun = (globalThis as unknown as { Bun: BunServe }).Bun;

const uri = process.env.MONGODB_URI ?? "mongodb://localhost:27017/?replicaSet=rs0";
const port = Number(process.env.PORT ?? "8000");

// One client for the process: made once, reused by every request.
const client = new ReplicaSetConnection(uri);

const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: (request) => handle(request, client) });
console.log(`listening on http://127.0.0.1:${server.port}`);

async function shutdown(): Promise<void> {
  process.off("SIGINT", shutdown);
  process.off("SIGTERM", shutdown);
  await server.stop(); // answers what is in flight, takes nothing new
  await client.close();
  console.log("closed");
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
