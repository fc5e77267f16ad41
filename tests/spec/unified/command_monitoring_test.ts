// The command logging and monitoring specification's unified tests against the simulated replica set.
//
//   COMMAND_MONITORING_SPEC_DIR  the specification's tests folder, holding `monitoring/`
//                                (default: tests/spec/command-logging-and-monitoring)
//
// Prints `command-logging-and-monitoring: files F, tests T, passed P, failed X, skipped S`;
// fails when the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  // Tests the 7.0 set cannot run go to a simulated set of a version they need (server_versions.ts).
  serverVersions: true,
  area: "command-logging-and-monitoring",
  envVar: "COMMAND_MONITORING_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../command-logging-and-monitoring", import.meta.url)),
  subfolders: [{ name: "monitoring", expect: "pass" }],
});
