/**
 * Index and collection management operations of the unified format
 * (`specs/index-management/`, `specs/collection-management/`), on the
 * driver's {@linkcode Collection} and {@linkcode Database}: createIndex,
 * createIndexes, dropIndex, dropIndexes, listIndexes, listIndexNames, the
 * Atlas Search index helpers, createCollection, modifyCollection,
 * listCollectionNames. The shared dispatchers fall through to these.
 */
import type { Document } from "../../../src/bson/mod.ts";
import type { Collection, Database } from "../../../src/client/mod.ts";
import { type Args, docArg, options, take } from "./arguments.ts";
import { SkipTest, TestFileError } from "./entities.ts";
import type { OperationResult } from "./operations.ts";

/** The index options `createIndex` takes beside the keys (the index management spec's IndexOptions). */
const INDEX_OPTIONS = [
  "name",
  "unique",
  "sparse",
  "expireAfterSeconds",
  "partialFilterExpression",
  "collation",
  "hidden",
  "background",
  "storageEngine",
  "version",
  "weights",
  "defaultLanguage",
  "languageOverride",
  "textIndexVersion",
  "2dsphereIndexVersion",
  "bits",
  "min",
  "max",
  "wildcardProjection",
];
const OPERATION_OPTIONS = ["commitQuorum", "maxTimeMS", "comment", "writeConcern", "rawData"];

/** The `create` options `Database.createCollection` takes. */
const CREATE_COLLECTION_OPTIONS = [
  "capped",
  "size",
  "max",
  "validator",
  "validationLevel",
  "validationAction",
  "collation",
  "storageEngine",
  "indexOptionDefaults",
  "viewOn",
  "pipeline",
  "timeseries",
  "expireAfterSeconds",
  "clusteredIndex",
  "changeStreamPreAndPostImages",
  "comment",
  "writeConcern",
];

/** The collMod fields `modifyCollection` passes on (mongod 7.0's collMod options). */
const COLL_MOD_OPTIONS = [
  "validator",
  "validationLevel",
  "validationAction",
  "index",
  "viewOn",
  "pipeline",
  "expireAfterSeconds",
  "timeseries",
  "changeStreamPreAndPostImages",
  "comment",
  "writeConcern",
];

function stringArg(a: Args, key: string, name: string): string {
  const v = a[key];
  if (typeof v !== "string") throw new TestFileError(`${name}: ${key} must be a string`);
  return v;
}

/** Index management on a collection; anything else skips the test ("driver lacks <operation>"). */
export async function runIndexOperation(name: string, raw: Args, coll: Collection): Promise<OperationResult> {
  switch (name) {
    case "createIndex": {
      const a = take(name, raw, ["keys", ...INDEX_OPTIONS, ...OPERATION_OPTIONS]);
      return { value: await coll.createIndex(docArg(a, "keys", name), options(a, ["keys"])) };
    }
    case "createIndexes": {
      const a = take(name, raw, ["models", ...OPERATION_OPTIONS]);
      if (!Array.isArray(a.models)) throw new TestFileError("createIndexes: models must be an array");
      const models = (a.models as Document[]).map((m) => {
        const { keys, options: o = {}, ...rest } = m;
        if (Object.keys(rest).length > 0) {
          throw new TestFileError(`createIndexes: unknown model field ${Object.keys(rest)[0]}`);
        }
        return { key: keys as Document, ...(o as Document) };
      });
      return { value: await coll.createIndexes(models, options(a, ["models"])) };
    }
    case "dropIndex": {
      const a = take(name, raw, ["name", "maxTimeMS", "comment", "writeConcern", "rawData"]);
      await coll.dropIndex(stringArg(a, "name", name), options(a, ["name"]));
      return { value: undefined };
    }
    case "dropIndexes": {
      const a = take(name, raw, ["maxTimeMS", "comment", "writeConcern", "rawData"]);
      await coll.dropIndexes(options(a, []));
      return { value: undefined };
    }
    case "rename": {
      const a = take(name, raw, ["to", "dropTarget", "comment", "writeConcern"]);
      await coll.rename(stringArg(a, "to", name), options(a, ["to"]));
      return { value: undefined };
    }
    case "listIndexes":
    case "listIndexNames": {
      const a = take(name, raw, ["batchSize", "comment", "rawData"]);
      const indexes = await coll.listIndexes(options(a, [])).toArray();
      return { value: name === "listIndexes" ? indexes : indexes.map((i) => i.name), iterable: name === "listIndexes" };
    }
    case "createSearchIndex": {
      const a = take(name, raw, ["model"]);
      return { value: await coll.createSearchIndex(docArg(a, "model", name) as never) };
    }
    case "createSearchIndexes": {
      const a = take(name, raw, ["models"]);
      if (!Array.isArray(a.models)) throw new TestFileError("createSearchIndexes: models must be an array");
      return { value: await coll.createSearchIndexes(a.models as never) };
    }
    case "dropSearchIndex": {
      const a = take(name, raw, ["name"]);
      await coll.dropSearchIndex(stringArg(a, "name", name));
      return { value: undefined };
    }
    case "updateSearchIndex": {
      const a = take(name, raw, ["name", "definition"]);
      await coll.updateSearchIndex(stringArg(a, "name", name), docArg(a, "definition", name));
      return { value: undefined };
    }
    case "listSearchIndexes": {
      const a = take(name, raw, ["name", "aggregationOptions"]);
      const agg = a.aggregationOptions === undefined ? {} : docArg(a, "aggregationOptions", name);
      for (const k of Object.keys(agg)) {
        if (!["batchSize", "maxTimeMS", "comment", "allowDiskUse"].includes(k)) {
          throw new SkipTest(`driver lacks ${name} aggregation option ${k}`);
        }
      }
      const cursor = coll.listSearchIndexes(
        a.name === undefined ? undefined : stringArg(a, "name", name),
        options(agg, []),
      );
      return { value: await cursor.toArray(), iterable: true };
    }
    default:
      throw new SkipTest(`driver lacks ${name}`);
  }
}

/** Collection management on a database; anything else skips the test ("driver lacks <operation> (database)"). */
export async function runDatabaseManagementOperation(
  name: string,
  raw: Args,
  db: Database,
): Promise<OperationResult> {
  switch (name) {
    case "createCollection": {
      if (raw.encryptedFields !== undefined) {
        throw new SkipTest("driver lacks client-side encryption (encryptedFields)");
      }
      const a = take(name, raw, ["collection", ...CREATE_COLLECTION_OPTIONS]);
      await db.createCollection(stringArg(a, "collection", name), options(a, ["collection"]));
      return { value: undefined };
    }
    case "modifyCollection": {
      // The driver has no collMod helper (no specification defines one): the operation is the command it names.
      const a = take(name, raw, ["collection", ...COLL_MOD_OPTIONS]);
      const { collection, ...rest } = a;
      if (typeof collection !== "string") throw new TestFileError("modifyCollection: collection must be a string");
      return { value: await db.command({ collMod: collection, ...rest }) };
    }
    case "listCollectionNames": {
      const a = take(name, raw, ["filter", "authorizedCollections", "comment"]);
      const filter = a.filter === undefined ? {} : docArg(a, "filter", name);
      return { value: await db.listCollectionNames(filter, options(a, ["filter"])) };
    }
    default:
      throw new SkipTest(`driver lacks ${name} (database)`);
  }
}
