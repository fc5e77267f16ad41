// The GridFS specification's unified tests against the simulated replica set.
//
//   GRIDFS_SPEC_DIR  a folder of unified-format *.json files (default: tests/spec/gridfs)
//
// Prints `gridfs: files F, tests T, passed P, failed X, skipped S`; fails when
// GRIDFS_SPEC_DIR names a missing or empty folder, or a test fails. The
// upstream files (mongodb/specifications, source/gridfs/tests/*.json) are not
// in the project's shared copy of the test vectors yet: without them and
// without GRIDFS_SPEC_DIR the area is one skipped test that says so.
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { runUnifiedArea } from "./runner.ts";

const defaultDir = fileURLToPath(new URL("../gridfs", import.meta.url));

if (!process.env.GRIDFS_SPEC_DIR && !existsSync(defaultDir)) {
  test("gridfs unified spec tests", {
    skip: "no GridFS spec tests: tests/spec/gridfs is absent (the upstream source/gridfs/tests/*.json are not in " +
      "the shared copy /work/shared/spec-tests); set GRIDFS_SPEC_DIR to a folder of them",
  }, () => {});
} else {
  runUnifiedArea({ area: "gridfs", envVar: "GRIDFS_SPEC_DIR", defaultDir });
}
