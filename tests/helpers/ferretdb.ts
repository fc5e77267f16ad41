/**
 * FerretDB v1.24.2, a real MongoDB-compatible server written by others (Go,
 * Apache-2.0), run as a child process for the tests in `tests/peers/` and the
 * FerretDB benchmarks. `tests/peers/ferretdb/build.sh` builds the binary
 * (`.ci/run` does it before the tests); `FERRETDB_BIN` points at another one.
 *
 * Each instance uses the SQLite handler in its own temporary folder, listens
 * on 127.0.0.1 only (a free port, kept across restarts), reports itself as the
 * one member of replica set `rs0`, sends no telemetry and opens no debug HTTP
 * port. Options add SCRAM users (FerretDB's "new auth") or a TLS listener.
 *
 * Without the binary the FerretDB tests skip with the reason, except under
 * `CI=true`, where {@linkcode ferretdbSkipReason} returns `undefined` and
 * {@linkcode startFerretDB} throws: CI must not pass without the real server.
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { decode, encode } from "../../src/bson/mod.ts";
import { type Child, spawnChild } from "./spawn.ts";
import { startTcpServer } from "./tcp_server.ts";

/** The pinned version; `build.sh` builds exactly this one. */
export const FERRETDB_VERSION = "v1.24.2";

const BUILD_SCRIPT = "tests/peers/ferretdb/build.sh";

/** The binary the tests run: `$FERRETDB_BIN`, else the one `build.sh` writes. */
export function ferretdbBinary(): string {
  const env = process.env.FERRETDB_BIN;
  if (env !== undefined && env !== "") return env;
  return new URL("../peers/ferretdb/bin/ferretdb", import.meta.url).pathname;
}

/** Why FerretDB cannot run here, or `undefined` when its binary is present. */
export function ferretdbMissing(): string | undefined {
  const bin = ferretdbBinary();
  if (existsSync(bin)) return undefined;
  return `FerretDB ${FERRETDB_VERSION} is not built (no ${bin}); run ${BUILD_SCRIPT} (needs Go and the Go module proxy)`;
}

/** `true` under `CI=true`, where a missing peer is a failure, not a skip. */
export function inCI(): boolean {
  return process.env.CI === "true";
}

/**
 * The reason to skip the FerretDB tests (printed once with `label`), or
 * `undefined` to run them: the binary is there, or this is CI, where the
 * tests then fail in {@linkcode startFerretDB} with the same reason.
 */
export function ferretdbSkipReason(label: string): string | undefined {
  const missing = ferretdbMissing();
  if (missing === undefined || inCI()) return undefined;
  console.log(`SKIP ${label}: ${missing}`);
  return missing;
}

/** Options of {@linkcode startFerretDB}. */
export interface FerretDBOptions {
  /**
   * Turn on FerretDB's SCRAM authentication (`--test-enable-new-auth`) and
   * create this user in `admin` at start-up (`--setup-*`).
   */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Listen with TLS only (no plain listener), with this PEM certificate and key (file paths). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** `--repl-set-name` (default `"rs0"`); `null` for a standalone. */
  readonly replSetName?: string | null;
  /** How long to wait for the server to answer a `hello` (default 60 s: the machines are loaded). */
  readonly startTimeoutMS?: number;
}

/** A running (or stopped) FerretDB instance. */
export interface FerretDB extends AsyncDisposable {
  /** Always `"127.0.0.1"`. */
  readonly host: string;
  /** The port, the same across restarts. */
  readonly port: number;
  /** `"127.0.0.1:PORT"`: what FerretDB reports in `hello.hosts`. */
  readonly address: string;
  /** The replica set name it reports, or `null`. */
  readonly replSetName: string | null;
  /** Its data and state folder (removed by `close()`). */
  readonly dir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** The argument list of the last start, for messages. */
  readonly args: readonly string[];
  /** Its log (stderr) since the last start. */
  log(): string;
  /** Kills the process (SIGKILL) and waits for it to exit; the data stays. Idempotent. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same port and data, and waits until it answers. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. Idempotent. */
  close(): Promise<void>;
}

// Children still running when the test process exits (a crash, a forgotten close) are killed with
// it, and the folders of instances never closed are removed.
const live = new Set<Child>();
const folders = new Set<string>();
process.on("exit", () => {
  for (const c of live) c.kill();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A free loopback port: the OS picks one, the listener is closed at once. */
export async function freePort(): Promise<number> {
  const server = await startTcpServer();
  const port = server.port;
  await server.close();
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One OP_MSG `hello` to `admin`; resolves with the reply document, rejects on any failure or after `timeoutMS`. */
export function probeHello(port: number, tls: boolean, timeoutMS = 2000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const body = encode({ hello: 1, $db: "admin" });
    const msg = new Uint8Array(16 + 4 + 1 + body.length);
    const view = new DataView(msg.buffer);
    view.setInt32(0, msg.length, true);
    view.setInt32(4, 1, true); // requestID
    view.setInt32(8, 0, true);
    view.setInt32(12, 2013, true); // OP_MSG
    view.setUint32(16, 0, true); // flags
    msg[20] = 0; // section kind 0: the body
    msg.set(body, 21);

    let socket: Socket;
    let got = new Uint8Array(0);
    const done = (error: Error | undefined, doc?: Record<string, unknown>) => {
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(doc!);
    };
    const timer = setTimeout(() => done(new Error(`no hello reply within ${timeoutMS} ms`)), timeoutMS);
    socket = tls
      ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => socket.write(msg))
      : netConnect({ host: "127.0.0.1", port }, () => socket.write(msg));
    socket.on("error", (e: Error) => done(e));
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(got.length + chunk.length);
      next.set(got);
      next.set(chunk, got.length);
      got = next;
      if (got.length < 4) return;
      const size = new DataView(got.buffer).getInt32(0, true);
      if (got.length < size) return;
      const replyView = new DataView(got.buffer);
      if (replyView.getInt32(12, true) !== 2013 || replyView.getInt32(8, true) !== 1) {
        done(new Error("the hello reply is not an OP_MSG answering it"));
        return;
      }
      try {
        done(undefined, decode(got.subarray(21, size)) as Record<string, unknown>);
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/**
 * Starts FerretDB (see the module doc) and resolves once it answers `hello`.
 * Throws when the binary is missing (with the reason; callers skip first
 * with {@linkcode ferretdbSkipReason}) or when it exits or stays silent.
 */
export async function startFerretDB(options: FerretDBOptions = {}): Promise<FerretDB> {
  const missing = ferretdbMissing();
  if (missing !== undefined) {
    throw new Error(`${missing}${inCI() ? " (CI=true: the FerretDB tests must run in CI; did .ci/run build it?)" : ""}`);
  }
  const bin = ferretdbBinary();
  const dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-ferretdb-"));
  folders.add(dir);
  const port = await freePort();
  const replSetName = options.replSetName === undefined ? "rs0" : options.replSetName;
  const tls = options.tls !== undefined;
  const startTimeoutMS = options.startTimeoutMS ?? 60_000;

  const args = [
    "--handler=sqlite",
    `--sqlite-url=file:${dir}/`,
    `--state-dir=${dir}`,
    "--telemetry=disable",
    "--debug-addr=-",
    "--log-level=WARN",
  ];
  if (replSetName !== null) args.push(`--repl-set-name=${replSetName}`);
  if (options.tls !== undefined) {
    // An empty --listen-addr turns the plain listener off: TLS only.
    args.push(
      "--listen-addr=",
      `--listen-tls=127.0.0.1:${port}`,
      `--listen-tls-cert-file=${options.tls.certFile}`,
      `--listen-tls-key-file=${options.tls.keyFile}`,
    );
  } else {
    args.push(`--listen-addr=127.0.0.1:${port}`);
  }
  if (options.auth !== undefined) {
    args.push(
      "--test-enable-new-auth",
      "--setup-database=admin",
      `--setup-username=${options.auth.username}`,
      `--setup-password=${options.auth.password}`,
    );
  }

  let child: Child | undefined;
  let exited = true;
  let closed = false;

  const start = async () => {
    const c = spawnChild([bin, ...args]);
    child = c;
    live.add(c);
    exited = false;
    let exitCode: number | undefined;
    c.exited.then((code) => {
      live.delete(c);
      exited = true;
      exitCode = code;
    });
    const deadline = Date.now() + startTimeoutMS;
    let last: unknown;
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`FerretDB exited (code ${exitCode}) before answering; args: ${args.join(" ")}\n${c.stderr()}`);
      }
      try {
        const reply = await probeHello(port, tls);
        if (reply.ok === 1) return;
        last = new Error(`hello answered ${JSON.stringify(reply)}`);
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        c.kill();
        throw new Error(
          `FerretDB did not answer hello on 127.0.0.1:${port} within ${startTimeoutMS} ms (${String(last)}); ` +
            `args: ${args.join(" ")}\n${c.stderr()}`,
        );
      }
      await sleep(50);
    }
  };

  const stop = async () => {
    const c = child;
    if (c === undefined || exited) return;
    c.kill();
    await c.exited;
  };

  try {
    await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
    throw e;
  }

  const instance: FerretDB = {
    host: "127.0.0.1",
    port,
    address: `127.0.0.1:${port}`,
    replSetName,
    dir,
    get running() {
      return !exited;
    },
    args,
    log: () => child?.stderr() ?? "",
    stop,
    async restart() {
      await stop();
      await start();
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
      folders.delete(dir);
    },
    [Symbol.asyncDispose]() {
      return instance.close();
    },
  };
  return instance;
}
