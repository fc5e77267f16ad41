// The transactions specification's unified tests against the simulated replica set (and sharded cluster).
//
//   TRANSACTIONS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/transactions)
//
// Prints `transactions: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

const BACKPRESSURE =
  "known driver bug: the client backpressure specification is not implemented (an error labelled RetryableError + SystemOverloadedError is not retried)";

runUnifiedArea({
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (server_versions.ts).
  serverVersions: true,
  // Tests for mongos (pinning, recoveryToken) run on a simulated sharded cluster of two mongoses (sharded.ts).
  topologies: ["sharded"],
  // As drivers' CI runs them against an --auth deployment too: the `auth: true` tests (the handshake errors of a
  // retried commit / abort) need one, and the others run the same with clients that authenticate.
  replicaSet: { users: [{ user: "transactions", password: "transactions-tests" }] },
  area: "transactions",
  envVar: "TRANSACTIONS_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../transactions", import.meta.url)),
  knownBugs: {
    // client-backpressure.md (not part of issue 12): overload errors are retried with backoff, also inside a
    // transaction. The driver runs them once.
    "backpressure-retryable-abort.json: abortTransaction retries if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-abort.json: abortTransaction is retried maxAttempts=2 times if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-reads.json: reads are retried if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-reads.json: reads are retried maxAttempts=2 times if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-writes.json: writes are retried if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-writes.json: writes are retried maxAttempts=2 times if backpressure labels are added":
      BACKPRESSURE,
    "backpressure-retryable-writes.json: retry succeeds if backpressure labels are added to the first operation in a transaction":
      BACKPRESSURE,
  },
});
