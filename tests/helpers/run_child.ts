/**
 * Runs a TypeScript file in a fresh process of the current runtime (Deno or
 * Bun) and collects its output. The "no leftover timer or socket" tests use it:
 * a child that leaks a handle never exits, so a guard kills it and the test
 * fails instead of hanging. The guard is a safety net, not a duration assert.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";

/** How a child process ended and what it printed. */
export interface ChildResult {
  code: number | null;
  /** The signal that killed it (SIGKILL from the guard), or null. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runChild}. */
export interface RunChildOptions {
  /** Permission flags for Deno (default `-A`); Bun ignores them. */
  denoPermissions?: string[];
  /** The child's whole environment (default: this process's). */
  env?: Record<string, string>;
  /** Kill the child after this many ms (default 60000). */
  guardMS?: number;
}

/** Runs `script` with the current runtime and resolves when it exits (or the guard kills it). */
export async function runChild(script: string, options: RunChildOptions = {}): Promise<ChildResult> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno !== undefined
    ? [deno.execPath(), ["run", ...(options.denoPermissions ?? ["-A"]), "--no-check", script]]
    : [(globalThis as unknown as { process: { execPath: string } }).process.execPath, [script]];
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: options.env });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d) => (stdout += d));
  proc.stderr.on("data", (d) => (stderr += d));
  const guard = setTimeout(() => proc.kill("SIGKILL"), options.guardMS ?? 60_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    proc.on("exit", (c, s) => resolve([c, s]))
  );
  clearTimeout(guard);
  return { code, signal, stdout, stderr };
}

/**
 * Runs `script` and asserts that it exits on its own with code 0 and prints a
 * line `done`; returns its stdout for further checks.
 */
export async function assertExitsOnItsOwn(script: string, guardMS?: number): Promise<string> {
  const r = await runChild(script, { guardMS });
  assert.equal(r.signal, null, `child was killed: an open handle kept it alive\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.code, 0, `child failed\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^done$/m);
  return r.stdout;
}
