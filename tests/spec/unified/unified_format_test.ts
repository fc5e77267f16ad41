// The unified test format's own tests, run by the unified runner against the
// simulated replica set: every valid-pass/ test passes or is skipped with its
// reason; every valid-fail/ file is rejected (each of its tests fails in the
// runner, or is skipped with its reason, and at least one fails).
//
//   UNIFIED_FORMAT_SPEC_DIR  a folder holding valid-pass/ and valid-fail/
//                            (default: tests/spec/unified-test-format)
//
// Prints `unified-test-format: files F, tests T, passed P, failed X, skipped S`;
// a valid-fail test that the runner rejects counts as passed.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (server_versions.ts).
  serverVersions: true,
  // Tests that need mongoses run on a simulated sharded cluster (sharded.ts).
  topologies: ["sharded"],
  area: "unified-test-format",
  envVar: "UNIFIED_FORMAT_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../unified-test-format", import.meta.url)),
  subfolders: [{ name: "valid-pass", expect: "pass" }, {
    name: "valid-fail",
    expect: "fail",
  }],
});
