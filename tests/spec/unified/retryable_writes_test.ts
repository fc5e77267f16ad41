// The retryable-writes specification's unified tests against the simulated replica set.
//
//   RETRYABLE_WRITES_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/retryable-writes)
//
// Prints `retryable-writes: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

const RETRY_FIRES_AGAIN =
  "known simulator bug: onPrimaryTransactionalWrite fires again on the retry of a statement that already ran";
const NO_PARTIAL_RESULT =
  "known driver bug: a bulk write whose command fails (ok: 0) rejects without the partial BulkWriteResult (error.result)";

runUnifiedArea({
  area: "retryable-writes",
  envVar: "RETRYABLE_WRITES_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../retryable-writes", import.meta.url)),
  knownBugs: {
    // mongod answers the retry of a statement that already ran from its session table, without reaching the write
    // path; the simulator evaluates onPrimaryTransactionalWrite first, so the retry fails again.
    "bulkWrite.json: All commands are retried": RETRY_FIRES_AGAIN,
    "bulkWrite.json: Both commands are retried after their first statement fails": RETRY_FIRES_AGAIN,
    // The bulk write rejects with the server's error as it is: no partial BulkWriteResult on it for expectResult.
    "bulkWrite.json: First insertOne is never committed": NO_PARTIAL_RESULT,
    "bulkWrite.json: Second updateOne is never committed": NO_PARTIAL_RESULT,
    "bulkWrite.json: Third updateOne is never committed": NO_PARTIAL_RESULT,
  },
});
