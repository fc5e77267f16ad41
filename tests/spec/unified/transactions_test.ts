// The transactions specification's unified tests against the simulated replica set.
//
//   TRANSACTIONS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/transactions)
//
// Prints `transactions: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "transactions",
  envVar: "TRANSACTIONS_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../transactions", import.meta.url)),
  knownBugs: {},
});
