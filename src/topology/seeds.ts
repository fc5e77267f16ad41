/**
 * Seed lists in every form of PyMongo 2.1's replica-set guide: `"host"`,
 * `"host:port"`, a `["host", port]` pair, a list of `"host:port"` strings, a
 * comma-separated `"h1:p1,h2:p2"` string, or a full `mongodb://` URI. IPv6
 * addresses go in brackets (`"[::1]:27017"`; a bare address is accepted only in
 * the pair form), and Unix socket paths end in `.sock` (given as they are, or
 * percent-encoded as in a URI).
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import {
  type ConnectionString,
  type HostAddress,
  parseConnectionString,
  parseHostAddress,
} from "./connection_string.ts";

/**
 * The seeds a client is given: one string (a host, `host:port`, a comma-separated
 * list, or a `mongodb://` URI), a `[host, port]` pair, or a list of `host[:port]` strings.
 *
 * @example
 * ```ts
 * import type { Seeds } from "./seeds.ts";
 *
 * const a: Seeds = "db1.example.net:27017,db2.example.net:27018";
 * const b: Seeds = ["localhost", 27017];
 * const c: Seeds = ["db1:27017", "db2:27017"];
 * console.log(a, b, c);
 * ```
 */
export type Seeds = string | readonly [string, number] | readonly string[];

/**
 * Options of {@linkcode parseSeeds}.
 *
 * @example
 * ```ts
 * import type { ParseSeedsOptions } from "./seeds.ts";
 *
 * const o: ParseSeedsOptions = { onWarning: (m) => console.log(m) };
 * console.log(typeof o.onWarning);
 * ```
 */
export interface ParseSeedsOptions {
  /** Receives warnings from a connection string's options; default `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * The result of {@linkcode parseSeeds}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSeeds } from "./seeds.ts";
 *
 * const { hosts, uri } = parseSeeds("mongodb://a,b/?replicaSet=foo");
 * assert.equal(hosts.length, 2);
 * assert.equal(uri?.options.replicaSet, "foo");
 * ```
 */
export interface ParsedSeeds {
  /** The seeds, in order. A host without a port has the `port` argument's value, or `null`. */
  hosts: HostAddress[];
  /** The parsed connection string when the seeds were one, else `null`. */
  uri: ConnectionString | null;
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`${what} must be an integer from 1 to 65535, got ${describeValue(port)}`);
  }
  return port;
}

function withPort(h: HostAddress, port: number | undefined): HostAddress {
  return h.port === null && h.type !== "unix" && port !== undefined ? { ...h, port } : h;
}

/** One `host[:port]` seed (never a URI). Errors name the seed. */
function parseOneSeed(seed: string, port: number | undefined): HostAddress {
  const text = seed.trim();
  if (text.length === 0) throw new ConfigurationError("empty seed in the seed list (check for a stray comma)");
  if (text.includes("://")) {
    throw new ConfigurationError(
      `seed ${describeValue(seed)}: a connection string must be given alone, not inside a seed list`,
    );
  }
  try {
    // A raw "/" can only be a socket path given as it is; otherwise percent
    // escapes are decoded as in a URI, so "%2Ftmp%2Fm.sock" works too.
    return withPort(parseHostAddress(text, { percentEncoded: !text.includes("/") }), port);
  } catch (e) {
    if (e instanceof ConfigurationError) {
      throw new ConfigurationError(`seed ${describeValue(seed)}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** The `[host, port]` pair: the host has no port of its own; a bare IPv6 address is allowed. */
function parsePair(host: unknown, port: number): HostAddress {
  const label = `seed ${describeValue([host, port], { elements: true })}`;
  if (typeof host !== "string") throw new ConfigurationError(`${label}: the host must be a string`);
  checkPort(port, `${label}: the port`);
  const text = host.trim();
  const colons = (text.match(/:/g) ?? []).length;
  if (!text.startsWith("[") && colons > 1 && !text.includes("/")) {
    // Unambiguous here: the port is separate, so every colon belongs to the address.
    return { ...parseOneSeed(`[${text}]`, undefined), port };
  }
  const h = parseOneSeed(text, undefined);
  if (h.type === "unix") throw new ConfigurationError(`${label}: a Unix socket path takes no port`);
  if (h.port !== null) {
    throw new ConfigurationError(`${label}: the port is given twice (in the host and as the second element)`);
  }
  return { ...h, port };
}

/**
 * Turns the seeds given to a client into host addresses.
 *
 * - `"host"` or `"host:port"`; `"[::1]:27017"`; `"/tmp/mongodb-27017.sock"`
 * - `"h1:p1,h2:p2"` (comma-separated, spaces around commas allowed)
 * - `["host", port]`: a two-element array whose second element is a number
 * - `["h1:p1", "h2:p2"]`: a list of `host[:port]` strings
 * - `"mongodb://..."` or `"mongodb+srv://..."`: parsed with {@linkcode parseConnectionString}
 *   and returned as `uri` too
 *
 * @param seeds The seeds.
 * @param port Port for every host that has none (default: left `null`, meaning 27017).
 * @param options Where connection-string warnings go.
 * @returns The hosts, and the parsed connection string if one was given.
 * @throws {ConfigurationError} naming the bad seed and what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSeeds } from "./seeds.ts";
 *
 * assert.deepEqual(parseSeeds("localhost").hosts, [ { type: "hostname", host: "localhost", port: null } ]);
 * assert.equal(parseSeeds(["localhost", 27018]).hosts[0].port, 27018);
 * assert.equal(parseSeeds("a:1,b", 27019).hosts[1].port, 27019);
 * ```
 */
export function parseSeeds(seeds: Seeds, port?: number, options: ParseSeedsOptions = {}): ParsedSeeds {
  if (port !== undefined) checkPort(port, "port");

  if (typeof seeds === "string") {
    const text = seeds.trim();
    if (text.startsWith("mongodb://") || text.startsWith("mongodb+srv://")) {
      const uri = parseConnectionString(text, { onWarning: options.onWarning });
      if (uri.scheme === "mongodb+srv" && port !== undefined) {
        throw new ConfigurationError("a port cannot be given with a mongodb+srv:// connection string");
      }
      return { hosts: uri.hosts.map((h) => withPort(h, port)), uri };
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
      throw new ConfigurationError(
        `seed ${describeValue(seeds)}: unsupported scheme (expected "mongodb://" or "mongodb+srv://")`,
      );
    }
    if (text.length === 0) throw new ConfigurationError("seeds must not be empty");
    return { hosts: text.split(",").map((s) => parseOneSeed(s, port)), uri: null };
  }

  if (Array.isArray(seeds)) {
    if (seeds.length === 0) throw new ConfigurationError("seed list is empty: give at least one host");
    if (seeds.length === 2 && typeof seeds[1] === "number") {
      if (port !== undefined && port !== seeds[1]) {
        throw new ConfigurationError(
          `seed ${describeValue(seeds, { elements: true })}: the port is given twice (as the second element and as the port argument ${port})`,
        );
      }
      return { hosts: [parsePair(seeds[0], seeds[1])], uri: null };
    }
    const hosts = seeds.map((s: unknown, i: number) => {
      if (typeof s !== "string") {
        throw new ConfigurationError(
          `seed ${i} of the seed list must be a "host[:port]" string, got ${describeValue(s)}` +
            (typeof s === "number" ? " (a [host, port] pair has exactly two elements)" : ""),
        );
      }
      return parseOneSeed(s, port);
    });
    return { hosts, uri: null };
  }

  throw new ConfigurationError(
    `seeds must be a string, a [host, port] pair or a list of "host[:port]" strings, got ${describeValue(seeds)}`,
  );
}
