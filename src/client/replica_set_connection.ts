/**
 * PyMongo 2.1's `ReplicaSetConnection`: a client for a replica set, found
 * from one or more seeds, that follows the set through failovers and routes
 * reads by read preference.
 *
 * @module
 */

import type { Seeds } from "../topology/seeds.ts";
import { ClientBase, type ClientConnectionOptions, type ConnectOptions } from "./client_base.ts";

/**
 * A client for a replica set. Give it any member (or several, or a
 * `mongodb://a,b,c/?replicaSet=foo` URI) and the set's name: it discovers
 * every member, finds the primary, and keeps watching them (one monitor per
 * member, every `heartbeatFrequencyMS`, at once after an error).
 *
 * Failover: an operation that was sent to a primary that dies or steps down
 * rejects with `AutoReconnect` (it may or may not have happened); the set is
 * re-checked at once and later operations reach the new primary without
 * reconnecting. Reads are retried once on a newly selected server unless
 * `retryReads: false`; retryable writes likewise unless `retryWrites: false`
 * (see `Collection`).
 *
 * Reads go where {@linkcode ClientBase.readPreference} says:
 * `ReadPreference.PRIMARY` (default), `SECONDARY` (a secondary, else the
 * primary), `SECONDARY_ONLY` (a secondary, never the primary), and the
 * modern modes; settable here, on a database, a collection or per operation.
 *
 * @example The guide
 * ```ts ignore
 * import { ReadPreference, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("localhost:27017", { replicaSet: "foo" });
 * console.log(String(c)); // ReplicaSetConnection(['localhost:27019', 'localhost:27017', 'localhost:27018'])
 * await c.db("test").collection("test").insertOne({ x: 1 });
 * console.log(await c.db("test").collection("test").findOne());
 * console.log(c.host, c.port); // the primary
 * c.readPreference = ReadPreference.SECONDARY;
 * ```
 */
export class ReplicaSetConnection extends ClientBase {
  /**
   * Makes a client; no I/O happens until `connect()` or the first operation.
   *
   * @param seeds `"host"`, `"host:port"`, `["host", port]`, a list of
   * `"host:port"`, a `mongodb://` URI, or a `mongodb+srv://` URI (resolved
   * at the first use; default `"localhost:27017"`).
   * @param options See {@linkcode ClientConnectionOptions}; `replicaSet` is
   * required here or in the URI (or, for `mongodb+srv://`, its DNS TXT record).
   * @throws {ConfigurationError} without a replica set name, or for a malformed seed or option.
   */
  constructor(seeds?: Seeds, options?: ClientConnectionOptions) {
    super(seeds, undefined, options, { className: "ReplicaSetConnection", replicaSet: true });
  }

  /**
   * Makes a client and waits until a server for its default read preference
   * is known (the primary, by default).
   *
   * @example
   * ```ts ignore
   * import { ReplicaSetConnection } from "@zerodep/mongo";
   *
   * await using c = await ReplicaSetConnection.connect("mongodb://a,b,c/?replicaSet=foo");
   * console.log(c.primary, c.secondaries);
   * ```
   */
  static async connect(
    seeds?: Seeds,
    options: ClientConnectionOptions & ConnectOptions = {},
  ): Promise<ReplicaSetConnection> {
    const { signal, ...rest } = options;
    const client = new ReplicaSetConnection(seeds, rest);
    try {
      return await client.connect({ signal });
    } catch (e) {
      await client.close();
      throw e;
    }
  }
}
