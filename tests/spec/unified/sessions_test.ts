// The sessions specification's unified tests against the simulated replica set.
//
//   SESSIONS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/sessions)
//
// Prints `sessions: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (server_versions.ts).
  serverVersions: true,
  // snapshot-sessions-not-supported-server-error.json needs a standalone (topology "single").
  topologies: ["single"],
  area: "sessions",
  envVar: "SESSIONS_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../sessions", import.meta.url)),
});
