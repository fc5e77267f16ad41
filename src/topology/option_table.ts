/**
 * The option table: one row per client option, the single source of its
 * name, value type and range, default, whether this driver honours it, and
 * its one-line description. The connection-string parser, the validator of
 * options given in code, {@linkcode resolveClientOptions} (defaults and
 * refusals) and README's option list (`npm run docs:options`) all read it.
 *
 * @module
 */

import type { ClientOptions } from "./options.ts";

/**
 * The value type of an option in the option table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OptionKind } from "./option_table.ts";
 *
 * const k: OptionKind = "int";
 * assert.equal(k, "int");
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
 * What this driver does with an option:
 * - `"supported"`: every valid value works;
 * - `"partial"`: some values work, the others are refused when the client is
 *   constructed (a `ConfigurationError` saying why; the row's `note` says which);
 * - `"refused"`: any value is refused when the client is constructed;
 * - `"no effect"`: parsed and checked so that connection strings written for
 *   other drivers keep working, but it changes nothing (the row's `note` says why).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookupOption } from "./option_table.ts";
 *
 * assert.equal(lookupOption("maxPoolSize")?.status, "supported");
 * ```
 */
export type OptionStatus = "supported" | "partial" | "refused" | "no effect";

/**
 * One row of the option table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookupOption } from "./option_table.ts";
 *
 * const row = lookupOption("MAXPOOLSIZE")!;
 * assert.equal(row.name, "maxPoolSize");
 * assert.equal(row.default, 100);
 * assert.equal(row.status, "supported");
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
  /** One-line description (README's option list). */
  readonly doc: string;
  /**
   * The value {@linkcode resolveClientOptions} fills in when the option is not
   * given; absent when there is none. Derived defaults (`tls`, `tlsInsecure`'s
   * implications, `proxyPort` only with `proxyHost`) are code beside the table.
   */
  readonly default?: unknown;
  /** How README shows the default, when the value alone does not say it. */
  readonly defaultText?: string;
  /** What this driver does with the option. */
  readonly status: OptionStatus;
  /** For a status other than `"supported"`: which values work, or why nothing happens. */
  readonly note?: string;
  /**
   * Why a valid value cannot be honoured (the client refuses it at
   * construction), or `null` when it can. Present on `"partial"` and `"refused"` rows.
   */
  readonly refuse?: (value: unknown) => string | null;
}

/** The parts of a row the helpers below do not fill in. */
type RowInfo = Pick<OptionSpec, "doc" | "default" | "defaultText" | "note" | "refuse" | "invalidIsError"> & {
  readonly status?: OptionStatus;
};

const INT32_MAX = 2147483647;
const encoder = new TextEncoder();

function byteLength(s: string): number {
  return encoder.encode(s).length;
}

function row(spec: Omit<OptionSpec, "status"> & { status?: OptionStatus }): OptionSpec {
  return Object.freeze({ ...spec, status: spec.status ?? "supported" });
}

function int(name: keyof ClientOptions, min: number, expected: string, info: RowInfo, max = INT32_MAX): OptionSpec {
  return row({ name, kind: "int", min, max, expected, ...info });
}

function bool(name: keyof ClientOptions, info: RowInfo): OptionSpec {
  return row({ name, kind: "boolean", expected: "a boolean (true or false)", ...info });
}

function str(name: keyof ClientOptions, info: RowInfo, check?: (value: unknown) => string | null): OptionSpec {
  return row({ name, kind: "string", expected: "a non-empty string", check, ...info });
}

/** Every mechanism name the Authentication specification defines (the URI parser accepts each). */
const AUTH_MECHANISMS = [
  "SCRAM-SHA-1",
  "SCRAM-SHA-256",
  "MONGODB-X509",
  "GSSAPI",
  "PLAIN",
  "MONGODB-AWS",
  "MONGODB-OIDC",
  // Removed from servers in 4.0, but older connection strings (and the spec's
  // own vectors) still name it; the client refuses it.
  "MONGODB-CR",
] as const;

/**
 * The authentication mechanisms this driver speaks; the client refuses the others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SPOKEN_AUTH_MECHANISMS } from "./option_table.ts";
 *
 * assert.equal(SPOKEN_AUTH_MECHANISMS.includes("GSSAPI"), false);
 * ```
 */
export const SPOKEN_AUTH_MECHANISMS: readonly string[] = Object.freeze(["SCRAM-SHA-1", "SCRAM-SHA-256"]);

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

const REVOCATION_REASON = "this driver never checks certificate revocation: the runtimes' TLS APIs " +
  "(Deno.connectTls, node:tls, Bun) offer neither CRL nor OCSP checks; leave it out or set it to true";

/**
 * The option table, in alphabetical order (the `proxy*` options together). Frozen: read it, never change it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPTION_TABLE } from "./option_table.ts";
 *
 * const refused = OPTION_TABLE.filter((o) => o.status === "refused").map((o) => o.name);
 * assert.deepEqual(refused, [ "authMechanismProperties" ]);
 * ```
 */
export const OPTION_TABLE: readonly OptionSpec[] = Object.freeze([
  str("appName", { doc: "Application name sent in the handshake (at most 128 bytes of UTF-8)." }, (v) => {
    const n = byteLength(v as string);
    return n > 128 ? `must be at most 128 bytes of UTF-8, got ${n}` : null;
  }),
  row({
    name: "authMechanism",
    kind: "enum",
    values: AUTH_MECHANISMS,
    invalidIsError: true,
    expected: `one of ${AUTH_MECHANISMS.join(", ")}`,
    doc: "Authentication mechanism.",
    defaultText: "negotiated: SCRAM-SHA-256 when the server offers it for the user, else SCRAM-SHA-1",
    status: "partial",
    note: "SCRAM-SHA-256 and SCRAM-SHA-1; the other mechanisms of the spec are parsed, then refused",
    refuse: (v) =>
      SPOKEN_AUTH_MECHANISMS.includes(v as string)
        ? null
        : "this driver authenticates with SCRAM-SHA-256 and SCRAM-SHA-1 only",
  }),
  row({
    name: "authMechanismProperties",
    kind: "properties",
    expected: "a document of key:value properties",
    doc: "Mechanism properties, `k:v,k:v` in a URI (e.g. `SERVICE_NAME:mongodb`).",
    status: "refused",
    note: "only GSSAPI, MONGODB-AWS and MONGODB-OIDC read them, and this driver speaks none of those",
    refuse: () =>
      "only GSSAPI, MONGODB-AWS and MONGODB-OIDC read mechanism properties, and this driver speaks none of them",
  }),
  str("authSource", {
    doc: "Database the user is defined in.",
    defaultText: "the connection string's database, else `admin`",
    invalidIsError: true,
  }),
  row({
    name: "compressors",
    kind: "compressors",
    values: ["snappy", "zlib", "zstd"],
    expected: "a list of compressor names (snappy, zlib, zstd)",
    doc: "Wire compressors to offer the server, in order of preference.",
    default: Object.freeze([]),
    defaultText: "none",
    status: "partial",
    note: "zlib is spoken; snappy and zstd are not offered (with a warning), as the compression spec says",
  }),
  int("connectTimeoutMS", 0, "a non-negative integer", {
    doc: "Time to open a socket (and its handshake), in ms; 0 means no timeout.",
    default: 10000,
  }),
  bool("directConnection", {
    doc: "Talk to the one given host only, whatever it is, instead of discovering the deployment.",
    default: false,
  }),
  bool("enableOverloadRetargeting", {
    doc: "Client backpressure: prefer another server after an overload error.",
    default: false,
    status: "partial",
    note: "`false` only (overload retargeting is not implemented)",
    refuse: (v) => v === true ? "client backpressure (overload retargeting) is not implemented" : null,
  }),
  int("heartbeatFrequencyMS", 500, "an integer >= 500", {
    doc: "Interval between monitoring checks of each server, in ms.",
    default: 10000,
  }),
  bool("journal", { doc: "Default write concern `j`: wait for the journal. Not allowed with `w: 0`." }),
  bool("loadBalanced", {
    doc: "Connect to a load balancer in front of mongoses.",
    default: false,
    status: "partial",
    note: "`false` only (load-balanced mode needs cursors pinned to their connection: not implemented)",
    refuse: (v) =>
      v === true
        ? "load-balanced mode needs each cursor (and transaction) pinned to its connection (Load Balancer " +
          "spec), which this driver does not do: a getMore could reach another mongos"
        : null,
  }),
  int("localThresholdMS", 0, "a non-negative integer", {
    doc: "Latency window beyond the fastest suitable server, in ms.",
    default: 15,
  }),
  int("maxAdaptiveRetries", 0, "a non-negative integer", {
    doc: "Client backpressure: maximum adaptive retries of an overloaded operation.",
    default: 0,
    status: "partial",
    note: "0 only (adaptive retries are not implemented; the spec's default is 2)",
    refuse: (v) =>
      v !== 0 ? "client backpressure (adaptive retries of overloaded operations) is not implemented; only 0 is" : null,
  }),
  int("maxConnecting", 1, "a positive integer", {
    doc: "Maximum connections each pool opens at the same time.",
    default: 2,
  }),
  int("maxIdleTimeMS", 0, "a non-negative integer", {
    doc: "Time an idle pooled connection may live, in ms; 0 means no limit.",
    default: 0,
  }),
  int("maxPoolSize", 0, "a non-negative integer", {
    doc: "Maximum connections per server pool; 0 means no maximum.",
    default: 100,
  }),
  int("maxStalenessSeconds", -1, "-1 or a non-negative integer", {
    doc: "Maximum replication lag of an eligible secondary, in seconds; -1 means no maximum.",
    default: -1,
  }),
  int("minPoolSize", 0, "a non-negative integer", {
    doc: "Connections each pool keeps open even when idle (at most `maxPoolSize` when that is not 0).",
    default: 0,
  }),
  str("proxyHost", { doc: "SOCKS5 proxy host name or address." }),
  int("proxyPort", 1, "an integer from 1 to 65535", {
    doc: "SOCKS5 proxy port; needs `proxyHost`.",
    default: 1080,
    defaultText: "1080 (with `proxyHost`)",
  }, 65535),
  str(
    "proxyUsername",
    { doc: "SOCKS5 user name (1..255 bytes); needs `proxyHost` and `proxyPassword`." },
    checkProxyCredential,
  ),
  str(
    "proxyPassword",
    { doc: "SOCKS5 password (1..255 bytes); needs `proxyHost` and `proxyUsername`." },
    checkProxyCredential,
  ),
  str("readConcernLevel", {
    doc: "Default read concern level (any string, for forward compatibility).",
    defaultText: "the server's",
  }),
  row({
    name: "readPreference",
    kind: "enum",
    values: READ_PREFERENCE_MODES,
    expected: `one of ${READ_PREFERENCE_MODES.join(", ")} (camelCase; PyMongo's SECONDARY is secondaryPreferred)`,
    doc: "Default read preference mode (PyMongo's `SECONDARY` is `secondaryPreferred`).",
    default: "primary",
  }),
  row({
    name: "readPreferenceTags",
    kind: "tags",
    expected: "a list of tag sets (documents of string values)",
    doc: "Ordered tag sets of the read preference; the first that matches wins.",
    default: Object.freeze([]),
    defaultText: "none",
  }),
  str("replicaSet", { doc: "Name of the replica set; every member must report it." }),
  bool("retryReads", { doc: "Retry a read once after a retryable error.", default: true }),
  bool("retryWrites", {
    doc: "Retry a write once after a retryable error (insert, single-document update/replace/delete, " +
      "findAndModify, bulk writes without updateMany/deleteMany; acknowledged writes only).",
    default: true,
  }),
  row({
    name: "serverMonitoringMode",
    kind: "enum",
    values: ["auto", "stream", "poll"],
    expected: "one of auto, stream, poll",
    doc: "Server monitoring protocol.",
    default: "auto",
    status: "partial",
    note: "`auto` and `poll`, which both poll; `stream` is refused (the streaming protocol is not implemented)",
    refuse: (v) => v === "stream" ? "the streaming monitoring protocol is not implemented (use auto or poll)" : null,
  }),
  int("serverSelectionTimeoutMS", 1, "a positive integer", {
    doc: "How long server selection waits for a suitable server, in ms.",
    default: 30000,
  }),
  bool("serverSelectionTryOnce", {
    doc: "Single-threaded drivers: fail after one scan instead of waiting for the timeout.",
    defaultText: "not applicable",
    status: "no effect",
    note: "parsed for portability: the spec defines it for single-threaded drivers only; " +
      "this asynchronous driver always waits up to `serverSelectionTimeoutMS`",
  }),
  int("socketTimeoutMS", 0, "a non-negative integer", {
    doc: "Time to wait on a socket read or write of an operation, in ms; 0 means no timeout.",
    default: 0,
  }),
  int("srvMaxHosts", 0, "a non-negative integer", {
    doc: "`mongodb+srv://` only: use at most this many hosts from DNS, picked at random; 0 means all.",
    default: 0,
  }),
  str("srvServiceName", {
    doc: "`mongodb+srv://` only: the SRV service name.",
    default: "mongodb",
  }, checkSrvServiceName),
  int("timeoutMS", 0, "a non-negative integer", {
    doc: "Client-side operation timeout, in ms; 0 means no timeout.",
    defaultText: "none",
  }),
  bool("tls", {
    doc: "Use TLS (`ssl` is an alias).",
    default: false,
    defaultText: "`false`; `true` for `mongodb+srv://` or when another `tls*` option is given",
  }),
  bool("tlsAllowInvalidCertificates", {
    doc: "Accept a server certificate that does not validate (testing only).",
    default: false,
    defaultText: "`false` (`true` with `tlsInsecure`)",
  }),
  bool("tlsAllowInvalidHostnames", {
    doc: "Accept a server certificate whose name does not match the host (testing only).",
    default: false,
    defaultText: "`false` (`true` with `tlsInsecure`)",
  }),
  str("tlsCAFile", { doc: "Path of a PEM file of trusted certificate authorities.", defaultText: "the runtime's" }),
  str("tlsCertificateKeyFile", { doc: "Path of a PEM file holding the client certificate and its private key." }),
  str("tlsCertificateKeyFilePassword", { doc: "Password that decrypts the private key in `tlsCertificateKeyFile`." }),
  bool("tlsDisableCertificateRevocationCheck", {
    doc: "Do not check certificate revocation (CRL or OCSP).",
    default: true,
    defaultText: "`true`: revocation is never checked",
    status: "partial",
    note: "`true` only (the runtimes' TLS APIs cannot check revocation)",
    refuse: (v) => v === false ? REVOCATION_REASON : null,
  }),
  bool("tlsDisableOCSPEndpointCheck", {
    doc: "Do not ask OCSP responders about the server's certificate.",
    default: true,
    defaultText: "`true`: OCSP responders are never asked",
    status: "partial",
    note: "`true` only (the runtimes' TLS APIs cannot ask OCSP responders)",
    refuse: (v) => v === false ? REVOCATION_REASON : null,
  }),
  bool("tlsInsecure", {
    doc: "Relax every TLS check: implies `tlsAllowInvalidCertificates` and `tlsAllowInvalidHostnames`.",
    defaultText: "`false`",
  }),
  row({
    name: "w",
    kind: "w",
    expected: "a non-negative integer or a string",
    doc: "Default write concern `w`: a number of members or a string such as `majority`.",
    defaultText: "the server's",
  }),
  int("waitQueueTimeoutMS", 0, "a non-negative integer", {
    doc: "Time to wait for a pooled connection, in ms; 0 means no timeout.",
    default: 0,
  }),
  int("wTimeoutMS", 0, "a non-negative integer", {
    doc: "Default write concern `wtimeout`, in ms; 0 means none (`wtimeout` is a deprecated alias).",
    defaultText: "none",
  }, Number.MAX_SAFE_INTEGER),
  int("zlibCompressionLevel", -1, "an integer from -1 to 9", {
    doc: "zlib compression level, -1 (zlib's default) to 9.",
    default: -1,
    status: "partial",
    note: "-1 or 6 only (the runtime's `CompressionStream` takes no level and compresses at zlib's default, 6)",
    refuse: (v) =>
      v === -1 || v === 6
        ? null
        : "the runtime's CompressionStream takes no level and compresses at zlib's default level (6): " +
          "give -1 or 6, or leave it out",
  }, 9),
]);

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
 * import assert from "node:assert/strict";
 * import { lookupOption } from "./option_table.ts";
 *
 * const found = lookupOption("ssl");
 * assert.equal(found?.name, "tls");
 * assert.equal(found?.alias, "ssl");
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
 * import assert from "node:assert/strict";
 * import { lookupOption } from "./option_table.ts";
 *
 * assert.equal(lookupOption("readpreferencetags")?.name, "readPreferenceTags");
 * assert.equal(lookupOption("nope"), undefined);
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
