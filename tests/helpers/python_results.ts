/**
 * Runs a Python script of tests/helpers (with {@link PYTHON}) to its exit
 * and collects the `RESULT <json>` lines it prints, merged into one object.
 * The PyMongo interop tests use it.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { PYTHON } from "./peers.ts";

/** What a script reported, its stderr and its exit code. */
export interface PythonRun {
  results: Record<string, unknown>;
  stderr: string;
  code: number | null;
}

/** Runs `python3 <script> ...args` and gathers its RESULT lines. */
export function runPythonResults(script: string, args: string[]): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => {
      const results: Record<string, unknown> = {};
      for (const line of stdout.split("\n")) {
        if (line.startsWith("RESULT ")) Object.assign(results, JSON.parse(line.slice(7)));
      }
      resolve({ results, stderr, code });
    });
  });
}
