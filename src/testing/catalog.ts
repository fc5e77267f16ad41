/**
 * The catalog commands of the simulated server: `create` (capped with
 * size/max, validator with validationLevel/validationAction), `drop`,
 * `dropDatabase`, `renameCollection`, `listCollections` (filter, nameOnly,
 * authorizedCollections), `listDatabases` (filter, nameOnly),
 * `createIndexes`, `listIndexes` and `dropIndexes`. Every change goes
 * through the oplog, so index definitions, options and renames reach the
 * secondaries.
 *
 * @module
 */
import { type Document, Int32, Int64 } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import type { CommandRequest } from "./commands.ts";
import {
  checkIndexSpec,
  findIndex,
  firstDuplicate,
  indexConflict,
  indexesToDrop,
  showValue,
  uniqueViolations,
} from "./indexes.ts";
import { cloneValue, isPlainDocument, matches } from "./query.ts";
import { splitNamespace } from "./store.ts";
import { checkValidator } from "./validation.ts";
import { refuseView } from "./views.ts";
import { bool, checkCollation, checkCollectionName, cursorReply, docArg, num } from "./_args.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";

function namespace(req: CommandRequest): string {
  return `${req.db}.${checkCollectionName(req.db, req.body[req.name])}`;
}

const CREATE_OPTIONS = new Set([
  "create",
  "capped",
  "size",
  "max",
  "validator",
  "validationLevel",
  "validationAction",
  "viewOn",
  "pipeline",
  "clusteredIndex",
  "changeStreamPreAndPostImages",
  "collation",
  "writeConcern",
  "comment",
  "lsid",
  "txnNumber",
  "autocommit",
  "startTransaction",
  "readConcern",
  "$db",
  "$clusterTime",
  "$readPreference",
  "apiVersion",
  "apiStrict",
  "apiDeprecationErrors",
]);

/** Checks `create` options and returns those kept with the collection. */
function createOptions(body: Document): Document {
  for (const k of Object.keys(body)) {
    if (!CREATE_OPTIONS.has(k)) {
      if (["timeseries", "encryptedFields", "expireAfterSeconds", "indexOptionDefaults", "storageEngine"].includes(k)) {
        throw serverError(ErrorCode.NotImplemented, "NotImplemented", `create option '${k}' is not supported by the simulated server`);
      }
      throw serverError(40415, "Location40415", `BSON field 'create.${k}' is an unknown field.`);
    }
  }
  const options: Document = {};
  if (body.viewOn !== undefined) {
    if (typeof body.viewOn !== "string" || body.viewOn === "") throw typeMismatch("'viewOn' must be a collection name");
    if (body.pipeline !== undefined && !Array.isArray(body.pipeline)) throw typeMismatch("'pipeline' must be an array");
    for (const k of ["capped", "size", "max", "validator", "validationLevel", "validationAction"]) {
      if (body[k] !== undefined) throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", `option '${k}' is not valid for a view`);
    }
    checkCollation(body.collation);
    return { viewOn: body.viewOn, pipeline: cloneValue(body.pipeline ?? []) };
  }
  if (body.pipeline !== undefined) throw badValue("'pipeline' requires 'viewOn'");
  if (body.clusteredIndex !== undefined) {
    const ci = body.clusteredIndex;
    if (!isPlainDocument(ci) || !isPlainDocument(ci.key) || JSON.stringify(Object.keys(ci.key)) !== '["_id"]' || ci.unique !== true) {
      throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", "The clusteredIndex option must be {key: {_id: 1}, unique: true}");
    }
    options.clusteredIndex = { v: new Int32(2), key: ci.key, name: typeof ci.name === "string" ? ci.name : "_id_", unique: true };
  }
  if (body.changeStreamPreAndPostImages !== undefined) {
    const c = body.changeStreamPreAndPostImages;
    if (!isPlainDocument(c) || typeof c.enabled !== "boolean" || Object.keys(c).length !== 1) {
      throw typeMismatch("'changeStreamPreAndPostImages' must be {enabled: <bool>}");
    }
    options.changeStreamPreAndPostImages = { enabled: c.enabled };
  }
  if (bool(body.capped)) {
    const size = num(body.size, "size", 0);
    if (size <= 0) throw badValue("Cannot create a capped collection without a positive 'size'");
    options.capped = true;
    options.size = Math.max(256, Math.ceil(size / 256) * 256);
    if (body.max !== undefined) options.max = num(body.max, "max");
  } else if (body.size !== undefined || body.max !== undefined) {
    throw badValue("the 'size' and 'max' fields are only valid for a capped collection");
  }
  if (body.validator !== undefined) {
    checkValidator(body.validator);
    options.validator = cloneValue(body.validator);
  }
  if (body.validationLevel !== undefined) {
    if (!["off", "strict", "moderate"].includes(body.validationLevel as string)) {
      throw badValue(`Enumeration value '${String(body.validationLevel)}' for field 'validationLevel' is not a valid value.`);
    }
    options.validationLevel = body.validationLevel;
  }
  if (body.validationAction !== undefined) {
    if (!["error", "warn"].includes(body.validationAction as string)) {
      throw badValue(`Enumeration value '${String(body.validationAction)}' for field 'validationAction' is not a valid value.`);
    }
    options.validationAction = body.validationAction;
  }
  checkCollation(body.collation);
  return options;
}

function create(req: CommandRequest): Document {
  const ns = namespace(req);
  const options = createOptions(req.body);
  const existing = req.host.store.collection(ns);
  if (existing !== undefined) {
    throw serverError(ErrorCode.NamespaceExists, "NamespaceExists", `Collection ${ns} already exists.`);
  }
  req.host.logChange({ op: "create", ns, options });
  return { ok: 1 };
}

// collMod: the validator and its level/action (other changes are refused).
function collMod(req: CommandRequest): Document {
  const ns = namespace(req);
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", `ns does not exist: ${ns}`);
  const body: Document = { create: req.body.collMod };
  const reply: Document = {};
  for (const k of Object.keys(req.body)) {
    if (k === "collMod") continue;
    if (k === "index") {
      Object.assign(reply, modifyIndex(req, ns, req.body.index));
      continue;
    }
    if (!["validator", "validationLevel", "validationAction"].includes(k) && !CREATE_OPTIONS.has(k)) {
      throw serverError(ErrorCode.NotImplemented, "NotImplemented", `collMod option '${k}' is not supported by the simulated server`);
    }
    if (["capped", "size", "max", "collation", "clusteredIndex", "viewOn"].includes(k)) {
      throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", `option not supported on collMod: ${k}`);
    }
    body[k] = req.body[k];
  }
  const options = createOptions(body);
  // mongod logs every collMod, even an empty one (with showExpandedEvents a change stream reports "modify").
  if (Object.keys(options).length > 0 || req.body.index === undefined) req.host.logChange({ op: "collMod", ns, options });
  return { ...reply, ok: 1 };
}

// collMod's `index`: hidden, expireAfterSeconds, prepareUnique, and unique
// (only after prepareUnique, refused with the violations when keys repeat).
function modifyIndex(req: CommandRequest, ns: string, raw: unknown): Document {
  if (!isPlainDocument(raw)) throw typeMismatch("'index' must be an object");
  const c = req.host.store.collection(ns)!;
  const which = raw.name ?? raw.keyPattern;
  const spec = findIndex(c.indexes, which);
  if (spec === undefined) throw serverError(ErrorCode.IndexNotFound, "IndexNotFound", `cannot find index ${showValue(which)} for ns ${ns}`);
  const changes: Document = {};
  const reply: Document = {};
  for (const k of Object.keys(raw)) {
    if (k === "name" || k === "keyPattern") continue;
    if (!["hidden", "expireAfterSeconds", "prepareUnique", "unique"].includes(k)) {
      throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", `unknown collMod index option: ${k}`);
    }
    if (k !== "expireAfterSeconds" && typeof raw[k] !== "boolean") throw typeMismatch(`'index.${k}' must be a boolean`);
    reply[`${k}_old`] = spec[k] ?? false;
    reply[`${k}_new`] = raw[k];
    changes[k] = raw[k];
  }
  if (changes.unique === false) throw badValue("collMod cannot make a unique index non-unique");
  if (changes.unique === true && spec.unique !== true) {
    if (spec.prepareUnique !== true && changes.prepareUnique !== true) {
      throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", "Cannot make index unique with 'prepareUnique=false'. Run 'collMod' to set it first.");
    }
    const violations = uniqueViolations(c.documents, { ...spec, unique: true });
    if (violations.length > 0) {
      throw serverError(359, "CannotConvertIndexToUnique", "Cannot convert the index to unique. Please resolve conflicting documents before running collMod again.", { violations });
    }
  }
  req.host.logChange({ op: "indexOptions", ns, name: spec.name, options: changes });
  return reply;
}

function drop(req: CommandRequest): Document {
  const ns = namespace(req);
  const existing = req.host.store.collection(ns);
  if (existing === undefined) {
    // 7.0 made dropping a missing collection a success.
    if (req.host.maxWireVersion >= 21) return { ok: 1 };
    throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", "ns not found");
  }
  const nIndexesWas = existing.indexes.length;
  req.host.logChange({ op: "drop", ns });
  return { nIndexesWas: new Int32(nIndexesWas), ns, ok: 1 };
}

function dropDatabase(req: CommandRequest): Document {
  if (req.host.store.collectionNames(req.db).length > 0) req.host.logChange({ op: "dropDatabase", db: req.db });
  return { dropped: req.db, ok: 1 };
}

function checkFullName(v: unknown, what: string): string {
  if (typeof v !== "string") throw typeMismatch(`'${what}' must be of type string`);
  const [db, coll] = splitNamespace(v);
  if (db === "" || coll === "") throw serverError(ErrorCode.InvalidNamespace, "InvalidNamespace", `Invalid ${what} namespace: ${v}`);
  checkCollectionName(db, coll);
  return v;
}

function renameCollection(req: CommandRequest): Document {
  const from = checkFullName(req.body.renameCollection, "renameCollection");
  const to = checkFullName(req.body.to, "to");
  const store = req.host.store;
  if (store.collection(from) === undefined) throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", "Source collection " + from + " does not exist");
  if (from === to) throw serverError(ErrorCode.IllegalOperation, "IllegalOperation", "Can't rename a collection to itself");
  const target = store.collection(to);
  if (target !== undefined) {
    if (!bool(req.body.dropTarget)) throw serverError(ErrorCode.NamespaceExists, "NamespaceExists", `target namespace exists`);
    req.host.logChange({ op: "drop", ns: to });
  }
  req.host.logChange({ op: "rename", from, to, ...(target !== undefined ? { dropTarget: target.uuid } : {}) });
  return { ok: 1 };
}

function listCollections(req: CommandRequest): Document {
  const filter = docArg(req.body.filter, "filter");
  const nameOnly = bool(req.body.nameOnly);
  if (req.body.authorizedCollections !== undefined && typeof req.body.authorizedCollections !== "boolean") {
    throw typeMismatch("'authorizedCollections' must be a boolean");
  }
  let entries: Document[] = req.host.store.collectionNames(req.db).map((name) => {
    const c = req.host.store.collection(`${req.db}.${name}`)!;
    if (typeof c.options.viewOn === "string") {
      return nameOnly ? { name, type: "view" } : { name, type: "view", options: cloneValue(c.options), info: { readOnly: true } };
    }
    return nameOnly ? { name, type: "collection" } : {
      name,
      type: "collection",
      options: cloneValue(c.options),
      info: { readOnly: false },
      idIndex: { v: new Int32(2), key: { _id: new Int32(1) }, name: "_id_" },
    };
  });
  if (filter !== undefined) entries = entries.filter((e) => matches(e, filter));
  const cursor = docArg(req.body.cursor, "cursor");
  const batchSize = cursor?.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
  const ns = `${req.db}.$cmd.listCollections`;
  const { batch, id } = req.host.cursors.open(ns, entries, { batchSize });
  return cursorReply(ns, batch, id, true);
}

function listDatabases(req: CommandRequest): Document {
  const nameOnly = bool(req.body.nameOnly);
  const names = new Set(["admin", "config", "local", ...req.host.store.databaseNames()]);
  const databases: Document[] = [];
  let total = 0;
  for (const name of [...names].sort()) {
    const size = Math.max(8192, req.host.store.sizeOf(name));
    total += size;
    databases.push(nameOnly ? { name } : { name, sizeOnDisk: new Int64(BigInt(size)), empty: false });
  }
  const filter = docArg(req.body.filter, "filter");
  const shown = filter === undefined ? databases : databases.filter((d) => matches(d, filter));
  if (nameOnly) return { databases: shown, ok: 1 };
  return { databases: shown, totalSize: new Int64(BigInt(total)), totalSizeMb: new Int64(BigInt(total >> 20)), ok: 1 };
}

function listIndexes(req: CommandRequest): Document {
  const ns = namespace(req);
  refuseView(req.host.store, ns);
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", `ns does not exist: ${ns}`);
  const cursor = docArg(req.body.cursor, "cursor");
  const batchSize = cursor?.batchSize === undefined ? undefined : num(cursor.batchSize, "batchSize");
  const { batch, id } = req.host.cursors.open(ns, c.indexes.map((i) => cloneValue(i)), { batchSize });
  return cursorReply(ns, batch, id, true);
}

function createIndexes(req: CommandRequest): Document {
  const ns = namespace(req);
  refuseView(req.host.store, ns);
  const indexes = req.body.indexes;
  if (!Array.isArray(indexes)) throw typeMismatch("Field 'indexes' must be of type array");
  if (indexes.length === 0) throw badValue("Must specify at least one index to create");
  const specs = indexes.map(checkIndexSpec);
  const existing = req.host.store.collection(ns);
  const before = existing?.indexes.length ?? 1;
  const current = [...(existing?.indexes ?? [])];
  const fresh = specs.filter((s) => {
    if (indexConflict(current, s) === "same") return false;
    current.push(s);
    return true;
  });
  // A unique index over documents that already collide is refused, as mongod refuses it.
  if (existing !== undefined) {
    for (const s of fresh) {
      const clash = firstDuplicate(ns, existing.documents, s);
      if (clash !== undefined) throw clash;
    }
  }
  if (existing === undefined) req.host.logChange({ op: "create", ns });
  for (const s of fresh) req.host.logChange({ op: "createIndex", ns, index: s });
  const after = req.host.store.collection(ns)?.indexes.length ?? 0;
  const reply: Document = {
    numIndexesBefore: new Int32(before),
    numIndexesAfter: new Int32(after),
  };
  if (fresh.length === 0) reply.note = "all indexes already exist";
  reply.createdCollectionAutomatically = existing === undefined;
  reply.ok = 1;
  return reply;
}

function dropIndexes(req: CommandRequest): Document {
  const ns = namespace(req);
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", `ns not found ${ns}`);
  if (req.body.index === undefined) throw badValue("'index' is required");
  const names = indexesToDrop(c.indexes, req.body.index, ns);
  const was = c.indexes.length;
  const specs = c.indexes.filter((i) => names.includes(i.name));
  if (names.length > 0) req.host.logChange({ op: "dropIndexes", ns, names, specs });
  return { nIndexesWas: new Int32(was), ok: 1 };
}

// mongod without Atlas Search answers its search index commands with SearchNotEnabled.
function searchIndexes(): Document {
  throw serverError(
    31082,
    "SearchNotEnabled",
    "Using Atlas Search Database Commands and the $listSearchIndexes aggregation stage requires additional configuration. Please connect to Atlas or an AtlasCLI local deployment to enable.",
  );
}

/** The catalog commands by name. */
export const CATALOG_COMMANDS: Readonly<Record<string, (req: CommandRequest) => Document>> = {
  create,
  collMod,
  drop,
  dropDatabase,
  renameCollection,
  listCollections,
  listDatabases,
  listIndexes,
  createIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  createSearchIndexes: searchIndexes,
  updateSearchIndex: searchIndexes,
  dropSearchIndex: searchIndexes,
};
