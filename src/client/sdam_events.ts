/**
 * The SDAM monitoring events a client dispatches (the server discovery and
 * monitoring logging-and-monitoring specification): the topology and its
 * servers opening, changing and closing, and every heartbeat of the monitors.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import type { ServerDescription } from "../topology/server_description.ts";
import type { TopologyDescription } from "../topology/topology_description.ts";
import type { HeartbeatConnectionIds, TopologyEventInitMap } from "../topology/sdam_events.ts";

/**
 * The field every topology and server event has.
 *
 * @example
 * ```ts
 * import { TopologyEvent, TopologyOpeningEvent } from "@zerodep/mongo";
 *
 * const e = new TopologyOpeningEvent({ topologyId: 1 });
 * console.log(e instanceof TopologyEvent, e.type); // true "topologyOpening"
 * ```
 */
export class TopologyEvent extends Event {
  /** Tells one client's topology from another's. */
  readonly topologyId: number;
  /**
   * Makes an event of this type from its fields.
   *
   * @param type The event's type.
   * @param init The event's fields.
   */
  constructor(type: string, init: { readonly topologyId: number }) {
    super(type);
    this.topologyId = init.topologyId;
  }
}

/**
 * The client's topology started (at the first connect or operation).
 *
 * @example
 * ```ts
 * import { TopologyOpeningEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("topologyOpening", (e: TopologyOpeningEvent) => console.log(e.topologyId));
 * await conn.close();
 * ```
 */
export class TopologyOpeningEvent extends TopologyEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["topologyOpening"]) {
    super("topologyOpening", init);
  }
}

/**
 * The topology's description changed (a round-trip time alone does not count).
 *
 * @example
 * ```ts
 * import { TopologyDescriptionChangedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("topologyDescriptionChanged", (e: TopologyDescriptionChangedEvent) => console.log(e.newDescription.type));
 * await conn.close();
 * ```
 */
export class TopologyDescriptionChangedEvent extends TopologyEvent {
  /** The description before. */
  readonly previousDescription: TopologyDescription;
  /** The description after. */
  readonly newDescription: TopologyDescription;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["topologyDescriptionChanged"]) {
    super("topologyDescriptionChanged", init);
    this.previousDescription = init.previousDescription;
    this.newDescription = init.newDescription;
  }
}

/**
 * The client closed its topology.
 *
 * @example
 * ```ts
 * import { TopologyClosedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("topologyClosed", (e: TopologyClosedEvent) => console.log(e.topologyId));
 * await conn.close();
 * ```
 */
export class TopologyClosedEvent extends TopologyEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["topologyClosed"]) {
    super("topologyClosed", init);
  }
}

/**
 * A server joined the topology (a seed, or a member a primary reported).
 *
 * @example
 * ```ts
 * import { ServerOpeningEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverOpening", (e: ServerOpeningEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ServerOpeningEvent extends TopologyEvent {
  /** The server, `host:port`. */
  readonly address: string;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverOpening"]) {
    super("serverOpening", init);
    this.address = init.address;
  }
}

/**
 * A server's description changed (its type, its view of the set, an error...).
 *
 * @example
 * ```ts
 * import { ServerDescriptionChangedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverDescriptionChanged", (e: ServerDescriptionChangedEvent) => console.log(e.address, e.previousDescription.type, "->", e.newDescription.type));
 * await conn.close();
 * ```
 */
export class ServerDescriptionChangedEvent extends TopologyEvent {
  /** The server, `host:port`. */
  readonly address: string;
  /** The description before. */
  readonly previousDescription: ServerDescription;
  /** The description after. */
  readonly newDescription: ServerDescription;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverDescriptionChanged"]) {
    super("serverDescriptionChanged", init);
    this.address = init.address;
    this.previousDescription = init.previousDescription;
    this.newDescription = init.newDescription;
  }
}

/**
 * A server left the topology (the primary no longer lists it, or the client closed).
 *
 * @example
 * ```ts
 * import { ServerClosedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverClosed", (e: ServerClosedEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ServerClosedEvent extends TopologyEvent {
  /** The server, `host:port`. */
  readonly address: string;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverClosed"]) {
    super("serverClosed", init);
    this.address = init.address;
  }
}

/**
 * The fields every heartbeat event has.
 *
 * @example
 * ```ts
 * import { ServerHeartbeatEvent, ServerHeartbeatStartedEvent } from "@zerodep/mongo";
 *
 * const e = new ServerHeartbeatStartedEvent({ address: "db1:27017", awaited: false });
 * console.log(e instanceof ServerHeartbeatEvent, e.type); // true "serverHeartbeatStarted"
 * ```
 */
export class ServerHeartbeatEvent extends Event {
  /** The server checked, `host:port`. */
  readonly address: string;
  /** Whether the check was an awaitable (streaming) hello: always false, the driver polls. */
  readonly awaited: boolean;
  /** The driver's id for the monitoring connection the check runs on (each monitor numbers its own: 1, 2, ...). */
  readonly driverConnectionId?: number;
  /** The server's id for that connection (its hello's `connectionId`), once known. */
  readonly serverConnectionId?: number;
  /**
   * Makes an event of this type from its fields.
   *
   * @param type The event's type.
   * @param init The event's fields.
   */
  constructor(type: string, init: HeartbeatConnectionIds & { readonly address: string; readonly awaited: boolean }) {
    super(type);
    this.address = init.address;
    this.awaited = init.awaited;
    if (init.driverConnectionId !== undefined) this.driverConnectionId = init.driverConnectionId;
    if (init.serverConnectionId !== undefined) this.serverConnectionId = init.serverConnectionId;
  }
}

/**
 * A monitor started checking its server (connecting first, when it has no connection).
 *
 * @example
 * ```ts
 * import { ServerHeartbeatStartedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverHeartbeatStarted", (e: ServerHeartbeatStartedEvent) => console.log(e.address));
 * await conn.close();
 * ```
 */
export class ServerHeartbeatStartedEvent extends ServerHeartbeatEvent {
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverHeartbeatStarted"]) {
    super("serverHeartbeatStarted", init);
  }
}

/**
 * A check succeeded.
 *
 * @example
 * ```ts
 * import { ServerHeartbeatSucceededEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverHeartbeatSucceeded", (e: ServerHeartbeatSucceededEvent) => console.log(e.address, e.durationMS));
 * await conn.close();
 * ```
 */
export class ServerHeartbeatSucceededEvent extends ServerHeartbeatEvent {
  /** Milliseconds the check took (the connect and handshake included, for the first). */
  readonly durationMS: number;
  /** The hello reply. */
  readonly reply: Document;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverHeartbeatSucceeded"]) {
    super("serverHeartbeatSucceeded", init);
    this.durationMS = init.durationMS;
    this.reply = init.reply;
  }
}

/**
 * A check failed.
 *
 * @example
 * ```ts
 * import { ServerHeartbeatFailedEvent, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * conn.addEventListener("serverHeartbeatFailed", (e: ServerHeartbeatFailedEvent) => console.log(e.address, e.failure));
 * await conn.close();
 * ```
 */
export class ServerHeartbeatFailedEvent extends ServerHeartbeatEvent {
  /** Milliseconds until the failure. */
  readonly durationMS: number;
  /** The network error, or the server's error for an `ok: 0` reply. */
  readonly failure: unknown;
  /**
   * Makes the event from its fields.
   *
   * @param init The event's fields.
   */
  constructor(init: TopologyEventInitMap["serverHeartbeatFailed"]) {
    super("serverHeartbeatFailed", init);
    this.durationMS = init.durationMS;
    this.failure = init.failure;
  }
}
