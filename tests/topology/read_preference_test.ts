// The PyMongo replica-set guide's read-preference situations, validation, and
// the selection loop, against hand-built topology descriptions (no sockets).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, MongoError, OptionTypeError, ServerSelectionError } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { chooseServer, selectServers, type ServerSelector, writeStageReadPreference } from "../../src/topology/server_selection.ts";
import { selectServer, type TopologySource } from "../../src/topology/select_loop.ts";
import type { ServerDescription, ServerType } from "../../src/topology/server_description.ts";
import type { TopologyDescription, TopologyType } from "../../src/topology/topology_description.ts";

interface MemberOptions {
  rtt?: number | null;
  tags?: Record<string, string>;
  error?: string | null;
  maxWireVersion?: number;
  lastWriteDate?: number | null;
  lastUpdateTime?: number;
}

function member(address: string, type: ServerType, options: MemberOptions = {}): ServerDescription {
  const unknown = type === "Unknown";
  return {
    address,
    type,
    error: options.error ?? null,
    roundTripTime: options.rtt === undefined ? (unknown ? null : 5) : options.rtt,
    lastWriteDate: options.lastWriteDate ?? null,
    lastUpdateTime: options.lastUpdateTime ?? 0,
    minWireVersion: 0,
    maxWireVersion: options.maxWireVersion ?? (unknown ? 0 : 21),
    me: unknown ? null : address,
    hosts: [],
    passives: [],
    arbiters: [],
    tags: options.tags ?? {},
    setName: type.startsWith("RS") ? "rs" : null,
    setVersion: null,
    electionId: null,
    primary: null,
    logicalSessionTimeoutMinutes: null,
    topologyVersion: null,
    helloOk: true,
  };
}

function topology(
  type: TopologyType,
  servers: ServerDescription[],
  extra: Partial<TopologyDescription> = {},
): TopologyDescription {
  return {
    type,
    setName: type.startsWith("ReplicaSet") ? "rs" : null,
    maxSetVersion: null,
    maxElectionId: null,
    servers: new Map(servers.map((s) => [s.address, s])),
    compatible: true,
    compatibilityError: null,
    logicalSessionTimeoutMinutes: null,
    heartbeatFrequencyMS: 10_000,
    localThresholdMS: 15,
    ...extra,
  };
}

function read(readPreference: ReadPreference): ServerSelector {
  return { operation: "read", readPreference };
}

function suitable(t: TopologyDescription, selector: ServerSelector): string[] {
  return selectServers(t, selector).suitable.map((s) => s.address).sort();
}

/** A fake topology whose description the test replaces; waiters wake on each change. */
class FakeTopology implements TopologySource {
  #description: TopologyDescription;
  #waiters = new Set<() => void>();
  checks = 0;
  waits = 0;
  abortedWaits = 0;

  constructor(description: TopologyDescription) {
    this.#description = description;
  }

  description(): TopologyDescription {
    return this.#description;
  }

  waitForChange(signal: AbortSignal): Promise<void> {
    this.waits += 1;
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", () => {
        if (this.#waiters.delete(wake)) this.abortedWaits += 1;
        resolve();
      }, { once: true });
    });
  }

  requestCheck(): void {
    this.checks += 1;
  }

  get pendingWaits(): number {
    return this.#waiters.size;
  }

  change(description: TopologyDescription): void {
    this.#description = description;
    for (const wake of [...this.#waiters]) wake();
  }
}

/** Lets queued promise callbacks run, a bounded number of turns. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

const primaryOnly = topology("ReplicaSetWithPrimary", [
  member("a:27017", "RSPrimary"),
  member("b:27017", "Unknown", { error: "connection refused" }),
]);

const secondariesOnly = topology("ReplicaSetNoPrimary", [
  member("b:27017", "RSSecondary"),
  member("c:27017", "RSSecondary"),
  member("a:27017", "Unknown", { error: "connection closed" }),
]);

describe("the guide's names and the modern modes", () => {
  test("static members carry the PyMongo 2.1 meanings", () => {
    assert.equal(ReadPreference.PRIMARY.mode, "primary");
    assert.equal(ReadPreference.SECONDARY.mode, "secondaryPreferred");
    assert.equal(ReadPreference.SECONDARY_ONLY.mode, "secondary");
    assert.equal(ReadPreference.PRIMARY_PREFERRED.mode, "primaryPreferred");
    assert.equal(ReadPreference.NEAREST.mode, "nearest");
    assert.equal(ReadPreference.SECONDARY_PREFERRED, ReadPreference.SECONDARY);
  });

  test('from(): lowercase "secondary" is modern, "SECONDARY" is 2.1', () => {
    assert.equal(ReadPreference.from("secondary").mode, "secondary");
    assert.equal(ReadPreference.from("SECONDARY").mode, "secondaryPreferred");
    assert.equal(ReadPreference.from("SECONDARY_ONLY").mode, "secondary");
    assert.equal(ReadPreference.from("SECONDARY"), ReadPreference.SECONDARY);
    assert.ok(ReadPreference.from("secondary").equals(ReadPreference.SECONDARY_ONLY));
    assert.ok(!ReadPreference.SECONDARY.equals(ReadPreference.SECONDARY_ONLY));
    const doc = ReadPreference.from({ mode: "SECONDARY", tags: [{ dc: "ny" }] });
    assert.equal(doc.mode, "secondaryPreferred");
    assert.deepEqual(doc.tags, [{ dc: "ny" }]);
    const same = new ReadPreference("nearest");
    assert.equal(ReadPreference.from(same), same);
  });

  test("ambiguous or unknown spellings are rejected, not guessed", () => {
    for (const bad of ["Secondary", "secondary_only", "SecondaryPreferred", "", "slave_okay"]) {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => ReadPreference.from(bad as any), ConfigurationError, bad);
    }
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new ReadPreference("SECONDARY" as any), /PyMongo 2\.1 name/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => ReadPreference.from(42 as any), OptionTypeError);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => ReadPreference.from(null as any), OptionTypeError);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => ReadPreference.from({} as any), /needs a mode/);
  });

  test("toDocument, toString, legacyName", () => {
    assert.deepEqual(ReadPreference.PRIMARY.toDocument(), { mode: "primary" });
    assert.deepEqual(ReadPreference.SECONDARY.toDocument(), { mode: "secondaryPreferred" });
    assert.deepEqual(new ReadPreference("nearest", { tags: [{}] }).toDocument(), { mode: "nearest" });
    assert.deepEqual(
      new ReadPreference("secondary", { tags: [{ dc: "ny" }, {}], maxStalenessSeconds: 120 }).toDocument(),
      { mode: "secondary", tags: [{ dc: "ny" }, {}], maxStalenessSeconds: 120 },
    );
    assert.deepEqual(new ReadPreference("nearest", { hedge: {} }).toDocument(), {
      mode: "nearest",
      hedge: { enabled: true },
    });
    assert.deepEqual(new ReadPreference("secondary", { maxStalenessSeconds: -1 }).toDocument(), { mode: "secondary" });
    assert.equal(String(ReadPreference.SECONDARY), "secondaryPreferred (SECONDARY)");
    assert.equal(
      String(new ReadPreference("secondary", { tags: [{ dc: "ny" }], maxStalenessSeconds: 90 })),
      'secondary (SECONDARY_ONLY), tags [{"dc":"ny"}], maxStalenessSeconds 90',
    );
    assert.equal(ReadPreference.NEAREST.legacyName, "NEAREST");
    assert.equal(ReadPreference.PRIMARY.secondaryOk, false);
    assert.equal(ReadPreference.NEAREST.secondaryOk, true);
  });

  test("instances and their tags are immutable copies", () => {
    const tags = [{ dc: "ny" }];
    const rp = new ReadPreference("secondary", { tags });
    tags[0].dc = "sf";
    assert.deepEqual(rp.tags, [{ dc: "ny" }]);
    assert.ok(Object.isFrozen(rp) && Object.isFrozen(rp.tags) && Object.isFrozen(rp.tags[0]));
  });
});

describe("validation", () => {
  test("tags with primary are a ConfigurationError; empty tag sets are fine", () => {
    assert.throws(() => new ReadPreference("primary", { tags: [{ dc: "ny" }] }), ConfigurationError);
    assert.throws(() => ReadPreference.from({ mode: "PRIMARY", tags: [{}, { dc: "ny" }] }), /cannot have tag sets/);
    assert.doesNotThrow(() => new ReadPreference("primary", { tags: [{}] }));
  });

  test("maxStalenessSeconds with primary, and malformed values, are ConfigurationErrors (a string an OptionTypeError)", () => {
    assert.throws(() => new ReadPreference("primary", { maxStalenessSeconds: 120 }), /cannot have maxStalenessSeconds/);
    assert.doesNotThrow(() => new ReadPreference("primary", { maxStalenessSeconds: -1 }));
    assert.equal(new ReadPreference("nearest", { maxStalenessSeconds: -1 }).maxStalenessSeconds, undefined);
    for (const bad of [-2, 1.5, Number.NaN, Infinity, "120"]) {
      const expected = typeof bad === "string" ? OptionTypeError : ConfigurationError;
      // deno-lint-ignore no-explicit-any
      assert.throws(() => new ReadPreference("secondary", { maxStalenessSeconds: bad as any }), expected);
    }
  });

  test("malformed tag sets are ConfigurationErrors naming the problem", () => {
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new ReadPreference("secondary", { tags: { dc: "ny" } as any }), /must be an array/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new ReadPreference("secondary", { tags: [{ dc: 1 }] as any }), /"dc" must be a string/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new ReadPreference("secondary", { tags: ["dc"] as any }), /tag set 0/);
  });

  test("maxStalenessSeconds is checked against the replica set's heartbeat at selection", () => {
    const rs = topology("ReplicaSetWithPrimary", [member("a:27017", "RSPrimary"), member("b:27017", "RSSecondary")]);
    const small = read(new ReadPreference("secondary", { maxStalenessSeconds: 60 }));
    assert.throws(() => selectServers(rs, small), /at least 90/);
    const slowHeartbeat = { ...rs, heartbeatFrequencyMS: 95_000 };
    const hundred = read(new ReadPreference("secondary", { maxStalenessSeconds: 100 }));
    assert.throws(() => selectServers(slowHeartbeat, hundred), /heartbeatFrequencyMS 95000/);
    assert.doesNotThrow(() => selectServers(rs, hundred));
    // Writes ignore the read preference entirely.
    assert.doesNotThrow(() => selectServers(rs, { operation: "write", readPreference: small.readPreference }));
    // A mongos takes any value: the 90 s floor is for replica sets.
    const sharded = topology("Sharded", [member("m:27017", "Mongos")]);
    assert.deepEqual(suitable(sharded, small), ["m:27017"]);
  });

  test("maxStalenessSeconds against a server older than wire version 5 is an error", () => {
    const rs = topology("ReplicaSetWithPrimary", [
      member("a:27017", "RSPrimary"),
      member("b:27017", "RSSecondary", { maxWireVersion: 4 }),
    ]);
    const rp = read(new ReadPreference("nearest", { maxStalenessSeconds: 120 }));
    assert.throws(() => selectServers(rs, rp), /b:27017 has maxWireVersion 4/);
  });

  test("an incompatible topology is a ServerSelectionError carrying its reason", () => {
    const t = topology("ReplicaSetWithPrimary", [member("a:27017", "RSPrimary", { maxWireVersion: 1 })], {
      compatible: false,
      compatibilityError: "a:27017 reports maxWireVersion 1, this driver needs at least 2",
    });
    assert.throws(() => selectServers(t, read(ReadPreference.PRIMARY)), (e: unknown) =>
      e instanceof ServerSelectionError && /maxWireVersion 1/.test(e.message));
  });

  test("bad selector and options are ConfigurationErrors", () => {
    // deno-lint-ignore no-explicit-any
    assert.throws(() => selectServers(primaryOnly, { operation: "query" } as any), ConfigurationError);
    assert.throws(() => selectServers(primaryOnly, read(ReadPreference.PRIMARY), { localThresholdMS: -1 }), /localThresholdMS/);
  });
});

describe("selection situations from the guide", () => {
  test("SECONDARY with no secondaries selects the primary", async () => {
    assert.deepEqual(suitable(primaryOnly, read(ReadPreference.SECONDARY)), ["a:27017"]);
    const source = new FakeTopology(primaryOnly);
    const server = await selectServer(source, read(ReadPreference.SECONDARY), { serverSelectionTimeoutMS: 50 });
    assert.equal(server.address, "a:27017");
    assert.equal(source.waits, 0, "no wait when a server is suitable");
  });

  test("SECONDARY prefers secondaries when there are some", () => {
    const rs = topology("ReplicaSetWithPrimary", [member("a:27017", "RSPrimary"), member("b:27017", "RSSecondary")]);
    assert.deepEqual(suitable(rs, read(ReadPreference.SECONDARY)), ["b:27017"]);
    assert.deepEqual(suitable(rs, read(ReadPreference.SECONDARY_ONLY)), ["b:27017"]);
    assert.deepEqual(suitable(rs, read(ReadPreference.PRIMARY_PREFERRED)), ["a:27017"]);
    assert.deepEqual(suitable(rs, read(ReadPreference.NEAREST)), ["a:27017", "b:27017"]);
  });

  test("SECONDARY_ONLY with no secondaries times out with a ServerSelectionError naming mode and servers", async () => {
    const source = new FakeTopology(primaryOnly);
    await assert.rejects(
      selectServer(source, read(ReadPreference.SECONDARY_ONLY), { serverSelectionTimeoutMS: 50 }),
      (e: unknown) => {
        assert.ok(e instanceof ServerSelectionError);
        assert.match(e.message, /timed out after 50 ms/);
        assert.match(e.message, /read preference secondary \(SECONDARY_ONLY\)/);
        assert.match(e.message, /ReplicaSetWithPrimary "rs"/);
        assert.match(e.message, /a:27017 RSPrimary/);
        assert.match(e.message, /b:27017 Unknown \(error: connection refused\)/);
        return true;
      },
    );
    assert.ok(source.checks >= 1, "an immediate check was requested");
    assert.equal(source.pendingWaits, 0, "every wait was released");
  });

  test("PRIMARY with only secondaries waits, then selects the newly elected primary", async () => {
    const source = new FakeTopology(secondariesOnly);
    let settled = false;
    const pending = selectServer(source, read(ReadPreference.PRIMARY), { serverSelectionTimeoutMS: 60_000 })
      .finally(() => settled = true);
    await settle();
    assert.equal(settled, false, "selection must wait while there is no primary");
    assert.equal(source.pendingWaits, 1);
    assert.ok(source.checks >= 1);
    source.change(topology("ReplicaSetWithPrimary", [
      member("b:27017", "RSSecondary"),
      member("c:27017", "RSPrimary"),
      member("a:27017", "Unknown"),
    ]));
    assert.equal((await pending).address, "c:27017");
    assert.equal(source.pendingWaits, 0);
  });

  test("a write in a replica set without a primary waits; a write never goes to a secondary", () => {
    assert.deepEqual(suitable(secondariesOnly, { operation: "write", readPreference: ReadPreference.NEAREST }), []);
  });

  test("an abort signal rejects promptly with the signal's reason", async () => {
    const source = new FakeTopology(secondariesOnly);
    const controller = new AbortController();
    const pending = selectServer(source, read(ReadPreference.PRIMARY), {
      serverSelectionTimeoutMS: 60_000,
      signal: controller.signal,
    });
    await settle(2);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
    assert.equal(source.pendingWaits, 0, "the source's wait was released");
    assert.equal(source.abortedWaits, 1);
  });

  test("an already aborted signal rejects before selecting", async () => {
    const source = new FakeTopology(primaryOnly);
    const reason = new Error("too late");
    await assert.rejects(
      selectServer(source, read(ReadPreference.PRIMARY), {
        serverSelectionTimeoutMS: 1000,
        signal: AbortSignal.abort(reason),
      }),
      (e: unknown) => e === reason,
    );
  });

  test("configuration errors reject at once instead of waiting", async () => {
    const source = new FakeTopology(primaryOnly);
    await assert.rejects(
      selectServer(source, read(new ReadPreference("secondary", { maxStalenessSeconds: 10 })), {
        serverSelectionTimeoutMS: 60_000,
      }),
      ConfigurationError,
    );
    assert.equal(source.waits, 0);
    await assert.rejects(
      selectServer(source, read(ReadPreference.PRIMARY), { serverSelectionTimeoutMS: -1 }),
      /serverSelectionTimeoutMS/,
    );
  });

  test("serverSelectionTimeoutMS 0 is a single attempt", async () => {
    const source = new FakeTopology(secondariesOnly);
    await assert.rejects(
      selectServer(source, read(ReadPreference.PRIMARY), { serverSelectionTimeoutMS: 0 }),
      ServerSelectionError,
    );
    assert.equal(source.waits, 0);
  });

  test("a source whose wait fails passes its error on", async () => {
    const failure = new MongoError("topology closed");
    const source: TopologySource = {
      description: () => secondariesOnly,
      waitForChange: () => Promise.reject(failure),
      requestCheck: () => {},
    };
    await assert.rejects(
      selectServer(source, read(ReadPreference.PRIMARY), { serverSelectionTimeoutMS: 60_000 }),
      (e: unknown) => e === failure,
    );
  });
});

describe("tag sets", () => {
  const rs = topology("ReplicaSetWithPrimary", [
    member("a:27017", "RSPrimary", { tags: { dc: "ny" } }),
    member("b:27017", "RSSecondary", { tags: { dc: "sf", rack: "1" } }),
    member("c:27017", "RSSecondary", { tags: { dc: "la" } }),
  ]);

  test("tried in order: the first set that matches decides", () => {
    const rp = new ReadPreference("secondary", { tags: [{ dc: "ny" }, { dc: "sf" }, {}] });
    assert.deepEqual(suitable(rs, read(rp)), ["b:27017"]);
    const laFirst = new ReadPreference("secondary", { tags: [{ dc: "la" }, { dc: "sf" }] });
    assert.deepEqual(suitable(rs, read(laFirst)), ["c:27017"]);
  });

  test("a set matches when it is a subset of the server's tags; {} matches all", () => {
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondary", { tags: [{ dc: "sf", rack: "1" }] }))), [
      "b:27017",
    ]);
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondary", { tags: [{ dc: "sf", rack: "2" }] }))), []);
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondary", { tags: [{ dc: "tokyo" }, {}] }))), [
      "b:27017",
      "c:27017",
    ]);
  });

  test("no matching set: secondary finds none, secondaryPreferred falls back to the primary", () => {
    const tags = [{ dc: "tokyo" }];
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondary", { tags }))), []);
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondaryPreferred", { tags }))), ["a:27017"]);
    assert.deepEqual(suitable(rs, read(new ReadPreference("nearest", { tags: [{ dc: "ny" }] }))), ["a:27017"]);
  });
});

describe("max staleness, latency window, deprioritized servers, the final choice", () => {
  test("a secondary staler than maxStalenessSeconds is not eligible", () => {
    const rs = topology("ReplicaSetWithPrimary", [
      member("a:27017", "RSPrimary", { lastWriteDate: 1_000_000, lastUpdateTime: 1_000_000 }),
      member("b:27017", "RSSecondary", { lastWriteDate: 990_000, lastUpdateTime: 1_000_000 }),
      member("c:27017", "RSSecondary", { lastWriteDate: 800_000, lastUpdateTime: 1_000_000 }),
      member("d:27017", "RSSecondary", { lastWriteDate: null, lastUpdateTime: 1_000_000 }),
    ]);
    // b: 10 s behind + 10 s heartbeat = 20 s; c: 200 s + 10 s = 210 s.
    const rp = new ReadPreference("secondary", { maxStalenessSeconds: 120 });
    assert.deepEqual(suitable(rs, read(rp)), ["b:27017"]);
    assert.deepEqual(suitable(rs, read(new ReadPreference("secondary"))), ["b:27017", "c:27017", "d:27017"]);
  });

  test("the latency window is localThresholdMS above the fastest suitable server", () => {
    const t = topology("Sharded", [
      member("a:27017", "Mongos", { rtt: 10 }),
      member("b:27017", "Mongos", { rtt: 25 }),
      member("c:27017", "Mongos", { rtt: 26 }),
    ]);
    const window = (o?: number) =>
      selectServers(t, read(ReadPreference.PRIMARY), { localThresholdMS: o }).inLatencyWindow.map((s) => s.address);
    assert.deepEqual(window(), ["a:27017", "b:27017"]);
    assert.deepEqual(window(0), ["a:27017"]);
    assert.deepEqual(window(100), ["a:27017", "b:27017", "c:27017"]);
  });

  test("a server with no RTT yet (a load balancer) stays in the window", () => {
    const lb = topology("LoadBalanced", [member("lb:27017", "LoadBalancer", { rtt: null })]);
    assert.deepEqual(selectServers(lb, read(ReadPreference.NEAREST)).inLatencyWindow.map((s) => s.address), [
      "lb:27017",
    ]);
  });

  test("Single ignores the read preference: a direct connection to a secondary serves PRIMARY reads", () => {
    const single = topology("Single", [member("b:27017", "RSSecondary")]);
    assert.deepEqual(suitable(single, read(ReadPreference.PRIMARY)), ["b:27017"]);
    assert.deepEqual(suitable(topology("Single", [member("b:27017", "Unknown")]), read(ReadPreference.PRIMARY)), []);
  });

  test("deprioritized servers are used only when nothing else is suitable", () => {
    const t = topology("Sharded", [member("a:27017", "Mongos"), member("b:27017", "Mongos")]);
    const sel = read(ReadPreference.PRIMARY);
    assert.deepEqual(selectServers(t, sel, { deprioritized: ["a:27017"] }).suitable.map((s) => s.address), [
      "b:27017",
    ]);
    assert.deepEqual(
      selectServers(t, sel, { deprioritized: ["a:27017", "b:27017"] }).suitable.map((s) => s.address),
      ["a:27017", "b:27017"],
    );
  });

  test("chooseServer takes the less busy of two random picks", () => {
    const servers = [member("a:27017", "Mongos"), member("b:27017", "Mongos")];
    const busy = new Map([["a:27017", 9], ["b:27017", 1]]);
    for (const r of [0, 0.3, 0.6, 0.99]) {
      const chosen = chooseServer(servers, { operationCount: (a) => busy.get(a) ?? 0, random: () => r });
      assert.equal(chosen.address, "b:27017");
    }
    assert.equal(chooseServer([servers[0]]).address, "a:27017");
    assert.throws(() => chooseServer([]), ServerSelectionError);
    // A broken random source still yields a candidate.
    assert.ok(servers.includes(chooseServer(servers, { random: () => Number.NaN })));
  });
});

describe("an aggregate with $out or $merge (crud.md's read preference rule)", () => {
  const writeStage = (rp: ReadPreference): ServerSelector => ({ operation: "read", readPreference: rp, writeStage: true });
  const rs = (secondaryWire: number) =>
    topology("ReplicaSetWithPrimary", [
      member("a:27017", "RSPrimary"),
      member("b:27017", "RSSecondary", { maxWireVersion: secondaryWire }),
      member("c:27017", "Unknown"),
    ]);

  test("every available server 5.0+: the read preference applies", () => {
    assert.deepEqual(suitable(rs(13), writeStage(ReadPreference.SECONDARY_ONLY)), ["b:27017"]);
    assert.equal(writeStageReadPreference(rs(13), ReadPreference.SECONDARY_ONLY), ReadPreference.SECONDARY_ONLY);
  });

  test("one available server older than 5.0: the primary, whatever the read preference", () => {
    assert.deepEqual(suitable(rs(9), writeStage(ReadPreference.SECONDARY_ONLY)), ["a:27017"]);
    assert.equal(writeStageReadPreference(rs(9), ReadPreference.NEAREST).mode, "primary");
    // An Unknown server (wire 0) is not available, so it does not count.
    assert.deepEqual(suitable(rs(21), writeStage(ReadPreference.SECONDARY_ONLY)), ["b:27017"]);
  });

  test("no available server, or a load balancer: the read preference", () => {
    const none = topology("ReplicaSetNoPrimary", [member("a:27017", "Unknown")]);
    assert.equal(writeStageReadPreference(none, ReadPreference.SECONDARY_ONLY), ReadPreference.SECONDARY_ONLY);
    const lb = topology("LoadBalanced", [member("lb:27017", "LoadBalancer", { maxWireVersion: 9 })]);
    assert.equal(writeStageReadPreference(lb, ReadPreference.SECONDARY_ONLY), ReadPreference.SECONDARY_ONLY);
  });
});
