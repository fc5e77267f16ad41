/**
 * Spawns a child process on Deno (`Deno.Command`), Bun (`Bun.spawn`) or Node
 * (`node:child_process`) with piped stdio, and reads its stdout as lines. Test helper only.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { constants } from "node:os";

/** A running child process. */
export interface Child {
  /** Lines of stdout received so far (without the newline). */
  readonly lines: string[];
  /** Stderr text received so far. */
  readonly stderr: () => string;
  /** Waits for a stdout line matching `match`, checking every line; rejects after `maxWaits` 10 ms polls or at exit. */
  waitForLine(match: (line: string) => boolean, maxWaits?: number): Promise<string>;
  /** Closes the child's stdin. */
  closeStdin(): Promise<void>;
  /** Kills the child (SIGKILL) if it is still running; idempotent. */
  kill(): void;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
}

interface Raw {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  closeStdin(): Promise<void>;
  kill(): void;
  exited: Promise<number>;
}

function spawnRaw(cmd: string[]): Raw {
  const g = globalThis as { Deno?: typeof Deno; Bun?: unknown };
  if (g.Deno !== undefined) {
    const child = new Deno.Command(cmd[0], { args: cmd.slice(1), stdin: "piped", stdout: "piped", stderr: "piped" })
      .spawn();
    const writer = child.stdin.getWriter();
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      closeStdin: () => writer.close().catch(() => {}),
      kill: () => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      },
      exited: child.status.then((s) => s.code),
    };
  }
  if (g.Bun === undefined) return spawnNode(cmd);
  const bun = (g as unknown as {
    Bun: {
      spawn(cmd: string[], o: Record<string, unknown>): {
        stdout: ReadableStream<Uint8Array>;
        stderr: ReadableStream<Uint8Array>;
        stdin: { end(): void };
        kill(signal?: number): void;
        exited: Promise<number>;
      };
    };
  }).Bun;
  const child = bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    closeStdin: () => {
      try {
        child.stdin.end();
      } catch { /* closed */ }
      return Promise.resolve();
    },
    kill: () => {
      try {
        child.kill(9);
      } catch { /* already gone */ }
    },
    exited: child.exited,
  };
}

function spawnNode(cmd: string[]): Raw {
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.on("error", () => {}); // EPIPE once the child is gone
  const exited = new Promise<number>((resolve) => {
    child.once("error", () => resolve(-1));
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? -1 : 128 + (constants.signals[signal] ?? 0))));
  });
  const toWeb = (stream: NodeJS.ReadableStream) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        stream.on("data", (d: Uint8Array) => controller.enqueue(new Uint8Array(d)));
        stream.on("end", () => controller.close());
        stream.on("error", () => controller.close());
      },
    });
  return {
    stdout: toWeb(child.stdout),
    stderr: toWeb(child.stderr),
    closeStdin: () =>
      new Promise<void>((resolve) => {
        if (child.stdin.writableEnded) resolve();
        else child.stdin.end(() => resolve());
      }),
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    },
    exited,
  };
}

/** Starts `cmd` (program and arguments). */
export function spawnChild(cmd: string[]): Child {
  const raw = spawnRaw(cmd);
  const lines: string[] = [];
  let err = "";
  let ended = false;
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        onText(decoder.decode(value, { stream: true }));
      }
    } catch { /* stream broken: the child is gone */ }
  };
  let partial = "";
  const outDone = pump(raw.stdout, (t) => {
    partial += t;
    let i: number;
    while ((i = partial.indexOf("\n")) >= 0) {
      lines.push(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
  }).then(() => {
    ended = true;
  });
  pump(raw.stderr, (t) => (err += t));
  let killed = false;
  return {
    lines,
    stderr: () => err,
    async waitForLine(match, maxWaits = 1000) {
      let seen = 0;
      for (let i = 0; i <= maxWaits; i++) {
        for (; seen < lines.length; seen++) if (match(lines[seen])) return lines[seen];
        if (ended) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      for (; seen < lines.length; seen++) if (match(lines[seen])) return lines[seen];
      throw new Error(`child ${cmd.join(" ")}: expected line never came; stderr: ${err.slice(-2000)}`);
    },
    closeStdin: () => raw.closeStdin(),
    kill() {
      if (killed) return;
      killed = true;
      raw.kill();
    },
    exited: raw.exited.then(async (code) => {
      await outDone;
      return code;
    }),
  };
}
