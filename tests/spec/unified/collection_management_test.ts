// The collection management specification's unified tests against the simulated replica set.
//
//   COLLECTION_MANAGEMENT_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/collection-management)
//
// Prints `collection-management: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "collection-management",
  envVar: "COLLECTION_MANAGEMENT_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../collection-management", import.meta.url)),
});
