/**
 * Command monitoring for a connection: what its events say about a command
 * sent as OP_MSG or OP_QUERY, and about the legacy opcodes (OP_QUERY finds,
 * OP_GET_MORE, OP_KILL_CURSORS), which the command monitoring specification
 * publishes as the `find`, `getMore` and `killCursors` commands they stand for.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import type { DocumentSequence, OpReply } from "../wire/mod.ts";
import type { QueryOptions } from "./legacy.ts";
import type { EventSink, NetEventInitMap } from "./monitoring.ts";

/**
 * One command being published: filled in by the connection when the frame is
 * built (its request id and start time) and read again when it settles.
 */
export interface MonitoredCommand {
  readonly db: string;
  readonly name: string;
  /** The command as published (built only when someone listens to commandStarted). */
  readonly command: () => Document;
  /** Whether command and reply are published as `{}`. */
  sensitive: boolean;
  requestId: number;
  start: number;
}

/**
 * Whether any command event would reach a listener.
 *
 * @param events The connection's sink.
 * @returns True when at least one of the three command events is wanted.
 */
export function wantsCommandEvents(events: EventSink<NetEventInitMap>): boolean {
  return events.wants("commandStarted") || events.wants("commandSucceeded") || events.wants("commandFailed");
}

/**
 * The command as sent on OP_MSG, for `commandStarted`: the caller's fields,
 * document sequences as arrays, `$db` and `$readPreference`.
 *
 * @param db The database.
 * @param cmd The caller's command.
 * @param options Its sequences and read preference.
 * @returns A new document.
 */
export function commandAsSent(
  db: string,
  cmd: Document,
  options: { sequences?: DocumentSequence[]; readPreference?: Document },
): Document {
  const body: Document = { ...cmd };
  for (const seq of options.sequences ?? []) body[seq.identifier] = seq.documents;
  body.$db = db;
  if (options.readPreference !== undefined) body.$readPreference = options.readPreference;
  return body;
}

/**
 * What an OP_QUERY is published as: the command on `<db>.$cmd` (unwrapped
 * from `$query`), or, on a collection, the `find` command it stands for.
 *
 * @param ns The namespace queried.
 * @param query The query document (possibly `{$query, $orderby, ...}`).
 * @param options The OP_QUERY options.
 * @returns The database, the command name and the command.
 */
export function legacyQueryCommand(
  ns: string,
  query: Document,
  options: QueryOptions,
): { db: string; name: string; command: Document; isCommand: boolean } {
  const dot = ns.indexOf(".");
  const db = ns.slice(0, dot);
  const coll = ns.slice(dot + 1);
  const wrapped = query.$query !== null && typeof query.$query === "object";
  const inner = wrapped ? query.$query as Document : query;
  if (coll === "$cmd") {
    return { db, name: Object.keys(inner)[0] ?? "", command: { ...inner, $db: db }, isCommand: true };
  }
  const command: Document = { find: coll, filter: inner };
  if (wrapped) {
    for (const [k, v] of Object.entries(query)) {
      if (k === "$query") continue;
      const field = k === "$orderby" ? "sort" : k.startsWith("$") ? k.slice(1) : k;
      command[field] = v;
    }
  }
  if (options.fields !== undefined) command.projection = options.fields;
  if (options.skip !== undefined && options.skip !== 0) command.skip = options.skip;
  const n = options.numberToReturn ?? 0;
  if (n < 0) {
    command.limit = -n;
    command.singleBatch = true;
  } else if (n > 0) command.batchSize = n;
  command.$db = db;
  return { db, name: "find", command, isCommand: false };
}

/**
 * The reply a legacy OP_REPLY is published as: the command reply for a
 * command, a `find` / `getMore` reply with the cursor for a query.
 *
 * @param ns The namespace.
 * @param reply The OP_REPLY.
 * @param batch `firstBatch` for a query, `nextBatch` for a getMore.
 * @returns The reply document.
 */
export function legacyCursorReply(ns: string, reply: OpReply, batch: "firstBatch" | "nextBatch"): Document {
  return { ok: 1, cursor: { id: reply.cursorId, ns, [batch]: reply.documents } };
}
