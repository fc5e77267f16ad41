// PyMongo 3.11 (Debian python3-pymongo, run with /usr/bin/python3) runs its
// own retryable writes and transactions against the simulator.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { peerSkip, PYTHON, pythonMissing } from "../helpers/peers.ts";
import { eventually } from "./_client.ts";

const SCRIPT = fileURLToPath(new URL("../helpers/pymongo_sessions.py", import.meta.url));

interface Run {
  results: Record<string, unknown>;
  stderr: string;
  code: number | null;
}

function runPython(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const results: Record<string, unknown> = {};
    let stderr = "";
    let buffered = "";
    child.stdout.on("data", (d: Uint8Array) => {
      buffered += new TextDecoder().decode(d);
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("RESULT ")) Object.assign(results, JSON.parse(line.slice(7)));
      }
    });
    child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ results, stderr, code }));
  });
}

const skip = peerSkip("PyMongo sessions against the simulated replica set", pythonMissing(["pymongo"]));

describe("PyMongo 3.11: retryable writes and transactions on the simulated replica set", () => {
  test("failCommand closes the connection once on an insert: the retry stores the document once", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "py" });
    const run = await runPython(["failclose", rs.hosts.join(","), "py"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.results.version, "3.11.0");
    assert.equal(run.results.inserted_id, 1);
    assert.equal(run.results.count, 1);
    const inserts = rs.primary!.requests.filter((q) => q.command === "insert");
    assert.equal(inserts.length, 2, "PyMongo retried");
    assert.equal(Number(inserts[0].body.txnNumber), Number(inserts[1].body.txnNumber));
    await rs.waitForReplication();
    for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 1, name: "Ada" }]);
  });

  test("a write whose reply is lost to a kill is retried on the new primary: original result, applied once", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "py", electionDelayMS: 100 });
    const primary = await rs.waitForPrimary();
    const [s1, s2] = rs.secondaries;
    await rs.kill(s2);
    const running = runPython(["lostreply", rs.hosts.join(","), "py"]);
    await eventually(() => s1.documents("test.c").length === 1, 1000);
    await rs.kill(primary);
    await rs.restart(s2);
    const next = await rs.waitForPrimary();
    await rs.restart(primary); // w: 3 needs it back
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.results.value, { _id: 1, n: 1 }, "the stored post-image, not a second $inc");
    assert.ok(next.requests.some((q) => q.command === "findAndModify"), "the retry reached the new primary");
    await rs.waitForReplication();
    for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 1, n: 1 }], m.host);
  });

  test("with_transaction through a transient error; writes invisible until commit; WriteConflict labelled", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "py", replicationLagMS: 20 });
    const run = await runPython(["transaction", rs.hosts.join(","), "py"]);
    assert.equal(run.code, 0, run.stderr);
    const r = run.results;
    assert.equal(r.attempts, 2, "the TransientTransactionError made with_transaction retry");
    assert.deepEqual(r.inside, [0, 1]);
    assert.deepEqual(r.outside_before_commit, [{ _id: 0, n: 0 }]);
    assert.deepEqual(r.after_commit, [{ _id: 0, n: 1 }, { _id: 1 }]);
    assert.deepEqual(r.conflict, { code: 112, transient: true });
    assert.deepEqual(r.final, { _id: 0, n: 2 });
    await rs.waitForReplication();
    for (const m of rs.members) assert.deepEqual(m.documents("test.c"), [{ _id: 0, n: 2 }, { _id: 1 }], m.host);
  });
});
