/**
 * The `aggregate` command of the simulated server and its stages: `$match`,
 * `$project`, `$addFields`/`$set`, `$unset`, `$sort`, `$skip`, `$limit`,
 * `$count`, `$group` (`$sum $avg $min $max $first $last $push $addToSet
 * $count`), `$unwind`, `$replaceRoot`/`$replaceWith`, `$sortByCount`,
 * `$documents` (database aggregate), and the writing stages `$out` and
 * `$merge` (run on the primary only). Any other stage is mongod's
 * "Unrecognized pipeline stage name" (40324).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPipeline } from "./aggregate.ts";
 *
 * const out = runPipeline([{ a: 1 }, { a: 2 }], [{ $match: { a: { $gt: 1 } } }, { $project: { _id: 0, a: 1 } }]);
 * assert.deepEqual(out, [{ a: 2 }]);
 * ```
 *
 * @module
 */
import { type Document, Int32 } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { evaluate, REMOVE, setPath, type Variables, withVariables } from "./expressions.ts";
import { cloneValue, compareValues, isPlainDocument, matches, numericValue, project, sortDocuments, valuesEqual } from "./query.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";

function stageError(errmsg: string, code = 40323): Error {
  return serverError(code, `Location${code}`, errmsg);
}

function isInclusion(v: unknown): boolean {
  const n = numericValue(v);
  return v === true || (n !== undefined && Number(n) !== 0);
}

function isExclusion(v: unknown): boolean {
  const n = numericValue(v);
  return v === false || (n !== undefined && Number(n) === 0);
}

// $project: inclusion / exclusion as `find` does, plus computed fields.
function projectStage(doc: Document, spec: Document, vars: Variables): Document {
  const keys = Object.keys(spec);
  if (keys.length === 0) throw stageError("$project requires at least one output field", 51272);
  const computed = keys.filter((k) => !isInclusion(spec[k]) && !isExclusion(spec[k]));
  const plain: Document = {};
  for (const k of keys) if (!computed.includes(k)) plain[k] = spec[k];
  const excluding = Object.keys(plain).some((k) => k !== "_id" && isExclusion(plain[k]));
  if (excluding && computed.length > 0) {
    throw stageError("Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection", 31310);
  }
  let out: Document;
  if (Object.keys(plain).length === 0 || (Object.keys(plain).length === 1 && plain._id !== undefined && computed.length > 0)) {
    out = isExclusion(plain._id) ? {} : (doc._id !== undefined ? { _id: doc._id } : {});
  } else {
    out = project(cloneValue(doc), plain);
  }
  for (const k of computed) setPath(out, k, evaluate(spec[k], doc, { ...vars, ROOT: doc, CURRENT: doc }));
  return out;
}

function addFields(doc: Document, spec: Document, vars: Variables): Document {
  const out = cloneValue(doc);
  for (const k of Object.keys(spec)) setPath(out, k, evaluate(spec[k], doc, { ...vars, ROOT: doc, CURRENT: doc }));
  return out;
}

function unsetStage(doc: Document, arg: unknown): Document {
  const fields = typeof arg === "string" ? [arg] : arg;
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== "string")) {
    throw stageError("$unset specification must be a string or an array of strings", 31002);
  }
  const spec: Document = {};
  for (const f of fields as string[]) spec[f] = 0;
  return project(cloneValue(doc), spec);
}

function replaceRoot(doc: Document, expr: unknown, vars: Variables): Document {
  const v = evaluate(expr, doc, { ...vars, ROOT: doc, CURRENT: doc });
  if (!isPlainDocument(v)) {
    throw stageError(`'newRoot' expression must evaluate to an object, but resulting value was: ${String(v)}`, 40228);
  }
  return v;
}

function unwind(docs: Document[], arg: unknown): Document[] {
  const spec = typeof arg === "string" ? { path: arg } : arg;
  if (!isPlainDocument(spec) || typeof spec.path !== "string" || !spec.path.startsWith("$")) {
    throw stageError("$unwind requires a path prefixed with '$'", 28818);
  }
  const path = spec.path.slice(1);
  const keep = spec.preserveNullAndEmptyArrays === true;
  const indexField = typeof spec.includeArrayIndex === "string" ? spec.includeArrayIndex : undefined;
  const out: Document[] = [];
  for (const d of docs) {
    const v = evaluate(spec.path, d);
    if (Array.isArray(v) && v.length > 0) {
      v.forEach((x, i) => {
        const c = cloneValue(d);
        setPath(c, path, cloneValue(x));
        if (indexField) setPath(c, indexField, new Int32(i));
        out.push(c);
      });
    } else if (v !== undefined && v !== null && !Array.isArray(v)) {
      const c = cloneValue(d);
      if (indexField) setPath(c, indexField, null);
      out.push(c);
    } else if (keep) {
      const c = cloneValue(d);
      if (indexField) setPath(c, indexField, null);
      out.push(c);
    }
  }
  return out;
}

function group(docs: Document[], spec: Document, vars: Variables): Document[] {
  if (!Object.hasOwn(spec, "_id")) throw stageError("a group specification must include an _id", 15955);
  const ev = (d: Document, e: unknown) => {
    const v = evaluate(e, d, { ...vars, ROOT: d, CURRENT: d });
    return v === REMOVE ? undefined : v;
  };
  const groups: { key: unknown; docs: Document[] }[] = [];
  for (const d of docs) {
    const key = ev(d, spec._id) ?? null;
    let g = groups.find((x) => valuesEqual(x.key, key));
    if (g === undefined) groups.push(g = { key, docs: [] });
    g.docs.push(d);
  }
  return groups.map((g) => {
    const out: Document = { _id: g.key };
    for (const field of Object.keys(spec)) {
      if (field === "_id") continue;
      const acc = spec[field];
      if (!isPlainDocument(acc) || Object.keys(acc).length !== 1) {
        throw stageError(`The field '${field}' must be an accumulator object`, 40234);
      }
      const [op] = Object.keys(acc);
      const values = g.docs.map((d) => ev(d, acc[op]));
      const nums = values.map((v) => numericValue(v)).filter((v) => v !== undefined).map(Number);
      switch (op) {
        case "$sum":
          out[field] = nums.reduce((a, b) => a + b, 0);
          break;
        case "$count":
          out[field] = g.docs.length;
          break;
        case "$avg":
          out[field] = nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0) / nums.length;
          break;
        case "$min":
        case "$max": {
          const present = values.filter((v) => v !== undefined && v !== null).sort(compareValues);
          out[field] = present.length === 0 ? null : present[op === "$min" ? 0 : present.length - 1];
          break;
        }
        case "$first":
          out[field] = values[0] ?? null;
          break;
        case "$last":
          out[field] = values[values.length - 1] ?? null;
          break;
        case "$push":
          out[field] = values.filter((v) => v !== undefined);
          break;
        case "$addToSet": {
          const set: unknown[] = [];
          for (const v of values) if (v !== undefined && !set.some((x) => valuesEqual(x, v))) set.push(v);
          out[field] = set;
          break;
        }
        default:
          throw stageError(`unknown group operator '${op}'`, 15952);
      }
    }
    return out;
  });
}

function count(v: unknown, stage: string): number {
  const n = numericValue(v);
  if (n === undefined || !Number.isInteger(Number(n))) throw typeMismatch(`invalid argument to ${stage} stage: Expected a number`);
  return Number(n);
}

/** The stages an update pipeline may hold. */
export const UPDATE_STAGES: ReadonlySet<string> = new Set([
  "$addFields",
  "$set",
  "$project",
  "$unset",
  "$replaceRoot",
  "$replaceWith",
]);

/**
 * Checks a stage's shape and returns its name and argument.
 *
 * @throws {MongoError} Location40323 when the stage is not a one-field document.
 */
export function stageOf(stage: unknown): [string, unknown] {
  if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) {
    throw stageError("A pipeline stage specification object must contain exactly one field.", 40323);
  }
  const [name] = Object.keys(stage);
  return [name, stage[name]];
}

/**
 * Runs the stages that do not write (everything but `$out`/`$merge`, which
 * the command handles) over `docs`; `vars` are the command's `let` variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPipeline } from "./aggregate.ts";
 *
 * assert.deepEqual(runPipeline([{ a: 1 }, { a: 1 }], [{ $group: { _id: "$a", n: { $sum: 1 } } }]), [{ _id: 1, n: 2 }]);
 * ```
 */
export function runPipeline(input: Document[], pipeline: unknown[], vars: Variables = {}): Document[] {
  let docs = input;
  for (const stage of pipeline) {
    const [name, arg] = stageOf(stage);
    const doc = (what: string) => {
      if (!isPlainDocument(arg)) throw stageError(`the ${what} stage specification must be an object`, 15969);
      return arg;
    };
    switch (name) {
      case "$match": {
        const filter = doc("$match");
        docs = withVariables(vars, () => docs.filter((d) => matches(d, filter)));
        break;
      }
      case "$sort":
        docs = sortDocuments([...docs], doc("$sort"));
        break;
      case "$skip": {
        const n = count(arg, "$skip");
        if (n < 0) throw stageError("invalid argument to $skip stage: Expected a non-negative number", 5107200);
        docs = docs.slice(n);
        break;
      }
      case "$limit": {
        const n = count(arg, "$limit");
        if (n <= 0) throw stageError("invalid argument to $limit stage: the limit must be positive", 15958);
        docs = docs.slice(0, n);
        break;
      }
      case "$project": {
        const spec = doc("$project");
        docs = docs.map((d) => projectStage(d, spec, vars));
        break;
      }
      case "$addFields":
      case "$set": {
        const spec = doc(name);
        docs = docs.map((d) => addFields(d, spec, vars));
        break;
      }
      case "$unset":
        docs = docs.map((d) => unsetStage(d, arg));
        break;
      case "$replaceRoot": {
        const spec = doc("$replaceRoot");
        docs = docs.map((d) => replaceRoot(d, spec.newRoot, vars));
        break;
      }
      case "$replaceWith":
        docs = docs.map((d) => replaceRoot(d, arg, vars));
        break;
      case "$count":
        if (typeof arg !== "string" || arg === "" || arg.startsWith("$") || arg.includes(".")) {
          throw stageError("the count field must be a non-empty string", 40156);
        }
        docs = docs.length === 0 ? [] : [{ [arg]: new Int32(docs.length) }];
        break;
      case "$group":
        docs = group(docs, doc("$group"), vars);
        break;
      case "$sortByCount":
        docs = sortDocuments(group(docs, { _id: arg, count: { $sum: 1 } }, vars), { count: -1 });
        break;
      case "$unwind":
        docs = unwind(docs, arg);
        break;
      case "$documents": {
        const v = evaluate(arg, {}, vars);
        if (!Array.isArray(v) || v.some((x) => !isPlainDocument(x))) {
          throw stageError("an array of documents must be specified to $documents", 5858203);
        }
        docs = v as Document[];
        break;
      }
      case "$out":
      case "$merge":
        throw stageError(`${name} can only be the final stage in the pipeline`, name === "$out" ? 40601 : 6392600);
      case "$listSearchIndexes":
      case "$search":
      case "$searchMeta":
      case "$vectorSearch":
        throw serverError(31082, "SearchNotEnabled", `Using Atlas Search Database Commands and the ${name} aggregation stage requires additional configuration. Please connect to Atlas or an AtlasCLI local deployment to enable.`);
      case "$lookup":
      case "$facet":
      case "$graphLookup":
      case "$unionWith":
      case "$bucket":
      case "$bucketAuto":
      case "$sample":
      case "$geoNear":
      case "$changeStream":
      case "$listLocalSessions":
      case "$collStats":
      case "$indexStats":
      case "$densify":
      case "$fill":
      case "$setWindowFields":
        throw serverError(ErrorCode.NotImplemented, "NotImplemented", `${name} is not supported by the simulated server`);
      default:
        throw stageError(`Unrecognized pipeline stage name: '${name}'`, 40324);
    }
  }
  return docs;
}

/**
 * Applies an update pipeline (`$set`/`$addFields`, `$project`, `$unset`,
 * `$replaceRoot`/`$replaceWith`) to one document.
 *
 * @throws {MongoError} InvalidOptions (72) for another stage, as mongod answers.
 */
export function applyPipelineUpdate(doc: Document, pipeline: unknown[], vars: Variables = {}): Document {
  for (const stage of pipeline) {
    const [name] = stageOf(stage);
    if (!UPDATE_STAGES.has(name)) {
      throw serverError(ErrorCode.InvalidOptions, "InvalidOptions", `${name} is not allowed to be used within an update`);
    }
  }
  const [out] = runPipeline([doc], pipeline, vars);
  if (out === undefined) throw badValue("an update pipeline must yield one document");
  return out;
}
