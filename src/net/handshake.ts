/**
 * The connection handshake, apart from the socket it runs on: the hello
 * document (client metadata, Stable API, SASL mechanism negotiation and
 * speculative authentication, compressors offered), what the reply settles
 * (the server's limits as one value, the compressor agreed).
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import type { Document } from "../bson/mod.ts";
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, type SupportedCompressor } from "../wire/mod.ts";
import { clientMetadata } from "./client_metadata.ts";
import type { Credential, SpeculativeStart } from "./auth.ts";

/** The compressors this driver can offer (the web platform ships zlib's deflate). */
const SPOKEN_COMPRESSORS: ReadonlySet<string> = new Set(["zlib"]);
/** The first wire version that speaks OP_MSG (MongoDB 3.6). */
export const OP_MSG_WIRE_VERSION = 6;

/**
 * A Stable API request (the versioned API specification): version `"1"` is
 * the only one defined.
 *
 * @example
 * ```ts
 * import type { ServerApi } from "./handshake.ts";
 *
 * const api: ServerApi = { version: "1", strict: true };
 * ```
 */
export interface ServerApi {
  /** The API version; `"1"`. */
  version: "1";
  /** Sent as `apiStrict`: the server rejects commands outside the API. */
  strict?: boolean;
  /** Sent as `apiDeprecationErrors`: the server rejects deprecated commands. */
  deprecationErrors?: boolean;
}

/**
 * What a hello is built from: the handshake part of the connection options.
 *
 * @example
 * ```ts
 * import type { HelloOptions } from "./handshake.ts";
 *
 * const options: HelloOptions = { appName: "inventory", compressors: ["zlib"] };
 * ```
 */
export interface HelloOptions {
  /** Sent as `client.application.name`; at most 128 bytes. */
  appName?: string;
  /** More fields for the hello, after the ones set here. */
  handshake?: Document;
  /** The Stable API: the hello is then `hello` (over OP_MSG) and carries `apiVersion`. */
  serverApi?: ServerApi;
  /** Adds SASL mechanism negotiation and the speculative first step. */
  credential?: Credential;
  /** Compressors to offer, in order of preference (those this driver speaks). */
  compressors?: readonly string[];
}

/**
 * A hello ready to send, and what must be remembered to read its reply.
 *
 * @example
 * ```ts
 * import { helloRequest, type HelloRequest } from "./handshake.ts";
 *
 * const request: HelloRequest = await helloRequest({ appName: "demo" });
 * console.log(request.document.isMaster); // 1
 * ```
 */
export interface HelloRequest {
  /** The command document (`isMaster` on OP_QUERY, or `hello` with the Stable API). */
  document: Document;
  /** The Stable API fields every later command carries, or undefined for none. */
  api: Document | undefined;
  /** The compressors offered. */
  offered: readonly string[];
  /** The speculative authentication started in the hello, if any. */
  speculative: SpeculativeStart | undefined;
}

/**
 * Builds the hello for `options`. The SCRAM code (`./auth.ts`) is loaded
 * only for a credential, so a client without one never reads it.
 *
 * @throws {ConfigurationError} for a malformed `serverApi`, `handshake`, or an `appName` over 128 bytes.
 * @example
 * ```ts
 * import { helloRequest } from "./handshake.ts";
 *
 * const { document } = await helloRequest({ serverApi: { version: "1" }, compressors: ["zlib", "zstd"] });
 * console.log(document.hello, document.apiVersion, document.compression); // 1 "1" ["zlib"]
 * ```
 */
export async function helloRequest(options: HelloOptions): Promise<HelloRequest> {
  if (options.handshake !== undefined && (options.handshake === null || typeof options.handshake !== "object")) {
    throw new ConfigurationError(`handshake must be a document, got ${describeValue(options.handshake)}`);
  }
  const api = apiFields(options.serverApi);
  const document: Document = api === undefined ? { isMaster: 1 } : { hello: 1 };
  document.helloOk = true;
  document.client = clientMetadata({ appName: options.appName });
  if (options.handshake !== undefined) Object.assign(document, options.handshake);
  if (api !== undefined) Object.assign(document, api);
  const credential = options.credential;
  let speculative: SpeculativeStart | undefined;
  if (credential !== undefined) {
    const { negotiationFields, speculativeStart } = await import("./auth.ts");
    speculative = speculativeStart(credential);
    Object.assign(document, negotiationFields(credential), { speculativeAuthenticate: speculative.document });
  }
  const offered = (options.compressors ?? []).filter((c) => SPOKEN_COMPRESSORS.has(c));
  if (offered.length > 0) document.compression = offered;
  return { document, api, offered, speculative };
}

/**
 * The compressor agreed: the first of the server's answer among those offered.
 *
 * @example
 * ```ts
 * import { agreedCompressor } from "./handshake.ts";
 *
 * console.log(agreedCompressor({ compression: ["zlib"] }, ["zlib"])); // "zlib"
 * console.log(agreedCompressor({}, ["zlib"])); // undefined
 * ```
 */
export function agreedCompressor(hello: Document, offered: readonly string[]): SupportedCompressor | undefined {
  const agreed = hello.compression;
  if (!Array.isArray(agreed)) return undefined;
  return agreed.find((c): c is SupportedCompressor => offered.includes(c));
}

/**
 * The limits a server states in its hello reply, read once, with the
 * defaults the specifications give for those it leaves out.
 *
 * @example
 * ```ts
 * import { serverLimits, type ServerLimits } from "./handshake.ts";
 *
 * const limits: ServerLimits = serverLimits({ maxWireVersion: 21, maxBsonObjectSize: 16777216 });
 * console.log(limits.maxWireVersion, limits.maxWriteBatchSize); // 21 100000
 * ```
 */
export interface ServerLimits {
  /** `maxWireVersion` (0 when absent). */
  readonly maxWireVersion: number;
  /** `minWireVersion` (0 when absent). */
  readonly minWireVersion: number;
  /** `maxBsonObjectSize` (default 16 MiB). */
  readonly maxBsonObjectSize: number;
  /** `maxMessageSizeBytes` (default 48000000), kept between 21 and 2^31-1. */
  readonly maxMessageSizeBytes: number;
  /** `maxWriteBatchSize` (default 100000). */
  readonly maxWriteBatchSize: number;
}

/**
 * The limits before any hello: the defaults of {@linkcode serverLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVER_LIMITS } from "./handshake.ts";
 *
 * console.log(DEFAULT_SERVER_LIMITS.maxBsonObjectSize); // 16777216
 * ```
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  maxWireVersion: 0,
  minWireVersion: 0,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: DEFAULT_MAX_MESSAGE_SIZE_BYTES,
  maxWriteBatchSize: 100_000,
});

/**
 * Reads the limits of a hello reply (see {@linkcode ServerLimits}); a field
 * that is absent or not a non-negative integer gets its default.
 *
 * @example
 * ```ts
 * import { serverLimits } from "./handshake.ts";
 *
 * console.log(serverLimits({ maxMessageSizeBytes: 1 }).maxMessageSizeBytes); // 21
 * ```
 */
export function serverLimits(hello: Document): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  const maxMessage = intField(hello.maxMessageSizeBytes, d.maxMessageSizeBytes);
  return {
    maxWireVersion: intField(hello.maxWireVersion, d.maxWireVersion),
    minWireVersion: intField(hello.minWireVersion, d.minWireVersion),
    maxBsonObjectSize: intField(hello.maxBsonObjectSize, d.maxBsonObjectSize),
    // At least a header and a one-byte body; at most what a length field holds.
    maxMessageSizeBytes: Math.min(Math.max(maxMessage, 16 + 5), 0x7fffffff),
    maxWriteBatchSize: intField(hello.maxWriteBatchSize, d.maxWriteBatchSize),
  };
}

// The fields a Stable API request adds to commands, or undefined for none.
function apiFields(api: ServerApi | undefined): Document | undefined {
  if (api === undefined) return undefined;
  if (api === null || typeof api !== "object" || api.version !== "1") {
    throw new ConfigurationError(
      `serverApi must be {version: "1", strict?, deprecationErrors?}, got ${
        api === null || typeof api !== "object" ? describeValue(api) : `version ${describeValue(api.version)}`
      }`,
    );
  }
  const fields: Document = { apiVersion: "1" };
  for (const [key, field] of [["strict", "apiStrict"], ["deprecationErrors", "apiDeprecationErrors"]] as const) {
    const value = api[key];
    if (value === undefined) continue;
    if (typeof value !== "boolean") {
      throw new ConfigurationError(`serverApi.${key} must be a boolean, got ${describeValue(value)}`);
    }
    fields[field] = value;
  }
  return fields;
}

function intField(value: unknown, fallback: number): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : fallback;
}
