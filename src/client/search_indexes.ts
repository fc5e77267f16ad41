/**
 * Atlas Search index management (`createSearchIndexes`, `updateSearchIndex`,
 * `dropSearchIndex`), as the index management specification describes it.
 * Listing goes through `aggregate` with `$listSearchIndexes` (see
 * `Collection.listSearchIndexes`). A server without Atlas Search refuses each
 * of them with an `OperationFailure` (SearchNotEnabled, 31082).
 *
 * @module
 */

import { ConfigurationError, OperationFailure } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { checkDocument, checkOptions, show, typeError } from "./_internal.ts";
import { execute } from "./execute.ts";
import { checkOptionNames, type CollectionLike, operationBase } from "./_write.ts";

/**
 * One search index to create (the specification's `SearchIndexModel`).
 *
 * @example
 * ```ts
 * import type { SearchIndexModel } from "@zerodep/mongo";
 *
 * const model: SearchIndexModel = { name: "plots", definition: { mappings: { dynamic: true } } };
 * ```
 */
export interface SearchIndexModel {
  /** The index definition (Atlas Search syntax). */
  readonly definition: Document;
  /** The index name (the server names it `default` when omitted). */
  readonly name?: string;
  /** `"search"` (the server's default) or `"vectorSearch"`. */
  readonly type?: "search" | "vectorSearch";
}

/**
 * Options of the search index commands.
 *
 * @example
 * ```ts
 * import type { SearchIndexOptions } from "@zerodep/mongo";
 *
 * const options: SearchIndexOptions = { signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface SearchIndexOptions {
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Time limit of the whole operation in ms; 0 = no limit (default: the collection's). */
  readonly timeoutMS?: number;
}

const OPTIONS: ReadonlySet<string> = new Set(["signal", "timeoutMS"]);
const MODEL_FIELDS: ReadonlySet<string> = new Set(["definition", "name", "type"]);

function checkName(name: unknown, what: string): string {
  if (typeof name !== "string") throw typeError("the search index name", "a non-empty string", name, what);
  if (name.length === 0) {
    throw new ConfigurationError(`${what} needs a search index name (a non-empty string), got ${show(name)}`);
  }
  return name;
}

function modelSpec(model: unknown, what: string): Document {
  const d = checkDocument(model, what);
  checkOptionNames(d, MODEL_FIELDS, `${what} field`);
  const spec: Document = { definition: checkDocument(d.definition, `${what} definition`) };
  if (d.name !== undefined) spec.name = checkName(d.name, what);
  if (d.type !== undefined) {
    if (d.type !== "search" && d.type !== "vectorSearch") {
      throw new ConfigurationError(`${what}: type must be "search" or "vectorSearch", got ${show(d.type)}`);
    }
    spec.type = d.type;
  }
  return spec;
}

function run<T>(
  coll: CollectionLike,
  name: string,
  cmd: Document,
  opts: SearchIndexOptions,
  parse: (reply: Document) => T,
): Promise<T> {
  const base = operationBase(coll, opts);
  return execute(base.ctx, {
    name,
    db: base.db,
    kind: "write",
    retryable: false,
    timeoutMS: base.timeoutMS,
    signal: base.signal,
    plan: () => ({ command: cmd, parse }),
  });
}

/** Runs `createSearchIndexes`; resolves to the names the server gave the indexes, in order. */
export async function createSearchIndexes(
  coll: CollectionLike,
  models: unknown,
  options: SearchIndexOptions | undefined,
): Promise<string[]> {
  const opts = checkOptions(options, "createSearchIndexes options");
  checkOptionNames(opts, OPTIONS, "createSearchIndexes option");
  if (!Array.isArray(models)) {
    throw new ConfigurationError(`createSearchIndexes needs an array of search index models, got ${show(models)}`);
  }
  const indexes = models.map((m, i) => modelSpec(m, `createSearchIndexes model ${i}`));
  return await run(coll, "createSearchIndexes", { createSearchIndexes: coll.name, indexes }, opts, (reply) => {
    const created = Array.isArray(reply.indexesCreated) ? reply.indexesCreated as Document[] : [];
    return created.map((c) => String(c.name));
  });
}

/** Runs `updateSearchIndex` with a new definition. */
export async function updateSearchIndex(
  coll: CollectionLike,
  name: unknown,
  definition: unknown,
  options: SearchIndexOptions | undefined,
): Promise<void> {
  const opts = checkOptions(options, "updateSearchIndex options");
  checkOptionNames(opts, OPTIONS, "updateSearchIndex option");
  const cmd: Document = {
    updateSearchIndex: coll.name,
    name: checkName(name, "updateSearchIndex"),
    definition: checkDocument(definition, "the updateSearchIndex definition"),
  };
  await run(coll, "updateSearchIndex", cmd, opts, () => undefined);
}

/** Runs `dropSearchIndex`. */
export async function dropSearchIndex(
  coll: CollectionLike,
  name: unknown,
  options: SearchIndexOptions | undefined,
): Promise<void> {
  const opts = checkOptions(options, "dropSearchIndex options");
  checkOptionNames(opts, OPTIONS, "dropSearchIndex option");
  const cmd: Document = { dropSearchIndex: coll.name, name: checkName(name, "dropSearchIndex") };
  try {
    await run(coll, "dropSearchIndex", cmd, opts, () => undefined);
  } catch (e) {
    // The specification: dropping from a collection that does not exist succeeds (NamespaceNotFound, 26).
    if (!(e instanceof OperationFailure && e.code === 26)) throw e;
  }
}

/** The `$listSearchIndexes` stage for `name` (every index when undefined). */
export function listSearchIndexesStage(name: unknown): Document {
  return { $listSearchIndexes: name === undefined ? {} : { name: checkName(name, "listSearchIndexes") } };
}
