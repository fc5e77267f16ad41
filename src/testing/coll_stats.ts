/**
 * A collection's statistics as the simulated server reports them: the
 * `collStats` command and the `$collStats` aggregation stage (its
 * `storageStats` and `count` outputs). Sizes are the documents' BSON sizes;
 * the store has no pages or compression, so `storageSize` equals `size`
 * and index sizes are 0.
 *
 * @module
 */
import { type Document, encode } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import type { CommandRequest } from "./commands.ts";
import { isPlainDocument } from "./query.ts";
import { serverError } from "./_server_error.ts";

/** The storage statistics of the collection `ns` (NamespaceNotFound when it does not exist). */
export function storageStats(req: CommandRequest, ns: string): Document {
  const c = req.host.store.collection(ns);
  if (c === undefined) throw serverError(ErrorCode.NamespaceNotFound, "NamespaceNotFound", `Collection [${ns}] not found.`);
  let size = 0;
  for (const d of c.documents) size += encode(d).length;
  const count = c.documents.length;
  const stats: Document = {
    size,
    count,
    avgObjSize: count === 0 ? 0 : Math.floor(size / count),
    storageSize: size,
    nindexes: c.indexes.length,
    totalIndexSize: 0,
    indexSizes: Object.fromEntries(c.indexes.map((i) => [i.name, 0])),
    capped: c.options.capped === true,
  };
  if (c.options.capped === true) {
    if (c.options.size !== undefined) stats.maxSize = c.options.size;
    if (c.options.max !== undefined) stats.max = c.options.max;
  }
  return stats;
}

/**
 * The one document `$collStats` (the first stage of a collection's
 * pipeline) produces: `storageStats` and `count` as asked; `latencyStats`
 * and `queryExecStats` are refused (NotImplemented).
 */
export function collStatsStage(req: CommandRequest, ns: string, spec: unknown): Document {
  if (!isPlainDocument(spec)) {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "$collStats must take a nested object but found a value of another type");
  }
  const out: Document = { ns, host: req.host.name, localTime: new Date() };
  for (const [k, v] of Object.entries(spec)) {
    if (k === "storageStats") {
      if (!isPlainDocument(v)) throw serverError(ErrorCode.TypeMismatch, "TypeMismatch", "storageStats must be an object");
      out.storageStats = storageStats(req, ns);
    } else if (k === "count") {
      if (!isPlainDocument(v)) throw serverError(ErrorCode.TypeMismatch, "TypeMismatch", "count must be an object");
      out.count = req.host.store.collection(ns)?.documents.length ?? 0;
    } else if (k === "latencyStats" || k === "queryExecStats") {
      throw serverError(ErrorCode.NotImplemented, "NotImplemented", `$collStats ${k} is not supported by the simulated server`);
    } else {
      throw serverError(40168, "Location40168", `unrecognized option to $collStats: ${k}`);
    }
  }
  return out;
}
