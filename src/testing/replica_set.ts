/**
 * A simulated replica set: N members on loopback ports, replication from the
 * primary with a configurable lag, elections when the primary is killed,
 * steps down or is partitioned away, the uninitialized state before
 * `replSetInitiate`, and fault injection.
 *
 * @example Three members, one primary
 * ```ts ignore
 * import { startReplicaSet } from "@zerodep/mongo/testing";
 *
 * await using rs = await startReplicaSet({ members: 3, name: "foo" });
 * console.log(rs.uri); // mongodb://127.0.0.1:40001,127.0.0.1:40002,127.0.0.1:40003/?replicaSet=foo
 * const primary = await rs.waitForPrimary();
 * await rs.kill(primary);
 * const next = await rs.waitForPrimary(); // another member, after electionDelayMS
 * ```
 *
 * @module
 */
import { type Document, Int32, Int64, ObjectId, Timestamp } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import { parseAddress, type ServerAddress } from "../address.ts";
import { ErrorCode } from "../error_codes.ts";
import type { SupportedCompressor } from "../wire/mod.ts";
import {
  type FaultOptions,
  type Member,
  type MemberRole,
  type RequestLogEntry,
  type SetContext,
  SimulatedMember,
} from "./member.ts";
import { isPlainDocument, numericValue } from "./query.ts";
import type { OplogChange } from "./store.ts";
import { serverError } from "./_server_error.ts";
import { Timers } from "./_timers.ts";
import { Authenticator, deriveCredential, preparePassword, SCRAM_SHA_256, type UserSpec } from "./_scram.ts";

/**
 * One member's settings in {@linkcode ReplicaSetOptions.members}.
 *
 * @example
 * ```ts
 * import type { MemberConfig } from "./replica_set.ts";
 *
 * const members: MemberConfig[] = [{}, {}, { priority: 0, hidden: true }];
 * ```
 */
export interface MemberConfig {
  /** Listen on this port (default: a free one). */
  port?: number;
  /**
   * The `host:port` name the member is known by in the set's config, and so
   * in `hello` (`me`, `hosts`, `primary`), independent of where it listens
   * (default: its listening address). Clients then reach it only through a
   * name map of their own, e.g. the driver's `socketFactory` option.
   */
  name?: string;
  /** Election priority, default 1; 0 never becomes primary (a "passive" member). */
  priority?: number;
  /** Votes, 0 or 1 (default 1). */
  votes?: number;
  /** Hidden from `hosts` (requires priority 0, which it then defaults to). */
  hidden?: boolean;
  /** An arbiter: votes, holds no data. */
  arbiterOnly?: boolean;
  /** Replica-set tags, reported in hello and used by tag-set read preferences. */
  tags?: Record<string, string>;
  /** This member's maxWireVersion (default: the set's). */
  maxWireVersion?: number;
}

/**
 * A user of a set that requires authentication, as `db.createUser()` would
 * make it. The password is SASLprep'd (approximated: printable ASCII is kept,
 * anything else is NFKC-normalized after mapping non-ASCII spaces to spaces
 * and dropping the characters RFC 3454 maps to nothing); only the keys derived
 * from it are kept.
 *
 * @example
 * ```ts
 * import type { UserConfig } from "./replica_set.ts";
 *
 * const users: UserConfig[] = [{ user: "ada", password: "pencil" }, { user: "app", password: "s3cret", db: "shop" }];
 * ```
 */
export interface UserConfig {
  /** The user name (compared exactly, not SASLprep'd, as mongod does). */
  user: string;
  /** The password (non-empty). */
  password: string;
  /** The database the user is defined in, its `authSource` (default `"admin"`). */
  db?: string;
  /**
   * The mechanisms the user can authenticate with, as `saslSupportedMechs`
   * lists them (default and only value: `["SCRAM-SHA-256"]`; the simulator
   * speaks no other, so SCRAM-SHA-1 conversations fail with AuthenticationFailed).
   */
  mechanisms?: string[];
}

/**
 * Options of {@linkcode startReplicaSet}.
 *
 * @example
 * ```ts
 * import type { ReplicaSetOptions } from "./replica_set.ts";
 *
 * const options: ReplicaSetOptions = { members: 3, name: "foo", electionDelayMS: 200, replicationLagMS: 50 };
 * ```
 */
export interface ReplicaSetOptions {
  /** How many members (1 to 50), or one {@linkcode MemberConfig} per member. Default 3. */
  members?: number | MemberConfig[];
  /** The replica-set name (`--replSet`), default `"foo"`. */
  name?: string;
  /**
   * Start with a config and a primary (default `true`). With `false` every
   * member answers as a mongod started with `--replSet` and never initiated,
   * until one of them receives `replSetInitiate`.
   */
  initiated?: boolean;
  /** How long a set is without a primary before an election completes, in ms (default 1000). */
  electionDelayMS?: number;
  /** How long after a write secondaries apply it, in ms (default 0: at once). */
  replicationLagMS?: number;
  /** maxWireVersion of every member, 0 to 27 (default 21, MongoDB 7.0). Below 14 the legacy opcodes work (OP_QUERY finds, OP_GET_MORE, OP_KILL_CURSORS, OP_INSERT/OP_UPDATE/OP_DELETE with getLastError); from 14 (5.1) only the OP_QUERY handshake does. */
  maxWireVersion?: number;
  /** The loopback address to listen on and to name members by (default `"127.0.0.1"`). */
  hostname?: string;
  /**
   * Require authentication, as `mongod --auth` with these users: a connection
   * runs only `hello`/`isMaster`, `ping`, `buildInfo`, `endSessions` and the
   * SCRAM conversation (`saslStart`/`saslContinue`, also inside the handshake
   * as `speculativeAuthenticate`) until it has authenticated; anything else
   * gets Unauthorized (13); a failed conversation gets AuthenticationFailed
   * (18). Users are set-wide and SCRAM-SHA-256 is the only mechanism. As with
   * mongod, members below maxWireVersion 7 (MongoDB 4.0) neither speak it nor
   * answer `saslSupportedMechs`, and below 9 (4.4) they ignore
   * `speculativeAuthenticate` and `skipEmptyExchange`.
   *
   * @example
   * ```ts ignore
   * import { startReplicaSet } from "@zerodep/mongo/testing";
   *
   * await using rs = await startReplicaSet({ users: [{ user: "ada", password: "pencil" }] });
   * const uri = `mongodb://ada:pencil@${rs.hosts.join(",")}/?replicaSet=${rs.name}`;
   * ```
   */
  users?: UserConfig[];
  /**
   * The SCRAM iteration count of every user, at least 4096 (what RFC 7677 and
   * drivers require); default 15000, as mongod's `scramSHA256IterationCount`.
   * Lower it to speed up tests that open many connections.
   */
  scramIterations?: number;
  /**
   * The wire compressors every member speaks, as mongod's
   * `--networkMessageCompressors` (default `["zlib"]`; `[]` turns compression
   * off). mongod also knows snappy and zstd, but the simulator can only
   * inflate zlib, so that is the one accepted value. A handshake offering
   * `compression: [...]` is answered with the names both sides speak, in the
   * client's order (the field is left out when there are none); an
   * OP_COMPRESSED request in a compressor the member speaks is handled as the
   * message it wraps and answered compressed the same way (except handshake
   * and authentication commands); any other OP_COMPRESSED closes the
   * connection. Members below maxWireVersion 6 (MongoDB 3.6) do not speak zlib.
   * Each request log entry says how its request arrived (`compressor`).
   *
   * @example
   * ```ts ignore
   * import { startReplicaSet } from "@zerodep/mongo/testing";
   *
   * await using rs = await startReplicaSet({ compressors: ["zlib"] });
   * const uri = `${rs.uri}&compressors=zlib`;
   * ```
   */
  compressors?: string[];
}

/**
 * A member given by its {@linkcode Member} object, its `host:port` (or config
 * name), or its index.
 *
 * @example
 * ```ts
 * import type { MemberRef } from "./replica_set.ts";
 *
 * const ref: MemberRef = "127.0.0.1:40001";
 * ```
 */
export type MemberRef = Member | string | number;

interface OplogEntry {
  ts: Timestamp;
  t: number;
  wall: number;
  change: OplogChange;
}

interface ActiveConfig {
  version: number;
  members: SimulatedMember[];
}

const MAX_MEMBERS = 50;
// mongod's periodicNoopIntervalSecs: an idle primary still advances its
// optime, so secondaries' staleness (lastWriteDate) stays meaningful.
const NOOP_INTERVAL_MS = 10_000;

/**
 * Starts a simulated replica set; see {@linkcode ReplicaSetOptions}. With
 * `initiated` (the default) the member of highest priority (the first on a
 * tie) is primary as soon as this resolves.
 *
 * @throws {ConfigurationError} for invalid options.
 * @throws {ConnectionFailure} when a port cannot be bound.
 * @example
 * ```ts ignore
 * import { startReplicaSet } from "@zerodep/mongo/testing";
 *
 * const rs = await startReplicaSet({ members: 3, name: "foo" });
 * try {
 *   console.log(rs.hosts.length); // 3
 * } finally {
 *   await rs.close();
 * }
 * ```
 */
export async function startReplicaSet(options: ReplicaSetOptions = {}): Promise<ReplicaSet> {
  const rs = new ReplicaSet(options);
  try {
    await rs.start();
  } catch (e) {
    await rs.close();
    throw e;
  }
  return rs;
}

export function checkCompressors(value: unknown): SupportedCompressor[] {
  if (!Array.isArray(value)) {
    throw new ConfigurationError(`compressors must be an array of compressor names, got ${describeValue(value)}`);
  }
  const out: SupportedCompressor[] = [];
  for (const [i, name] of value.entries()) {
    if (name !== "zlib") {
      const known = name === "snappy" || name === "zstd" || name === "noop";
      throw new ConfigurationError(
        `compressors[${i}] is ${describeValue(name)}: the simulated members ${
          known ? "cannot compress with it" : "know no such compressor"
        }; "zlib" is the only one they speak ([] turns compression off)`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/**
 * A running simulated replica set. Create it with
 * {@linkcode startReplicaSet}; stop it with `close()` or `await using`.
 *
 * @example
 * ```ts ignore
 * import { startReplicaSet } from "@zerodep/mongo/testing";
 *
 * await using rs = await startReplicaSet({ members: 3 });
 * const [a, b] = rs.members;
 * rs.partition(a, b);
 * rs.heal();
 * ```
 */
export class ReplicaSet implements AsyncDisposable {
  /** The replica-set name. */
  readonly name: string;
  /** The election delay in ms. */
  readonly electionDelayMS: number;
  /** The replication lag in ms. */
  readonly replicationLagMS: number;
  #hostname: string;
  #members: SimulatedMember[] = [];
  #memberConfigs: MemberConfig[];
  #initiated: boolean;
  #config: ActiveConfig | null = null;
  #oplog: OplogEntry[] = [];
  #term = 0;
  #electionId: ObjectId | undefined;
  #blocked = new Set<string>();
  #timers = new Timers();
  #electionTimer: ReturnType<typeof setTimeout> | undefined;
  #replicationTimer: ReturnType<typeof setTimeout> | undefined;
  #replicationDue = Infinity;
  #closed = false;
  #lastTs = { t: 0, i: 0 };
  #ctx: SetContext;
  #users: UserSpec[] | undefined;
  #scramIterations: number;
  #auth: Authenticator | null = null;

  /** Validates the options; `startReplicaSet()` is the way to get a running set. */
  constructor(options: ReplicaSetOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError(`startReplicaSet options must be an object, got ${String(options)}`);
    }
    const members = options.members ?? 3;
    if (typeof members === "number") {
      checkInt(members, "members", 1, MAX_MEMBERS);
      this.#memberConfigs = Array.from({ length: members }, () => ({}));
    } else if (Array.isArray(members)) {
      if (members.length < 1 || members.length > MAX_MEMBERS) {
        throw new ConfigurationError(`members must list 1 to ${MAX_MEMBERS} members, got ${members.length}`);
      }
      this.#memberConfigs = members.map((m, i) => checkMemberConfig(m, i));
      const names = this.#memberConfigs.flatMap((m) => m.name === undefined ? [] : [m.name.toLowerCase()]);
      if (new Set(names).size !== names.length) throw new ConfigurationError("members[].name must be distinct");
    } else {
      throw new ConfigurationError(`members must be a number or an array of member configs, got ${typeof members}`);
    }
    const name = options.name ?? "foo";
    if (typeof name !== "string" || name === "" || /[\s/\\.$"]/.test(name)) {
      throw new ConfigurationError(
        `name must be a non-empty replica-set name without spaces, dots or slashes, got ${JSON.stringify(name)}`,
      );
    }
    this.name = name;
    this.electionDelayMS = checkInt(options.electionDelayMS ?? 1000, "electionDelayMS", 0, 3_600_000);
    this.replicationLagMS = checkInt(options.replicationLagMS ?? 0, "replicationLagMS", 0, 3_600_000);
    const wire = checkInt(options.maxWireVersion ?? 21, "maxWireVersion", 0, 27);
    this.#hostname = options.hostname ?? "127.0.0.1";
    if (typeof this.#hostname !== "string" || this.#hostname === "") {
      throw new ConfigurationError(`hostname must be a non-empty string`);
    }
    this.#initiated = options.initiated ?? true;
    if (typeof this.#initiated !== "boolean") throw new ConfigurationError(`initiated must be a boolean`);
    const electable = this.#memberConfigs.some((m) => !m.arbiterOnly && (m.priority ?? 1) > 0);
    if (this.#initiated && !electable) {
      throw new ConfigurationError("at least one member must be electable (priority > 0, not an arbiter)");
    }
    this.#users = options.users === undefined ? undefined : checkUsers(options.users);
    this.#scramIterations = checkInt(options.scramIterations ?? 15000, "scramIterations", 4096, 1_000_000);
    const compressors = checkCompressors(options.compressors ?? ["zlib"]);
    this.#ctx = this.#makeContext();
    this.#members = this.#memberConfigs.map((m, index) => {
      const member = new SimulatedMember({
        index,
        hostname: this.#hostname,
        port: m.port ?? 0,
        maxWireVersion: m.maxWireVersion ?? wire,
        set: this.#ctx,
        compressors,
      });
      if (m.name !== undefined) member.name = m.name;
      return member;
    });
  }

  /** @internal Starts every member; called by `startReplicaSet()`. */
  async start(): Promise<void> {
    if (this.#users !== undefined && this.#auth === null) {
      // The costly part (PBKDF2) runs once per user, before any member listens.
      const iterations = this.#scramIterations;
      this.#auth = new Authenticator(await Promise.all(this.#users.map((u) => deriveCredential(u, { iterations }))));
    }
    for (const m of this.#members) await m.start();
    if (!this.#initiated) return;
    const members = this.#members;
    members.forEach((m, i) => {
      const c = this.#memberConfigs[i];
      m.role = roleFrom(c, i);
      m.setState(m.role.arbiterOnly ? "ARBITER" : "SECONDARY");
    });
    this.#config = { version: 1, members: [...members] };
    this.#appendNoop();
    for (const m of members) if (!m.role!.arbiterOnly) m.applied = this.#oplog.length;
    // The first primary needs no election delay, so a fresh set is usable at once.
    let best: SimulatedMember | undefined;
    for (const m of members) {
      if (m.role!.arbiterOnly || m.role!.priority <= 0) continue;
      if (best === undefined || m.role!.priority > best.role!.priority) best = m;
    }
    this.#becomePrimary(best!);
  }

  /** Every member, in the order given. */
  get members(): readonly Member[] {
    return this.#members;
  }

  /** `"hostname:port"` of every member. */
  get hosts(): string[] {
    return this.#members.map((m) => m.host);
  }

  /** A connection string for the whole set: `mongodb://h1,h2,h3/?replicaSet=name`. */
  get uri(): string {
    return `mongodb://${this.hosts.join(",")}/?replicaSet=${this.name}`;
  }

  /** The current primary, if there is one. */
  get primary(): Member | undefined {
    return this.#members.find((m) => m.state === "PRIMARY");
  }

  /** The secondaries that are up. */
  get secondaries(): Member[] {
    return this.#members.filter((m) => m.state === "SECONDARY");
  }

  /** The current election term. */
  get term(): number {
    return this.#term;
  }

  /** Resolves a {@linkcode MemberRef}. @throws {ConfigurationError} when it names no member. */
  member(ref: MemberRef): Member {
    return this.#resolve(ref);
  }

  #resolve(ref: MemberRef): SimulatedMember {
    if (typeof ref === "number") {
      const m = this.#members[ref];
      if (m === undefined) {
        throw new ConfigurationError(`no member with index ${ref} (the set has ${this.#members.length})`);
      }
      return m;
    }
    if (typeof ref === "string") {
      const m = this.#members.find((x) => x.host === ref || x.name === ref);
      if (m === undefined) {
        throw new ConfigurationError(`no member named ${JSON.stringify(ref)}; hosts are ${this.hosts.join(", ")}`);
      }
      return m;
    }
    const m = this.#members.find((x) => x === ref);
    if (m === undefined) throw new ConfigurationError("that member does not belong to this replica set");
    return m;
  }

  /**
   * Waits until some member is primary and returns it. Polls with timers of
   * its own, so the wait keeps the process alive.
   *
   * @throws {ConfigurationError} when no primary appears within `timeoutMS` (default 10 × electionDelayMS + 5000).
   */
  async waitForPrimary(options: { timeoutMS?: number; not?: MemberRef } = {}): Promise<Member> {
    const timeout = options.timeoutMS ?? this.electionDelayMS * 10 + 5000;
    const not = options.not === undefined ? undefined : this.#resolve(options.not);
    const deadline = Date.now() + timeout;
    for (;;) {
      const p = this.#members.find((m) => m.state === "PRIMARY" && m !== not);
      if (p !== undefined) return p;
      if (this.#closed) throw new ConfigurationError("the replica set is closed");
      if (Date.now() > deadline) throw new ConfigurationError(`no primary within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Waits until every live data-bearing member has applied every write the
   * primary made (or `timeoutMS` passes, then it throws).
   */
  async waitForReplication(options: { timeoutMS?: number } = {}): Promise<void> {
    const timeout = options.timeoutMS ?? this.replicationLagMS * 10 + 5000;
    const deadline = Date.now() + timeout;
    for (;;) {
      const behind = this.#members.filter((m) =>
        m.alive && m.role !== null && !m.role.arbiterOnly && m.applied < this.#oplog.length
      );
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new ConfigurationError(`replication not done within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Kills a member: closes its listening socket and every connection; an election follows if it was primary. */
  async kill(ref: MemberRef): Promise<void> {
    const m = this.#resolve(ref);
    await m.stop();
    this.#bumpAll();
    this.#reconcile();
  }

  /** Restarts a killed member on the same port; it rejoins as a secondary and catches up. */
  async restart(ref: MemberRef): Promise<void> {
    const m = this.#resolve(ref);
    if (m.alive) return;
    if (this.#closed) throw new ConfigurationError("the replica set is closed");
    // A member that had writes the set no longer has rolls them back.
    if (m.applied > this.#oplog.length) m.needsRollback = true;
    await m.start();
    this.#bumpAll();
    this.#reconcile();
  }

  /**
   * Steps the primary down (as `replSetStepDown`): it becomes a secondary and
   * is not electable for `seconds` (default 60); another member is elected
   * after electionDelayMS.
   *
   * @throws {ConfigurationError} when the member is not primary.
   */
  stepDown(ref: MemberRef, seconds = 60): void {
    const m = this.#resolve(ref);
    if (m.state !== "PRIMARY") throw new ConfigurationError(`${m.host} is not primary (it is ${m.state})`);
    this.#stepDown(m, seconds);
  }

  /** Makes a member unelectable for `seconds` (0 unfreezes), as `replSetFreeze`. */
  freeze(ref: MemberRef, seconds: number): void {
    const m = this.#resolve(ref);
    checkInt(seconds, "seconds", 0, 31_536_000);
    m.frozenUntil = seconds === 0 ? 0 : Date.now() + seconds * 1000;
    this.#reconcile();
  }

  /**
   * Cuts the network between two members, or between every member of `a` and
   * every member of `b`. Clients still reach both; replication and elections
   * see the cut.
   */
  partition(a: MemberRef | MemberRef[], b: MemberRef | MemberRef[]): void {
    const left = (Array.isArray(a) ? a : [a]).map((r) => this.#resolve(r));
    const right = (Array.isArray(b) ? b : [b]).map((r) => this.#resolve(r));
    for (const x of left) {
      for (const y of right) {
        if (x === y) continue;
        this.#blocked.add(pairKey(x, y));
      }
    }
    this.#reconcile();
  }

  /** Removes every partition. */
  heal(): void {
    this.#blocked.clear();
    this.#reconcile();
  }

  /** Sets fault injection on a member (merged with its current faults); see {@linkcode FaultOptions}. */
  fault(ref: MemberRef, faults: FaultOptions): void {
    if (faults === null || typeof faults !== "object") throw new ConfigurationError("faults must be an object");
    if (faults.maxWireVersion !== undefined) checkInt(faults.maxWireVersion, "maxWireVersion", 0, 27);
    if (faults.closeNext !== undefined) checkInt(faults.closeNext, "closeNext", 0, 1_000_000);
    if (faults.delayMS !== undefined) checkInt(faults.delayMS, "delayMS", 0, 3_600_000);
    this.#resolve(ref).setFaults({ ...faults });
  }

  /** Removes every fault from a member, or from all members. */
  clearFaults(ref?: MemberRef): void {
    for (const m of ref === undefined ? this.#members : [this.#resolve(ref)]) m.clearFaults();
  }

  /** The requests a member received (see {@linkcode RequestLogEntry}). */
  requests(ref: MemberRef): readonly RequestLogEntry[] {
    return this.#resolve(ref).requests;
  }

  /** Empties the request log of a member, or of all members. */
  clearLog(ref?: MemberRef): void {
    for (const m of ref === undefined ? this.#members : [this.#resolve(ref)]) m.clearLog();
  }

  /** Stops every member and timer and frees every port. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearAll();
    this.#notifyProgress();
    await Promise.all(this.#members.map((m) => m.stop()));
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- replica-set logic ----------------------------------------------------

  #makeContext(): SetContext {
    return {
      setName: this.name,
      timers: this.#timers,
      auth: () => this.#auth,
      helloFields: (m) => this.#helloFields(m),
      logChange: (m, change) => this.#logChange(m, change),
      waitForWriteConcern: (m, wc) => this.#waitForWriteConcern(m, wc),
      waitForApplied: (m, ts, maxTimeMS) => this.#waitForApplied(m, ts, maxTimeMS),
      oplog: (m) => ({ entries: this.#oplog, applied: Math.min(m.applied, this.#oplog.length) }),
      clusterTime: (m) => {
        if (!this.#inConfig(m) || this.#oplog.length === 0) return null;
        return {
          clusterTime: this.#oplog[this.#oplog.length - 1].ts,
          operationTime: this.#opTime(Math.min(m.applied, this.#oplog.length)).ts,
        };
      },
      initiate: (m, config) => this.#initiate(m, config),
      status: (m) => this.#status(m),
      getConfig: (m) => this.#getConfig(m),
      stepDown: (m, seconds) => {
        if (m.state !== "PRIMARY") {
          throw serverError(ErrorCode.NotWritablePrimary, "NotWritablePrimary", "not primary so can't step down");
        }
        this.#stepDown(m, seconds);
        return { ok: 1 };
      },
      freeze: (m, seconds) => {
        if (m.state === "PRIMARY") {
          throw serverError(
            95,
            "NotSecondary",
            "cannot freeze node when primary or running for election. state: Primary",
          );
        }
        m.frozenUntil = seconds <= 0 ? 0 : Date.now() + seconds * 1000;
        this.#reconcile();
        return seconds <= 0 ? { info: "unfreezing", ok: 1 } : { ok: 1 };
      },
    };
  }

  #inConfig(m: SimulatedMember): boolean {
    return this.#config !== null && m.role !== null && this.#config.members.includes(m);
  }

  #reachable(a: SimulatedMember, b: SimulatedMember): boolean {
    return a === b || (a.alive && b.alive && !this.#blocked.has(pairKey(a, b)));
  }

  #seesMajority(m: SimulatedMember): boolean {
    if (this.#config === null || !m.alive) return false;
    const voters = this.#config.members.filter((x) => x.role!.votes > 0);
    const seen = voters.filter((x) => this.#reachable(m, x)).length;
    return seen > Math.floor(voters.length / 2);
  }

  #opTime(index: number): { ts: Timestamp; t: Int64; wall: Date } {
    const e = this.#oplog[index - 1];
    if (e === undefined) return { ts: new Timestamp({ t: 0, i: 0 }), t: new Int64(-1n), wall: new Date(0) };
    return { ts: e.ts, t: new Int64(BigInt(e.t)), wall: new Date(e.wall) };
  }

  #majorityApplied(): number {
    if (this.#config === null) return 0;
    const voters = this.#config.members.filter((x) => x.role!.votes > 0 && !x.role!.arbiterOnly);
    const applied = voters.map((x) => x.applied).sort((a, b) => b - a);
    const need = Math.floor(this.#config.members.filter((x) => x.role!.votes > 0).length / 2) + 1;
    return applied[need - 1] ?? 0;
  }

  #helloFields(m: SimulatedMember): Document | null {
    if (!this.#inConfig(m)) return null;
    const cfg = this.#config!;
    const visible = cfg.members.filter((x) => !x.role!.hidden);
    const hosts = visible.filter((x) => !x.role!.arbiterOnly && x.role!.priority > 0).map((x) => x.name);
    const passives = visible.filter((x) => !x.role!.arbiterOnly && x.role!.priority <= 0).map((x) => x.name);
    const arbiters = visible.filter((x) => x.role!.arbiterOnly).map((x) => x.name);
    const out: Document = { hosts };
    if (passives.length > 0) out.passives = passives;
    if (arbiters.length > 0) out.arbiters = arbiters;
    out.setName = this.name;
    out.setVersion = cfg.version;
    out.isPrimary = m.state === "PRIMARY";
    out.secondary = m.state === "SECONDARY";
    // A member knows the primary only when it can reach it.
    const primary = cfg.members.find((x) => x.state === "PRIMARY" && this.#reachable(m, x));
    if (primary !== undefined) out.primary = primary.name;
    const role = m.role!;
    if (role.arbiterOnly) out.arbiterOnly = true;
    if (role.priority <= 0 && !role.arbiterOnly) out.passive = true;
    if (role.hidden) out.hidden = true;
    if (Object.keys(role.tags).length > 0) out.tags = { ...role.tags };
    out.me = m.name;
    if (m.state === "PRIMARY" && this.#electionId !== undefined) out.electionId = this.#electionId;
    if (!role.arbiterOnly) {
      const mine = this.#opTime(m.applied);
      const majority = this.#opTime(Math.min(this.#majorityApplied(), m.applied));
      out.lastWrite = {
        opTime: { ts: mine.ts, t: mine.t },
        lastWriteDate: mine.wall,
        majorityOpTime: { ts: majority.ts, t: majority.t },
        majorityWriteDate: majority.wall,
      };
    }
    return out;
  }

  #nextTimestamp(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.#lastTs.t) this.#lastTs = { t: now, i: 1 };
    else this.#lastTs = { t: this.#lastTs.t, i: this.#lastTs.i + 1 };
    return new Timestamp(this.#lastTs);
  }

  #appendNoop(): void {
    this.#oplog.push({ ts: this.#nextTimestamp(), t: this.#term, wall: Date.now(), change: { op: "n" } });
    this.#scheduleNoopWriter();
  }

  #noopTimer: ReturnType<typeof setTimeout> | undefined;
  #initiator: SimulatedMember | undefined;

  #scheduleNoopWriter(): void {
    if (this.#noopTimer !== undefined || this.#closed) return;
    this.#noopTimer = this.#timers.set(() => {
      this.#noopTimer = undefined;
      const p = this.#config?.members.find((m) => m.state === "PRIMARY" && m.alive);
      if (p !== undefined && p.applied === this.#oplog.length) {
        this.#appendNoop();
        p.applied = this.#oplog.length;
        this.#replicate();
      } else this.#scheduleNoopWriter();
    }, NOOP_INTERVAL_MS);
  }

  #logChange(m: SimulatedMember, change: OplogChange): void {
    // Only a primary's command handlers get here (the state check ran first).
    m.store.apply(change);
    this.#oplog.push({ ts: this.#nextTimestamp(), t: this.#term, wall: Date.now(), change });
    m.applied = this.#oplog.length;
    this.#replicate();
  }

  // Resolves whenever replication makes progress or any state changes.
  #progress: Promise<void> = Promise.resolve();
  #signalProgress: () => void = () => {};

  #notifyProgress(): void {
    const signal = this.#signalProgress;
    this.#progress = new Promise((r) => (this.#signalProgress = r));
    signal();
  }

  async #waitForWriteConcern(m: SimulatedMember, writeConcern: unknown): Promise<Document | null> {
    const wc = isPlainDocument(writeConcern) ? writeConcern : {};
    const cfg = this.#config;
    if (cfg === null) return null;
    const dataVoters = cfg.members.filter((x) => !x.role!.arbiterOnly);
    const voters = cfg.members.filter((x) => x.role!.votes > 0);
    const majority = Math.floor(voters.length / 2) + 1;
    // 5.0 made w:"majority" the default, except for sets whose majority needs an arbiter.
    const implicit = m.maxWireVersion >= 13 && dataVoters.filter((x) => x.role!.votes > 0).length >= majority
      ? "majority"
      : 1;
    const w = wc.w ?? implicit;
    let need: number;
    if (w === "majority") need = majority;
    else if (typeof w === "string") {
      return {
        code: 79,
        codeName: "UnknownReplWriteConcern",
        errmsg: `No write concern mode named '${w}' found in replica set configuration`,
      };
    } else {
      need = Number(numericValue(w) ?? 1);
      if (!Number.isInteger(need) || need < 0) {
        return { code: 9, codeName: "FailedToParse", errmsg: `w has to be a non-negative number, not ${String(w)}` };
      }
      if (need > dataVoters.length) {
        return { code: 100, codeName: "UnsatisfiableWriteConcern", errmsg: "Not enough data-bearing nodes" };
      }
    }
    if (need <= 1) return null;
    const target = m.applied;
    const wtimeout = Number(numericValue(wc.wtimeout) ?? 0);
    const deadline = wtimeout > 0 ? Date.now() + wtimeout : Infinity;
    for (let first = true;; first = false) {
      const acked = dataVoters.filter((x) => x.alive && !x.needsRollback && x.applied >= target).length;
      if (first && acked >= need) return null;
      // As mongod: a step-down fails every waiter at once, whatever replicates after it.
      if (this.#closed || m.state !== "PRIMARY") {
        return {
          code: ErrorCode.PrimarySteppedDown,
          codeName: "PrimarySteppedDown",
          errmsg: "Primary stepped down while waiting for replication",
        };
      }
      if (acked >= need) return null;
      const left = deadline - Date.now();
      if (left <= 0) {
        return {
          code: ErrorCode.WriteConcernFailed,
          codeName: "WriteConcernFailed",
          errmsg: "waiting for replication timed out",
          errInfo: { wtimeout: true, writeConcern: { w, wtimeout } },
        };
      }
      await this.#timers.race(this.#progress, Math.min(left, 1000));
    }
  }

  async #waitForApplied(m: SimulatedMember, ts: Timestamp, maxTimeMS: number): Promise<boolean> {
    const deadline = maxTimeMS > 0 ? Date.now() + maxTimeMS : Infinity;
    for (;;) {
      const mine = this.#opTime(Math.min(m.applied, this.#oplog.length)).ts;
      if (mine.t > ts.t || (mine.t === ts.t && mine.i >= ts.i)) return true;
      // Nothing newer exists anywhere, or this member cannot catch up: answer with what it has.
      const newest = this.#oplog[this.#oplog.length - 1]?.ts;
      if (newest === undefined || newest.t < ts.t || (newest.t === ts.t && newest.i < ts.i)) return true;
      if (this.#closed || !m.alive) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.#timers.race(this.#progress, Math.min(left, 1000));
    }
  }

  #becomePrimary(m: SimulatedMember): void {
    this.#term++;
    this.#electionId = electionIdForTerm(this.#term);
    // Writes the new primary never saw are gone from the set's history.
    if (this.#oplog.length > m.applied) this.#oplog.length = m.applied;
    for (const x of this.#members) if (x.applied > this.#oplog.length) x.needsRollback = true;
    m.setState("PRIMARY");
    this.#appendNoop();
    m.applied = this.#oplog.length;
    this.#bumpAll();
    this.#replicate();
  }

  #stepDown(m: SimulatedMember, seconds: number): void {
    m.setState("SECONDARY");
    m.frozenUntil = Date.now() + Math.max(0, seconds) * 1000;
    this.#bumpAll();
    // Servers before 4.2 (wire 8) close every connection on stepdown.
    if (m.maxWireVersion < 8) m.closeConnections();
    this.#reconcile();
  }

  #bumpAll(): void {
    for (const x of this.#members) if (x.alive) x.bump();
    this.#notifyProgress();
  }

  // Re-derives what follows from the current facts: a primary that lost its
  // majority steps down, a set without a primary holds an election, and
  // secondaries catch up.
  #reconcile(): void {
    if (this.#closed || this.#config === null) return;
    for (const m of this.#config.members) {
      if (m.state === "PRIMARY" && !this.#seesMajority(m)) {
        m.setState("SECONDARY");
        this.#bumpAll();
      }
    }
    if (!this.#config.members.some((m) => m.state === "PRIMARY")) this.#scheduleElection();
    this.#replicate();
    this.#checkTakeover();
  }

  #takeoverTimer: ReturnType<typeof setTimeout> | undefined;

  // A caught-up member of higher priority than the primary calls a
  // "priority takeover" election, as mongod does.
  #takeoverCandidate(): { primary: SimulatedMember; candidate: SimulatedMember } | undefined {
    if (this.#config === null) return undefined;
    const primary = this.#config.members.find((m) => m.state === "PRIMARY");
    if (primary === undefined) return undefined;
    const now = Date.now();
    let best: SimulatedMember | undefined;
    for (const m of this.#config.members) {
      if (m.state !== "SECONDARY" || m.role!.priority <= primary.role!.priority || m.frozenUntil > now) continue;
      if (m.applied < primary.applied || m.needsRollback || !this.#seesMajority(m)) continue;
      if (best === undefined || m.role!.priority > best.role!.priority) best = m;
    }
    return best === undefined ? undefined : { primary, candidate: best };
  }

  #checkTakeover(): void {
    if (this.#takeoverTimer !== undefined || this.#closed || this.#takeoverCandidate() === undefined) return;
    this.#takeoverTimer = this.#timers.set(() => {
      this.#takeoverTimer = undefined;
      const t = this.#takeoverCandidate();
      if (t === undefined) return;
      t.primary.setState("SECONDARY");
      this.#becomePrimary(t.candidate);
    }, this.electionDelayMS);
  }

  #scheduleElection(): void {
    if (this.#electionTimer !== undefined || this.#closed) return;
    this.#electionTimer = this.#timers.set(() => {
      this.#electionTimer = undefined;
      this.#elect();
    }, this.electionDelayMS);
  }

  #elect(): void {
    if (this.#closed || this.#config === null) return;
    if (this.#config.members.some((m) => m.state === "PRIMARY")) return;
    const now = Date.now();
    const candidates = this.#config.members.filter((m) =>
      m.alive && m.state === "SECONDARY" && m.role!.priority > 0 && !m.role!.hidden && m.frozenUntil <= now &&
      !m.needsRollback && this.#seesMajority(m)
    );
    let winner: SimulatedMember | undefined;
    for (const c of candidates) {
      // Voters refuse a candidate whose data is behind theirs.
      const behindSomeone = this.#config.members.some((v) =>
        v !== c && v.role!.votes > 0 && !v.role!.arbiterOnly && this.#reachable(c, v) && v.applied > c.applied &&
        !v.needsRollback
      );
      if (behindSomeone) continue;
      if (
        winner === undefined || c.applied > winner.applied ||
        (c.applied === winner.applied && c.role!.priority > winner.role!.priority) ||
        // The member that ran replSetInitiate stands first, as it does with mongod.
        (c.applied === winner.applied && c.role!.priority === winner.role!.priority && c === this.#initiator)
      ) winner = c;
    }
    if (winner === undefined) {
      this.#scheduleElection();
      return;
    }
    this.#initiator = undefined;
    this.#becomePrimary(winner);
  }

  // Secondaries copy from the most up-to-date member they reach, each entry
  // once it is replicationLagMS old.
  #replicate(): void {
    if (this.#closed || this.#config === null) return;
    const now = Date.now();
    let nextDue = Infinity;
    for (const m of this.#config.members) {
      if (!m.alive || m.role!.arbiterOnly || m.state === "PRIMARY") continue;
      if (m.needsRollback) {
        m.store.clear();
        m.cursors.clear();
        m.applied = 0;
        m.needsRollback = false;
      }
      let source: SimulatedMember | undefined;
      for (const s of this.#config.members) {
        if (s === m || s.role!.arbiterOnly || !this.#reachable(m, s) || s.needsRollback) continue;
        if (s.applied > m.applied && (source === undefined || s.applied > source.applied)) source = s;
      }
      if (source === undefined) continue;
      while (m.applied < source.applied && m.applied < this.#oplog.length) {
        const e = this.#oplog[m.applied];
        const due = e.wall + this.replicationLagMS;
        if (due > now) {
          nextDue = Math.min(nextDue, due);
          break;
        }
        m.store.apply(e.change);
        m.applied++;
      }
    }
    this.#notifyProgress();
    if (nextDue !== Infinity && nextDue < this.#replicationDue) {
      this.#timers.clear(this.#replicationTimer);
      this.#replicationDue = nextDue;
      this.#replicationTimer = this.#timers.set(() => {
        this.#replicationTimer = undefined;
        this.#replicationDue = Infinity;
        this.#replicate();
        // Catching up may make an election (or a priority takeover) possible.
        if (this.#config !== null && !this.#config.members.some((m) => m.state === "PRIMARY")) this.#scheduleElection();
        this.#checkTakeover();
      }, nextDue - now + 1);
    }
  }

  #initiate(m: SimulatedMember, config: unknown): Document {
    if (this.#config !== null) throw serverError(23, "AlreadyInitialized", "already initialized");
    const invalid = (msg: string) => serverError(93, "InvalidReplicaSetConfig", msg);
    let version = 1;
    let entries: { id: number; host: string; member: SimulatedMember; raw: Document }[];
    if (
      config === undefined || config === null || (isPlainDocument(config) && Object.keys(config).length === 0) ||
      numericValue(config) !== undefined
    ) {
      entries = [{ id: 0, host: m.name, member: m, raw: {} }];
    } else {
      if (!isPlainDocument(config)) throw serverError(14, "TypeMismatch", "replSetInitiate needs a config document");
      if (config._id !== this.name) {
        throw invalid(
          `Attempting to initiate a replica set with name ${
            String(config._id)
          }, but command line reports ${this.name}; rejecting`,
        );
      }
      if (config.version !== undefined) version = Number(numericValue(config.version) ?? 1);
      if (!Array.isArray(config.members) || config.members.length === 0) {
        throw invalid("Replica set configuration must contain at least one member");
      }
      entries = config.members.map((raw, i) => {
        if (!isPlainDocument(raw)) throw invalid(`members.${i} must be a document`);
        const id = numericValue(raw._id);
        if (id === undefined) throw invalid(`members.${i}._id must be a number`);
        if (typeof raw.host !== "string") throw invalid(`members.${i}.host must be a string`);
        const member = this.#memberForHost(raw.host);
        if (member === undefined) {
          throw serverError(
            74,
            "NodeNotFound",
            `replSetInitiate quorum check failed because not all proposed set members responded affirmatively: ${raw.host} failed with Connection refused`,
          );
        }
        return { id: Number(id), host: raw.host, member, raw };
      });
      const ids = new Set(entries.map((e) => e.id));
      if (ids.size !== entries.length) throw invalid("Found two member configurations with same _id field");
      if (new Set(entries.map((e) => e.member)).size !== entries.length) {
        throw invalid("Found two member configurations with the same host");
      }
      if (!entries.some((e) => e.member === m)) {
        throw invalid(
          `No host described in new configuration with {version: ${version}, term: 0} for replica set ${this.name} maps to this node`,
        );
      }
    }
    for (const e of entries) {
      e.member.role = roleFromDocument(e.raw, e.id);
      e.member.name = e.host;
    }
    if (!entries.some((e) => !e.member.role!.arbiterOnly && e.member.role!.priority > 0)) {
      throw invalid("This node must be electable");
    }
    this.#config = { version, members: entries.map((e) => e.member) };
    this.#initiator = m;
    this.#appendNoop();
    for (const e of entries) {
      const x = e.member;
      if (x.alive) x.setState(x.role!.arbiterOnly ? "ARBITER" : "SECONDARY");
      if (!x.role!.arbiterOnly) x.applied = this.#oplog.length;
    }
    this.#bumpAll();
    this.#reconcile();
    return { ok: 1 };
  }

  #memberForHost(host: string): SimulatedMember | undefined {
    let address: ServerAddress;
    try {
      address = parseAddress(host);
    } catch {
      return undefined; // not an address: no member has it
    }
    if ("path" in address) return undefined;
    const local = new Set(["localhost", "127.0.0.1", this.#hostname.toLowerCase()]);
    return this.#members.find((x) => x.port === address.port && (local.has(address.host) || x.name === host));
  }

  #stateCode(m: SimulatedMember): [number, string] {
    switch (m.state) {
      case "PRIMARY":
        return [1, "PRIMARY"];
      case "SECONDARY":
        return [2, "SECONDARY"];
      case "ARBITER":
        return [7, "ARBITER"];
      case "DOWN":
        return [8, "(not reachable/healthy)"];
      default:
        return [0, "STARTUP"];
    }
  }

  #status(self: SimulatedMember): Document {
    if (!this.#inConfig(self)) {
      throw serverError(94, "NotYetInitialized", "no replset config has been received");
    }
    const cfg = this.#config!;
    const members = cfg.members.map((x) => {
      const reachable = this.#reachable(self, x);
      const [state, stateStr] = reachable ? this.#stateCode(x) : [8, "(not reachable/healthy)"];
      const op = this.#opTime(x.applied);
      const entry: Document = {
        _id: x.role!.id,
        name: x.name,
        health: reachable ? 1 : 0,
        state,
        stateStr,
        uptime: 0,
      };
      if (!x.role!.arbiterOnly) {
        entry.optime = { ts: op.ts, t: op.t };
        entry.optimeDate = op.wall;
      }
      if (x.state === "PRIMARY" && reachable) entry.electionId = this.#electionId;
      if (x === self) entry.self = true;
      return entry;
    });
    const [myState] = this.#stateCode(self);
    return {
      set: this.name,
      date: new Date(),
      myState,
      term: new Int64(BigInt(this.#term)),
      heartbeatIntervalMillis: new Int64(2000n),
      members,
      ok: 1,
    };
  }

  #getConfig(self: SimulatedMember): Document {
    if (!this.#inConfig(self)) throw serverError(94, "NotYetInitialized", "no replset config has been received");
    const cfg = this.#config!;
    return {
      config: {
        _id: this.name,
        version: cfg.version,
        term: this.#term,
        members: cfg.members.map((x) => ({
          _id: x.role!.id,
          host: x.name,
          arbiterOnly: x.role!.arbiterOnly,
          buildIndexes: true,
          hidden: x.role!.hidden,
          priority: x.role!.priority,
          tags: { ...x.role!.tags },
          secondaryDelaySecs: new Int64(0n),
          votes: new Int32(x.role!.votes),
        })),
        protocolVersion: new Int64(1n),
        settings: { electionTimeoutMillis: new Int32(this.electionDelayMS) },
      },
      ok: 1,
    };
  }
}

function pairKey(a: SimulatedMember, b: SimulatedMember): string {
  return a.index < b.index ? `${a.index}-${b.index}` : `${b.index}-${a.index}`;
}

// PV1 election ids: 0x7fffffff then the term as 8 big-endian bytes, so they increase with the term.
function electionIdForTerm(term: number): ObjectId {
  const bytes = new Uint8Array(12);
  bytes.set([0x7f, 0xff, 0xff, 0xff]);
  new DataView(bytes.buffer).setBigUint64(4, BigInt(term));
  return new ObjectId(bytes);
}

function checkMemberConfig(m: unknown, i: number): MemberConfig {
  if (m === null || typeof m !== "object") throw new ConfigurationError(`members[${i}] must be an object`);
  const c = m as MemberConfig;
  if (c.port !== undefined) checkInt(c.port, `members[${i}].port`, 0, 65535);
  if (c.name !== undefined) {
    const port = typeof c.name === "string" ? /^[^\s/:]+:(\d{1,5})$/.exec(c.name)?.[1] : undefined;
    if (port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw new ConfigurationError(
        `members[${i}].name must be "host:port" (port 1 to 65535), got ${JSON.stringify(c.name)}`,
      );
    }
  }
  if (c.priority !== undefined && (typeof c.priority !== "number" || !(c.priority >= 0 && c.priority <= 1000))) {
    throw new ConfigurationError(`members[${i}].priority must be a number in [0, 1000], got ${String(c.priority)}`);
  }
  if (c.votes !== undefined) checkInt(c.votes, `members[${i}].votes`, 0, 1);
  if (c.maxWireVersion !== undefined) checkInt(c.maxWireVersion, `members[${i}].maxWireVersion`, 0, 27);
  if (c.hidden === true && (c.priority ?? 0) !== 0) {
    throw new ConfigurationError(`members[${i}]: a hidden member must have priority 0`);
  }
  if (c.tags !== undefined) {
    if (c.tags === null || typeof c.tags !== "object" || Object.values(c.tags).some((v) => typeof v !== "string")) {
      throw new ConfigurationError(`members[${i}].tags must be an object of strings`);
    }
  }
  return c;
}

export function checkUsers(users: unknown): UserSpec[] {
  if (!Array.isArray(users) || users.length === 0) {
    throw new ConfigurationError(
      "users must be a non-empty array of { user, password, db? } (leave it out for a set without authentication)",
    );
  }
  const seen = new Set<string>();
  return users.map((u, i) => {
    if (u === null || typeof u !== "object") throw new ConfigurationError(`users[${i}] must be an object`);
    const c = u as UserConfig;
    if (typeof c.user !== "string" || c.user === "") {
      throw new ConfigurationError(`users[${i}].user must be a non-empty string`);
    }
    if (typeof c.password !== "string" || c.password === "") {
      throw new ConfigurationError(`users[${i}].password must be a non-empty string`);
    }
    preparePassword(c.password, `users[${i}].password`);
    const db = c.db ?? "admin";
    if (typeof db !== "string" || db === "" || /[\s/\\.$"\0]/.test(db)) {
      throw new ConfigurationError(
        `users[${i}].db must be a database name (non-empty, no spaces, dots, slashes, quotes or $), got ${
          JSON.stringify(db)
        }`,
      );
    }
    const mechanisms = c.mechanisms ?? [SCRAM_SHA_256];
    if (!Array.isArray(mechanisms) || mechanisms.length === 0) {
      throw new ConfigurationError(`users[${i}].mechanisms must be a non-empty array`);
    }
    for (const m of mechanisms) {
      if (m !== SCRAM_SHA_256) {
        throw new ConfigurationError(
          `users[${i}].mechanisms: the simulated set speaks only ${SCRAM_SHA_256}, got ${JSON.stringify(m)}`,
        );
      }
    }
    const key = `${db}.${c.user}`;
    if (seen.has(key)) throw new ConfigurationError(`users[${i}]: user ${JSON.stringify(key)} is listed twice`);
    seen.add(key);
    return { user: c.user, password: c.password, db, mechanisms: [...new Set(mechanisms)] };
  });
}

function roleFrom(c: MemberConfig, id: number): MemberRole {
  const arbiterOnly = c.arbiterOnly === true;
  const hidden = c.hidden === true;
  return {
    id,
    priority: arbiterOnly || hidden ? 0 : c.priority ?? 1,
    votes: c.votes ?? 1,
    hidden,
    arbiterOnly,
    tags: { ...(c.tags ?? {}) },
  };
}

function roleFromDocument(raw: Document, id: number): MemberRole {
  const tags: Record<string, string> = {};
  if (isPlainDocument(raw.tags)) { for (const [k, v] of Object.entries(raw.tags)) tags[k] = String(v); }
  const priority = numericValue(raw.priority);
  const votes = numericValue(raw.votes);
  return roleFrom({
    priority: priority === undefined ? undefined : Number(priority),
    votes: votes === undefined ? undefined : Number(votes),
    hidden: raw.hidden === true,
    arbiterOnly: raw.arbiterOnly === true,
    tags,
  }, id);
}
