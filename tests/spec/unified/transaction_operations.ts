/**
 * The unified format's transaction operations: `startTransaction`,
 * `commitTransaction`, `abortTransaction` and `withTransaction` (its callback
 * a list of operations, each with its own expectations) on a session entity;
 * `assertSessionTransactionState` on the test runner. `runOperation`
 * (operations.ts) hands these names here.
 */
import assert from "node:assert/strict";
import { EJSON } from "../../../src/bson/mod.ts";
import type { ClientSession, TransactionOptions, TransactionState } from "../../../src/client/mod.ts";
import { plain, SkipTest, TestFileError } from "./entities.ts";
import { type Args, take } from "./arguments.ts";
import { checkError, checkResult, matchContext } from "./expectations.ts";
import { isDocument, MatcherUsageError } from "./matcher.ts";
import { type OperationContext, type OperationResult, runOperation } from "./operations.ts";

/** The format's state names to the driver's. */
const STATES: Record<string, TransactionState> = {
  none: "NO_TRANSACTION",
  starting: "STARTING_TRANSACTION",
  in_progress: "TRANSACTION_IN_PROGRESS",
  committed: "TRANSACTION_COMMITTED",
  aborted: "TRANSACTION_ABORTED",
};

const TRANSACTION_OPTIONS = ["readConcern", "writeConcern", "readPreference", "maxCommitTimeMS"];

/** Runs a transaction operation; `undefined` for any other operation. */
export async function runTransactionOperation(
  op: Record<string, unknown>,
  ctx: OperationContext,
): Promise<OperationResult | undefined> {
  const name = op.name as string;
  const args = (op.arguments ?? {}) as Args;
  if (op.object === "testRunner") {
    switch (name) {
      case "assertSessionTransactionState": {
        const session = sessionEntity(ctx, args.session);
        const state = STATES[args.state as string];
        if (state === undefined) throw new TestFileError(`assertSessionTransactionState: unknown state ${args.state}`);
        assert.equal(session.transaction.state, state, `session ${args.session}'s transaction state`);
        return { value: undefined };
      }
      default:
        return undefined;
    }
  }
  const session = sessionEntity(ctx, op.object);
  switch (name) {
    case "startTransaction":
      session.startTransaction(transactionOptions(name, args));
      return { value: undefined };
    case "commitTransaction":
      take(name, args, []);
      await session.commitTransaction();
      return { value: undefined };
    case "abortTransaction":
      take(name, args, []);
      await session.abortTransaction();
      return { value: undefined };
    case "withTransaction": {
      const { callback, ...rest } = args;
      if (!Array.isArray(callback)) throw new TestFileError("withTransaction: callback must be an array of operations");
      await session.withTransaction(async () => {
        for (const nested of callback) await runCallbackOperation(nested, ctx);
      }, transactionOptions(name, rest));
      return { value: undefined };
    }
    default:
      return undefined;
  }
}

function sessionEntity(ctx: OperationContext, id: unknown): ClientSession {
  return ctx.entities.get(id, "session") as ClientSession;
}

/** startTransaction / withTransaction options as the driver takes them. */
function transactionOptions(name: string, raw: Args): TransactionOptions {
  const a = take(name, raw, TRANSACTION_OPTIONS);
  const out: Record<string, unknown> = {};
  if (a.readConcern !== undefined) out.readConcern = a.readConcern;
  if (a.writeConcern !== undefined) {
    // The format's names (journal, wtimeoutMS) to the driver's (j, wtimeout).
    const names: Record<string, string> = { journal: "j", wtimeoutMS: "wtimeout" };
    const wc = a.writeConcern as Record<string, unknown>;
    out.writeConcern = Object.fromEntries(Object.entries(wc).map(([k, v]) => [names[k] ?? k, plain(v)]));
  }
  if (a.readPreference !== undefined) out.readPreference = plain(a.readPreference);
  if (a.maxCommitTimeMS !== undefined) out.maxCommitTimeMS = plain(a.maxCommitTimeMS);
  return out as TransactionOptions;
}

/**
 * One operation of a withTransaction callback, its expectations checked as the
 * runner checks a test's operations. An error it expected is swallowed; any
 * other error leaves the callback (so withTransaction may retry it).
 */
async function runCallbackOperation(op: unknown, ctx: OperationContext): Promise<void> {
  if (!isDocument(op)) throw new TestFileError("a withTransaction callback operation must be a document");
  const match = matchContext(ctx.entities);
  let result: OperationResult | undefined;
  try {
    result = await runOperation(op, ctx);
  } catch (e) {
    if (e instanceof SkipTest || e instanceof TestFileError || e instanceof MatcherUsageError) throw e;
    if (op.ignoreResultAndError === true) return;
    if (op.expectError === undefined) throw e;
    checkError(op.expectError as Record<string, unknown>, e, match);
    return;
  }
  if (op.ignoreResultAndError === true) return;
  if (op.expectError !== undefined) {
    assert.fail(
      `operation ${op.name} in withTransaction: expected an error, got ${EJSON.stringify(result.value ?? null)}`,
    );
  }
  if (op.expectResult !== undefined) checkResult(op.expectResult, result, match);
  if (typeof op.saveResultAsEntity === "string") ctx.entities.set(op.saveResultAsEntity, "value", result.value);
}
