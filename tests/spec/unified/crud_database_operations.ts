/**
 * The CRUD specification's database-level `aggregate` (`aggregate: 1`), on
 * the driver's `Database.aggregate`; and `runCursorCommand` /
 * `createCommandCursor` (the run-command specification's cursor commands),
 * on `Database.runCursorCommand`.
 */
import type { Document } from "../../../src/bson/mod.ts";
import type { Database } from "../../../src/client/mod.ts";
import { type Args, options, take } from "./arguments.ts";
import { SkipTest, TestFileError } from "./entities.ts";
import { isDocument } from "./matcher.ts";
import type { OperationResult } from "./operations.ts";

/** Runs `aggregate` on a database entity. */
export async function runDatabaseAggregate(raw: Args, db: Database): Promise<OperationResult> {
  const a = take("aggregate", raw, [
    "pipeline",
    "batchSize",
    "allowDiskUse",
    "maxTimeMS",
    "comment",
    "hint",
    "let",
    "collation",
    "bypassDocumentValidation",
    "rawData",
  ]);
  if (!Array.isArray(a.pipeline)) throw new TestFileError("aggregate: pipeline must be an array");
  const pipeline = a.pipeline as Document[];
  const first = pipeline[0];
  if (isDocument(first) && "$listLocalSessions" in first && typeof (db.client as { startSession?: unknown }).startSession !== "function") {
    // $listLocalSessions lists the sessions the server has seen; a driver without sessions sends no lsid.
    throw new SkipTest("driver lacks sessions ($listLocalSessions finds none: no lsid is sent)");
  }
  return { value: await db.aggregate(pipeline, options(a, ["pipeline"])).toArray(), iterable: true };
}

/**
 * `runCursorCommand` (the cursor read to its end) and `createCommandCursor`
 * (the cursor, its command already run: the first batch is fetched now and
 * served to the first iteration).
 */
export async function runDatabaseCursorCommand(name: string, raw: Args, db: Database): Promise<OperationResult> {
  const a = take(name, raw, ["command", "commandName", "readPreference", "batchSize", "maxTimeMS", "comment", "cursorType", "timeoutMode"]);
  if (a.cursorType !== undefined) throw new SkipTest(`driver lacks ${name} option cursorType`);
  if (!isDocument(a.command) || Object.keys(a.command)[0] !== a.commandName) {
    throw new TestFileError(`${name}: commandName ${String(a.commandName)} is not the command's first key`);
  }
  const cursor = db.runCursorCommand(a.command, options(a, ["command", "commandName"]));
  if (name === "runCursorCommand") return { value: await cursor.toArray(), iterable: true };
  await cursor.hasNext();
  return { value: cursor };
}
