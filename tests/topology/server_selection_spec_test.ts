// Runs the Server Selection spec vectors (server_selection/, rtt/, in_window/)
// and the Max Staleness spec vectors against src/topology.
//
//   SERVER_SELECTION_SPEC_DIR  a folder holding server_selection/ rtt/ in_window/
//                              (default: tests/spec/server-selection)
//   MAX_STALENESS_SPEC_DIR     a folder holding the max-staleness vectors'
//                              ReplicaSetNoPrimary/ ReplicaSetWithPrimary/ Single/
//                              Unknown/ (and Sharded/ when present), like upstream
//                              source/max-staleness/tests (default: tests/spec/max-staleness)
// The project's own max-staleness vectors in tests/spec/max-staleness-local/
// always run too.
//
// A folder that is missing, lacks one of those sub-folders or holds no vector
// fails the run; each folder's summary line ("<folder>: files N, cases run N,
// cases passed N") is printed and asserted by its last test.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { MongoError, ServerSelectionError } from "../../src/errors.ts";
import { ReadPreference, type ReadPreferenceMode, type TagSet } from "../../src/topology/read_preference.ts";
import { chooseServer, selectServers, type ServerSelector } from "../../src/topology/server_selection.ts";
import { selectServer } from "../../src/topology/select_loop.ts";
import type { ServerDescription, ServerType } from "../../src/topology/server_description.ts";
import type { TopologyDescription, TopologyType } from "../../src/topology/topology_description.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const selectionDir = resolve(process.env.SERVER_SELECTION_SPEC_DIR || join(here, "../spec/server-selection"));
const localStalenessDir = join(here, "../spec/max-staleness-local");
const stalenessDir = resolve(process.env.MAX_STALENESS_SPEC_DIR || join(here, "../spec/max-staleness"));
const STALENESS_FOLDERS = ["ReplicaSetNoPrimary", "ReplicaSetWithPrimary", "Single", "Unknown"];

// deno-lint-ignore no-explicit-any
type Json = any;

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith(".json")) out.push(path);
  }
  return out;
}

/** Plain numbers and {"$numberLong": "..."} (Extended JSON) both appear in the vectors. */
function numberOf(value: Json): number | null {
  if (value === undefined || value === null || value === "NULL") return null;
  if (typeof value === "number") return value;
  if (typeof value === "object" && typeof value.$numberLong === "string") return Number(value.$numberLong);
  if (typeof value === "object" && typeof value.$date === "object") return numberOf(value.$date);
  throw new Error(`cannot read a number from ${JSON.stringify(value)}`);
}

function serverOf(raw: Json): ServerDescription {
  const type = raw.type as ServerType;
  const available = type !== "Unknown" && type !== "PossiblePrimary";
  return {
    address: String(raw.address),
    type,
    error: null,
    roundTripTime: numberOf(raw.avg_rtt_ms),
    lastWriteDate: numberOf(raw.lastWrite?.lastWriteDate),
    lastUpdateTime: numberOf(raw.lastUpdateTime) ?? 0,
    minWireVersion: raw.minWireVersion ?? 0,
    // Vectors that do not state a wire version describe current servers.
    maxWireVersion: raw.maxWireVersion ?? (available ? 21 : 0),
    me: null,
    hosts: [],
    passives: [],
    arbiters: [],
    tags: raw.tags ?? {},
    setName: null,
    setVersion: null,
    electionId: null,
    primary: null,
    logicalSessionTimeoutMinutes: null,
    topologyVersion: null,
    helloOk: false,
  };
}

function topologyOf(vector: Json): TopologyDescription {
  const servers = (vector.topology_description.servers as Json[]).map(serverOf);
  return {
    type: vector.topology_description.type as TopologyType,
    setName: null,
    maxSetVersion: null,
    maxElectionId: null,
    servers: new Map(servers.map((s) => [s.address, s])),
    compatible: true,
    compatibilityError: null,
    logicalSessionTimeoutMinutes: null,
    heartbeatFrequencyMS: vector.heartbeatFrequencyMS ?? 10_000,
    localThresholdMS: 15,
  };
}

// The vectors spell the MODERN modes in PascalCase: "Secondary" is modern
// secondary (2.1's SECONDARY_ONLY), never 2.1's SECONDARY.
const VECTOR_MODES: Record<string, ReadPreferenceMode> = {
  Primary: "primary",
  PrimaryPreferred: "primaryPreferred",
  Secondary: "secondary",
  SecondaryPreferred: "secondaryPreferred",
  Nearest: "nearest",
};

function readPreferenceOf(raw: Json): ReadPreference {
  if (raw === undefined || raw === null) return ReadPreference.PRIMARY;
  // A read preference document without a mode means primary (upstream
  // max-staleness/ReplicaSetWithPrimary/MaxStalenessWithModePrimary.json).
  const mode = VECTOR_MODES[raw.mode ?? "Primary"];
  if (mode === undefined) throw new Error(`unknown mode in vector: ${JSON.stringify(raw.mode)}`);
  return new ReadPreference(mode, {
    tags: raw.tag_sets as TagSet[] | undefined,
    maxStalenessSeconds: raw.maxStalenessSeconds,
  });
}

function addresses(servers: readonly { address: string }[]): string[] {
  return servers.map((s) => s.address).sort();
}

/** A topology source that never changes (every wait ends by the loop's own abort). */
function fixedSource(topology: TopologyDescription) {
  return {
    description: () => topology,
    waitForChange: (signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
    requestCheck: () => {},
  };
}

/** Small seeded PRNG (mulberry32) so in_window runs are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tally {
  files: number;
  run: number;
  passed: number;
}

/**
 * Registers one test per vector file under a describe() whose last test
 * prints the folder's summary line and asserts it: the folder and each of
 * `required` sub-folders exist, at least one vector ran, and every one passed.
 */
function folder(
  label: string,
  dir: string,
  check: (vector: Json) => void | Promise<void>,
  required: readonly string[] = [],
  envName = "SERVER_SELECTION_SPEC_DIR",
): void {
  const files = jsonFiles(dir);
  const tally: Tally = { files: files.length, run: 0, passed: 0 };
  describe(label, () => {
    for (const file of files) {
      test(`${label}/${relative(dir, file).split("\\").join("/")}`, async () => {
        tally.run += 1;
        const vector = JSON.parse(readFileSync(file, "utf8"));
        await check(vector);
        tally.passed += 1;
      });
    }
    test(`${label}: summary`, () => {
      console.log(`${label}: files ${tally.files}, cases run ${tally.run}, cases passed ${tally.passed}`);
      assert.ok(existsSync(dir), `${dir} does not exist (check ${envName})`);
      for (const sub of required) {
        assert.ok(existsSync(join(dir, sub)), `${dir} has no ${sub}/ folder (check ${envName})`);
      }
      assert.ok(tally.files > 0, `no *.json vector in ${dir} (check ${envName})`);
      assert.ok(tally.run > 0, `no ${label} vector ran`);
      assert.equal(tally.passed, tally.run, `${tally.run - tally.passed} ${label} vector(s) failed`);
    });
  });
}

async function checkSelection(vector: Json): Promise<void> {
  const topology = topologyOf(vector);
  const operation: "read" | "write" = vector.operation ?? "read";
  const deprioritized = ((vector.deprioritized_servers ?? []) as Json[]).map((s) => String(s.address));

  if (vector.error === true) {
    // The error may come when the read preference is built (e.g. a fractional
    // maxStalenessSeconds) or when it meets the topology.
    assert.throws(() => {
      const selector: ServerSelector = { operation, readPreference: readPreferenceOf(vector.read_preference) };
      selectServers(topology, selector, { deprioritized });
    }, (e: unknown) => e instanceof MongoError);
    return;
  }

  const selector: ServerSelector = { operation, readPreference: readPreferenceOf(vector.read_preference) };
  const result = selectServers(topology, selector, { deprioritized });
  if (vector.suitable_servers !== undefined) {
    assert.deepEqual(addresses(result.suitable), addresses(vector.suitable_servers), "suitable_servers");
  }
  assert.deepEqual(addresses(result.inLatencyWindow), addresses(vector.in_latency_window), "in_latency_window");

  // The chosen server is in the window, both from the pure pick and from the
  // selection loop (timeout 0: one attempt, no waiting).
  const window = new Set(addresses(vector.in_latency_window));
  const loop = selectServer(fixedSource(topology), selector, { serverSelectionTimeoutMS: 0, deprioritized });
  if (window.size > 0) {
    assert.ok(window.has(chooseServer(result.inLatencyWindow).address), "chooseServer picked outside the window");
    assert.ok(window.has((await loop).address), "selectServer picked outside the window");
  } else {
    await assert.rejects(loop, ServerSelectionError);
  }
}

async function checkRtt(vector: Json): Promise<void> {
  let mod: { updateRoundTripTime: (previous: number | null, sample: number) => number };
  try {
    mod = await import("../../src/topology/rtt.ts");
  } catch (e) {
    throw new Error(`src/topology/rtt.ts is not available (written by the SDAM helper): ${e}`);
  }
  const previous = numberOf(vector.avg_rtt_ms);
  const got = mod.updateRoundTripTime(previous, vector.new_rtt_ms);
  const want = vector.new_avg_rtt as number;
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `expected ${want}, got ${got}`);
}

function checkInWindow(vector: Json): void {
  if (vector.mocked_topology_state === undefined || vector.outcome === undefined) {
    throw new Error("not the in_window format (needs mocked_topology_state, iterations, outcome)");
  }
  const topology = topologyOf(vector);
  const counts = new Map<string, number>(
    (vector.mocked_topology_state as Json[]).map((s) => [String(s.address), Number(s.operation_count)]),
  );
  const selector: ServerSelector = { operation: "read", readPreference: ReadPreference.NEAREST };
  const { inLatencyWindow } = selectServers(topology, selector);
  const iterations = Number(vector.iterations);
  const random = seeded(0x5eed);
  const chosen = new Map<string, number>();
  for (let i = 0; i < iterations; i++) {
    const server = chooseServer(inLatencyWindow, { operationCount: (a) => counts.get(a) ?? 0, random });
    chosen.set(server.address, (chosen.get(server.address) ?? 0) + 1);
  }
  const { tolerance, expected_frequencies: expected } = vector.outcome;
  for (const [address, frequency] of Object.entries(expected as Record<string, number>)) {
    const observed = (chosen.get(address) ?? 0) / iterations;
    if (frequency === 0 || frequency === 1) {
      assert.equal(observed, frequency, `${address}: expected exactly ${frequency}, observed ${observed}`);
    } else {
      assert.ok(
        Math.abs(observed - frequency) <= tolerance,
        `${address}: expected ${frequency} ± ${tolerance}, observed ${observed}`,
      );
    }
  }
}

for (const [name, check] of [
  ["server_selection", checkSelection],
  ["rtt", checkRtt],
  ["in_window", checkInWindow],
] as const) {
  folder(name, join(selectionDir, name), check);
}

folder("max-staleness", stalenessDir, checkSelection, STALENESS_FOLDERS, "MAX_STALENESS_SPEC_DIR");
folder("max-staleness-local", localStalenessDir, checkSelection, [], "the project's tests/spec/max-staleness-local");
