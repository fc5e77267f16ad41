// The index management specification's unified tests against the simulated replica set.
//
//   INDEX_MANAGEMENT_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/index-management)
//
// Prints `index-management: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "index-management",
  envVar: "INDEX_MANAGEMENT_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../index-management", import.meta.url)),
  // index-rawdata.json has a test for 8.2+ and one for older servers.
  serverVersions: true,
});
