/**
 * Collection operations of the unified format, on the driver's
 * {@linkcode Collection}. Methods the driver may not have yet
 * (`findOneAndDelete`/`Replace`/`Update`, `distinct`, `estimatedDocumentCount`,
 * `bulkWrite`) are called when the collection has them, else the test skips
 * with "driver lacks <operation>".
 */
import type { Document } from "../../../src/bson/mod.ts";
import type { Collection } from "../../../src/client/mod.ts";
import { type Args, docArg, options, take } from "./arguments.ts";
import { SkipTest, TestFileError } from "./entities.ts";
import type { OperationResult } from "./operations.ts";
import { runIndexOperation } from "./management_operations.ts";

const FIND_OPTIONS = [
  "filter",
  "sort",
  "projection",
  "skip",
  "limit",
  "batchSize",
  "hint",
  "maxTimeMS",
  "comment",
  "collation",
  "let",
  "allowDiskUse",
  "rawData",
  "min",
  "max",
  "returnKey",
  "showRecordId",
];
const WRITE_OPTIONS = ["writeConcern", "bypassDocumentValidation", "comment", "rawData"];
const UPDATE_OPTIONS = [
  ...WRITE_OPTIONS,
  "filter",
  "upsert",
  "arrayFilters",
  "hint",
  "collation",
  "let",
];

export async function runCollectionOperation(
  name: string,
  raw: Args,
  coll: Collection,
): Promise<OperationResult> {
  switch (name) {
    case "insertOne": {
      const a = take(name, raw, ["document", ...WRITE_OPTIONS]);
      const r = await coll.insertOne(
        docArg(a, "document", name),
        options(a, ["document"]),
      );
      return { value: { insertedId: r.insertedId } };
    }
    case "insertMany": {
      const a = take(name, raw, ["documents", "ordered", ...WRITE_OPTIONS]);
      if (!Array.isArray(a.documents)) {
        throw new TestFileError("insertMany: documents must be an array");
      }
      const r = await coll.insertMany(
        a.documents as Document[],
        options(a, ["documents"]),
      );
      return { value: { insertedIds: r.insertedIds } };
    }
    case "find":
    case "createFindCursor": {
      const a = take(name, raw, FIND_OPTIONS);
      const cursor = coll.find(
        docArg(a, "filter", name),
        options(a, ["filter"]),
      );
      if (name === "createFindCursor") return { value: cursor };
      return { value: await cursor.toArray(), iterable: true };
    }
    case "aggregate": {
      const a = take(name, raw, [
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
      if (!Array.isArray(a.pipeline)) {
        throw new TestFileError("aggregate: pipeline must be an array");
      }
      return {
        value: await coll.aggregate(
          a.pipeline as Document[],
          options(a, ["pipeline"]),
        ).toArray(),
        iterable: true,
      };
    }
    case "countDocuments": {
      const a = take(name, raw, [
        "filter",
        "skip",
        "limit",
        "hint",
        "maxTimeMS",
        "comment",
        "collation",
        "rawData",
      ]);
      return {
        value: await coll.countDocuments(
          docArg(a, "filter", name),
          options(a, ["filter"]),
        ),
      };
    }
    case "updateOne":
    case "updateMany": {
      const a = take(name, raw, ["update", ...UPDATE_OPTIONS, ...(name === "updateOne" ? ["sort"] : [])]);
      const update = a.update as Document | Document[];
      const r = await coll[name](
        docArg(a, "filter", name),
        update,
        options(a, ["filter", "update"]),
      );
      return { value: updateResult(r) };
    }
    case "replaceOne": {
      const a = take(name, raw, [
        "replacement",
        ...UPDATE_OPTIONS.filter((o) => o !== "arrayFilters"),
        "sort",
      ]);
      const r = await coll.replaceOne(
        docArg(a, "filter", name),
        docArg(a, "replacement", name),
        options(a, ["filter", "replacement"]),
      );
      return { value: updateResult(r) };
    }
    case "deleteOne":
    case "deleteMany": {
      const a = take(name, raw, [
        "filter",
        "hint",
        "collation",
        "writeConcern",
        "comment",
        "let",
        "rawData",
      ]);
      const r = await coll[name](
        docArg(a, "filter", name),
        options(a, ["filter"]),
      );
      return { value: { deletedCount: r.deletedCount } };
    }
    case "drop": {
      const a = take(name, raw, ["writeConcern"]);
      await coll.drop(options(a, []));
      return { value: undefined };
    }
    default:
      return await runNewerOperation(name, raw, coll);
  }
}

/** A method the driver may not have yet, as `(…arguments, options)`. */
type Method = (...args: unknown[]) => Promise<unknown>;

function method(coll: Collection, name: string): Method {
  const m = (coll as unknown as Record<string, unknown>)[name];
  if (typeof m !== "function") throw new SkipTest(`driver lacks ${name}`);
  return (m as Method).bind(coll);
}

const FIND_AND_MODIFY_OPTIONS = [
  "filter",
  "sort",
  "projection",
  "hint",
  "collation",
  "let",
  "comment",
  "maxTimeMS",
  "writeConcern",
  "rawData",
];

/** Options of each bulkWrite model the driver takes (models are passed on as the format writes them). */
const MODEL_FIELDS: Record<string, string[]> = {
  insertOne: ["document"],
  updateOne: ["filter", "update", "upsert", "arrayFilters", "collation", "hint", "sort"],
  updateMany: ["filter", "update", "upsert", "arrayFilters", "collation", "hint"],
  replaceOne: ["filter", "replacement", "upsert", "collation", "hint", "sort"],
  deleteOne: ["filter", "collation", "hint"],
  deleteMany: ["filter", "collation", "hint"],
};

/** `returnDocument` as the format spells it ("Before"/"After") to the driver's ("before"/"after"). */
function findAndModifyOptions(a: Args, skip: readonly string[]): Args {
  const o = options(a, skip);
  if (typeof o.returnDocument === "string") o.returnDocument = o.returnDocument.toLowerCase();
  return o;
}

/** Operations of the CRUD spec that the driver has only in its newer versions. */
async function runNewerOperation(name: string, raw: Args, coll: Collection): Promise<OperationResult> {
  switch (name) {
    case "findOneAndDelete": {
      const m = method(coll, name);
      const a = take(name, raw, FIND_AND_MODIFY_OPTIONS);
      return { value: await m(docArg(a, "filter", name), findAndModifyOptions(a, ["filter"])) };
    }
    case "findOneAndReplace":
    case "findOneAndUpdate": {
      const m = method(coll, name);
      const second = name === "findOneAndReplace" ? "replacement" : "update";
      const extra = name === "findOneAndUpdate" ? ["arrayFilters"] : [];
      const a = take(name, raw, [
        ...FIND_AND_MODIFY_OPTIONS,
        second,
        "returnDocument",
        "upsert",
        "bypassDocumentValidation",
        ...extra,
      ]);
      return { value: await m(docArg(a, "filter", name), a[second], findAndModifyOptions(a, ["filter", second])) };
    }
    case "distinct": {
      const m = method(coll, name);
      const a = take(name, raw, ["fieldName", "filter", "collation", "hint", "comment", "maxTimeMS"]);
      if (typeof a.fieldName !== "string") throw new TestFileError("distinct: fieldName must be a string");
      return { value: await m(a.fieldName, docArg(a, "filter", name), options(a, ["fieldName", "filter"])) };
    }
    case "count": {
      const a = take(name, raw, ["filter", "skip", "limit", "hint", "collation", "comment", "maxTimeMS", "rawData"]);
      return { value: await coll.count(docArg(a, "filter", name), options(a, ["filter"])) };
    }
    case "estimatedDocumentCount": {
      const m = method(coll, name);
      const a = take(name, raw, ["comment", "maxTimeMS", "rawData"]);
      return { value: await m(options(a, [])) };
    }
    case "bulkWrite": {
      const m = method(coll, name);
      const a = take(name, raw, ["requests", "ordered", "bypassDocumentValidation", "let", "comment", "writeConcern", "rawData"]);
      if (!Array.isArray(a.requests)) throw new TestFileError("bulkWrite: requests must be an array");
      for (const model of a.requests as Document[]) {
        const [kind] = Object.keys(model);
        const fields = MODEL_FIELDS[kind];
        if (fields === undefined) throw new TestFileError(`bulkWrite: unknown model ${kind}`);
        for (const f of Object.keys(model[kind] as Document)) {
          if (!fields.includes(f)) throw new SkipTest(`driver lacks bulkWrite ${kind} option ${f}`);
        }
      }
      return { value: await m(a.requests, options(a, ["requests"])) };
    }
    default:
      return await runIndexOperation(name, raw, coll);
  }
}

function updateResult(
  r: {
    matchedCount: number;
    modifiedCount: number;
    upsertedCount: number;
    upsertedId: unknown;
  },
): Document {
  const out: Document = {
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    upsertedCount: r.upsertedCount,
  };
  if (r.upsertedId !== null && r.upsertedId !== undefined) {
    out.upsertedId = r.upsertedId;
  }
  return out;
}
