/**
 * One connection to one server: the socket, and requests sent over it one at
 * a time, each matched to its reply and bounded by `socketTimeoutMS` and an
 * `AbortSignal`. The handshake's content is in `handshake.ts`, what replies
 * mean in `reply.ts`, the legacy OP_QUERY path in `legacy.ts`.
 *
 * @module
 */
import {
  ConfigurationError,
  ConnectionFailure,
  type HandshakePhase,
  MongoError,
  NetworkTimeout,
  WireProtocolError,
} from "../errors.ts";
import { describeValue } from "../describe.ts";
import type { ServerAddress } from "../address.ts";
import { ByteWriter, type DecodeOptions, type Document } from "../bson/mod.ts";
import {
  compressMessage,
  decodeOpMsg,
  decompressMessage,
  type DocumentSequence,
  type EncodeMessageOptions,
  encodeOpMsg,
  MessageReader,
  MsgFlags,
  nextRequestId,
  OP_COMPRESSED,
  OP_MSG,
  OP_NAMES,
  type OpReply,
  type SupportedCompressor,
  UNCOMPRESSIBLE_COMMANDS,
} from "../wire/mod.ts";
import { connectSocket, type Socket } from "./socket.ts";
import {
  agreedCompressor,
  DEFAULT_SERVER_LIMITS,
  helloRequest,
  OP_MSG_WIRE_VERSION,
  type ServerLimits,
  serverLimits,
} from "./handshake.ts";
import { checkReply } from "./reply.ts";
import {
  type EncodeFrame,
  type LegacyChannel,
  legacyCommand,
  legacyGetMore,
  legacyKillCursors,
  legacyQuery,
  type QueryOptions,
  type RoundTripOptions,
} from "./legacy.ts";
import type { CommandOptions, ConnectionOptions, ReadNextOptions } from "./connection_options.ts";
import { type EventSink, isSensitiveCommand, type NetEventInitMap } from "./monitoring.ts";
import {
  commandAsSent,
  legacyCursorReply,
  legacyQueryCommand,
  type MonitoredCommand,
  wantsCommandEvents,
} from "./command_monitor.ts";

export type { ServerAddress } from "../address.ts";
export type { CommandOptions, ConnectionOptions, ReadNextOptions } from "./connection_options.ts";
export type { ServerApi, ServerLimits } from "./handshake.ts";
export type { QueryOptions, RoundTripOptions } from "./legacy.ts";

// A command body may exceed maxBsonObjectSize by this much (the server's own allowance).
const COMMAND_OVERHEAD = 16 * 1024;
// setTimeout treats larger delays as 0.
const MAX_TIMER_MS = 2_147_483_647;

let lastConnectionId = 0;

// Each connection builds its outgoing frames in its own writer.
const WRITER_INITIAL_CAPACITY = 4096;
const WRITER_KEEP_CAPACITY = 1024 * 1024;

/**
 * One socket to one server, after a successful handshake.
 *
 * {@linkcode Connection.connect} opens the socket (bounded by
 * `connectTimeoutMS`) and sends the handshake: legacy hello
 * (`{isMaster: 1, helloOk: true, client}`) as OP_QUERY on `admin.$cmd`. The
 * reply is kept as {@linkcode Connection.hello} and sets the limits. Commands
 * then go as OP_MSG when the server's `maxWireVersion` is 6 or more, and as
 * OP_QUERY on `<db>.$cmd` otherwise.
 *
 * One request at a time (a pool gives each caller exclusive use). Every
 * round trip is bounded by `socketTimeoutMS` and its `signal`; a round trip
 * that fails in any way other than a server error reply (timeout, abort,
 * closed socket, a reply that is garbled, too large, or answers another
 * request) closes the connection, which is then never reused. So do bytes
 * nobody asked for: left over after a complete reply (outside a moreToCome
 * stream), or arriving while the connection is idle, as does the server's
 * hang-up while idle; the reply already read still stands. Network errors
 * carry `address`, `when` (before or after the handshake) and `generation`
 * for SDAM.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "./connection.ts";
 *
 * const options = { connectTimeoutMS: 10_000, socketTimeoutMS: 0, appName: "demo" };
 * await using conn = await Connection.connect({ host: "127.0.0.1", port: 27017 }, options);
 * console.log(conn.maxWireVersion);
 * const reply = await conn.command("admin", { ping: 1 });
 * console.log(reply.ok); // 1
 * ```
 */
export class Connection {
  /** The connection's number: its pool's (1, 2, 3, ...) or, outside a pool, a process-wide one. */
  readonly id: number;
  /** The server: `host:port`, `[ipv6]:port` or the Unix socket path. */
  readonly address: string;
  /** The pool generation this connection belongs to (set by the pool). */
  generation: number;
  #socket: Socket;
  #reader: MessageReader;
  #writer = new ByteWriter(WRITER_INITIAL_CAPACITY);
  #socketTimeoutMS: number;
  #decode: DecodeOptions | undefined;
  #hello: Document = {};
  #limits: ServerLimits = DEFAULT_SERVER_LIMITS;
  #encodeOptions: EncodeMessageOptions = {};
  #phase: HandshakePhase = "beforeHandshakeCompletes";
  // Set while the server streams moreToCome replies to an exhaustAllowed request.
  #streaming: { requestId: number; awaiting: number } | null = null;
  #api: Document | undefined;
  /** The compressor agreed in the handshake, if any. */
  #compressor: SupportedCompressor | undefined;
  #busy = false;
  // The read posted while the connection is idle (see #watchIdle).
  #idleRead: Promise<Uint8Array | null> | null = null;
  #exchanging = false;
  #isClosed = false;
  // Set only by close(): the socket's own end also marks the connection closed,
  // and an error message must not blame the caller for the server's hang-up.
  #closedByCaller = false;
  #closed: Promise<void>;
  #resolveClosed!: () => void;
  // What the legacy OP_QUERY path (legacy.ts) sees of this connection.
  #legacy: LegacyChannel;
  // Command monitoring: where events go (set by the pool once the handshake is done), and
  // the command in progress, told its request id when the frame is built (see #roundTrip).
  #events: EventSink<NetEventInitMap> | undefined;
  #monitored: MonitoredCommand | null = null;

  private constructor(socket: Socket, options: ConnectionOptions) {
    this.id = options.id ?? ++lastConnectionId;
    this.#socket = socket;
    this.address = socket.remoteAddress;
    this.generation = options.generation ?? 0;
    this.#socketTimeoutMS = options.socketTimeoutMS;
    this.#decode = options.decode;
    this.#reader = new MessageReader();
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // A close by the peer (or any socket failure) makes the connection closed too,
    // so an idle pooled connection that died is not handed out again.
    socket.closed.then(() => this.#markClosed());
    this.#legacy = {
      address: this.address,
      bson: options.decode,
      roundTrip: (encode, replyOp, decode, bounds, compressible) =>
        this.#roundTrip(encode, replyOp, decode, bounds.signal, bounds.timeoutMS, compressible),
      outOfStep: (error) => {
        this.close();
        return this.#annotate(error);
      },
    };
  }

  /**
   * Connects to `address` and runs the handshake. On any failure the socket
   * is closed and nothing is left running.
   *
   * @throws {ConfigurationError} for invalid options (including an `appName` over 128 bytes).
   * @throws {NetworkTimeout} when the connect or the handshake takes longer than `connectTimeoutMS`.
   * @throws {ConnectionFailure} when the server cannot be reached or closes the connection.
   * @throws {WireProtocolError} when the handshake reply cannot be read.
   * @throws {OperationFailure} when the server answers the handshake with `ok: 0`.
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, {
   *   connectTimeoutMS: 2000,
   *   socketTimeoutMS: 0,
   * });
   * console.log(conn.hello.isWritablePrimary ?? conn.hello.ismaster);
   * conn.close();
   * ```
   */
  static async connect(address: ServerAddress, options: ConnectionOptions): Promise<Connection> {
    if (address === null || typeof address !== "object") {
      throw new ConfigurationError(`address must be {host, port} or {path}, got ${describeValue(address)}`);
    }
    const { connectTimeoutMS, credential, signal } = options;
    const hello = await helloRequest(options);
    const path = (address as { path?: string }).path;
    const { host, port } = address as { host?: string; port?: number };
    let socket: Socket;
    try {
      socket = await (options.socketFactory ?? connectSocket)({
        host: host as string,
        port: port as number,
        path,
        tls: options.tls,
        tlsCAFile: options.tlsCAFile,
        tlsAllowInvalidCertificates: options.tlsAllowInvalidCertificates,
        tlsAllowInvalidHostnames: options.tlsAllowInvalidHostnames,
        tlsCertificateKeyFile: options.tlsCertificateKeyFile,
        tlsCertificateKeyFilePassword: options.tlsCertificateKeyFilePassword,
        servername: options.servername,
        connectTimeoutMS,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof ConnectionFailure) {
        error.when ??= "beforeHandshakeCompletes";
        error.generation ??= options.generation ?? 0;
      }
      throw error;
    }
    const conn = new Connection(socket, options);
    conn.#api = hello.api;
    await conn.#handshake(hello.document, connectTimeoutMS, signal);
    // The server answers with the offered compressors it speaks; the first is used.
    conn.#compressor = agreedCompressor(conn.#hello, hello.offered);
    if (credential !== undefined) {
      try {
        // The SCRAM code is loaded by the first connection that authenticates.
        const { authenticate } = await import("./auth.ts");
        await authenticate(
          credential,
          (db, cmd) => conn.command(db, cmd, { signal, socketTimeoutMS: connectTimeoutMS }),
          { address: conn.address, hello: conn.#hello, generation: conn.generation, speculative: hello.speculative },
        );
      } catch (error) {
        conn.close();
        if (error instanceof ConnectionFailure) error.duringAuthentication = true;
        throw error;
      }
    }
    conn.#phase = "afterHandshakeCompletes";
    return conn;
  }

  /** The whole reply to the handshake. */
  get hello(): Document {
    return this.#hello;
  }
  /** The server's `maxWireVersion` (0 when it sent none). */
  get maxWireVersion(): number {
    return this.#limits.maxWireVersion;
  }
  /** The server's `minWireVersion` (0 when it sent none). */
  get minWireVersion(): number {
    return this.#limits.minWireVersion;
  }
  /** The server's `maxBsonObjectSize` (default 16 MiB). */
  get maxBsonObjectSize(): number {
    return this.#limits.maxBsonObjectSize;
  }
  /** The server's `maxMessageSizeBytes` (default 48000000); larger replies are refused. */
  get maxMessageSizeBytes(): number {
    return this.#limits.maxMessageSizeBytes;
  }
  /** The server's `maxWriteBatchSize` (default 100000). */
  get maxWriteBatchSize(): number {
    return this.#limits.maxWriteBatchSize;
  }
  /** The server's limits from its hello, as one value. */
  get limits(): ServerLimits {
    return this.#limits;
  }
  /** Whether commands go as OP_MSG (`maxWireVersion >= 6`) rather than OP_QUERY. */
  get usesOpMsg(): boolean {
    return this.#limits.maxWireVersion >= OP_MSG_WIRE_VERSION;
  }
  /**
   * Whether the server is streaming replies to an `exhaustAllowed` request:
   * the last reply had moreToCome, so the next one must be read with
   * `readNext()` before anything is sent.
   */
  get moreToCome(): boolean {
    return this.#streaming !== null;
  }
  /** Whether the connection is closed (by `close()`, a failed round trip, or the peer). */
  get isClosed(): boolean {
    return this.#isClosed;
  }
  /** Whether a round trip is in progress. */
  get inUse(): boolean {
    return this.#busy;
  }
  /** Settles once the connection is closed, for any reason. Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }
  /**
   * Where command monitoring events go (`commandStarted`, `commandSucceeded`,
   * `commandFailed`) for `command()`, `query()`, `getMore()` and
   * `killCursors()`; undefined (the default) publishes nothing. A pool sets
   * it after the handshake and authentication, which are never published.
   */
  get events(): EventSink<NetEventInitMap> | undefined {
    return this.#events;
  }
  set events(sink: EventSink<NetEventInitMap> | undefined) {
    this.#events = sink;
  }

  /**
   * Runs `cmd` on database `db` and returns the reply document. `cmd` is not
   * modified: OP_MSG sends a copy with `$db` (and `$readPreference` when
   * given) added; OP_QUERY sends it on `<db>.$cmd` with numberToReturn -1.
   *
   * @throws {OperationFailure} for an `ok: 0` reply (the connection stays usable).
   * @throws {WriteConcernError} for an `ok: 1` reply with a `writeConcernError`.
   * @throws {NetworkTimeout} when `socketTimeoutMS` passes (the connection is closed).
   * @throws {ConnectionFailure} when the socket fails or the server closes it.
   * @throws {WireProtocolError} for a garbled or oversized reply or one that
   * answers another request (the connection is closed), or a command too
   * large to send (the connection stays usable).
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 10_000, socketTimeoutMS: 0 });
   * await conn.command("test", { insert: "people" }, {
   *   sequences: [{ identifier: "documents", documents: [{ name: "Ada" }] }],
   * });
   * conn.close();
   * ```
   */
  command(db: string, cmd: Document, options: CommandOptions = {}): Promise<Document> {
    try {
      checkDb(db);
      checkDocument(cmd, "cmd");
      if (options === null || typeof options !== "object") {
        throw new ConfigurationError(`command options must be an object, got ${describeValue(options)}`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const events = this.#events;
    // Not async itself: without monitoring the round trip's promise is returned as it is (no extra ticks).
    if (events === undefined || !wantsCommandEvents(events)) return this.#command(db, cmd, options);
    return this.#monitoredCommand(db, cmd, options, events);
  }

  async #monitoredCommand(
    db: string,
    cmd: Document,
    options: CommandOptions,
    events: EventSink<NetEventInitMap>,
  ): Promise<Document> {
    const name = Object.keys(cmd)[0] ?? "";
    const raw = await this.#publish(
      events,
      db,
      name,
      isSensitiveCommand(name, cmd),
      () => commandAsSent(db, cmd, options),
      () => this.#command(db, cmd, { ...options, raw: true }),
      commandOutcome,
    );
    return options.raw === true ? raw : checkReply(raw, { fromMongos: this.#hello.msg === "isdbgrid" });
  }

  async #command(db: string, cmd: Document, options: CommandOptions): Promise<Document> {
    const timeoutMS = this.#timeout(options.socketTimeoutMS);
    let reply: Document;
    if (this.usesOpMsg) {
      const body: Document = { ...cmd, $db: db };
      if (options.readPreference !== undefined) body.$readPreference = options.readPreference;
      const api = this.#api;
      if (api !== undefined && body.apiVersion === undefined && Object.keys(cmd)[0] !== "getMore") {
        Object.assign(body, api);
      }
      const answer = await this.#opMsg(
        body,
        options.sequences,
        options.moreToCome === true,
        options.signal,
        timeoutMS,
        options.exhaustAllowed === true,
      );
      if (answer === null) return { ok: 1 };
      reply = answer;
    } else {
      reply = await legacyCommand(this.#legacy, db, cmd, options, { signal: options.signal, timeoutMS });
    }
    return options.raw === true ? reply : checkReply(reply, { fromMongos: this.#hello.msg === "isdbgrid" });
  }

  /**
   * The next reply of a stream started by a command with `exhaustAllowed`
   * (while {@linkcode Connection.moreToCome} is true). Bounded like a round
   * trip; a timeout or abort closes the connection.
   *
   * @throws {MongoError} when no stream is in progress.
   * @throws {OperationFailure} / {NetworkTimeout} / {ConnectionFailure} / {WireProtocolError} as for `command()`.
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 10_000, socketTimeoutMS: 0 });
   * let reply = await conn.command("admin", { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 10000 }, {
   *   exhaustAllowed: true,
   * });
   * while (conn.moreToCome) reply = await conn.readNext({ socketTimeoutMS: 20000 });
   * ```
   */
  async readNext(options: ReadNextOptions = {}): Promise<Document> {
    if (this.#streaming === null) {
      throw new MongoError(`${this.address}: readNext() needs a stream of moreToCome replies; there is none`);
    }
    if (this.#isClosed) {
      throw this.#annotate(new ConnectionFailure("connection is closed", { address: this.address }));
    }
    if (this.#busy) {
      throw new MongoError(`${this.address}: connection ${this.id} is already waiting for a reply`);
    }
    const timeoutMS = this.#timeout(options.socketTimeoutMS);
    this.#busy = true;
    let reply: Document;
    try {
      const frame = await this.#exchange(null, OP_MSG, options.signal, timeoutMS, true);
      reply = this.#decodeReply(() => decodeOpMsg(frame!, { bson: this.#decode }).body);
    } finally {
      this.#busy = false;
    }
    return options.raw === true ? reply : checkReply(reply, { fromMongos: this.#hello.msg === "isdbgrid" });
  }

  /**
   * Legacy OP_QUERY for servers below wire version 4 (no `find` command):
   * sends `query` on the collection namespace `ns` and returns the OP_REPLY.
   *
   * @throws {OperationFailure} when the reply has the QueryFailure flag (its `$err`).
   * @throws {NetworkTimeout} / {ConnectionFailure} / {WireProtocolError} as for `command()`.
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 10_000, socketTimeoutMS: 0 });
   * const reply = await conn.query("test.people", { name: "Ada" }, { numberToReturn: 10, secondaryOk: true });
   * console.log(reply.documents, reply.cursorId);
   * conn.close();
   * ```
   */
  query(ns: string, query: Document, options: QueryOptions = {}): Promise<OpReply> {
    try {
      checkNamespace(ns);
      checkDocument(query, "query");
      const timeoutMS = this.#timeout(options.socketTimeoutMS);
      const events = this.#events;
      if (events === undefined || !wantsCommandEvents(events)) {
        return legacyQuery(this.#legacy, ns, query, options, timeoutMS);
      }
      const what = legacyQueryCommand(ns, query, options);
      return this.#publish(
        events,
        what.db,
        what.name,
        isSensitiveCommand(what.name, what.command),
        () => what.command,
        () => legacyQuery(this.#legacy, ns, query, options, timeoutMS),
        (reply) =>
          what.isCommand
            ? commandOutcome(reply.documents[0] ?? {})
            : { reply: legacyCursorReply(ns, reply, "firstBatch") },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Legacy OP_GET_MORE (wire < 4): the next batch of cursor `cursorId` on `ns`,
   * at most `numberToReturn` documents (0 = server default).
   *
   * @throws {OperationFailure} with code 43 (CursorNotFound) when the server no
   * longer knows the cursor, or from a QueryFailure reply.
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 10_000, socketTimeoutMS: 0 });
   * const first = await conn.query("test.people", {}, { numberToReturn: 2 });
   * const next = await conn.getMore("test.people", first.cursorId, 2);
   * conn.close();
   * ```
   */
  getMore(ns: string, cursorId: bigint, numberToReturn = 0, options: RoundTripOptions = {}): Promise<OpReply> {
    try {
      checkNamespace(ns);
      const timeoutMS = this.#timeout(options.socketTimeoutMS);
      const events = this.#events;
      if (events === undefined || !wantsCommandEvents(events)) {
        return legacyGetMore(this.#legacy, ns, cursorId, numberToReturn, options, timeoutMS);
      }
      const dot = ns.indexOf(".");
      const db = ns.slice(0, dot);
      const command = { getMore: cursorId, collection: ns.slice(dot + 1), batchSize: numberToReturn, $db: db };
      return this.#publish(
        events,
        db,
        "getMore",
        false,
        () => command,
        () => legacyGetMore(this.#legacy, ns, cursorId, numberToReturn, options, timeoutMS),
        (reply) => ({ reply: legacyCursorReply(ns, reply, "nextBatch") }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Legacy OP_KILL_CURSORS (wire < 4). The server sends no reply, so this
   * resolves once the message is written.
   *
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 10_000, socketTimeoutMS: 0 });
   * await conn.killCursors([1234n]);
   * conn.close();
   * ```
   */
  killCursors(cursorIds: readonly bigint[], options: RoundTripOptions = {}): Promise<void> {
    try {
      const timeoutMS = this.#timeout(options.socketTimeoutMS);
      const events = this.#events;
      if (events === undefined || !wantsCommandEvents(events)) {
        return legacyKillCursors(this.#legacy, cursorIds, options, timeoutMS);
      }
      // OP_KILL_CURSORS names no namespace: published on "admin", as the cursors' ids.
      return this.#publish(
        events,
        "admin",
        "killCursors",
        false,
        () => ({ killCursors: 1, cursors: [...cursorIds], $db: "admin" }),
        () => legacyKillCursors(this.#legacy, cursorIds, options, timeoutMS),
        () => ({ reply: { ok: 1, cursorsUnknown: [...cursorIds] } }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Closes the socket at once. Idempotent; a round trip in progress fails with `ConnectionFailure`. */
  close(): void {
    if (this.#isClosed) return;
    this.#closedByCaller = true;
    this.#markClosed();
    this.#socket.close();
  }

  /** Closes the connection and waits until it is closed (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#closed;
  }

  // ---- internals ------------------------------------------------------------

  // A call's own limit, or the connection's. A call's value is checked here:
  // nothing above checks it (a connection's own limit comes resolved).
  #timeout(socketTimeoutMS: number | undefined): number {
    if (socketTimeoutMS === undefined) return this.#socketTimeoutMS;
    if (
      typeof socketTimeoutMS !== "number" || !Number.isFinite(socketTimeoutMS) || socketTimeoutMS < 0 ||
      socketTimeoutMS > MAX_TIMER_MS
    ) {
      throw new ConfigurationError(
        `socketTimeoutMS must be a number from 0 (no limit) to ${MAX_TIMER_MS}, got ${describeValue(socketTimeoutMS)}`,
      );
    }
    return socketTimeoutMS;
  }

  async #handshake(doc: Document, connectTimeoutMS: number, signal: AbortSignal | undefined): Promise<void> {
    let reply: Document;
    try {
      reply = this.#api !== undefined
        ? (await this.#opMsg({ ...doc, $db: "admin" }, undefined, false, signal, connectTimeoutMS))!
        : await legacyCommand(this.#legacy, "admin", doc, {}, { signal, timeoutMS: connectTimeoutMS });
      checkReply(reply);
    } catch (error) {
      this.close();
      throw error;
    }
    this.#hello = reply;
    const limits = serverLimits(reply);
    this.#limits = limits;
    this.#reader.maxMessageSizeBytes = limits.maxMessageSizeBytes;
    this.#encodeOptions = {
      maxMessageSizeBytes: limits.maxMessageSizeBytes,
      bson: { maxSize: limits.maxBsonObjectSize + COMMAND_OVERHEAD },
    };
  }

  // One OP_MSG round trip; null when moreToCome (no reply).
  #opMsg(
    body: Document,
    sequences: DocumentSequence[] | undefined,
    moreToCome: boolean,
    signal: AbortSignal | undefined,
    timeoutMS: number,
    exhaustAllowed = false,
  ): Promise<Document | null> {
    const flagBits = (moreToCome ? MsgFlags.moreToCome : 0) | (exhaustAllowed ? MsgFlags.exhaustAllowed : 0);
    return this.#roundTrip(
      (writer, options) => encodeOpMsg(writer, { requestId: nextRequestId(), flagBits, body, sequences }, options),
      moreToCome ? null : OP_MSG,
      (frame) => decodeOpMsg(frame, { bson: this.#decode }).body,
      signal,
      timeoutMS,
      !UNCOMPRESSIBLE_COMMANDS.has(Object.keys(body)[0]),
      exhaustAllowed,
    );
  }

  /**
   * One request: encodes it (a message too large to send fails here and
   * leaves the connection usable), exchanges it, and decodes the reply (null
   * when none is awaited). Compressed when a compressor was agreed and the
   * command may be.
   */
  async #roundTrip<T>(
    encode: EncodeFrame,
    replyOp: number | null,
    decode: (frame: Uint8Array) => T,
    signal: AbortSignal | undefined,
    timeoutMS: number,
    compressible: boolean,
    stream = false,
  ): Promise<T | null> {
    this.#enter();
    try {
      const frame = encode(this.#writer, this.#encodeOptions);
      if (this.#monitored !== null) this.#started(frame);
      const compress = compressible && this.#compressor !== undefined;
      const replyFrame = await this.#exchange(frame, replyOp, signal, timeoutMS, stream, compress);
      if (replyFrame === null) return null;
      return this.#decodeReply(() => decode(replyFrame));
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Publishes one command: `run` sends it (the frame's construction calls
   * `#started`, which publishes commandStarted with the request id), then
   * `outcome` says whether the result is a success (with the reply) or a
   * failure. A command that was never sent (too large, busy connection)
   * publishes nothing.
   */
  async #publish<T>(
    events: EventSink<NetEventInitMap>,
    db: string,
    name: string,
    sensitive: boolean,
    command: () => Document,
    run: () => Promise<T>,
    outcome: (result: T) => { reply: Document } | { failure: unknown },
  ): Promise<T> {
    const m: MonitoredCommand = { db, name, command, sensitive, requestId: -1, start: 0 };
    this.#monitored = m;
    let result: T;
    try {
      result = await run();
    } catch (error) {
      if (m.requestId >= 0 && events.wants("commandFailed")) {
        events.emit("commandFailed", {
          ...this.#commandBase(m),
          durationMS: performance.now() - m.start,
          failure: error,
        });
      }
      throw error;
    } finally {
      if (this.#monitored === m) this.#monitored = null;
    }
    if (m.requestId >= 0) {
      const o = outcome(result);
      const durationMS = performance.now() - m.start;
      if ("reply" in o) {
        if (events.wants("commandSucceeded")) {
          events.emit("commandSucceeded", {
            ...this.#commandBase(m),
            durationMS,
            reply: m.sensitive ? {} : o.reply,
          });
        }
      } else if (events.wants("commandFailed")) {
        events.emit("commandFailed", { ...this.#commandBase(m), durationMS, failure: o.failure });
      }
    }
    return result;
  }

  // The frame of a monitored command is built: publish commandStarted with its request id.
  #started(frame: Uint8Array): void {
    const m = this.#monitored!;
    this.#monitored = null;
    m.requestId = frame[4] | (frame[5] << 8) | (frame[6] << 16) | (frame[7] << 24);
    const events = this.#events;
    if (events !== undefined && events.wants("commandStarted")) {
      events.emit("commandStarted", { ...this.#commandBase(m), command: m.sensitive ? {} : m.command() });
    }
    m.start = performance.now();
  }

  #commandBase(m: MonitoredCommand) {
    const hello = this.#hello;
    const serverConnectionId = typeof hello.connectionId === "number"
      ? hello.connectionId
      : typeof hello.connectionId === "bigint"
      ? Number(hello.connectionId)
      : undefined;
    const base = {
      requestId: m.requestId,
      operationId: m.requestId,
      connectionId: this.id,
      serverConnectionId,
      address: this.address,
      databaseName: m.db,
      commandName: m.name,
    };
    return hello.serviceId === undefined ? base : { ...base, serviceId: hello.serviceId };
  }

  #enter(): void {
    if (this.#isClosed) {
      throw this.#annotate(new ConnectionFailure("connection is closed", { address: this.address }));
    }
    if (this.#busy) {
      throw new MongoError(
        `${this.address}: connection ${this.id} already has a request in flight; use one connection per caller (a pool)`,
      );
    }
    if (this.#streaming !== null) {
      throw new MongoError(
        `${this.address}: connection ${this.id} is streaming replies (moreToCome); ` +
          `read them with readNext() until moreToCome is false, or close the connection`,
      );
    }
    this.#busy = true;
  }

  // Decoding a reply that arrived whole; a failure means the server is out of step, so close.
  #decodeReply<T>(decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      this.close();
      throw this.#annotate(error);
    }
  }

  #protocolError(message: string): WireProtocolError {
    this.close();
    return this.#annotate(new WireProtocolError(`${this.address}: ${message}`)) as WireProtocolError;
  }

  #annotate(error: unknown): unknown {
    if (error instanceof ConnectionFailure) {
      error.when ??= this.#phase;
      error.generation ??= this.generation;
    } else if (error instanceof WireProtocolError) {
      error.address ??= this.address;
      error.when ??= this.#phase;
      error.generation ??= this.generation;
    }
    return error;
  }

  /**
   * Writes `frame` and, unless `replyOp` is null, reads until the reply to it
   * (the last of a moreToCome series), checks its responseTo and opCode, and
   * returns its frame. Any failure closes the connection.
   */
  async #exchange(
    frame: Uint8Array | null,
    replyOp: number | null,
    signal: AbortSignal | undefined,
    timeoutMS: number,
    stream = false,
    compress = false,
  ): Promise<Uint8Array | null> {
    // The frame is already copied out of the writer. A writer that grew for one
    // large message would otherwise stay that large for the connection's whole
    // life in the pool (up to maxPoolSize of them), so a large one is dropped.
    if (this.#writer.capacity > WRITER_KEEP_CAPACITY) this.#writer = new ByteWriter(WRITER_INITIAL_CAPACITY);
    // Nothing has been sent yet, so the connection is still in step: no need to close it.
    if (signal?.aborted) throw signal.reason;
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      if (failure !== undefined) return;
      failure = { error };
      this.close();
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMS > 0) {
      timer = setTimeout(
        () =>
          fail(this.#annotate(
            new NetworkTimeout(
              this.#phase === "beforeHandshakeCompletes"
                ? `no handshake reply within connectTimeoutMS ${timeoutMS} ms`
                : `no reply within socketTimeoutMS ${timeoutMS} ms`,
              { address: this.address },
            ),
          )),
        timeoutMS,
      );
    }
    const onAbort = signal === undefined ? undefined : () => fail(signal.reason);
    if (onAbort !== undefined) signal!.addEventListener("abort", onAbort, { once: true });
    this.#exchanging = true;
    try {
      let requestId: number;
      let awaiting: number;
      if (frame === null) {
        // Reading on in a stream of moreToCome replies: nothing to send.
        ({ requestId, awaiting } = this.#streaming!);
      } else {
        requestId = frame[4] | (frame[5] << 8) | (frame[6] << 16) | (frame[7] << 24);
        awaiting = requestId;
        await this.#socket.write(compress ? await compressMessage(frame, this.#compressor!) : frame);
      }
      if (replyOp === null) {
        this.#watchIdle();
        return null;
      }
      for (;;) {
        let reply = await this.#readFrame();
        const responseTo = reply[8] | (reply[9] << 8) | (reply[10] << 16) | (reply[11] << 24);
        let opCode = reply[12] | (reply[13] << 8) | (reply[14] << 16) | (reply[15] << 24);
        // Replies may come compressed whatever was sent; what was agreed does not matter here.
        if (opCode === OP_COMPRESSED) {
          reply = await decompressMessage(reply, { maxMessageSizeBytes: this.#limits.maxMessageSizeBytes });
          opCode = reply[12] | (reply[13] << 8) | (reply[14] << 16) | (reply[15] << 24);
        }
        if (responseTo !== awaiting && responseTo !== requestId) {
          throw this.#protocolError(`reply has responseTo ${responseTo}, expected ${awaiting}`);
        }
        if (opCode !== replyOp) {
          throw this.#protocolError(
            `reply has opCode ${opCode} (${OP_NAMES[opCode] ?? "unknown"}), expected ${OP_NAMES[replyOp]} (${replyOp})`,
          );
        }
        // moreToCome on a reply: more replies follow. In a stream each one is
        // handed out; otherwise the last one is the answer.
        if (opCode === OP_MSG && reply.length >= 20 && (reply[16] & MsgFlags.moreToCome) !== 0) {
          awaiting = reply[4] | (reply[5] << 8) | (reply[6] << 16) | (reply[7] << 24);
          if (stream) {
            this.#streaming = { requestId, awaiting };
            return reply;
          }
          decodeOpMsg(reply, { bson: this.#decode }); // throws for a garbled frame
          continue;
        }
        this.#streaming = null;
        // Bytes beyond the answer to an exchange that asked for no more: the
        // server (or a proxy) is out of step. The answer stands; the
        // connection is never used again.
        if (this.#reader.bufferedBytes > 0) this.close();
        else this.#watchIdle();
        return reply;
      }
    } catch (error) {
      if (failure !== undefined) throw failure.error;
      this.close();
      throw this.#annotate(error);
    } finally {
      this.#exchanging = false;
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Keeps a read posted while nothing is outstanding: a chunk that arrives
   * then answers nothing (a duplicate reply, junk), and an end means the
   * server hung up; either way the connection closes at once, so a pool drops
   * it before anyone checks it out. A round trip takes the read over.
   */
  #watchIdle(): void {
    if (this.#isClosed) return;
    // A read posted before a round trip that read nothing (moreToCome, OP_KILL_CURSORS) is watched again.
    const read = this.#idleRead ?? this.#socket.read();
    this.#idleRead = read;
    const settle = () => {
      // Taken over by a round trip, or one is under way and will take it.
      if (this.#idleRead !== read || this.#exchanging) return;
      this.#idleRead = null;
      this.close();
    };
    read.then(settle, settle);
  }

  async #readFrame(): Promise<Uint8Array> {
    for (;;) {
      const frame = this.#reader.next();
      if (frame !== null) return frame;
      const idle = this.#idleRead;
      this.#idleRead = null;
      const chunk = await (idle ?? this.#socket.read());
      if (chunk === null) {
        const partial = this.#reader.bufferedBytes;
        const who = this.#closedByCaller ? "closed by close() during a round trip" : "closed by the server";
        throw new ConnectionFailure(
          partial > 0
            ? `connection ${who} in the middle of a reply (${partial} bytes of it received)`
            : `connection ${who} before it replied`,
          { address: this.address },
        );
      }
      this.#reader.push(chunk);
    }
  }

  #markClosed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#resolveClosed();
  }
}

function checkDb(db: unknown): void {
  if (typeof db !== "string" || db === "" || db.includes(".") || db.includes("\0")) {
    throw new ConfigurationError(`db must be a non-empty database name without "." or NUL, got ${describeValue(db)}`);
  }
}

function checkNamespace(ns: unknown): void {
  if (typeof ns !== "string" || ns.indexOf(".") <= 0 || ns.endsWith(".") || ns.includes("\0")) {
    throw new ConfigurationError(`ns must be "<db>.<collection>", got ${describeValue(ns)}`);
  }
}

function checkDocument(doc: unknown, name: string): void {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc) || doc instanceof Uint8Array) {
    throw new ConfigurationError(`${name} must be a document (a plain object), got ${describeValue(doc)}`);
  }
}

// A command reply is a success when `ok` is 1 (a writeConcernError is still a success).
function commandOutcome(reply: Document): { reply: Document } | { failure: unknown } {
  if (reply.ok === 1 || reply.ok === true) return { reply };
  try {
    checkReply(reply);
  } catch (error) {
    return { failure: error };
  }
  return { reply };
}
