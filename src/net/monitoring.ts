/**
 * What the network layer tells a monitoring listener: the fields of the
 * command monitoring and CMAP events, and the small sink they are handed to.
 * The client owns the `EventTarget` and the event classes; this layer only
 * asks `wants(type)` (a counter lookup) and, when true, builds the plain
 * fields and calls `emit`. With no listener nothing is allocated.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";

/**
 * Receives monitoring events from the layers below the client. `wants` is
 * asked before anything is built, so it must be cheap; an implementation may
 * answer true when nobody listens (that only costs the event), never false
 * when someone does.
 *
 * @example
 * ```ts
 * import type { EventSink, NetEventInitMap } from "./monitoring.ts";
 *
 * const seen: string[] = [];
 * const sink: EventSink<NetEventInitMap> = {
 *   wants: (type) => type === "poolReady",
 *   emit: (type) => void seen.push(type),
 * };
 * if (sink.wants("poolReady")) sink.emit("poolReady", { address: "db1:27017" });
 * console.log(seen); // ["poolReady"]
 * ```
 */
export interface EventSink<M> {
  /** Whether an event of this type would reach a listener. */
  wants(type: keyof M & string): boolean;
  /** Delivers one event; never throws (a listener's exception is the listener's). */
  emit<K extends keyof M & string>(type: K, init: M[K]): void;
}

/**
 * The fields every command monitoring event has.
 *
 * @example
 * ```ts
 * import type { CommandEventBase } from "./monitoring.ts";
 *
 * const base: CommandEventBase = {
 *   requestId: 7, operationId: 7, connectionId: 1, serverConnectionId: 12,
 *   address: "db1:27017", databaseName: "test", commandName: "find",
 * };
 * ```
 */
export interface CommandEventBase {
  /** The wire message's request id. */
  readonly requestId: number;
  /** Links the events of one operation; the request id unless the operation has its own. */
  readonly operationId: number;
  /** The driver's id of the connection (unique within its pool). */
  readonly connectionId: number;
  /** The server's id of the connection (`connectionId` of its hello reply), if it sent one. */
  readonly serverConnectionId: number | undefined;
  /** The server, `host:port`. */
  readonly address: string;
  /** The database the command ran in. */
  readonly databaseName: string;
  /** The command's name (its first key). */
  readonly commandName: string;
  /** The load balancer's service id, when behind one. */
  readonly serviceId?: unknown;
}

/**
 * The fields of `commandStarted`.
 *
 * @example
 * ```ts
 * import type { CommandStartedInit } from "./monitoring.ts";
 *
 * const init: CommandStartedInit = {
 *   requestId: 7, operationId: 7, connectionId: 1, serverConnectionId: undefined,
 *   address: "db1:27017", databaseName: "test", commandName: "ping", command: { ping: 1 },
 * };
 * ```
 */
export interface CommandStartedInit extends CommandEventBase {
  /** The command as sent (`{}` for a security-sensitive one). */
  readonly command: Document;
}

/**
 * The fields of `commandSucceeded`.
 *
 * @example
 * ```ts
 * import type { CommandSucceededInit } from "./monitoring.ts";
 *
 * const init: CommandSucceededInit = {
 *   requestId: 7, operationId: 7, connectionId: 1, serverConnectionId: undefined,
 *   address: "db1:27017", databaseName: "test", commandName: "ping", durationMS: 0.4, reply: { ok: 1 },
 * };
 * ```
 */
export interface CommandSucceededInit extends CommandEventBase {
  /** Milliseconds from just before the request was written to the reply. */
  readonly durationMS: number;
  /** The reply (`{}` for a security-sensitive command). */
  readonly reply: Document;
}

/**
 * The fields of `commandFailed`.
 *
 * @example
 * ```ts
 * import type { CommandFailedInit } from "./monitoring.ts";
 *
 * const init: CommandFailedInit = {
 *   requestId: 7, operationId: 7, connectionId: 1, serverConnectionId: undefined,
 *   address: "db1:27017", databaseName: "test", commandName: "ping", durationMS: 3,
 *   failure: new Error("connection reset"),
 * };
 * ```
 */
export interface CommandFailedInit extends CommandEventBase {
  /** Milliseconds from just before the request was written to the failure. */
  readonly durationMS: number;
  /** What went wrong: an `OperationFailure` for `ok: 0`, or a network error. */
  readonly failure: unknown;
}

/** Why a pool closed a connection (the CMAP specification's reasons). */
export type ConnectionClosedReason = "stale" | "idle" | "error" | "poolClosed";

/** Why a checkout failed (the CMAP specification's reasons). */
export type CheckOutFailedReason = "poolClosed" | "timeout" | "connectionError";

/**
 * The fields of each command monitoring and CMAP event, by event type.
 *
 * @example
 * ```ts
 * import type { NetEventInitMap } from "./monitoring.ts";
 *
 * const closed: NetEventInitMap["connectionClosed"] = { address: "db1:27017", connectionId: 3, reason: "stale" };
 * ```
 */
export interface NetEventInitMap {
  /** The fields of `commandStarted`. */
  commandStarted: CommandStartedInit;
  /** The fields of `commandSucceeded`. */
  commandSucceeded: CommandSucceededInit;
  /** The fields of `commandFailed`. */
  commandFailed: CommandFailedInit;
  /** The fields of `poolCreated`. */
  poolCreated: { readonly address: string; readonly options: Readonly<Record<string, unknown>> };
  /** The fields of `poolReady`. */
  poolReady: { readonly address: string };
  /** The fields of `poolCleared`. */
  poolCleared: { readonly address: string; readonly interruptInUseConnections: boolean; readonly serviceId?: unknown };
  /** The fields of `poolClosed`. */
  poolClosed: { readonly address: string };
  /** The fields of `connectionCreated`. */
  connectionCreated: { readonly address: string; readonly connectionId: number };
  /** The fields of `connectionReady`. */
  connectionReady: { readonly address: string; readonly connectionId: number; readonly durationMS: number };
  /** The fields of `connectionClosed`. */
  connectionClosed: {
    readonly address: string;
    readonly connectionId: number;
    readonly reason: ConnectionClosedReason;
    readonly error?: unknown;
  };
  /** The fields of `connectionCheckOutStarted`. */
  connectionCheckOutStarted: { readonly address: string };
  /** The fields of `connectionCheckOutFailed`. */
  connectionCheckOutFailed: {
    readonly address: string;
    readonly reason: CheckOutFailedReason;
    readonly durationMS: number;
    readonly error?: unknown;
  };
  /** The fields of `connectionCheckedOut`. */
  connectionCheckedOut: { readonly address: string; readonly connectionId: number; readonly durationMS: number };
  /** The fields of `connectionCheckedIn`. */
  connectionCheckedIn: { readonly address: string; readonly connectionId: number };
}

/** The commands whose command and reply the specification replaces with `{}`. */
const SENSITIVE = new Set([
  "authenticate",
  "saslstart",
  "saslcontinue",
  "getnonce",
  "createuser",
  "updateuser",
  "copydbgetnonce",
  "copydbsaslstart",
  "copydb",
]);

/**
 * Whether the command monitoring specification redacts this command (and its
 * reply): the authentication and user-management commands, and a
 * hello / legacy hello that carries `speculativeAuthenticate`.
 *
 * @param name The command's name (its first key), any case.
 * @param command The command document.
 * @returns True when `command` and `reply` must be published as `{}`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSensitiveCommand } from "./monitoring.ts";
 *
 * assert.equal(isSensitiveCommand("saslStart", { saslStart: 1 }), true);
 * assert.equal(isSensitiveCommand("hello", { hello: 1, speculativeAuthenticate: {} }), true);
 * assert.equal(isSensitiveCommand("find", { find: "c" }), false);
 * ```
 */
export function isSensitiveCommand(name: string, command: Document): boolean {
  const lower = name.toLowerCase();
  if (SENSITIVE.has(lower)) return true;
  return (lower === "hello" || lower === "ismaster") && command.speculativeAuthenticate !== undefined;
}
