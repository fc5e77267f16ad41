/**
 * Read-only views of the simulated server (`create` with `viewOn` and
 * `pipeline`): reads run the view's pipeline over its source (views on
 * views included); writes and indexes on a view are
 * CommandNotSupportedOnView (166), as from mongod.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "./store.ts";
 * import { readableDocuments } from "./views.ts";
 *
 * const store = new Store();
 * store.apply({ op: "i", ns: "t.c", doc: { _id: 1, a: 1 } });
 * store.apply({ op: "create", ns: "t.v", options: { viewOn: "c", pipeline: [{ $project: { a: 0 } }] } });
 * assert.deepEqual(readableDocuments(store, "t.v"), [{ _id: 1 }]);
 * ```
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { runPipeline } from "./aggregate.ts";
import { cloneValue } from "./query.ts";
import { splitNamespace, type Store } from "./store.ts";
import { serverError } from "./_server_error.ts";

/** Whether `ns` is a view. */
export function isView(store: Store, ns: string): boolean {
  return typeof store.collection(ns)?.options.viewOn === "string";
}

/**
 * The documents a read of `ns` sees: a collection's own, or a view's
 * pipeline run over its source.
 */
export function readableDocuments(store: Store, ns: string, depth = 0): readonly Document[] {
  const c = store.collection(ns);
  if (c === undefined || typeof c.options.viewOn !== "string") return store.documents(ns);
  if (depth > 20) throw serverError(165, "ViewDepthLimitExceeded", "View depth too deep or view cycle detected");
  const [db] = splitNamespace(ns);
  const source = readableDocuments(store, `${db}.${c.options.viewOn}`, depth + 1).map((d) => cloneValue(d));
  return runPipeline(source, Array.isArray(c.options.pipeline) ? c.options.pipeline : []);
}

/** Refuses a write or index build on a view. */
export function refuseView(store: Store, ns: string): void {
  if (isView(store, ns)) {
    throw serverError(166, "CommandNotSupportedOnView", `Namespace ${ns} is a view, not a collection`);
  }
}
