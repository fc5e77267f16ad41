// The client API end to end: `findOne` by `_id` round trips per second and
// 1,000-document `insertMany` throughput, this driver's ReplicaSetConnection
// against the official Node driver (`mongodb`'s MongoClient) on the SAME
// simulated 3-member replica set (src/testing), started in this process. Both
// drivers discover the set from its URI and read from / write to the primary
// with default settings; operations run one at a time, interleaved in rounds
// (who goes first alternates); the table shows the median of the rounds.
//
//   deno run -A bench/client_bench.ts [--quick] [--listener]
//   bun bench/client_bench.ts [--quick] [--listener]
//
// With `--listener`, our client has a `commandSucceeded` listener (every
// command builds and dispatches a CommandSucceededEvent); the Node driver runs
// unchanged, without command monitoring.
//
// Exits non-zero, loudly, if either driver cannot talk to the set.
import { MongoClient } from "mongodb";
import { ReplicaSetConnection } from "../mod.ts";
import { startReplicaSet } from "../src/testing/mod.ts";

/** The documents of this bench: numeric or string `_id`s (the Node driver types `_id` as ObjectId unless told). */
type IdDoc = { _id: number | string; [key: string]: unknown };
import { args, fail, median, nodeDriverVersion, runtimeLabel } from "./_common.ts";

const quick = args().includes("--quick");
const withListener = args().includes("--listener");
const ROUNDS = quick ? 3 : 7;
const FINDS_PER_ROUND = quick ? 500 : 2000;
const BATCHES_PER_ROUND = quick ? 2 : 5;
const BATCH = 1000;

const runtime = runtimeLabel();

function makeDocs(prefix: string): IdDoc[] {
  return Array.from({ length: BATCH }, (_, i) => ({
    _id: `${prefix}-${i}`,
    name: `user-${i}`,
    email: `user${i}@example.com`,
    age: 20 + (i % 50),
    active: i % 2 === 0,
    tags: ["a", "b", "c"],
    score: i * 1.5,
  }));
}

const rs = await startReplicaSet({ members: 3, name: "bench" });
const ours = new ReplicaSetConnection(rs.uri, { serverSelectionTimeoutMS: 10_000 });
let succeeded = 0;
if (withListener) ours.addEventListener("commandSucceeded", () => void succeeded++);
const theirs = new MongoClient(rs.uri, { serverSelectionTimeoutMS: 10_000 });

try {
  const seed = Array.from({ length: 1000 }, (_, i) => ({ _id: i, name: `user-${i}`, n: i }));
  try {
    await ours.connect();
    await ours.db("bench").collection("people").insertMany(seed.map((d) => ({ ...d })));
    const d = await ours.db("bench").collection("people").findOne({ _id: 7 });
    if (d?.n !== 7) fail(`our findOne returned ${JSON.stringify(d)}`);
  } catch (error) {
    fail("this driver could not connect to / insert into / read from the simulated set", error);
  }
  try {
    await theirs.connect();
    const d = await theirs.db("bench").collection<IdDoc>("people").findOne({ _id: 7 });
    if (d?.n !== 7) fail(`the Node driver's findOne returned ${JSON.stringify(d)}`);
  } catch (error) {
    fail("the official Node driver (mongodb) could not connect to / read from the simulated set", error);
  }

  const oursPeople = ours.db("bench").collection("people");
  const theirPeople = theirs.db("bench").collection<IdDoc>("people");
  let batchNo = 0;
  const run = {
    ours: {
      findOne: async (n: number) => {
        for (let i = 0; i < n; i++) {
          if ((await oursPeople.findOne({ _id: i % 1000 }))?.n !== i % 1000) fail("our findOne: wrong document");
        }
      },
      insertMany: async (n: number) => {
        for (let i = 0; i < n; i++) {
          const coll = ours.db("bench").collection(`ins${batchNo++}`);
          const r = await coll.insertMany(makeDocs("o"));
          if (r.insertedCount !== BATCH) fail(`our insertMany inserted ${r.insertedCount}`);
          await coll.drop();
        }
      },
    },
    theirs: {
      findOne: async (n: number) => {
        for (let i = 0; i < n; i++) {
          if ((await theirPeople.findOne({ _id: i % 1000 }))?.n !== i % 1000) fail("their findOne: wrong document");
        }
      },
      insertMany: async (n: number) => {
        for (let i = 0; i < n; i++) {
          const coll = theirs.db("bench").collection<IdDoc>(`ins${batchNo++}`);
          const r = await coll.insertMany(makeDocs("t"));
          if (r.insertedCount !== BATCH) fail(`their insertMany inserted ${r.insertedCount}`);
          await coll.drop();
        }
      },
    },
  };

  const rows: string[] = [];
  const tasks = [
    ["findOne by _id", "findOne", FINDS_PER_ROUND, 1, "round trips/s"],
    [`insertMany ${BATCH} docs`, "insertMany", BATCHES_PER_ROUND, BATCH, "docs/s"],
  ] as const;
  for (const [label, key, perRound, unit, what] of tasks) {
    await run.ours[key](Math.max(1, perRound >> 2)); // warm-up, discarded
    await run.theirs[key](Math.max(1, perRound >> 2));
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ["ours", "theirs"] as const : ["theirs", "ours"] as const;
      for (const who of order) {
        const t0 = performance.now();
        await run[who][key](perRound);
        const rate = (perRound * unit) / ((performance.now() - t0) / 1000);
        (who === "ours" ? a : b).push(rate);
      }
    }
    const mine = median(a);
    const node = median(b);
    const ratio = mine / node;
    rows.push(
      `| ${label} (${what}) | ${mine.toFixed(0)} | ${node.toFixed(0)} | ${ratio.toFixed(2)}x | >= 1.0x | ${
        ratio >= 1 ? "yes" : "NO"
      } |`,
    );
  }

  if (withListener && succeeded === 0) fail("--listener: no commandSucceeded event reached the listener");
  console.log(
    `\nclient_bench on ${runtime} (mongodb ${await nodeDriverVersion()}), simulated 3-member set in-process, ` +
      `${ROUNDS} rounds, median, ${
        withListener ? `with a commandSucceeded listener (${succeeded} events)` : "no listener"
      }`,
  );
  console.log("| task | ours | node driver | ratio ours/node | target | met? |");
  console.log("| --- | ---: | ---: | ---: | --- | --- |");
  for (const row of rows) console.log(row);
} finally {
  await ours.close().catch(() => {});
  await theirs.close().catch(() => {});
  await rs.close();
}
