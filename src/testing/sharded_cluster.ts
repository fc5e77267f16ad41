/**
 * A simulated sharded cluster: one shard (a simulated replica set) and N
 * mongos routers on loopback ports, all in this process. Clients connect to
 * the mongoses; each routes to the shard as `mongos.ts` describes.
 *
 * @example Two mongoses over a three-member shard
 * ```ts ignore
 * import { startShardedCluster } from "@zerodep/mongo/testing";
 *
 * await using cluster = await startShardedCluster({ mongoses: 2, shard: { members: 3 } });
 * console.log(cluster.uri); // mongodb://127.0.0.1:40001,127.0.0.1:40002/
 * await cluster.kill(0); // the other mongos still routes
 * ```
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import { type ReplicaSet, type ReplicaSetOptions, startReplicaSet, type UserConfig } from "./replica_set.ts";
import type { RequestLogEntry, SimulatedMember } from "./member.ts";
import { type Mongos, SimulatedMongos } from "./mongos.ts";
import { Authenticator, deriveCredential, SCRAM_SHA_256 } from "./_scram.ts";
import { Timers } from "./_timers.ts";

/**
 * Options of {@linkcode startShardedCluster}.
 *
 * @example
 * ```ts
 * import type { ShardedClusterOptions } from "./sharded_cluster.ts";
 *
 * const options: ShardedClusterOptions = { mongoses: 2, shard: { members: 3, name: "shard0" } };
 * ```
 */
export interface ShardedClusterOptions {
  /** How many mongos routers (1 to 10, default 2). */
  mongoses?: number;
  /** The ports of the mongoses (default: free ones); as many as `mongoses`. */
  ports?: number[];
  /** The shard: a replica set's options (default: 3 members named `"shard0"`); its `users` are the cluster's. */
  shard?: ReplicaSetOptions;
  /** The mongoses' maxWireVersion (default: the shard's, 21 unless it says otherwise). */
  maxWireVersion?: number;
  /**
   * Require authentication with these users, on the mongoses as on the shard
   * (same as `shard.users`; give one or the other). The mongoses reach the
   * shard as the cluster itself does, authenticated.
   */
  users?: UserConfig[];
  /** How long a routed command waits for a shard member its read preference accepts, in ms (default 5000). */
  selectionTimeoutMS?: number;
}

/** A mongos given by its {@linkcode Mongos} object, its `host:port`, or its index. */
export type MongosRef = Mongos | string | number;

/**
 * Starts a simulated sharded cluster; see {@linkcode ShardedClusterOptions}.
 * The shard has a primary and every mongos listens when this resolves.
 *
 * @throws {ConfigurationError} for invalid options.
 * @throws {ConnectionFailure} when a port cannot be bound.
 * @example
 * ```ts ignore
 * import { startShardedCluster } from "@zerodep/mongo/testing";
 *
 * const cluster = await startShardedCluster({ mongoses: 2 });
 * try {
 *   console.log(cluster.hosts.length); // 2
 * } finally {
 *   await cluster.close();
 * }
 * ```
 */
export async function startShardedCluster(options: ShardedClusterOptions = {}): Promise<ShardedCluster> {
  const cluster = new ShardedCluster(options);
  try {
    await cluster.start();
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

/**
 * A running simulated sharded cluster. Create it with
 * {@linkcode startShardedCluster}; stop it with `close()` or `await using`.
 *
 * @example
 * ```ts ignore
 * import { startShardedCluster } from "@zerodep/mongo/testing";
 *
 * await using cluster = await startShardedCluster({ mongoses: 2 });
 * const log = cluster.requests(1); // what the second mongos received
 * ```
 */
export class ShardedCluster implements AsyncDisposable {
  #options: ShardedClusterOptions;
  #shard: ReplicaSet | undefined;
  #mongoses: SimulatedMongos[] = [];
  #auth: Authenticator | null = null;
  #timers = new Timers();
  #closed = false;

  /** Validates the options; `startShardedCluster()` is the way to get a running cluster. */
  constructor(options: ShardedClusterOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError(`startShardedCluster options must be an object, got ${String(options)}`);
    }
    const n = options.mongoses ?? 2;
    if (!Number.isInteger(n) || n < 1 || n > 10) {
      throw new ConfigurationError(`mongoses must be an integer in [1, 10], got ${String(n)}`);
    }
    if (options.ports !== undefined && (!Array.isArray(options.ports) || options.ports.length !== n)) {
      throw new ConfigurationError(`ports must list one port per mongos (${n})`);
    }
    if (options.users !== undefined && options.shard?.users !== undefined) {
      throw new ConfigurationError("give the users once: users or shard.users");
    }
    // The mongoses speak OP_MSG only (and OP_QUERY for the handshake): 3.6 and later.
    const wire = options.maxWireVersion ?? options.shard?.maxWireVersion ?? 21;
    if (!Number.isInteger(wire) || wire < 6 || wire > 27) {
      throw new ConfigurationError(
        `the mongoses' maxWireVersion (maxWireVersion, else shard.maxWireVersion) must be an integer in [6, 27] ` +
          `(mongos of 3.6 and later), got ${String(wire)}`,
      );
    }
    this.#options = options;
  }

  /** @internal Starts the shard, then every mongos; called by `startShardedCluster()`. */
  async start(): Promise<void> {
    const o = this.#options;
    const users = o.users ?? o.shard?.users;
    const shardOptions: ReplicaSetOptions = { members: 3, name: "shard0", ...o.shard, ...(users ? { users } : {}) };
    this.#shard = await startReplicaSet(shardOptions);
    if (users !== undefined) {
      const iterations = shardOptions.scramIterations ?? 15000;
      this.#auth = new Authenticator(
        await Promise.all(users.map((u) =>
          deriveCredential({
            user: u.user,
            password: u.password,
            db: u.db ?? "admin",
            mechanisms: u.mechanisms ?? [SCRAM_SHA_256],
          }, { iterations })
        )),
      );
    }
    const shard = this.#shard;
    const route = {
      name: shard.name,
      members: () => shard.members as readonly SimulatedMember[],
      auth: () => this.#auth,
      timers: this.#timers,
    };
    const n = o.mongoses ?? 2;
    for (let i = 0; i < n; i++) {
      const mongos = new SimulatedMongos({
        index: i,
        hostname: shardOptions.hostname ?? "127.0.0.1",
        port: o.ports?.[i] ?? 0,
        maxWireVersion: o.maxWireVersion ?? shardOptions.maxWireVersion ?? 21,
        shard: route,
        ...(o.selectionTimeoutMS === undefined ? {} : { selectionTimeoutMS: o.selectionTimeoutMS }),
      });
      this.#mongoses.push(mongos);
      await mongos.start();
    }
  }

  /** The shard: a simulated replica set (kill, step down, fault its members as for any set). */
  get shard(): ReplicaSet {
    if (this.#shard === undefined) throw new ConfigurationError("the cluster is not started");
    return this.#shard;
  }

  /** Every mongos, in order. */
  get mongoses(): readonly Mongos[] {
    return this.#mongoses;
  }

  /** `"hostname:port"` of every mongos. */
  get hosts(): string[] {
    return this.#mongoses.map((m) => m.host);
  }

  /** A connection string naming every mongos: `mongodb://h1,h2/`. */
  get uri(): string {
    return `mongodb://${this.hosts.join(",")}/`;
  }

  /** Resolves a {@linkcode MongosRef}. @throws {ConfigurationError} when it names no mongos. */
  mongos(ref: MongosRef): Mongos {
    return this.#resolve(ref);
  }

  #resolve(ref: MongosRef): SimulatedMongos {
    const m = typeof ref === "number"
      ? this.#mongoses[ref]
      : typeof ref === "string"
      ? this.#mongoses.find((x) => x.host === ref)
      : this.#mongoses.find((x) => x === ref);
    if (m === undefined) {
      throw new ConfigurationError(`no mongos ${typeof ref === "object" ? "like that" : JSON.stringify(ref)}; mongoses are ${this.hosts.join(", ")}`);
    }
    return m;
  }

  /** Kills a mongos: its port closes and every connection drops; it forgets its cursors, fail points and transactions. */
  async kill(ref: MongosRef): Promise<void> {
    await this.#resolve(ref).stop();
  }

  /** Restarts a killed mongos on the same port. */
  async restart(ref: MongosRef): Promise<void> {
    if (this.#closed) throw new ConfigurationError("the cluster is closed");
    await this.#resolve(ref).start();
  }

  /** The requests a mongos received (see {@linkcode RequestLogEntry}). */
  requests(ref: MongosRef): readonly RequestLogEntry[] {
    return this.#resolve(ref).requests;
  }

  /** Empties the request log of a mongos, or of every mongos. */
  clearLog(ref?: MongosRef): void {
    for (const m of ref === undefined ? this.#mongoses : [this.#resolve(ref)]) m.clearLog();
  }

  /** Stops every mongos and the shard. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearAll();
    await Promise.all(this.#mongoses.map((m) => m.stop()));
    await this.#shard?.close();
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
