// bench:wire and bench:client against a real server: FerretDB v1.24.2 on
// SQLite (tests/helpers/ferretdb.ts starts it on loopback; build it first with
// tests/peers/ferretdb/build.sh). This driver against the official Node driver
// (`mongodb`) on the SAME FerretDB process, operations one at a time,
// interleaved in rounds (who goes first alternates); the tables show the
// median of the rounds and the ratio ours/node per operation.
//
//   wire level (as bench/wire_bench.ts): `ping` and a 100-document `insert`,
//     our ConnectionPool + Connection vs MongoClient (directConnection): its
//     db.command for ping, insertMany with forceServerObjectId for the
//     insert (the same documents, no `_id`: FerretDB assigns them);
//   client level (as bench/client_bench.ts): `findOne` by `_id` and a
//     1,000-document `insertMany`, ReplicaSetConnection vs MongoClient, both
//     discovering the one-member set rs0.
//
// FerretDB does the real work of each write (SQLite), so write ratios sit near
// 1.0 by nature: the server's time dominates both drivers alike.
//
//   deno run -A bench/ferretdb_bench.ts [--quick]
//   bun bench/ferretdb_bench.ts [--quick]
//
// Exits non-zero, loudly, if FerretDB is not built or cannot be started, or
// if either driver cannot talk to it.
import { MongoClient } from "mongodb";
import { ReplicaSetConnection } from "../mod.ts";
import { ConnectionPool } from "../src/net/mod.ts";
import { type FerretDB, FERRETDB_VERSION, ferretdbMissing, startFerretDB } from "../tests/helpers/ferretdb.ts";
import { POOL_DEFAULTS } from "../tests/helpers/net_defaults.ts";
import { args, fail, median, nodeDriverVersion, runtimeLabel } from "./_common.ts";

type IdDoc = { _id: number | string; [key: string]: unknown };

const quick = args().includes("--quick");
const ROUNDS = quick ? 3 : 7;
const PINGS_PER_ROUND = quick ? 300 : 1500;
const INSERTS_PER_ROUND = quick ? 10 : 40;
const FINDS_PER_ROUND = quick ? 100 : 300;
const BATCHES_PER_ROUND = quick ? 1 : 3;
const BATCH = 1000;

const runtime = runtimeLabel();

const missing = ferretdbMissing();
if (missing !== undefined) fail(missing);

/** 100 documents without `_id` (FerretDB assigns them), as bench/wire_bench.ts inserts. */
const wireDocs = Array.from({ length: 100 }, (_, i) => ({
  name: `user-${i}`,
  email: `user${i}@example.com`,
  age: 20 + (i % 50),
  active: i % 2 === 0,
  tags: ["a", "b", "c"],
  score: i * 1.5,
}));

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

type Runner = (n: number) => Promise<void>;

/** Median rate (units/s) of each side over ROUNDS interleaved rounds; `between` runs untimed after each round. */
async function measure(
  perRound: number,
  unit: number,
  ours: Runner,
  theirs: Runner,
  between: () => Promise<void>,
): Promise<[number, number]> {
  await ours(Math.max(1, perRound >> 2)); // warm-up, discarded
  await theirs(Math.max(1, perRound >> 2));
  await between();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const who of order) {
      const t0 = performance.now();
      await (who === 0 ? ours : theirs)(perRound);
      (who === 0 ? a : b).push((perRound * unit) / ((performance.now() - t0) / 1000));
      await between();
    }
  }
  return [median(a), median(b)];
}

function row(label: string, mine: number, node: number): string {
  return `| ${label} | ${mine.toFixed(0)} | ${node.toFixed(0)} | ${(mine / node).toFixed(2)}x |`;
}

let ferret: FerretDB;
try {
  ferret = await startFerretDB();
} catch (error) {
  fail(`FerretDB ${FERRETDB_VERSION} did not start`, error);
}

const pool = new ConnectionPool({ host: ferret.host, port: ferret.port }, { ...POOL_DEFAULTS, maxPoolSize: 10 });
const direct = new MongoClient(`mongodb://${ferret.address}/?directConnection=true`, {
  maxPoolSize: 10,
  serverSelectionTimeoutMS: 10_000,
});
const uri = `mongodb://${ferret.address}/?replicaSet=rs0`;
const ours = new ReplicaSetConnection(uri, { serverSelectionTimeoutMS: 10_000 });
const theirs = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });

try {
  // ---- wire level -----------------------------------------------------------
  const insertCommand = { insert: "wire", ordered: true };
  try {
    const r = await pool.withConnection((c) => c.command("admin", { ping: 1 }));
    if (r.ok !== 1) fail(`our ping returned ${JSON.stringify(r)}`);
    const ins = await pool.withConnection((c) =>
      c.command("bench", insertCommand, { sequences: [{ identifier: "documents", documents: wireDocs }] })
    );
    if (ins.n !== 100) fail(`our insert returned n=${String(ins.n)}`);
  } catch (error) {
    fail("this driver could not run ping/insert against FerretDB", error);
  }
  const nodeAdmin = direct.db("admin");
  const nodeWire = direct.db("bench").collection("wire");
  try {
    await direct.connect();
    const r = await nodeAdmin.command({ ping: 1 });
    if (r.ok !== 1) fail(`the Node driver's ping returned ${JSON.stringify(r)}`);
    const ins = await nodeWire.insertMany(wireDocs, { forceServerObjectId: true });
    if (ins.insertedCount !== 100) fail(`the Node driver's insert returned ${ins.insertedCount}`);
  } catch (error) {
    fail("the official Node driver (mongodb) could not run ping/insert against FerretDB", error);
  }
  const emptyWire = async () => {
    await pool.withConnection((c) => c.command("bench", { delete: "wire", deletes: [{ q: {}, limit: 0 }] }));
  };
  const wireRows: string[] = [];
  {
    const [mine, node] = await measure(
      PINGS_PER_ROUND,
      1,
      async (n) => {
        for (let i = 0; i < n; i++) await pool.withConnection((c) => c.command("admin", { ping: 1 }));
      },
      async (n) => {
        for (let i = 0; i < n; i++) await nodeAdmin.command({ ping: 1 });
      },
      () => Promise.resolve(),
    );
    wireRows.push(row("ping", mine, node));
  }
  {
    const [mine, node] = await measure(
      INSERTS_PER_ROUND,
      1,
      async (n) => {
        for (let i = 0; i < n; i++) {
          const r = await pool.withConnection((c) =>
            c.command("bench", insertCommand, { sequences: [{ identifier: "documents", documents: wireDocs }] })
          );
          if (r.n !== 100) fail(`our insert returned n=${String(r.n)}`);
        }
      },
      async (n) => {
        for (let i = 0; i < n; i++) {
          const r = await nodeWire.insertMany(wireDocs, { forceServerObjectId: true });
          if (r.insertedCount !== 100) fail(`the Node driver's insert returned ${r.insertedCount}`);
        }
      },
      emptyWire,
    );
    wireRows.push(row("insert 100 docs", mine, node));
  }

  // ---- client level ---------------------------------------------------------
  const seed = Array.from({ length: 1000 }, (_, i) => ({ _id: i, name: `user-${i}`, n: i }));
  try {
    await ours.connect();
    await ours.db("bench").collection("people").insertMany(seed);
    const d = await ours.db("bench").collection("people").findOne({ _id: 7 });
    if (d?.n !== 7) fail(`our findOne returned ${JSON.stringify(d)}`);
  } catch (error) {
    fail("this driver could not connect to / insert into / read from FerretDB", error);
  }
  try {
    await theirs.connect();
    const d = await theirs.db("bench").collection<IdDoc>("people").findOne({ _id: 7 });
    if (d?.n !== 7) fail(`the Node driver's findOne returned ${JSON.stringify(d)}`);
  } catch (error) {
    fail("the official Node driver (mongodb) could not connect to / read from FerretDB", error);
  }
  const oursPeople = ours.db("bench").collection("people");
  const theirPeople = theirs.db("bench").collection<IdDoc>("people");
  let batchNo = 0;
  const clientRows: string[] = [];
  {
    const [mine, node] = await measure(
      FINDS_PER_ROUND,
      1,
      async (n) => {
        for (let i = 0; i < n; i++) {
          if ((await oursPeople.findOne({ _id: i % 1000 }))?.n !== i % 1000) fail("our findOne: wrong document");
        }
      },
      async (n) => {
        for (let i = 0; i < n; i++) {
          if ((await theirPeople.findOne({ _id: i % 1000 }))?.n !== i % 1000) fail("their findOne: wrong document");
        }
      },
      () => Promise.resolve(),
    );
    clientRows.push(row("findOne by _id (round trips/s)", mine, node));
  }
  {
    const [mine, node] = await measure(
      BATCHES_PER_ROUND,
      BATCH,
      async (n) => {
        for (let i = 0; i < n; i++) {
          const coll = ours.db("bench").collection(`ins${batchNo++}`);
          const r = await coll.insertMany(makeDocs("o"));
          if (r.insertedCount !== BATCH) fail(`our insertMany inserted ${r.insertedCount}`);
          await coll.drop();
        }
      },
      async (n) => {
        for (let i = 0; i < n; i++) {
          const coll = theirs.db("bench").collection<IdDoc>(`ins${batchNo++}`);
          const r = await coll.insertMany(makeDocs("t"));
          if (r.insertedCount !== BATCH) fail(`their insertMany inserted ${r.insertedCount}`);
          await coll.drop();
        }
      },
      () => Promise.resolve(),
    );
    clientRows.push(row(`insertMany ${BATCH} docs (docs/s)`, mine, node));
  }

  const header = `on ${runtime} (mongodb ${await nodeDriverVersion()}), FerretDB ${FERRETDB_VERSION} on SQLite, ` +
    `${ROUNDS} rounds, median`;
  console.log(`\nferretdb_bench wire level ${header}`);
  console.log("| op | ours rt/s | node driver rt/s | ratio ours/node |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of wireRows) console.log(r);
  console.log(`\nferretdb_bench client level ${header}`);
  console.log("| task | ours | node driver | ratio ours/node |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of clientRows) console.log(r);
} finally {
  await ours.close().catch(() => {});
  await theirs.close().catch(() => {});
  await direct.close().catch(() => {});
  await pool.close();
  await ferret.close();
}
