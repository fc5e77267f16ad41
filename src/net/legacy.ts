/**
 * The legacy OP_QUERY path, for servers below wire version 6 (commands on
 * `<db>.$cmd`, and the handshake on every server) and below 4 (OP_QUERY
 * finds, OP_GET_MORE, OP_KILL_CURSORS), over a connection's round trip.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import type { ByteWriter, DecodeOptions, Document } from "../bson/mod.ts";
import {
  decodeOpReply,
  type DocumentSequence,
  type EncodeMessageOptions,
  encodeOpGetMore,
  encodeOpKillCursors,
  encodeOpQuery,
  nextRequestId,
  OP_REPLY,
  type OpReply,
  QueryFlags,
  UNCOMPRESSIBLE_COMMANDS,
} from "../wire/mod.ts";
import { checkOpReply, commandDocument } from "./reply.ts";

/**
 * Options of `Connection.query` (legacy OP_QUERY, wire < 4).
 *
 * @example
 * ```ts
 * import type { QueryOptions } from "./legacy.ts";
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
 * (`Connection.getMore`, `Connection.killCursors`).
 *
 * @example
 * ```ts
 * import type { RoundTripOptions } from "./legacy.ts";
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

/** Builds one outgoing frame in the connection's writer. */
export type EncodeFrame = (writer: ByteWriter, options: EncodeMessageOptions) => Uint8Array;

/**
 * What the legacy path uses of a connection: one round trip at a time.
 *
 * @example
 * ```ts ignore
 * import type { LegacyChannel } from "./legacy.ts";
 *
 * const reply = await channel.roundTrip(encode, OP_REPLY, decode, { timeoutMS: 0 }, false);
 * ```
 */
export interface LegacyChannel {
  /** The server, for messages. */
  readonly address: string;
  /** How reply documents are decoded. */
  readonly bson: DecodeOptions | undefined;
  /**
   * Sends the frame `encode` builds and, unless `replyOp` is null, returns
   * its reply decoded by `decode` (null when no reply is awaited). Any
   * failure but an encoding one closes the connection.
   */
  roundTrip<T>(
    encode: EncodeFrame,
    replyOp: number | null,
    decode: (frame: Uint8Array) => T,
    bounds: { signal?: AbortSignal; timeoutMS: number },
    compressible: boolean,
  ): Promise<T | null>;
  /** Closes the connection and annotates `error`: the server answered out of step. */
  outOfStep(error: WireProtocolError): unknown;
}

/**
 * Options of {@linkcode legacyCommand}: the command-level ones of `command()`.
 *
 * @example
 * ```ts
 * import type { LegacyCommandOptions } from "./legacy.ts";
 *
 * const options: LegacyCommandOptions = { secondaryOk: true };
 * ```
 */
export interface LegacyCommandOptions {
  /** Set the SecondaryOk flag bit. */
  secondaryOk?: boolean;
  /** Sent in the `{$query: cmd, $readPreference}` wrapping that mongos reads. */
  readPreference?: Document;
  /** Become array fields of the command. */
  sequences?: DocumentSequence[];
}

/**
 * Runs `cmd` as an OP_QUERY on `<db>.$cmd` (numberToReturn -1) and returns
 * the reply's one document, unchecked (`ok: 0` is returned as it is).
 *
 * @throws {OperationFailure} for a QueryFailure reply.
 * @throws {WireProtocolError} for a reply that holds other than one document (the connection is closed).
 * @example
 * ```ts ignore
 * import { legacyCommand } from "./legacy.ts";
 *
 * const reply = await legacyCommand(channel, "admin", { ping: 1 }, {}, { timeoutMS: 0 });
 * ```
 */
export async function legacyCommand(
  channel: LegacyChannel,
  db: string,
  cmd: Document,
  options: LegacyCommandOptions,
  bounds: { signal?: AbortSignal; timeoutMS: number },
): Promise<Document> {
  let query: Document = cmd;
  const sequences = options.sequences;
  if (sequences !== undefined && sequences.length > 0) {
    query = { ...cmd };
    for (const seq of sequences) query[seq.identifier] = seq.documents;
  }
  if (options.readPreference !== undefined) query = { $query: query, $readPreference: options.readPreference };
  const ns = `${db}.$cmd`;
  const flags = options.secondaryOk === true ? QueryFlags.SecondaryOk : 0;
  const reply = await channel.roundTrip(
    (writer, encodeOptions) =>
      encodeOpQuery(
        writer,
        { requestId: nextRequestId(), fullCollectionName: ns, query, numberToReturn: -1, flags },
        encodeOptions,
      ),
    OP_REPLY,
    (frame) => decodeOpReply(frame, { bson: channel.bson }),
    bounds,
    !UNCOMPRESSIBLE_COMMANDS.has(Object.keys(cmd)[0]),
  );
  try {
    return commandDocument(reply!, channel.address);
  } catch (error) {
    throw error instanceof WireProtocolError ? channel.outOfStep(error) : error;
  }
}

/**
 * OP_QUERY on the collection namespace `ns` (wire < 4): the whole OP_REPLY.
 *
 * @throws {OperationFailure} for a QueryFailure reply.
 * @example
 * ```ts ignore
 * import { legacyQuery } from "./legacy.ts";
 *
 * const reply = await legacyQuery(channel, "test.people", { name: "Ada" }, { numberToReturn: 10 }, 0);
 * ```
 */
export async function legacyQuery(
  channel: LegacyChannel,
  ns: string,
  query: Document,
  options: QueryOptions,
  timeoutMS: number,
): Promise<OpReply> {
  const wrapped = query.$query;
  const inner: Document = wrapped !== null && typeof wrapped === "object" ? wrapped as Document : query;
  const reply = await channel.roundTrip(
    (writer, encodeOptions) =>
      encodeOpQuery(writer, {
        requestId: nextRequestId(),
        fullCollectionName: ns,
        query,
        numberToSkip: options.skip ?? 0,
        numberToReturn: options.numberToReturn ?? 0,
        flags: (options.flags ?? 0) | (options.secondaryOk === true ? QueryFlags.SecondaryOk : 0),
        returnFieldsSelector: options.fields,
      }, encodeOptions),
    OP_REPLY,
    (frame) => decodeOpReply(frame, { bson: channel.bson }),
    { signal: options.signal, timeoutMS },
    ns.endsWith(".$cmd") && !UNCOMPRESSIBLE_COMMANDS.has(Object.keys(inner)[0]),
  );
  return checkOpReply(reply!);
}

/**
 * OP_GET_MORE (wire < 4): the next batch of cursor `cursorId` on `ns`.
 *
 * @throws {OperationFailure} with code 43 (CursorNotFound), or for a QueryFailure reply.
 * @example
 * ```ts ignore
 * import { legacyGetMore } from "./legacy.ts";
 *
 * const next = await legacyGetMore(channel, "test.people", 5n, 2, {}, 0);
 * ```
 */
export async function legacyGetMore(
  channel: LegacyChannel,
  ns: string,
  cursorId: bigint,
  numberToReturn: number,
  options: RoundTripOptions,
  timeoutMS: number,
): Promise<OpReply> {
  const reply = await channel.roundTrip(
    (writer, encodeOptions) =>
      encodeOpGetMore(
        writer,
        { requestId: nextRequestId(), fullCollectionName: ns, numberToReturn, cursorId },
        encodeOptions,
      ),
    OP_REPLY,
    (frame) => decodeOpReply(frame, { bson: channel.bson }),
    { signal: options.signal, timeoutMS },
    false,
  );
  return checkOpReply(reply!, { cursorId, address: channel.address });
}

/**
 * OP_KILL_CURSORS (wire < 4): resolves once written (the server sends no reply).
 *
 * @example
 * ```ts ignore
 * import { legacyKillCursors } from "./legacy.ts";
 *
 * await legacyKillCursors(channel, [5n], {}, 0);
 * ```
 */
export async function legacyKillCursors(
  channel: LegacyChannel,
  cursorIds: readonly bigint[],
  options: RoundTripOptions,
  timeoutMS: number,
): Promise<void> {
  await channel.roundTrip(
    (writer, encodeOptions) => encodeOpKillCursors(writer, { requestId: nextRequestId(), cursorIds }, encodeOptions),
    null,
    () => undefined,
    { signal: options.signal, timeoutMS },
    false,
  );
}
