/**
 * The unified test format's expectations on what a test did: `expectResult`,
 * `expectError`, `outcome`, and which `expectEvents`/`expectLogMessages` the
 * driver cannot be checked against yet (it emits no monitoring events).
 */
import { checkClientBulkWriteError, errorResult } from "./client_bulk_write_operations.ts";
import assert from "node:assert/strict";
import { type Document, EJSON } from "../../../src/bson/mod.ts";
import { OperationFailure } from "../../../src/errors.ts";
import { type EntityMap, plain, SkipTest, TestFileError } from "./entities.ts";
import { match, type MatchContext, MatcherUsageError } from "./matcher.ts";
import type { OperationResult } from "./operations.ts";
import type { RunnerEnvironment } from "./runner.ts";
import { sessionLsid } from "./session_operations.ts";

/** Asserts that each collection of `outcome` holds exactly its documents (sorted by _id, read from the primary). */
export async function checkOutcome(
  outcome: unknown,
  env: RunnerEnvironment,
): Promise<void> {
  if (outcome === undefined) return;
  for (const c of outcome as Document[]) {
    const coll = env.internal.db(c.databaseName as string).collection(
      c.collectionName as string,
    );
    const actual = await coll.find({}, { sort: { _id: 1 } }).toArray();
    const expected = c.documents as Document[];
    assert.equal(
      actual.length,
      expected.length,
      `outcome ${c.databaseName}.${c.collectionName}: ${EJSON.stringify(actual)}`,
    );
    expected.forEach((e, i) => match(e, actual[i], { root: false }));
  }
}

export function matchContext(entities: EntityMap): MatchContext {
  return {
    entity: (name) => entities.get(name, "value"),
    sessionLsid: (name) => {
      if (entities.kindOf(name) !== "session") throw new MatcherUsageError(`${name} is not a session`);
      return sessionLsid(entities, name);
    },
  };
}

/** Matches an operation's result: an iterable's elements are root-level documents. */
export function checkResult(
  expected: unknown,
  result: OperationResult,
  ctx: MatchContext,
): void {
  if (
    result.iterable && Array.isArray(expected) && Array.isArray(result.value)
  ) {
    assert.equal(
      result.value.length,
      expected.length,
      `expected ${expected.length} result(s), got ${EJSON.stringify(result.value)}`,
    );
    expected.forEach((e, i) => match(e, (result.value as unknown[])[i], { root: true, ctx }));
    return;
  }
  match(expected, result.value, { root: true, ctx });
}

/** Asserts an `expectError` against what an operation threw. */
export function checkError(
  expected: Document,
  error: unknown,
  ctx: MatchContext,
): void {
  const e = error as Record<string, unknown>;
  const server = error instanceof OperationFailure;
  const message = error instanceof Error ? error.message : String(error);
  const label = `${(error as Error)?.name ?? "error"}: ${message}`;
  for (const [k, v] of Object.entries(expected)) {
    switch (k) {
      case "isError":
        break;
      case "isClientError":
        assert.equal(!server, v, `isClientError ${v}, got ${label}`);
        break;
      case "isTimeoutError":
        assert.equal(
          /timeout|timed out/i.test(`${(error as Error)?.name} ${message}`),
          v,
          `isTimeoutError ${v}, got ${label}`,
        );
        break;
      case "errorContains":
        assert.ok(
          message.toLowerCase().includes(String(v).toLowerCase()),
          `error message contains "${v}": ${label}`,
        );
        break;
      case "errorCode":
        assert.ok(
          server,
          `errorCode ${plain(v)} expects a server error, got ${label}`,
        );
        assert.equal(e.code, plain(v), `errorCode: ${label}`);
        break;
      case "errorCodeName":
        assert.ok(
          server,
          `errorCodeName ${v} expects a server error, got ${label}`,
        );
        assert.equal(
          String(e.codeName).toLowerCase(),
          String(v).toLowerCase(),
          `errorCodeName: ${label}`,
        );
        break;
      case "errorLabelsContain":
      case "errorLabelsOmit": {
        const labels = (e.errorLabels ?? []) as string[];
        for (const l of v as string[]) {
          assert.equal(
            labels.includes(l),
            k === "errorLabelsContain",
            `${k} ${l}: labels ${JSON.stringify(labels)} of ${label}`,
          );
        }
        break;
      }
      case "errorResponse":
        assert.ok(server, `errorResponse expects a server error, got ${label}`);
        match(v, e.response, { root: true, ctx });
        break;
      case "expectResult":
        match(v, errorResult(error), { root: true, ctx });
        break;
      case "writeErrors":
      case "writeConcernErrors":
        checkClientBulkWriteError(k, v, error, ctx);
        break;
      default:
        throw new TestFileError(`unknown expectError field ${k}`);
    }
  }
}
