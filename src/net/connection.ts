/**
 * One connection to one server: the socket, the handshake, and commands sent
 * over it one at a time, each bounded by `socketTimeoutMS` and an
 * `AbortSignal`.
 *
 * @module
 */
import {
  ConfigurationError,
  ConnectionFailure,
  type HandshakePhase,
  MongoError,
  NetworkTimeout,
  OperationFailure,
  WireProtocolError,
  WriteConcernError,
} from "../errors.ts";
import { ByteWriter, type DecodeOptions, type Document } from "../bson/mod.ts";
import {
  compressMessage,
  decodeOpMsg,
  decodeOpReply,
  decompressMessage,
  DEFAULT_MAX_MESSAGE_SIZE_BYTES,
  type DocumentSequence,
  type EncodeMessageOptions,
  encodeOpGetMore,
  encodeOpKillCursors,
  encodeOpMsg,
  encodeOpQuery,
  MessageReader,
  MsgFlags,
  nextRequestId,
  OP_COMPRESSED,
  OP_MSG,
  OP_NAMES,
  OP_REPLY,
  type OpReply,
  QueryFlags,
  ResponseFlags,
  type SupportedCompressor,
  UNCOMPRESSIBLE_COMMANDS,
} from "../wire/mod.ts";
import { connectSocket, type Socket } from "./socket.ts";
import { clientMetadata } from "./client_metadata.ts";
import { authenticate, type Credential, negotiationFields, speculativeStart } from "./auth.ts";

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The compressors this driver can offer (the web platform ships zlib's deflate). */
const SPOKEN_COMPRESSORS = new Set(["zlib"]);
const DEFAULT_MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_WRITE_BATCH_SIZE = 100_000;
// A command body may exceed maxBsonObjectSize by this much (the server's own allowance).
const COMMAND_OVERHEAD = 16 * 1024;
// setTimeout treats larger delays as 0.
const MAX_TIMER_MS = 2_147_483_647;
/** The first wire version that speaks OP_MSG (MongoDB 3.6). */
const OP_MSG_WIRE_VERSION = 6;

let lastConnectionId = 0;

/**
 * Where a server listens: a TCP host and port, or a Unix domain socket path.
 *
 * @example
 * ```ts
 * import type { ServerAddress } from "./connection.ts";
 *
 * const tcp: ServerAddress = { host: "db1.example.com", port: 27017 };
 * const unix: ServerAddress = { path: "/tmp/mongodb-27017.sock" };
 * ```
 */
export type ServerAddress = { host: string; port: number } | { path: string };

/**
 * Options of {@linkcode Connection.connect}.
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "./connection.ts";
 *
 * const options: ConnectionOptions = { appName: "inventory", connectTimeoutMS: 5000, socketTimeoutMS: 30000 };
 * ```
 */
export interface ConnectionOptions {
  /**
   * Limit in ms on opening the socket (TLS included) and, separately, on the
   * handshake round trip; 0 means none. Default 10000.
   */
  connectTimeoutMS?: number;
  /** Default limit in ms on every round trip after the handshake; 0 (the default) means none. */
  socketTimeoutMS?: number;
  /** Wrap the socket in TLS. Default `false`. */
  tls?: boolean;
  /** A PEM file of certificate authorities to trust as well as the runtime's. */
  tlsCAFile?: string;
  /** Accept any certificate and host name (see `SocketOptions` for Deno's limits). */
  tlsAllowInvalidCertificates?: boolean;
  /** The TLS server name (SNI and certificate check). Default: the host. */
  servername?: string;
  /** Sent in the handshake as `client.application.name`; at most 128 bytes. */
  appName?: string;
  /**
   * More fields for the handshake document, after the ones this driver sets
   * (e.g. `saslSupportedMechs`, `speculativeAuthenticate` for authentication).
   */
  handshake?: Document;
  /**
   * Request the Stable API: the handshake is then `hello` over OP_MSG (the
   * server must be 5.0+), and every command but `getMore` carries
   * `apiVersion` (and `apiStrict` / `apiDeprecationErrors` when set), unless
   * it already has an `apiVersion`.
   */
  serverApi?: ServerApi;
  /**
   * Authenticate with SCRAM right after the `hello` (the handshake then
   * completes only once authenticated; its round trips are limited by
   * `connectTimeoutMS`). Monitors' connections leave it out.
   */
  credential?: Credential;
  /**
   * Compressors to offer in the handshake, in order of preference; the first
   * one the server accepts compresses every message but the handshake and
   * authentication. Only `"zlib"` is spoken (others are not offered). Default none.
   */
  compressors?: readonly string[];
  /** Cancels the connect and the handshake; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The pool generation to stamp on the connection (default 0). */
  generation?: number;
  /** How reply documents are decoded (default: the BSON defaults, int64 as bigint). */
  decode?: DecodeOptions;
}

/**
 * A Stable API request (the versioned API specification): version `"1"` is
 * the only one defined.
 *
 * @example
 * ```ts
 * import type { ServerApi } from "./connection.ts";
 *
 * const api: ServerApi = { version: "1", strict: true };
 * ```
 */
export interface ServerApi {
  /** The API version; `"1"`. */
  version: "1";
  /** Sent as `apiStrict`: the server rejects commands outside the API. */
  strict?: boolean;
  /** Sent as `apiDeprecationErrors`: the server rejects deprecated commands. */
  deprecationErrors?: boolean;
}

/**
 * Options of {@linkcode Connection.command}.
 *
 * @example
 * ```ts
 * import type { CommandOptions } from "./connection.ts";
 *
 * const options: CommandOptions = { socketTimeoutMS: 1000, readPreference: { mode: "secondaryPreferred" } };
 * ```
 */
export interface CommandOptions {
  /** Aborts the round trip: the command rejects with `signal.reason` and the connection is closed. */
  signal?: AbortSignal;
  /** Limit in ms on this round trip (0 = none); default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
  /** OP_QUERY only (wire < 6): set the SecondaryOk flag bit. */
  secondaryOk?: boolean;
  /**
   * Sent as `$readPreference`: in the OP_MSG body, or on OP_QUERY in the
   * `{$query: cmd, $readPreference}` wrapping that mongos reads. The caller
   * decides when to send it (server-selection rules); nothing is added here.
   */
  readPreference?: Document;
  /**
   * OP_MSG kind-1 sections, e.g. `{identifier: "documents", documents}` for an
   * `insert`. On OP_QUERY they become array fields of the command.
   */
  sequences?: DocumentSequence[];
  /**
   * OP_MSG only: set moreToCome and expect no reply (for `w: 0` writes); the
   * promise resolves with `{ok: 1}` once the message is written. On OP_QUERY
   * (wire < 6) the command is sent normally and its reply awaited.
   */
  moreToCome?: boolean;
  /** Return the reply as is: no `OperationFailure` for `ok: 0`, no `WriteConcernError`. */
  raw?: boolean;
  /**
   * OP_MSG only: set exhaustAllowed (for `getMore` on 4.2+ and the streaming
   * `hello` on 4.4+). If the reply has moreToCome, it is returned at once and
   * the connection streams: {@linkcode Connection.moreToCome} is true and the
   * next replies are read with {@linkcode Connection.readNext}; nothing else
   * may be sent meanwhile. Without this option, moreToCome replies are read
   * through and the last one is returned.
   */
  exhaustAllowed?: boolean;
}

/**
 * Options of {@linkcode Connection.readNext}.
 *
 * @example
 * ```ts
 * import type { ReadNextOptions } from "./connection.ts";
 *
 * const options: ReadNextOptions = { socketTimeoutMS: 20000, raw: true };
 * ```
 */
export interface ReadNextOptions {
  /** Aborts the wait (the connection is then closed). */
  signal?: AbortSignal;
  /** Limit in ms on the wait; default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
  /** Return the reply as is (see {@linkcode CommandOptions.raw}). */
  raw?: boolean;
}

/**
 * Options of {@linkcode Connection.query} (legacy OP_QUERY, wire < 4).
 *
 * @example
 * ```ts
 * import type { QueryOptions } from "./connection.ts";
 *
 * const options: QueryOptions = { numberToReturn: 100, secondaryOk: true, fields: { name: 1 } };
 * ```
 */
export interface QueryOptions {
  /** Documents to skip. Default 0. */
  skip?: number;
  /** Batch size; negative means a single batch of at most that many. Default 0 (server default). */
  numberToReturn?: number;
  /** Set the SecondaryOk flag bit. */
  secondaryOk?: boolean;
  /** Other `QueryFlags` bits to set (e.g. `QueryFlags.NoCursorTimeout`). */
  flags?: number;
  /** The projection (`returnFieldsSelector`). */
  fields?: Document;
  /** Aborts the round trip (the connection is then closed). */
  signal?: AbortSignal;
  /** Limit in ms on this round trip; default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
}

/**
 * Options of the round trips without a command document
 * ({@linkcode Connection.getMore}, {@linkcode Connection.killCursors}).
 *
 * @example
 * ```ts
 * import type { RoundTripOptions } from "./connection.ts";
 *
 * const options: RoundTripOptions = { socketTimeoutMS: 500 };
 * ```
 */
export interface RoundTripOptions {
  /** Aborts the round trip (the connection is then closed). */
  signal?: AbortSignal;
  /** Limit in ms; default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
}

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
 * request) closes the connection, which is then never reused. Network errors
 * carry `address`, `when` (before or after the handshake) and `generation`
 * for SDAM.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "./connection.ts";
 *
 * await using conn = await Connection.connect({ host: "127.0.0.1", port: 27017 }, { appName: "demo" });
 * console.log(conn.maxWireVersion);
 * const reply = await conn.command("admin", { ping: 1 });
 * console.log(reply.ok); // 1
 * ```
 */
export class Connection {
  /** A process-wide number identifying this connection (1, 2, 3, ...). */
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
  #maxWireVersion = 0;
  #minWireVersion = 0;
  #maxBsonObjectSize = DEFAULT_MAX_BSON_OBJECT_SIZE;
  #maxMessageSizeBytes = DEFAULT_MAX_MESSAGE_SIZE_BYTES;
  #maxWriteBatchSize = DEFAULT_MAX_WRITE_BATCH_SIZE;
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

  private constructor(socket: Socket, options: ConnectionOptions, socketTimeoutMS: number) {
    this.id = ++lastConnectionId;
    this.#socket = socket;
    this.address = socket.remoteAddress;
    this.generation = options.generation ?? 0;
    this.#socketTimeoutMS = socketTimeoutMS;
    this.#decode = options.decode;
    this.#reader = new MessageReader();
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // A close by the peer (or any socket failure) makes the connection closed too,
    // so an idle pooled connection that died is not handed out again.
    socket.closed.then(() => this.#markClosed());
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
   * const conn = await Connection.connect({ host: "localhost", port: 27017 }, { connectTimeoutMS: 2000 });
   * console.log(conn.hello.isWritablePrimary ?? conn.hello.ismaster);
   * conn.close();
   * ```
   */
  static async connect(address: ServerAddress, options: ConnectionOptions = {}): Promise<Connection> {
    if (address === null || typeof address !== "object") {
      throw new ConfigurationError(`address must be {host, port} or {path}, got ${describe(address)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError(`connection options must be an object, got ${describe(options)}`);
    }
    const connectTimeoutMS = checkTimeout(options.connectTimeoutMS ?? DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMS");
    const socketTimeoutMS = checkTimeout(options.socketTimeoutMS ?? 0, "socketTimeoutMS");
    if (options.generation !== undefined && !Number.isInteger(options.generation)) {
      throw new ConfigurationError(`generation must be an integer, got ${describe(options.generation)}`);
    }
    if (options.handshake !== undefined && (options.handshake === null || typeof options.handshake !== "object")) {
      throw new ConfigurationError(`handshake must be a document, got ${describe(options.handshake)}`);
    }
    const credential = options.credential;
    if (credential !== undefined) checkCredential(credential);
    const api = apiFields(options.serverApi);
    const handshake: Document = api === undefined ? { isMaster: 1 } : { hello: 1 };
    handshake.helloOk = true;
    handshake.client = clientMetadata({ appName: options.appName });
    if (options.handshake !== undefined) Object.assign(handshake, options.handshake);
    if (api !== undefined) Object.assign(handshake, api);
    const speculative = credential === undefined ? undefined : speculativeStart(credential);
    if (credential !== undefined) {
      Object.assign(handshake, negotiationFields(credential), { speculativeAuthenticate: speculative!.document });
    }
    const offered = (options.compressors ?? []).filter((c) => SPOKEN_COMPRESSORS.has(c));
    if (offered.length > 0) handshake.compression = offered;
    const path = (address as { path?: string }).path;
    const { host, port } = address as { host?: string; port?: number };
    let socket: Socket;
    try {
      socket = await connectSocket({
        host: host as string,
        port: port as number,
        path,
        tls: options.tls,
        tlsCAFile: options.tlsCAFile,
        tlsAllowInvalidCertificates: options.tlsAllowInvalidCertificates,
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
    const conn = new Connection(socket, options, socketTimeoutMS);
    conn.#api = api;
    await conn.#handshake(handshake, connectTimeoutMS, options.signal);
    // The server answers with the offered compressors it speaks; the first is used.
    const agreed = conn.#hello.compression;
    if (Array.isArray(agreed)) {
      conn.#compressor = agreed.find((c): c is SupportedCompressor => offered.includes(c));
    }
    if (credential !== undefined) {
      const signal = options.signal;
      try {
        await authenticate(
          credential,
          (db, cmd) => conn.command(db, cmd, { signal, socketTimeoutMS: connectTimeoutMS }),
          { address: conn.address, hello: conn.#hello, generation: conn.generation, speculative },
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
    return this.#maxWireVersion;
  }
  /** The server's `minWireVersion` (0 when it sent none). */
  get minWireVersion(): number {
    return this.#minWireVersion;
  }
  /** The server's `maxBsonObjectSize` (default 16 MiB). */
  get maxBsonObjectSize(): number {
    return this.#maxBsonObjectSize;
  }
  /** The server's `maxMessageSizeBytes` (default 48000000); larger replies are refused. */
  get maxMessageSizeBytes(): number {
    return this.#maxMessageSizeBytes;
  }
  /** The server's `maxWriteBatchSize` (default 100000). */
  get maxWriteBatchSize(): number {
    return this.#maxWriteBatchSize;
  }
  /** Whether commands go as OP_MSG (`maxWireVersion >= 6`) rather than OP_QUERY. */
  get usesOpMsg(): boolean {
    return this.#maxWireVersion >= OP_MSG_WIRE_VERSION;
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
   * const conn = await Connection.connect({ host: "localhost", port: 27017 });
   * await conn.command("test", { insert: "people" }, {
   *   sequences: [{ identifier: "documents", documents: [{ name: "Ada" }] }],
   * });
   * conn.close();
   * ```
   */
  async command(db: string, cmd: Document, options: CommandOptions = {}): Promise<Document> {
    checkDb(db);
    checkDocument(cmd, "cmd");
    if (options === null || typeof options !== "object") {
      throw new ConfigurationError(`command options must be an object, got ${describe(options)}`);
    }
    const timeoutMS = options.socketTimeoutMS === undefined
      ? this.#socketTimeoutMS
      : checkTimeout(options.socketTimeoutMS, "socketTimeoutMS");
    let reply: Document;
    if (this.usesOpMsg) {
      const body: Document = { ...cmd, $db: db };
      if (options.readPreference !== undefined) body.$readPreference = options.readPreference;
      const api = this.#api;
      if (api !== undefined && body.apiVersion === undefined && Object.keys(cmd)[0] !== "getMore") {
        Object.assign(body, api);
      }
      const moreToCome = options.moreToCome === true;
      const answer = await this.#opMsg(
        body,
        options.sequences,
        moreToCome,
        options.signal,
        timeoutMS,
        options.exhaustAllowed === true,
      );
      if (answer === null) return { ok: 1 };
      reply = answer;
    } else {
      let query: Document = cmd;
      const sequences = options.sequences;
      if (sequences !== undefined && sequences.length > 0) {
        query = { ...cmd };
        for (const seq of sequences) query[seq.identifier] = seq.documents;
      }
      if (options.readPreference !== undefined) query = { $query: query, $readPreference: options.readPreference };
      reply = this.#commandDoc(
        await this.#opQuery(
          `${db}.$cmd`,
          query,
          {
            numberToReturn: -1,
            flags: options.secondaryOk === true ? QueryFlags.SecondaryOk : 0,
          },
          options.signal,
          timeoutMS,
        ),
      );
    }
    return options.raw === true ? reply : checkReply(reply);
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
   * const conn = await Connection.connect({ host: "localhost", port: 27017 });
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
    const timeoutMS = options.socketTimeoutMS === undefined
      ? this.#socketTimeoutMS
      : checkTimeout(options.socketTimeoutMS, "socketTimeoutMS");
    this.#busy = true;
    let reply: Document;
    try {
      const frame = await this.#exchange(null, OP_MSG, options.signal, timeoutMS, true);
      reply = this.#decodeReply(() => decodeOpMsg(frame!, { bson: this.#decode }).body);
    } finally {
      this.#busy = false;
    }
    return options.raw === true ? reply : checkReply(reply);
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
   * const conn = await Connection.connect({ host: "localhost", port: 27017 });
   * const reply = await conn.query("test.people", { name: "Ada" }, { numberToReturn: 10, secondaryOk: true });
   * console.log(reply.documents, reply.cursorId);
   * conn.close();
   * ```
   */
  async query(ns: string, query: Document, options: QueryOptions = {}): Promise<OpReply> {
    checkNamespace(ns);
    checkDocument(query, "query");
    const timeoutMS = options.socketTimeoutMS === undefined
      ? this.#socketTimeoutMS
      : checkTimeout(options.socketTimeoutMS, "socketTimeoutMS");
    const reply = await this.#opQuery(
      ns,
      query,
      {
        numberToSkip: options.skip ?? 0,
        numberToReturn: options.numberToReturn ?? 0,
        flags: (options.flags ?? 0) | (options.secondaryOk === true ? QueryFlags.SecondaryOk : 0),
        returnFieldsSelector: options.fields,
      },
      options.signal,
      timeoutMS,
    );
    if ((reply.responseFlags & ResponseFlags.QueryFailure) !== 0) throw queryFailure(reply.documents[0] ?? {});
    return reply;
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
   * const conn = await Connection.connect({ host: "localhost", port: 27017 });
   * const first = await conn.query("test.people", {}, { numberToReturn: 2 });
   * const next = await conn.getMore("test.people", first.cursorId, 2);
   * conn.close();
   * ```
   */
  async getMore(ns: string, cursorId: bigint, numberToReturn = 0, options: RoundTripOptions = {}): Promise<OpReply> {
    checkNamespace(ns);
    const timeoutMS = options.socketTimeoutMS === undefined
      ? this.#socketTimeoutMS
      : checkTimeout(options.socketTimeoutMS, "socketTimeoutMS");
    this.#enter();
    let reply: OpReply;
    try {
      const frame = encodeOpGetMore(this.#writer, {
        requestId: nextRequestId(),
        fullCollectionName: ns,
        numberToReturn,
        cursorId,
      }, this.#encodeOptions);
      const replyFrame = await this.#exchange(frame, OP_REPLY, options.signal, timeoutMS);
      reply = this.#decodeReply(() => decodeOpReply(replyFrame!, { bson: this.#decode }));
    } finally {
      this.#busy = false;
    }
    if ((reply.responseFlags & ResponseFlags.CursorNotFound) !== 0) {
      throw new OperationFailure(`cursor ${cursorId} not found on ${this.address}`, {
        code: 43,
        codeName: "CursorNotFound",
        response: { ok: 0, code: 43, codeName: "CursorNotFound", errmsg: `cursor ${cursorId} not found` },
      });
    }
    if ((reply.responseFlags & ResponseFlags.QueryFailure) !== 0) throw queryFailure(reply.documents[0] ?? {});
    return reply;
  }

  /**
   * Legacy OP_KILL_CURSORS (wire < 4). The server sends no reply, so this
   * resolves once the message is written.
   *
   * @example
   * ```ts ignore
   * import { Connection } from "./connection.ts";
   *
   * const conn = await Connection.connect({ host: "localhost", port: 27017 });
   * await conn.killCursors([1234n]);
   * conn.close();
   * ```
   */
  async killCursors(cursorIds: readonly bigint[], options: RoundTripOptions = {}): Promise<void> {
    this.#enter();
    try {
      const frame = encodeOpKillCursors(this.#writer, { requestId: nextRequestId(), cursorIds }, this.#encodeOptions);
      const timeoutMS = options.socketTimeoutMS === undefined
        ? this.#socketTimeoutMS
        : checkTimeout(options.socketTimeoutMS, "socketTimeoutMS");
      await this.#exchange(frame, null, options.signal, timeoutMS);
    } finally {
      this.#busy = false;
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

  async #handshake(doc: Document, connectTimeoutMS: number, signal: AbortSignal | undefined): Promise<void> {
    let reply: Document;
    try {
      reply = this.#api !== undefined
        ? (await this.#opMsg({ ...doc, $db: "admin" }, undefined, false, signal, connectTimeoutMS))!
        : this.#commandDoc(
          await this.#opQuery("admin.$cmd", doc, { numberToReturn: -1, flags: 0 }, signal, connectTimeoutMS),
        );
      checkReply(reply);
    } catch (error) {
      this.close();
      throw error;
    }
    this.#hello = reply;
    this.#maxWireVersion = intField(reply.maxWireVersion, 0);
    this.#minWireVersion = intField(reply.minWireVersion, 0);
    this.#maxBsonObjectSize = intField(reply.maxBsonObjectSize, DEFAULT_MAX_BSON_OBJECT_SIZE);
    this.#maxWriteBatchSize = intField(reply.maxWriteBatchSize, DEFAULT_MAX_WRITE_BATCH_SIZE);
    const maxMessage = intField(reply.maxMessageSizeBytes, DEFAULT_MAX_MESSAGE_SIZE_BYTES);
    this.#maxMessageSizeBytes = Math.min(Math.max(maxMessage, 16 + 5), 0x7fffffff);
    this.#reader.maxMessageSizeBytes = this.#maxMessageSizeBytes;
    this.#encodeOptions = {
      maxMessageSizeBytes: this.#maxMessageSizeBytes,
      bson: { maxSize: this.#maxBsonObjectSize + COMMAND_OVERHEAD },
    };
  }

  // One OP_MSG round trip; null when moreToCome (no reply).
  async #opMsg(
    body: Document,
    sequences: DocumentSequence[] | undefined,
    moreToCome: boolean,
    signal: AbortSignal | undefined,
    timeoutMS: number,
    exhaustAllowed = false,
  ): Promise<Document | null> {
    this.#enter();
    try {
      const frame = encodeOpMsg(this.#writer, {
        requestId: nextRequestId(),
        flagBits: (moreToCome ? MsgFlags.moreToCome : 0) | (exhaustAllowed ? MsgFlags.exhaustAllowed : 0),
        body,
        sequences,
      }, this.#encodeOptions);
      const compress = this.#compressor !== undefined && !UNCOMPRESSIBLE_COMMANDS.has(Object.keys(body)[0]);
      const replyFrame = await this.#exchange(
        frame,
        moreToCome ? null : OP_MSG,
        signal,
        timeoutMS,
        exhaustAllowed,
        compress,
      );
      if (replyFrame === null) return null;
      return this.#decodeReply(() => decodeOpMsg(replyFrame, { bson: this.#decode }).body);
    } finally {
      this.#busy = false;
    }
  }

  async #opQuery(
    ns: string,
    query: Document,
    fields: { numberToReturn: number; flags: number; numberToSkip?: number; returnFieldsSelector?: Document },
    signal: AbortSignal | undefined,
    timeoutMS: number,
  ): Promise<OpReply> {
    this.#enter();
    try {
      const frame = encodeOpQuery(this.#writer, {
        requestId: nextRequestId(),
        fullCollectionName: ns,
        query,
        ...fields,
      }, this.#encodeOptions);
      const wrapped = query.$query;
      const inner: Document = wrapped !== null && typeof wrapped === "object" ? wrapped as Document : query;
      const compress = this.#compressor !== undefined && ns.endsWith(".$cmd") &&
        !UNCOMPRESSIBLE_COMMANDS.has(Object.keys(inner)[0]);
      const replyFrame = await this.#exchange(frame, OP_REPLY, signal, timeoutMS, false, compress);
      return this.#decodeReply(() => decodeOpReply(replyFrame!, { bson: this.#decode }));
    } finally {
      this.#busy = false;
    }
  }

  // The one document a command answers with over OP_REPLY.
  #commandDoc(reply: OpReply): Document {
    if ((reply.responseFlags & ResponseFlags.QueryFailure) !== 0) throw queryFailure(reply.documents[0] ?? {});
    if (reply.documents.length !== 1) {
      throw this.#protocolError(`a command reply must hold one document, this one holds ${reply.documents.length}`);
    }
    return reply.documents[0];
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
          reply = await decompressMessage(reply, { maxMessageSizeBytes: this.#maxMessageSizeBytes });
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

/**
 * Throws the error an ok:0 reply or a writeConcernError stands for; returns
 * the reply otherwise.
 */
function checkReply(reply: Document): Document {
  const ok = reply.ok;
  const okNumber = typeof ok === "bigint" ? Number(ok) : typeof ok === "boolean" ? Number(ok) : ok;
  if (okNumber !== 1) {
    const errmsg = typeof reply.errmsg === "string"
      ? reply.errmsg
      : typeof reply.$err === "string"
      ? reply.$err
      : "command failed";
    throw new OperationFailure(errmsg, {
      code: codeOf(reply.code),
      codeName: typeof reply.codeName === "string" ? reply.codeName : undefined,
      errorLabels: labelsOf(reply.errorLabels),
      response: reply,
    });
  }
  const wce = reply.writeConcernError;
  if (wce !== undefined && wce !== null && typeof wce === "object") {
    const w = wce as Document;
    throw new WriteConcernError(typeof w.errmsg === "string" ? w.errmsg : "write concern error", {
      code: codeOf(w.code),
      codeName: typeof w.codeName === "string" ? w.codeName : undefined,
      errorLabels: labelsOf(reply.errorLabels ?? w.errorLabels),
      response: reply,
    });
  }
  return reply;
}

// The fields a Stable API request adds to commands, or undefined for none.
function apiFields(api: ServerApi | undefined): Document | undefined {
  if (api === undefined) return undefined;
  if (api === null || typeof api !== "object" || api.version !== "1") {
    throw new ConfigurationError(
      `serverApi must be {version: "1", strict?, deprecationErrors?}, got ${
        api === null || typeof api !== "object" ? describe(api) : `version ${describe(api.version)}`
      }`,
    );
  }
  const fields: Document = { apiVersion: "1" };
  for (const [key, field] of [["strict", "apiStrict"], ["deprecationErrors", "apiDeprecationErrors"]] as const) {
    const value = api[key];
    if (value === undefined) continue;
    if (typeof value !== "boolean") {
      throw new ConfigurationError(`serverApi.${key} must be a boolean, got ${describe(value)}`);
    }
    fields[field] = value;
  }
  return fields;
}

function queryFailure(doc: Document): OperationFailure {
  const errmsg = typeof doc.$err === "string" ? doc.$err : typeof doc.errmsg === "string" ? doc.errmsg : "query failed";
  return new OperationFailure(errmsg, {
    code: codeOf(doc.code),
    codeName: typeof doc.codeName === "string" ? doc.codeName : undefined,
    errorLabels: labelsOf(doc.errorLabels),
    response: doc,
  });
}

function codeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}

function labelsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function intField(value: unknown, fallback: number): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : fallback;
}

function checkTimeout(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new ConfigurationError(
      `${name} must be a number from 0 (no limit) to ${MAX_TIMER_MS}, got ${describe(value)}`,
    );
  }
  return value;
}

function checkDb(db: unknown): void {
  if (typeof db !== "string" || db === "" || db.includes(".") || db.includes("\0")) {
    throw new ConfigurationError(`db must be a non-empty database name without "." or NUL, got ${describe(db)}`);
  }
}

function checkNamespace(ns: unknown): void {
  if (typeof ns !== "string" || ns.indexOf(".") <= 0 || ns.endsWith(".") || ns.includes("\0")) {
    throw new ConfigurationError(`ns must be "<db>.<collection>", got ${describe(ns)}`);
  }
}

function checkDocument(doc: unknown, name: string): void {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc) || doc instanceof Uint8Array) {
    throw new ConfigurationError(`${name} must be a document (a plain object), got ${describe(doc)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : Object.prototype.toString.call(value);
}

function checkCredential(credential: Credential): void {
  if (credential === null || typeof credential !== "object") {
    throw new ConfigurationError(`credential must be {username, password, source}, got ${describe(credential)}`);
  }
  const { username, password, source, mechanism } = credential;
  if (typeof username !== "string" || username === "") {
    throw new ConfigurationError("credential.username must be a non-empty string");
  }
  if (typeof password !== "string") throw new ConfigurationError("credential.password must be a string");
  if (typeof source !== "string" || source === "") {
    throw new ConfigurationError("credential.source must be a non-empty database name");
  }
  if (mechanism !== undefined && mechanism !== "SCRAM-SHA-1" && mechanism !== "SCRAM-SHA-256") {
    throw new ConfigurationError(
      `credential.mechanism must be "SCRAM-SHA-1" or "SCRAM-SHA-256", got ${describe(mechanism)}`,
    );
  }
}
