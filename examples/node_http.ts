/**
 * A Node.js HTTP server on `@zerodep/mongo`: `node:http` with one client made
 * at module level and reused by every request (it pools its connections and
 * follows failovers by itself), closed on SIGINT/SIGTERM after the server has
 * stopped taking requests. Node 22.18 or later runs this file as it is (type
 * stripping). The routes are in `_app.ts`, written against the web
 * `Request`/`Response`; the two small adapters below bridge `node:http`.
 *
 *   MONGODB_URI='mongodb://localhost:27017/?replicaSet=rs0' node examples/node_http.ts
 *
 * `PORT` defaults to 8000 (0 picks a free one). The address is printed as
 * "listening on http://127.0.0.1:PORT"; "closed" once the client is closed.
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { ReplicaSetConnection } from "../mod.ts";
import { handle } from "./_app.ts";

const uri = process.env.MONGODB_URI ?? "mongodb://localhost:27017/?replicaSet=rs0";
const port = Number(process.env.PORT ?? "8000");

// One client for the process: made once, reused by every request.
const client = new ReplicaSetConnection(uri);

async function toRequest(req: IncomingMessage): Promise<Request> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) =>
      v === undefined ? [] : Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]
    ),
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(body);
}

const server = createServer((req, res) => {
  toRequest(req).then((request) => handle(request, client)).then((response) => send(res, response)).catch(
    (error) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`Error: ${String(error)}`);
    },
  );
});
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

async function shutdown(): Promise<void> {
  process.off("SIGINT", shutdown);
  process.off("SIGTERM", shutdown);
  // Takes nothing new; idle keep-alive connections are closed, busy ones once answered.
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await stopped;
  await client.close();
  console.log("closed");
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
