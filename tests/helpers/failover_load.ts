/**
 * Failover under load (issue 12, item 7), driver-agnostic: `writers`
 * concurrent loops insert `writesPerWriter` documents each into a simulated
 * replica set while the primary is killed `failovers` times (each kill waits
 * for a new primary). Killed members stay down: restarting one on its old
 * port can fail with EADDRINUSE once the OS has handed that port to another
 * connection, so the set needs `2 * failovers + 1` members for every kill to
 * leave a majority. Every insert carries a unique key `k`; afterwards the
 * stored documents are counted per key, so a write applied twice (or an
 * acknowledged one lost) shows. Used by `bench/failover.ts` (figures) and
 * `tests/client/failover_load_test.ts` (counts only, never durations).
 *
 * @module
 */
import type { ReplicaSet } from "../../src/testing/mod.ts";

/** One driver under test, reduced to what the scenario needs. */
export interface LoadClient {
  /** Inserts one document into the scenario's collection; resolves once acknowledged. */
  insert(doc: { k: string; w: number; i: number }): Promise<void>;
  /** The stored documents' keys (`k`), read from the primary once the set is stable. */
  storedKeys(): Promise<string[]>;
  close(): Promise<void>;
}

/** The shape of one run. */
export interface FailoverLoadOptions {
  writers: number;
  writesPerWriter: number;
  failovers: number;
  /** Pause between one writer's writes, in ms (default 2): the load is steady, not a burst. */
  pauseMS?: number;
}

/** One write's fate. */
export interface WriteOutcome {
  k: string;
  start: number;
  end: number;
  /** Undefined when acknowledged. */
  error?: unknown;
}

/** What a run saw. */
export interface FailoverLoadResult {
  writes: WriteOutcome[];
  /** Kills done. */
  failovers: number;
  /**
   * Each failover's window: from the kill to the acknowledgement of the first
   * write that started after it.
   */
  windows: { start: number; end: number }[];
  /** How many documents carry each key. */
  stored: Map<string, number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the scenario against `rs` with `client`; the caller closes both. */
export async function runFailoverLoad(
  rs: ReplicaSet,
  client: LoadClient,
  options: FailoverLoadOptions,
): Promise<FailoverLoadResult> {
  const { writers, writesPerWriter, failovers } = options;
  const pause = options.pauseMS ?? 2;
  const total = writers * writesPerWriter;
  const writes: WriteOutcome[] = [];
  const windows: { start: number; end: number }[] = [];
  let settled = 0;
  let writersDone = false;

  const writer = async (w: number) => {
    for (let i = 0; i < writesPerWriter; i++) {
      const k = `w${w}-${i}`;
      const start = performance.now();
      const outcome: WriteOutcome = { k, start, end: start };
      try {
        await client.insert({ k, w, i });
      } catch (error) {
        outcome.error = error;
      }
      outcome.end = performance.now();
      writes.push(outcome);
      settled++;
      if (outcome.error === undefined) {
        for (const win of windows) if (win.end === Infinity && start >= win.start) win.end = outcome.end;
      }
      if (pause > 0) await sleep(pause);
    }
  };

  let kills = 0;
  const killer = async () => {
    for (let f = 0; f < failovers; f++) {
      const due = Math.floor((total * (f + 1)) / (failovers + 1));
      while (settled < due && !writersDone) await sleep(2);
      if (writersDone) return;
      const old = rs.primary ?? await rs.waitForPrimary();
      windows.push({ start: performance.now(), end: Infinity });
      await rs.kill(old);
      kills++;
      await rs.waitForPrimary({ not: old });
    }
  };

  const alive = rs.members.filter((m) => m.alive).length;
  if (alive < 2 * failovers + 1) {
    throw new RangeError(`${failovers} kills need ${2 * failovers + 1} live members for a majority, the set has ${alive}`);
  }
  // Observed at once (no unhandled rejection while the writers run), rethrown below.
  const killing = killer().then(() => undefined, (error: unknown) => ({ error }));
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  writersDone = true;
  const failed = await killing;
  if (failed !== undefined) throw failed.error;
  await rs.waitForPrimary();
  await rs.waitForReplication();
  const stored = new Map<string, number>();
  for (const k of await client.storedKeys()) stored.set(k, (stored.get(k) ?? 0) + 1);
  return { writes, failovers: kills, windows, stored };
}

/** Figures of a run, as the bench prints them and the test checks them. */
export interface FailoverSummary {
  writes: number;
  acknowledged: number;
  failovers: number;
  /** Errors that reached the writers, by class name. */
  errors: Record<string, number>;
  /** Acknowledged writes not stored, or stored more than once. */
  acknowledgedLost: number;
  acknowledgedDuplicated: number;
  /** Failed writes whose document is stored anyway (the server applied them; the driver could not know). */
  failedButStored: number;
  /** Any key stored twice or more. */
  duplicates: number;
  /** Latencies (ms) of the writes in flight during a failover window, and of all writes. */
  duringFailover: number[];
  all: number[];
}

/** Tallies a run. */
export function summarize(result: FailoverLoadResult): FailoverSummary {
  const errors: Record<string, number> = {};
  let acknowledged = 0, acknowledgedLost = 0, acknowledgedDuplicated = 0, failedButStored = 0;
  const duringFailover: number[] = [];
  const all: number[] = [];
  for (const w of result.writes) {
    const n = result.stored.get(w.k) ?? 0;
    const ms = w.end - w.start;
    all.push(ms);
    if (result.windows.some((win) => w.start <= win.end && w.end >= win.start)) duringFailover.push(ms);
    if (w.error === undefined) {
      acknowledged++;
      if (n === 0) acknowledgedLost++;
      if (n > 1) acknowledgedDuplicated++;
    } else {
      const name = (w.error as { name?: string })?.name ?? typeof w.error;
      errors[name] = (errors[name] ?? 0) + 1;
      if (n > 0) failedButStored++;
    }
  }
  const duplicates = [...result.stored.values()].filter((n) => n > 1).length;
  return {
    writes: result.writes.length,
    acknowledged,
    failovers: result.failovers,
    errors,
    acknowledgedLost,
    acknowledgedDuplicated,
    failedButStored,
    duplicates,
    duringFailover,
    all,
  };
}

/** The `p`-th percentile (nearest rank) of `xs`; NaN for none. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
