/**
 * Helpers shared by the benchmark scripts in `bench/` (not a benchmark itself).
 * Everything here works unchanged on Deno, Bun and Node and imports nothing statically
 * (Node's file reads load `node:fs/promises` on demand).
 *
 * @module
 */

/** The parts of the globals the helpers touch, typed once for both runtimes. */
interface Host {
  Deno?: { args: string[]; exit(code: number): never; version: { deno: string; v8: string } };
  Bun?: { version: string };
  process?: { argv: string[]; exit(code: number): never; versions: { node?: string } };
}
const host = globalThis as unknown as Host;

/** The command-line arguments after the script path, on either runtime. */
export function args(): string[] {
  return host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
}

/**
 * The runtime the bench runs on: "Deno 2.9.6" / "Bun 1.4.5". With `engine: true`, Deno
 * also names its V8 ("Deno 2.9.6 (V8 ...)"); the headers that never did stay as they were.
 */
export function runtimeLabel(options: { engine?: boolean } = {}): string {
  if (host.Bun) return `Bun ${host.Bun.version}`;
  if (host.Deno) return `Deno ${host.Deno.version.deno}${options.engine ? ` (V8 ${host.Deno.version.v8})` : ""}`;
  if (host.process?.versions.node) return `Node ${host.process.versions.node}`;
  return `unknown runtime (${globalThis.navigator?.userAgent ?? "no userAgent"})`;
}

/** Ends the process with `code` at once (no `finally` runs), on either runtime. */
export function exit(code: number): never {
  if (host.Deno) host.Deno.exit(code);
  if (host.process) host.process.exit(code);
  throw new Error(`exit ${code}`);
}

/** The file name of the script that was started, for failure messages. */
function scriptName(): string {
  const g = globalThis as unknown as { Deno?: { mainModule?: string }; Bun?: { main?: string } };
  const main = g.Deno?.mainModule ?? g.Bun?.main ?? host.process?.argv[1] ?? "";
  return main.split(/[\\/]/).pop() ?? "";
}

/**
 * A benchmark that cannot measure what it claims must not print a table: says so loudly
 * on stderr (with the cause's stack when there is one) and exits 1.
 */
export function fail(message: string, cause?: unknown): never {
  const detail = cause instanceof Error
    ? `\n  cause: ${cause.stack ?? cause.message}`
    : cause === undefined
    ? ""
    : `\n  cause: ${String(cause)}`;
  const name = scriptName();
  console.error(`\n!!! BENCHMARK BROKEN${name ? ` (${name})` : ""}: ${message}${detail}\n`);
  exit(1);
}

/** The median; for an even count, the mean of the two middle values. */
export function median(xs: number[]): number {
  if (xs.length === 0) fail("median() of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Reads a file relative to `bench/` (Deno and Bun fetch `file:` URLs; Node reads it), or throws. */
async function fetchBytes(path: string): Promise<Uint8Array> {
  if (!host.Deno && !host.Bun) {
    const fs = await import("node:fs/promises");
    return new Uint8Array(await fs.readFile(new URL(path, import.meta.url)));
  }
  const res = await fetch(new URL(path, import.meta.url));
  if (!res.ok) throw new Error(`status ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads a file relative to `bench/`; a file that cannot be read fails the benchmark. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await fetchBytes(path);
  } catch (e) {
    fail(`cannot read ${new URL(path, import.meta.url).pathname}`, e);
  }
}

/** The version of an installed dev dependency, or "?" (the figure is informational only). */
export async function packageVersion(name: string): Promise<string> {
  try {
    const pkg = JSON.parse(new TextDecoder().decode(await fetchBytes(`../node_modules/${name}/package.json`)));
    return typeof pkg.version === "string" ? pkg.version : "?";
  } catch {
    return "?";
  }
}

/** The version of the official Node driver (`mongodb`) the benches compare against, or "?". */
export function nodeDriverVersion(): Promise<string> {
  return packageVersion("mongodb");
}
