/**
 * One simulated `mongod`: it listens on loopback, cuts each connection's byte
 * stream into messages, answers OP_QUERY (handshake, legacy commands and
 * finds, OP_GET_MORE, OP_KILL_CURSORS) and OP_MSG, applies fault injection,
 * and records every request. Replica-set decisions (who is primary, the
 * config, replication, elections) belong to the set it is part of, reached
 * through {@linkcode SetContext}.
 *
 * @module
 */
import {
  Binary,
  BSONError,
  decode,
  type Document,
  Double,
  encode,
  Int32,
  Int64,
  ObjectId,
  Timestamp,
} from "../bson/mod.ts";
import { ByteWriter } from "../bson/mod.ts";
import {
  compressMessage,
  COMPRESSOR_IDS,
  decodeMessage,
  decompressMessage,
  encodeOpReply,
  MsgFlags,
  nextRequestId,
  OP_COMPRESSED,
  OP_DELETE,
  OP_GET_MORE,
  OP_INSERT,
  OP_KILL_CURSORS,
  OP_MSG,
  OP_NAMES,
  OP_QUERY,
  OP_UPDATE,
  type OpGetMore,
  type OpKillCursors,
  type OpMsg,
  type OpQuery,
  QueryFlags,
  type SupportedCompressor,
  UNCOMPRESSIBLE_COMMANDS,
} from "../wire/mod.ts";
import { WireProtocolError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { ListenerConnection } from "./listener.ts";
import { encodeReply, sendMessage, serveMessages, ServerProcess } from "./_server_process.ts";
import {
  type CommandHost,
  type ConnectionState,
  isCommand,
  READ_COMMANDS,
  runCommand,
  versionForWire,
  WRITE_COMMANDS,
} from "./commands.ts";
import { cloneValue, isPlainDocument, matches, numericValue, project, sortDocuments, typeName } from "./query.ts";
import { CursorRegistry, type OplogChange, type OplogView, splitNamespace, Store } from "./store.ts";
import { toFailure } from "./_server_error.ts";
import { decodeLegacyWrite } from "./_legacy_writes.ts";
import { addWriteConcernError, failedReply, FailPoints } from "./fail_points.ts";
import { LocalSessions } from "./sessions.ts";
import { Transactions } from "./transactions.ts";
import { endsTransaction, labelReply } from "./_error_labels.ts";
import { aggregateWrites } from "./aggregate_command.ts";
import type { Timers } from "./_timers.ts";
import { Authenticator, SaslSession, UNAUTHENTICATED_COMMANDS, unauthorized } from "./_scram.ts";

/**
 * A member's replica-set state, as `replSetGetStatus` names it. `STARTUP`
 * is a member without a config (never initiated, or not in the config);
 * `DOWN` a killed one.
 *
 * @example
 * ```ts
 * import type { MemberState } from "./member.ts";
 *
 * const s: MemberState = "SECONDARY";
 * ```
 */
export type MemberState = "PRIMARY" | "SECONDARY" | "ARBITER" | "STARTUP" | "DOWN";

/**
 * One request as a member received it.
 *
 * @example
 * ```ts
 * import type { RequestLogEntry } from "./member.ts";
 *
 * function servedRead(log: readonly RequestLogEntry[]): boolean {
 *   return log.some((r) => r.command === "find" && r.secondaryOk);
 * }
 * ```
 */
export interface RequestLogEntry {
  /** The opcode (2013 OP_MSG, 2004 OP_QUERY, ...). */
  opCode: number;
  /** Its name, `"OP_MSG"`, `"OP_QUERY"`, ... */
  opName: string;
  /** The request's id. */
  requestId: number;
  /** OP_QUERY flags or OP_MSG flagBits. */
  flags: number;
  /** The database (`$db`, or the namespace's database). */
  db: string;
  /** The full namespace for legacy finds and getMores (`"db.coll"`), else `"db.$cmd"`. */
  ns: string;
  /** The command name (first key), or `"find"`/`"getMore"`/`"killCursors"` for legacy opcodes. */
  command: string;
  /** The command document (or the legacy query), as decoded. */
  body: Document;
  /** The `$readPreference` sent, if any. */
  readPreference?: Document;
  /** Whether the request allows a non-primary to answer (OP_QUERY flag, or a non-primary `$readPreference`). */
  secondaryOk: boolean;
  /** The server-side id of the connection. */
  connectionId: number;
  /** Arrival time, `Date.now()`. */
  at: number;
  /**
   * The compressor of the OP_COMPRESSED the request arrived in (`"zlib"`);
   * absent when it arrived uncompressed. `opCode` and `opName` are then the
   * original message's.
   */
  compressor?: string;
}

/**
 * Fault injection for one member. Set with `ReplicaSet.fault()`; each field
 * is independent, and an unset field leaves the current setting.
 *
 * @example
 * ```ts
 * import type { FaultOptions } from "./member.ts";
 *
 * const flaky: FaultOptions = { closeNext: 2, commands: ["find"] };
 * ```
 */
export interface FaultOptions {
  /** Close the connection instead of answering the next N matching requests. */
  closeNext?: number;
  /** Delay every matching reply by this many ms (0 to stop). */
  delayMS?: number;
  /** Stop answering matching requests (connections stay open, requests are read and dropped). */
  hang?: boolean;
  /** Answer matching requests with bytes that are not a valid reply. */
  garbage?: boolean;
  /** Report (and behave as) this maxWireVersion from now on. */
  maxWireVersion?: number;
  /**
   * Only requests for these command names are affected (default: every
   * request, handshakes and monitoring included).
   */
  commands?: string[];
}

/**
 * The public view of one simulated member.
 *
 * @example
 * ```ts ignore
 * import { startReplicaSet } from "@zerodep/mongo/testing";
 *
 * await using rs = await startReplicaSet({ members: 3 });
 * for (const m of rs.members) console.log(m.host, m.state);
 * ```
 */
export interface Member {
  /** Position in the set's member list. */
  readonly index: number;
  /** `"hostname:port"` as clients should dial it. */
  readonly host: string;
  /** The name the replica-set config gives it (usually the same as `host`). */
  readonly name: string;
  /** The listening port (kept across restarts). */
  readonly port: number;
  /** The current state. */
  readonly state: MemberState;
  /** Whether the process is up (listening). */
  readonly alive: boolean;
  /** The maxWireVersion it reports. */
  readonly maxWireVersion: number;
  /** The requests received since the start or the last `clearLog()` (the latest 10000). */
  readonly requests: readonly RequestLogEntry[];
  /** Copies of the documents in `"db.coll"` on this member, in natural order, decoded as a client would. */
  documents(ns: string): Document[];
}

/** The member's role in the config. */
export interface MemberRole {
  /** `_id` in the config. */
  id: number;
  priority: number;
  votes: number;
  hidden: boolean;
  arbiterOnly: boolean;
  tags: Record<string, string>;
}

/** What a member needs from its replica set. */
export interface SetContext {
  readonly setName: string;
  readonly timers: Timers;
  /** The set's users, or null when it runs without authentication. */
  auth(): Authenticator | null;
  /** The replica-set part of a hello reply for `member` (hosts, setName, primary, ...), or null when it has no config. */
  helloFields(member: SimulatedMember): Document | null;
  logChange(member: SimulatedMember, change: OplogChange): void;
  /**
   * Waits until the writes `member` made so far satisfy the write concern
   * (`{w, wtimeout}`; none means the server default); resolves with a
   * `writeConcernError` document, or null when satisfied.
   */
  waitForWriteConcern(member: SimulatedMember, writeConcern: unknown): Promise<Document | null>;
  /**
   * Waits until `member` has applied the oplog up to `ts` (causal reads on a
   * lagging secondary); resolves false when `maxTimeMS` (0: none) ran out first.
   */
  waitForApplied(member: SimulatedMember, ts: Timestamp, maxTimeMS: number): Promise<boolean>;
  /** The set's oplog and how much of it `member` has applied (change streams read it). */
  oplog(member: SimulatedMember): OplogView;
  /** The newest oplog timestamp the set knows, and the one `member` applied last; null without a config. */
  clusterTime(member: SimulatedMember): { clusterTime: Timestamp; operationTime: Timestamp } | null;
  initiate(member: SimulatedMember, config: unknown): Document;
  status(member: SimulatedMember): Document;
  getConfig(member: SimulatedMember): Document;
  stepDown(member: SimulatedMember, seconds: number): Document;
  freeze(member: SimulatedMember, seconds: number): Document;
  /** The set's primary, if it has one (a secondary's `$out`/`$merge` writes go there). */
  primaryMember?(): SimulatedMember | undefined;
  /** A standalone (`standalone.ts`): the state it starts in (else STARTUP without a config), what it refuses. */
  readonly startState?: MemberState;
  refuse?(member: SimulatedMember, name: string, body: Document): Document | null;
}

const HANDSHAKES = new Set(["hello", "isMaster", "ismaster"]);
const LEGACY_OPCODE_MESSAGE = "The client driver may require an upgrade. For more details see " +
  "https://dochub.mongodb.org/core/legacy-opcode-removal";
const AWAIT_CAPABLE = 8;
// Without users, saslStart still answers as mongod does: there is nobody to authenticate as.
const NO_USERS = new Authenticator([]);

// mongod sends `ok` as a double; clients that check its type see the same here.
function withDoubleOk(reply: Document): void {
  if (typeof reply.ok === "number") reply.ok = new Double(reply.ok);
}

/** Options for a new {@linkcode SimulatedMember}. */
export interface SimulatedMemberOptions {
  index: number;
  hostname: string;
  port: number;
  maxWireVersion: number;
  set: SetContext;
  /** The compressors it speaks, mongod's `networkMessageCompressors` (default `["zlib"]`; `[]`: none). */
  compressors?: readonly SupportedCompressor[];
}

// How the request being handled arrived, and whether its reply goes back compressed.
interface Inbound {
  compressor: SupportedCompressor;
  compressReply: boolean;
}

// The first wire version whose mongod speaks zlib (3.6); 3.4 had only snappy.
const ZLIB_WIRE = 6;

/**
 * One simulated mongod. Internal: the public surface is {@linkcode Member}.
 *
 * @example
 * ```ts ignore
 * const m = new SimulatedMember({ index: 0, hostname: "127.0.0.1", port: 0, maxWireVersion: 21, set });
 * await m.start();
 * ```
 */
export class SimulatedMember implements Member, CommandHost {
  readonly index: number;
  readonly hostname: string;
  readonly #process: ServerProcess;
  #name: string;
  #wire: number;
  #set: SetContext;
  #compressors: readonly SupportedCompressor[];
  #inbound = new WeakMap<ConnectionState, Inbound>();
  #state: MemberState = "DOWN";
  #faults: FaultOptions = {};
  #sessions = new WeakMap<ConnectionState, SaslSession>();
  #writer = new ByteWriter(1024);
  /** Data of this member. */
  readonly store: Store = new Store();
  /** Open cursors of this member. */
  readonly cursors: CursorRegistry = new CursorRegistry();
  /** The fail points set by `configureFailPoint` on this member. */
  readonly failPoints: FailPoints = new FailPoints();
  /** The logical sessions its commands carried. */
  readonly localSessions: LocalSessions = new LocalSessions();
  /** Its open transactions (and the session rules of retryable writes). */
  readonly transactions: Transactions = new Transactions(this);
  /** Oplog entries applied (an index into the set's oplog). */
  applied = 0;
  /** Set when the member must drop its data and replay the oplog (after a rollback). */
  needsRollback = false;
  /** Not electable before this time (ms since epoch). */
  frozenUntil = 0;
  /** The member's role in the config, or null when it is in none. */
  role: MemberRole | null = null;

  /** Creates a stopped member; call `start()`. */
  constructor(options: SimulatedMemberOptions) {
    this.index = options.index;
    this.hostname = options.hostname;
    this.#process = new ServerProcess(options.hostname, options.port);
    this.#wire = options.maxWireVersion;
    this.#set = options.set;
    this.#compressors = [...(options.compressors ?? ["zlib"])];
    this.#name = `${options.hostname}:${options.port}`;
  }

  /** `"hostname:port"`. */
  get host(): string {
    return `${this.hostname}:${this.#process.port}`;
  }

  /** The name in the replica-set config. */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    this.#name = value;
  }

  /** The listening port. */
  get port(): number {
    return this.#process.port;
  }

  /** The current state. */
  get state(): MemberState {
    return this.#state;
  }

  /** Whether it is listening. */
  get alive(): boolean {
    return this.#process.alive;
  }

  /** The reported maxWireVersion (a fault may override the configured one). */
  get maxWireVersion(): number {
    return this.#faults.maxWireVersion ?? this.#wire;
  }

  /** The request log. */
  get requests(): readonly RequestLogEntry[] {
    return this.#process.requests;
  }

  /** The processId of `topologyVersion` (new on every start). */
  get processId(): ObjectId {
    return this.#process.processId;
  }

  /** Copies of the documents of a namespace, decoded as a client would (numbers promoted). */
  documents(ns: string): Document[] {
    return this.store.documents(ns).map((d) => decode(encode(d)));
  }

  /** Empties the request log. */
  clearLog(): void {
    this.#process.clearLog();
  }

  /** Merges fault settings (see {@linkcode FaultOptions}). */
  setFaults(faults: FaultOptions): void {
    const next = { ...this.#faults, ...faults };
    for (const k of Object.keys(next) as (keyof FaultOptions)[]) if (next[k] === undefined) delete next[k];
    const wireChanged = next.maxWireVersion !== this.#faults.maxWireVersion;
    this.#faults = next;
    if (wireChanged) this.bump();
  }

  /** Removes every fault. */
  clearFaults(): void {
    const wireChanged = this.#faults.maxWireVersion !== undefined;
    this.#faults = {};
    if (wireChanged) this.bump();
  }

  /** Changes the state and bumps `topologyVersion` when it differs. */
  setState(state: MemberState): void {
    if (this.#state === state) return;
    if (this.#state === "PRIMARY") this.transactions.abortAll(); // a step-down aborts open transactions
    this.#state = state;
    this.bump();
  }

  /** Increments `topologyVersion.counter` and wakes awaitable hellos. */
  bump(): void {
    this.#process.bump();
  }

  /** Starts listening (on the same port as before after a restart). */
  async start(): Promise<void> {
    if (!(await this.#process.start((conn) => this.#serve(conn)))) return;
    if (this.#name.endsWith(":0")) this.#name = this.host;
    this.#state = this.role === null ? this.#set.startState ?? "STARTUP" : this.role.arbiterOnly ? "ARBITER" : "SECONDARY";
  }

  /** Stops listening and closes every connection, as a killed process would. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.#state = "DOWN";
    this.transactions.abortAll();
    this.cursors.clear();
    this.failPoints.clear();
    this.localSessions.clear();
    await this.#process.stop(); // wakes awaitable hellos so their loops end
  }

  /** @internal A router's in-process entry (`mongos.ts`): a command as if it arrived by OP_MSG on `state`; null: the connection would have closed. */
  async route(state: ConnectionState, db: string, name: string, body: Document, secondaryOk: boolean): Promise<Document | null> {
    const rp = isPlainDocument(body.$readPreference) ? body.$readPreference : undefined;
    this.#record(OP_MSG, 0, 0, db, `${db}.$cmd`, name, body, rp, secondaryOk, state);
    const reply = this.alive ? await this.#command(state, db, name, body, secondaryOk) : null;
    if (reply !== null) this.#gossip(reply);
    return this.alive ? reply : null;
  }

  /** Closes every open client connection (pre-4.2 servers do this on stepdown). */
  closeConnections(): void {
    this.#process.closeConnections();
  }

  // ---- CommandHost --------------------------------------------------------

  /** The oplog as far as this member has applied it. */
  oplog(): OplogView {
    return this.#set.oplog(this);
  }

  /** Waits on the set's timers (cut short when the set closes). */
  sleep(ms: number): Promise<void> {
    return this.#set.timers.sleep(ms);
  }

  /** The set's primary (a standalone or a set without one: undefined). */
  primaryHost(): SimulatedMember | undefined {
    return this.#set.primaryMember?.();
  }

  /** Applies a change as primary and logs it for replication. */
  logChange(change: OplogChange): void {
    this.transactions.noteWrite(change);
    this.#set.logChange(this, change);
  }

  /** The hello / isMaster reply for this member's state. */
  hello(legacy: boolean, body: Document, connectionId: number): Document {
    const wire = this.maxWireVersion;
    const compression = this.#negotiate(legacy, body.compression);
    if (!Array.isArray(compression)) return compression;
    const doc: Document = {};
    if (wire >= 9) doc.topologyVersion = { processId: this.#process.processId, counter: new Int64(this.#process.counter) };
    const rs = this.#set.helloFields(this);
    const primaryKey = legacy ? "ismaster" : "isWritablePrimary";
    if (rs === null) {
      doc[primaryKey] = false;
      doc.secondary = false;
      doc.info = "Does not have a valid replica set config";
      doc.isreplicaset = true;
    } else {
      const { isPrimary, ...rest } = rs;
      const ordered: Document = {};
      for (const k of ["hosts", "passives", "arbiters", "setName", "setVersion"]) {
        if (rest[k] !== undefined) ordered[k] = rest[k];
      }
      ordered[primaryKey] = isPrimary === true;
      for (const k of Object.keys(rest)) if (!(k in ordered)) ordered[k] = rest[k];
      Object.assign(doc, ordered);
      if (wire < 5) delete doc.lastWrite;
    }
    doc.maxBsonObjectSize = 16777216;
    doc.maxMessageSizeBytes = 48000000;
    doc.maxWriteBatchSize = wire >= 6 ? 100000 : 1000;
    doc.localTime = new Date();
    if (wire >= 6) doc.logicalSessionTimeoutMinutes = 30;
    doc.connectionId = connectionId;
    doc.minWireVersion = 0;
    doc.maxWireVersion = wire;
    doc.readOnly = false;
    if (wire >= 13 && body.helloOk !== undefined && body.helloOk !== false) doc.helloOk = true;
    // As mongod: only what both sides speak, in the client's order, and no field when that is nothing.
    if (compression.length > 0) doc.compression = compression;
    doc.ok = 1;
    return doc;
  }

  // The compressors to agree on for a handshake's `compression` field, or the
  // error reply mongod gives for a field of the wrong type (its IDL-parsed
  // hello of 5.0+ says TypeMismatch, the older hand-parsed one BadValue).
  #negotiate(legacy: boolean, offered: unknown): string[] | Document {
    if (offered === undefined) return [];
    const wire = this.maxWireVersion;
    const bad = (what: string, value: unknown, expected: string): Document =>
      wire >= 13
        ? {
          ok: 0,
          errmsg: `BSON field '${legacy ? "isMaster" : "hello"}.${what}' is the wrong type '${typeName(value)}', ` +
            `expected type '${expected}'`,
          code: ErrorCode.TypeMismatch,
          codeName: "TypeMismatch",
        }
        : {
          ok: 0,
          errmsg: `'${what}' is not ${expected === "array" ? "an array" : "a string"}`,
          code: ErrorCode.BadValue,
          codeName: "BadValue",
        };
    if (!Array.isArray(offered)) return bad("compression", offered, "array");
    const agreed: string[] = [];
    for (let i = 0; i < offered.length; i++) {
      const name = offered[i];
      if (typeof name !== "string") return bad(`compression.${i}`, name, "string");
      if (this.#speaks(name) && !agreed.includes(name)) agreed.push(name);
    }
    return agreed;
  }

  // Whether this member decompresses `name` (zlib arrived with 3.6).
  #speaks(name: string): name is SupportedCompressor {
    return this.maxWireVersion >= ZLIB_WIRE && (this.#compressors as readonly string[]).includes(name);
  }

  /** `replSetInitiate`. */
  replSetInitiate(config: unknown): Document {
    return this.#set.initiate(this, config);
  }

  /** `replSetGetStatus`. */
  replSetGetStatus(): Document {
    return this.#set.status(this);
  }

  /** `replSetGetConfig`. */
  replSetGetConfig(): Document {
    return this.#set.getConfig(this);
  }

  /** `replSetStepDown`. */
  replSetStepDown(seconds: number): Document {
    return this.#set.stepDown(this, seconds);
  }

  /** `replSetFreeze`. */
  replSetFreeze(seconds: number): Document {
    return this.#set.freeze(this, seconds);
  }

  /** A small `serverStatus`. */
  serverStatus(): Document {
    const now = Date.now();
    return {
      host: this.#name,
      version: versionForWire(this.maxWireVersion),
      process: "mongod",
      pid: new Int64(BigInt(this.#process.port)),
      uptime: (now - this.#process.startedAt) / 1000,
      uptimeMillis: new Int64(BigInt(now - this.#process.startedAt)),
      localTime: new Date(now),
      connections: { current: this.#process.connectionCount, available: 838860, totalCreated: this.#process.connectionsCreated },
      repl: this.hello(false, {}, 0),
      ok: 1,
    };
  }

  // ---- serving ------------------------------------------------------------

  async #serve(conn: ListenerConnection): Promise<void> {
    const id = this.#process.nextConnectionId();
    const state: ConnectionState = { id, peer: `127.0.0.1:${50000 + id}` };
    // An impossible messageLength closes the connection, as mongod does.
    await serveMessages(conn, () => this.alive, (frame) => this.#handle(conn, state, frame));
  }


  #matchesFault(command: string): boolean {
    const only = this.#faults.commands;
    return only === undefined || only.includes(command);
  }

  // Returns false when the connection must be closed.
  async #handle(conn: ListenerConnection, state: ConnectionState, frame: Uint8Array): Promise<boolean> {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const requestId = view.getInt32(4, true);
    const opCode = view.getInt32(12, true);
    const wire = this.maxWireVersion;
    if (opCode === OP_COMPRESSED) return await this.#onCompressed(conn, state, frame);
    if (opCode === OP_INSERT || opCode === OP_UPDATE || opCode === OP_DELETE) {
      return await this.#onLegacyWrite(state, frame, opCode, requestId, wire);
    }
    let msg;
    try {
      msg = decodeMessage(frame, { bson: { promoteValues: false } });
    } catch (e) {
      if (opCode === OP_MSG && e instanceof WireProtocolError && e.cause instanceof BSONError) {
        await sendMessage(
          conn,
          this.#msg(requestId, {
            ok: 0,
            errmsg: `invalid BSON in OP_MSG: ${e.message}`,
            code: ErrorCode.InvalidBSON,
            codeName: "InvalidBSON",
          }),
        );
        return true;
      }
      return false;
    }
    switch (msg.opCode) {
      case OP_MSG:
        // OP_MSG arrived with 3.6 (wire 6); older servers do not know the opcode.
        if (wire < 6) return false;
        return await this.#onMsg(conn, state, msg);
      case OP_QUERY:
        return await this.#onQuery(conn, state, msg, wire);
      case OP_GET_MORE:
        return await this.#onGetMore(conn, state, msg, wire);
      case OP_KILL_CURSORS:
        return this.#onKillCursors(state, msg, wire);
      default:
        return false; // an OP_REPLY sent to a server
    }
  }

  // OP_COMPRESSED: unwrapped and handled as the original message, whose reply
  // goes back compressed the same way unless its command is one never
  // compressed. A compressor this member does not speak, or a body that does
  // not inflate to the size announced, is a malformed message: mongod ends the
  // connection, as it does for any other.
  async #onCompressed(conn: ListenerConnection, state: ConnectionState, frame: Uint8Array): Promise<boolean> {
    const id = frame.length > 24 ? frame[24] : -1;
    const compressor = this.#compressors.find((c) => COMPRESSOR_IDS[c] === id);
    if (compressor === undefined || !this.#speaks(compressor)) return false;
    let original: Uint8Array;
    try {
      original = await decompressMessage(frame, { maxMessageSizeBytes: 48_000_000 });
    } catch {
      return false;
    }
    const inbound: Inbound = { compressor, compressReply: false };
    const compressing: ListenerConnection = {
      read: () => conn.read(),
      close: () => conn.close(),
      abort: () => conn.abort(),
      closed: conn.closed,
      write: async (bytes) =>
        await conn.write(inbound.compressReply ? await compressMessage(bytes, inbound.compressor) : bytes),
    };
    this.#inbound.set(state, inbound);
    try {
      return await this.#handle(compressing, state, original);
    } finally {
      this.#inbound.delete(state);
    }
  }

  #record(
    opCode: number,
    requestId: number,
    flags: number,
    db: string,
    ns: string,
    command: string,
    body: Document,
    readPreference: Document | undefined,
    secondaryOk: boolean,
    state: ConnectionState,
  ): void {
    const entry: RequestLogEntry = {
      opCode,
      opName: OP_NAMES[opCode] ?? `opCode ${opCode}`,
      requestId,
      flags,
      db,
      ns,
      command,
      body,
      secondaryOk,
      connectionId: state.id,
      at: Date.now(),
    };
    if (readPreference !== undefined) entry.readPreference = readPreference;
    const inbound = this.#inbound.get(state);
    if (inbound !== undefined) {
      entry.compressor = inbound.compressor;
      inbound.compressReply = !UNCOMPRESSIBLE_COMMANDS.has(command);
    }
    // Monitors add a few entries a second; a long-lived set keeps the latest.
    this.#process.record(entry);
  }

  // Applies fault injection; returns "close", "drop" (no reply), "garbage", or "ok" after any delay.
  async #fault(command: string): Promise<"close" | "drop" | "garbage" | "ok"> {
    if (!this.#matchesFault(command)) return "ok";
    const f = this.#faults;
    if (f.closeNext !== undefined && f.closeNext > 0) {
      f.closeNext--;
      return "close";
    }
    if (f.hang === true) return "drop";
    if (f.garbage === true) return "garbage";
    if (f.delayMS !== undefined && f.delayMS > 0) await this.#set.timers.sleep(f.delayMS);
    return "ok";
  }

  #garbage(requestId: number): Uint8Array {
    // A well-framed OP_MSG answering the request whose only section has an
    // unknown kind: unparseable, but it does not stall a reader waiting for bytes.
    const bytes = new Uint8Array(32).fill(0xee);
    const v = new DataView(bytes.buffer);
    v.setInt32(0, 32, true);
    v.setInt32(4, nextRequestId(), true);
    v.setInt32(8, requestId, true);
    v.setInt32(12, OP_MSG, true);
    v.setUint32(16, 0, true);
    return bytes;
  }

  // Replica-set members of 3.6+ gossip the cluster time on every reply.
  #gossip(reply: Document): void {
    if (this.maxWireVersion < 6 || this.role === null || this.role.arbiterOnly) return;
    const times = this.#set.clusterTime(this);
    if (times === null) return;
    reply.$clusterTime = {
      clusterTime: times.clusterTime,
      signature: { hash: new Binary(new Uint8Array(20)), keyId: new Int64(0n) },
    };
    reply.operationTime = times.operationTime;
  }

  #msg(responseTo: number, body: Document, flagBits = 0): Uint8Array {
    withDoubleOk(body);
    this.#gossip(body);
    return encodeReply(this.#writer, responseTo, body, flagBits);
  }


  #reply(
    responseTo: number,
    documents: Document[],
    options: { cursorId?: bigint; startingFrom?: number; flags?: number } = {},
  ): Uint8Array {
    const fields = {
      requestId: nextRequestId(),
      responseTo,
      responseFlags: options.flags ?? AWAIT_CAPABLE,
      cursorId: options.cursorId ?? 0n,
      startingFrom: options.startingFrom ?? 0,
    };
    for (const d of documents) if (!("$err" in d) && d.ok !== undefined) withDoubleOk(d);
    try {
      return encodeOpReply(this.#writer, { ...fields, documents });
    } catch (e) {
      const f = toFailure(e);
      return encodeOpReply(this.#writer, {
        ...fields,
        cursorId: 0n,
        responseFlags: 2 | AWAIT_CAPABLE,
        documents: [{ $err: f.errmsg, code: f.code }],
      });
    }
  }

  // The check mongod makes before a command that reads or writes data.
  #stateError(command: string, secondaryOk: boolean): Document | null {
    const legacyText = this.maxWireVersion < 13;
    const st = this.#state;
    if (WRITE_COMMANDS.has(command)) {
      if (st === "PRIMARY") return null;
      return this.#withTopologyVersion({
        ok: 0,
        errmsg: legacyText ? "not master" : "not primary",
        code: ErrorCode.NotWritablePrimary,
        codeName: "NotWritablePrimary",
      });
    }
    if (READ_COMMANDS.has(command)) {
      if (st === "PRIMARY" || (st === "SECONDARY" && secondaryOk)) return null;
      if (!secondaryOk) {
        return this.#withTopologyVersion({
          ok: 0,
          errmsg: legacyText ? "not master and slaveOk=false" : "not primary and secondaryOk=false",
          code: ErrorCode.NotPrimaryNoSecondaryOk,
          codeName: "NotPrimaryNoSecondaryOk",
        });
      }
      return this.#withTopologyVersion({
        ok: 0,
        errmsg: legacyText
          ? "not master or secondary; cannot currently read from this replSet member"
          : "node is not in primary or recovering state",
        code: ErrorCode.NotPrimaryOrSecondary,
        codeName: "NotPrimaryOrSecondary",
      });
    }
    return null;
  }

  #session(state: ConnectionState): SaslSession {
    let session = this.#sessions.get(state);
    if (session === undefined) {
      session = new SaslSession();
      this.#sessions.set(state, session);
    }
    return session;
  }

  // mongod looks a command up first (unknown: CommandNotFound), then asks for authentication.
  #needsAuthentication(state: ConnectionState, name: string): boolean {
    if (this.#set.auth() === null || state.router === true || UNAUTHENTICATED_COMMANDS.has(name) || !isCommand(name)) return false;
    return !this.#session(state).authenticated;
  }

  // The handshake's authentication fields: the user's mechanisms, and the
  // answer to a first SCRAM step carried along (left out when it fails).
  #authHello(state: ConnectionState, body: Document, reply: Document): void {
    const auth = this.#set.auth();
    if (auth === null) return;
    const fields: Document = {};
    const mechs = auth.supportedMechanisms(body.saslSupportedMechs, this.maxWireVersion);
    if (mechs !== undefined) fields.saslSupportedMechs = mechs;
    if (body.speculativeAuthenticate !== undefined) {
      const answer = auth.speculative(this.#session(state), body.speculativeAuthenticate, this.maxWireVersion);
      if (answer !== undefined) fields.speculativeAuthenticate = answer;
    }
    if (Object.keys(fields).length === 0) return;
    // mongod keeps `ok` last.
    const ok = reply.ok;
    delete reply.ok;
    Object.assign(reply, fields, { ok });
  }

  #withTopologyVersion(reply: Document): Document {
    if (this.maxWireVersion >= 9) {
      reply.topologyVersion = { processId: this.#process.processId, counter: new Int64(this.#process.counter) };
    }
    return reply;
  }

  async #command(
    state: ConnectionState,
    db: string,
    name: string,
    body: Document,
    secondaryOk: boolean,
  ): Promise<Document | null> {
    if (HANDSHAKES.has(name) && state.appName === undefined && isPlainDocument(body.client)) {
      const app = body.client.application;
      if (isPlainDocument(app) && typeof app.name === "string") state.appName = app.name;
    }
    // failCommand applies to every command a client sends, authentication included.
    const known = isCommand(name) || name === "saslStart" || name === "saslContinue";
    const failed = known ? this.failPoints.evaluate(name, state.appName) : undefined;
    if (failed !== undefined) {
      if (failed.blockTimeMS > 0) await this.#set.timers.sleep(failed.blockTimeMS);
      if (failed.closeConnection) return null;
      // mongod's failCommand fires before a getMore checks its cursor out: no ResumableChangeStreamError label.
      if (failed.errorCode !== undefined) return failedReply(failed, body);
    }
    if (name === "saslStart" || name === "saslContinue") {
      const auth = this.#set.auth() ?? NO_USERS;
      const session = this.#session(state);
      return name === "saslStart"
        ? auth.saslStart(session, db, body, { wire: this.maxWireVersion })
        : await auth.saslContinue(session, body);
    }
    if (this.#needsAuthentication(state, name)) return unauthorized(name);
    this.localSessions.touch(body.lsid);
    const reply = await this.#sessionCommand(state, db, name, body, secondaryOk);
    if (reply === null) return null;
    if (failed !== undefined && reply.ok === 1) addWriteConcernError(reply, failed, body);
    labelReply(name, body, reply, this.maxWireVersion);
    return reply;
  }

  // A command past failCommand and authentication.
  async #sessionCommand(
    state: ConnectionState,
    db: string,
    name: string,
    body: Document,
    secondaryOk: boolean,
  ): Promise<Document | null> {
    const refused = this.#stateError(name, secondaryOk) ?? this.#set.refuse?.(this, name, body) ?? null;
    if (refused !== null) return refused;
    const rc = body.readConcern;
    if (READ_COMMANDS.has(name) && isPlainDocument(rc) && rc.afterClusterTime instanceof Timestamp) {
      // A causally consistent read waits until this member has caught up.
      const maxTimeMS = Number(numericValue(body.maxTimeMS) ?? 0);
      if (!(await this.#set.waitForApplied(this, rc.afterClusterTime, maxTimeMS))) {
        return { ok: 0, errmsg: "operation exceeded time limit", code: ErrorCode.MaxTimeMSExpired, codeName: "MaxTimeMSExpired" };
      }
      if (this.#stateError(name, secondaryOk) !== null) return this.#stateError(name, secondaryOk)!;
    }
    const reply = await this.transactions.run({ host: this, db, name, body, conn: state }, runCommand);
    if (reply === null) return null; // onPrimaryTransactionalWrite closed the connection
    if (HANDSHAKES.has(name) && reply.ok === 1) this.#authHello(state, body, reply);
    const writes = WRITE_COMMANDS.has(name) || endsTransaction(name) || (name === "aggregate" && aggregateWrites(body));
    if (writes && reply.ok === 1 && Transactions.waitsForWriteConcern(name, body)) {
      // A secondary's $out/$merge wrote through the primary: the write concern is the primary's to wait for.
      const writer = this.state === "PRIMARY" ? this : this.primaryHost() ?? this;
      const failure = await this.#set.waitForWriteConcern(writer, body.writeConcern);
      if (failure !== null) reply.writeConcernError = failure;
    }
    return reply;
  }

  async #onMsg(conn: ListenerConnection, state: ConnectionState, msg: OpMsg): Promise<boolean> {
    const body: Document = { ...msg.body };
    for (const seq of msg.sequences) body[seq.identifier] = seq.documents;
    const name = Object.keys(msg.body)[0] ?? "";
    const db = typeof body.$db === "string" ? body.$db : "";
    const rp = isPlainDocument(body.$readPreference) ? body.$readPreference : undefined;
    const secondaryOk = rp !== undefined && rp.mode !== "primary";
    this.#record(OP_MSG, msg.requestId, msg.flagBits, db, `${db}.$cmd`, name, body, rp, secondaryOk, state);
    const fault = await this.#fault(name);
    if (fault === "close") return false;
    if (fault === "drop") return true;
    if (fault === "garbage") return await sendMessage(conn, this.#garbage(msg.requestId));
    const noReply = (msg.flagBits & MsgFlags.moreToCome) !== 0;
    let reply: Document;
    if (body.$db === undefined) {
      reply = { ok: 0, errmsg: "OP_MSG requests require a $db argument", code: 40571, codeName: "Location40571" };
    } else if (typeof body.$db !== "string") {
      reply = { ok: 0, errmsg: "$db is not a string", code: ErrorCode.TypeMismatch, codeName: "TypeMismatch" };
    } else if (HANDSHAKES.has(name) && body.maxAwaitTimeMS !== undefined && isPlainDocument(body.topologyVersion)) {
      return await this.#awaitableHello(conn, state, msg, name, body);
    } else {
      const answer = await this.#command(state, db, name, body, secondaryOk);
      if (answer === null) return false;
      reply = answer;
    }
    if (noReply) return true;
    if (!this.alive) return false;
    return await sendMessage(conn, this.#msg(msg.requestId, reply));
  }

  // Streaming monitoring (4.4+): answer when the topology changes or after
  // maxAwaitTimeMS; with exhaustAllowed keep answering with moreToCome.
  async #awaitableHello(
    conn: ListenerConnection,
    state: ConnectionState,
    msg: OpMsg,
    name: string,
    body: Document,
  ): Promise<boolean> {
    const legacy = name !== "hello";
    const wait = Math.max(0, Number(numericValue(body.maxAwaitTimeMS) ?? 0));
    const tv = body.topologyVersion as Document;
    const exhaust = (msg.flagBits & MsgFlags.exhaustAllowed) !== 0;
    let sameProcess = tv.processId instanceof ObjectId && tv.processId.equals(this.#process.processId);
    let counter = numericValue(tv.counter);
    for (;;) {
      if (sameProcess && counter !== undefined && BigInt(counter) === this.#process.counter) {
        const changed = this.#process.changed;
        await this.#set.timers.race(changed, wait);
      }
      if (!this.alive) return false;
      // A member told to hang goes silent on its streaming monitors too.
      if (this.#faults.hang === true && this.#matchesFault(name)) return true;
      // Each streamed answer is a hello run on the server, subject to failCommand.
      const failed = this.failPoints.evaluate(name, state.appName);
      if (failed !== undefined) {
        if (failed.blockTimeMS > 0) await this.#set.timers.sleep(failed.blockTimeMS);
        if (failed.closeConnection || !this.alive) return false;
        if (failed.errorCode !== undefined) return await sendMessage(conn, this.#msg(msg.requestId, failedReply(failed, body)));
      }
      const reply = this.hello(legacy, body, state.id);
      const ok = await sendMessage(conn, this.#msg(msg.requestId, reply, exhaust ? MsgFlags.moreToCome : 0));
      if (!ok || !exhaust) return ok;
      sameProcess = true;
      counter = this.#process.counter;
    }
  }

  async #onQuery(conn: ListenerConnection, state: ConnectionState, msg: OpQuery, wire: number): Promise<boolean> {
    const [db, coll] = splitNamespace(msg.fullCollectionName);
    const secondaryOk = (msg.flags & QueryFlags.SecondaryOk) !== 0;
    let query = msg.query;
    let rp: Document | undefined;
    // The mongos form wraps a command as {$query: cmd, $readPreference: ...}.
    if (isPlainDocument(query.$readPreference)) rp = query.$readPreference;
    if (coll === "$cmd" && isPlainDocument(query.$query)) query = query.$query;
    if (coll === "$cmd") {
      const name = Object.keys(query)[0] ?? "";
      this.#record(
        OP_QUERY,
        msg.requestId,
        msg.flags,
        db,
        msg.fullCollectionName,
        name,
        query,
        rp,
        secondaryOk,
        state,
      );
      const fault = await this.#fault(name);
      if (fault === "close") return false;
      if (fault === "drop") return true;
      if (fault === "garbage") return await sendMessage(conn, this.#garbage(msg.requestId));
      let reply: Document;
      if (wire >= 14 && !HANDSHAKES.has(name)) {
        reply = {
          ok: 0,
          errmsg: `Unsupported OP_QUERY command: ${name}. ${LEGACY_OPCODE_MESSAGE}`,
          code: 352,
          codeName: "UnsupportedOpQueryCommand",
        };
      } else {
        const answer = await this.#command(state, db, name, query, secondaryOk);
        if (answer === null) return false;
        reply = answer;
      }
      if (!this.alive) return false;
      withDoubleOk(reply);
      this.#gossip(reply);
      return await sendMessage(conn, this.#reply(msg.requestId, [reply]));
    }
    this.#record(
      OP_QUERY,
      msg.requestId,
      msg.flags,
      db,
      msg.fullCollectionName,
      "find",
      query,
      rp,
      secondaryOk,
      state,
    );
    const fault = await this.#fault("find");
    if (fault === "close") return false;
    if (fault === "drop") return true;
    if (fault === "garbage") return await sendMessage(conn, this.#garbage(msg.requestId));
    return await sendMessage(conn, this.#legacyFind(state, msg, wire, secondaryOk));
  }

  #queryFailure(responseTo: number, errmsg: string, code: number): Uint8Array {
    return this.#reply(responseTo, [{ $err: errmsg, code }], { flags: 2 | AWAIT_CAPABLE });
  }

  #legacyFind(state: ConnectionState, msg: OpQuery, wire: number, secondaryOk: boolean): Uint8Array {
    if (wire >= 14) {
      return this.#queryFailure(msg.requestId, `Unsupported OP_QUERY command: find. ${LEGACY_OPCODE_MESSAGE}`, 352);
    }
    if (this.#needsAuthentication(state, "find")) {
      return this.#queryFailure(msg.requestId, unauthorized("find").errmsg as string, 13);
    }
    const refused = this.#stateError("find", secondaryOk);
    if (refused !== null) return this.#queryFailure(msg.requestId, refused.errmsg as string, refused.code as number);
    const q = msg.query;
    const modifiers = isPlainDocument(q.$query) || q.$orderby !== undefined;
    const filter = modifiers ? (isPlainDocument(q.$query) ? q.$query : {}) : q;
    const sort = modifiers && isPlainDocument(q.$orderby) ? q.$orderby : undefined;
    try {
      let docs = this.store.documents(msg.fullCollectionName).filter((d) => matches(d, filter));
      sortDocuments(docs, sort);
      docs = docs.slice(Math.max(0, msg.numberToSkip)).map((d) => project(cloneValue(d), msg.returnFieldsSelector));
      let n = msg.numberToReturn;
      let single = false;
      if (n < 0 || n === 1) {
        n = Math.abs(n);
        single = true;
      }
      const { batch, id } = this.cursors.open(msg.fullCollectionName, docs, {
        batchSize: n === 0 ? undefined : n,
        singleBatch: single,
      });
      return this.#reply(msg.requestId, batch, { cursorId: id });
    } catch (e) {
      const f = toFailure(e);
      return this.#queryFailure(msg.requestId, f.errmsg, f.code);
    }
  }

  async #onGetMore(conn: ListenerConnection, state: ConnectionState, msg: OpGetMore, wire: number): Promise<boolean> {
    const [db] = splitNamespace(msg.fullCollectionName);
    this.#record(
      OP_GET_MORE,
      msg.requestId,
      0,
      db,
      msg.fullCollectionName,
      "getMore",
      { getMore: new Int64(msg.cursorId), numberToReturn: new Int32(msg.numberToReturn) },
      undefined,
      false,
      state,
    );
    const fault = await this.#fault("getMore");
    if (fault === "close") return false;
    if (fault === "drop") return true;
    if (fault === "garbage") return await sendMessage(conn, this.#garbage(msg.requestId));
    if (wire >= 14) {
      return await sendMessage(
        conn,
        this.#queryFailure(msg.requestId, `Unsupported OP_GET_MORE. ${LEGACY_OPCODE_MESSAGE}`, 5739101),
      );
    }
    if (this.#needsAuthentication(state, "getMore")) {
      return await sendMessage(conn, this.#queryFailure(msg.requestId, unauthorized("getMore").errmsg as string, 13));
    }
    try {
      const r = this.cursors.next(msg.cursorId, msg.numberToReturn, msg.fullCollectionName);
      return await sendMessage(
        conn,
        this.#reply(msg.requestId, r.batch, { cursorId: r.id, startingFrom: r.startingFrom }),
      );
    } catch {
      return await sendMessage(conn, this.#reply(msg.requestId, [], { flags: 1 | AWAIT_CAPABLE }));
    }
  }

  // OP_INSERT/OP_UPDATE/OP_DELETE: no reply; the outcome waits for getLastError.
  // 3.6+ still accepted them; 5.1+ closes the connection.
  async #onLegacyWrite(
    state: ConnectionState,
    frame: Uint8Array,
    opCode: number,
    requestId: number,
    wire: number,
  ): Promise<boolean> {
    let write;
    try {
      write = decodeLegacyWrite(frame);
    } catch {
      this.#record(opCode, requestId, 0, "", "", OP_NAMES[opCode], {}, undefined, false, state);
      return false;
    }
    const [db] = splitNamespace(write.ns);
    this.#record(opCode, requestId, 0, db, write.ns, write.command, write.body, undefined, false, state);
    if (wire >= 14) return false;
    const fault = await this.#fault(write.command);
    if (fault === "close") return false;
    if (fault !== "ok") return true;
    const reply = await this.#command(state, db, write.command, { ...write.body, writeConcern: { w: 1 } }, false);
    if (reply === null) return false;
    if (reply.ok !== 1) {
      state.lastError = { n: 0, err: reply.errmsg, code: reply.code, codeName: reply.codeName, ok: 1 };
    }
    return true;
  }

  #onKillCursors(state: ConnectionState, msg: OpKillCursors, wire: number): boolean {
    this.#record(
      OP_KILL_CURSORS,
      msg.requestId,
      0,
      "",
      "",
      "killCursors",
      { killCursors: msg.cursorIds.map((id) => new Int64(id)) },
      undefined,
      false,
      state,
    );
    if (wire >= 14) return false;
    // No reply to refuse with: an unauthenticated OP_KILL_CURSORS kills nothing.
    if (this.#needsAuthentication(state, "killCursors")) return true;
    for (const id of msg.cursorIds) this.cursors.kill(id);
    return true;
  }
}
