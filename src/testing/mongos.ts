/**
 * One simulated `mongos`: a router on a loopback port in front of the
 * shard (a simulated replica set in the same process). It answers the
 * handshake as mongos does (`msg: "isdbgrid"`, no set name), authenticates
 * clients itself, and routes every other command to a shard member through
 * that member's in-process entry: writes and commands to the primary, reads
 * by the `$readPreference` they carry. Where mongos differs from mongod it
 * answers as mongos: its own fail points (a `configureFailPoint` sent to it
 * affects only commands through it), its own cursor ids, the
 * `recoveryToken` on every reply inside a transaction, and
 * NoSuchTransaction for a commit or abort of a transaction it never routed
 * that came without a token.
 *
 * @module
 */
import { type Document, Double, Int32, Int64, ObjectId } from "../bson/mod.ts";
import { ByteWriter } from "../bson/mod.ts";
import {
  decodeMessage,
  encodeOpReply,
  MsgFlags,
  nextRequestId,
  OP_MSG,
  OP_NAMES,
  OP_QUERY,
  type OpMsg,
  type OpQuery,
} from "../wire/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import type { ListenerConnection } from "./listener.ts";
import { encodeReply, sendMessage, serveMessages, ServerProcess } from "./_server_process.ts";
import { type ConnectionState, READ_COMMANDS, versionForWire } from "./commands.ts";
import type { RequestLogEntry, SimulatedMember } from "./member.ts";
import { isPlainDocument, numericValue } from "./query.ts";
import { splitNamespace } from "./store.ts";
import { addWriteConcernError, type FailCommandAction, failedReply, FailPoints } from "./fail_points.ts";
import { endsTransaction, labelReply } from "./_error_labels.ts";
import { toFailure } from "./_server_error.ts";
import { Authenticator, SaslSession, UNAUTHENTICATED_COMMANDS, unauthorized } from "./_scram.ts";
import type { Timers } from "./_timers.ts";
import { MongosCursors } from "./_mongos_cursors.ts";
import { MongosTransactions } from "./_mongos_transactions.ts";

/**
 * A running simulated mongos, as {@linkcode ShardedCluster.mongoses} lists it.
 *
 * @example
 * ```ts ignore
 * import { startShardedCluster } from "@zerodep/mongo/testing";
 *
 * await using cluster = await startShardedCluster({ mongoses: 2 });
 * const [first] = cluster.mongoses;
 * console.log(first.host, first.alive); // 127.0.0.1:40001 true
 * ```
 */
export interface Mongos {
  /** Its position in the cluster's list. */
  readonly index: number;
  /** `"hostname:port"`. */
  readonly host: string;
  /** The listening port. */
  readonly port: number;
  /** Whether it is listening. */
  readonly alive: boolean;
  /** The maxWireVersion it reports. */
  readonly maxWireVersion: number;
  /** The requests it received (the shard members log what it routed to them too). */
  readonly requests: readonly RequestLogEntry[];
}

/** The shard a mongos routes to: its replica-set name and its members, in process. */
export interface ShardRoute {
  /** The shard's id, as recovery tokens name it. */
  readonly name: string;
  /** The shard's members. */
  members(): readonly SimulatedMember[];
  /** The cluster's users, or null when it runs without authentication. */
  auth(): Authenticator | null;
  /** Timers cut short when the cluster closes. */
  readonly timers: Timers;
}

/** Options of a new {@linkcode SimulatedMongos}. */
export interface SimulatedMongosOptions {
  index: number;
  hostname: string;
  port: number;
  maxWireVersion: number;
  shard: ShardRoute;
  /** How long a command waits for a member its read preference accepts (default 5000 ms). */
  selectionTimeoutMS?: number;
}

interface MongosConnection extends ConnectionState {
  sasl: SaslSession;
  /** This connection's own connection to the shard. */
  shard: ConnectionState;
}

const HANDSHAKES = new Set(["hello", "isMaster", "ismaster"]);
// Commands mongos answers itself rather than routing to the shard.
const LOCAL = new Set([
  "hello",
  "isMaster",
  "ismaster",
  "ping",
  "buildInfo",
  "buildinfo",
  "serverStatus",
  "configureFailPoint",
  "getMore",
  "killCursors",
  "endSessions",
  "killSessions",
  "killAllSessions",
  "whatsmyuri",
]);

function failure(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

/** One simulated mongos; see the module doc. Created and started by `ShardedCluster`. */
export class SimulatedMongos implements Mongos {
  readonly index: number;
  readonly hostname: string;
  readonly #process: ServerProcess;
  #wire: number;
  #shard: ShardRoute;
  #selectionTimeoutMS: number;
  #writer = new ByteWriter(1024);
  #clusterTime: Document | undefined;
  #operationTime: unknown;
  /** The fail points set by `configureFailPoint` on this mongos (they affect only commands through it). */
  readonly failPoints: FailPoints = new FailPoints();
  readonly #cursors = new MongosCursors<SimulatedMember>();
  readonly #transactions: MongosTransactions;

  /** Creates a stopped mongos; call `start()`. */
  constructor(options: SimulatedMongosOptions) {
    this.index = options.index;
    this.hostname = options.hostname;
    this.#process = new ServerProcess(options.hostname, options.port);
    this.#wire = options.maxWireVersion;
    this.#shard = options.shard;
    this.#selectionTimeoutMS = options.selectionTimeoutMS ?? 5000;
    this.#transactions = new MongosTransactions(options.shard.name);
  }

  /** `"hostname:port"`. */
  get host(): string {
    return `${this.hostname}:${this.#process.port}`;
  }

  /** The listening port. */
  get port(): number {
    return this.#process.port;
  }

  /** Whether it is listening. */
  get alive(): boolean {
    return this.#process.alive;
  }

  /** The maxWireVersion it reports. */
  get maxWireVersion(): number {
    return this.#wire;
  }

  /** The request log. */
  get requests(): readonly RequestLogEntry[] {
    return this.#process.requests;
  }

  /** Empties the request log. */
  clearLog(): void {
    this.#process.clearLog();
  }

  /** Starts listening (on the same port as before after a restart). */
  async start(): Promise<void> {
    await this.#process.start((conn) => this.#serve(conn));
  }

  /** Stops listening and drops every connection, as a killed process would; it forgets its cursors and fail points. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.#cursors.clear();
    this.failPoints.clear();
    this.#transactions.forget();
    await this.#process.stop(); // wakes awaitable hellos so they end
  }

  /** The hello / isMaster reply of a mongos. */
  hello(legacy: boolean, body: Document, connectionId: number): Document {
    const wire = this.#wire;
    const doc: Document = {};
    doc[legacy ? "ismaster" : "isWritablePrimary"] = true;
    if (wire >= 9) doc.topologyVersion = { processId: this.#process.processId, counter: new Int64(this.#process.counter) };
    doc.msg = "isdbgrid";
    doc.maxBsonObjectSize = 16777216;
    doc.maxMessageSizeBytes = 48000000;
    doc.maxWriteBatchSize = wire >= 6 ? 100000 : 1000;
    doc.localTime = new Date();
    if (wire >= 6) doc.logicalSessionTimeoutMinutes = 30;
    doc.connectionId = connectionId;
    doc.maxWireVersion = wire;
    doc.minWireVersion = 0;
    if (wire >= 13 && body.helloOk !== undefined && body.helloOk !== false) doc.helloOk = true;
    doc.ok = 1;
    return doc;
  }

  // ---- serving ------------------------------------------------------------

  async #serve(conn: ListenerConnection): Promise<void> {
    const id = this.#process.nextConnectionId();
    const state: MongosConnection = {
      id,
      peer: `127.0.0.1:${51000 + id}`,
      sasl: new SaslSession(),
      shard: { id, peer: `${this.host}`, router: true },
    };
    await serveMessages(conn, () => this.alive, (frame) => this.#handle(conn, state, frame));
  }

  // Returns false when the connection must be closed. The mongos speaks OP_MSG, and OP_QUERY for the handshake.
  async #handle(conn: ListenerConnection, state: MongosConnection, frame: Uint8Array): Promise<boolean> {
    let msg;
    try {
      msg = decodeMessage(frame, { bson: { promoteValues: false } });
    } catch {
      return false;
    }
    if (msg.opCode === OP_MSG) return await this.#onMsg(conn, state, msg);
    if (msg.opCode === OP_QUERY) return await this.#onQuery(conn, state, msg);
    return false;
  }

  #record(opCode: number, requestId: number, flags: number, db: string, name: string, body: Document, state: MongosConnection): void {
    const rp = isPlainDocument(body.$readPreference) ? body.$readPreference : undefined;
    const entry: RequestLogEntry = {
      opCode,
      opName: OP_NAMES[opCode] ?? `opCode ${opCode}`,
      requestId,
      flags,
      db,
      ns: `${db}.$cmd`,
      command: name,
      body,
      secondaryOk: rp !== undefined && rp.mode !== "primary",
      connectionId: state.id,
      at: Date.now(),
    };
    if (rp !== undefined) entry.readPreference = rp;
    this.#process.record(entry);
  }

  async #onMsg(conn: ListenerConnection, state: MongosConnection, msg: OpMsg): Promise<boolean> {
    const body: Document = { ...msg.body };
    for (const seq of msg.sequences) body[seq.identifier] = seq.documents;
    const name = Object.keys(msg.body)[0] ?? "";
    const db = typeof body.$db === "string" ? body.$db : "";
    this.#record(OP_MSG, msg.requestId, msg.flagBits, db, name, body, state);
    let reply: Document;
    if (typeof body.$db !== "string") {
      reply = failure(40571, "Location40571", "OP_MSG requests require a $db argument");
    } else if (HANDSHAKES.has(name) && body.maxAwaitTimeMS !== undefined && isPlainDocument(body.topologyVersion)) {
      return await this.#awaitableHello(conn, state, msg, name, body);
    } else {
      const answer = await this.#command(state, db, name, body);
      if (answer === null) return false;
      reply = answer;
    }
    if ((msg.flagBits & MsgFlags.moreToCome) !== 0) return true;
    if (!this.alive) return false;
    return await sendMessage(conn, this.#msg(msg.requestId, reply));
  }

  async #onQuery(conn: ListenerConnection, state: MongosConnection, msg: OpQuery): Promise<boolean> {
    const [db, coll] = splitNamespace(msg.fullCollectionName);
    let query = msg.query;
    if (coll === "$cmd" && isPlainDocument(query.$query)) query = query.$query;
    const name = Object.keys(query)[0] ?? "";
    this.#record(OP_QUERY, msg.requestId, msg.flags, db, coll === "$cmd" ? name : "find", query, state);
    let reply: Document;
    if (coll !== "$cmd" || !HANDSHAKES.has(name)) {
      reply = failure(352, "UnsupportedOpQueryCommand", `Unsupported OP_QUERY command: ${name}`);
    } else {
      const answer = await this.#command(state, db, name, query);
      if (answer === null) return false;
      reply = answer;
    }
    if (!this.alive) return false;
    this.#finish(reply);
    const bytes = encodeOpReply(this.#writer, {
      requestId: nextRequestId(),
      responseTo: msg.requestId,
      responseFlags: 8,
      cursorId: 0n,
      startingFrom: 0,
      documents: [reply],
    });
    return await sendMessage(conn, bytes);
  }

  // Streaming monitoring (4.4+): an answer when the mongos changes or after maxAwaitTimeMS.
  async #awaitableHello(
    conn: ListenerConnection,
    state: MongosConnection,
    msg: OpMsg,
    name: string,
    body: Document,
  ): Promise<boolean> {
    const wait = Math.max(0, Number(numericValue(body.maxAwaitTimeMS) ?? 0));
    const tv = body.topologyVersion as Document;
    const exhaust = (msg.flagBits & MsgFlags.exhaustAllowed) !== 0;
    let current = tv.processId instanceof ObjectId && tv.processId.equals(this.#process.processId) &&
      BigInt(numericValue(tv.counter) ?? -1) === this.#process.counter;
    for (;;) {
      if (current) await this.#shard.timers.race(this.#process.changed, wait);
      if (!this.alive) return false;
      const failed = this.failPoints.evaluate(name, state.appName);
      if (failed !== undefined) {
        if (failed.blockTimeMS > 0) await this.#shard.timers.sleep(failed.blockTimeMS);
        if (failed.closeConnection || !this.alive) return false;
        if (failed.errorCode !== undefined) return await sendMessage(conn, this.#msg(msg.requestId, failedReply(failed, body)));
      }
      const reply = this.hello(name !== "hello", body, state.id);
      const sent = await sendMessage(conn, this.#msg(msg.requestId, reply, exhaust ? MsgFlags.moreToCome : 0));
      if (!sent || !exhaust) return sent;
      current = true;
    }
  }

  // mongos sends `ok` as a double and gossips the cluster time it has seen.
  #finish(reply: Document): void {
    if (typeof reply.ok === "number") reply.ok = new Double(reply.ok);
    if (this.#wire < 6 || this.#clusterTime === undefined) return;
    if (reply.$clusterTime === undefined) reply.$clusterTime = this.#clusterTime;
    if (reply.operationTime === undefined && this.#operationTime !== undefined) reply.operationTime = this.#operationTime;
  }

  #msg(responseTo: number, body: Document, flagBits = 0): Uint8Array {
    this.#finish(body);
    return encodeReply(this.#writer, responseTo, body, flagBits);
  }


  // ---- commands -----------------------------------------------------------

  async #command(state: MongosConnection, db: string, name: string, body: Document): Promise<Document | null> {
    if (HANDSHAKES.has(name) && state.appName === undefined && isPlainDocument(body.client)) {
      const app = body.client.application;
      if (isPlainDocument(app) && typeof app.name === "string") state.appName = app.name;
    }
    const failed = this.failPoints.evaluate(name, state.appName);
    if (failed !== undefined) {
      if (failed.blockTimeMS > 0) await this.#shard.timers.sleep(failed.blockTimeMS);
      if (failed.closeConnection) return null;
      if (failed.errorCode !== undefined) {
        const reply = failedReply(failed, body);
        this.#withoutNewLabels(reply, failed);
        this.#transactions.addRecoveryToken(body, reply);
        return reply;
      }
    }
    const auth = this.#shard.auth();
    if (name === "saslStart" || name === "saslContinue") {
      const users = auth ?? new Authenticator([]);
      return name === "saslStart"
        ? users.saslStart(state.sasl, db, body, { wire: this.#wire })
        : await users.saslContinue(state.sasl, body);
    }
    if (auth !== null && !UNAUTHENTICATED_COMMANDS.has(name) && !state.sasl.authenticated) return unauthorized(name);
    const reply = await this.#dispatch(state, db, name, body);
    if (reply === null) return null;
    if (HANDSHAKES.has(name) && reply.ok === 1) this.#authHello(state, body, reply);
    if (failed !== undefined && Number(reply.ok) === 1) {
      addWriteConcernError(reply, failed, body);
      this.#withoutNewLabels(reply, failed);
    }
    labelReply(name, body, reply, this.#wire);
    this.#transactions.addRecoveryToken(body, reply);
    return reply;
  }

  // A mongos before 4.4 adds no RetryableWriteError (only labels a fail point names itself).
  #withoutNewLabels(reply: Document, failed: FailCommandAction): void {
    if (this.#wire >= 9 || failed.errorLabels !== undefined || !Array.isArray(reply.errorLabels)) return;
    const labels = reply.errorLabels.filter((l) => l !== "RetryableWriteError");
    if (labels.length > 0) reply.errorLabels = labels;
    else delete reply.errorLabels;
  }

  // The handshake's authentication fields, as a mongod's.
  #authHello(state: MongosConnection, body: Document, reply: Document): void {
    const auth = this.#shard.auth();
    if (auth === null) return;
    const fields: Document = {};
    const mechs = auth.supportedMechanisms(body.saslSupportedMechs, this.#wire);
    if (mechs !== undefined) fields.saslSupportedMechs = mechs;
    if (body.speculativeAuthenticate !== undefined) {
      const answer = auth.speculative(state.sasl, body.speculativeAuthenticate, this.#wire);
      if (answer !== undefined) fields.speculativeAuthenticate = answer;
    }
    const ok = reply.ok;
    delete reply.ok;
    Object.assign(reply, fields, { ok });
  }

  async #dispatch(state: MongosConnection, db: string, name: string, body: Document): Promise<Document | null> {
    try {
      if (!LOCAL.has(name)) {
        if (endsTransaction(name)) {
          const refused = this.#transactions.refuseEnd(name, body) ??
            this.#transactions.refuseRecovery(name, body, (key, txn) => this.#committed(key, txn));
          if (refused !== undefined) return refused;
        }
        return await this.#route(state, db, name, body);
      }
      switch (name) {
        case "hello":
        case "isMaster":
        case "ismaster":
          if (name === "hello" && this.#wire < 13) return failure(59, "CommandNotFound", "no such command: 'hello'");
          return this.hello(name !== "hello", body, state.id);
        case "ping":
          return { ok: 1 };
        case "whatsmyuri":
          return { you: state.peer, ok: 1 };
        case "buildInfo":
        case "buildinfo": {
          const version = versionForWire(this.#wire);
          return { version, versionArray: [...version.split(".").map(Number), 0], bits: 64, maxBsonObjectSize: 16777216, ok: 1 };
        }
        case "serverStatus":
          return this.#serverStatus();
        case "configureFailPoint":
          if (db !== "admin") return failure(13, "Unauthorized", "configureFailPoint may only be run against the admin database.");
          return this.failPoints.configure(body);
        case "getMore":
          return await this.#getMore(state, db, body);
        case "killCursors":
          return await this.#killCursors(state, db, body);
        default: // endSessions, killSessions, killAllSessions: every member of the shard
          if (name !== "endSessions") this.#transactions.forget(name === "killSessions" ? body.killSessions : undefined);
          for (const m of this.#shard.members()) if (m.alive) await m.route(state.shard, db, name, body, true);
          return { ok: 1 };
      }
    } catch (e) {
      const f = toFailure(e);
      return { ok: 0, errmsg: f.errmsg, code: new Int32(f.code), codeName: f.codeName, ...f.extra };
    }
  }

  // Whether a member of the shard has transaction `txnNumber` of the session `key` committed (the replicated table).
  #committed(key: string, txnNumber: bigint): boolean {
    return this.#shard.members().some((m) => {
      const row = m.store.sessions.get(key);
      return row !== undefined && row.txnNumber === txnNumber && row.committed;
    });
  }

  #serverStatus(): Document {
    const now = Date.now();
    return {
      host: this.host,
      version: versionForWire(this.#wire),
      process: "mongos",
      pid: new Int64(BigInt(this.#process.port)),
      uptime: (now - this.#process.startedAt) / 1000,
      uptimeMillis: new Int64(BigInt(now - this.#process.startedAt)),
      localTime: new Date(now),
      connections: { current: this.#process.connectionCount, available: 838860, totalCreated: this.#process.connectionsCreated },
      ok: 1,
    };
  }

  // A command for the shard: to the member its read preference picks (the primary for anything but a read).
  async #route(state: MongosConnection, db: string, name: string, body: Document): Promise<Document | null> {
    const rp = isPlainDocument(body.$readPreference) ? body.$readPreference : undefined;
    const mode = READ_COMMANDS.has(name) && body.autocommit === undefined && typeof rp?.mode === "string"
      ? rp.mode
      : "primary";
    const member = await this.#select(mode, body);
    if (member === undefined) {
      return failure(
        133,
        "FailedToSatisfyReadPreference",
        `Could not find host matching read preference { mode: "${mode}" } for set ${this.#shard.name}`,
      );
    }
    const reply = await this.#forward(state, member, db, name, body, mode !== "primary");
    if (Number(reply.ok) === 1) this.#cursors.adopt(reply, member);
    if (body.autocommit !== undefined) this.#transactions.note(body);
    return reply;
  }

  // A member's reply, or mongos's error when the connection to it failed.
  async #forward(
    state: MongosConnection,
    member: SimulatedMember,
    db: string,
    name: string,
    body: Document,
    secondaryOk: boolean,
  ): Promise<Document> {
    const reply = await member.route(state.shard, db, name, { ...body }, secondaryOk);
    if (reply === null) {
      return failure(ErrorCode.HostUnreachable, "HostUnreachable", `Connection to ${member.host} was closed`);
    }
    if (isPlainDocument(reply.$clusterTime)) this.#clusterTime = reply.$clusterTime;
    if (reply.operationTime !== undefined) this.#operationTime = reply.operationTime;
    return reply;
  }

  // The member a read preference mode picks, waiting a while for one to appear.
  async #select(mode: string, body: Document): Promise<SimulatedMember | undefined> {
    const maxTimeMS = Number(numericValue(body.maxTimeMS) ?? 0);
    const deadline = Date.now() + (maxTimeMS > 0 ? Math.min(maxTimeMS, this.#selectionTimeoutMS) : this.#selectionTimeoutMS);
    for (;;) {
      const members = this.#shard.members().filter((m) => m.alive);
      const primary = members.find((m) => m.state === "PRIMARY");
      const secondaries = members.filter((m) => m.state === "SECONDARY");
      const any = <T>(list: T[]): T | undefined => list[Math.floor(Math.random() * list.length)];
      let pick: SimulatedMember | undefined;
      switch (mode) {
        case "secondary":
          pick = any(secondaries);
          break;
        case "secondaryPreferred":
          pick = any(secondaries) ?? primary;
          break;
        case "primaryPreferred":
          pick = primary ?? any(secondaries);
          break;
        case "nearest":
          pick = any(primary === undefined ? secondaries : [primary, ...secondaries]);
          break;
        default:
          pick = primary;
      }
      if (pick !== undefined) return pick;
      if (!this.alive || Date.now() >= deadline) return undefined;
      await this.#shard.timers.sleep(10);
    }
  }

  async #getMore(state: MongosConnection, db: string, body: Document): Promise<Document> {
    const own = numericValue(body.getMore);
    const cursor = own === undefined ? undefined : this.#cursors.get(BigInt(own));
    if (cursor === undefined) {
      return failure(ErrorCode.CursorNotFound, "CursorNotFound", `cursor id ${String(own)} not found`);
    }
    const reply = await this.#forward(
      state,
      cursor.member,
      db,
      "getMore",
      { ...body, getMore: new Int64(cursor.shardId) },
      cursor.member.state !== "PRIMARY",
    );
    this.#cursors.translateBack(BigInt(own!), reply);
    return reply;
  }

  async #killCursors(state: MongosConnection, db: string, body: Document): Promise<Document> {
    const ids = Array.isArray(body.cursors) ? body.cursors : [];
    const killed: Int64[] = [];
    const notFound: Int64[] = [];
    for (const raw of ids) {
      const own = numericValue(raw);
      const cursor = own === undefined ? undefined : this.#cursors.get(BigInt(own));
      if (cursor === undefined) {
        notFound.push(new Int64(BigInt(own ?? 0)));
        continue;
      }
      this.#cursors.delete(BigInt(own!));
      await cursor.member.route(state.shard, db, "killCursors", {
        killCursors: body.killCursors,
        cursors: [new Int64(cursor.shardId)],
        $db: db,
      }, true);
      killed.push(new Int64(BigInt(own!)));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }
}
