/**
 * The unified test format's test-runner operations on SDAM and CMAP
 * behaviour: `waitForEvent`, `assertEventCount`, `recordTopologyDescription`,
 * `assertTopologyType`, `waitForPrimaryChange`, `assertNumberConnectionsCheckedOut`,
 * and the thread operations `runOnThread`/`waitForThread`.
 *
 * A client entity's current topology description comes from
 * `topology_snapshots.ts`.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { plain, SkipTest, TestFileError } from "./entities.ts";
import { matchEvent, type ObservedEvent } from "./events.ts";
import { isDocument, type MatchContext, MatchError } from "./matcher.ts";
import { checkError, checkResult, matchContext } from "./expectations.ts";
import type { OperationContext, OperationResult } from "./operations.ts";
import type { ThreadEntity } from "./thread_entities.ts";
import { checkedOutConnections } from "./connection_counts.ts";
import {
  currentTopology,
  type TopologySnapshot,
} from "./topology_snapshots.ts";

/**
 * How long `waitForEvent` and `waitForPrimaryChange` wait by default: the
 * format's example of 10 seconds, plus 5 because a streaming monitor's
 * awaited hello, already in flight when a test sets a fail point on hello,
 * answers only after heartbeatFrequencyMS (10 s by default), as on mongod;
 * the failing heartbeat comes then, a few ms before 10 s after the fail point.
 */
const DEFAULT_WAIT_MS = 15_000;

/** The operations of this module, by name. */
export const SDAM_RUNNER_OPERATIONS: ReadonlySet<string> = new Set([
  "waitForEvent",
  "assertEventCount",
  "recordTopologyDescription",
  "assertTopologyType",
  "waitForPrimaryChange",
  "runOnThread",
  "waitForThread",
  "assertNumberConnectionsCheckedOut",
]);

function eventLog(ctx: OperationContext, id: unknown): ObservedEvent[] {
  const log = ctx.entities.get(id, "client").events;
  if (log === undefined) {
    throw new SkipTest("monitoring events not implemented");
  }
  return log;
}

function expectedEvent(args: Document, op: string): Document {
  const event = args.event;
  if (!isDocument(event) || Object.keys(event).length !== 1) {
    throw new TestFileError(
      `${op}: event must be a document with one event name`,
    );
  }
  return event;
}

function countOf(args: Document, op: string): number {
  const n = plain(args.count);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new TestFileError(`${op}: count must be a non-negative integer`);
  }
  return n;
}

/** How many events of `log` match `expected`. */
function matching(
  log: readonly ObservedEvent[],
  expected: Document,
  m: MatchContext,
): number {
  let n = 0;
  for (const e of log) {
    try {
      matchEvent(expected, e, "event", m);
      n++;
    } catch (err) {
      if (!(err instanceof MatchError)) throw err;
    }
  }
  return n;
}

/** The observed events, for failure messages: names, with a description's type and error. */
function describeLog(log: readonly ObservedEvent[]): string {
  return log.map((e) => {
    const d = e.event.newDescription as
      | { type?: string; error?: string | null }
      | undefined;
    return d === undefined
      ? e.name
      : `${e.name}(${d.type}${d.error ? `: ${d.error}` : ""})`;
  }).join(", ");
}

async function waitUntil(
  done: () => boolean,
  timeoutMS: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMS;
  while (!done()) {
    if (Date.now() >= deadline) {
      throw new Error(`${what()} after ${timeoutMS} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The operation runner a thread calls (the shared `runOperation`, passed in to keep imports one-way). */
export type RunOperation = (
  op: Record<string, unknown>,
  ctx: OperationContext,
) => Promise<OperationResult>;

/**
 * Runs one operation with the assertions the format attaches to it:
 * `expectError`, `expectResult`, `ignoreResultAndError`, `saveResultAsEntity`.
 */
export async function runCheckedOperation(
  op: Document,
  ctx: OperationContext,
  run: RunOperation,
): Promise<void> {
  if (!isDocument(op) || typeof op.name !== "string") {
    throw new TestFileError("runOnThread: operation must be an operation");
  }
  const m = matchContext(ctx.entities);
  let result: OperationResult | undefined;
  let error: unknown;
  try {
    result = await run(op, ctx);
  } catch (e) {
    error = e;
  }
  if (op.ignoreResultAndError === true) return;
  if (op.expectError !== undefined) {
    if (error === undefined) {
      throw new Error(
        `operation ${op.name} on ${op.object}: expected an error`,
      );
    }
    checkError(op.expectError as Document, error, m);
    return;
  }
  if (error !== undefined) throw error;
  if (op.expectResult !== undefined) checkResult(op.expectResult, result!, m);
  if (typeof op.saveResultAsEntity === "string") {
    ctx.entities.set(op.saveResultAsEntity, "value", result!.value);
  }
}

/** Runs one operation of {@linkcode SDAM_RUNNER_OPERATIONS}. */
export async function runSdamOperation(
  name: string,
  args: Document,
  ctx: OperationContext,
  run: RunOperation,
): Promise<OperationResult> {
  const m = matchContext(ctx.entities);
  switch (name) {
    case "waitForEvent": {
      const log = eventLog(ctx, args.client);
      const expected = expectedEvent(args, name);
      const want = countOf(args, name);
      await waitUntil(
        () => matching(log, expected, m) >= want,
        DEFAULT_WAIT_MS,
        () =>
          `waitForEvent: client ${args.client} saw ${
            matching(log, expected, m)
          } of ${want} ${JSON.stringify(expected)} (events: ${
            describeLog(log)
          })`,
      );
      return { value: undefined };
    }
    case "assertEventCount": {
      const log = eventLog(ctx, args.client);
      const expected = expectedEvent(args, name);
      const want = countOf(args, name);
      const n = matching(log, expected, m);
      if (n !== want) {
        throw new MatchError(
          `assertEventCount: client ${args.client} published ${n} ${
            JSON.stringify(expected)
          }, expected ${want} (${describeLog(log)})`,
        );
      }
      return { value: undefined };
    }
    case "recordTopologyDescription": {
      if (typeof args.id !== "string") {
        throw new TestFileError(`${name}: id must be a string`);
      }
      const client = ctx.entities.get(args.client, "client").client;
      ctx.entities.set(args.id, "value", currentTopology(client));
      return { value: undefined };
    }
    case "assertTopologyType": {
      const td = ctx.entities.get(
        args.topologyDescription,
        "value",
      ) as TopologySnapshot;
      if (typeof td?.type !== "string") {
        throw new TestFileError(
          `${name}: ${args.topologyDescription} is not a topology description`,
        );
      }
      if (td.type !== args.topologyType) {
        throw new MatchError(
          `assertTopologyType: expected ${
            String(args.topologyType)
          }, got ${td.type}`,
        );
      }
      return { value: undefined };
    }
    case "waitForPrimaryChange": {
      const client = ctx.entities.get(args.client, "client").client;
      const prior = ctx.entities.get(
        args.priorTopologyDescription,
        "value",
      ) as TopologySnapshot;
      const timeoutMS = args.timeoutMS === undefined
        ? DEFAULT_WAIT_MS
        : Number(plain(args.timeoutMS));
      await waitUntil(
        () => {
          const p = currentTopology(client).primary;
          return p !== null && p !== prior.primary;
        },
        timeoutMS,
        () =>
          `waitForPrimaryChange: the primary is still ${
            currentTopology(client).primary ?? "none"
          }`,
      );
      return { value: undefined };
    }
    case "runOnThread": {
      const thread = ctx.entities.get(args.thread, "thread") as ThreadEntity;
      if (!isDocument(args.operation)) {
        throw new TestFileError("runOnThread: operation must be a document");
      }
      const op = args.operation;
      thread.schedule(() => runCheckedOperation(op, ctx, run));
      return { value: undefined };
    }
    case "assertNumberConnectionsCheckedOut": {
      const client = ctx.entities.get(args.client, "client").client;
      const want = plain(args.connections);
      if (typeof want !== "number" || !Number.isInteger(want) || want < 0) {
        throw new TestFileError(`${name}: connections must be a non-negative integer`);
      }
      const have = checkedOutConnections(client);
      if (have === undefined) throw new SkipTest("runner lacks a count of this client's checked-out connections");
      if (have !== want) {
        throw new MatchError(`assertNumberConnectionsCheckedOut: ${have} connection(s) checked out, expected ${want}`);
      }
      return { value: undefined };
    }
    case "waitForThread": {
      const thread = ctx.entities.get(args.thread, "thread") as ThreadEntity;
      await thread.join(String(args.thread));
      return { value: undefined };
    }
    default:
      throw new TestFileError(`${name} is not an SDAM test-runner operation`);
  }
}
