/**
 * The SDAM specification's handling of errors raised by application
 * operations, as a pure function: which errors mark a server Unknown, which
 * clear its connection pool, which request an immediate check, and which are
 * stale and ignored.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { NODE_IS_RECOVERING_CODES, NOT_PRIMARY_CODES, SHUTDOWN_CODES } from "../error_codes.ts";
import {
  compareTopologyVersion,
  normalizeAddress,
  objectIdToHex,
  type TopologyVersion,
  unknownServerDescription,
} from "./server_description.ts";
import { applyServerDescription, type TopologyDescription } from "./topology_description.ts";

/** Wire version of MongoDB 4.2; older servers close every connection on a state change. */
const WIRE_VERSION_4_2 = 8;

/**
 * An error reply, or the parts of one that SDAM looks at. Pass the whole
 * server reply: `code` and `errmsg` (or the legacy `$err`) are read, and so is
 * `writeConcernError` when the reply is `ok: 1`. `writeErrors` are never
 * considered (the specification says so).
 *
 * @example
 * ```ts
 * import type { CommandErrorReply } from "./sdam_errors.ts";
 *
 * const r: CommandErrorReply = { ok: 0, code: 10107, errmsg: "not primary" };
 * console.log(r.code);
 * ```
 */
export interface CommandErrorReply {
  /** The reply's `ok` field. */
  readonly ok?: unknown;
  /** The server's error code, if any. */
  readonly code?: unknown;
  /** The server's error message. */
  readonly errmsg?: unknown;
  /** The legacy OP_REPLY QueryFailure message. */
  readonly $err?: unknown;
  /** A write concern error inside an `ok: 1` reply. */
  readonly writeConcernError?: unknown;
  /** The server's topologyVersion at the time of the error (4.4+). */
  readonly topologyVersion?: unknown;
  /** Any other field of the reply. */
  readonly [key: string]: unknown;
}

/**
 * Whether an error is a "not writable primary" error: by code when the reply
 * has one (10107, 13435, 10058), otherwise by the message "not master"
 * (unless it is a "node is recovering" message).
 *
 * Experimental: the server error codes and their classification are being gathered into one table.
 *
 * @param reply The error reply (or `{ code, errmsg }`).
 * @returns True for a "not writable primary" error.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNotPrimaryError } from "./sdam_errors.ts";
 *
 * assert.equal(isNotPrimaryError({ code: 10107 }), true);
 * assert.equal(isNotPrimaryError({ errmsg: "not master" }), true);
 * assert.equal(isNotPrimaryError({ code: 1, errmsg: "not master" }), false); // a code wins
 * ```
 */
export function isNotPrimaryError(reply: CommandErrorReply): boolean {
  const { code, message } = errorParts(reply);
  if (code !== null) return NOT_PRIMARY_CODES.has(code);
  if (isRecoveringMessage(message)) return false;
  return message.includes("not master");
}

/**
 * Whether an error is a "node is recovering" error: by code when the reply
 * has one (11600, 11602, 13436, 189, 91), otherwise by the messages "node is
 * recovering" or "not master or secondary".
 *
 * Experimental: the server error codes and their classification are being gathered into one table.
 *
 * @param reply The error reply (or `{ code, errmsg }`).
 * @returns True for a "node is recovering" error.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNodeIsRecoveringError } from "./sdam_errors.ts";
 *
 * assert.equal(isNodeIsRecoveringError({ code: 189 }), true);
 * assert.equal(isNodeIsRecoveringError({ errmsg: "not master or secondary" }), true);
 * ```
 */
export function isNodeIsRecoveringError(reply: CommandErrorReply): boolean {
  const { code, message } = errorParts(reply);
  if (code !== null) return NODE_IS_RECOVERING_CODES.has(code);
  return isRecoveringMessage(message);
}

/**
 * Whether an error is a State Change Error: "not writable primary" or
 * "node is recovering".
 *
 * Experimental: the server error codes and their classification are being gathered into one table.
 *
 * @param reply The error reply (or `{ code, errmsg }`).
 * @returns True for either kind.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStateChangeError } from "./sdam_errors.ts";
 *
 * assert.equal(isStateChangeError({ ok: 0, code: 91, errmsg: "ShutdownInProgress" }), true);
 * assert.equal(isStateChangeError({ ok: 0, code: 11000, errmsg: "duplicate key" }), false);
 * ```
 */
export function isStateChangeError(reply: CommandErrorReply): boolean {
  return isNodeIsRecoveringError(reply) || isNotPrimaryError(reply);
}

/**
 * Whether an error is a "node is shutting down" error (codes 11600 and 91),
 * after which every pooled connection to the server is dead.
 *
 * Experimental: the server error codes and their classification are being gathered into one table.
 *
 * @param reply The error reply (or `{ code }`).
 * @returns True for a shutdown code.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isShutdownError } from "./sdam_errors.ts";
 *
 * assert.equal(isShutdownError({ code: 11600 }), true);
 * assert.equal(isShutdownError({ code: 189 }), false);
 * ```
 */
export function isShutdownError(reply: CommandErrorReply): boolean {
  const { code } = errorParts(reply);
  return code !== null && SHUTDOWN_CODES.has(code);
}

/**
 * An error raised by an application operation (not by a monitor's check),
 * as {@linkcode handleApplicationError} needs it.
 *
 * @example
 * ```ts
 * import type { ApplicationError } from "./sdam_errors.ts";
 *
 * const e: ApplicationError = {
 *   address: "a:27017", type: "command", when: "afterHandshakeCompletes", maxWireVersion: 21,
 *   generation: 0, response: { ok: 0, code: 10107, errmsg: "not primary" },
 * };
 * console.log(e.type);
 * ```
 */
export interface ApplicationError {
  /** The server the operation ran on. */
  readonly address: string;
  /**
   * "command": the server replied with an error (`response` holds the reply);
   * "network": the connection failed (not a timeout); "timeout": a read or write timed out.
   */
  readonly type: "command" | "network" | "timeout";
  /** Whether the connection had completed its handshake (and authentication) when the error happened. */
  readonly when: "beforeHandshakeCompletes" | "afterHandshakeCompletes";
  /**
   * The error happened while authenticating the new connection. Only
   * meaningful before the handshake completes: authentication failures mark
   * the server Unknown and clear its pool, where failures of the connect and
   * `hello` steps change nothing.
   */
  readonly duringAuthentication?: boolean;
  /**
   * A network error while connecting was a DNS lookup failure. Such a failure
   * can never be caused by an overloaded server, so unlike other errors while
   * connecting it marks the server Unknown and clears its pool.
   */
  readonly dnsFailure?: boolean;
  /** maxWireVersion of the connection's handshake (0 when it had none). */
  readonly maxWireVersion: number;
  /** The pool generation of the connection (of the pool when the connection was started); defaults to the current one. */
  readonly generation?: number;
  /** The server's error reply, for "command" errors. */
  readonly response?: CommandErrorReply;
  /** A description of a network error, stored in the Unknown server description. */
  readonly message?: string;
}

/**
 * Options of {@linkcode handleApplicationError}.
 *
 * @example
 * ```ts
 * import type { HandleApplicationErrorOptions } from "./sdam_errors.ts";
 *
 * const o: HandleApplicationErrorOptions = { poolGeneration: 3 };
 * console.log(o.poolGeneration);
 * ```
 */
export interface HandleApplicationErrorOptions {
  /** The current generation of the server's connection pool; an error from an older one is stale. */
  poolGeneration?: number;
}

/**
 * What {@linkcode handleApplicationError} decided. The caller applies the
 * effects while holding the topology's lock, so that clearing the pool and
 * replacing the description happen together.
 *
 * @example
 * ```ts
 * import type { ApplicationErrorOutcome } from "./sdam_errors.ts";
 *
 * function act(o: ApplicationErrorOutcome) {
 *   if (o.clearPool) console.log("clear the pool");
 *   if (o.requestCheck) console.log("check the server now");
 * }
 * act({ topology: null as never, clearPool: false, requestCheck: false, cancelCheck: false, action: "ignored", reason: "" });
 * ```
 */
export interface ApplicationErrorOutcome {
  /** The new topology (the same object when nothing changed). */
  readonly topology: TopologyDescription;
  /** Clear the server's connection pool (increment its generation). */
  readonly clearPool: boolean;
  /** Ask the server's monitor for an immediate check. */
  readonly requestCheck: boolean;
  /** Cancel the monitor's in-progress check (its connection is likely dead too). */
  readonly cancelCheck: boolean;
  /** "markedUnknown" when the server's description was replaced, "poolOnly" when only the pool is affected, else "ignored". */
  readonly action: "markedUnknown" | "poolOnly" | "ignored";
  /** Why: a short explanation, useful in logs and tests. */
  readonly reason: string;
}

/**
 * Applies the SDAM specification's error-handling rules for an error raised
 * by an application operation:
 *
 * - an error from a server no longer in the topology, or from a connection of
 *   an older pool generation, is stale and ignored;
 * - a State Change Error ("not writable primary", "node is recovering") whose
 *   topologyVersion is not newer than the server's is stale and ignored;
 *   otherwise it marks the server Unknown (keeping the error's
 *   topologyVersion) and requests an immediate check, and it also clears the
 *   pool when it is a shutdown error or comes from a server older than 4.2;
 * - other command errors are ignored, except during authentication, where
 *   they mark the server Unknown and clear the pool;
 * - a network error after the handshake marks the server Unknown, clears the
 *   pool and cancels the monitor's check, without an immediate check;
 * - a network timeout after the handshake is ignored (the operation may just be slow);
 * - a network error or timeout while connecting or running `hello` changes
 *   nothing (it may only mean the server is overloaded; the monitor decides
 *   whether the server is up), except a DNS lookup failure (`dnsFailure`);
 *   one during authentication marks the server Unknown and clears the pool;
 * - in LoadBalanced topologies the description is never changed; only pools are cleared.
 *
 * Experimental: the server error codes and their classification are being gathered into one table.
 *
 * @param topology The current topology.
 * @param error The error and where it happened.
 * @param options The server's current pool generation.
 * @returns The new topology and the side effects to carry out.
 * @throws {ConfigurationError} When `error` is malformed (unknown `type` or `when`, bad address).
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handleApplicationError } from "./sdam_errors.ts";
 * import { initialTopologyDescription, updateTopology } from "./topology_description.ts";
 * import { serverDescriptionFromHello } from "./server_description.ts";
 *
 * let td = initialTopologyDescription(["a:27017"], { replicaSet: "rs" });
 * td = updateTopology(td, serverDescriptionFromHello("a:27017", {
 *   ok: 1, isWritablePrimary: true, setName: "rs", hosts: ["a:27017"], maxWireVersion: 21,
 * }));
 * const out = handleApplicationError(td, {
 *   address: "a:27017", type: "command", when: "afterHandshakeCompletes", maxWireVersion: 21,
 *   response: { ok: 0, code: 10107, errmsg: "not primary" },
 * }, { poolGeneration: 0 });
 * assert.equal(out.topology.type, "ReplicaSetNoPrimary");
 * assert.equal(out.requestCheck, true);
 * assert.equal(out.clearPool, false);
 * ```
 */
export function handleApplicationError(
  topology: TopologyDescription,
  error: ApplicationError,
  options: HandleApplicationErrorOptions = {},
): ApplicationErrorOutcome {
  if (error === null || typeof error !== "object") {
    throw new ConfigurationError("handleApplicationError: error must be an ApplicationError object");
  }
  if (error.type !== "command" && error.type !== "network" && error.type !== "timeout") {
    throw new ConfigurationError(
      `handleApplicationError: type must be "command", "network" or "timeout", got ${JSON.stringify(error.type)}`,
    );
  }
  if (error.when !== "beforeHandshakeCompletes" && error.when !== "afterHandshakeCompletes") {
    throw new ConfigurationError(
      `handleApplicationError: when must be "beforeHandshakeCompletes" or "afterHandshakeCompletes", got ${
        JSON.stringify(error.when)
      }`,
    );
  }
  const address = normalizeAddress(error.address);
  const ignore = (reason: string): ApplicationErrorOutcome => ({
    topology,
    clearPool: false,
    requestCheck: false,
    cancelCheck: false,
    action: "ignored",
    reason,
  });
  const current = topology.servers.get(address);
  if (current === undefined) return ignore(`${address} is not in the topology`);
  const pool = options.poolGeneration;
  if (error.generation !== undefined && pool !== undefined && error.generation < pool) {
    return ignore(`stale error: connection generation ${error.generation} < pool generation ${pool}`);
  }
  const loadBalanced = topology.type === "LoadBalanced";

  const markUnknown = (
    message: string,
    topologyVersion: TopologyVersion | null,
    effects: { clearPool: boolean; requestCheck: boolean; cancelCheck: boolean },
    reason: string,
  ): ApplicationErrorOutcome => {
    if (loadBalanced) {
      // A load balancer is never marked Unknown; only its pool (per serviceId) may be cleared.
      return {
        topology,
        clearPool: effects.clearPool,
        requestCheck: false,
        cancelCheck: false,
        action: effects.clearPool ? "poolOnly" : "ignored",
        reason: `${reason} (load balanced: description kept)`,
      };
    }
    const unknown = { ...unknownServerDescription(address, message), topologyVersion };
    return {
      topology: applyServerDescription(topology, unknown).topology,
      ...effects,
      action: "markedUnknown",
      reason,
    };
  };

  const before = error.when === "beforeHandshakeCompletes";
  const auth = before && error.duringAuthentication === true;

  if (error.type === "command") {
    const reply = error.response ?? {};
    const parts = sdamErrorOf(reply);
    if (parts !== null && isStateChangeError(parts)) {
      const tv = readTopologyVersion(reply.topologyVersion ?? parts.topologyVersion);
      if (compareTopologyVersion(current.topologyVersion, tv) >= 0) {
        return ignore("stale error: its topologyVersion is not newer than the server's");
      }
      const shutdown = isShutdownError(parts);
      const old = error.maxWireVersion < WIRE_VERSION_4_2;
      const kind = isNotPrimaryError(parts) ? "not writable primary" : "node is recovering";
      return markUnknown(
        `${kind} error from ${address}: ${describeError(parts)}`,
        tv,
        { clearPool: shutdown || old, requestCheck: true, cancelCheck: false },
        `state change error (${kind})${shutdown ? ", shutting down" : ""}${old ? ", server older than 4.2" : ""}`,
      );
    }
    if (auth && parts !== null) {
      return markUnknown(
        `authentication with ${address} failed: ${describeError(parts)}`,
        null,
        { clearPool: true, requestCheck: false, cancelCheck: false },
        "authentication error",
      );
    }
    return ignore(parts === null ? "the reply carries no error SDAM looks at" : "not a state change error");
  }

  const what = error.type === "timeout" ? "network timeout" : "network error";
  const detail = error.message === undefined ? "" : `: ${error.message}`;
  if (before) {
    if (auth) {
      return markUnknown(
        `${what} during authentication with ${address}${detail}`,
        null,
        { clearPool: true, requestCheck: false, cancelCheck: true },
        `${what} during authentication`,
      );
    }
    if (error.dnsFailure === true) {
      return markUnknown(
        `cannot resolve the host name of ${address}${detail}`,
        null,
        { clearPool: true, requestCheck: false, cancelCheck: true },
        "DNS lookup failure while connecting",
      );
    }
    // Connect and hello failures may only mean the server is overloaded (backpressure):
    // dropping its pool would make things worse, and the monitor decides whether it is up.
    return ignore(`${what} while connecting: the monitor decides whether the server is up`);
  }
  if (error.type === "timeout") return ignore("network timeout after the handshake: the operation may just be slow");
  return markUnknown(
    `${what} on a connection to ${address}${detail}`,
    null,
    { clearPool: true, requestCheck: false, cancelCheck: true },
    "network error after the handshake",
  );
}

// ---------------------------------------------------------------------------

/** The error SDAM considers in a reply: the reply's own when `ok` is not 1, else its writeConcernError. */
function sdamErrorOf(reply: CommandErrorReply): CommandErrorReply | null {
  const ok = plain(reply.ok);
  if (!(ok === 1 || ok === true || ok === 1n)) return reply;
  const wce = reply.writeConcernError;
  if (wce !== null && typeof wce === "object") return wce as CommandErrorReply;
  return null;
}

function errorParts(reply: CommandErrorReply): { code: number | null; message: string } {
  const raw = plain(reply?.code);
  let code: number | null = null;
  if (typeof raw === "number" && Number.isFinite(raw)) code = raw;
  else if (typeof raw === "bigint") code = Number(raw);
  const msg = typeof reply?.errmsg === "string" ? reply.errmsg : typeof reply?.$err === "string" ? reply.$err : "";
  return { code, message: msg };
}

function isRecoveringMessage(message: string): boolean {
  return message.includes("not master or secondary") || message.includes("node is recovering");
}

function describeError(reply: CommandErrorReply): string {
  const { code, message } = errorParts(reply);
  const name = typeof reply.codeName === "string" ? ` ${reply.codeName}` : "";
  return `${message || "no message"}${code === null ? "" : ` (code ${code}${name})`}`;
}

function readTopologyVersion(value: unknown): TopologyVersion | null {
  if (value === null || typeof value !== "object") return null;
  const tv = value as Record<string, unknown>;
  const processId = objectIdToHex(tv.processId);
  const counter = plain(tv.counter);
  if (processId === null) return null;
  if (typeof counter === "bigint") return { processId, counter };
  if (typeof counter === "number" && Number.isInteger(counter)) return { processId, counter: BigInt(counter) };
  return null;
}

function plain(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    const toNumber = (value as { toNumber?: unknown }).toNumber;
    if (typeof toNumber === "function") return (toNumber as () => unknown).call(value);
    const v: unknown = (value as { valueOf(): unknown }).valueOf();
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return v;
  }
  return value;
}
