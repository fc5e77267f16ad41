/**
 * The unified format's `clientBulkWrite` operation (on a client entity) and
 * the `expectError` fields that check its {@linkcode ClientBulkWriteError}:
 * `writeErrors` (by model index), `writeConcernErrors`, and `expectResult`
 * against the partial result.
 */
import assert from "node:assert/strict";
import type { Document } from "../../../src/bson/mod.ts";
import { type ClientBase, ClientBulkWriteError, type ClientBulkWriteModel } from "../../../src/client/mod.ts";
import { type Args, options, take } from "./arguments.ts";
import { TestFileError } from "./entities.ts";
import { isDocument, match, type MatchContext } from "./matcher.ts";
import type { OperationResult } from "./operations.ts";

/** Runs `clientBulkWrite`: the models as the format writes them, the options as the driver takes them. */
export async function runClientBulkWrite(raw: Args, client: ClientBase): Promise<OperationResult> {
  const a = take("clientBulkWrite", raw, [
    "models",
    "ordered",
    "bypassDocumentValidation",
    "let",
    "comment",
    "writeConcern",
    "verboseResults",
    "rawData",
  ]);
  if (!Array.isArray(a.models)) throw new TestFileError("clientBulkWrite: models must be an array");
  const r = await client.bulkWrite(a.models as ClientBulkWriteModel[], options(a, ["models"]));
  return { value: r };
}

/**
 * Checks one `expectError` field that concerns a client bulk write, or
 * returns false when `key` is not one of them.
 */
export function checkClientBulkWriteError(key: string, expected: unknown, error: unknown, ctx: MatchContext): boolean {
  if (key !== "writeErrors" && key !== "writeConcernErrors") return false;
  assert.ok(error instanceof ClientBulkWriteError, `${key} expects a ClientBulkWriteError, got ${String(error)}`);
  if (key === "writeErrors") {
    if (!isDocument(expected)) throw new TestFileError("expectError.writeErrors must be a document");
    const actual = error.writeErrors as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(actual).sort(),
      Object.keys(expected).sort(),
      `writeErrors: indexes ${Object.keys(actual).join(", ")}`,
    );
    for (const [i, e] of Object.entries(expected)) match(e, actual[i], { root: true, ctx });
  } else {
    if (!Array.isArray(expected)) throw new TestFileError("expectError.writeConcernErrors must be an array");
    assert.equal(error.writeConcernErrors.length, expected.length, "writeConcernErrors: count");
    expected.forEach((e: Document, i) => match(e, error.writeConcernErrors[i], { root: true, ctx }));
  }
  return true;
}

/** What `expectError.expectResult` is matched against: a client bulk write's partial result, else the error's result. */
export function errorResult(error: unknown): unknown {
  if (error instanceof ClientBulkWriteError) return error.partialResult;
  return (error as Record<string, unknown>)?.result;
}
