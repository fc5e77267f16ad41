/**
 * The command monitoring events a client dispatches (the command logging and
 * monitoring specification): one `commandStarted` as a command is written and
 * one `commandSucceeded` or `commandFailed` when it settles, for every command
 * the application's operations send (getMore and killCursors included, the
 * legacy OP_QUERY path as the commands it stands for), never for the
 * monitors' heartbeats or a connection's handshake. Security-sensitive
 * commands (authentication, user management, a hello carrying
 * `speculativeAuthenticate`) are published with `command` and `reply` `{}`.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import type { CommandFailedInit, CommandStartedInit, CommandSucceededInit } from "../net/monitoring.ts";

/**
 * The fields every command monitoring event has.
 *
 * @example
 * ```ts
 * import { CommandEvent, CommandStartedEvent } from "@zerodep/mongo";
 *
 * const e = new CommandStartedEvent({
 *   requestId: 1, operationId: 1, connectionId: 1, serverConnectionId: undefined,
 *   address: "db1:27017", databaseName: "test", commandName: "ping", command: { ping: 1 },
 * });
 * console.log(e instanceof CommandEvent, e.type); // true "commandStarted"
 * ```
 */
export class CommandEvent extends Event {
  /** The wire message's request id. */
  readonly requestId: number;
  /** Links the events of one operation (the request id). */
  readonly operationId: number;
  /** The driver's id of the connection, as in the pool's events. */
  readonly connectionId: number;
  /** The server's id of the connection, when its hello said it. */
  readonly serverConnectionId: number | undefined;
  /** The server, `host:port`. */
  readonly address: string;
  /** The database the command ran in. */
  readonly databaseName: string;
  /** The command's name (its first key). */
  readonly commandName: string;
  /** The load balancer's service id, when behind one. */
  readonly serviceId?: unknown;
  /**
   * Makes an event of this type from its fields.
   *
   * @param type The event's type.
   * @param init The event's fields.
   */
  constructor(type: string, init: CommandStartedInit | CommandSucceededInit | CommandFailedInit) {
    super(type);
    this.requestId = init.requestId;
    this.operationId = init.operationId;
    this.connectionId = init.connectionId;
    this.serverConnectionId = init.serverConnectionId;
    this.address = init.address;
    this.databaseName = init.databaseName;
    this.commandName = init.commandName;
    if (init.serviceId !== undefined) this.serviceId = init.serviceId;
  }
}

/**
 * A command is about to be written to a connection.
 *
 * @example
 * ```ts
 * import { ReplicaSetConnection, CommandStartedEvent } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("commandStarted", (e: CommandStartedEvent) => console.log(e.commandName, e.address, e.command));
 * await conn.close();
 * ```
 */
export class CommandStartedEvent extends CommandEvent {
  /** The command as sent (`{}` for a security-sensitive one). */
  readonly command: Document;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: CommandStartedInit) {
    super("commandStarted", init);
    this.command = init.command;
  }
}

/**
 * A command's reply came back with `ok: 1` (a `writeConcernError` in it is still a success).
 *
 * @example
 * ```ts
 * import { ReplicaSetConnection, CommandSucceededEvent } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("commandSucceeded", (e: CommandSucceededEvent) => console.log(e.commandName, e.address, e.durationMS));
 * await conn.close();
 * ```
 */
export class CommandSucceededEvent extends CommandEvent {
  /** Milliseconds from writing the request to reading the reply. */
  readonly durationMS: number;
  /** The reply (`{}` for a security-sensitive command). */
  readonly reply: Document;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: CommandSucceededInit) {
    super("commandSucceeded", init);
    this.durationMS = init.durationMS;
    this.reply = init.reply;
  }
}

/**
 * A command failed: the server answered `ok: 0`, or the round trip failed.
 *
 * @example
 * ```ts
 * import { ReplicaSetConnection, CommandFailedEvent } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("commandFailed", (e: CommandFailedEvent) => console.log(e.commandName, e.address, e.failure));
 * await conn.close();
 * ```
 */
export class CommandFailedEvent extends CommandEvent {
  /** Milliseconds from writing the request to the failure. */
  readonly durationMS: number;
  /** What went wrong: an `OperationFailure` for an `ok: 0` reply, or the network error. */
  readonly failure: unknown;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: CommandFailedInit) {
    super("commandFailed", init);
    this.durationMS = init.durationMS;
    this.failure = init.failure;
  }
}
