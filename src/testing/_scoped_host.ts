/**
 * A member as one command sees it with other data: a transaction's snapshot
 * (writes buffered), or a snapshot read's data at a past cluster time.
 *
 * @module
 */
import type { CommandHost } from "./commands.ts";
import type { OplogChange, Store } from "./store.ts";

/**
 * `host` with `store` for data and `logChange` for writes; everything else is the member's.
 *
 * @example
 * ```ts ignore
 * const readOnly = scopedHost(member, member.store.clone(), () => {
 *   throw new Error("read only");
 * });
 * ```
 */
export function scopedHost(host: CommandHost, store: Store, logChange: (change: OplogChange) => void): CommandHost {
  return {
    get store() {
      return store;
    },
    get cursors() {
      return host.cursors;
    },
    get failPoints() {
      return host.failPoints;
    },
    get localSessions() {
      return host.localSessions;
    },
    get state() {
      return host.state;
    },
    get name() {
      return host.name;
    },
    get maxWireVersion() {
      return host.maxWireVersion;
    },
    oplog: () => host.oplog(),
    sleep: (ms) => host.sleep(ms),
    logChange,
    hello: (legacy, body, id) => host.hello(legacy, body, id),
    replSetInitiate: (c) => host.replSetInitiate(c),
    replSetGetStatus: () => host.replSetGetStatus(),
    replSetGetConfig: () => host.replSetGetConfig(),
    replSetStepDown: (s) => host.replSetStepDown(s),
    replSetFreeze: (s) => host.replSetFreeze(s),
    serverStatus: () => host.serverStatus(),
  };
}
