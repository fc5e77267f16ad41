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
  // sharded-*.json, logging-sharded.json and serverMonitoringMode.json need mongoses: a simulated sharded cluster.
  topologies: ["sharded"],
  serverVersions: true,
  knownBugs: {
    "serverMonitoringMode.json: poll waits after successful heartbeat":
      "known driver bug: a check requested while the first check is in flight (the runner's connect() selecting a server) is kept and runs 500 ms after it, so a client polling with heartbeatFrequencyMS 1000000 checks twice (the Node driver drops such a request)",
  },
});
