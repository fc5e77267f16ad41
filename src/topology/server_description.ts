/**
 * What the driver knows of one server: the SDAM specification's
 * `ServerDescription`, built from a `hello` (or legacy `isMaster`) reply or
 * from a failed check. Everything here is pure: no clocks are read unless the
 * caller leaves `now` out, and nothing touches the network.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { formatAddress, parseAddress } from "../address.ts";
import { describeValue } from "../describe.ts";
import { updateRoundTripTime } from "./rtt.ts";

/**
 * The type of one server, as the SDAM specification names it.
 *
 * @example
 * ```ts
 * import type { ServerType } from "./server_description.ts";
 *
 * const t: ServerType = "RSSecondary";
 * console.log(t);
 * ```
 */
export type ServerType =
  | "Standalone"
  | "Mongos"
  | "PossiblePrimary"
  | "RSPrimary"
  | "RSSecondary"
  | "RSArbiter"
  | "RSOther"
  | "RSGhost"
  | "LoadBalancer"
  | "Unknown";

/**
 * A server's `topologyVersion`; `processId` is the ObjectId as 24 lowercase hex chars.
 *
 * @example
 * ```ts
 * import type { TopologyVersion } from "./server_description.ts";
 *
 * const tv: TopologyVersion = { processId: "000000000000000000000001", counter: 3n };
 * console.log(tv.counter);
 * ```
 */
export interface TopologyVersion {
  /** The server process's ObjectId, 24 lowercase hex characters. */
  readonly processId: string;
  /** Incremented by the server on every topology change of that process. */
  readonly counter: bigint;
}

/**
 * What the driver knows of one server (immutable; replaced, never mutated).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownServerDescription } from "./server_description.ts";
 *
 * const sd = unknownServerDescription("a:27017");
 * assert.equal(sd.type, "Unknown");
 * assert.equal(sd.address, "a:27017");
 * ```
 */
export interface ServerDescription {
  /** "host:port", lowercase; "[::1]:27017" for IPv6; a socket path for Unix sockets. */
  readonly address: string;
  /** The server's type, from its last check. */
  readonly type: ServerType;
  /** Why the server is Unknown, when it is because of an error. */
  readonly error: string | null;
  /** Exponentially weighted average round-trip time in ms, or null before the first check. */
  readonly roundTripTime: number | null;
  /** `lastWrite.lastWriteDate` of the hello reply, in ms since the epoch. */
  readonly lastWriteDate: number | null;
  /** When this description was made, in ms (the monitor's clock; used by max staleness). */
  readonly lastUpdateTime: number;
  /** Lowest wire version the server speaks (0 when unknown). */
  readonly minWireVersion: number;
  /** Highest wire version the server speaks (0 when unknown). */
  readonly maxWireVersion: number;
  /** The address the server has in its replica set config (`me`), lowercase. */
  readonly me: string | null;
  /** The server's view of the set's electable members, lowercase. */
  readonly hosts: readonly string[];
  /** The server's view of the set's priority-0 members, lowercase. */
  readonly passives: readonly string[];
  /** The server's view of the set's arbiters, lowercase. */
  readonly arbiters: readonly string[];
  /** The member's tags from the replica set config. */
  readonly tags: Readonly<Record<string, string>>;
  /** The replica set name the server reports. */
  readonly setName: string | null;
  /** The replica set config version the server reports. */
  readonly setVersion: number | null;
  /** The electionId ObjectId as 24 lowercase hex chars. */
  readonly electionId: string | null;
  /** The server's opinion of who the primary is, lowercase. */
  readonly primary: string | null;
  /** Minutes before an idle session expires, or null when sessions are unsupported. */
  readonly logicalSessionTimeoutMinutes: number | null;
  /** The server's topologyVersion, from its hello reply or from a state-change error. */
  readonly topologyVersion: TopologyVersion | null;
  /** The hello reply said `helloOk: true`: later checks may use `hello`. */
  readonly helloOk: boolean;
}

/**
 * Options of {@linkcode serverDescriptionFromHello}.
 *
 * @example
 * ```ts
 * import type { ServerDescriptionOptions } from "./server_description.ts";
 *
 * const o: ServerDescriptionOptions = { roundTripTime: 3, previousRoundTripTime: 5, now: 0 };
 * console.log(o.roundTripTime);
 * ```
 */
export interface ServerDescriptionOptions {
  /** The round-trip time of the check that produced the reply, in ms. */
  roundTripTime?: number;
  /** The server's average round-trip time before this check, or null for none. */
  previousRoundTripTime?: number | null;
  /** The time of the check, in ms (defaults to `Date.now()`); becomes `lastUpdateTime`. */
  now?: number;
}

const HEX_24 = /^[0-9a-fA-F]{24}$/;

/**
 * Normalises a server address: lower-cased host, explicit port (27017 when
 * none is given). Unix socket paths are returned unchanged because file names
 * are case-sensitive.
 *
 * @param address "host", "host:port", "[v6]:port" or a socket path ending in ".sock".
 * @returns The address as topology keys use it.
 * @throws {ConfigurationError} When the address is empty, not a string, or has a bad port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeAddress } from "./server_description.ts";
 *
 * assert.equal(normalizeAddress("DB1.Example.com"), "db1.example.com:27017");
 * assert.equal(normalizeAddress("[::1]:27018"), "[::1]:27018");
 * ```
 */
export function normalizeAddress(address: string): string {
  return formatAddress(parseAddress(address));
}

/**
 * A description of a server the driver knows nothing about yet, or that failed
 * its last check (`error` says why).
 *
 * @param address The server's address (normalised: lower-cased, port added).
 * @param error Why the server is Unknown, if because of an error.
 * @returns An Unknown `ServerDescription` with every field at its default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unknownServerDescription } from "./server_description.ts";
 *
 * const sd = unknownServerDescription("b:27017", "connection refused");
 * assert.equal(sd.type, "Unknown");
 * assert.equal(sd.error, "connection refused");
 * ```
 */
export function unknownServerDescription(address: string, error?: string | null): ServerDescription {
  return defaultDescription(normalizeAddress(address), "Unknown", error ?? null, 0);
}

/**
 * A description of a load balancer: in load-balanced mode the driver never
 * checks the server, it assumes this type (load-balancer specification).
 *
 * Experimental: load-balanced mode is refused by the client for now.
 *
 * @param address The load balancer's address.
 * @returns A `ServerDescription` of type `LoadBalancer`.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadBalancerServerDescription } from "./server_description.ts";
 *
 * assert.equal(loadBalancerServerDescription("lb:27017").type, "LoadBalancer");
 * ```
 */
export function loadBalancerServerDescription(address: string): ServerDescription {
  return defaultDescription(normalizeAddress(address), "LoadBalancer", null, 0);
}

/**
 * Builds a `ServerDescription` from a `hello` or legacy `isMaster` reply, as
 * the SDAM specification's "parsing a hello response" section says.
 *
 * A reply without `ok: 1` gives an Unknown description whose `error` carries
 * the server's message. A reply whose fields have impossible types (a `hosts`
 * that is not a list of strings, ...) also gives an Unknown description with
 * an `error` naming the field: a monitor must never crash on what a server sent.
 *
 * ObjectIds (`electionId`, `topologyVersion.processId`) are accepted as an
 * object with `toHexString()`, an object with a 12-byte `id`, a 12-byte
 * `Uint8Array`, or a 24-hex-digit string, so that the decoder's and js-bson's
 * ObjectIds both work without importing either.
 *
 * @param address The address the monitor connected to (not the reply's `me`).
 * @param reply The decoded reply document.
 * @param options Round-trip times and the check's timestamp.
 * @returns The new description (never throws for a bad reply).
 * @throws {ConfigurationError} When `address` is not a valid address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverDescriptionFromHello } from "./server_description.ts";
 *
 * const sd = serverDescriptionFromHello("A:27017", {
 *   ok: 1, isWritablePrimary: true, setName: "rs", hosts: ["A:27017", "b:27017"],
 *   minWireVersion: 0, maxWireVersion: 21,
 * }, { roundTripTime: 4 });
 * assert.equal(sd.type, "RSPrimary");
 * assert.deepEqual(sd.hosts, ["a:27017", "b:27017"]);
 * ```
 */
export function serverDescriptionFromHello(
  address: string,
  reply: Record<string, unknown>,
  options: ServerDescriptionOptions = {},
): ServerDescription {
  const addr = normalizeAddress(address);
  const now = options.now ?? Date.now();
  if (reply === null || typeof reply !== "object" || Array.isArray(reply)) {
    return defaultDescription(addr, "Unknown", `invalid hello reply from ${addr}: not a document`, now);
  }
  if (!isOk(reply.ok)) {
    const msg = typeof reply.errmsg === "string" ? reply.errmsg : "no error message";
    const code = reply.code === undefined ? "" : ` (code ${String(reply.code)})`;
    const tv = safe(() => parseTopologyVersion(reply.topologyVersion));
    return {
      ...defaultDescription(addr, "Unknown", `hello to ${addr} failed: ${msg}${code}`, now),
      topologyVersion: tv instanceof ReplyFieldError ? null : tv,
    };
  }
  try {
    return parseOkReply(addr, reply, options, now);
  } catch (e) {
    if (e instanceof ReplyFieldError) {
      return defaultDescription(addr, "Unknown", `invalid hello reply from ${addr}: ${e.message}`, now);
    }
    throw e;
  }
}

/**
 * Whether two descriptions of the same server are equal for the purpose of
 * publishing SDAM events: the specification's "server description equality",
 * which compares only the fields marked (=) (so round-trip time, last update
 * time and lastWriteDate are ignored). `hosts`, `passives` and `arbiters` are
 * compared as sets, `tags` as maps. `PossiblePrimary` counts as `Unknown`:
 * the specification calls them synonymous for multi-threaded and async
 * drivers, and marking a server as a possible primary is not a change that
 * deserves an event.
 *
 * @param a One description.
 * @param b The other description.
 * @returns True when no (=) field differs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverDescriptionEquals, unknownServerDescription } from "./server_description.ts";
 *
 * const a = unknownServerDescription("a:27017");
 * const b = { ...a, roundTripTime: 12 };
 * assert.equal(serverDescriptionEquals(a, b), true);
 * ```
 */
export function serverDescriptionEquals(a: ServerDescription, b: ServerDescription): boolean {
  if (a === b) return true;
  return a.address === b.address &&
    eventType(a.type) === eventType(b.type) &&
    a.error === b.error &&
    a.minWireVersion === b.minWireVersion &&
    a.maxWireVersion === b.maxWireVersion &&
    a.me === b.me &&
    sameSet(a.hosts, b.hosts) &&
    sameSet(a.passives, b.passives) &&
    sameSet(a.arbiters, b.arbiters) &&
    sameTags(a.tags, b.tags) &&
    a.setName === b.setName &&
    a.setVersion === b.setVersion &&
    a.electionId === b.electionId &&
    a.primary === b.primary &&
    a.logicalSessionTimeoutMinutes === b.logicalSessionTimeoutMinutes &&
    sameTopologyVersion(a.topologyVersion, b.topologyVersion);
}

/**
 * Orders two topologyVersions as the SDAM specification does: -1 when `a` is
 * older than `b` or when they cannot be ordered (either is null, or the
 * process ids differ, in which case the newer information is assumed to win),
 * 0 when equal, 1 when `a` is newer.
 *
 * @param a The current topologyVersion.
 * @param b The topologyVersion of new information (a reply or an error).
 * @returns -1, 0 or 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareTopologyVersion } from "./server_description.ts";
 *
 * const pid = "000000000000000000000001";
 * assert.equal(compareTopologyVersion({ processId: pid, counter: 2n }, { processId: pid, counter: 1n }), 1);
 * assert.equal(compareTopologyVersion(null, { processId: pid, counter: 1n }), -1);
 * ```
 */
export function compareTopologyVersion(a: TopologyVersion | null, b: TopologyVersion | null): -1 | 0 | 1 {
  if (a === null || b === null || a === undefined || b === undefined) return -1;
  if (a.processId !== b.processId) return -1;
  if (a.counter === b.counter) return 0;
  return a.counter < b.counter ? -1 : 1;
}

/**
 * Reads an ObjectId-like value as 24 lowercase hex characters, or null when
 * the value is not one. Accepts an object with `toHexString()`, an object
 * whose `id` (or `buffer`) is 12 bytes, a 12-byte `Uint8Array`, or a
 * 24-hex-digit string.
 *
 * @param value The value to read.
 * @returns The hex string, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectIdToHex } from "./server_description.ts";
 *
 * assert.equal(objectIdToHex("00000000000000000000000A"), "00000000000000000000000a");
 * assert.equal(objectIdToHex(new Uint8Array(12)), "000000000000000000000000");
 * ```
 */
export function objectIdToHex(value: unknown): string | null {
  if (typeof value === "string") return HEX_24.test(value) ? value.toLowerCase() : null;
  if (value instanceof Uint8Array) return value.length === 12 ? bytesToHex(value) : null;
  if (value === null || typeof value !== "object") return null;
  const o = value as { toHexString?: unknown; id?: unknown; buffer?: unknown };
  if (typeof o.toHexString === "function") {
    const hex: unknown = (o.toHexString as () => unknown).call(value);
    return typeof hex === "string" && HEX_24.test(hex) ? hex.toLowerCase() : null;
  }
  if (o.id instanceof Uint8Array) return o.id.length === 12 ? bytesToHex(o.id) : null;
  if (o.buffer instanceof Uint8Array) return o.buffer.length === 12 ? bytesToHex(o.buffer) : null;
  return null;
}

// ---------------------------------------------------------------------------

/** A reply field of an impossible type; turned into an Unknown description. */
class ReplyFieldError extends Error {}

function parseOkReply(
  address: string,
  reply: Record<string, unknown>,
  options: ServerDescriptionOptions,
  now: number,
): ServerDescription {
  const setName = optionalString(reply, "setName");
  const type = serverTypeOf(reply, setName);
  const previous = options.previousRoundTripTime ?? null;
  const roundTripTime = options.roundTripTime === undefined
    ? previous
    : updateRoundTripTime(previous, options.roundTripTime);
  const lastWrite = reply.lastWrite;
  let lastWriteDate: number | null = null;
  if (lastWrite !== undefined && lastWrite !== null) {
    if (typeof lastWrite !== "object") throw new ReplyFieldError("lastWrite must be a document");
    lastWriteDate = toMillis((lastWrite as Record<string, unknown>).lastWriteDate, "lastWrite.lastWriteDate");
  }
  const electionIdRaw = reply.electionId;
  let electionId: string | null = null;
  if (electionIdRaw !== undefined && electionIdRaw !== null) {
    electionId = objectIdToHex(electionIdRaw);
    if (electionId === null) throw new ReplyFieldError("electionId must be an ObjectId");
  }
  return {
    address,
    type,
    error: null,
    roundTripTime,
    lastWriteDate,
    lastUpdateTime: now,
    minWireVersion: optionalInteger(reply, "minWireVersion") ?? 0,
    maxWireVersion: optionalInteger(reply, "maxWireVersion") ?? 0,
    me: replyAddress(optionalString(reply, "me"), "me"),
    hosts: addressList(reply, "hosts"),
    passives: addressList(reply, "passives"),
    arbiters: addressList(reply, "arbiters"),
    tags: parseTags(reply.tags),
    setName,
    setVersion: optionalInteger(reply, "setVersion"),
    electionId,
    primary: replyAddress(optionalString(reply, "primary"), "primary"),
    logicalSessionTimeoutMinutes: optionalInteger(reply, "logicalSessionTimeoutMinutes"),
    topologyVersion: parseTopologyVersion(reply.topologyVersion),
    helloOk: reply.helloOk === true,
  };
}

function serverTypeOf(reply: Record<string, unknown>, setName: string | null): ServerType {
  if (reply.msg === "isdbgrid") return "Mongos";
  if (reply.isreplicaset === true) return "RSGhost";
  if (setName !== null) {
    // isWritablePrimary wins over the legacy field whenever it is present.
    const primary = "isWritablePrimary" in reply ? reply.isWritablePrimary : reply.ismaster;
    if (reply.hidden === true) return "RSOther";
    if (primary === true) return "RSPrimary";
    if (reply.secondary === true) return "RSSecondary";
    if (reply.arbiterOnly === true) return "RSArbiter";
    return "RSOther";
  }
  return "Standalone";
}

function defaultDescription(
  address: string,
  type: ServerType,
  error: string | null,
  now: number,
): ServerDescription {
  return {
    address,
    type,
    error,
    roundTripTime: null,
    lastWriteDate: null,
    lastUpdateTime: now,
    minWireVersion: 0,
    maxWireVersion: 0,
    me: null,
    hosts: [],
    passives: [],
    arbiters: [],
    tags: {},
    setName: null,
    setVersion: null,
    electionId: null,
    primary: null,
    logicalSessionTimeoutMinutes: null,
    topologyVersion: null,
    helloOk: false,
  };
}

function isOk(ok: unknown): boolean {
  if (ok === true) return true;
  if (typeof ok === "number") return ok === 1;
  if (typeof ok === "bigint") return ok === 1n;
  if (ok !== null && typeof ok === "object") {
    const v: unknown = (ok as { valueOf(): unknown }).valueOf();
    return v !== ok && isOk(v);
  }
  return false;
}

/** Unwraps numeric wrappers (Int32, Double, Long with valueOf) to a plain number or bigint. */
function plainNumber(value: unknown): unknown {
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const toNumber = (value as { toNumber?: unknown }).toNumber;
    if (typeof toNumber === "function") return (toNumber as () => unknown).call(value);
    const v: unknown = (value as { valueOf(): unknown }).valueOf();
    if (typeof v === "number" || typeof v === "bigint") return v;
  }
  return value;
}

function optionalInteger(reply: Record<string, unknown>, key: string): number | null {
  const raw = reply[key];
  if (raw === undefined || raw === null) return null;
  const value = plainNumber(raw);
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ReplyFieldError(`${key} is out of range (${value})`);
    }
    return Number(value);
  }
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new ReplyFieldError(`${key} must be an integer, got ${describeValue(raw)}`);
}

function optionalString(reply: Record<string, unknown>, key: string): string | null {
  const value = reply[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new ReplyFieldError(`${key} must be a string, got ${describeValue(value)}`);
  return value;
}

function replyAddress(value: string | null, key: string): string | null {
  if (value === null) return null;
  try {
    return normalizeAddress(value);
  } catch (e) {
    if (e instanceof ConfigurationError) throw new ReplyFieldError(`${key}: ${e.message}`);
    throw e;
  }
}

function addressList(reply: Record<string, unknown>, key: string): string[] {
  const value = reply[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ReplyFieldError(`${key} must be an array of strings, got ${describeValue(value)}`);
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== "string") {
      throw new ReplyFieldError(`${key} must be an array of strings, found ${describeValue(item)}`);
    }
    const normal = replyAddress(item, key) as string;
    if (!out.includes(normal)) out.push(normal);
  }
  return out;
}

function parseTags(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ReplyFieldError(`tags must be a document of strings, got ${describeValue(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") throw new ReplyFieldError(`tags.${k} must be a string, got ${describeValue(v)}`);
    out[k] = v;
  }
  return out;
}

function parseTopologyVersion(value: unknown): TopologyVersion | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object") throw new ReplyFieldError("topologyVersion must be a document");
  const tv = value as Record<string, unknown>;
  const processId = objectIdToHex(tv.processId);
  if (processId === null) throw new ReplyFieldError("topologyVersion.processId must be an ObjectId");
  const rawCounter = plainNumber(tv.counter);
  let counter: bigint;
  if (typeof rawCounter === "bigint") counter = rawCounter;
  else if (typeof rawCounter === "number" && Number.isInteger(rawCounter)) counter = BigInt(rawCounter);
  else throw new ReplyFieldError(`topologyVersion.counter must be an integer, got ${describeValue(tv.counter)}`);
  return { processId, counter };
}

function toMillis(value: unknown, key: string): number | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) throw new ReplyFieldError(`${key} is an invalid Date`);
    return t;
  }
  const v = plainNumber(value);
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  throw new ReplyFieldError(`${key} must be a date, got ${describeValue(value)}`);
}

function safe<T>(f: () => T): T | ReplyFieldError {
  try {
    return f();
  } catch (e) {
    if (e instanceof ReplyFieldError) return e;
    throw e;
  }
}

function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}


function eventType(t: ServerType): ServerType {
  return t === "PossiblePrimary" ? "Unknown" : t;
}

function sameTopologyVersion(a: TopologyVersion | null, b: TopologyVersion | null): boolean {
  if (a === null || b === null) return a === b;
  return a.processId === b.processId && a.counter === b.counter;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const x of sa) if (!sb.has(x)) return false;
  return true;
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
  return true;
}
