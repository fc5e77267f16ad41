/**
 * Client options: the URI options of the MongoDB URI Options specification as
 * one typed object, their validation (the same rules whether an option came
 * from a connection string or from code), and the merge of connection-string
 * options with options given in code.
 *
 * Precedence (documented as the Connection String spec requires): an option
 * given in code overrides the same option in the connection string, and both
 * override the defaults.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/**
 * Every client option a user can set, in a connection string or in code.
 * Names are the camelCase names of the URI Options specification; in a
 * connection string they are matched case-insensitively. Every field is
 * optional: an absent field means "not given" (see {@linkcode resolveClientOptions}
 * for the defaults).
 *
 * @example
 * ```ts
 * import type { ClientOptions } from "./options.ts";
 *
 * const options: ClientOptions = { replicaSet: "foo", readPreference: "secondaryPreferred" };
 * console.log(options.replicaSet);
 * ```
 */
export interface ClientOptions {
  /** Name of the replica set to connect to; every member must report this `setName`. */
  readonly replicaSet?: string;
  /**
   * Default read preference mode (default `"primary"`). Connection strings use these
   * camelCase names only: PyMongo 2.1's `SECONDARY` is `"secondaryPreferred"` here,
   * and its `SECONDARY_ONLY` is `"secondary"`.
   */
  readonly readPreference?: "primary" | "primaryPreferred" | "secondary" | "secondaryPreferred" | "nearest";
  /**
   * Ordered tag sets for the read preference (first matching set wins); `{}` matches any
   * server. Not allowed with mode `"primary"` (except a lone `{}`).
   */
  readonly readPreferenceTags?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Maximum replication lag of an eligible secondary in seconds; `-1` means no maximum. Not allowed with `"primary"`. */
  readonly maxStalenessSeconds?: number;
  /** Latency window beyond the fastest server, in ms (default 15). */
  readonly localThresholdMS?: number;
  /** How long server selection waits for a suitable server, in ms (default 30000; must be positive). */
  readonly serverSelectionTimeoutMS?: number;
  /**
   * Single-threaded drivers only; parsed and kept for portability of connection strings,
   * it has no effect in this (asynchronous) driver. Default `true`.
   */
  readonly serverSelectionTryOnce?: boolean;
  /** Interval between monitoring checks of each server, in ms (default 10000; at least 500). */
  readonly heartbeatFrequencyMS?: number;
  /** Time to open a socket (and its handshake), in ms; 0 means no timeout (default 10000). */
  readonly connectTimeoutMS?: number;
  /** Time to wait on a socket read or write of an operation, in ms; 0 means no timeout (default 0). */
  readonly socketTimeoutMS?: number;
  /** Client-side operation timeout, in ms; 0 means no timeout (default: none). */
  readonly timeoutMS?: number;
  /** Maximum connections per server pool; 0 means no maximum (default 100). */
  readonly maxPoolSize?: number;
  /** Connections each pool keeps open even when idle (default 0; at most `maxPoolSize` when that is not 0). */
  readonly minPoolSize?: number;
  /** Maximum connections a pool opens at the same time (default 2; positive). */
  readonly maxConnecting?: number;
  /** Time an idle pooled connection may live, in ms; 0 means no limit (default 0). */
  readonly maxIdleTimeMS?: number;
  /** Time to wait for a pooled connection, in ms; 0 means no timeout (default 0). */
  readonly waitQueueTimeoutMS?: number;
  /**
   * `true`: talk to the one given host only (topology Single); `false` (default): discover
   * the deployment from the seeds. `true` is an error with several hosts or `mongodb+srv`.
   */
  readonly directConnection?: boolean;
  /** Connect to a load balancer (default `false`): one host, no `replicaSet`, no `directConnection=true`. */
  readonly loadBalanced?: boolean;
  /**
   * Use TLS (default `false`; `true` for `mongodb+srv://`, and `true` when another `tls*`
   * option is given and `tls` is not). `ssl` is accepted as an alias.
   */
  readonly tls?: boolean;
  /** Path of a PEM file of trusted certificate authorities. */
  readonly tlsCAFile?: string;
  /** Path of a PEM file holding the client certificate and its private key. */
  readonly tlsCertificateKeyFile?: string;
  /** Password that decrypts the private key in `tlsCertificateKeyFile`. */
  readonly tlsCertificateKeyFilePassword?: string;
  /** Accept a server certificate that does not validate (testing only; default `false`). */
  readonly tlsAllowInvalidCertificates?: boolean;
  /** Accept a server certificate whose name does not match the host (testing only; default `false`). */
  readonly tlsAllowInvalidHostnames?: boolean;
  /**
   * Relax every TLS check this driver makes: it implies `tlsAllowInvalidCertificates`
   * and `tlsAllowInvalidHostnames`, so it may not be combined with either of them.
   */
  readonly tlsInsecure?: boolean;
  /** Do not check certificate revocation (CRL/OCSP). Conflicts with `tlsInsecure`, `tlsAllowInvalidCertificates`, `tlsDisableOCSPEndpointCheck`. */
  readonly tlsDisableCertificateRevocationCheck?: boolean;
  /** Do not contact OCSP responders. Conflicts with `tlsInsecure`, `tlsAllowInvalidCertificates`, `tlsDisableCertificateRevocationCheck`. */
  readonly tlsDisableOCSPEndpointCheck?: boolean;
  /** Application name sent in the handshake (at most 128 bytes of UTF-8). */
  readonly appName?: string;
  /** Default write concern `w`: a non-negative integer or a string such as `"majority"`. */
  readonly w?: number | string;
  /** Default write concern `j` (wait for the journal). Not allowed with `w: 0`. */
  readonly journal?: boolean;
  /** Default write concern `wtimeout`, in ms; 0 means no timeout. (`wtimeout` is a deprecated alias in URIs.) */
  readonly wTimeoutMS?: number;
  /** Default read concern level (any string, for forward compatibility). */
  readonly readConcernLevel?: string;
  /** Retry a read once after a retryable error (default `true`). */
  readonly retryReads?: boolean;
  /**
   * Parsed and validated (default `true`, the URI specification's), but it
   * has no effect yet: writes are never retried, because retryable writes
   * need sessions, which this driver does not implement. A write interrupted
   * by a failover rejects with `AutoReconnect` (it may or may not have
   * happened) whatever this option says.
   */
  readonly retryWrites?: boolean;
  /** Database to authenticate against (default: the mechanism's default, else the URI's database, else `admin`). */
  readonly authSource?: string;
  /** Authentication mechanism. */
  readonly authMechanism?:
    | "SCRAM-SHA-1"
    | "SCRAM-SHA-256"
    | "MONGODB-X509"
    | "GSSAPI"
    | "PLAIN"
    | "MONGODB-AWS"
    | "MONGODB-OIDC"
    | "MONGODB-CR";
  /**
   * Mechanism properties, e.g. `{ SERVICE_NAME: "mongodb" }`. In a URI: `k:v,k:v` (a value
   * may contain `:` but never `,`). `CANONICALIZE_HOST_NAME` `true`/`false` become booleans.
   */
  readonly authMechanismProperties?: Readonly<Record<string, string | boolean>>;
  /** Wire compressors to offer, in order of preference (default none). */
  readonly compressors?: ReadonlyArray<"snappy" | "zlib" | "zstd">;
  /** zlib level, -1 (zlib's default) to 9 (default -1). */
  readonly zlibCompressionLevel?: number;
  /** `mongodb+srv://` only: use at most this many hosts from DNS; 0 means all (default 0). */
  readonly srvMaxHosts?: number;
  /** `mongodb+srv://` only: the SRV service name (default `"mongodb"`). */
  readonly srvServiceName?: string;
  /** Server monitoring protocol (default `"auto"`). */
  readonly serverMonitoringMode?: "auto" | "stream" | "poll";
  /** SOCKS5 proxy host name or address. */
  readonly proxyHost?: string;
  /** SOCKS5 proxy port (default 1080); needs `proxyHost`. */
  readonly proxyPort?: number;
  /** SOCKS5 user name (1..255 bytes); needs `proxyHost` and `proxyPassword`. */
  readonly proxyUsername?: string;
  /** SOCKS5 password (1..255 bytes); needs `proxyHost` and `proxyUsername`. */
  readonly proxyPassword?: string;
  /** Client backpressure: maximum adaptive retries of an overloaded operation (non-negative). */
  readonly maxAdaptiveRetries?: number;
  /** Client backpressure: prefer another server after an overload error. */
  readonly enableOverloadRetargeting?: boolean;
}

/**
 * {@linkcode ClientOptions} with every default filled in, as returned by
 * {@linkcode resolveClientOptions}. Options without a default stay optional.
 *
 * @example
 * ```ts
 * import { resolveClientOptions } from "./options.ts";
 *
 * const resolved = resolveClientOptions({}, {});
 * console.log(resolved.heartbeatFrequencyMS); // 10000
 * ```
 */
export interface ResolvedClientOptions extends ClientOptions {
  /** Default `"primary"`. */
  readonly readPreference: NonNullable<ClientOptions["readPreference"]>;
  /** Default `[]` (no tag sets). */
  readonly readPreferenceTags: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Default `-1` (no maximum). */
  readonly maxStalenessSeconds: number;
  /** Default 15. */
  readonly localThresholdMS: number;
  /** Default 30000. */
  readonly serverSelectionTimeoutMS: number;
  /** Default `true`. */
  readonly serverSelectionTryOnce: boolean;
  /** Default 10000. */
  readonly heartbeatFrequencyMS: number;
  /** Default 10000. */
  readonly connectTimeoutMS: number;
  /** Default 0 (none). */
  readonly socketTimeoutMS: number;
  /** Default 100. */
  readonly maxPoolSize: number;
  /** Default 0. */
  readonly minPoolSize: number;
  /** Default 2. */
  readonly maxConnecting: number;
  /** Default 0 (no limit). */
  readonly maxIdleTimeMS: number;
  /** Default 0 (none). */
  readonly waitQueueTimeoutMS: number;
  /** Default `false`. */
  readonly directConnection: boolean;
  /** Default `false`. */
  readonly loadBalanced: boolean;
  /** Default `false` (`true` for `mongodb+srv://` or when another TLS option is given). */
  readonly tls: boolean;
  /** `true` when given or when `tlsInsecure` is `true`. */
  readonly tlsAllowInvalidCertificates: boolean;
  /** `true` when given or when `tlsInsecure` is `true`. */
  readonly tlsAllowInvalidHostnames: boolean;
  /** Default `true`. */
  readonly retryReads: boolean;
  /** Default `true`. */
  readonly retryWrites: boolean;
  /** Default `[]`. */
  readonly compressors: ReadonlyArray<"snappy" | "zlib" | "zstd">;
  /** Default -1. */
  readonly zlibCompressionLevel: number;
  /** Default 0 (all). */
  readonly srvMaxHosts: number;
  /** Default `"mongodb"`. */
  readonly srvServiceName: string;
  /** Default `"auto"`. */
  readonly serverMonitoringMode: NonNullable<ClientOptions["serverMonitoringMode"]>;
}

/**
 * Options of {@linkcode validateClientOptions}.
 *
 * @example
 * ```ts
 * import type { ValidateClientOptionsOptions } from "./options.ts";
 *
 * const o: ValidateClientOptionsOptions = { onWarning: (m) => console.log(m) };
 * console.log(typeof o.onWarning);
 * ```
 */
export interface ValidateClientOptionsOptions {
  /** Receives each warning (unknown option, ...); default `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * Options of {@linkcode resolveClientOptions}.
 *
 * @example
 * ```ts
 * import type { ResolveClientOptionsOptions } from "./options.ts";
 *
 * const o: ResolveClientOptionsOptions = { hostCount: 3, srv: false };
 * console.log(o.hostCount);
 * ```
 */
export interface ResolveClientOptionsOptions {
  /** Number of seeds; enables the checks that depend on it (`directConnection`, `loadBalanced`). */
  hostCount?: number;
  /** Whether the seeds came from a `mongodb+srv://` URI (TLS on by default, SRV-only options allowed). */
  srv?: boolean;
  /** Receives each warning about the object options; default `console.warn`. */
  onWarning?: (message: string) => void;
}

// ---------------------------------------------------------------------------
// The option table. One row per option; the URI parser and the object
// validator both read it, so the two paths cannot drift apart.

/**
 * The value type of an option in the option table.
 *
 * @example
 * ```ts
 * import type { OptionKind } from "./options.ts";
 *
 * const k: OptionKind = "int";
 * console.log(k);
 * ```
 */
export type OptionKind =
  | "string"
  | "boolean"
  | "int"
  | "enum"
  | "tags"
  | "properties"
  | "w"
  | "compressors";

/**
 * One row of the option table (exported for the connection-string parser).
 *
 * @example
 * ```ts
 * import { lookupOption } from "./options.ts";
 *
 * console.log(lookupOption("MAXPOOLSIZE")?.name); // "maxPoolSize"
 * ```
 */
export interface OptionSpec {
  /** Canonical camelCase name. */
  readonly name: keyof ClientOptions;
  /** Value type. */
  readonly kind: OptionKind;
  /** Smallest allowed integer. */
  readonly min?: number;
  /** Largest allowed integer. */
  readonly max?: number;
  /** Allowed values of an `enum` (or of the items of `compressors`). */
  readonly values?: readonly string[];
  /** Extra check of a well-typed value; returns what is wrong, or `null`. */
  readonly check?: (value: unknown) => string | null;
  /** A bad value is an error even in a connection string (instead of a warning). */
  readonly invalidIsError?: boolean;
  /** Human words for the expected type, used in messages. */
  readonly expected: string;
}

const INT32_MAX = 2147483647;
const encoder = new TextEncoder();

function byteLength(s: string): number {
  return encoder.encode(s).length;
}

function int(name: keyof ClientOptions, min: number, expected: string, max = INT32_MAX): OptionSpec {
  return { name, kind: "int", min, max, expected };
}

function bool(name: keyof ClientOptions): OptionSpec {
  return { name, kind: "boolean", expected: "a boolean (true or false)" };
}

function str(name: keyof ClientOptions, check?: (value: unknown) => string | null): OptionSpec {
  return { name, kind: "string", expected: "a non-empty string", check };
}

const AUTH_MECHANISMS = [
  "SCRAM-SHA-1",
  "SCRAM-SHA-256",
  "MONGODB-X509",
  "GSSAPI",
  "PLAIN",
  "MONGODB-AWS",
  "MONGODB-OIDC",
  // Removed from servers in 4.0, but older connection strings (and the spec's
  // own vectors) still name it; the authentication layer refuses it when used.
  "MONGODB-CR",
] as const;

const READ_PREFERENCE_MODES = ["primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"] as const;

function checkSrvServiceName(value: unknown): string | null {
  const s = value as string;
  // RFC 6335 service names (letters, digits, single inner hyphens, at least one
  // letter); the SRV spec lifts the 15-character limit up to the DNS label limit.
  if (s.length > 62 || !/^[A-Za-z0-9](?:-?[A-Za-z0-9])*$/.test(s) || !/[A-Za-z]/.test(s)) {
    return "must be an RFC 6335 service name (letters, digits and inner hyphens, at most 62 characters)";
  }
  return null;
}

function checkProxyCredential(value: unknown): string | null {
  const n = byteLength(value as string);
  return n > 255 ? `must be at most 255 bytes of UTF-8, got ${n}` : null;
}

const OPTION_TABLE: readonly OptionSpec[] = [
  str("appName", (v) => {
    const n = byteLength(v as string);
    return n > 128 ? `must be at most 128 bytes of UTF-8, got ${n}` : null;
  }),
  {
    name: "authMechanism",
    kind: "enum",
    values: AUTH_MECHANISMS,
    invalidIsError: true,
    expected: `one of ${AUTH_MECHANISMS.join(", ")}`,
  },
  { name: "authMechanismProperties", kind: "properties", expected: "a document of key:value properties" },
  str("authSource"),
  {
    name: "compressors",
    kind: "compressors",
    values: ["snappy", "zlib", "zstd"],
    expected: "a list of compressor names (snappy, zlib, zstd)",
  },
  int("connectTimeoutMS", 0, "a non-negative integer"),
  bool("directConnection"),
  bool("enableOverloadRetargeting"),
  int("heartbeatFrequencyMS", 500, "an integer >= 500"),
  bool("journal"),
  bool("loadBalanced"),
  int("localThresholdMS", 0, "a non-negative integer"),
  int("maxAdaptiveRetries", 0, "a non-negative integer"),
  int("maxConnecting", 1, "a positive integer"),
  int("maxIdleTimeMS", 0, "a non-negative integer"),
  int("maxPoolSize", 0, "a non-negative integer"),
  {
    name: "maxStalenessSeconds",
    kind: "int",
    min: -1,
    max: INT32_MAX,
    expected: "-1 or a non-negative integer",
  },
  int("minPoolSize", 0, "a non-negative integer"),
  str("proxyHost"),
  int("proxyPort", 1, "an integer from 1 to 65535", 65535),
  str("proxyUsername", checkProxyCredential),
  str("proxyPassword", checkProxyCredential),
  str("readConcernLevel"),
  {
    name: "readPreference",
    kind: "enum",
    values: READ_PREFERENCE_MODES,
    expected: `one of ${READ_PREFERENCE_MODES.join(", ")} (camelCase; PyMongo's SECONDARY is secondaryPreferred)`,
  },
  { name: "readPreferenceTags", kind: "tags", expected: "a list of tag sets (documents of string values)" },
  str("replicaSet"),
  bool("retryReads"),
  bool("retryWrites"),
  {
    name: "serverMonitoringMode",
    kind: "enum",
    values: ["auto", "stream", "poll"],
    expected: "one of auto, stream, poll",
  },
  int("serverSelectionTimeoutMS", 1, "a positive integer"),
  bool("serverSelectionTryOnce"),
  int("socketTimeoutMS", 0, "a non-negative integer"),
  int("srvMaxHosts", 0, "a non-negative integer"),
  str("srvServiceName", checkSrvServiceName),
  int("timeoutMS", 0, "a non-negative integer"),
  bool("tls"),
  bool("tlsAllowInvalidCertificates"),
  bool("tlsAllowInvalidHostnames"),
  str("tlsCAFile"),
  str("tlsCertificateKeyFile"),
  str("tlsCertificateKeyFilePassword"),
  bool("tlsDisableCertificateRevocationCheck"),
  bool("tlsDisableOCSPEndpointCheck"),
  bool("tlsInsecure"),
  { name: "w", kind: "w", expected: "a non-negative integer or a string" },
  int("waitQueueTimeoutMS", 0, "a non-negative integer"),
  int("wTimeoutMS", 0, "a non-negative integer", Number.MAX_SAFE_INTEGER),
  int("zlibCompressionLevel", -1, "an integer from -1 to 9", 9),
];

const BY_LOWER_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTION_TABLE.map((spec) => [spec.name.toLowerCase(), spec]),
);

/**
 * Another accepted name of an option. `deprecated` aliases are accepted with a
 * warning, and ignored (with a warning) when the canonical name is also given;
 * plain aliases (`ssl`) must agree with the canonical option.
 */
interface AliasSpec {
  readonly target: keyof ClientOptions;
  readonly deprecated: boolean;
}

const ALIASES: ReadonlyMap<string, AliasSpec> = new Map([
  ["ssl", { target: "tls", deprecated: false }],
  ["wtimeout", { target: "wTimeoutMS", deprecated: true }],
  ["j", { target: "journal", deprecated: true }],
]);

/**
 * How an option name resolves: its table row, and whether the name used was an alias.
 *
 * @example
 * ```ts
 * import { lookupOption } from "./options.ts";
 *
 * const found = lookupOption("ssl");
 * console.log(found?.name, found?.alias); // "tls" "ssl"
 * ```
 */
export interface OptionLookup extends OptionSpec {
  /** The alias used (lowercased), or `null` when the canonical name was used. */
  readonly alias: string | null;
  /** Whether that alias is deprecated. */
  readonly deprecated: boolean;
}

/**
 * Finds an option by name, ignoring ASCII case, aliases included; `undefined` if unknown.
 *
 * @example
 * ```ts
 * import { lookupOption } from "./options.ts";
 *
 * console.log(lookupOption("readpreferencetags")?.name); // "readPreferenceTags"
 * console.log(lookupOption("nope")); // undefined
 * ```
 */
export function lookupOption(name: string): OptionLookup | undefined {
  // Only A-Z are folded, as the Connection String spec says.
  const lower = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const spec = BY_LOWER_NAME.get(lower);
  if (spec) return { ...spec, alias: null, deprecated: false };
  const alias = ALIASES.get(lower);
  if (alias) {
    const target = BY_LOWER_NAME.get(alias.target.toLowerCase())!;
    return { ...target, alias: lower, deprecated: alias.deprecated };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Value checks shared by both paths.

/** JSON-quotes a string for a message, cut short so a huge input cannot flood the log. */
function quote(text: string): string {
  return text.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 80))}... (${text.length} characters)`;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return `${quote(value)} (a string)`;
  if (typeof value === "bigint") return `${value}n (a bigint)`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  return `${String(value)} (a ${typeof value})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks a JavaScript value against an option's row. Returns the normalized
 * value, or what is wrong with it (a message fragment, without the option name).
 */
function checkValue(spec: OptionSpec, value: unknown): { value: unknown } | { problem: string } {
  const bad = { problem: `must be ${spec.expected}, got ${describeValue(value)}` };
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string" || value.length === 0) return bad;
      break;
    case "boolean":
      if (typeof value !== "boolean") return bad;
      break;
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) return bad;
      if (value < spec.min! || value > spec.max!) {
        return { problem: `must be ${spec.expected}, got ${value}${value > spec.max! ? " (too large)" : ""}` };
      }
      break;
    case "enum":
      if (typeof value !== "string" || !spec.values!.includes(value)) return bad;
      break;
    case "w":
      if (typeof value === "number") {
        if (!Number.isInteger(value) || value < 0 || value > INT32_MAX) return bad;
      } else if (typeof value !== "string" || value.length === 0) {
        return bad;
      }
      break;
    case "compressors": {
      if (!Array.isArray(value)) return bad;
      for (const item of value) {
        if (typeof item !== "string" || !spec.values!.includes(item)) {
          return { problem: `must be ${spec.expected}, got an unknown compressor ${describeValue(item)}` };
        }
      }
      return { value: [...new Set(value as string[])] };
    }
    case "tags": {
      if (!Array.isArray(value)) return bad;
      const out: Record<string, string>[] = [];
      for (const set of value) {
        if (!isPlainObject(set)) {
          return { problem: `must be ${spec.expected}, got a tag set that is ${describeValue(set)}` };
        }
        for (const [k, v] of Object.entries(set)) {
          if (typeof v !== "string") {
            return { problem: `must be ${spec.expected}, got tag ${JSON.stringify(k)} = ${describeValue(v)}` };
          }
        }
        out.push({ ...(set as Record<string, string>) });
      }
      return { value: out };
    }
    case "properties": {
      if (!isPlainObject(value)) return bad;
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string" && typeof v !== "boolean") {
          return { problem: `must be ${spec.expected}, got property ${JSON.stringify(k)} = ${describeValue(v)}` };
        }
      }
      return { value: { ...value } };
    }
  }
  const extra = spec.check?.(value) ?? null;
  return extra === null ? { value } : { problem: extra };
}

/**
 * The result of {@linkcode parseUriOptionValue}: a value (perhaps with a
 * warning about a part that was dropped), or what is wrong with the value.
 *
 * @example
 * ```ts
 * import type { UriOptionValue } from "./options.ts";
 *
 * const r: UriOptionValue = { value: 5 };
 * console.log("value" in r);
 * ```
 */
export type UriOptionValue = { value: unknown; warning?: string } | { problem: string };

/**
 * Converts one connection-string value (already percent-decoded) to the
 * option's type and checks it with the same rules as options given in code.
 * Returns the value, or what is wrong with it (without the option name).
 *
 * @example
 * ```ts
 * import { lookupOption, parseUriOptionValue } from "./options.ts";
 *
 * console.log(parseUriOptionValue(lookupOption("maxPoolSize")!, "50")); // { value: 50 }
 * console.log(parseUriOptionValue(lookupOption("journal")!, "yes"));   // { problem: "..." }
 * ```
 */
export function parseUriOptionValue(spec: OptionSpec, raw: string): UriOptionValue {
  if (raw === "" && spec.kind !== "tags") return { problem: "has an empty value" };
  let value: unknown;
  switch (spec.kind) {
    case "string":
    case "enum":
      value = raw;
      break;
    case "boolean":
      if (raw === "true") value = true;
      else if (raw === "false") value = false;
      else return { problem: `must be "true" or "false", got ${quote(raw)}` };
      break;
    case "int": {
      const n = parseStrictInteger(raw);
      if (n === null) return { problem: `must be ${spec.expected}, got ${quote(raw)}` };
      value = n;
      break;
    }
    case "w": {
      const n = parseStrictInteger(raw);
      value = n === null ? raw : n;
      break;
    }
    case "compressors": {
      // Unknown names are dropped one by one (with a warning from the caller)
      // so that a list written for another driver still offers what we know.
      const names = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      const known = names.filter((n) => spec.values!.includes(n));
      const unknown = names.filter((n) => !spec.values!.includes(n));
      if (known.length === 0) {
        return { problem: `has no known compressor (got ${quote(raw)}; known: snappy, zlib, zstd)` };
      }
      if (unknown.length > 0) {
        return { value: [...new Set(known)], warning: `has unknown compressor(s) ${unknown.join(", ")} (ignored)` };
      }
      value = [...new Set(known)];
      break;
    }
    case "tags": {
      if (raw === "") return { value: [{}] };
      const doc = parseKeyValuePairs(raw);
      if (typeof doc === "string") return { problem: doc };
      value = [doc];
      break;
    }
    case "properties": {
      const doc = parseKeyValuePairs(raw);
      if (typeof doc === "string") return { problem: doc };
      const props: Record<string, string | boolean> = { ...doc };
      const canon = props.CANONICALIZE_HOST_NAME;
      if (canon === "true" || canon === "false") props.CANONICALIZE_HOST_NAME = canon === "true";
      value = props;
      break;
    }
  }
  return checkValue(spec, value);
}

/** Integers are parsed strictly: an optional minus sign and decimal digits, nothing else. */
function parseStrictInteger(raw: string): number | null {
  if (!/^-?[0-9]+$/.test(raw)) return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return null;
  return n === 0 ? 0 : n; // "-0" is 0
}

/** `k:v,k:v` into a document; the key ends at the first colon, so values may hold colons. */
function parseKeyValuePairs(raw: string): Record<string, string> | string {
  const doc: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const colon = pair.indexOf(":");
    if (colon <= 0) {
      return `must be comma-separated key:value pairs, got ${quote(pair)} ` +
        "(a value containing a comma cannot be given in a connection string)";
    }
    // defineProperty, not assignment, so that a key such as "__proto__" is kept as data.
    Object.defineProperty(doc, pair.slice(0, colon), {
      value: pair.slice(colon + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return doc;
}

// ---------------------------------------------------------------------------
// Checks across options.

/**
 * Where a set of options came from and what surrounds it, for
 * {@linkcode checkOptionCombinations}.
 *
 * @example
 * ```ts
 * import type { OptionContext } from "./options.ts";
 *
 * const ctx: OptionContext = { where: "connection string", hostCount: 1, srv: false };
 * console.log(ctx.where);
 * ```
 */
export interface OptionContext {
  /** Words naming the source in messages, e.g. `"connection string"`. */
  readonly where: string;
  /** Number of hosts, when known. */
  readonly hostCount?: number;
  /** `true`/`false` when the scheme is known (`mongodb+srv` or not). */
  readonly srv?: boolean;
  /** Names that were given (even with an invalid value); default: the keys set in `options`. */
  readonly present?: ReadonlySet<string>;
}

const TLS_CONFLICTS: ReadonlyArray<readonly [keyof ClientOptions, keyof ClientOptions]> = [
  ["tlsInsecure", "tlsAllowInvalidCertificates"],
  ["tlsInsecure", "tlsAllowInvalidHostnames"],
  ["tlsInsecure", "tlsDisableOCSPEndpointCheck"],
  ["tlsInsecure", "tlsDisableCertificateRevocationCheck"],
  ["tlsAllowInvalidCertificates", "tlsDisableOCSPEndpointCheck"],
  ["tlsAllowInvalidCertificates", "tlsDisableCertificateRevocationCheck"],
  ["tlsDisableOCSPEndpointCheck", "tlsDisableCertificateRevocationCheck"],
];

/**
 * Throws a {@linkcode ConfigurationError} when options that are each valid
 * cannot be used together (the URI Options, Load Balancer, SRV, SOCKS5, max
 * staleness and write concern rules).
 *
 * @example
 * ```ts
 * import { checkOptionCombinations } from "./options.ts";
 *
 * try {
 *   checkOptionCombinations({ loadBalanced: true, replicaSet: "rs" }, { where: "client options" });
 * } catch (e) {
 *   console.log((e as Error).message);
 * }
 * ```
 */
export function checkOptionCombinations(options: ClientOptions, context: OptionContext): void {
  const where = context.where;
  const present = context.present ??
    new Set(Object.keys(options).filter((k) => (options as Record<string, unknown>)[k] !== undefined));
  const fail = (message: string): never => {
    throw new ConfigurationError(`${where}: ${message}`);
  };

  for (const [a, b] of TLS_CONFLICTS) {
    if (present.has(a) && present.has(b)) {
      fail(
        `${a} and ${b} cannot both be given (${
          a === "tlsInsecure" ? "tlsInsecure already relaxes that check" : "they overlap"
        })`,
      );
    }
  }

  const hostCount = context.hostCount;
  if (options.directConnection === true) {
    if (context.srv === true) {
      fail("directConnection=true cannot be used with mongodb+srv:// (DNS may return several hosts)");
    }
    if (hostCount !== undefined && hostCount > 1) {
      fail(`directConnection=true needs exactly one host, got ${hostCount}`);
    }
  }

  if (options.loadBalanced === true) {
    if (hostCount !== undefined && hostCount > 1 && context.srv !== true) {
      fail(`loadBalanced=true needs exactly one host, got ${hostCount}`);
    }
    if (options.replicaSet !== undefined) fail("loadBalanced=true cannot be combined with replicaSet");
    if (options.directConnection === true) fail("loadBalanced=true cannot be combined with directConnection=true");
  }

  if (context.srv === false) {
    if (present.has("srvServiceName")) fail("srvServiceName is only allowed with a mongodb+srv:// URI");
    if (present.has("srvMaxHosts")) fail("srvMaxHosts is only allowed with a mongodb+srv:// URI");
  }
  if (options.srvMaxHosts !== undefined && options.srvMaxHosts > 0) {
    if (options.replicaSet !== undefined) fail("srvMaxHosts > 0 cannot be combined with replicaSet");
    if (options.loadBalanced === true) fail("srvMaxHosts > 0 cannot be combined with loadBalanced=true");
  }

  if (!present.has("proxyHost")) {
    for (const name of ["proxyPort", "proxyUsername", "proxyPassword"] as const) {
      if (present.has(name)) fail(`${name} needs proxyHost`);
    }
  }
  if (present.has("proxyUsername") !== present.has("proxyPassword")) {
    fail("proxyUsername and proxyPassword must be given together");
  }

  const mode = options.readPreference ?? "primary";
  if (mode === "primary") {
    const tags = options.readPreferenceTags;
    if (tags !== undefined && !(tags.length === 0 || (tags.length === 1 && Object.keys(tags[0]).length === 0))) {
      fail("readPreferenceTags cannot be used with read preference mode primary");
    }
    if (options.maxStalenessSeconds !== undefined && options.maxStalenessSeconds !== -1) {
      fail("maxStalenessSeconds cannot be used with read preference mode primary");
    }
  }

  if (options.w === 0 && options.journal === true) {
    fail("w=0 (unacknowledged) cannot be combined with journal=true");
  }

  if (
    options.minPoolSize !== undefined && options.maxPoolSize !== undefined && options.maxPoolSize !== 0 &&
    options.minPoolSize > options.maxPoolSize
  ) {
    fail(`minPoolSize (${options.minPoolSize}) cannot exceed maxPoolSize (${options.maxPoolSize})`);
  }

  const mechanism = options.authMechanism;
  if (mechanism !== undefined && options.authSource !== undefined) {
    const external = ["MONGODB-X509", "GSSAPI", "MONGODB-AWS", "MONGODB-OIDC"];
    if (external.includes(mechanism) && options.authSource !== "$external") {
      fail(`authSource must be "$external" for ${mechanism}, got ${JSON.stringify(options.authSource)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Public entry points.

function warn(message: string, onWarning?: (message: string) => void): void {
  if (onWarning) onWarning(message);
  else console.warn(message);
}

/**
 * Validates client options given in code: right JavaScript types, ranges and
 * enum values. Names are matched ignoring ASCII case and normalized to their
 * camelCase form (`ssl` becomes `tls`; the deprecated `wtimeout` and `j` become
 * `wTimeoutMS` and `journal`, with a warning). An option set to `undefined` is
 * treated as absent. Unknown names get a warning (to `options.onWarning`, else
 * `console.warn`) and are dropped.
 *
 * @param input The options object from the caller.
 * @param source Words naming the source in messages (default `"client options"`).
 * @param options Where warnings go.
 * Options that are valid one by one but not together (e.g. `loadBalanced` with
 * `replicaSet`) are checked by {@linkcode resolveClientOptions}, once the
 * connection string's options are merged in.
 *
 * @returns The options, normalized.
 * @throws {ConfigurationError} naming the option, the expected type and the value given.
 *
 * @example
 * ```ts
 * import { validateClientOptions } from "./options.ts";
 *
 * const o = validateClientOptions({ replicaSet: "foo", maxPoolSize: 10 });
 * console.log(o.maxPoolSize); // 10
 * try {
 *   validateClientOptions({ maxPoolSize: "10" });
 * } catch (e) {
 *   console.log((e as Error).message); // client options: maxPoolSize must be a non-negative integer, got "10" (a string)
 * }
 * ```
 */
export function validateClientOptions(
  input: Record<string, unknown>,
  source = "client options",
  options: ValidateClientOptionsOptions = {},
): ClientOptions {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigurationError(`${source} must be an object, got ${describeValue(input)}`);
  }
  const out: Record<string, unknown> = {};
  const givenBy = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const spec = lookupOption(key);
    if (!spec) {
      warn(`${source}: unsupported option '${key}' ignored`, options.onWarning);
      continue;
    }
    const checked = checkValue(spec, value);
    if ("problem" in checked) {
      throw new ConfigurationError(`${source}: ${key} ${checked.problem}`);
    }
    const previous = givenBy.get(spec.name);
    if (previous !== undefined) {
      if (spec.deprecated || lookupOption(previous)!.deprecated) {
        const kept = spec.deprecated ? previous : key;
        const dropped = spec.deprecated ? key : previous;
        warn(`${source}: deprecated option '${dropped}' ignored because '${kept}' is also given`, options.onWarning);
        if (spec.deprecated) continue;
      } else if (out[spec.name] !== checked.value) {
        throw new ConfigurationError(
          `${source}: ${previous} and ${key} name the same option but have different values`,
        );
      }
    } else if (spec.deprecated) {
      warn(`${source}: option '${key}' is deprecated; use '${spec.name}'`, options.onWarning);
    }
    givenBy.set(spec.name, key);
    out[spec.name] = checked.value;
  }
  // Combinations are not checked here: these options may be only part of the
  // configuration (the rest in a connection string); resolveClientOptions
  // checks the merged whole.
  return out as ClientOptions;
}

/**
 * Merges the options of a connection string with options given in code (which
 * win, option by option; a list such as `readPreferenceTags` is replaced, not
 * merged), checks the combination, and fills in the defaults.
 *
 * Implicit TLS: `tls` defaults to `true` for `mongodb+srv://` and when any other
 * `tls*` option is given; `tlsInsecure: true` turns on `tlsAllowInvalidCertificates`
 * and `tlsAllowInvalidHostnames`.
 *
 * @param uriOptions `ConnectionString.options` (already validated), or `{}`.
 * @param objectOptions Options given in code; validated here with {@linkcode validateClientOptions}.
 * @param options Host count and scheme, for the checks that depend on them; where warnings go.
 * @returns Every option with its default filled in.
 * @throws {ConfigurationError} for a bad object option or a bad combination.
 *
 * @example
 * ```ts
 * import { resolveClientOptions } from "./options.ts";
 *
 * const resolved = resolveClientOptions({ replicaSet: "foo", maxPoolSize: 5 }, { maxPoolSize: 20 });
 * console.log(resolved.replicaSet, resolved.maxPoolSize, resolved.localThresholdMS); // foo 20 15
 * ```
 */
export function resolveClientOptions(
  uriOptions: ClientOptions,
  objectOptions: Record<string, unknown> | ClientOptions = {},
  options: ResolveClientOptionsOptions = {},
): ResolvedClientOptions {
  const fromCode = validateClientOptions(objectOptions as Record<string, unknown>, "client options", {
    onWarning: options.onWarning,
  });
  const merged: Record<string, unknown> = {};
  for (const source of [uriOptions, fromCode]) {
    for (const [k, v] of Object.entries(source)) if (v !== undefined) merged[k] = v;
  }
  const m = merged as ClientOptions;
  checkOptionCombinations(m, { where: "client options", hostCount: options.hostCount, srv: options.srv });

  const tlsOptionGiven = [
    "tlsCAFile",
    "tlsCertificateKeyFile",
    "tlsCertificateKeyFilePassword",
    "tlsAllowInvalidCertificates",
    "tlsAllowInvalidHostnames",
    "tlsInsecure",
    "tlsDisableCertificateRevocationCheck",
    "tlsDisableOCSPEndpointCheck",
  ].some((k) => merged[k] !== undefined);
  const insecure = m.tlsInsecure === true;

  return {
    ...m,
    readPreference: m.readPreference ?? "primary",
    readPreferenceTags: m.readPreferenceTags ?? [],
    maxStalenessSeconds: m.maxStalenessSeconds ?? -1,
    localThresholdMS: m.localThresholdMS ?? 15,
    serverSelectionTimeoutMS: m.serverSelectionTimeoutMS ?? 30000,
    serverSelectionTryOnce: m.serverSelectionTryOnce ?? true,
    heartbeatFrequencyMS: m.heartbeatFrequencyMS ?? 10000,
    connectTimeoutMS: m.connectTimeoutMS ?? 10000,
    socketTimeoutMS: m.socketTimeoutMS ?? 0,
    maxPoolSize: m.maxPoolSize ?? 100,
    minPoolSize: m.minPoolSize ?? 0,
    maxConnecting: m.maxConnecting ?? 2,
    maxIdleTimeMS: m.maxIdleTimeMS ?? 0,
    waitQueueTimeoutMS: m.waitQueueTimeoutMS ?? 0,
    directConnection: m.directConnection ?? false,
    loadBalanced: m.loadBalanced ?? false,
    tls: m.tls ?? (options.srv === true || tlsOptionGiven),
    tlsAllowInvalidCertificates: insecure || (m.tlsAllowInvalidCertificates ?? false),
    tlsAllowInvalidHostnames: insecure || (m.tlsAllowInvalidHostnames ?? false),
    retryReads: m.retryReads ?? true,
    retryWrites: m.retryWrites ?? true,
    compressors: m.compressors ?? [],
    zlibCompressionLevel: m.zlibCompressionLevel ?? -1,
    srvMaxHosts: m.srvMaxHosts ?? 0,
    srvServiceName: m.srvServiceName ?? "mongodb",
    serverMonitoringMode: m.serverMonitoringMode ?? "auto",
    ...(m.proxyHost !== undefined ? { proxyPort: m.proxyPort ?? 1080 } : {}),
  };
}
