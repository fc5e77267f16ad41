/**
 * The HTTP handler the server examples share (`deno_serve.ts`, `bun_serve.ts`,
 * `node_http.ts`, `worker.ts`): a tiny notes API over one collection, written
 * against the web `Request`/`Response` that every runtime has.
 *
 *   GET  /health        200 "ok" (no database work)
 *   POST /notes         inserts the JSON body, answers {"insertedId": ...}
 *   GET  /notes?n=5     the last n notes (primary reads), as EJSON
 *
 * Errors are answered, never thrown: a failover error (`AutoReconnect`: the
 * member went away under the operation; writes are not retried yet) is a 503
 * naming it, so the caller knows a retry may succeed; bad input is a 400; any
 * other driver error a 500. The error's class name leads the body.
 */
import { AutoReconnect, type ClientBase, ConfigurationError, EJSON, MongoError } from "../mod.ts";

/** The collection the examples use. */
export const DB = "examples";
export const COLLECTION = "notes";

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Answers one request with `client`, which the caller keeps open across requests. */
export async function handle(request: Request, client: ClientBase): Promise<Response> {
  const url = new URL(request.url);
  try {
    if (url.pathname === "/health") return text(200, "ok");
    const notes = client.db(DB).collection(COLLECTION);
    if (url.pathname === "/notes" && request.method === "POST") {
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return text(400, "the body must be a JSON object");
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return text(400, "the body must be a JSON object");
      }
      const result = await notes.insertOne({ ...body, at: new Date() });
      return new Response(EJSON.stringify({ insertedId: result.insertedId }), {
        headers: { "content-type": "application/json" },
      });
    }
    if (url.pathname === "/notes" && request.method === "GET") {
      const n = Number(url.searchParams.get("n") ?? "5");
      if (!Number.isInteger(n) || n < 1 || n > 100) return text(400, "n must be an integer from 1 to 100");
      const last = await notes.find({}).sort({ _id: -1 }).limit(n).toArray();
      return new Response(EJSON.stringify(last, { relaxed: true }), { headers: { "content-type": "application/json" } });
    }
    return text(404, "not found: try GET /health, POST /notes, GET /notes?n=5");
  } catch (error) {
    if (error instanceof AutoReconnect) return text(503, `AutoReconnect: ${error.message}`);
    if (error instanceof ConfigurationError) return text(400, `ConfigurationError: ${error.message}`);
    if (error instanceof MongoError) return text(500, `${error.name}: ${error.message}`);
    return text(500, `Error: ${String(error)}`);
  }
}
