/**
 * The connection pool (CMAP) events a client dispatches, as the connection
 * monitoring and pooling specification names them: a pool is created, made
 * ready, cleared and closed; its connections are created, ready and closed
 * (with the reason); callers start a checkout, fail it (with the reason),
 * check out and check in.
 *
 * @module
 */
import type { CheckOutFailedReason, ConnectionClosedReason, NetEventInitMap } from "../net/monitoring.ts";

/**
 * The field every pool event has: the server whose pool it is.
 *
 * @example
 * ```ts
 * import { ConnectionPoolReadyEvent, PoolEvent } from "@zerodep/mongo";
 *
 * const e = new ConnectionPoolReadyEvent({ address: "db1:27017" });
 * console.log(e instanceof PoolEvent, e.type); // true "poolReady"
 * ```
 */
export class PoolEvent extends Event {
  /** The pool's server, `host:port`. */
  readonly address: string;
  /**
   * Makes an event of this type from its fields.
   *
   * @param type The event's type.
   * @param init The event's fields.
   */
  constructor(type: string, init: { readonly address: string }) {
    super(type);
    this.address = init.address;
  }
}

/**
 * A pool was created for a server.
 *
 * @example
 * ```ts
 * import { ConnectionPoolCreatedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("poolCreated", (e: ConnectionPoolCreatedEvent) => console.log(e.address, e.options));
 * await conn.close();
 * ```
 */
export class ConnectionPoolCreatedEvent extends PoolEvent {
  /** The pool's settings: maxPoolSize, minPoolSize, maxIdleTimeMS, waitQueueTimeoutMS, maxConnecting. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["poolCreated"]) {
    super("poolCreated", init);
    this.options = init.options;
  }
}

/**
 * A paused pool became ready: checkouts may open connections.
 *
 * @example
 * ```ts
 * import { ConnectionPoolReadyEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("poolReady", (e: ConnectionPoolReadyEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ConnectionPoolReadyEvent extends PoolEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["poolReady"]) {
    super("poolReady", init);
  }
}

/**
 * A pool was cleared: every connection made before is retired.
 *
 * @example
 * ```ts
 * import { ConnectionPoolClearedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("poolCleared", (e: ConnectionPoolClearedEvent) => console.log(e.address, e.interruptInUseConnections));
 * await conn.close();
 * ```
 */
export class ConnectionPoolClearedEvent extends PoolEvent {
  /** Whether connections in use were interrupted too (always false: they are closed when checked in). */
  readonly interruptInUseConnections: boolean;
  /** The load balancer's service id whose connections were cleared, when behind one. */
  readonly serviceId?: unknown;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["poolCleared"]) {
    super("poolCleared", init);
    this.interruptInUseConnections = init.interruptInUseConnections;
    if (init.serviceId !== undefined) this.serviceId = init.serviceId;
  }
}

/**
 * A pool was closed (its server left the topology, or the client closed).
 *
 * @example
 * ```ts
 * import { ConnectionPoolClosedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("poolClosed", (e: ConnectionPoolClosedEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ConnectionPoolClosedEvent extends PoolEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["poolClosed"]) {
    super("poolClosed", init);
  }
}

/**
 * A pool started opening a connection.
 *
 * @example
 * ```ts
 * import { ConnectionCreatedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionCreated", (e: ConnectionCreatedEvent) => console.log(e.address, e.connectionId));
 * await conn.close();
 * ```
 */
export class ConnectionCreatedEvent extends PoolEvent {
  /** The connection's id within its pool (1, 2, 3, ...). */
  readonly connectionId: number;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionCreated"]) {
    super("connectionCreated", init);
    this.connectionId = init.connectionId;
  }
}

/**
 * A connection finished its handshake (and authentication) and can be used.
 *
 * @example
 * ```ts
 * import { ConnectionReadyEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionReady", (e: ConnectionReadyEvent) => console.log(e.address, e.durationMS));
 * await conn.close();
 * ```
 */
export class ConnectionReadyEvent extends PoolEvent {
  /** The connection's id within its pool. */
  readonly connectionId: number;
  /** Milliseconds the connect, handshake and authentication took. */
  readonly durationMS: number;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionReady"]) {
    super("connectionReady", init);
    this.connectionId = init.connectionId;
    this.durationMS = init.durationMS;
  }
}

/**
 * A pool closed a connection, or failed to open one.
 *
 * @example
 * ```ts
 * import { ConnectionClosedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionClosed", (e: ConnectionClosedEvent) => console.log(e.address, e.reason));
 * await conn.close();
 * ```
 */
export class ConnectionClosedEvent extends PoolEvent {
  /** The connection's id within its pool. */
  readonly connectionId: number;
  /** Why: `stale` (the pool was cleared), `idle` (maxIdleTimeMS), `error` (it failed or could not be opened), `poolClosed`. */
  readonly reason: ConnectionClosedReason;
  /** The error, when `reason` is `error` and one is known. */
  readonly error?: unknown;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionClosed"]) {
    super("connectionClosed", init);
    this.connectionId = init.connectionId;
    this.reason = init.reason;
    if (init.error !== undefined) this.error = init.error;
  }
}

/**
 * A caller asked the pool for a connection.
 *
 * @example
 * ```ts
 * import { ConnectionCheckOutStartedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionCheckOutStarted", (e: ConnectionCheckOutStartedEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ConnectionCheckOutStartedEvent extends PoolEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionCheckOutStarted"]) {
    super("connectionCheckOutStarted", init);
  }
}

/**
 * A checkout failed.
 *
 * @example
 * ```ts
 * import { ConnectionCheckOutFailedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionCheckOutFailed", (e: ConnectionCheckOutFailedEvent) => console.log(e.address, e.reason));
 * await conn.close();
 * ```
 */
export class ConnectionCheckOutFailedEvent extends PoolEvent {
  /** Why: `poolClosed`, `timeout` (waitQueueTimeoutMS, timeoutMS or an aborted signal), `connectionError` (opening one failed, or the pool is paused). */
  readonly reason: CheckOutFailedReason;
  /** Milliseconds from the start of the checkout. */
  readonly durationMS: number;
  /** The error the caller got. */
  readonly error?: unknown;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionCheckOutFailed"]) {
    super("connectionCheckOutFailed", init);
    this.reason = init.reason;
    this.durationMS = init.durationMS;
    if (init.error !== undefined) this.error = init.error;
  }
}

/**
 * A caller got a connection.
 *
 * @example
 * ```ts
 * import { ConnectionCheckedOutEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionCheckedOut", (e: ConnectionCheckedOutEvent) => console.log(e.address, e.connectionId));
 * await conn.close();
 * ```
 */
export class ConnectionCheckedOutEvent extends PoolEvent {
  /** The connection's id within its pool. */
  readonly connectionId: number;
  /** Milliseconds from the start of the checkout. */
  readonly durationMS: number;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionCheckedOut"]) {
    super("connectionCheckedOut", init);
    this.connectionId = init.connectionId;
    this.durationMS = init.durationMS;
  }
}

/**
 * A connection came back to its pool.
 *
 * @example
 * ```ts
 * import { ConnectionCheckedInEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("connectionCheckedIn", (e: ConnectionCheckedInEvent) => console.log(e.address, e.connectionId));
 * await conn.close();
 * ```
 */
export class ConnectionCheckedInEvent extends PoolEvent {
  /** The connection's id within its pool. */
  readonly connectionId: number;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: NetEventInitMap["connectionCheckedIn"]) {
    super("connectionCheckedIn", init);
    this.connectionId = init.connectionId;
  }
}
