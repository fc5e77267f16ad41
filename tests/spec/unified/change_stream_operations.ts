/**
 * Change stream operations of the unified format: `createChangeStream` on a
 * collection, database or client entity (the stream's aggregate runs then,
 * so its errors are the operation's), and `iterateUntilDocumentOrError`,
 * `iterateOnce` and `close` on the change stream entity that
 * `saveResultAsEntity` keeps (the runner stores it as a cursor entity: it
 * has `next` and `close`).
 */
import type { Document } from "../../../src/bson/mod.ts";
import { ChangeStream, type ClientBase, type Collection, type Database } from "../../../src/client/mod.ts";
import { type Args, options, take } from "./arguments.ts";
import { type ClientEntity, type EntityKind, TestFileError } from "./entities.ts";
import type { OperationResult } from "./operations.ts";

const CREATE_OPTIONS = [
  "pipeline",
  "batchSize",
  "collation",
  "comment",
  "fullDocument",
  "fullDocumentBeforeChange",
  "maxAwaitTimeMS",
  "resumeAfter",
  "showExpandedEvents",
  "startAfter",
  "startAtOperationTime",
];

/**
 * Runs `name` when it is a change stream operation: `createChangeStream` on
 * a collection, database or client, or an operation on a change stream
 * entity. Returns undefined for any other operation.
 */
export async function runChangeStreamOperation(
  name: string,
  raw: Args,
  kind: EntityKind,
  entity: unknown,
): Promise<OperationResult | undefined> {
  if (name === "createChangeStream") {
    if (kind !== "collection" && kind !== "database" && kind !== "client") {
      throw new TestFileError(`createChangeStream runs on a collection, database or client, not a ${kind}`);
    }
    const a = take(name, raw, CREATE_OPTIONS);
    if (a.pipeline !== undefined && !Array.isArray(a.pipeline)) {
      throw new TestFileError("createChangeStream: pipeline must be an array");
    }
    const pipeline = (a.pipeline ?? []) as Document[];
    const o = options(a, ["pipeline"]);
    const watchable = kind === "client"
      ? (entity as ClientEntity).client as ClientBase
      : entity as Collection | Database;
    const stream = watchable.watch(pipeline, o);
    // The aggregate runs now: its errors are createChangeStream's, and the
    // changes made by the next operations are seen.
    return { value: await stream.start() };
  }
  if (!(entity instanceof ChangeStream)) return undefined;
  switch (name) {
    case "iterateUntilDocumentOrError": {
      take(name, raw, []);
      const change = await entity.next();
      if (change === null) throw new TestFileError("iterateUntilDocumentOrError: the change stream has ended");
      return { value: change };
    }
    case "iterateOnce":
      take(name, raw, []);
      await entity.tryNext();
      return { value: undefined };
    case "close":
      take(name, raw, []);
      await entity.close();
      return { value: undefined };
    default:
      throw new TestFileError(`${name} is not a change stream operation`);
  }
}
