/**
 * A loopback mongod look-alike for the net-layer tests and the wire bench:
 * it answers the OP_QUERY `isMaster` handshake (and `hello`/`isMaster` over
 * OP_MSG, for the official driver), then hands every command to a handler
 * that may answer, hang, close, send half a reply, or send garbage. Every
 * request is recorded.
 *
 * Built on `tcp_server.ts` and the project's own `src/wire` codec.
 *
 * @module
 */
import { ByteWriter, type Document } from "../../src/bson/mod.ts";
import {
  decodeMessage,
  type DocumentSequence,
  encodeOpMsg,
  encodeOpReply,
  MessageReader,
  MsgFlags,
  OP_GET_MORE,
  OP_KILL_CURSORS,
  OP_MSG,
  OP_NAMES,
  OP_QUERY,
} from "../../src/wire/mod.ts";
import { type ServerConnection, startTcpServer, type TcpServer } from "./tcp_server.ts";

/** One request the server received. */
export interface RequestInfo {
  /** Which accepted connection it came on (1, 2, ...). */
  connection: number;
  /** Its position among the requests of that connection (1 = the handshake). */
  index: number;
  opCode: number;
  opName: string;
  requestId: number;
  /** OP_QUERY flags, or OP_MSG flagBits. */
  flags: number;
  /** OP_QUERY/OP_GET_MORE namespace; for OP_MSG `<$db>.$cmd`. */
  ns: string;
  /** The database (`$db`, or the namespace's first part). */
  db: string;
  /** The first key of the body (the command name), or "" for OP_GET_MORE/OP_KILL_CURSORS. */
  command: string;
  /** The OP_QUERY query / OP_MSG body; for OP_GET_MORE `{cursorId, numberToReturn}`, for OP_KILL_CURSORS `{cursorIds}`. */
  body: Document;
  /** OP_MSG kind-1 sections. */
  sequences: DocumentSequence[];
  /** OP_QUERY numberToReturn / numberToSkip. */
  numberToReturn?: number;
  numberToSkip?: number;
  /** Whether this is an isMaster/hello. */
  isHello: boolean;
}

/** Full control of a reply. */
export interface WireReply {
  /** The reply body (OP_MSG) or single document (OP_REPLY). */
  reply?: Document;
  /** OP_REPLY documents (instead of `reply`). */
  documents?: Document[];
  /** OP_REPLY cursorId / responseFlags. */
  cursorId?: bigint;
  responseFlags?: number;
  /** Override responseTo (e.g. a wrong one). */
  responseTo?: number;
  /** OP_MSG replies sent first with the moreToCome flag. */
  moreToCome?: Document[];
  /** Send only the `moreToCome` replies, then nothing (a stream that stalls). */
  noFinal?: boolean;
  /** Send these bytes instead of a reply. */
  bytes?: Uint8Array;
  /**
   * Bytes that follow the reply, as a misbehaving server or proxy sends them:
   * `"duplicate"` repeats the reply; or these bytes (junk). In the same write,
   * or `extraDelayMS` ms later while the client's connection is idle.
   */
  extra?: "duplicate" | Uint8Array;
  /** See `extra`; default 0: in the reply's own write. */
  extraDelayMS?: number;
}

/** What a handler may answer. `undefined` means the default answer. */
export type FakeReply =
  | Document
  | "hang"
  | "close"
  | "half"
  | "garbage"
  | "garbled"
  | { $wire: WireReply }
  | undefined;

/** Decides the answer to one request. */
export type FakeHandler = (cmd: Document, info: RequestInfo) => FakeReply | Promise<FakeReply>;

/** Options of {@linkcode startFakeMongod}. */
export interface FakeMongodOptions {
  /** maxWireVersion in the handshake reply (default 17). */
  maxWireVersion?: number;
  /** Fields merged into the handshake reply (e.g. `maxMessageSizeBytes`, `setName`). */
  hello?: Document;
  handler?: FakeHandler;
  /** Keep every request in `requests` (default true; the bench turns it off). */
  record?: boolean;
  /** Listen on this Unix socket path instead of 127.0.0.1. */
  path?: string;
  /** Serve TLS with this PEM certificate chain and key. */
  tls?: { cert: string; key: string };
}

/** A running fake server. */
export interface FakeMongod {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** Every request received, in order. */
  readonly requests: RequestInfo[];
  /** Replaceable at any time. */
  handler: FakeHandler | undefined;
  /** Replaceable at any time. */
  hello: Document;
  maxWireVersion: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections still open (neither side has closed them yet). */
  readonly openConnections: number;
  /** Requests other than the handshake, optionally of one command. */
  commands(name?: string): RequestInfo[];
  /** Closes every open connection from the server side, as a server that drops idle clients does; keeps listening. */
  dropConnections(): void;
  /** How many `extra` byte runs (see {@linkcode WireReply.extra}) were written so far. */
  readonly extrasWritten: number;
  /** Whether accepted connection `n` (1, 2, ...; see {@linkcode RequestInfo.connection}) is closed. */
  isClosed(connection: number): boolean;
  close(): Promise<void>;
}

/** Starts a fake mongod on 127.0.0.1 at a free port. */
export async function startFakeMongod(options: FakeMongodOptions = {}): Promise<FakeMongod> {
  const requests: RequestInfo[] = [];
  let connections = 0;
  let open = 0;
  const live = new Set<ServerConnection>();
  const closed = new Set<number>();
  const state: State = {
    handler: options.handler,
    hello: options.hello ?? {},
    maxWireVersion: options.maxWireVersion ?? 17,
    extrasWritten: 0,
  };
  const server: TcpServer = await startTcpServer({
    path: options.path,
    tls: options.tls,
    onConnection: (conn) => {
      open++;
      live.add(conn);
      const n = ++connections;
      conn.closed.then(() => {
        open--;
        live.delete(conn);
        closed.add(n);
      });
      return serve(conn, n, options.record === false ? null : requests, state);
    },
  });
  return {
    host: "127.0.0.1",
    port: server.port,
    address: `127.0.0.1:${server.port}`,
    requests,
    get handler() {
      return state.handler;
    },
    set handler(h) {
      state.handler = h;
    },
    get hello() {
      return state.hello;
    },
    set hello(h) {
      state.hello = h;
    },
    get maxWireVersion() {
      return state.maxWireVersion;
    },
    set maxWireVersion(v) {
      state.maxWireVersion = v;
    },
    get accepted() {
      return server.accepted;
    },
    get openConnections() {
      return open;
    },
    commands(name?: string) {
      return requests.filter((r) => !r.isHello && (name === undefined || r.command === name));
    },
    dropConnections() {
      for (const conn of live) conn.close();
    },
    get extrasWritten() {
      return state.extrasWritten;
    },
    isClosed(n: number) {
      return closed.has(n);
    },
    close: () => server.close(),
  };
}

interface State {
  handler: FakeHandler | undefined;
  hello: Document;
  maxWireVersion: number;
  extrasWritten: number;
}

const HELLO_NAMES = new Set(["isMaster", "ismaster", "hello"]);

/** The default handshake reply for `maxWireVersion`. */
export function helloReply(maxWireVersion: number, connectionId: number, extra: Document = {}): Document {
  return {
    ismaster: true,
    isWritablePrimary: true,
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion,
    readOnly: false,
    ...extra,
    ok: 1,
  };
}

/** The answer when the handler has none. */
function defaultReply(cmd: Document, info: RequestInfo): Document {
  const name = info.command;
  if (name === "insert") {
    const docs = info.sequences.find((s) => s.identifier === "documents")?.documents ?? cmd.documents;
    return { n: Array.isArray(docs) ? docs.length : 0, ok: 1 };
  }
  if (name === "find") return { cursor: { id: 0n, ns: `${info.db}.${String(cmd.find)}`, firstBatch: [] }, ok: 1 };
  if (name === "endSessions") return { ok: 1 };
  return { ok: 1 };
}

async function serve(
  conn: ServerConnection,
  connection: number,
  requests: RequestInfo[] | null,
  state: State,
): Promise<void> {
  const reader = new MessageReader({ maxMessageSizeBytes: 64 * 1024 * 1024 });
  const writer = new ByteWriter();
  let index = 0;
  let hung = false;
  let replyId = 1_000_000 * connection;
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) break;
    reader.push(chunk);
    let frame: Uint8Array | null;
    while ((frame = reader.next()) !== null) {
      if (hung) continue;
      const msg = decodeMessage(frame);
      const info: RequestInfo = {
        connection,
        index: ++index,
        opCode: msg.opCode,
        opName: OP_NAMES[msg.opCode] ?? String(msg.opCode),
        requestId: msg.requestId,
        flags: 0,
        ns: "",
        db: "",
        command: "",
        body: {},
        sequences: [],
        isHello: false,
      };
      if (msg.opCode === OP_QUERY) {
        info.flags = msg.flags;
        info.ns = msg.fullCollectionName;
        info.db = msg.fullCollectionName.slice(0, msg.fullCollectionName.indexOf("."));
        info.body = msg.query;
        info.numberToReturn = msg.numberToReturn;
        info.numberToSkip = msg.numberToSkip;
      } else if (msg.opCode === OP_MSG) {
        info.flags = msg.flagBits;
        info.db = String(msg.body.$db);
        info.ns = `${info.db}.$cmd`;
        info.body = msg.body;
        info.sequences = msg.sequences;
      } else if (msg.opCode === OP_GET_MORE) {
        info.ns = msg.fullCollectionName;
        info.db = msg.fullCollectionName.slice(0, msg.fullCollectionName.indexOf("."));
        info.body = { cursorId: msg.cursorId, numberToReturn: msg.numberToReturn };
      } else if (msg.opCode === OP_KILL_CURSORS) {
        info.body = { cursorIds: msg.cursorIds };
      } else {
        continue; // replies from a confused client: ignore
      }
      if (msg.opCode === OP_QUERY || msg.opCode === OP_MSG) {
        const cmdDoc = info.body.$query !== undefined && typeof info.body.$query === "object"
          ? info.body.$query as Document
          : info.body;
        info.command = Object.keys(cmdDoc)[0] ?? "";
        info.isHello = HELLO_NAMES.has(info.command) && (msg.opCode === OP_MSG || info.ns.endsWith(".$cmd"));
      }
      requests?.push(info);
      if (msg.opCode === OP_KILL_CURSORS) continue;
      if (msg.opCode === OP_MSG && (msg.flagBits & MsgFlags.moreToCome) !== 0) continue;

      let answer: FakeReply = state.handler === undefined ? undefined : await state.handler(info.body, info);
      if (answer === undefined) {
        if (info.isHello) answer = helloReply(state.maxWireVersion, connection, state.hello);
        else if (msg.opCode === OP_QUERY && !info.ns.endsWith(".$cmd")) answer = { $wire: { documents: [] } };
        else if (msg.opCode === OP_GET_MORE) answer = { $wire: { documents: [], cursorId: 0n } };
        else answer = defaultReply(info.body, info);
      }
      if (answer === "hang") {
        hung = true;
        continue;
      }
      if (answer === "close") {
        conn.close();
        return;
      }
      if (answer === "garbage") {
        await conn.write(new Uint8Array(64).fill(0xde));
        continue;
      }
      const mangled = answer === "half" || answer === "garbled";
      const wire: WireReply = isWire(answer)
        ? answer.$wire
        : mangled
        ? { reply: { ok: 1, filler: "x".repeat(200) } }
        : { reply: answer as Document };
      if (wire.bytes !== undefined) {
        await conn.write(wire.bytes);
        continue;
      }
      const responseTo = wire.responseTo ?? msg.requestId;
      let bytes: Uint8Array;
      if (msg.opCode === OP_MSG) {
        const parts: Uint8Array[] = [];
        let to = responseTo;
        for (const doc of wire.moreToCome ?? []) {
          const id = ++replyId;
          parts.push(encodeOpMsg(writer, { requestId: id, responseTo: to, flagBits: MsgFlags.moreToCome, body: doc }));
          to = id;
        }
        if (wire.noFinal !== true) {
          parts.push(encodeOpMsg(writer, { requestId: ++replyId, responseTo: to, body: wire.reply ?? { ok: 1 } }));
        }
        bytes = concat(parts);
      } else {
        bytes = encodeOpReply(writer, {
          requestId: ++replyId,
          responseTo,
          responseFlags: wire.responseFlags ?? 0,
          cursorId: wire.cursorId ?? 0n,
          documents: wire.documents ?? [wire.reply ?? { ok: 1 }],
        });
      }
      if (wire.extra !== undefined) {
        const extra = wire.extra === "duplicate" ? bytes : wire.extra;
        if ((wire.extraDelayMS ?? 0) > 0) {
          await conn.write(bytes);
          setTimeout(() => {
            conn.write(extra).then(() => state.extrasWritten++, () => {});
          }, wire.extraDelayMS);
          continue;
        }
        bytes = concat([bytes, extra]);
        state.extrasWritten++;
      }
      if (answer === "garbled") {
        // A valid header and length around a body that is not a message.
        bytes = bytes.slice();
        for (let i = 16; i < bytes.length; i++) bytes[i] = 0xee;
      }
      if (answer === "half") {
        await conn.write(bytes.subarray(0, bytes.length >> 1));
        hung = true;
        continue;
      }
      await conn.write(bytes);
    }
  }
  conn.close();
}

function isWire(answer: unknown): answer is { $wire: WireReply } {
  return typeof answer === "object" && answer !== null && "$wire" in answer;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
