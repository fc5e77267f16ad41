// PyMongo 3.11 (Debian python3-pymongo, run with /usr/bin/python3) against the
// simulator: a client nobody here wrote must accept what the members say.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { peerSkip, PYTHON, pythonMissing } from "../helpers/peers.ts";

const SCRIPT = fileURLToPath(new URL("../helpers/pymongo_client.py", import.meta.url));

interface Run {
  results: Record<string, unknown>;
  stderr: string;
  code: number | null;
}

// Runs the helper; `onLine` sees each stdout line (and may answer on stdin).
function runPython(
  args: string[],
  onLine: (line: string, stdin: { write(s: string): void }) => void | Promise<void>,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const results: Record<string, unknown> = {};
    let stderr = "";
    let buffered = "";
    let chain = Promise.resolve();
    child.stdout.on("data", (d: Uint8Array) => {
      buffered += new TextDecoder().decode(d);
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("RESULT ")) Object.assign(results, JSON.parse(line.slice(7)));
        chain = chain.then(() => onLine(line, child.stdin)).catch(reject);
      }
    });
    child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => chain.then(() => resolve({ results, stderr, code })));
  });
}

const skip = peerSkip("PyMongo against the simulated replica set", pythonMissing(["pymongo"]));

describe("PyMongo 3.11 against the simulated replica set", () => {
  test("one secondary seed + replicaSet: discovery, primary writes, secondary reads, failover", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo", electionDelayMS: 300 });
    const seed = rs.secondaries[0];
    const oldPrimary = rs.primary!;
    let newPrimaryHost = "";
    let secondaryServed = false;
    const run = await runPython(["replset", seed.host, "foo"], async (line, stdin) => {
      if (line !== "KILL") return;
      secondaryServed = rs.members.some((m) =>
        m.state === "SECONDARY" && m.requests.some((q) => q.command === "find" && q.secondaryOk)
      );
      rs.clearLog();
      await rs.kill(oldPrimary);
      newPrimaryHost = (await rs.waitForPrimary()).host;
      stdin.write("go\n");
    });
    assert.equal(run.code, 0, run.stderr);
    const r = run.results;
    assert.equal(r.version, "3.11.0");
    assert.deepEqual(r.nodes, [...rs.hosts].sort());
    assert.equal(r.primary, oldPrimary.host);
    assert.deepEqual(r.secondary_read, ["Ada"]);
    assert.ok(secondaryServed, "a secondary's request log has the secondaryOk find");
    assert.equal(r.count, 1);
    assert.equal(r.inserted_after_failover, true);
    assert.equal(r.new_primary, newPrimaryHost);
    assert.deepEqual(r.names, ["Ada", "Grace"]);
    assert.ok(rs.requests(newPrimaryHost).some((q) => q.command === "insert"));
  });

  test("replSetInitiate on an uninitialized set, as in PyMongo's replica-set guide", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 3, name: "foo", initiated: false, electionDelayMS: 200 });
    const hosts = rs.members.map((m) => `localhost:${m.port}`);
    const run = await runPython(["initiate", "foo", ...hosts], () => {});
    assert.equal(run.code, 0, run.stderr);
    const r = run.results;
    assert.equal(r.read_before_initiate, 13436);
    assert.equal(r.initiate, 1);
    assert.equal(r.primary_found, true);
    assert.deepEqual(r.found, { x: 1 });
    assert.deepEqual(r.states, ["PRIMARY", "SECONDARY", "SECONDARY"]);
  });
});
