/**
 * A Deno HTTP server on `@zerodep/mongo`: `Deno.serve` with one client made at
 * module level and reused by every request (it pools its connections and
 * follows failovers by itself), closed on SIGINT/SIGTERM after the server has
 * stopped taking requests. The routes are in `_app.ts`.
 *
 *   MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' \
 *     deno run --allow-net --allow-env=MONGODB_URI,PORT examples/deno_serve.ts
 *
 * `PORT` defaults to 8000 (0 picks a free one). The address is printed as
 * "listening on http://127.0.0.1:PORT"; "closed" once the client is closed.
 */
import { ReplicaSetConnection } from "../mod.ts";
import { handle } from "./_app.ts";

const uri = Deno.env.get("MONGODB_URI") ?? "mongodb://localhost:27017/?replicaSet=rs0";
const port = Number(Deno.env.get("PORT") ?? "8000");

// One client for the process: made once, reused by every request.
const client = new ReplicaSetConnection(uri);

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: (addr) => console.log(`listening on http://${addr.hostname}:${addr.port}`),
}, (request) => handle(request, client));

let stopping = false;
async function shutdown(): Promise<void> {
  // The listeners stay (they do not keep the process alive): removing the last
  // one would hand the signal back to its default action, ending the process
  // before the client is closed.
  if (stopping) return;
  stopping = true;
  await server.shutdown(); // answers what is in flight, takes nothing new
  await client.close();
  console.log("closed");
}
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
