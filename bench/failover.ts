// Failover under load (issue 12, item 7): 4 writer loops insert 100 documents
// each (one at a time per loop, default write concern, which the simulator
// makes w:"majority" as MongoDB 5.0+ does) while the primary of a simulated
// 7-member set is killed 3 times (each kill waits for the new primary; killed
// members stay down, so 2 x failovers + 1 members keep a majority). Both modes, `retryWrites` on (the default) and
// off, for this driver and the official Node driver (`mongodb`, a
// devDependency), each on a fresh set started in this process. Reports writes,
// failovers, the errors that reached the writers (by class), acknowledged
// writes lost or stored twice, and write latency p50/p99: during failover
// (writes in flight between a kill and the first later write acknowledged)
// and overall. Every document carries a unique key; the stored documents are
// counted per key afterwards, from the new primary.
//
//   deno run -A bench/failover.ts [--writers 4] [--writes 100] [--failovers 3]
//   bun bench/failover.ts ...     node bench/failover.ts ...
//
// Fails loudly if a driver cannot reach the set or a run does not finish.
import { MongoClient } from "mongodb";
import { ReplicaSetConnection } from "../mod.ts";
import { startReplicaSet } from "../src/testing/mod.ts";
import {
  type LoadClient,
  percentile,
  runFailoverLoad,
  summarize,
} from "../tests/helpers/failover_load.ts";
import { args, fail, nodeDriverVersion, runtimeLabel } from "./_common.ts";

const cli = args();
const num = (flag: string, dflt: number) => {
  const at = cli.indexOf(flag);
  const v = at >= 0 ? Number(cli[at + 1]) : dflt;
  if (!Number.isInteger(v) || v < (flag === "--failovers" ? 0 : 1)) fail(`${flag} must be a positive integer`);
  return v;
};
const WRITERS = num("--writers", 4);
const WRITES = num("--writes", 100);
const FAILOVERS = num("--failovers", 3);
const ELECTION_MS = 1000; // the simulator's default electionDelayMS
const DB = "bench";
const COLL = "failover";

async function ours(uri: string, retryWrites: boolean): Promise<LoadClient> {
  const c = await ReplicaSetConnection.connect(uri, { retryWrites });
  const coll = c.db(DB).collection(COLL);
  return {
    insert: async (doc) => void (await coll.insertOne({ ...doc })),
    storedKeys: async () => (await coll.find({}, { projection: { _id: 0, k: 1 } }).toArray()).map((d) => String(d.k)),
    close: () => c.close(),
  };
}

async function official(uri: string, retryWrites: boolean): Promise<LoadClient> {
  const c = new MongoClient(uri, { retryWrites });
  await c.connect();
  const coll = c.db(DB).collection(COLL);
  return {
    insert: async (doc) => void (await coll.insertOne({ ...doc })),
    storedKeys: async () => (await coll.find({}, { projection: { _id: 0, k: 1 } }).toArray()).map((d) => String(d.k)),
    close: () => c.close(),
  };
}

const rows: string[] = [];
const notes: string[] = [];
for (const retryWrites of [true, false]) {
  for (const [name, open] of [["@zerodep/mongo", ours], ["mongodb (Node driver)", official]] as const) {
    const rs = await startReplicaSet({ members: 2 * FAILOVERS + 1, name: "fo", electionDelayMS: ELECTION_MS });
    let client: LoadClient | undefined;
    try {
      client = await open(rs.uri, retryWrites);
      const guard = setTimeout(() => fail(`${name}, retryWrites=${retryWrites}: no end after 5 minutes`), 300_000);
      const result = await runFailoverLoad(rs, client, { writers: WRITERS, writesPerWriter: WRITES, failovers: FAILOVERS });
      clearTimeout(guard);
      const s = summarize(result);
      const errs = Object.entries(s.errors).map(([k, v]) => `${v} ${k}`).join(", ") || "0";
      const f = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(0));
      rows.push(
        `| ${retryWrites ? "on (default)" : "off"} | ${name} | ${s.writes} | ${s.failovers} | ${s.acknowledged} | ${errs} | ${s.acknowledgedLost} | ${s.acknowledgedDuplicated} | ${s.failedButStored} | ${
          f(percentile(s.duringFailover, 50))
        } / ${f(percentile(s.duringFailover, 99))} (${s.duringFailover.length}) | ${f(percentile(s.all, 50))} / ${
          f(percentile(s.all, 99))
        } |`,
      );
      const sample = result.writes.find((w) => w.error !== undefined)?.error as Error | undefined;
      if (sample !== undefined) notes.push(`${name}, retryWrites=${retryWrites}: e.g. ${sample.name}: ${sample.message}`);
    } catch (error) {
      fail(`${name}, retryWrites=${retryWrites}`, error);
    } finally {
      await client?.close();
      await rs.close();
    }
  }
}

console.log(
  `\nfailover under load on ${runtimeLabel()}, official driver ${await nodeDriverVersion()}: ${WRITERS} writers x ${WRITES} inserts, ${FAILOVERS} primary kills of a ${
    2 * FAILOVERS + 1
  }-member set, electionDelayMS ${ELECTION_MS}`,
);
console.log(
  "| retryWrites | driver | writes | failovers | acknowledged | errors surfaced | acked lost | acked stored twice | failed but stored | latency during failover p50 / p99 ms (writes) | latency overall p50 / p99 ms |",
);
console.log("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(r);
for (const n of notes) console.log(`- ${n.slice(0, 300)}`);
