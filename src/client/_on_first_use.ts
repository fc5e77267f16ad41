// Internal: the collection operations whose modules load on their first call,
// not at import. Each export has the type of the function it stands for and
// forwards to it; the functions are all async, so a caller sees the same
// promise, resolved or rejected alike, one module load later on the first
// call. A cold start (import, connect, a command) never loads them: about
// 1,100 lines in 4 modules, which Node's ES module loader would otherwise
// read, compile and link at every start. The specifiers are string literals,
// so bundlers and `deno publish` see the modules.

type Writes = typeof import("./writes.ts");
type BulkWrites = typeof import("./bulk_write.ts");
type FindAndModify = typeof import("./find_and_modify.ts");
type Distinct = typeof import("./distinct.ts");

/**
 * `name` of the module `load` imports, called with the caller's arguments.
 * The module is kept once loaded, so later calls (the hot path) go straight
 * to the function, without awaiting the import again.
 */
function onFirstUse<M, K extends keyof M>(load: () => Promise<M>, name: K): M[K] {
  type Fn = (...a: unknown[]) => Promise<unknown>;
  let loaded: Fn | undefined;
  const forward = (...args: unknown[]): Promise<unknown> =>
    loaded !== undefined ? loaded(...args) : load().then((m) => (loaded = m[name] as Fn)(...args));
  return forward as M[K];
}

export const insertOne: Writes["insertOne"] = onFirstUse(() => import("./writes.ts"), "insertOne");
export const runUpdate: Writes["runUpdate"] = onFirstUse(() => import("./writes.ts"), "runUpdate");
export const runDelete: Writes["runDelete"] = onFirstUse(() => import("./writes.ts"), "runDelete");
export const bulkWrite: BulkWrites["bulkWrite"] = onFirstUse(() => import("./bulk_write.ts"), "bulkWrite");
export const insertMany: BulkWrites["insertMany"] = onFirstUse(() => import("./bulk_write.ts"), "insertMany");
export const findAndModify: FindAndModify["findAndModify"] = onFirstUse(
  () => import("./find_and_modify.ts"),
  "findAndModify",
);
export const distinct: Distinct["distinct"] = onFirstUse(() => import("./distinct.ts"), "distinct");
export const countDocuments: Distinct["countDocuments"] = onFirstUse(() => import("./distinct.ts"), "countDocuments");
export const countCommand: Distinct["countCommand"] = onFirstUse(() => import("./distinct.ts"), "countCommand");
export const estimatedDocumentCount: Distinct["estimatedDocumentCount"] = onFirstUse(
  () => import("./distinct.ts"),
  "estimatedDocumentCount",
);
