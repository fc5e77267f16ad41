/**
 * `@zerodep/mongo`: a zero-dependency MongoDB replica-set driver for Deno and Bun,
 * in the spirit of PyMongo 2.1's `ReplicaSetConnection`: connect with seeds,
 * discover the whole set, route reads by read preference, and survive failover
 * with `AutoReconnect`.
 *
 * Also here: the BSON codec (published alone as `@zerodep/mongo/bson`), the
 * topology logic (connection strings and seeds, SDAM descriptions, server
 * selection) and every error class. The simulated replica set for tests lives
 * in `@zerodep/mongo/testing`.
 *
 * @example Connect to a replica set and read from a secondary
 * ```ts ignore
 * import { ReadPreference, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using conn = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * console.log(String(conn)); // ReplicaSetConnection(['localhost:27017', 'localhost:27018', 'localhost:27019'])
 * const people = conn.db("test").collection("people");
 * await people.insertOne({ name: "Ada" });
 * const doc = await people.findOne({ name: "Ada" }, { readPreference: ReadPreference.SECONDARY });
 * ```
 *
 * @example Encode and decode a document
 * ```ts
 * import { decode, encode } from "@zerodep/mongo";
 *
 * const bytes = encode({ hello: "world" });
 * console.log(decode(bytes)); // { hello: "world" }
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/bson/mod.ts";
export * from "./src/topology/mod.ts";
export * from "./src/client/mod.ts";
