/**
 * A tiny raw wire-protocol client for driving the simulator in tests: frames
 * built with src/wire, bytes carried by src/net's connectSocket.
 */
import { ByteWriter, type Document } from "../../src/bson/mod.ts";
import {
  decodeMessage,
  encodeOpGetMore,
  encodeOpKillCursors,
  encodeOpMsg,
  encodeOpQuery,
  MessageReader,
  nextRequestId,
  OP_MSG,
  OP_REPLY,
  type OpMsg,
  type OpReply,
  type WireMessage,
} from "../../src/wire/mod.ts";
import { connectSocket, type Socket } from "../../src/net/socket.ts";

export class RawClient {
  #socket: Socket;
  #reader = new MessageReader();
  #writer = new ByteWriter();
  constructor(socket: Socket) {
    this.#socket = socket;
  }

  static async connect(host: string): Promise<RawClient> {
    const colon = host.lastIndexOf(":");
    const socket = await connectSocket({
      host: host.slice(0, colon),
      port: Number(host.slice(colon + 1)),
      connectTimeoutMS: 2000,
    });
    return new RawClient(socket);
  }

  get closed(): Promise<void> {
    return this.#socket.closed;
  }

  async send(bytes: Uint8Array): Promise<void> {
    await this.#socket.write(bytes);
  }

  /** The next whole frame, or null at end of stream. */
  async readFrame(): Promise<Uint8Array | null> {
    for (;;) {
      const f = this.#reader.next();
      if (f !== null) return f;
      const chunk = await this.#socket.read();
      if (chunk === null) return null;
      this.#reader.push(chunk);
    }
  }

  async readMessage(): Promise<WireMessage | null> {
    const f = await this.readFrame();
    return f === null ? null : decodeMessage(f);
  }

  /** OP_MSG command; returns the reply body. */
  async command(
    db: string,
    body: Document,
    options: {
      readPreference?: Document;
      sequences?: { identifier: string; documents: Document[] }[];
      flagBits?: number;
    } = {},
  ): Promise<Document> {
    const full: Document = { ...body, $db: db };
    if (options.readPreference !== undefined) full.$readPreference = options.readPreference;
    await this.send(encodeOpMsg(this.#writer, {
      requestId: nextRequestId(),
      body: full,
      sequences: options.sequences,
      flagBits: options.flagBits,
    }));
    const m = await this.readMessage();
    if (m === null) throw new Error("connection closed before the reply");
    if (m.opCode !== OP_MSG) throw new Error(`expected OP_MSG, got ${m.opCode}`);
    return (m as OpMsg).body;
  }

  /** OP_QUERY; returns the OP_REPLY. */
  async query(
    ns: string,
    query: Document,
    options: { flags?: number; numberToReturn?: number; numberToSkip?: number; returnFieldsSelector?: Document } = {},
  ): Promise<OpReply> {
    await this.send(encodeOpQuery(this.#writer, {
      requestId: nextRequestId(),
      fullCollectionName: ns,
      query,
      flags: options.flags,
      numberToReturn: options.numberToReturn ?? (ns.endsWith(".$cmd") ? -1 : 0),
      numberToSkip: options.numberToSkip,
      returnFieldsSelector: options.returnFieldsSelector,
    }));
    const m = await this.readMessage();
    if (m === null) throw new Error("connection closed before the reply");
    if (m.opCode !== OP_REPLY) throw new Error(`expected OP_REPLY, got ${m.opCode}`);
    return m as OpReply;
  }

  /** A command over OP_QUERY on db.$cmd; returns the one reply document. */
  async legacyCommand(db: string, cmd: Document, flags = 0): Promise<Document> {
    const r = await this.query(`${db}.$cmd`, cmd, { flags });
    return r.documents[0];
  }

  async getMore(ns: string, cursorId: bigint, numberToReturn = 0): Promise<OpReply> {
    await this.send(
      encodeOpGetMore(this.#writer, { requestId: nextRequestId(), fullCollectionName: ns, cursorId, numberToReturn }),
    );
    const m = await this.readMessage();
    if (m === null || m.opCode !== OP_REPLY) throw new Error("expected OP_REPLY");
    return m as OpReply;
  }

  async killCursors(ids: bigint[]): Promise<void> {
    await this.send(encodeOpKillCursors(this.#writer, { requestId: nextRequestId(), cursorIds: ids }));
  }

  close(): void {
    this.#socket.close();
  }
}

export async function withClient<T>(host: string, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(host);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms, at most `tries` times. */
export async function eventually(cond: () => boolean | Promise<boolean>, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error("condition not reached");
}
