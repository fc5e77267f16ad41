/**
 * The process side of a simulated server, shared by a replica-set member
 * (`member.ts`) and a mongos (`mongos.ts`): the listener and the
 * connections it accepted, the `topologyVersion` its hellos report (a
 * `processId` new on every start and a counter whose every change wakes the
 * awaitable hellos), its request log, the loop that cuts a connection's
 * bytes into wire messages, and how a reply is framed and sent.
 *
 * @module
 */
import { type ByteWriter, type Document, ObjectId } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { encodeOpMsg, MessageReader, nextRequestId } from "../wire/mod.ts";
import { toFailure } from "./_server_error.ts";
import { listen, type Listener, type ListenerConnection } from "./listener.ts";
import type { RequestLogEntry } from "./member.ts";

/** Entries a request log keeps; the oldest go first. */
const MAX_LOG = 10_000;
/** The largest message a simulated server reads (mongod's maxMessageSizeBytes). */
const MAX_MESSAGE_SIZE_BYTES = 48_000_000;

/** A simulated server process: see the module doc. */
export class ServerProcess {
  readonly hostname: string;
  #port: number;
  #listener: Listener | undefined;
  #acceptLoop: Promise<void> | undefined;
  #connections = new Set<ListenerConnection>();
  #connectionIds = 0;
  #log: RequestLogEntry[] = [];
  #processId = new ObjectId();
  #counter = 0n;
  #changed: Promise<void>;
  #signalChange!: () => void;
  #startedAt = Date.now();

  /** A stopped process that will listen on `hostname:port` (port 0: any free one, kept across restarts). */
  constructor(hostname: string, port: number) {
    this.hostname = hostname;
    this.#port = port;
    this.#changed = new Promise((r) => (this.#signalChange = r));
  }

  /** The listening port (the one asked for until the first start). */
  get port(): number {
    return this.#port;
  }

  /** Whether it is listening. */
  get alive(): boolean {
    return this.#listener !== undefined;
  }

  /** The `processId` of `topologyVersion` (new on every start). */
  get processId(): ObjectId {
    return this.#processId;
  }

  /** The `counter` of `topologyVersion` (0 at every start). */
  get counter(): bigint {
    return this.#counter;
  }

  /** Settles at the next {@linkcode ServerProcess.bump}. */
  get changed(): Promise<void> {
    return this.#changed;
  }

  /** When it last started (ms since epoch). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Connections accepted since it was created. */
  get connectionsCreated(): number {
    return this.#connectionIds;
  }

  /** The id of a newly accepted connection (from 1). */
  nextConnectionId(): number {
    return ++this.#connectionIds;
  }

  /** The request log. */
  get requests(): readonly RequestLogEntry[] {
    return this.#log;
  }

  /** Adds a request to the log (which keeps the last 10,000). */
  record(entry: RequestLogEntry): void {
    if (this.#log.length >= MAX_LOG) this.#log.splice(0, this.#log.length - MAX_LOG + 1);
    this.#log.push(entry);
  }

  /** Empties the request log. */
  clearLog(): void {
    this.#log = [];
  }

  /** Increments `topologyVersion.counter` and wakes the awaitable hellos. */
  bump(): void {
    this.#counter++;
    const signal = this.#signalChange;
    this.#changed = new Promise((r) => (this.#signalChange = r));
    signal();
  }

  /**
   * Starts listening, a new `processId` and counter 0, and serves each
   * connection with `serve`; false when it was already listening.
   */
  async start(serve: (conn: ListenerConnection) => Promise<void>): Promise<boolean> {
    if (this.#listener !== undefined) return false;
    const listener = await listen({ hostname: this.hostname, port: this.#port });
    this.#listener = listener;
    this.#port = listener.port;
    this.#processId = new ObjectId();
    this.#counter = 0n;
    this.#startedAt = Date.now();
    this.#acceptLoop = (async () => {
      for await (const conn of listener.connections) {
        this.#connections.add(conn);
        conn.closed.then(() => this.#connections.delete(conn));
        serve(conn).catch(() => conn.close());
      }
    })();
    return true;
  }

  /**
   * Stops listening and aborts every connection, as a killed process does,
   * then wakes the awaitable hellos so their loops end; false when it was
   * not listening.
   */
  async stop(): Promise<boolean> {
    const listener = this.#listener;
    if (listener === undefined) return false;
    this.#listener = undefined;
    for (const c of [...this.#connections]) c.abort();
    await listener.close();
    await this.#acceptLoop;
    this.bump();
    return true;
  }

  /** Closes every open client connection (pre-4.2 servers do this on stepdown). */
  closeConnections(): void {
    for (const c of [...this.#connections]) c.close();
  }
}

/**
 * Reads `conn` until it ends, cutting its bytes into wire messages and
 * giving each to `handle`. The connection is closed when a message's length
 * is impossible (as mongod drops it) or `handle` says false; reading stops
 * when the process is no longer `alive`.
 */
export async function serveMessages(
  conn: ListenerConnection,
  alive: () => boolean,
  handle: (frame: Uint8Array) => Promise<boolean>,
): Promise<void> {
  const reader = new MessageReader({ maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES });
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) return;
    const frames: Uint8Array[] = [];
    try {
      reader.push(chunk);
      for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f);
    } catch {
      conn.close();
      return;
    }
    for (const frame of frames) {
      if (!alive()) return;
      if (!(await handle(frame))) {
        conn.close();
        return;
      }
    }
  }
}

/**
 * An OP_MSG reply to `responseTo`. A body that cannot be encoded (too large,
 * or not BSON) is answered with the error instead, as mongod does:
 * BSONObjectTooLarge for a size or BSON failure.
 */
export function encodeReply(writer: ByteWriter, responseTo: number, body: Document, flagBits = 0): Uint8Array {
  try {
    return encodeOpMsg(writer, { requestId: nextRequestId(), responseTo, body, flagBits });
  } catch (e) {
    const f = toFailure(e);
    const tooLarge = f.code === ErrorCode.InvalidBSON;
    return encodeOpMsg(writer, {
      requestId: nextRequestId(),
      responseTo,
      body: {
        ok: 0,
        errmsg: f.errmsg,
        code: tooLarge ? ErrorCode.BSONObjectTooLarge : f.code,
        codeName: tooLarge ? "BSONObjectTooLarge" : f.codeName,
      },
    });
  }
}

/** Writes `bytes` to `conn`; false when the connection is gone. */
export async function sendMessage(conn: ListenerConnection, bytes: Uint8Array): Promise<boolean> {
  try {
    await conn.write(bytes);
    return true;
  } catch {
    return false;
  }
}
