// Runs the connection monitoring and pooling (CMAP) spec tests in the CMAP
// test format (`cmap-format/*.json`: operations start / wait / waitForThread /
// waitForEvent / checkOut / checkIn / clear / close / ready, then the
// expected `error` and `events`, less the `ignore`d types) against
// `ConnectionPool`, its connections opened to one member of the simulated set.
//
//   CMAP_SPEC_DIR  a folder holding cmap-format/ (or the *.json files themselves)
//                  (default: tests/spec/connection-monitoring-and-pooling)
//
// Each file is one test. An operation on a thread may fail (its
// ConnectionCheckOutFailed event is what some tests check); one on the main
// thread fails the test unless the file expects that `error`. Integration tests' fail points on the handshake
// (`failCommand` on hello with blockConnection) become the simulator's reply
// delay on hello; a fail point the simulator cannot reproduce skips its test
// with the reason. The last test prints the line
// "connection-monitoring-and-pooling: files F, tests T, passed P, failed X,
// skipped S" and asserts that nothing failed and that the folder held tests.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { startReplicaSet } from "../../src/testing/mod.ts";
import type { ReplicaSet } from "../../src/testing/mod.ts";
import { ConnectionPool, type ConnectionPoolOptions } from "../../src/net/pool.ts";
import type { Connection } from "../../src/net/connection.ts";
import type { EventSink, NetEventInitMap } from "../../src/net/monitoring.ts";
import { parseAddress } from "../../src/address.ts";
import { PoolClearedError, PoolClosedError, WaitQueueTimeoutError } from "../../src/errors.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(
  process.env.CMAP_SPEC_DIR ||
    join(here, "../spec/connection-monitoring-and-pooling"),
);
const dir = existsSync(join(root, "cmap-format")) ? join(root, "cmap-format") : root;
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];

// deno-lint-ignore no-explicit-any
type Json = any;

/** The spec's event names, as the pool's. */
const EVENT_TYPES: Record<string, keyof NetEventInitMap> = {
  ConnectionPoolCreated: "poolCreated",
  ConnectionPoolReady: "poolReady",
  ConnectionPoolCleared: "poolCleared",
  ConnectionPoolClosed: "poolClosed",
  ConnectionCreated: "connectionCreated",
  ConnectionReady: "connectionReady",
  ConnectionClosed: "connectionClosed",
  ConnectionCheckOutStarted: "connectionCheckOutStarted",
  ConnectionCheckOutFailed: "connectionCheckOutFailed",
  ConnectionCheckedOut: "connectionCheckedOut",
  ConnectionCheckedIn: "connectionCheckedIn",
};

const ERROR_TYPES: Record<string, new (...args: never[]) => Error> = {
  WaitQueueTimeoutError,
  PoolClosedError,
  PoolClearedError,
};

/** The pool options the runner passes through (the spec's names). */
const POOL_OPTIONS = new Set([
  "maxPoolSize",
  "minPoolSize",
  "maxIdleTimeMS",
  "waitQueueTimeoutMS",
  "maxConnecting",
  "appName",
  // The pool has no background thread: its minPoolSize fill runs on events
  // (creation, ready, a connection closing), not on an interval.
  "backgroundThreadIntervalMS",
]);

/** Why a test cannot run here, or undefined. */
function skipReason(spec: Json): string | undefined {
  for (const key of Object.keys(spec.poolOptions ?? {})) {
    if (!POOL_OPTIONS.has(key)) return `pool option ${key} is not supported`;
  }
  for (const op of spec.operations) {
    if (op.name === "clear" && op.interruptInUseConnections === true) {
      return "clear(interruptInUseConnections: true) is the topology's job here (Server.interruptConnections), not the pool's";
    }
  }
  const fp = spec.failPoint;
  if (fp !== undefined) {
    const data = fp.data ?? {};
    const commands: string[] = data.failCommands ?? [];
    const handshakeOnly = commands.every((c) => c === "hello" || c === "isMaster");
    if (fp.configureFailPoint !== "failCommand" || !handshakeOnly) {
      return `fail point ${fp.configureFailPoint} on ${commands.join(", ")} is not reproducible by the simulator`;
    }
    if (data.errorCode !== undefined) {
      return "the simulator cannot answer hello with an error code (failCommand errorCode on the handshake)";
    }
    if (data.closeConnection === true) {
      return "closeConnection on the handshake is not mapped to the simulator's faults by this runner";
    }
    if (data.blockConnection !== true) {
      return "a fail point without blockConnection is not mapped";
    }
  }
  return undefined;
}

interface Recorded {
  type: keyof NetEventInitMap;
  // deno-lint-ignore no-explicit-any
  init: any;
}

/** One test's state: the pool, its events, its threads and labelled connections. */
class Run {
  events: Recorded[] = [];
  threads = new Map<string, { chain: Promise<void> }>();
  labels = new Map<string, Connection>();
  errors: unknown[] = [];
  /** Errors of operations on the main thread, which fail a test that expects none. */
  mainErrors: unknown[] = [];
  pool: ConnectionPool | undefined;

  sink: EventSink<NetEventInitMap> = {
    wants: () => true,
    emit: (type, init) => void this.events.push({ type, init }),
  };

  count(type: keyof NetEventInitMap): number {
    return this.events.filter((e) => e.type === type).length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function runOperation(run: Run, op: Json): Promise<void> {
  const pool = run.pool!;
  switch (op.name) {
    case "wait":
      await sleep(op.ms);
      return;
    case "waitForEvent": {
      const type = EVENT_TYPES[op.event];
      assert.ok(type !== undefined, `unknown event ${op.event}`);
      const deadline = performance.now() + (op.timeout ?? 10_000);
      while (run.count(type) < op.count) {
        if (performance.now() > deadline) {
          throw new Error(
            `waitForEvent: ${op.count} ${op.event} events not seen (saw ${run.count(type)})`,
          );
        }
        await sleep(5);
      }
      return;
    }
    case "checkOut": {
      const conn = await pool.checkOut();
      if (op.label !== undefined) run.labels.set(op.label, conn);
      return;
    }
    case "checkIn": {
      const conn = run.labels.get(op.connection);
      assert.ok(conn !== undefined, `no connection labelled ${op.connection}`);
      pool.checkIn(conn);
      return;
    }
    case "clear":
      pool.clear();
      return;
    case "close":
      await pool.close();
      return;
    case "ready":
      pool.ready();
      return;
    default:
      throw new Error(`unknown operation ${op.name}`);
  }
}

/** Whether `actual` matches `expected` (42 stands for "any value"; objects may have more keys). */
function matches(expected: Json, actual: Json): boolean {
  if (expected === 42) return actual !== undefined;
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return false;
    return Object.entries(expected).every(([k, v]) => matches(v, actual[k]));
  }
  return expected === actual;
}

function eventFields(e: Recorded): Json {
  const { durationMS, ...rest } = e.init;
  return durationMS === undefined ? rest : { ...rest, duration: durationMS };
}

async function runFile(rs: ReplicaSet, spec: Json): Promise<void> {
  const run = new Run();
  const member = rs.members[0];
  const o = spec.poolOptions ?? {};
  const options: ConnectionPoolOptions = {
    maxPoolSize: o.maxPoolSize ?? 100,
    minPoolSize: o.minPoolSize ?? 0,
    maxIdleTimeMS: o.maxIdleTimeMS ?? 0,
    waitQueueTimeoutMS: o.waitQueueTimeoutMS ?? 0,
    maxConnecting: o.maxConnecting ?? 2,
    connectTimeoutMS: 10_000,
    socketTimeoutMS: 0,
    appName: o.appName,
    events: run.sink,
    paused: true,
  };
  const fp = spec.failPoint;
  if (fp !== undefined) {
    rs.fault(member, {
      delayMS: fp.data.blockTimeMS,
      commands: ["hello", "isMaster", "ismaster"],
    });
  }
  try {
    run.pool = new ConnectionPool(parseAddress(member.host), options);
    for (const op of spec.operations) {
      if (op.name === "start") {
        run.threads.set(op.target, { chain: Promise.resolve() });
        continue;
      }
      if (op.name === "waitForThread") {
        const thread = run.threads.get(op.target);
        assert.ok(thread !== undefined, `no thread ${op.target}`);
        await thread.chain;
        continue;
      }
      if (op.thread !== undefined) {
        const thread = run.threads.get(op.thread);
        assert.ok(thread !== undefined, `no thread ${op.thread}`);
        thread.chain = thread.chain.then(() => runOperation(run, op)).catch((
          e,
        ) => void run.errors.push(e));
        continue;
      }
      try {
        await runOperation(run, op);
      } catch (error) {
        run.errors.push(error);
        run.mainErrors.push(error);
        break;
      }
    }
    if (spec.error !== undefined) {
      const expected = ERROR_TYPES[spec.error.type];
      assert.ok(
        expected !== undefined,
        `unknown error type ${spec.error.type}`,
      );
      assert.ok(
        run.errors.length > 0,
        `expected a ${spec.error.type}, got no error`,
      );
      assert.ok(
        run.errors[0] instanceof expected,
        `expected a ${spec.error.type}, got ${String(run.errors[0])}`,
      );
    } else {
      // A thread's failure is what some tests are about (its events say so); the main thread's is not.
      assert.deepEqual(
        run.mainErrors.map(String),
        [],
        "no operation on the main thread fails",
      );
    }
    const ignore = new Set(
      (spec.ignore ?? []).map((t: string) => EVENT_TYPES[t]),
    );
    const actual = run.events.filter((e) => !ignore.has(e.type));
    const show = () =>
      actual.map((e) => `${e.type} ${JSON.stringify(eventFields(e), (_k, v) => v instanceof Error ? v.name : v)}`).join(
        "\n  ",
      );
    assert.ok(
      actual.length >= spec.events.length,
      `too few events:\n  ${show()}`,
    );
    spec.events.forEach((want: Json, i: number) => {
      const { type, ...fields } = want;
      const got = actual[i];
      assert.equal(
        got.type,
        EVENT_TYPES[type],
        `event ${i}: expected ${type}; events:\n  ${show()}`,
      );
      assert.ok(
        matches(fields, eventFields(got)),
        `event ${i} (${type}) expected ${JSON.stringify(fields)}; events:\n  ${show()}`,
      );
    });
  } finally {
    for (const conn of run.labels.values()) conn.close();
    await run.pool?.close();
    rs.clearFaults();
    // Let threads still waiting settle (the pool is closed: they fail at once).
    await Promise.all([...run.threads.values()].map((t) => t.chain));
  }
}

describe("connection-monitoring-and-pooling (CMAP format)", () => {
  let rs: ReplicaSet;
  const totals = { files: 0, tests: 0, passed: 0, failed: 0, skipped: 0 };
  before(async () => {
    rs = await startReplicaSet({ members: 1, name: "cmap" });
  });
  after(async () => {
    await rs?.close();
  });
  for (const file of files) {
    const spec: Json = JSON.parse(readFileSync(join(dir, file), "utf8"));
    totals.files++;
    totals.tests++;
    const reason = skipReason(spec);
    if (reason !== undefined) {
      totals.skipped++;
      test(`${file}: ${spec.description}`, { skip: reason }, () => {});
      continue;
    }
    test(`${file}: ${spec.description}`, async () => {
      try {
        await runFile(rs, spec);
        totals.passed++;
      } catch (error) {
        totals.failed++;
        throw error;
      }
    });
  }
  test("connection-monitoring-and-pooling: summary", () => {
    console.log(
      `connection-monitoring-and-pooling: files ${totals.files}, tests ${totals.tests}, passed ${totals.passed}, ` +
        `failed ${totals.failed}, skipped ${totals.skipped}`,
    );
    assert.ok(existsSync(dir), `${dir} does not exist (check CMAP_SPEC_DIR)`);
    assert.ok(files.length > 0, `no *.json in ${dir} (check CMAP_SPEC_DIR)`);
    assert.equal(totals.failed, 0, `${totals.failed} CMAP test(s) failed`);
    assert.equal(
      totals.passed + totals.skipped,
      totals.tests,
      "every test ran or was skipped",
    );
  });
});
