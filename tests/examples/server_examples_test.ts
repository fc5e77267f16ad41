// The server examples, each run as its own process on its own runtime against
// a simulated replica set started here: 200 requests (writes and reads) from 4
// concurrent loops, the primary killed halfway. Every request must get an
// answer: 200, or a 503 naming AutoReconnect (what was in flight on the killed
// primary; writes are not retried yet). Afterwards a write succeeds again, and
// the server shuts down on SIGTERM, closing its client, and exits on its own.
//
// Each example runs once per suite: deno_serve from the Deno run, bun_serve
// from the Bun run, node_http and the Workers example (under workerd) from the
// Node run; the other runs skip it, saying where it runs.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { startWorkerd } from "../helpers/workerd.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const host = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";

const REQUESTS = 200;
const LOOPS = 4;

/** How a child ended after SIGTERM. */
interface Stopped {
  code: number | null;
  signal: string | null;
  /** It was still running 30 s after SIGTERM and was killed: something kept it alive. */
  killed: boolean;
}

/** A server example running as a child process. */
interface Served {
  readonly base: string;
  readonly output: () => string;
  stop(): Promise<Stopped>;
}

/**
 * Sends SIGTERM and waits for the exit. Deno's node:child_process reports a child that
 * handled SIGTERM and then exited 0 as ended by SIGTERM, so what tells a clean exit here is
 * that the guard did not have to kill it (and, for the examples, their "closed" line).
 */
async function stopChild(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: string | null }>,
): Promise<Stopped> {
  child.kill("SIGTERM");
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 30_000);
  const result = await exited;
  clearTimeout(guard);
  return { ...result, killed };
}

function startChild(cmd: string, args: string[], env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
} {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("error", (e) => {
      out += `\nspawn failed: ${e.message}`;
      resolve({ code: -1, signal: null });
    });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => out, exited };
}

/** Polls `check` every 20 ms, at most `tries` times. */
async function until<T>(what: string, tries: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Starts an example that prints "listening on http://..." and closes its client on SIGTERM. */
async function startExample(cmd: string, args: string[], uri: string): Promise<Served> {
  const { child, output, exited } = startChild(cmd, args, { MONGODB_URI: uri, PORT: "0", NO_COLOR: "1" });
  let gone = false;
  exited.then(() => (gone = true));
  const base = await until("the example to listen", 1500, () => {
    if (gone) throw new Error(`the example exited before listening:\n${output()}`);
    return /listening on (http:\/\/\S+)/.exec(output())?.[1];
  });
  return {
    base,
    output,
    stop: () => stopChild(child, exited),
  };
}

/** Serves examples/worker.ts with workerd, the set's URI bound as MONGODB_URI. */
async function startWorker(uri: string): Promise<Served> {
  return await startWorkerd("examples/worker.ts", { bindings: { MONGODB_URI: uri } });
}

interface Tally {
  ok: number;
  autoReconnect: number;
  /** Anything else: other statuses, 503s not naming AutoReconnect, requests that got no answer. */
  wrong: string[];
  okAfterKill: number;
}

/** 200 requests from 4 loops, alternating a write and a read; the primary is killed once half are answered. */
async function load(rs: ReplicaSet, base: string): Promise<Tally> {
  const tally: Tally = { ok: 0, autoReconnect: 0, wrong: [], okAfterKill: 0 };
  let issued = 0;
  let answered = 0;
  let killing: Promise<void> | undefined;
  let killed = false;
  const one = async (i: number) => {
    const write = i % 2 === 0;
    let status = 0;
    let body = "";
    try {
      const res = await fetch(
        write ? `${base}/notes` : `${base}/notes?n=3`,
        write
          ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ i }) }
          : undefined,
      );
      status = res.status;
      body = await res.text();
    } catch (error) {
      tally.wrong.push(`request ${i}: no answer (${String(error)})`);
      return;
    }
    if (status === 200) {
      tally.ok++;
      if (killed) tally.okAfterKill++;
    } else if (status === 503 && body.startsWith("AutoReconnect")) tally.autoReconnect++;
    else tally.wrong.push(`request ${i}: ${status} ${body.slice(0, 300)}`);
  };
  const loop = async () => {
    while (issued < REQUESTS) {
      const i = issued++;
      await one(i);
      answered++;
      if (answered === REQUESTS / 2 && killing === undefined) {
        killing = (async () => {
          const primary = await rs.waitForPrimary();
          await rs.kill(primary);
          killed = true;
        })();
      }
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, loop));
  await killing;
  return tally;
}

function runExample(name: string, runsOn: string, start: (uri: string) => Promise<Served>, closesClient: boolean) {
  const skip = host === runsOn ? false : `runs once per suite, from the ${runsOn} run`;
  test(`${name}: ${REQUESTS} requests from ${LOOPS} loops across a failover all get 200 or 503 AutoReconnect`, {
    skip,
  }, async () => {
    const rs = await startReplicaSet({ members: 3, electionDelayMS: 300 });
    let served: Served | undefined;
    try {
      served = await start(rs.uri);
      const tally = await load(rs, served.base);
      console.log(
        `${name}: ${tally.ok} x 200, ${tally.autoReconnect} x 503 AutoReconnect, ${tally.wrong.length} wrong ` +
          `(${tally.okAfterKill} x 200 after the primary was killed)`,
      );
      assert.deepEqual(tally.wrong, [], served.output());
      assert.equal(tally.ok + tally.autoReconnect, REQUESTS);
      await rs.waitForPrimary();
      // The client found the new primary: a write after the failover succeeds.
      const res = await fetch(`${served.base}/notes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ after: true }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const stopping = served;
      served = undefined;
      const exit = await stopping.stop();
      assert.equal(exit.killed, false, `still running 30 s after SIGTERM: something kept it alive\n${stopping.output()}`);
      if (closesClient) {
        if (exit.signal === null) assert.equal(exit.code, 0, stopping.output());
        assert.match(stopping.output(), /^closed$/m, "the client was closed on shutdown");
      }
    } finally {
      await served?.stop();
      await rs.close();
    }
  });
}

describe("server examples across a failover", () => {
  runExample("examples/deno_serve.ts", "deno", (uri) =>
    startExample(bin("deno"), ["run", "--allow-net", "--allow-env=MONGODB_URI,PORT", "examples/deno_serve.ts"], uri),
    true);
  runExample("examples/bun_serve.ts", "bun", (uri) => startExample(bin("bun"), ["examples/bun_serve.ts"], uri), true);
  runExample("examples/node_http.ts", "node", (uri) => startExample(bin("node"), ["examples/node_http.ts"], uri), true);
  // workerd ends on SIGTERM by itself; the worker closes each request's client after answering.
  runExample("examples/worker.ts (workerd)", "node", startWorker, false);
});
