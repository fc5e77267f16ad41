/**
 * PyMongo's `Connection`: a client for one server (a direct connection that
 * works on any member, even one not yet in an initiated set) or, given
 * several seeds or a replica set name, for a whole deployment.
 *
 * @module
 */

import type { Seeds } from "../topology/seeds.ts";
import { ClientBase, type ClientConnectionOptions, type ConnectOptions } from "./client_base.ts";

/**
 * A client in the manner of PyMongo's `Connection(host, port)`.
 *
 * - One seed and no `replicaSet`: a direct connection (`directConnection:
 *   true`, topology Single) to that server, whatever it is: a primary, a
 *   secondary, or a member of a set that has not been initiated yet, which is
 *   how the guide runs `replSetInitiate`. Reads are served by that server
 *   whatever the read preference (the server-selection rules for a Single
 *   topology); writes need it to be a primary.
 * - Several seeds, a `replicaSet`, or a `mongodb+srv://` URI: discovery, as
 *   with {@linkcode ReplicaSetConnection}.
 *
 * The `slaveOk` (or `secondaryOk`) option makes the default read preference
 * `SECONDARY`, so reads may go to a secondary.
 *
 * @example Initiate a set, as in the guide
 * ```ts ignore
 * import { Connection } from "@zerodep/mongo";
 *
 * await using c = new Connection("localhost", 27017, { slaveOk: true });
 * await c.admin.command("replSetInitiate", {
 *   _id: "foo",
 *   members: [
 *     { _id: 0, host: "localhost:27017" },
 *     { _id: 1, host: "localhost:27018" },
 *     { _id: 2, host: "localhost:27019" },
 *   ],
 * });
 * ```
 */
export class Connection extends ClientBase {
  /**
   * Makes a client; no I/O happens until `connect()` or the first operation.
   *
   * @param seeds `"host"`, `"host:port"`, `["host", port]`, a list of
   * `"host:port"`, or a `mongodb://` URI (default `"localhost:27017"`).
   * @param port A port for the seeds given without one, or the options.
   * @param options See {@linkcode ClientConnectionOptions}.
   * @throws {ConfigurationError} for a malformed seed or option.
   */
  constructor(seeds?: Seeds, port?: number | ClientConnectionOptions, options?: ClientConnectionOptions) {
    const [p, o] = typeof port === "object" && port !== null ? [undefined, port] : [port, options];
    super(seeds, p, o, { className: "Connection", replicaSet: false });
  }

  /**
   * Makes a client and waits until a server for its default read preference
   * is known (see {@linkcode ClientBase.connect}).
   *
   * @example
   * ```ts ignore
   * import { Connection } from "@zerodep/mongo";
   *
   * await using c = await Connection.connect("localhost:27017");
   * console.log(c.host, c.port); // "localhost" 27017
   * ```
   */
  static async connect(
    seeds?: Seeds,
    options: ClientConnectionOptions & ConnectOptions = {},
  ): Promise<Connection> {
    const { signal, ...rest } = options;
    const client = new Connection(seeds, rest);
    try {
      return await client.connect({ signal });
    } catch (e) {
      await client.close();
      throw e;
    }
  }
}
