/**
 * Serves a worker with workerd (the `workerd` devDependency) on a free
 * loopback port: the entry is bundled with `bun build` (Workers take
 * JavaScript; `cloudflare:*` and `node:*` stay external), and the worker's
 * outbound network may reach loopback, where the tests' servers are (Workers
 * reach only public addresses by default). Test helper only; works from Deno,
 * Bun and Node.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

/** A workerd process serving one worker. */
export interface Workerd {
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** What workerd printed so far (stdout and stderr). */
  output(): string;
  /** Ends workerd (SIGTERM, SIGKILL after 30 s) and removes its files; `killed` says the SIGKILL was needed. */
  stop(): Promise<{ code: number | null; signal: string | null; killed: boolean }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Options of {@linkcode startWorkerd}. */
export interface WorkerdOptions {
  /** Text bindings of the worker (`env.NAME`). */
  bindings?: Record<string, string>;
  /** PEM certificates the worker's outbound TLS trusts besides the public CAs (a test CA). */
  trustedCertificates?: string[];
}

/** Bundles `entry` (a path under the repository) and serves it; resolves once workerd answers HTTP. */
export async function startWorkerd(entry: string, options: WorkerdOptions = {}): Promise<Workerd> {
  const { bindings = {}, trustedCertificates = [] } = options;
  const dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-workerd-"));
  const bundle = spawnSync(bin("bun"), [
    "build",
    join(ROOT, entry),
    "--target=browser",
    "--format=esm",
    "--external=cloudflare:*",
    "--external=node:*",
    `--outfile=${join(dir, "worker.js")}`,
  ], { encoding: "utf8" });
  assert.equal(bundle.status, 0, `bun build ${entry} failed:\n${bundle.stdout}\n${bundle.stderr}`);
  const port = await freePort();
  const textBindings = Object.entries(bindings).map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`);
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    (name = "loopback", network = (
      allow = ["public", "private", "local"],
      tlsOptions = (trustBrowserCas = true, trustedCertificates = [ ${trustedCertificates.map((c) => JSON.stringify(c)).join(", ")} ]),
    )),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [ ${textBindings.join(", ")} ],
);
`,
  );
  const child: ChildProcess = spawn(bin("workerd"), ["serve", join(dir, "config.capnp")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("error", (e) => {
      out += `\nspawn failed: ${e.message}`;
      gone = true;
      resolve({ code: -1, signal: null });
    });
    child.once("exit", (code, signal) => {
      gone = true;
      resolve({ code, signal });
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill("SIGTERM");
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 30_000);
    const result = await exited;
    clearTimeout(guard);
    rmSync(dir, { recursive: true, force: true });
    return { ...result, killed };
  };
  // Up once the port accepts an HTTP request (any status).
  for (let i = 0; ; i++) {
    if (gone) {
      await stop();
      throw new Error(`workerd exited before serving:\n${out}`);
    }
    try {
      const res = await fetch(`${base}/`, { method: "HEAD" });
      await res.body?.cancel();
      break;
    } catch {
      if (i >= 1500) {
        await stop();
        throw new Error(`workerd did not serve within 1500 polls:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { base, output: () => out, stop };
}
