// The CRUD specification's unified tests against the simulated replica set.
//
//   CRUD_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/crud)
//
// Prints `crud: files F, tests T, passed P, failed X, skipped S`; fails when
// the folder is missing or empty, or a test fails.
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

runUnifiedArea({
  area: "crud",
  envVar: "CRUD_SPEC_DIR",
  defaultDir: fileURLToPath(new URL("../crud", import.meta.url)),
  knownBugs: {
    // crud.md ("Find"): when batchSize equals limit (and limit > 0) drivers MUST send batchSize limit + 1, so that the
    // server closes the cursor with the last batch. The driver sends batchSize 4 with limit 4 (seen from the
    // commandStarted events of the monitoring branch; here the test would skip for lack of events).
    "find.json: Find with batchSize equal to limit":
      "known driver bug: find with batchSize equal to limit sends batchSize 4, crud.md asks for limit + 1 (5)",
    // The simulator accepts a collation and ignores it: mongod matches "B" and "b" with {locale: "en_US", strength: 2}.
    "deleteMany-collation.json: DeleteMany when many documents match with collation":
      "known simulator bug: collation is accepted and ignored (deletedCount 0, mongod 2)",
    "replaceOne-collation.json: ReplaceOne when one document matches with collation":
      "known simulator bug: collation is accepted and ignored (matchedCount 0, mongod 1)",
    "updateOne-collation.json: UpdateOne when one document matches with collation":
      "known simulator bug: collation is accepted and ignored (matchedCount 0, mongod 1)",
    // crud.md: insertMany reports a BulkWriteResult with its BulkWriteException; WriteError.result here is
    // {acknowledged, insertedCount, insertedIds}, without deletedCount/matchedCount/modifiedCount/upsertedCount/upsertedIds.
    "insertMany.json: InsertMany continue-on-error behavior with unordered (preexisting duplicate key)":
      "known driver bug: insertMany's WriteError.result is not a BulkWriteResult (no deletedCount, matchedCount, ...)",
    "insertMany.json: InsertMany continue-on-error behavior with unordered (duplicate key in requests)":
      "known driver bug: insertMany's WriteError.result is not a BulkWriteResult (no deletedCount, matchedCount, ...)",
  },
});
