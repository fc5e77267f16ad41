/**
 * A simulated standalone `mongod`: one server started without `--replSet`.
 * It is the replica set's member machinery ({@linkcode SimulatedMember}: the
 * wire protocol, the store, the commands, fail points, SCRAM and the request
 * log) behind a context that is not a replica set, so it answers as such a
 * mongod of its version does:
 *
 * - `hello` says `isWritablePrimary: true` with no `setName`, `hosts`,
 *   `secondary` or `$clusterTime` gossip, and `logicalSessionTimeoutMinutes`
 *   (standalones support sessions);
 * - a `txnNumber` (retryable writes, transactions) is refused with
 *   IllegalOperation (20), `$changeStream` with 40573, readConcern
 *   `snapshot` (5.0+: outside transactions) and `linearizable` with
 *   NotAReplicaSet (123), `afterClusterTime` with IllegalOperation, a write
 *   concern `w` above 1 or naming a tag with BadValue (2), and the `replSet*`
 *   commands with NoReplicationEnabled (76). readConcern `majority` and
 *   `w: "majority"` are accepted, as mongod accepts them on a standalone.
 *
 * @example A standalone, killed and restarted
 * ```ts ignore
 * import { startStandalone } from "@zerodep/mongo/testing";
 *
 * await using server = await startStandalone({ maxWireVersion: 21 });
 * console.log(server.uri); // mongodb://127.0.0.1:40001/
 * await server.kill();
 * await server.restart(); // same port, same data
 * ```
 *
 * @module
 */
import type { Document, Timestamp } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { SupportedCompressor } from "../wire/mod.ts";
import { type FaultOptions, type Member, type RequestLogEntry, type SetContext, SimulatedMember } from "./member.ts";
import { checkCompressors, checkInt, checkUsers, type UserConfig } from "./replica_set.ts";
import { isPlainDocument, numericValue } from "./query.ts";
import type { OplogChange, OplogView } from "./store.ts";
import { Timers } from "./_timers.ts";
import { serverError } from "./_server_error.ts";
import { Authenticator, deriveCredential, type UserSpec } from "./_scram.ts";

/**
 * Options of {@linkcode startStandalone}.
 *
 * @example
 * ```ts
 * import type { StandaloneOptions } from "./standalone.ts";
 *
 * const options: StandaloneOptions = { maxWireVersion: 8 }; // MongoDB 4.2
 * ```
 */
export interface StandaloneOptions {
  /** maxWireVersion, 0 to 27 (default 21, MongoDB 7.0); as `ReplicaSetOptions.maxWireVersion`. */
  maxWireVersion?: number;
  /** The loopback address to listen on (default `"127.0.0.1"`). */
  hostname?: string;
  /** The port (default 0: any free port; kept across restarts). */
  port?: number;
  /** Require authentication with these users, as `ReplicaSetOptions.users` (`mongod --auth`). */
  users?: UserConfig[];
  /** The SCRAM iteration count of every user, at least 4096 (default 15000). */
  scramIterations?: number;
  /** The wire compressors it speaks, as `ReplicaSetOptions.compressors` (default `["zlib"]`). */
  compressors?: string[];
}

const NOT_REPLICATED = "not running with --replSet";

function refusal(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

function noReplication(errmsg = NOT_REPLICATED): never {
  throw serverError(76, "NoReplicationEnabled", errmsg);
}

/**
 * What a mongod without `--replSet` refuses before running `name`, or null.
 *
 * @example
 * ```ts
 * import { standaloneRefusal } from "./standalone.ts";
 *
 * const r = standaloneRefusal("insert", { insert: "c", documents: [], txnNumber: 1 }, 21);
 * console.log(r?.code); // 20
 * ```
 */
export function standaloneRefusal(name: string, body: Document, wire: number): Document | null {
  if (body.txnNumber !== undefined && body.lsid !== undefined) {
    return refusal(
      ErrorCode.IllegalOperation,
      "IllegalOperation",
      "Transaction numbers are only allowed on a replica set member or mongos",
    );
  }
  if (name.startsWith("replSet")) {
    return name === "replSetInitiate"
      ? refusal(76, "NoReplicationEnabled", "This node was not started with replication enabled.")
      : refusal(76, "NoReplicationEnabled", NOT_REPLICATED);
  }
  const wc = body.writeConcern;
  if (isPlainDocument(wc) && wc.w !== undefined) {
    if (typeof wc.w === "string" && wc.w !== "majority") {
      return refusal(
        ErrorCode.BadValue,
        "BadValue",
        `cannot use non-majority 'w' mode ${wc.w} when a host is not a member of a replica set`,
      );
    }
    const n = numericValue(wc.w);
    if (n !== undefined && Number(n) > 1) {
      return refusal(ErrorCode.BadValue, "BadValue", "cannot use 'w' > 1 when a host is not replicated");
    }
  }
  const rc = body.readConcern;
  if (isPlainDocument(rc)) {
    if (rc.level === "linearizable") {
      return refusal(123, "NotAReplicaSet", "node needs to be a replica set member to use read concern");
    }
    // Before 5.0 a snapshot read outside a transaction is refused for that first (the member's own check).
    if (rc.level === "snapshot" && wire >= 13) {
      return refusal(123, "NotAReplicaSet", "node needs to be a replica set member to use readConcern: snapshot");
    }
    for (const k of ["afterClusterTime", "atClusterTime"]) {
      if (rc[k] !== undefined && rc.level !== "snapshot") {
        return refusal(
          ErrorCode.IllegalOperation,
          "IllegalOperation",
          `Cannot specify ${k} readConcern without replication enabled`,
        );
      }
    }
  }
  if (name === "aggregate" && Array.isArray(body.pipeline)) {
    const first = body.pipeline[0];
    if (isPlainDocument(first) && first.$changeStream !== undefined) {
      return refusal(40573, "Location40573", "The $changeStream stage is only supported on replica sets");
    }
  }
  return null;
}

/**
 * A running simulated standalone. Create it with {@linkcode startStandalone};
 * stop it with `close()` or `await using`.
 *
 * @example
 * ```ts ignore
 * import { startStandalone } from "@zerodep/mongo/testing";
 *
 * await using server = await startStandalone();
 * server.fault({ closeNext: 1, commands: ["find"] });
 * console.log(server.requests.length);
 * ```
 */
export class Standalone implements AsyncDisposable {
  readonly #member: SimulatedMember;
  readonly #timers = new Timers();
  readonly #users: UserSpec[] | undefined;
  readonly #scramIterations: number;
  #auth: Authenticator | null = null;
  #closed = false;

  /** Validates the options; `startStandalone()` is the way to get a running server. */
  constructor(options: StandaloneOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError(`startStandalone options must be an object, got ${String(options)}`);
    }
    const wire = checkInt(options.maxWireVersion ?? 21, "maxWireVersion", 0, 27);
    const hostname = options.hostname ?? "127.0.0.1";
    if (typeof hostname !== "string" || hostname === "") {
      throw new ConfigurationError("hostname must be a non-empty string");
    }
    const port = checkInt(options.port ?? 0, "port", 0, 65535);
    this.#users = options.users === undefined ? undefined : checkUsers(options.users);
    this.#scramIterations = checkInt(options.scramIterations ?? 15000, "scramIterations", 4096, 1_000_000);
    const compressors: SupportedCompressor[] = checkCompressors(options.compressors ?? ["zlib"]);
    this.#member = new SimulatedMember({
      index: 0,
      hostname,
      port,
      maxWireVersion: wire,
      set: this.#context(),
      compressors,
    });
  }

  /** @internal Starts listening; called by `startStandalone()`. */
  async start(): Promise<void> {
    if (this.#users !== undefined && this.#auth === null) {
      const iterations = this.#scramIterations;
      this.#auth = new Authenticator(await Promise.all(this.#users.map((u) => deriveCredential(u, { iterations }))));
    }
    await this.#member.start();
  }

  /** The server: its host, state (`PRIMARY` while up: a standalone is writable), requests and documents. */
  get server(): Member {
    return this.#member;
  }

  /** `"hostname:port"`. */
  get host(): string {
    return this.#member.host;
  }

  /** A connection string naming the one server: `mongodb://host:port/`. */
  get uri(): string {
    return `mongodb://${this.host}/`;
  }

  /** The requests it received (see {@linkcode RequestLogEntry}). */
  get requests(): readonly RequestLogEntry[] {
    return this.#member.requests;
  }

  /** Empties the request log. */
  clearLog(): void {
    this.#member.clearLog();
  }

  /** Sets fault injection (merged with the current faults); see {@linkcode FaultOptions}. */
  fault(faults: FaultOptions): void {
    if (faults === null || typeof faults !== "object") throw new ConfigurationError("faults must be an object");
    if (faults.maxWireVersion !== undefined) checkInt(faults.maxWireVersion, "maxWireVersion", 0, 27);
    if (faults.closeNext !== undefined) checkInt(faults.closeNext, "closeNext", 0, 1_000_000);
    if (faults.delayMS !== undefined) checkInt(faults.delayMS, "delayMS", 0, 3_600_000);
    this.#member.setFaults({ ...faults });
  }

  /** Removes every fault. */
  clearFaults(): void {
    this.#member.clearFaults();
  }

  /** Kills the server: closes its listening socket and every connection (its data stays). */
  async kill(): Promise<void> {
    await this.#member.stop();
  }

  /** Restarts a killed server on the same port, with its data. */
  async restart(): Promise<void> {
    if (this.#closed) throw new ConfigurationError("the standalone is closed");
    await this.#member.start();
  }

  /** Stops the server and its timers and frees the port. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearAll();
    await this.#member.stop();
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // What the member asks of "its set": nothing is replicated, the writer is the only node.
  #context(): SetContext {
    const noOplog: OplogView = { entries: [], applied: 0 };
    return {
      setName: "",
      timers: this.#timers,
      startState: "PRIMARY",
      auth: () => this.#auth,
      helloFields: () => ({ isPrimary: true }),
      logChange: (m: SimulatedMember, change: OplogChange) => m.store.apply(change),
      waitForWriteConcern: () => Promise.resolve(null),
      waitForApplied: (_m: SimulatedMember, _ts: Timestamp) => Promise.resolve(true),
      oplog: () => noOplog,
      clusterTime: () => null,
      refuse: (m: SimulatedMember, name: string, body: Document) => standaloneRefusal(name, body, m.maxWireVersion),
      initiate: () => noReplication("This node was not started with replication enabled."),
      status: () => noReplication(),
      getConfig: () => noReplication(),
      stepDown: () => noReplication(),
      freeze: () => noReplication(),
    };
  }
}

/**
 * Starts a simulated standalone mongod; see {@linkcode StandaloneOptions}.
 *
 * @throws {ConfigurationError} for invalid options.
 * @throws {ConnectionFailure} when the port cannot be bound.
 * @example
 * ```ts ignore
 * import { startStandalone } from "@zerodep/mongo/testing";
 *
 * const server = await startStandalone({ maxWireVersion: 25 }); // MongoDB 8.0
 * try {
 *   console.log(server.uri);
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<Standalone> {
  const server = new Standalone(options);
  try {
    await server.start();
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}
