/**
 * The client's monitoring: which event class each event type has
 * ({@linkcode ClientEventMap}), and the bookkeeping that makes an event cost
 * nothing when nobody listens. The layers below never see the client: they
 * are handed an `EventSink` whose `wants(type)` reads a listener count, and
 * only when it is true do they build the event's fields and `emit` them; the
 * client then makes the event object and dispatches it on itself.
 *
 * @module
 */
import type { EventSink } from "../net/monitoring.ts";
import type { TopologyEventInitMap } from "../topology/sdam_events.ts";
import { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent } from "./command_events.ts";
import {
  ConnectionCheckedInEvent,
  ConnectionCheckedOutEvent,
  ConnectionCheckOutFailedEvent,
  ConnectionCheckOutStartedEvent,
  ConnectionClosedEvent,
  ConnectionCreatedEvent,
  ConnectionPoolClearedEvent,
  ConnectionPoolClosedEvent,
  ConnectionPoolCreatedEvent,
  ConnectionPoolReadyEvent,
  ConnectionReadyEvent,
} from "./pool_events.ts";
import {
  ServerClosedEvent,
  ServerDescriptionChangedEvent,
  ServerHeartbeatFailedEvent,
  ServerHeartbeatStartedEvent,
  ServerHeartbeatSucceededEvent,
  ServerOpeningEvent,
  TopologyClosedEvent,
  TopologyDescriptionChangedEvent,
  TopologyOpeningEvent,
} from "./sdam_events.ts";

/**
 * The monitoring events a client dispatches, by type: what
 * `addEventListener(type, listener)` hands the listener.
 *
 * @example
 * ```ts
 * import { type ClientEventMap, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * const conn = new ReplicaSetConnection("db1:27017", { replicaSet: "rs" });
 * const log = (e: ClientEventMap["commandSucceeded"]) => console.log(e.commandName, e.durationMS);
 * conn.addEventListener("commandSucceeded", log);
 * conn.removeEventListener("commandSucceeded", log);
 * await conn.close();
 * ```
 */
export interface ClientEventMap {
  /** A {@linkcode CommandStartedEvent}. */
  commandStarted: CommandStartedEvent;
  /** A {@linkcode CommandSucceededEvent}. */
  commandSucceeded: CommandSucceededEvent;
  /** A {@linkcode CommandFailedEvent}. */
  commandFailed: CommandFailedEvent;
  /** A {@linkcode ConnectionPoolCreatedEvent}. */
  poolCreated: ConnectionPoolCreatedEvent;
  /** A {@linkcode ConnectionPoolReadyEvent}. */
  poolReady: ConnectionPoolReadyEvent;
  /** A {@linkcode ConnectionPoolClearedEvent}. */
  poolCleared: ConnectionPoolClearedEvent;
  /** A {@linkcode ConnectionPoolClosedEvent}. */
  poolClosed: ConnectionPoolClosedEvent;
  /** A {@linkcode ConnectionCreatedEvent}. */
  connectionCreated: ConnectionCreatedEvent;
  /** A {@linkcode ConnectionReadyEvent}. */
  connectionReady: ConnectionReadyEvent;
  /** A {@linkcode ConnectionClosedEvent}. */
  connectionClosed: ConnectionClosedEvent;
  /** A {@linkcode ConnectionCheckOutStartedEvent}. */
  connectionCheckOutStarted: ConnectionCheckOutStartedEvent;
  /** A {@linkcode ConnectionCheckOutFailedEvent}. */
  connectionCheckOutFailed: ConnectionCheckOutFailedEvent;
  /** A {@linkcode ConnectionCheckedOutEvent}. */
  connectionCheckedOut: ConnectionCheckedOutEvent;
  /** A {@linkcode ConnectionCheckedInEvent}. */
  connectionCheckedIn: ConnectionCheckedInEvent;
  /** A {@linkcode TopologyOpeningEvent}. */
  topologyOpening: TopologyOpeningEvent;
  /** A {@linkcode TopologyDescriptionChangedEvent}. */
  topologyDescriptionChanged: TopologyDescriptionChangedEvent;
  /** A {@linkcode TopologyClosedEvent}. */
  topologyClosed: TopologyClosedEvent;
  /** A {@linkcode ServerOpeningEvent}. */
  serverOpening: ServerOpeningEvent;
  /** A {@linkcode ServerDescriptionChangedEvent}. */
  serverDescriptionChanged: ServerDescriptionChangedEvent;
  /** A {@linkcode ServerClosedEvent}. */
  serverClosed: ServerClosedEvent;
  /** A {@linkcode ServerHeartbeatStartedEvent}. */
  serverHeartbeatStarted: ServerHeartbeatStartedEvent;
  /** A {@linkcode ServerHeartbeatSucceededEvent}. */
  serverHeartbeatSucceeded: ServerHeartbeatSucceededEvent;
  /** A {@linkcode ServerHeartbeatFailedEvent}. */
  serverHeartbeatFailed: ServerHeartbeatFailedEvent;
}

type Make = { [K in keyof TopologyEventInitMap]: (init: TopologyEventInitMap[K]) => ClientEventMap[K] };

const MAKE: Make = {
  commandStarted: (i) => new CommandStartedEvent(i),
  commandSucceeded: (i) => new CommandSucceededEvent(i),
  commandFailed: (i) => new CommandFailedEvent(i),
  poolCreated: (i) => new ConnectionPoolCreatedEvent(i),
  poolReady: (i) => new ConnectionPoolReadyEvent(i),
  poolCleared: (i) => new ConnectionPoolClearedEvent(i),
  poolClosed: (i) => new ConnectionPoolClosedEvent(i),
  connectionCreated: (i) => new ConnectionCreatedEvent(i),
  connectionReady: (i) => new ConnectionReadyEvent(i),
  connectionClosed: (i) => new ConnectionClosedEvent(i),
  connectionCheckOutStarted: (i) => new ConnectionCheckOutStartedEvent(i),
  connectionCheckOutFailed: (i) => new ConnectionCheckOutFailedEvent(i),
  connectionCheckedOut: (i) => new ConnectionCheckedOutEvent(i),
  connectionCheckedIn: (i) => new ConnectionCheckedInEvent(i),
  topologyOpening: (i) => new TopologyOpeningEvent(i),
  topologyDescriptionChanged: (i) => new TopologyDescriptionChangedEvent(i),
  topologyClosed: (i) => new TopologyClosedEvent(i),
  serverOpening: (i) => new ServerOpeningEvent(i),
  serverDescriptionChanged: (i) => new ServerDescriptionChangedEvent(i),
  serverClosed: (i) => new ServerClosedEvent(i),
  serverHeartbeatStarted: (i) => new ServerHeartbeatStartedEvent(i),
  serverHeartbeatSucceeded: (i) => new ServerHeartbeatSucceededEvent(i),
  serverHeartbeatFailed: (i) => new ServerHeartbeatFailedEvent(i),
};

type Listener = EventListenerOrEventListenerObject;

/**
 * Counts the listeners of each event type of one `EventTarget`, as
 * `addEventListener` does (the same listener and capture flag twice is one),
 * and is the `EventSink` handed to the topology. A listener added with a
 * `signal` is forgotten when the signal aborts; a `once` listener stays
 * counted after it has run until it is removed, which only means events are
 * built that nobody gets.
 *
 * Internal: the client's own bookkeeping.
 */
export class ListenerCounts implements EventSink<TopologyEventInitMap> {
  #target: EventTarget;
  #registered = new Map<string, Map<Listener, number>>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  wants(type: keyof TopologyEventInitMap): boolean {
    return this.#registered.has(type);
  }

  emit<K extends keyof TopologyEventInitMap>(type: K, init: TopologyEventInitMap[K]): void {
    try {
      this.#target.dispatchEvent(MAKE[type](init));
    } catch {
      // dispatchEvent reports a listener's exception itself; nothing may reach the driver.
    }
  }

  /** Records a listener (as `EventTarget.addEventListener` does). */
  add(type: string, listener: Listener, options: boolean | AddEventListenerOptions | undefined): void {
    const capture = typeof options === "boolean" ? options : options?.capture === true;
    const bit = capture ? 2 : 1;
    let listeners = this.#registered.get(type);
    if (listeners === undefined) this.#registered.set(type, listeners = new Map());
    listeners.set(listener, (listeners.get(listener) ?? 0) | bit);
    if (typeof options === "object" && options !== null) {
      if (options.signal?.aborted) this.remove(type, listener, capture);
      else options.signal?.addEventListener("abort", () => this.remove(type, listener, capture), { once: true });
    }
  }

  /** Forgets a listener (as `EventTarget.removeEventListener` does). */
  remove(type: string, listener: Listener, options: boolean | EventListenerOptions | undefined): void {
    const capture = typeof options === "boolean" ? options : options?.capture === true;
    const listeners = this.#registered.get(type);
    const bits = listeners?.get(listener);
    if (listeners === undefined || bits === undefined) return;
    const left = bits & ~(capture ? 2 : 1);
    if (left === 0) listeners.delete(listener);
    else listeners.set(listener, left);
    if (listeners.size === 0) this.#registered.delete(type);
  }
}
