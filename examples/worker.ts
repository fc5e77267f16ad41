/**
 * A Cloudflare Worker on `@zerodep/mongo`: the driver connects through
 * `cloudflare:sockets` (chosen at run time, nothing to configure). Bind
 * `MONGODB_URI` (a secret, or a text binding under workerd) and route requests
 * to `handle()` of `_app.ts`.
 *
 * One client per request, closed once the answer is sent: Workers tie every
 * socket to the request that opened it ("Cannot perform I/O on behalf of a
 * different request"), so a client cannot be kept in a module variable and
 * reused by later requests, as the Deno, Bun and Node examples do. A client on
 * Workers therefore opens its connections per request: prefer a nearby
 * deployment, and keep `maxPoolSize` small (Workers allow 6 open connections
 * per request; a 3-member set takes one monitoring connection per member plus
 * the pool's). `mongodb+srv://` needs a DNS resolver the platform does not
 * offer to this driver: list the hosts in a `mongodb://` URI.
 *
 * Bundle it for Workers with the platform modules left external, for example
 *
 *   bun build examples/worker.ts --target=browser --external 'cloudflare:*' --external 'node:*' --outfile=worker.js
 *
 * (Wrangler does this itself; enable `nodejs_compat` there, or mark `node:*`
 * external, since the Node adapter's dynamic `import("node:net")` is never run
 * on Workers.) `tests/examples/server_examples_test.ts` runs it under workerd.
 */
import { ReplicaSetConnection } from "../mod.ts";
import { handle } from "./_app.ts";

/** The bindings this worker needs. */
export interface Env {
  MONGODB_URI: string;
}

/** What Workers pass as the third argument of `fetch`. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const client = new ReplicaSetConnection(env.MONGODB_URI, { maxPoolSize: 2, serverSelectionTimeoutMS: 10_000 });
    try {
      return await handle(request, client);
    } finally {
      // The answer goes out now; the connections close after it.
      ctx.waitUntil(client.close());
    }
  },
};
