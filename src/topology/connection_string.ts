/**
 * The MongoDB connection string (`mongodb://` and `mongodb+srv://`), parsed as
 * the Connection String and URI Options specifications say: hosts (hostnames,
 * IPv4, bracketed IPv6 literals, percent-encoded Unix socket paths), user
 * information, the database, and the options, converted to typed
 * {@linkcode ClientOptions} and validated.
 *
 * Bad syntax, and the option combinations the specifications forbid, throw a
 * {@linkcode ConfigurationError}. An unknown option, an invalid option value or
 * a repeated option is ignored (or, when repeated, the last value wins) with a
 * warning, as the specifications require.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { DEFAULT_PORT, formatAddress } from "../address.ts";
import {
  checkOptionCombinations,
  type ClientOptions,
  lookupOption,
  type OptionLookup,
  parseUriOptionValue,
} from "./options.ts";

// Re-exported so this module's documentation is complete on its own; it is the
// same binding as options.ts's, so `export *` of both modules does not clash.
export type { ClientOptions } from "./options.ts";

/**
 * The kind of a host: a DNS name, a dotted IPv4 address, a bracketed IP literal
 * (IPv6), or a Unix domain socket path.
 *
 * @example
 * ```ts
 * import type { HostType } from "./connection_string.ts";
 *
 * const t: HostType = "ip_literal";
 * console.log(t);
 * ```
 */
export type HostType = "hostname" | "ipv4" | "ip_literal" | "unix";

/**
 * One host of a seed list. `host` is lowercased for hostnames, IPv4 and IP
 * literals (given without brackets); for a Unix socket it is the decoded path.
 * `port` is `null` when none was given (27017 is then used).
 *
 * @example
 * ```ts
 * import type { HostAddress } from "./connection_string.ts";
 *
 * const h: HostAddress = { type: "ip_literal", host: "::1", port: 27018 };
 * console.log(h.host);
 * ```
 */
export interface HostAddress {
  /** What kind of host this is. */
  readonly type: HostType;
  /** Hostname or address (lowercased, IPv6 without brackets), or the socket path. */
  readonly host: string;
  /** Port 1..65535, or `null` when not given. */
  readonly port: number | null;
}

/**
 * A parsed connection string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConnectionString } from "./connection_string.ts";
 *
 * const cs = parseConnectionString("mongodb://a,b:27018/app?replicaSet=foo");
 * assert.equal(cs.hosts.length, 2);
 * assert.equal(cs.database, "app");
 * assert.equal(cs.options.replicaSet, "foo");
 * ```
 */
export interface ConnectionString {
  /** `mongodb`, or `mongodb+srv` (whose single host is resolved through DNS by the client). */
  readonly scheme: "mongodb" | "mongodb+srv";
  /** The seed list, in the order given. */
  readonly hosts: readonly HostAddress[];
  /**
   * The user information, or `null` when the URI has none. `password` is `null` when no
   * `:` was given (and `""` for `user:@`). `db` is the URI's database (the default auth
   * database); `options.authSource`, when given, takes precedence for authentication.
   */
  readonly auth: {
    readonly username: string | null;
    readonly password: string | null;
    readonly db: string | null;
  } | null;
  /** The database of the path (percent-decoded), or `null`. It does not by itself ask for authentication. */
  readonly database: string | null;
  /**
   * Options given in the URI, normalized to their camelCase names and types. A
   * `mongodb+srv://` URI without `tls`/`ssl` gets `tls: true`.
   */
  readonly options: ClientOptions;
  /** Every warning issued while parsing, in order. */
  readonly warnings: readonly string[];
}

/**
 * Options of {@linkcode parseConnectionString}.
 *
 * @example
 * ```ts
 * import type { ParseConnectionStringOptions } from "./connection_string.ts";
 *
 * const o: ParseConnectionStringOptions = { onWarning: () => {} };
 * console.log(typeof o.onWarning);
 * ```
 */
export interface ParseConnectionStringOptions {
  /** Receives each warning; default `console.warn`. Warnings are also listed in `warnings`. */
  onWarning?: (message: string) => void;
}

/**
 * Formats a host as `host:port` (port 27017 when none was given), with IPv6
 * literals in brackets; a Unix socket path is returned as it is. This is the
 * form SDAM uses as a server address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostAddressToString } from "./connection_string.ts";
 *
 * assert.equal(hostAddressToString({ type: "hostname", host: "a", port: null }), "a:27017");
 * assert.equal(hostAddressToString({ type: "ip_literal", host: "::1", port: 27018 }), "[::1]:27018");
 * ```
 */
export function hostAddressToString(h: HostAddress): string {
  return formatAddress(h.type === "unix" ? { path: h.host } : { host: h.host, port: h.port ?? DEFAULT_PORT });
}

/** JSON-quotes a string for a message, cut short so a huge input cannot flood the log. */
function quote(text: string): string {
  return text.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 80))}... (${text.length} characters)`;
}

function fail(message: string): never {
  throw new ConfigurationError(message);
}

function decode(text: string, what: string): string {
  // decodeURIComponent accepts any %XX; it throws URIError on a lone "%" or on
  // bytes that are not UTF-8, which we report as the user's mistake.
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(`${what} ${quote(text)} is not valid percent-encoding (write "%" as %25)`);
  }
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// RFC 3986 userinfo = unreserved / pct-encoded / sub-delims / ":"; non-ASCII is
// let through (as UTF-8 text) because the spec allows non-ASCII connection strings.
const USERINFO_BAD_CHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:%\u0080-\uFFFF]/;
const HOSTNAME_BAD_CHAR = /[\s@/\\?#\[\]<>"'`{}|^%,:]/;

function isIpv4(host: string): boolean {
  const m = IPV4.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

function parsePort(text: string, hostText: string): number {
  if (!/^[0-9]+$/.test(text)) {
    fail(
      `invalid port ${quote(text)} in host ${quote(hostText)}: must be an integer from 1 to 65535`,
    );
  }
  const port = Number(text);
  if (port < 1 || port > 65535) {
    fail(`invalid port ${text} in host ${quote(hostText)}: must be from 1 to 65535`);
  }
  return port;
}

/**
 * Options of {@linkcode parseHostAddress}.
 *
 * @example
 * ```ts
 * import type { ParseHostAddressOptions } from "./connection_string.ts";
 *
 * const o: ParseHostAddressOptions = { percentEncoded: false };
 * console.log(o.percentEncoded);
 * ```
 */
export interface ParseHostAddressOptions {
  /**
   * `true` (default): the text comes from a URI, so it is percent-decoded and a
   * socket path must be encoded (`%2F`). `false`: the text is taken literally, so a
   * raw path such as `/tmp/mongodb-27017.sock` is a socket.
   */
  percentEncoded?: boolean;
}

/**
 * Parses one host identifier: `host`, `host:port`, `[ipv6]`, `[ipv6]:port`, or a
 * Unix socket path ending in `.sock` (percent-encoded in a URI).
 *
 * @throws {ConfigurationError} naming the host and what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostAddress } from "./connection_string.ts";
 *
 * assert.deepEqual(parseHostAddress("Example.COM:27018"), { type: "hostname", host: "example.com", port: 27018 });
 * assert.equal(parseHostAddress("[::1]").type, "ip_literal");
 * assert.equal(parseHostAddress("%2Ftmp%2Fm.sock").host, "/tmp/m.sock");
 * ```
 */
export function parseHostAddress(text: string, options: ParseHostAddressOptions = {}): HostAddress {
  const encoded = options.percentEncoded ?? true;
  if (typeof text !== "string") fail(`host must be a string, got ${typeof text}`);
  if (text.length === 0) fail("empty host in the host list (check for a stray comma)");

  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) fail(`IP literal ${quote(text)} has no closing "]"`);
    const literal = encoded ? decode(text.slice(1, close), "host") : text.slice(1, close);
    // Hex digits, colons, an embedded IPv4 tail, and an optional zone id.
    if (!/^[0-9A-Fa-f:.]+(%[A-Za-z0-9._~-]+)?$/.test(literal) || !literal.includes(":")) {
      fail(`invalid IP literal ${quote(text)}: expected an IPv6 address in brackets`);
    }
    const rest = text.slice(close + 1);
    let port: number | null = null;
    if (rest.length > 0) {
      if (!rest.startsWith(":")) fail(`unexpected ${quote(rest)} after IP literal in ${quote(text)}`);
      port = parsePort(rest.slice(1), text);
    }
    return { type: "ip_literal", host: literal.toLowerCase(), port };
  }

  const decoded = encoded ? decode(text, "host") : text;
  if (decoded.includes("/")) {
    if (!decoded.toLowerCase().endsWith(".sock")) {
      fail(
        `unsupported host ${quote(decoded)}: a Unix domain socket path must end in ".sock"` +
          (encoded ? " (and a port cannot follow it)" : ""),
      );
    }
    return { type: "unix", host: decoded, port: null };
  }

  const colon = text.indexOf(":");
  let hostText = text;
  let port: number | null = null;
  if (colon >= 0) {
    if (text.indexOf(":", colon + 1) >= 0) {
      fail(
        `invalid host ${quote(text)}: more than one ":" (an IPv6 address must be in brackets, e.g. [::1]:27017)`,
      );
    }
    hostText = text.slice(0, colon);
    port = parsePort(text.slice(colon + 1), text);
  }
  if (hostText.length === 0) fail(`missing host name in ${quote(text)}`);
  const host = encoded ? decode(hostText, "host") : hostText;
  // deno-lint-ignore no-control-regex -- control characters are exactly what is rejected here
  if (HOSTNAME_BAD_CHAR.test(host) || /[\u0000-\u001f\u007f]/.test(host)) {
    fail(`invalid host name ${quote(host)}`);
  }
  const lower = host.toLowerCase();
  return { type: isIpv4(lower) ? "ipv4" : "hostname", host: lower, port };
}

function checkUserinfoPart(raw: string, what: string): void {
  const badPercent = /%(?![0-9A-Fa-f]{2})/.exec(raw);
  if (badPercent) {
    fail(
      `${what} contains a "%" that is not followed by two hex digits: the user name and password must be URL encoded`,
    );
  }
  const bad = USERINFO_BAD_CHAR.exec(raw);
  if (bad) {
    fail(
      `${what} contains ${
        quote(bad[0])
      }, which must be percent-encoded: the user name and password must be URL encoded`,
    );
  }
}

const DB_BAD_CHAR = /[\/\\ "$]/;

/** Options whose repetition is an error: each names one proxy, so two values cannot both be meant. */
const NO_REPEAT = new Set(["proxyHost", "proxyPort", "proxyUsername", "proxyPassword"]);

/**
 * Parses a `mongodb://` or `mongodb+srv://` connection string.
 *
 * Hosts: `host`, `host:port`, `[ipv6]:port`, or a percent-encoded Unix socket path
 * ending in `.sock` (`%2Ftmp%2Fmongodb-27017.sock`). User name and password must be
 * percent-encoded (`@`, `:`, `/` and `%` always). Options are `key=value` pairs
 * separated by `&`; names ignore ASCII case; booleans are `true`/`false`; integers
 * are decimal digits with an optional minus sign. `readPreferenceTags` may repeat
 * (each is one tag set, in order); any other repeated option keeps its last value,
 * with a warning.
 *
 * `mongodb+srv://` takes exactly one host name and no port, implies `tls=true`
 * unless `tls`/`ssl` is given, and forbids `directConnection=true`. DNS is not
 * queried here.
 *
 * @param uri The connection string.
 * @param options Where warnings go (default `console.warn`).
 * @returns The parsed connection string; its `warnings` lists every warning.
 * @throws {ConfigurationError} naming the part of the string that is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConnectionString } from "./connection_string.ts";
 *
 * const cs = parseConnectionString(
 *   "mongodb://user:p%40ss@h1:27017,h2:27018/admin?replicaSet=foo&readPreference=secondary&readPreferenceTags=dc:ny",
 * );
 * assert.equal(cs.auth?.password, "p@ss");
 * assert.deepEqual(cs.options.readPreferenceTags, [ { dc: "ny" } ]);
 * ```
 */
export function parseConnectionString(uri: string, options: ParseConnectionStringOptions = {}): ConnectionString {
  if (typeof uri !== "string") fail(`connection string must be a string, got ${uri === null ? "null" : typeof uri}`);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    if (options.onWarning) options.onWarning(message);
    else console.warn(message);
  };

  let scheme: ConnectionString["scheme"];
  let rest: string;
  if (uri.startsWith("mongodb://")) {
    scheme = "mongodb";
    rest = uri.slice("mongodb://".length);
  } else if (uri.startsWith("mongodb+srv://")) {
    scheme = "mongodb+srv";
    rest = uri.slice("mongodb+srv://".length);
  } else {
    const shown = uri.length > 40 ? `${uri.slice(0, 40)}...` : uri;
    return fail(
      uri.length === 0
        ? "connection string is empty: expected mongodb://host[:port][,...][/[database][?options]]"
        : `invalid scheme in ${quote(shown)}: expected "mongodb://" or "mongodb+srv://"`,
    );
  }
  const srv = scheme === "mongodb+srv";

  // Host information ends at the first "/" or "?"; neither may appear unencoded
  // before it, so both delimit it (the "/" before the options is optional).
  const end = rest.search(/[/?]/);
  const hostInfo = end < 0 ? rest : rest.slice(0, end);
  let tail = end < 0 ? "" : rest.slice(end);
  if (hostInfo.length === 0) {
    if (tail.startsWith("/") && tail.length > 1 && !tail.startsWith("/?")) {
      fail(
        `unsupported host ${quote(tail.split("?")[0])}: a Unix domain socket path must be URL encoded ` +
          `(e.g. mongodb://%2Ftmp%2Fmongodb-27017.sock)`,
      );
    }
    fail("connection string has no host");
  }

  // User information: everything before the last "@" of the host information.
  const at = hostInfo.lastIndexOf("@");
  let auth: ConnectionString["auth"] = null;
  const hostList = at < 0 ? hostInfo : hostInfo.slice(at + 1);
  if (at >= 0) {
    const userinfo = hostInfo.slice(0, at);
    if (userinfo.includes("@")) {
      fail('user information contains an unescaped "@": the user name and password must be URL encoded (%40)');
    }
    const colon = userinfo.indexOf(":");
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const rawPassword = colon < 0 ? null : userinfo.slice(colon + 1);
    if (rawPassword !== null && rawPassword.includes(":")) {
      fail('password contains an unescaped ":": the user name and password must be URL encoded (%3A)');
    }
    checkUserinfoPart(rawUser, "user name");
    if (rawPassword !== null) checkUserinfoPart(rawPassword, "password");
    const username = decode(rawUser, "user name");
    if (username.length === 0) fail("user information has an empty user name");
    auth = { username, password: rawPassword === null ? null : decode(rawPassword, "password"), db: null };
  }

  // Database, then options.
  let database: string | null = null;
  let query = "";
  if (tail.startsWith("/")) tail = tail.slice(1);
  const q = tail.indexOf("?");
  const rawDb = q < 0 ? tail : tail.slice(0, q);
  if (q >= 0) query = tail.slice(q + 1);
  if (rawDb.length > 0) {
    if (rawDb.includes("@")) {
      fail(
        'unexpected "@" after the host list: a "/" in the user name or password, or an "@" in the database name, must be URL encoded',
      );
    }
    database = decode(rawDb, "database name");
    const bad = DB_BAD_CHAR.exec(database);
    if (bad) {
      fail(`database name ${quote(database)} contains the forbidden character ${quote(bad[0])}`);
    }
  }
  if (auth !== null) auth = { ...auth, db: database };

  // Hosts are parsed after the path so that a "/" typed inside the user
  // information is reported as such rather than as a bad port.
  const hosts = hostList.split(",").map((h) => parseHostAddress(h));

  const parsed: Record<string, unknown> = {};
  const present = new Set<string>();
  const givenBy = new Map<string, string>(); // canonical name -> key used for the kept value
  const tlsValues: Array<{ key: string; value: boolean }> = [];

  for (const pair of query.split("&")) {
    if (pair.length === 0) continue; // "?", "&&" and a trailing "&" carry nothing
    const eq = pair.indexOf("=");
    if (eq < 0) fail(`option ${quote(pair)} has no "=": options are key=value pairs`);
    const key = decode(pair.slice(0, eq), "option name");
    const raw = decode(pair.slice(eq + 1), `value of option ${quote(key)}`);
    if (key.length === 0) fail(`option ${quote(pair)} has an empty name`);

    // Only an unknown key can be long (a known one spells an option name).
    const shownKey = key.length > 80 ? `${key.slice(0, 80)}...` : key;
    const spec: OptionLookup | undefined = lookupOption(key);
    if (!spec) {
      warn(`Unsupported option '${shownKey}' in connection string; ignored`);
      continue;
    }
    const name = spec.name;
    if (NO_REPEAT.has(name) && present.has(name)) {
      fail(`option ${name} is given more than once in the connection string`);
    }
    present.add(name);

    const result = parseUriOptionValue(spec, raw);
    if ("problem" in result) {
      const message = `option '${shownKey}' ${result.problem}`;
      if (spec.invalidIsError) fail(`connection string: ${message}`);
      warn(`Unsupported value for option '${shownKey}' in connection string: ${result.problem}; ignored`);
      continue;
    }
    if (result.warning) warn(`option '${shownKey}' in connection string ${result.warning}`);

    if (name === "tls") {
      // tls and ssl are one option: every instance must agree (URI Options spec).
      tlsValues.push({ key, value: result.value as boolean });
      const disagree = tlsValues.find((t) => t.value !== result.value);
      if (disagree) {
        fail(`${disagree.key}=${disagree.value} and ${shownKey}=${result.value} contradict each other`);
      }
      parsed.tls = result.value;
      continue;
    }

    if (name === "readPreferenceTags") {
      const list = (parsed.readPreferenceTags as Record<string, string>[] | undefined) ?? [];
      parsed.readPreferenceTags = [...list, ...(result.value as Record<string, string>[])];
      continue;
    }

    const previousKey = givenBy.get(name);
    if (previousKey !== undefined) {
      const previousDeprecated = lookupOption(previousKey)!.deprecated;
      if (spec.deprecated && !previousDeprecated) {
        warn(
          `Deprecated option '${shownKey}' ignored because its replacement '${
            previousKey.length > 80 ? previousKey.slice(0, 80) + "..." : previousKey
          }' is given`,
        );
        continue;
      }
      if (previousDeprecated && !spec.deprecated) {
        warn(
          `Deprecated option '${
            previousKey.length > 80 ? previousKey.slice(0, 80) + "..." : previousKey
          }' ignored because its replacement '${shownKey}' is given`,
        );
      } else {
        warn(`Option '${name}' is given more than once in the connection string; the last value is used`);
      }
    } else if (spec.deprecated) {
      warn(`Option '${shownKey}' is deprecated; use '${name}'`);
    }
    givenBy.set(name, key);
    parsed[name] = result.value;
  }

  if (srv) {
    if (hosts.length !== 1) {
      fail(`a mongodb+srv:// connection string takes exactly one host name, got ${hosts.length}`);
    }
    const h = hosts[0];
    if (h.type !== "hostname") {
      fail(`a mongodb+srv:// connection string needs a host name, got ${quote(h.host)}`);
    }
    if (h.port !== null) fail("a mongodb+srv:// connection string cannot give a port");
    if (parsed.tls === undefined) parsed.tls = true;
  }

  const clientOptions = parsed as ClientOptions;
  checkOptionCombinations(clientOptions, { where: "connection string", hostCount: hosts.length, srv, present });

  return { scheme, hosts, auth, database, options: clientOptions, warnings };
}
