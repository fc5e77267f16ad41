// Round trips per second of `ping` and of a 100-document `insert`, this
// driver (ConnectionPool + Connection) against the official Node driver
// (`mongodb`, directConnection) on the SAME in-process loopback server (the
// tests' fake mongod, OP_MSG, wire 17). Both run serially (one command in
// flight), interleaved in rounds; the table shows the median of the rounds.
//
//   deno run -A bench/wire_bench.ts [--quick] [--listener]
//   bun bench/wire_bench.ts [--quick] [--listener]
//
// Our pool gets the client's monitoring sink (listener counts per event type,
// src/client/monitoring.ts), as a client's pools do; with `--listener` a
// `commandSucceeded` listener is added to it, so every round trip builds and
// dispatches a CommandSucceededEvent (the Node driver runs unchanged, without
// command monitoring, so the ratio shows what the listener costs us).
//
// Exits non-zero, loudly, if either driver cannot talk to the server.
import { MongoClient } from "mongodb";
import { ConnectionPool } from "../src/net/mod.ts";
import { startFakeMongod } from "../tests/helpers/fake_mongod.ts";
import { args, fail, median, nodeDriverVersion, runtimeLabel } from "./_common.ts";
import { POOL_DEFAULTS } from "../tests/helpers/net_defaults.ts";
import { ListenerCounts } from "../src/client/monitoring.ts";

const quick = args().includes("--quick");
const withListener = args().includes("--listener");
const ROUNDS = quick ? 3 : 7;
const PINGS_PER_ROUND = quick ? 1000 : 4000;
const INSERTS_PER_ROUND = quick ? 200 : 800;

const runtime = runtimeLabel();

const docs = Array.from({ length: 100 }, (_, i) => ({
  _id: i,
  name: `user-${i}`,
  email: `user${i}@example.com`,
  age: 20 + (i % 50),
  active: i % 2 === 0,
  tags: ["a", "b", "c"],
  score: i * 1.5,
}));

const server = await startFakeMongod({
  maxWireVersion: 17,
  record: false,
  // No sessions, so neither driver attaches an lsid.
  hello: { logicalSessionTimeoutMinutes: undefined },
});

const target = new EventTarget();
const events = new ListenerCounts(target);
let succeeded = 0;
if (withListener) {
  const listener = () => void succeeded++;
  target.addEventListener("commandSucceeded", listener);
  events.add("commandSucceeded", listener, undefined);
}
const pool = new ConnectionPool({ host: server.host, port: server.port }, {
  ...POOL_DEFAULTS,
  maxPoolSize: 10,
  events,
});
const client = new MongoClient(`mongodb://127.0.0.1:${server.port}/?directConnection=true`, {
  maxPoolSize: 10,
  serverSelectionTimeoutMS: 5000,
  connectTimeoutMS: 5000,
});

try {
  try {
    const r = await pool.withConnection((c) => c.command("admin", { ping: 1 }));
    if (r.ok !== 1) fail(`our ping returned ${JSON.stringify(r)}`);
    const ins = await pool.withConnection((c) =>
      c.command("bench", { insert: "people", ordered: true }, {
        sequences: [{ identifier: "documents", documents: docs }],
      })
    );
    if (ins.n !== 100) fail(`our insert returned n=${String(ins.n)}`);
  } catch (error) {
    fail("this driver could not run ping/insert against the loopback server", error);
  }
  try {
    await client.connect();
    const r = await client.db("admin").command({ ping: 1 });
    if (r.ok !== 1) fail(`the Node driver's ping returned ${JSON.stringify(r)}`);
    const ins = await client.db("bench").collection<{ _id: number; [key: string]: unknown }>("people").insertMany(
      docs.map((d) => ({ ...d })),
    );
    if (ins.insertedCount !== 100) fail(`the Node driver's insert returned ${ins.insertedCount}`);
  } catch (error) {
    fail("the official Node driver (mongodb) could not connect to / run commands on the loopback server", error);
  }

  const nodeDb = client.db("admin");
  const nodeColl = client.db("bench").collection<{ _id: number; [key: string]: unknown }>("people");
  // The Node driver may add fields to what it inserts; give it its own copies, made once.
  const nodeDocs = docs.map((d) => ({ ...d }));

  const ours = {
    ping: async (n: number) => {
      for (let i = 0; i < n; i++) await pool.withConnection((c) => c.command("admin", { ping: 1 }));
    },
    insert: async (n: number) => {
      for (let i = 0; i < n; i++) {
        await pool.withConnection((c) =>
          c.command("bench", { insert: "people", ordered: true }, {
            sequences: [{ identifier: "documents", documents: docs }],
          })
        );
      }
    },
  };
  const theirs = {
    ping: async (n: number) => {
      for (let i = 0; i < n; i++) await nodeDb.command({ ping: 1 });
    },
    insert: async (n: number) => {
      for (let i = 0; i < n; i++) await nodeColl.insertMany(nodeDocs);
    },
  };

  const rows: string[] = [];
  for (const [op, perRound] of [["ping", PINGS_PER_ROUND], ["insert 100 docs", INSERTS_PER_ROUND]] as const) {
    const key = op === "ping" ? "ping" : "insert";
    // Warm-up, discarded.
    await ours[key](perRound >> 2);
    await theirs[key](perRound >> 2);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate who goes first, so drift in the machine hits both alike.
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const who of order) {
        const t0 = performance.now();
        await (who === 0 ? ours : theirs)[key](perRound);
        const rate = perRound / ((performance.now() - t0) / 1000);
        (who === 0 ? a : b).push(rate);
      }
    }
    const mine = median(a);
    const node = median(b);
    const ratio = mine / node;
    rows.push(
      `| ${op} | ${mine.toFixed(0)} | ${node.toFixed(0)} | ${ratio.toFixed(2)}x | >= 1.0x | ${
        ratio >= 1 ? "yes" : "NO"
      } |`,
    );
  }

  if (withListener && succeeded === 0) fail("--listener: no commandSucceeded event reached the listener");
  console.log(
    `\nwire_bench on ${runtime} (mongodb ${await nodeDriverVersion()}), ${ROUNDS} rounds, median round trips/s, ${
      withListener ? `with a commandSucceeded listener (${succeeded} events)` : "no listener"
    }`,
  );
  console.log("| op | ours rt/s | node driver rt/s | ratio ours/node | target | met? |");
  console.log("| --- | ---: | ---: | ---: | --- | --- |");
  for (const row of rows) console.log(row);
} finally {
  await client.close().catch(() => {});
  await pool.close();
  await server.close();
}
