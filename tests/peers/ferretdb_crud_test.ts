// The CRUD specification's unified tests (CRUD_SPEC_DIR, default tests/spec/crud)
// against FerretDB v1.24.2 on SQLite, started as a standalone: runOnRequirements
// see topology "single" and the version its buildInfo reports. A test that hits
// a known FerretDB difference (tests/peers/ferretdb_gaps.ts) skips naming it; a
// failure no row of that table explains is a failure.
//
// Prints `crud (ferretdb): files F, tests T, passed P, failed 0, skipped S`.
// Without the binary (tests/peers/ferretdb/build.sh) it skips with the reason;
// under CI=true it fails instead.
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ferretdbSkipReason, startFerretDB } from "../helpers/ferretdb.ts";
import { runUnifiedArea } from "../spec/unified/runner.ts";
import { ferretdbExplainFailure, ferretdbSkipBefore } from "./ferretdb_gaps.ts";

const skip = ferretdbSkipReason("the CRUD unified tests against FerretDB (tests/peers/ferretdb_crud_test.ts)");

if (skip !== undefined) {
  test("crud (ferretdb): the CRUD unified tests against FerretDB", { skip }, () => {});
} else {
  runUnifiedArea({
    area: "crud",
    envVar: "CRUD_SPEC_DIR",
    defaultDir: fileURLToPath(new URL("../spec/crud", import.meta.url)),
    knownBugs: {
      // As in tests/spec/unified/crud_test.ts: crud.md asks for batchSize limit + 1 when batchSize equals limit.
      "find.json: Find with batchSize equal to limit":
        "known driver bug: find with batchSize equal to limit sends batchSize 4, crud.md asks for limit + 1 (5)",
    },
    target: {
      name: "ferretdb",
      topology: "single",
      async start() {
        const f = await startFerretDB({ replSetName: null });
        return { uri: `mongodb://${f.address}/?directConnection=true`, close: () => f.close() };
      },
      skipBefore: ferretdbSkipBefore,
      explainFailure: ferretdbExplainFailure,
    },
  });
}
