// The change streams specification's unified tests against the simulated replica set.
//
//   CHANGE_STREAMS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/change-streams)
//
// Prints `change-streams: files F, tests T, passed P, failed X, skipped S`;
// fails when the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (server_versions.ts).
  serverVersions: true,
  // Tests that need mongoses run on a simulated sharded cluster (sharded.ts).
  topologies: ["sharded"],
  area: "change-streams",
  envVar: "CHANGE_STREAMS_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../change-streams", import.meta.url)),
});
