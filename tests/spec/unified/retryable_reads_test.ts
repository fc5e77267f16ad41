// The retryable-reads specification's unified tests against the simulated replica set.
//
//   RETRYABLE_READS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/retryable-reads)
//
// Prints `retryable-reads: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "retryable-reads",
  envVar: "RETRYABLE_READS_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../retryable-reads", import.meta.url)),
});
