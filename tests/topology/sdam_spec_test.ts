// Runs the Server Discovery and Monitoring spec vectors (rs/, single/,
// errors/, monitoring/) against the pure SDAM functions of src/topology.
//
//   SDAM_SPEC_DIR  a folder holding rs/ single/ errors/ monitoring/
//                  (default: tests/spec/server-discovery-and-monitoring)
//
// A case is one phase of a file. Each file is one test named after it. Each
// folder's last test prints its summary line ("sdam/<folder>: files N, cases
// run N, cases passed N") and asserts it: a missing folder, one without a
// vector, or a failed case fails the run.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  loadBalancerServerDescription,
  type ServerDescription,
  serverDescriptionFromHello,
  unknownServerDescription,
} from "../../src/topology/server_description.ts";
import {
  applyServerDescription,
  initialTopologyDescription,
  type TopologyDescription,
} from "../../src/topology/topology_description.ts";
import { type ApplicationError, handleApplicationError } from "../../src/topology/sdam_errors.ts";
import { type SdamEvent, topologyEvents } from "../../src/topology/sdam_events.ts";
import { hostAddressToString, parseConnectionString } from "../../src/topology/connection_string.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const specDir = resolve(process.env.SDAM_SPEC_DIR || join(here, "../spec/server-discovery-and-monitoring"));
const FOLDERS = ["rs", "single", "errors", "monitoring"] as const;

// deno-lint-ignore no-explicit-any
type Json = any;

/** A stand-in ObjectId that is not the project's nor js-bson's: the parser must duck-type it. */
class FakeObjectId {
  readonly #hex: string;
  constructor(hex: string) {
    this.#hex = hex;
  }
  toHexString(): string {
    return this.#hex;
  }
}

/** Extended JSON as the vectors use it -> plain values ($oid -> ObjectId-like, $numberLong -> bigint). */
function fromEjson(value: Json): Json {
  if (Array.isArray(value)) return value.map(fromEjson);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    if (keys[0] === "$oid") return new FakeObjectId(value.$oid);
    if (keys[0] === "$numberLong") return BigInt(value.$numberLong);
    if (keys[0] === "$numberInt") return Number(value.$numberInt);
    if (keys[0] === "$numberDouble") return Number(value.$numberDouble);
    if (keys[0] === "$date") {
      const d = value.$date;
      return new Date(typeof d === "object" ? Number(d.$numberLong) : d);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fromEjson(value[k]);
  return out;
}

function oidHex(value: Json): string | null {
  if (value === null) return null;
  return String(value.$oid).toLowerCase();
}

function topologyVersionOf(value: Json): { processId: string; counter: bigint } | null {
  if (value === null) return null;
  return { processId: oidHex(value.processId) as string, counter: BigInt(value.counter.$numberLong ?? value.counter) };
}

interface FileResult {
  phases: number;
  passed: number;
  failures: string[];
}

function check(failures: string[], where: string, actual: unknown, expected: unknown): void {
  try {
    assert.deepStrictEqual(actual, expected);
  } catch {
    failures.push(`${where}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x);
}

function compareServer(failures: string[], where: string, sd: ServerDescription | undefined, exp: Json, generation: number) {
  if (sd === undefined) {
    failures.push(`${where}: server missing from the topology`);
    return;
  }
  check(failures, `${where}.type`, sd.type, exp.type);
  if ("setName" in exp) check(failures, `${where}.setName`, sd.setName, exp.setName);
  if ("setVersion" in exp) check(failures, `${where}.setVersion`, sd.setVersion, exp.setVersion);
  if ("electionId" in exp) check(failures, `${where}.electionId`, sd.electionId, oidHex(exp.electionId));
  if ("topologyVersion" in exp) {
    check(failures, `${where}.topologyVersion`, sd.topologyVersion, topologyVersionOf(exp.topologyVersion));
  }
  if ("logicalSessionTimeoutMinutes" in exp) {
    check(failures, `${where}.logicalSessionTimeoutMinutes`, sd.logicalSessionTimeoutMinutes, exp.logicalSessionTimeoutMinutes);
  }
  if ("minWireVersion" in exp) check(failures, `${where}.minWireVersion`, sd.minWireVersion, exp.minWireVersion);
  if ("maxWireVersion" in exp) check(failures, `${where}.maxWireVersion`, sd.maxWireVersion, exp.maxWireVersion);
  if ("error" in exp) {
    if (exp.error === null) check(failures, `${where}.error`, sd.error, null);
    else if (sd.error === null || !sd.error.includes(exp.error)) {
      failures.push(`${where}.error: expected a message containing ${show(exp.error)}, got ${show(sd.error)}`);
    }
  }
  if (exp.pool !== undefined && "generation" in exp.pool) {
    check(failures, `${where}.pool.generation`, generation, exp.pool.generation);
  }
}

function compareOutcome(failures: string[], td: TopologyDescription, pools: Map<string, number>, outcome: Json) {
  check(failures, "topologyType", td.type, outcome.topologyType);
  if ("setName" in outcome) check(failures, "setName", td.setName, outcome.setName);
  if ("logicalSessionTimeoutMinutes" in outcome) {
    check(failures, "logicalSessionTimeoutMinutes", td.logicalSessionTimeoutMinutes, outcome.logicalSessionTimeoutMinutes);
  }
  if ("maxSetVersion" in outcome) check(failures, "maxSetVersion", td.maxSetVersion, outcome.maxSetVersion);
  if ("maxElectionId" in outcome) check(failures, "maxElectionId", td.maxElectionId, oidHex(outcome.maxElectionId));
  if ("compatible" in outcome) check(failures, "compatible", td.compatible, outcome.compatible);
  if (outcome.servers !== undefined) {
    check(failures, "servers", [...td.servers.keys()].sort(), Object.keys(outcome.servers).sort());
    for (const [address, exp] of Object.entries(outcome.servers)) {
      compareServer(failures, `servers[${address}]`, td.servers.get(address), exp, pools.get(address) ?? 0);
    }
  }
}

function compareEventServer(failures: string[], where: string, sd: ServerDescription, exp: Json) {
  for (const key of Object.keys(exp)) {
    const actual = (sd as unknown as Record<string, unknown>)[key];
    if (key === "hosts" || key === "passives" || key === "arbiters") {
      check(failures, `${where}.${key}`, [...(actual as string[])].sort(), [...exp[key]].sort());
    } else {
      check(failures, `${where}.${key}`, actual, exp[key]);
    }
  }
}

function compareEventTopology(failures: string[], where: string, td: TopologyDescription, exp: Json) {
  check(failures, `${where}.topologyType`, td.type, exp.topologyType);
  if ("setName" in exp) check(failures, `${where}.setName`, td.setName, exp.setName);
  const expected = new Map<string, Json>(exp.servers.map((s: Json) => [s.address, s]));
  check(failures, `${where}.servers`, [...td.servers.keys()].sort(), [...expected.keys()].sort());
  for (const [address, s] of expected) {
    const sd = td.servers.get(address);
    if (sd !== undefined) compareEventServer(failures, `${where}.servers[${address}]`, sd, s);
  }
}

function compareEvents(failures: string[], events: SdamEvent[], expected: Json[]) {
  const actualNames = events.map((e) => `${e.type}_event`);
  const expectedNames = expected.map((e) => Object.keys(e)[0]);
  check(failures, "events", actualNames, expectedNames);
  if (actualNames.join() !== expectedNames.join()) return;
  expected.forEach((wrapped, i) => {
    const name = expectedNames[i];
    const exp = wrapped[name];
    const e = events[i];
    const where = `events[${i}] ${name}`;
    if (e.type === "server_opening" || e.type === "server_closed") {
      check(failures, `${where}.address`, e.address, exp.address);
    } else if (e.type === "server_description_changed") {
      check(failures, `${where}.address`, e.address, exp.address);
      compareEventServer(failures, `${where}.previousDescription`, e.previousDescription, exp.previousDescription);
      compareEventServer(failures, `${where}.newDescription`, e.newDescription, exp.newDescription);
    } else if (e.type === "topology_description_changed") {
      compareEventTopology(failures, `${where}.previousDescription`, e.previousDescription, exp.previousDescription);
      compareEventTopology(failures, `${where}.newDescription`, e.newDescription, exp.newDescription);
    }
  });
}

function runFile(path: string): FileResult {
  const spec: Json = JSON.parse(readFileSync(path, "utf8"));
  const cs = parseConnectionString(spec.uri, { onWarning: () => {} });
  let td = initialTopologyDescription(cs.hosts.map(hostAddressToString), {
    replicaSet: cs.options.replicaSet ?? null,
    directConnection: cs.options.directConnection ?? false,
    loadBalanced: cs.options.loadBalanced ?? false,
    ...(cs.options.heartbeatFrequencyMS === undefined ? {} : { heartbeatFrequencyMS: cs.options.heartbeatFrequencyMS }),
  });
  const pools = new Map<string, number>();
  const clear = (address: string) => pools.set(address, (pools.get(address) ?? 0) + 1);
  let events: SdamEvent[] = topologyEvents(null, td);
  const apply = (sd: ServerDescription) => {
    const update = applyServerDescription(td, sd);
    for (const a of update.clearPools) clear(a);
    events.push(...topologyEvents(td, update.topology));
    td = update.topology;
  };
  if (td.type === "LoadBalanced") {
    // A load balancer is never checked; the driver assumes its type at once.
    for (const address of td.servers.keys()) apply(loadBalancerServerDescription(address));
  }
  const result: FileResult = { phases: 0, passed: 0, failures: [] };
  spec.phases.forEach((phase: Json, i: number) => {
    result.phases++;
    const failures: string[] = [];
    try {
      let now = 1000;
      for (const [address, reply] of phase.responses ?? []) {
        now += 10;
        if (Object.keys(reply).length === 0) {
          // A failed check: the monitor marks the server Unknown and clears its pool.
          if (td.servers.has(address)) clear(address);
          apply(unknownServerDescription(address, "network error (simulated by the test)"));
        } else {
          const prev = td.servers.get(address)?.roundTripTime ?? null;
          apply(serverDescriptionFromHello(address, fromEjson(reply), { roundTripTime: 5, previousRoundTripTime: prev, now }));
        }
      }
      for (const raw of phase.applicationErrors ?? []) {
        const error: ApplicationError = {
          address: raw.address,
          type: raw.type,
          when: raw.when,
          maxWireVersion: raw.maxWireVersion,
          ...(raw.generation === undefined ? {} : { generation: raw.generation }),
          ...(raw.response === undefined ? {} : { response: fromEjson(raw.response) }),
        };
        const out = handleApplicationError(td, error, { poolGeneration: pools.get(raw.address) ?? 0 });
        if (out.clearPool) clear(raw.address);
        events.push(...topologyEvents(td, out.topology));
        td = out.topology;
      }
      if (phase.outcome.events !== undefined) compareEvents(failures, events, phase.outcome.events);
      else compareOutcome(failures, td, pools, phase.outcome);
    } catch (e) {
      failures.push(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    events = [];
    if (failures.length === 0) result.passed++;
    else result.failures.push(`phase ${i}${phase.description ? ` (${phase.description})` : ""}:\n    ${failures.join("\n    ")}`);
  });
  return result;
}

for (const folder of FOLDERS) {
  const dir = join(specDir, folder);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
  describe(`sdam/${folder}`, () => {
    const totals = { files: 0, run: 0, passed: 0 };
    for (const file of files) {
      test(`${folder}/${file}`, () => {
        totals.files++;
        const r = runFile(join(dir, file));
        totals.run += r.phases;
        totals.passed += r.passed;
        assert.ok(r.phases > 0, `${folder}/${file} has no phases`);
        assert.equal(r.failures.length, 0, `${folder}/${file}:\n  ${r.failures.join("\n  ")}`);
      });
    }
    test(`sdam/${folder}: summary`, () => {
      console.log(`sdam/${folder}: files ${totals.files}, cases run ${totals.run}, cases passed ${totals.passed}`);
      assert.ok(existsSync(dir), `${dir} does not exist (check SDAM_SPEC_DIR)`);
      assert.ok(files.length > 0, `no *.json in ${dir} (check SDAM_SPEC_DIR)`);
      assert.equal(totals.files, files.length, "every vector file ran");
      assert.ok(totals.run > 0, `no sdam/${folder} case ran`);
      assert.equal(totals.passed, totals.run, `${totals.run - totals.passed} sdam/${folder} case(s) failed`);
    });
  });
}
