/**
 * The unified test format's entity map: the clients, databases, collections,
 * cursors and saved results a test refers to by id, their creation from
 * `createEntities`, and the static checks of entity definitions that make a
 * malformed file fail before anything else (references to undefined
 * entities, unknown `serverApi` versions, incomplete KMS credentials).
 */
import { Double, Int32, Int64 } from "../../../src/bson/mod.ts";
import type { Document } from "../../../src/bson/mod.ts";
import {
  type ClientBase,
  type Collection,
  Connection,
  type Cursor,
  type Database,
  ReplicaSetConnection,
} from "../../../src/client/mod.ts";
import { isDocument } from "./matcher.ts";
import type { TopologyName } from "./server_versions.ts";
import { dispatchesEvents, observe, type ObservedEvent } from "./events.ts";
import { ThreadEntity } from "./thread_entities.ts";
import { trackTopology } from "./topology_snapshots.ts";
import { trackCheckouts } from "./connection_counts.ts";
import { createSessionEntity } from "./session_operations.ts";
import { type ClientLogs, observeLogMessages } from "./log_messages.ts";

/** A test that cannot run here; `reason` says why (not applicable, or what the driver or simulator lacks). */
export class SkipTest extends Error {
  override name = "SkipTest";
  /** Why the test was skipped. */
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

/** A malformed test file, or a test that misuses the runner: always a failure, never ignored by `expectError`. */
export class TestFileError extends Error {
  override name = "TestFileError";
}

/** What the runner knows of the deployment. */
export interface Deployment {
  /** `mongodb://h1,h2,h3/?replicaSet=name` of the simulated set. */
  readonly uri: string;
  /** The current primary's `host:port`, for clients asking for `directConnection`. */
  primary(): string;
  /** The set's version from `buildInfo`, e.g. "7.0.0". */
  readonly serverVersion: string;
  /** `user:password@` (URI-encoded) when the set requires authentication, else absent. */
  readonly userinfo?: string;
  /** The topology runOnRequirements see (default "replicaset": the simulated set); see target.ts. */
  readonly topology?: TopologyName;
  /** On a sharded deployment: the URI naming only the first mongos, for clients without `useMultipleMongoses: true` (`uri` names every mongos). */
  readonly singleUri?: string;
  /** The deployment's name in skip reasons (default: the simulated set). */
  readonly name?: string;
}

/** One client entity: the driver's client and what the test asked to observe. */
export interface ClientEntity {
  /** A `ReplicaSetConnection` to the set, or a `Connection` to the primary with `directConnection=true`. */
  readonly client: ClientBase;
  readonly observeEvents: readonly string[];
  readonly ignoreCommandMonitoringEvents: readonly string[];
  /** The events observed so far, or undefined when the driver's client dispatches none. */
  readonly events: ObservedEvent[] | undefined;
  /** What it logged, when it observes log messages (log_messages.ts). */
  readonly logs?: ClientLogs;
}

/** The kinds of entity a test can define or save. */
export type EntityKind =
  | "client"
  | "database"
  | "collection"
  | "cursor"
  | "thread"
  | "session"
  | "value";

interface Entry {
  kind: EntityKind;
  value: unknown;
}

/** The entity map of one test: ids to entities, each id defined once. */
export class EntityMap {
  #entries = new Map<string, Entry>();

  /** Adds an entity; a duplicate id is a test-file error. */
  set(id: string, kind: EntityKind, value: unknown): void {
    if (typeof id !== "string" || id === "") {
      throw new TestFileError(`an entity id must be a non-empty string`);
    }
    if (this.#entries.has(id)) {
      throw new TestFileError(`entity ${id} is already defined`);
    }
    this.#entries.set(id, { kind, value });
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The entity `id`, which must exist and be of `kind`. */
  get(id: unknown, kind: "client"): ClientEntity;
  get(id: unknown, kind: "database"): Database;
  get(id: unknown, kind: "collection"): Collection;
  get(id: unknown, kind: "cursor"): Cursor<Document>;
  get(id: unknown, kind?: EntityKind): unknown;
  get(id: unknown, kind?: EntityKind): unknown {
    if (typeof id !== "string") {
      throw new TestFileError(
        `an entity reference must be a string, got ${typeof id}`,
      );
    }
    const e = this.#entries.get(id);
    if (e === undefined) throw new TestFileError(`entity ${id} is not defined`);
    if (kind !== undefined && e.kind !== kind) {
      throw new TestFileError(`entity ${id} is a ${e.kind}, not a ${kind}`);
    }
    return e.value;
  }

  kindOf(id: string): EntityKind | undefined {
    return this.#entries.get(id)?.kind;
  }

  /** Every client entity, for closing. */
  clients(): ClientEntity[] {
    return [...this.#entries.values()].filter((e) => e.kind === "client").map((
      e,
    ) => e.value as ClientEntity);
  }

  /** Every cursor entity, for closing. */
  cursors(): Cursor<Document>[] {
    return [...this.#entries.values()].filter((e) => e.kind === "cursor").map((
      e,
    ) => e.value as Cursor<Document>);
  }

  /** Closes the cursors and clients (errors while closing are not the test's). */
  async close(): Promise<void> {
    for (const c of this.cursors()) await c.close().catch(() => {});
    for (const c of this.clients()) await c.client.close().catch(() => {});
    // After the clients: closing them ends whatever a thread still runs.
    for (const e of this.#entries.values()) if (e.kind === "thread") await (e.value as ThreadEntity).settle();
    this.#entries.clear();
  }
}

/** The entity types of the format, with the entity fields that reference other entities. */
const ENTITY_REFS: Record<string, Record<string, string>> = {
  client: {},
  database: { client: "client" },
  collection: { database: "database" },
  session: { client: "client" },
  bucket: { database: "database" },
  thread: {},
  clientEncryption: {},
};

/** Required fields of each KMS provider's credentials (an empty document means "unconfigured", also valid). */
const KMS_FIELDS: Record<string, string[][]> = {
  aws: [["accessKeyId", "secretAccessKey"]],
  azure: [["tenantId", "clientId", "clientSecret"], ["accessToken"]],
  gcp: [["email", "privateKey"], ["accessToken"]],
  kmip: [["endpoint"]],
  local: [["key"]],
};

/**
 * Checks a list of entity definitions without creating anything: one entity
 * type per definition, an id, references to entities defined earlier (in
 * `known`, or earlier in the list) of the right type, a supported
 * `serverApi` version, complete KMS credentials. Adds the ids to `known`.
 */
export function validateEntities(
  list: unknown,
  known: Map<string, string>,
): void {
  if (!Array.isArray(list)) {
    throw new TestFileError("createEntities must be an array");
  }
  for (const def of list) {
    if (!isDocument(def) || Object.keys(def).length !== 1) {
      throw new TestFileError(
        "each entity definition is a document with exactly one key, its type",
      );
    }
    const [type] = Object.keys(def);
    const refs = ENTITY_REFS[type];
    if (refs === undefined) {
      throw new TestFileError(`unknown entity type ${type}`);
    }
    const spec = def[type];
    if (!isDocument(spec) || typeof spec.id !== "string") {
      throw new TestFileError(`a ${type} entity needs an id`);
    }
    for (const [field, refType] of Object.entries(refs)) {
      const ref = spec[field];
      if (typeof ref !== "string") {
        throw new TestFileError(
          `${type} entity ${spec.id} needs a ${field} reference`,
        );
      }
      const actual = known.get(ref);
      if (actual === undefined) {
        throw new TestFileError(
          `${type} entity ${spec.id}: ${field} ${ref} is not defined`,
        );
      }
      if (actual !== refType) {
        throw new TestFileError(
          `${type} entity ${spec.id}: ${ref} is a ${actual}, not a ${refType}`,
        );
      }
    }
    if (type === "client" && spec.serverApi !== undefined) {
      const api = spec.serverApi;
      if (!isDocument(api) || api.version !== "1") {
        throw new TestFileError(
          `client ${spec.id}: serverApi version ${
            JSON.stringify(isDocument(api) ? api.version : api)
          } is not a supported API version ("1")`,
        );
      }
    }
    if (type === "clientEncryption") validateClientEncryption(spec, known);
    if (known.has(spec.id)) {
      throw new TestFileError(`entity ${spec.id} is defined twice`);
    }
    known.set(spec.id, type);
  }
}

function validateClientEncryption(
  spec: Record<string, unknown>,
  known: Map<string, string>,
): void {
  const opts = spec.clientEncryptionOpts;
  if (!isDocument(opts)) {
    throw new TestFileError(
      `clientEncryption ${spec.id} needs clientEncryptionOpts`,
    );
  }
  if (known.get(opts.keyVaultClient as string) !== "client") {
    throw new TestFileError(
      `clientEncryption ${spec.id}: keyVaultClient ${String(opts.keyVaultClient)} is not a client entity`,
    );
  }
  const kms = opts.kmsProviders;
  if (!isDocument(kms) || Object.keys(kms).length === 0) {
    throw new TestFileError(
      `clientEncryption ${spec.id}: kmsProviders must name at least one provider`,
    );
  }
  for (const [name, creds] of Object.entries(kms)) {
    const provider = name.split(":")[0];
    const forms = KMS_FIELDS[provider];
    if (forms === undefined) {
      throw new TestFileError(
        `clientEncryption ${spec.id}: unknown KMS provider ${name}`,
      );
    }
    if (!isDocument(creds)) {
      throw new TestFileError(
        `clientEncryption ${spec.id}: ${name} credentials must be a document`,
      );
    }
    if (Object.keys(creds).length === 0) continue; // unconfigured: credentials come from the environment
    if (!forms.some((fields) => fields.every((f) => creds[f] !== undefined))) {
      throw new TestFileError(
        `clientEncryption ${spec.id}: ${name} credentials need ${forms.map((f) => f.join(" + ")).join(" or ")}`,
      );
    }
  }
}

/** A number option as the driver takes it: BSON number wrappers unwrapped. */
export function plain(v: unknown): unknown {
  if (v instanceof Int32 || v instanceof Double) return v.value;
  if (v instanceof Int64) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value;
  }
  if (Array.isArray(v)) return v.map(plain);
  if (isDocument(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** `writeConcern`/`readPreference` of database and collection options, as the driver takes them. */
function driverOptions(what: string, o: unknown): Document {
  if (o === undefined) return {};
  if (!isDocument(o)) throw new TestFileError(`${what} must be a document`);
  const out: Document = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === "writeConcern") out.writeConcern = plain(v);
    else if (k === "readPreference") out.readPreference = plain(v);
    else if (k === "readConcern") out.readConcern = plain(v);
    else throw new SkipTest(`driver lacks ${what} ${k}`);
  }
  return out;
}

/** URI options the client reports as unknown make the test skip: an option accepted and ignored would hide a gap. */
function clientUri(deployment: Deployment, uriOptions: unknown): string {
  if (uriOptions === undefined) return deployment.uri;
  if (!isDocument(uriOptions)) {
    throw new TestFileError("uriOptions must be a document");
  }
  if (plain(uriOptions.directConnection) === true) {
    // A direct connection names one host: the primary, without the set's name.
    const rest = Object.entries(uriOptions).filter(([k]) => k !== "directConnection");
    return clientUri({
      ...deployment,
      uri: `mongodb://${deployment.userinfo ?? ""}${deployment.primary()}/?directConnection=true`,
    }, Object.fromEntries(rest));
  }
  const params = Object.entries(plain(uriOptions) as Record<string, unknown>)
    .map(([k, v]) =>
      `${encodeURIComponent(k)}=${
        encodeURIComponent(
          isDocument(v) ? Object.entries(v).map(([a, b]) => `${a}:${b}`).join(",") : String(v),
        )
      }`
    );
  return params.length === 0 ? deployment.uri : `${deployment.uri}&${params.join("&")}`;
}

/**
 * Creates the entities of a `createEntities` list (already checked by
 * {@linkcode validateEntities}) into `map`. Entities the driver has no
 * counterpart for yet (session, bucket, clientEncryption) skip the
 * test with the reason.
 */
export async function createEntities(
  list: unknown[],
  map: EntityMap,
  deployment: Deployment,
): Promise<void> {
  for (const def of list as Record<string, Record<string, unknown>>[]) {
    const [type] = Object.keys(def);
    const spec = def[type];
    const id = spec.id as string;
    switch (type) {
      case "client":
        map.set(id, "client", await createClient(spec, deployment));
        break;
      case "database": {
        const c = map.get(spec.client, "client");
        if (typeof spec.databaseName !== "string") {
          throw new TestFileError(`database ${id} needs a databaseName`);
        }
        map.set(
          id,
          "database",
          c.client.db(
            spec.databaseName,
            driverOptions("databaseOptions", spec.databaseOptions),
          ),
        );
        break;
      }
      case "collection": {
        const db = map.get(spec.database, "database");
        if (typeof spec.collectionName !== "string") {
          throw new TestFileError(`collection ${id} needs a collectionName`);
        }
        map.set(
          id,
          "collection",
          db.collection(
            spec.collectionName,
            driverOptions("collectionOptions", spec.collectionOptions),
          ),
        );
        break;
      }
      case "session":
        createSessionEntity(spec, map);
        break;
      case "bucket":
        map.get(spec.database, "database");
        throw new SkipTest("driver lacks GridFS (bucket entity)");
      case "thread":
        map.set(id, "thread", new ThreadEntity());
        break;
      case "clientEncryption":
        throw new SkipTest(
          "driver lacks client-side encryption (clientEncryption entity)",
        );
      default:
        throw new TestFileError(`unknown entity type ${type}`);
    }
  }
}

const CLIENT_FIELDS = new Set([
  "id",
  "uriOptions",
  "useMultipleMongoses",
  "observeEvents",
  "ignoreCommandMonitoringEvents",
  "storeEventsAsEntities",
  "observeLogMessages",
  "observeSensitiveCommands",
  "serverApi",
  "awaitMinPoolSize",
  "observeTracingMessages",
]);

async function createClient(
  spec: Record<string, unknown>,
  deployment: Deployment,
): Promise<ClientEntity> {
  for (const k of Object.keys(spec)) {
    if (!CLIENT_FIELDS.has(k)) {
      throw new TestFileError(`client ${spec.id}: unknown field ${k}`);
    }
  }
  const list = (v: unknown, what: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw new TestFileError(
        `client ${spec.id}: ${what} must be a list of strings`,
      );
    }
    return v;
  };
  const observeEvents = list(spec.observeEvents, "observeEvents");
  const ignoreCommandMonitoringEvents = list(
    spec.ignoreCommandMonitoringEvents,
    "ignoreCommandMonitoringEvents",
  );
  if (
    spec.useMultipleMongoses !== undefined &&
    typeof spec.useMultipleMongoses !== "boolean"
  ) {
    throw new TestFileError(
      `client ${spec.id}: useMultipleMongoses must be a boolean`,
    );
  }
  // useMultipleMongoses has no effect outside sharded and load-balanced topologies.
  if (spec.serverApi !== undefined) {
    throw new SkipTest("driver lacks the Stable API (client serverApi)");
  }
  if (spec.storeEventsAsEntities !== undefined) {
    const who = dispatchesEvents(ReplicaSetConnection.prototype) ? "runner lacks" : "monitoring events not implemented";
    throw new SkipTest(`${who} (storeEventsAsEntities)`);
  }
  if (spec.awaitMinPoolSize === true) {
    throw new SkipTest("driver lacks a pool size to await (awaitMinPoolSize)");
  }
  const unknown: string[] = [];
  const uri = clientUri(
    spec.useMultipleMongoses !== true && deployment.singleUri !== undefined
      ? { ...deployment, uri: deployment.singleUri }
      : deployment,
    spec.uriOptions,
  );
  const onWarning = (m: string) => unknown.push(m);
  // ReplicaSetConnection discovers a replica set; Connection serves anything else (one server, direct or discovered).
  const client = uri.includes("directConnection=true") || (deployment.topology ?? "replicaset") !== "replicaset"
    ? new Connection(uri, { onWarning })
    : new ReplicaSetConnection(uri, { onWarning });
  trackTopology(client);
  trackCheckouts(client);
  if (unknown.length > 0) {
    await client.close();
    throw new SkipTest(`driver lacks URI option(s): ${unknown.join("; ")}`);
  }
  if (spec.observeSensitiveCommands !== undefined && typeof spec.observeSensitiveCommands !== "boolean") {
    throw new TestFileError(`client ${spec.id}: observeSensitiveCommands must be a boolean`);
  }
  const events = observe(client, {
    observeEvents,
    ignoreCommandMonitoringEvents,
    observeSensitiveCommands: spec.observeSensitiveCommands === true,
  });
  const logs = observeLogMessages(client, spec.observeLogMessages);
  // Monitoring starts when the client is created, as drivers that connect in the background do (SDAM
  // tests wait for the monitors' events before any operation); connect() resolves or fails on its own.
  client.connect().catch(() => {});
  return { client, observeEvents, ignoreCommandMonitoringEvents, events, ...(logs === undefined ? {} : { logs }) };
}
