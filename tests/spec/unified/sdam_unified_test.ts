// The SDAM specification's unified tests against the simulated replica set.
//
//   SDAM_UNIFIED_SPEC_DIR  a folder of unified-format *.json files
//                          (default: tests/spec/server-discovery-and-monitoring/unified)
//
// Prints `sdam-unified: files F, tests T, passed P, failed X, skipped S`; fails
// when the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "sdam-unified",
  envVar: "SDAM_UNIFIED_SPEC_DIR",
  defaultDir: fileURLToPath(
    new URL("../server-discovery-and-monitoring/unified", import.meta.url),
  ),
  // As drivers' CI runs these tests against an --auth deployment too: the auth-*.json tests need one, and the
  // others run the same with clients that authenticate.
  replicaSet: { users: [{ user: "sdam", password: "sdam-tests" }] },
  // serverMonitoringMode, logging-standalone and the single-server backpressure tests need a standalone (of 4.2 too);
  // sharded-*.json and logging-sharded.json mongoses: a simulated sharded cluster.
  topologies: ["single", "sharded"],
  serverVersions: true,
});
