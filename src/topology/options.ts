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

import { ConfigurationError, OptionTypeError } from "../errors.ts";
import { lookupOption, OPTION_TABLE } from "./option_table.ts";

// Re-exported: the connection-string parser and older imports read them from here.
export {
  lookupOption,
  OPTION_TABLE,
  type OptionKind,
  type OptionLookup,
  type OptionSpec,
  type OptionStatus,
} from "./option_table.ts";

import { checkValue, describeValue, quote } from "./option_values.ts";

export { parseUriOptionValue, type UriOptionValue } from "./option_values.ts";

/**
 * Every client option a user can set, in a connection string or in code.
 * Names are the camelCase names of the URI Options specification; in a
 * connection string they are matched case-insensitively. Every field is
 * optional: an absent field means "not given". Each option's default, and
 * whether this driver honours every value of it, is in the option table
 * (`src/topology/option_table.ts`, listed in README's "Options" section);
 * {@linkcode resolveClientOptions} fills the defaults in and refuses what the
 * driver cannot do.
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
   * Default read preference mode. Connection strings use these
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
  /** Latency window beyond the fastest server, in ms. */
  readonly localThresholdMS?: number;
  /** How long server selection waits for a suitable server, in ms (positive). */
  readonly serverSelectionTimeoutMS?: number;
  /**
   * Single-threaded drivers only; parsed and kept for portability of connection strings,
   * it has no effect in this (asynchronous) driver.
   */
  readonly serverSelectionTryOnce?: boolean;
  /** Interval between monitoring checks of each server, in ms (at least 500). */
  readonly heartbeatFrequencyMS?: number;
  /** Time to open a socket (and its handshake), in ms; 0 means no timeout. */
  readonly connectTimeoutMS?: number;
  /** Time to wait on a socket read or write of an operation, in ms; 0 means no timeout. */
  readonly socketTimeoutMS?: number;
  /** Client-side operation timeout, in ms; 0 means no timeout. */
  readonly timeoutMS?: number;
  /** Maximum connections per server pool; 0 means no maximum. */
  readonly maxPoolSize?: number;
  /** Connections each pool keeps open even when idle (at most `maxPoolSize` when that is not 0). */
  readonly minPoolSize?: number;
  /** Maximum connections a pool opens at the same time (positive). */
  readonly maxConnecting?: number;
  /** Time an idle pooled connection may live, in ms; 0 means no limit. */
  readonly maxIdleTimeMS?: number;
  /** Time to wait for a pooled connection, in ms; 0 means no timeout. */
  readonly waitQueueTimeoutMS?: number;
  /**
   * `true`: talk to the one given host only (topology Single); `false`: discover
   * the deployment from the seeds. `true` is an error with several hosts or `mongodb+srv`.
   */
  readonly directConnection?: boolean;
  /** Connect to a load balancer: one host, no `replicaSet`, no `directConnection=true`. */
  readonly loadBalanced?: boolean;
  /**
   * Use TLS (on by default for `mongodb+srv://` and when another `tls*` option is given).
   * `ssl` is accepted as an alias.
   */
  readonly tls?: boolean;
  /** Path of a PEM file of trusted certificate authorities. */
  readonly tlsCAFile?: string;
  /**
   * Path of a PEM file holding the client certificate and its private key. On Deno an encrypted
   * key must be PKCS#8 with PBES2 and AES-CBC (`openssl pkey -aes256` writes that).
   */
  readonly tlsCertificateKeyFile?: string;
  /** Password that decrypts the private key in `tlsCertificateKeyFile`. */
  readonly tlsCertificateKeyFilePassword?: string;
  /** Accept a server certificate that does not validate (testing only). */
  readonly tlsAllowInvalidCertificates?: boolean;
  /** Accept a server certificate whose name does not match the host; its chain is still checked (testing only). */
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
  /** Retry a read once after a retryable error. */
  readonly retryReads?: boolean;
  /**
   * Retryable writes (default `true`, the URI specification's): an
   * acknowledged insert, single-document update/replace/delete,
   * findOneAnd*, or bulk write without multi-document statements carries a
   * `txnNumber` and is sent once more, on a newly selected primary, after a
   * network error or a retryable server error; the server applies it once.
   * With `false` a write cut off by a failover rejects with `AutoReconnect`
   * (it may or may not have happened).
   */
  readonly retryWrites?: boolean;
  /** Database to authenticate against. */
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
  /** Wire compressors to offer, in order of preference. */
  readonly compressors?: ReadonlyArray<"snappy" | "zlib" | "zstd">;
  /** zlib level, -1 (zlib's default) to 9. */
  readonly zlibCompressionLevel?: number;
  /** `mongodb+srv://` only: use at most this many hosts from DNS; 0 means all. */
  readonly srvMaxHosts?: number;
  /** `mongodb+srv://` only: the SRV service name. */
  readonly srvServiceName?: string;
  /** Server monitoring protocol. */
  readonly serverMonitoringMode?: "auto" | "stream" | "poll";
  /**
   * SOCKS5 proxy host name or address: every connection (monitors and pool) goes through it, and
   * host names are resolved by the proxy. Cannot be combined with the `socketFactory` client option.
   */
  readonly proxyHost?: string;
  /** SOCKS5 proxy port; needs `proxyHost`. */
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
 * {@linkcode ClientOptions} with every default of the option table filled in,
 * as returned by {@linkcode resolveClientOptions}. Options without a default
 * stay optional.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveClientOptions } from "./options.ts";
 *
 * const resolved = resolveClientOptions({}, {});
 * assert.equal(resolved.heartbeatFrequencyMS, 10000);
 * ```
 */
export interface ResolvedClientOptions extends ClientOptions {
  /** See {@linkcode ClientOptions}; the defaults are the option table's. */
  readonly readPreference: NonNullable<ClientOptions["readPreference"]>;
  /** Tag sets; none by default. */
  readonly readPreferenceTags: ReadonlyArray<Readonly<Record<string, string>>>;
  /** See {@linkcode ClientOptions}. */
  readonly maxStalenessSeconds: number;
  /** See {@linkcode ClientOptions}. */
  readonly localThresholdMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly serverSelectionTimeoutMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly heartbeatFrequencyMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly connectTimeoutMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly socketTimeoutMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly maxPoolSize: number;
  /** See {@linkcode ClientOptions}. */
  readonly minPoolSize: number;
  /** See {@linkcode ClientOptions}. */
  readonly maxConnecting: number;
  /** See {@linkcode ClientOptions}. */
  readonly maxIdleTimeMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly waitQueueTimeoutMS: number;
  /** See {@linkcode ClientOptions}. */
  readonly directConnection: boolean;
  /** See {@linkcode ClientOptions}. */
  readonly loadBalanced: boolean;
  /** Derived: `true` for `mongodb+srv://` or when another TLS option is given, unless `tls` says otherwise. */
  readonly tls: boolean;
  /** Derived: `true` when given or when `tlsInsecure` is `true`. */
  readonly tlsAllowInvalidCertificates: boolean;
  /** Derived: `true` when given or when `tlsInsecure` is `true`. */
  readonly tlsAllowInvalidHostnames: boolean;
  /** Always `true`: revocation is never checked. */
  readonly tlsDisableCertificateRevocationCheck: boolean;
  /** Always `true`: OCSP responders are never asked. */
  readonly tlsDisableOCSPEndpointCheck: boolean;
  /** See {@linkcode ClientOptions}. */
  readonly retryReads: boolean;
  /** See {@linkcode ClientOptions}. */
  readonly retryWrites: boolean;
  /** Compressors to offer; none by default. */
  readonly compressors: ReadonlyArray<"snappy" | "zlib" | "zstd">;
  /** -1 or 6 (the same level). */
  readonly zlibCompressionLevel: number;
  /** See {@linkcode ClientOptions}. */
  readonly srvMaxHosts: number;
  /** See {@linkcode ClientOptions}. */
  readonly srvServiceName: string;
  /** `"auto"` or `"poll"`: both poll. */
  readonly serverMonitoringMode: NonNullable<ClientOptions["serverMonitoringMode"]>;
  /** Always 0. */
  readonly maxAdaptiveRetries: number;
  /** Always `false`. */
  readonly enableOverloadRetargeting: boolean;
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
 * @throws {OptionTypeError} (a `TypeError`) naming the option, the expected
 * type and the value given, for a value of the wrong JavaScript type.
 * @throws {ConfigurationError} for a value of the right type that is not
 * allowed (out of range, not one of the values), or naming an unknown option
 * (in code, unlike in a connection string, an unknown name is an error: it is
 * a typo, not a newer option).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateClientOptions } from "./options.ts";
 *
 * const o = validateClientOptions({ replicaSet: "foo", maxPoolSize: 10 });
 * assert.equal(o.maxPoolSize, 10);
 * assert.throws(
 *   () => validateClientOptions({ maxPoolSize: "10" }),
 *   { message: 'client options: maxPoolSize must be a non-negative integer, got "10" (a string)' },
 * );
 * ```
 */
export function validateClientOptions(
  input: Record<string, unknown>,
  source = "client options",
  options: ValidateClientOptionsOptions = {},
): ClientOptions {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new OptionTypeError(source, "an object", describeValue(input));
  }
  const out: Record<string, unknown> = {};
  const givenBy = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const spec = lookupOption(key);
    if (!spec) {
      // A misspelt option must not be silently ignored (the URI parser only warns, as the URI specification says).
      throw new ConfigurationError(
        `${source}: unknown option '${key}'; see the option table in the README for the supported names`,
      );
    }
    const checked = checkValue(spec, value);
    if ("problem" in checked) {
      // A value of the wrong JavaScript type is a TypeError; a right type with a bad value, a ConfigurationError.
      if (checked.wrongType) throw new OptionTypeError(key, spec.expected, checked.given, { where: source });
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
 * Throws a {@linkcode ConfigurationError} for the first given option whose
 * value this driver cannot honour (the option table's `refuse`), naming the
 * option, the value and why.
 */
function refuseUnsupported(given: Record<string, unknown>): void {
  for (const spec of OPTION_TABLE) {
    const value = given[spec.name];
    if (value === undefined || spec.refuse === undefined) continue;
    const reason = spec.refuse(value);
    if (reason !== null) {
      throw new ConfigurationError(
        `client options: ${spec.name}${showGiven(value)} is not supported: ${reason}`,
      );
    }
  }
}

function showGiven(value: unknown): string {
  if (typeof value === "string") return `=${quote(value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `=${value}`;
  return "";
}

/**
 * Merges the options of a connection string with options given in code (which
 * win, option by option; a list such as `readPreferenceTags` is replaced, not
 * merged), checks the combination, refuses the values this driver cannot
 * honour (the option table's `partial` and `refused` rows), and fills in the
 * option table's defaults.
 *
 * Implicit TLS: `tls` defaults to `true` for `mongodb+srv://` and when any other
 * `tls*` option is given; `tlsInsecure: true` turns on `tlsAllowInvalidCertificates`
 * and `tlsAllowInvalidHostnames`.
 *
 * @param uriOptions `ConnectionString.options` (already validated), or `{}`.
 * @param objectOptions Options given in code; validated here with {@linkcode validateClientOptions}.
 * @param options Host count and scheme, for the checks that depend on them; where warnings go.
 * @returns Every option with its default filled in.
 * @throws {ConfigurationError} for a bad object option, a bad combination, or
 * a value this driver does not implement (e.g. `loadBalanced: true`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveClientOptions } from "./options.ts";
 *
 * const resolved = resolveClientOptions({ replicaSet: "foo", maxPoolSize: 5 }, { maxPoolSize: 20 });
 * assert.equal(resolved.replicaSet, "foo");
 * assert.equal(resolved.maxPoolSize, 20);
 * assert.equal(resolved.localThresholdMS, 15);
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

  refuseUnsupported(merged);

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

  // Defaults come from the table; a few are derived from other options.
  const resolved: Record<string, unknown> = {};
  for (const spec of OPTION_TABLE) {
    if (spec.default !== undefined) resolved[spec.name] = spec.default;
  }
  Object.assign(resolved, merged);
  const insecure = m.tlsInsecure === true;
  resolved.tls = m.tls ?? (options.srv === true || tlsOptionGiven);
  resolved.tlsAllowInvalidCertificates = insecure || (m.tlsAllowInvalidCertificates ?? false);
  resolved.tlsAllowInvalidHostnames = insecure || (m.tlsAllowInvalidHostnames ?? false);
  if (m.proxyHost === undefined) delete resolved.proxyPort;
  return resolved as unknown as ResolvedClientOptions;
}
