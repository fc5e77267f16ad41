// The retryable-writes specification's unified tests against the simulated replica set.
//
//   RETRYABLE_WRITES_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/retryable-writes)
//
// Prints `retryable-writes: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "retryable-writes",
  envVar: "RETRYABLE_WRITES_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../retryable-writes", import.meta.url)),
  // As drivers' CI runs these tests against an --auth deployment too: the handshake-error tests need one (they fail
  // the saslContinue of a new connection), and the others run the same with clients that authenticate.
  replicaSet: { users: [{ user: "retryable", password: "retryable-writes-tests" }] },
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (as in crud).
  serverVersions: true,
  // Tests that need mongoses run on a simulated sharded cluster (sharded.ts).
  topologies: ["sharded"],
});
