// Interop with MockupDB (PyMongo authors' wire-protocol mock server, Debian
// python3-mockupdb) as a replica set: three MockupDB servers answer hello as
// primary / secondary / secondary of set "foo" (tests/helpers/mockupdb_rs.py).
// For each read preference, MockupDB's side says which member received each
// `find` and what came with it: the OP_QUERY secondaryOk flag on a wire-5 set,
// the OP_MSG `$readPreference` on a wire-17 set. A missing python3 or
// mockupdb skips with a printed reason (a failure under CI=true:
// tests/helpers/peers.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ReadPreference } from "../../src/topology/read_preference.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { type Child, spawnChild } from "../helpers/spawn.ts";
import { PYTHON, pythonMissing, skipForMissingPeer } from "../helpers/peers.ts";

const SCRIPT = new URL("../helpers/mockupdb_rs.py", import.meta.url).pathname;
const READS = 20;

interface Received {
  member: number;
  opcode: string;
  flags: number;
  namespace: string;
  command: string | null;
  docs: Record<string, unknown>[];
}

async function startSet(wire: number): Promise<{ child: Child; hosts: string[] } | { skip: string }> {
  const missing = pythonMissing(["mockupdb"]);
  if (missing !== undefined) return { skip: missing };
  const child = spawnChild([PYTHON, SCRIPT, String(wire), "foo"]);
  try {
    const first = JSON.parse(await child.waitForLine((l) => l.startsWith("{"), 1000));
    if (first.skip !== undefined) {
      child.kill();
      return { skip: String(first.skip) };
    }
    return { child, hosts: (first.ports as number[]).map((p) => `${first.host}:${p}`) };
  } catch (error) {
    child.kill();
    throw error;
  }
}

function finds(child: Child): Received[] {
  return child.lines.map((l) => JSON.parse(l)).filter((o) => o.request?.command === "find").map((o) => ({
    member: o.member,
    ...o.request,
  }));
}

const MODES = [
  ["PRIMARY", ReadPreference.PRIMARY, [0]],
  ["SECONDARY", ReadPreference.SECONDARY, [1, 2]],
  ["SECONDARY_ONLY", ReadPreference.SECONDARY_ONLY, [1, 2]],
  ["PRIMARY_PREFERRED", ReadPreference.PRIMARY_PREFERRED, [0]],
  ["NEAREST", ReadPreference.NEAREST, [0, 1, 2]],
] as const;

for (const wire of [5, 17]) {
  const msg = wire >= 6;
  describe(`MockupDB replica set, maxWireVersion ${wire} (${msg ? "OP_MSG" : "OP_QUERY"})`, () => {
    test("each read preference's finds reach the right members, with secondaryOk / $readPreference", async (t) => {
      const started = await startSet(wire);
      if ("skip" in started) {
        skipForMissingPeer(t, `MockupDB replica-set interop (wire ${wire})`, started.skip);
        return;
      }
      const { child, hosts } = started;
      try {
        // Seeded with a secondary only: the driver must discover the primary from MockupDB's hello.
        const c = await ReplicaSetConnection.connect(hosts[1], {
          replicaSet: "foo",
          heartbeatFrequencyMS: 500,
          serverSelectionTimeoutMS: 10_000,
          // Every member in the latency window whatever the mock's RTTs, so spreading is checkable.
          localThresholdMS: 1000,
        });
        try {
          for (let i = 0; i < 400 && c.secondaries.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
          assert.deepEqual([...c.hosts].sort(), [...hosts].sort(), "discovered the three MockupDB members");
          assert.deepEqual(c.primary, ["127.0.0.1", Number(hosts[0].split(":")[1])]);
          assert.equal(c.secondaries.length, 2);
          const coll = c.db("test").collection("people");
          for (const [name, pref, allowed] of MODES) {
            const before = finds(child).length;
            const answeredBy: number[] = [];
            for (let i = 0; i < READS; i++) {
              const doc = await coll.findOne({ _id: 1 }, { readPreference: pref });
              assert.ok(doc !== null, name);
              answeredBy.push(Number(doc.member));
            }
            // MockupDB prints each request before answering it, but its stdout pipe may lag the socket.
            for (let i = 0; i < 500 && finds(child).length - before < READS; i++) {
              await new Promise((r) => setTimeout(r, 10));
            }
            const got = finds(child).slice(before);
            assert.equal(got.length, READS, `${name}: MockupDB saw one find per read`);
            assert.deepEqual(got.map((r) => r.member), answeredBy, `${name}: the member MockupDB logged answered`);
            const members = new Set(got.map((r) => r.member));
            assert.deepEqual([...members].sort(), [...allowed], `${name}: served by members ${[...members]}`);
            for (const r of got) {
              const body = r.docs[0];
              assert.equal(body.find, "people", name);
              if (msg) {
                assert.equal(r.opcode, "OpMsg", name);
                assert.equal(body.$db, "test", name);
                if (pref.mode === "primary") assert.equal(body.$readPreference, undefined, name);
                else assert.deepEqual(body.$readPreference, { mode: pref.mode }, name);
              } else {
                assert.equal(r.opcode, "Command", `${name}: an OP_QUERY command`);
                assert.equal(r.namespace, "test", name);
                assert.equal((r.flags & 0x4) !== 0, pref.mode !== "primary", `${name}: secondaryOk flag ${r.flags}`);
                assert.equal(body.$readPreference, undefined, `${name}: no $readPreference to a mongod`);
                assert.equal(body.$query, undefined, `${name}: not wrapped in $query`);
              }
            }
            console.log(
              `mockupdb wire ${wire} ${name}: finds per member ${
                JSON.stringify([0, 1, 2].map((m) => got.filter((r) => r.member === m).length))
              }`,
            );
          }
        } finally {
          await c.close();
        }
      } finally {
        await child.closeStdin();
        child.kill();
        await child.exited;
      }
    });
  });
}
