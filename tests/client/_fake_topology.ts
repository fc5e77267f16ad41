// A fake topology for the client's unit tests: servers that record every
// command, selection that follows the read preference in the simplest way,
// and replies scripted by a handler. No sockets.
import type { Document } from "../../src/bson/mod.ts";
import type { OpReply } from "../../src/wire/mod.ts";
import type { ReadPreference } from "../../src/topology/read_preference.ts";
import {
  type ServerDescription,
  serverDescriptionFromHello,
  unknownServerDescription,
} from "../../src/topology/server_description.ts";
import { type ServerSelector, writeStageReadPreference } from "../../src/topology/server_selection.ts";
import type { TopologyDescription, TopologyType } from "../../src/topology/topology_description.ts";
import { ServerSelectionError } from "../../src/errors.ts";
import {
  type ServerCommandOptionsLike,
  type ServerLike,
  TOPOLOGY_FACTORY,
  type TopologyFactory,
  type TopologyLike,
  type WireConnectionLike,
} from "../../src/client/_internal.ts";
import type { HostAddress } from "../../src/topology/connection_string.ts";
import type { ResolvedClientOptions } from "../../src/topology/options.ts";

export { TOPOLOGY_FACTORY };

/** One recorded call. */
export interface Call {
  server: string;
  /** "command" (Server.command), "conn" (Connection.command via withConnection), "query", "getMore", "killCursors". */
  via: "command" | "conn" | "query" | "getMore" | "killCursors";
  db: string;
  cmd: Document;
  options: Document;
}

export type Handler = (call: Call) => Document | OpReply | Promise<Document | OpReply>;

export class FakeServer implements ServerLike {
  readonly address: string;
  description: ServerDescription;
  readonly log: Call[];
  handler: Handler;
  maxWriteBatchSize = 100_000;
  maxMessageSizeBytes = 48_000_000;

  constructor(
    address: string,
    type: "primary" | "secondary" | "arbiter" | "ghost" | "mongos",
    wire: number,
    log: Call[],
    handler: Handler,
  ) {
    this.address = address;
    this.log = log;
    this.handler = handler;
    const hello: Document = { ok: 1, maxWireVersion: wire, minWireVersion: 0, setName: "foo", me: address };
    if (type === "primary") hello.isWritablePrimary = true;
    if (type === "secondary") hello.secondary = true;
    if (type === "arbiter") hello.arbiterOnly = true;
    if (type === "mongos") {
      // A mongos: no set name, sessions supported.
      delete hello.setName;
      hello.msg = "isdbgrid";
      hello.logicalSessionTimeoutMinutes = 30;
    }
    if (type === "ghost") {
      delete hello.setName;
      hello.isreplicaset = true;
    }
    this.description = serverDescriptionFromHello(address, hello, { roundTripTime: 1 });
  }

  async #call(call: Call): Promise<Document | OpReply> {
    this.log.push(call);
    return await this.handler(call);
  }

  async command(db: string, cmd: Document, options: ServerCommandOptionsLike): Promise<Document> {
    // As Server.command does once it has a connection.
    options.onConnection?.(this.#connection());
    return await this.#call({ server: this.address, via: "command", db, cmd, options: { ...options } }) as Document;
  }

  async withConnection<T>(fn: (conn: WireConnectionLike) => Promise<T>): Promise<T> {
    return await fn(this.#connection());
  }

  #conn: WireConnectionLike | undefined;

  /** A connection to this server (one object, its limits read live from the server). */
  #connection(): WireConnectionLike {
    // deno-lint-ignore no-this-alias
    const server = this;
    return this.#conn ??= {
      address: this.address,
      get maxWireVersion() {
        return server.description.maxWireVersion;
      },
      get maxWriteBatchSize() {
        return server.maxWriteBatchSize;
      },
      get maxMessageSizeBytes() {
        return server.maxMessageSizeBytes;
      },
      command: async (db: string, cmd: Document, options: Document = {}) =>
        await this.#call({ server: this.address, via: "conn", db, cmd, options: { ...options } }) as Document,
      query: async (ns: string, query: Document, options: Document = {}) =>
        await this.#call({
          server: this.address,
          via: "query",
          db: ns,
          cmd: query,
          options: { ...options },
        }) as OpReply,
      getMore: async (ns: string, cursorId: bigint, numberToReturn = 0) =>
        await this.#call({
          server: this.address,
          via: "getMore",
          db: ns,
          cmd: { cursorId, numberToReturn },
          options: {},
        }) as OpReply,
      killCursors: async (ids: readonly bigint[]) => {
        await this.#call({
          server: this.address,
          via: "killCursors",
          db: "",
          cmd: { cursorIds: [...ids] },
          options: {},
        });
      },
    } as unknown as WireConnectionLike;
  }
}

export interface Selection {
  selector: ServerSelector;
  deprioritized: readonly string[];
}

export class FakeTopology implements TopologyLike {
  servers: FakeServer[];
  type: TopologyType;
  selections: Selection[] = [];
  connects: { readPreference?: ReadPreference }[] = [];
  init: { seeds: HostAddress[]; options: ResolvedClientOptions } | null = null;
  isClosed = false;

  constructor(servers: FakeServer[], type: TopologyType = "ReplicaSetWithPrimary") {
    this.servers = servers;
    this.type = type;
  }

  get description(): TopologyDescription {
    const servers = new Map<string, ServerDescription>();
    for (const s of this.servers) servers.set(s.address, s.description);
    return {
      type: this.type,
      setName: "foo",
      maxSetVersion: null,
      maxElectionId: null,
      servers,
      compatible: true,
      compatibilityError: null,
      logicalSessionTimeoutMinutes: this.type === "Sharded" ? 30 : null,
      heartbeatFrequencyMS: 10000,
      localThresholdMS: 15,
    };
  }

  connect(options: { readPreference?: ReadPreference } = {}): Promise<void> {
    this.connects.push(options);
    return Promise.resolve();
  }

  selectServer(
    selector: ServerSelector,
    options: { signal?: AbortSignal; deprioritized?: readonly string[] } = {},
  ): Promise<ServerLike> {
    try {
      return Promise.resolve(this.#select(selector, options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #select(
    selector: ServerSelector,
    options: { signal?: AbortSignal; deprioritized?: readonly string[] },
  ): ServerLike {
    options.signal?.throwIfAborted();
    const deprioritized = options.deprioritized ?? [];
    this.selections.push({ selector, deprioritized });
    const live = this.servers.filter((s) => s.description.type !== "Unknown");
    if (this.type === "Single") return this.servers[0];
    if (this.type === "Sharded") return this.#nextMongos(live, deprioritized);
    const primary = live.filter((s) => s.description.type === "RSPrimary");
    const secondaries = live.filter((s) => s.description.type === "RSSecondary");
    const prefer = (list: FakeServer[]) => {
      const fresh = list.filter((s) => !deprioritized.includes(s.address));
      return fresh.length > 0 ? fresh : list;
    };
    let pool: FakeServer[];
    // An aggregate with $out/$merge takes its read preference only where the real selection would (crud.md).
    const rp = selector.writeStage === true
      ? writeStageReadPreference(this.description, selector.readPreference)
      : selector.readPreference;
    if (selector.operation === "write") pool = primary;
    else {
      switch (rp.mode) {
        case "primary":
          pool = primary;
          break;
        case "secondary":
          pool = secondaries;
          break;
        case "secondaryPreferred":
          pool = secondaries.length > 0 ? secondaries : primary;
          break;
        case "primaryPreferred":
          pool = primary.length > 0 ? primary : secondaries;
          break;
        default:
          pool = [...primary, ...secondaries];
      }
    }
    const chosen = prefer(pool)[0];
    if (chosen === undefined) throw new ServerSelectionError(`no server for ${selector.readPreference.mode}`);
    return chosen;
  }

  #turn = 0;

  /** Mongoses in turn (so that anything not pinned moves between them), the deprioritized ones last. */
  #nextMongos(live: FakeServer[], deprioritized: readonly string[]): FakeServer {
    const mongoses = live.filter((s) => s.description.type === "Mongos");
    const fresh = mongoses.filter((s) => !deprioritized.includes(s.address));
    const pool = fresh.length > 0 ? fresh : mongoses;
    if (pool.length === 0) throw new ServerSelectionError("no mongos");
    return pool[this.#turn++ % pool.length];
  }

  close(): Promise<void> {
    this.isClosed = true;
    return Promise.resolve();
  }

  /** A factory for the hidden client option. */
  factory(): TopologyFactory {
    return (init) => {
      this.init = init;
      return this;
    };
  }
}

/** Marks a server Unknown (as SDAM would after a network error). */
export function markUnknown(server: FakeServer): void {
  server.description = unknownServerDescription(server.address);
}

/** A primary and two secondaries of set "foo", sharing one log and one handler. */
export function fakeSet(
  handler: Handler,
  options: { wire?: number } = {},
): { topology: FakeTopology; log: Call[]; primary: FakeServer; secondaries: FakeServer[] } {
  const log: Call[] = [];
  const wire = options.wire ?? 17;
  const primary = new FakeServer("a:27017", "primary", wire, log, handler);
  const s1 = new FakeServer("b:27017", "secondary", wire, log, handler);
  const s2 = new FakeServer("c:27017", "secondary", wire, log, handler);
  return { topology: new FakeTopology([primary, s1, s2]), log, primary, secondaries: [s1, s2] };
}

/** A default handler: ok replies shaped like a server's for the usual commands. */
export function okHandler(call: Call): Document {
  const name = Object.keys(call.cmd)[0];
  switch (name) {
    case "insert":
      return { ok: 1, n: (call.options.sequences as { documents: unknown[] }[])[0].documents.length };
    case "update":
      return { ok: 1, n: 1, nModified: 1 };
    case "delete":
      return { ok: 1, n: 1 };
    case "find":
    case "aggregate":
      return { ok: 1, cursor: { id: 0n, ns: `${call.db}.${call.cmd[name]}`, firstBatch: [] } };
    default:
      return { ok: 1 };
  }
}

/** Two mongoses of a sharded cluster (selection takes them in turn), sharing one log and one handler. */
export function fakeCluster(
  handler: Handler,
  options: { wire?: number } = {},
): { topology: FakeTopology; log: Call[]; mongoses: FakeServer[] } {
  const log: Call[] = [];
  const wire = options.wire ?? 17;
  const mongoses = ["m1:27017", "m2:27017"].map((a) => new FakeServer(a, "mongos", wire, log, handler));
  return { topology: new FakeTopology(mongoses, "Sharded"), log, mongoses };
}
