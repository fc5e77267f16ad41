/**
 * The unified format's operations, mapped onto the driver's API.
 *
 * - An operation the specification defines but the driver has no counterpart
 *   for yet skips the test: "driver lacks <operation>".
 * - An argument the driver's method does not take skips the test: "driver
 *   lacks <operation> option <name>" (the driver would otherwise ignore it and
 *   the test could pass without the behaviour it checks).
 * - A missing required argument, an invalid enum value, an undefined entity or
 *   an operation name the specification does not define is a test-file error:
 *   the test fails (that is what the `valid-fail` files check).
 */
import type { Document } from "../../../src/bson/mod.ts";
import { OperationFailure } from "../../../src/errors.ts";
import type { ClientBase, Cursor, Database, ReplicaSetConnection, RunCommandOptions } from "../../../src/client/mod.ts";
import { type EntityMap, plain, SkipTest, TestFileError } from "./entities.ts";
import { type Args, docArg, take } from "./arguments.ts";
import { runCollectionOperation } from "./collection_operations.ts";
import { runClientBulkWrite } from "./client_bulk_write_operations.ts";
import { runDatabaseAggregate, runDatabaseCursorCommand } from "./crud_database_operations.ts";
import { runDatabaseManagementOperation } from "./management_operations.ts";
import { runTransactionOperation } from "./transaction_operations.ts";
import { runChangeStreamOperation } from "./change_stream_operations.ts";
import { isDocument } from "./matcher.ts";
import { runSdamOperation, SDAM_RUNNER_OPERATIONS } from "./sdam_operations.ts";
import { runReadOperation } from "./read_operations.ts";
import {
  runSessionEntityOperation,
  runSessionTestRunnerOperation,
  sessionArgumentGap,
  withSessionArgument,
} from "./session_operations.ts";
import type { ClientSession } from "../../../src/client/mod.ts";

function skip(reason: string): never {
  throw new SkipTest(reason);
}

/** What an operation returned; `iterable` results are lists whose elements are root-level documents. */
export interface OperationResult {
  value: unknown;
  iterable?: boolean;
}

/** A fail point to turn off after the test, through the internal client. */
export interface FailPointRecord {
  name: string;
}

/** What operations need besides the entity map. */
export interface OperationContext {
  readonly entities: EntityMap;
  /** The runner's own client (outcome, collection/index assertions, disabling fail points). */
  readonly internal: ReplicaSetConnection;
  readonly failPoints: FailPointRecord[];
  /** Creates entities for the `createEntities` operation. */
  createEntities(list: unknown): Promise<void>;
}

/** Every operation name the unified format defines, by the object it runs on. */
// deno-fmt-ignore
const SPEC_OPERATIONS = new Set([
  "failPoint", "targetedFailPoint", "assertSessionTransactionState", "assertSessionPinned", "assertSessionUnpinned",
  "assertDifferentLsidOnLastTwoCommands", "assertSameLsidOnLastTwoCommands", "assertSessionDirty",
  "assertSessionNotDirty", "assertCollectionExists", "assertCollectionNotExists", "assertIndexExists",
  "assertIndexNotExists", "createEntities", "assertNumberConnectionsCheckedOut", "runOnThread", "waitForThread",
  "waitForEvent", "assertEventCount", "recordTopologyDescription", "assertTopologyType", "waitForPrimaryChange",
  "wait", "close", "appendMetadata", "createChangeStream", "clientBulkWrite", "watch", "listDatabases",
  "listDatabaseNames", "createDataKey", "rewrapManyDataKey", "deleteKey", "getKey", "getKeys", "addKeyAltName",
  "removeKeyAltName", "getKeyByAltName", "encrypt", "decrypt", "aggregate", "listCollections", "listCollectionNames",
  "runCommand", "runCursorCommand", "createCommandCursor", "createCollection", "dropCollection", "modifyCollection",
  "dropDatabase", "bulkWrite", "count", "countDocuments", "estimatedDocumentCount", "distinct", "find", "findOne",
  "createFindCursor", "findOneAndDelete", "findOneAndReplace", "findOneAndUpdate", "insertMany", "insertOne",
  "deleteMany", "deleteOne", "replaceOne", "updateMany", "updateOne", "createIndex", "createIndexes", "dropIndex",
  "dropIndexes", "listIndexes", "listIndexNames", "rename", "drop", "createSearchIndex", "createSearchIndexes",
  "dropSearchIndex", "listSearchIndexes", "updateSearchIndex", "mapReduce", "endSession", "startTransaction",
  "commitTransaction", "abortTransaction", "withTransaction", "getSnapshotTime", "delete", "download",
  "downloadByName", "downloadToStream", "downloadToStreamByName", "openDownloadStream", "openDownloadStreamByName",
  "openUploadStream", "openUploadStreamWithId", "upload", "uploadWithId", "uploadFromStream",
  "uploadFromStreamWithId", "iterateUntilDocumentOrError", "iterateOnce", "listCollectionObjects", "listDatabaseObjects",
]);

/** Required arguments of the operations the runner checks before anything else. */
const REQUIRED: Record<string, string[]> = {
  insertOne: ["document"],
  insertMany: ["documents"],
  find: ["filter"],
  createFindCursor: ["filter"],
  findOne: ["filter"],
  aggregate: ["pipeline"],
  countDocuments: ["filter"],
  count: ["filter"],
  distinct: ["fieldName", "filter"],
  updateOne: ["filter", "update"],
  updateMany: ["filter", "update"],
  replaceOne: ["filter", "replacement"],
  deleteOne: ["filter"],
  deleteMany: ["filter"],
  findOneAndDelete: ["filter"],
  findOneAndReplace: ["filter", "replacement"],
  findOneAndUpdate: ["filter", "update"],
  bulkWrite: ["requests"],
  clientBulkWrite: ["models"],
  runCommand: ["command", "commandName"],
  runCursorCommand: ["command", "commandName"],
  createCommandCursor: ["command", "commandName"],
  createCollection: ["collection"],
  dropCollection: ["collection"],
  createIndex: ["keys"],
  dropIndex: ["name"],
  rename: ["to"],
  failPoint: ["client", "failPoint"],
  targetedFailPoint: ["session", "failPoint"],
  assertCollectionExists: ["databaseName", "collectionName"],
  assertCollectionNotExists: ["databaseName", "collectionName"],
  assertIndexExists: ["databaseName", "collectionName", "indexName"],
  assertIndexNotExists: ["databaseName", "collectionName", "indexName"],
  assertNumberConnectionsCheckedOut: ["client", "connections"],
  createEntities: ["entities"],
  wait: ["ms"],
  waitForEvent: ["client", "event", "count"],
  assertEventCount: ["client", "event", "count"],
  recordTopologyDescription: ["client", "id"],
  assertTopologyType: ["topologyDescription", "topologyType"],
  waitForPrimaryChange: ["client", "priorTopologyDescription"],
  runOnThread: ["thread", "operation"],
  waitForThread: ["thread"],
};

/** Validates what the runner can check statically: the operation exists in the format, its required arguments. */
export function validateOperation(op: Record<string, unknown>): void {
  if (typeof op.name !== "string") {
    throw new TestFileError("an operation needs a name");
  }
  if (typeof op.object !== "string") {
    throw new TestFileError(`operation ${op.name} needs an object`);
  }
  if (!SPEC_OPERATIONS.has(op.name)) {
    throw new TestFileError(`unsupported operation ${op.name}`);
  }
  const args = op.arguments ?? {};
  if (!isDocument(args)) {
    throw new TestFileError(
      `operation ${op.name}: arguments must be a document`,
    );
  }
  for (const r of REQUIRED[op.name] ?? []) {
    if (args[r] === undefined) {
      throw new TestFileError(
        `operation ${op.name} is missing its required argument ${r}`,
      );
    }
  }
  if (
    args.returnDocument !== undefined && args.returnDocument !== "Before" &&
    args.returnDocument !== "After"
  ) {
    throw new TestFileError(
      `operation ${op.name}: returnDocument must be "Before" or "After", got ${String(args.returnDocument)}`,
    );
  }
  if (
    op.expectError !== undefined &&
    (op.expectResult !== undefined || op.saveResultAsEntity !== undefined)
  ) {
    throw new TestFileError(
      `operation ${op.name}: expectError excludes expectResult and saveResultAsEntity`,
    );
  }
  if (
    op.ignoreResultAndError === true &&
    (op.expectError !== undefined || op.expectResult !== undefined)
  ) {
    throw new TestFileError(
      `operation ${op.name}: ignoreResultAndError excludes expectError and expectResult`,
    );
  }
}

/** Runs one operation (already validated) and returns its result. Driver errors propagate as they are. */
export async function runOperation(
  op: Record<string, unknown>,
  ctx: OperationContext,
): Promise<OperationResult> {
  const name = op.name as string;
  let args = (op.arguments ?? {}) as Args;
  if (op.object === "testRunner") {
    return runSessionTestRunnerOperation(name, args, ctx) ?? await runTestRunnerOperation(name, args, ctx);
  }
  const kind = ctx.entities.kindOf(op.object as string);
  if (kind === undefined) {
    throw new TestFileError(`entity ${String(op.object)} is not defined`);
  }
  const changeStream = await runChangeStreamOperation(name, args, kind, ctx.entities.get(op.object));
  if (changeStream !== undefined) return changeStream;
  args = withSessionArgument(args, ctx.entities);
  const read = await runReadOperation(name, args, kind, ctx.entities.get(op.object));
  if (read !== undefined) return read;
  const sessionGap = sessionArgumentGap(name, kind, args);
  if (sessionGap !== undefined) throw new SkipTest(sessionGap);
  switch (kind) {
    case "collection":
      return await runCollectionOperation(
        name,
        args,
        ctx.entities.get(op.object, "collection"),
      );
    case "database":
      return await runDatabaseOperation(
        name,
        args,
        ctx.entities.get(op.object, "database"),
      );
    case "client":
      return await runClientOperation(
        name,
        args,
        ctx.entities.get(op.object, "client").client,
      );
    case "cursor":
      return await runCursorOperation(
        name,
        ctx.entities.get(op.object, "cursor"),
      );
    case "session":
      return await runSessionEntityOperation(name, args, ctx.entities.get(op.object, "session") as ClientSession) ??
        await runTransactionOperation(op, ctx) ?? skip(`driver lacks ${name} (session)`);
    default:
      throw new TestFileError(
        `entity ${String(op.object)} (a ${kind}) has no operations`,
      );
  }
}

async function runDatabaseOperation(
  name: string,
  raw: Args,
  db: Database,
): Promise<OperationResult> {
  switch (name) {
    case "runCommand": {
      const a = take(name, raw, ["command", "commandName", "readPreference"]);
      const cmd = docArg(a, "command", name);
      if (Object.keys(cmd)[0] !== a.commandName) {
        throw new TestFileError(
          `runCommand: commandName ${String(a.commandName)} is not the command's first key`,
        );
      }
      const opts: RunCommandOptions = {};
      if (a.readPreference !== undefined) Object.assign(opts, { readPreference: plain(a.readPreference) });
      if (a.session !== undefined) Object.assign(opts, { session: a.session });
      return { value: await db.command(cmd, opts) };
    }
    case "aggregate":
      return await runDatabaseAggregate(raw, db);
    case "runCursorCommand":
    case "createCommandCursor":
      return await runDatabaseCursorCommand(name, raw, db);
    case "listCollections": {
      const a = take(name, raw, ["filter"]);
      return {
        value: await db.listCollections(
          a.filter === undefined ? {} : docArg(a, "filter", name),
        ),
        iterable: true,
      };
    }
    case "dropCollection": {
      const a = take(name, raw, ["collection"]);
      if (typeof a.collection !== "string") {
        throw new TestFileError("dropCollection: collection must be a string");
      }
      await db.collection(a.collection).drop();
      return { value: undefined };
    }
    default:
      return await runDatabaseManagementOperation(name, raw, db);
  }
}

async function runClientOperation(
  name: string,
  raw: Args,
  client: ClientBase,
): Promise<OperationResult> {
  switch (name) {
    case "listDatabases": {
      const a = take(name, raw, ["filter"]);
      const filter = a.filter === undefined ? undefined : docArg(a, "filter", name);
      return {
        value: await client.listDatabases(
          filter === undefined ? {} : { filter },
        ),
        iterable: true,
      };
    }
    case "clientBulkWrite":
      return await runClientBulkWrite(raw, client);
    case "close":
      take(name, raw, []);
      await client.close();
      return { value: undefined };
    default:
      throw new SkipTest(`driver lacks ${name} (client)`);
  }
}

async function runCursorOperation(
  name: string,
  cursor: Cursor<Document>,
): Promise<OperationResult> {
  switch (name) {
    case "iterateUntilDocumentOrError": {
      const doc = await cursor.next();
      if (doc === null) {
        throw new TestFileError(
          "iterateUntilDocumentOrError: the cursor is exhausted",
        );
      }
      return { value: doc };
    }
    case "iterateOnce":
      await cursor.hasNext();
      return { value: undefined };
    case "close":
      await cursor.close();
      return { value: undefined };
    default:
      throw new TestFileError(`${name} is not a cursor operation`);
  }
}

async function runTestRunnerOperation(
  name: string,
  args: Args,
  ctx: OperationContext,
): Promise<OperationResult> {
  if (SDAM_RUNNER_OPERATIONS.has(name)) return await runSdamOperation(name, args, ctx, runOperation);
  switch (name) {
    case "failPoint": {
      const client = ctx.entities.get(args.client, "client").client;
      const fp = docArg(args, "failPoint", name);
      if (typeof fp.configureFailPoint !== "string") {
        throw new TestFileError(
          "failPoint: configureFailPoint must name a fail point",
        );
      }
      try {
        await client.db("admin").command(fp);
      } catch (e) {
        if (e instanceof OperationFailure && e.code === 59) {
          throw new SkipTest(
            "simulator lacks command configureFailPoint (CommandNotFound)",
          );
        }
        throw e;
      }
      ctx.failPoints.push({ name: fp.configureFailPoint });
      return { value: undefined };
    }
    case "targetedFailPoint":
      ctx.entities.get(args.session);
      throw new TestFileError("unreachable: sessions are never created");
    case "assertCollectionExists":
    case "assertCollectionNotExists": {
      const names = (await ctx.internal.db(args.databaseName as string).listCollections({}))
        .map((c) => c.name);
      const exists = names.includes(args.collectionName as string);
      if (exists !== (name === "assertCollectionExists")) {
        throw new Error(
          `${args.databaseName}.${args.collectionName} ${exists ? "exists" : "does not exist"}`,
        );
      }
      return { value: undefined };
    }
    case "assertIndexExists":
    case "assertIndexNotExists": {
      let names: string[] = [];
      try {
        const reply = await ctx.internal.db(args.databaseName as string)
          .command({ listIndexes: args.collectionName });
        names = ((reply.cursor as Document).firstBatch as Document[]).map((i) => i.name as string);
      } catch (e) {
        if (!(e instanceof OperationFailure && e.code === 26)) throw e; // NamespaceNotFound: no indexes
      }
      const exists = names.includes(args.indexName as string);
      if (exists !== (name === "assertIndexExists")) {
        throw new Error(
          `index ${args.indexName} on ${args.databaseName}.${args.collectionName} ${
            exists ? "exists" : "does not exist"
          }`,
        );
      }
      return { value: undefined };
    }
    case "createEntities":
      await ctx.createEntities(args.entities);
      return { value: undefined };
    case "wait": {
      const ms = plain(args.ms);
      if (typeof ms !== "number" || ms < 0) {
        throw new TestFileError("wait: ms must be a non-negative number");
      }
      await new Promise((r) => setTimeout(r, ms));
      return { value: undefined };
    }
    case "assertSessionTransactionState":
      return (await runTransactionOperation({ name, object: "testRunner", arguments: args }, ctx))!;
    case "assertSessionPinned":
    case "assertSessionUnpinned":
    case "assertSessionDirty":
    case "assertSessionNotDirty":
      ctx.entities.get(args.session);
      throw new TestFileError("unreachable: sessions are never created");
    case "assertDifferentLsidOnLastTwoCommands":
    case "assertSameLsidOnLastTwoCommands": {
      const c = ctx.entities.get(args.client, "client");
      throw new SkipTest(
        c.events === undefined ? `monitoring events not implemented (${name})` : `runner lacks ${name}`,
      );
    }
    default:
      throw new TestFileError(`${name} is not a testRunner operation`);
  }
}
