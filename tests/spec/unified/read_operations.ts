/**
 * Read operations of the unified format the shared dispatch does not cover
 * (used by the retryable reads tests): `findOne` on a collection,
 * `listDatabaseNames` / `listDatabaseObjects` on a client,
 * `listCollectionObjects` on a database. Their options (a `session`
 * included) go to the driver through `options()`.
 */
import type { ClientEntity } from "./entities.ts";
import type { Collection, Database } from "../../../src/client/mod.ts";
import { type Args, docArg, options, take } from "./arguments.ts";
import type { OperationResult } from "./operations.ts";

/** Runs one of these operations, or returns `undefined` for any other. */
export async function runReadOperation(
  name: string,
  raw: Args,
  kind: string,
  entity: unknown,
): Promise<OperationResult | undefined> {
  if (kind === "collection" && name === "findOne") {
    const a = take(name, raw, ["filter", "sort", "projection", "skip", "hint", "maxTimeMS", "comment", "session"]);
    const coll = entity as Collection;
    return { value: await coll.findOne(docArg(a, "filter", name), options(a, ["filter"])) };
  }
  if (kind === "client" && (name === "listDatabaseNames" || name === "listDatabaseObjects")) {
    const a = take(name, raw, ["filter", "session"]);
    const client = (entity as ClientEntity).client;
    const o = options(a, []);
    return name === "listDatabaseNames"
      ? { value: await client.listDatabaseNames(o), iterable: true }
      : { value: await client.listDatabases(o), iterable: true };
  }
  if (kind === "database" && name === "listCollectionObjects") {
    const a = take(name, raw, ["filter", "session"]);
    const db = entity as Database;
    const filter = a.filter === undefined ? {} : docArg(a, "filter", name);
    return { value: await db.listCollections(filter, options(a, ["filter"])), iterable: true };
  }
  return undefined;
}
