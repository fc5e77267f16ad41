/**
 * What the DNS records of a `mongodb+srv://` connection string mean (the
 * Initial DNS Seedlist Discovery specification): the SRV targets become the
 * seeds, once each is checked to belong to the URI host's domain; one TXT
 * record may give `authSource`, `replicaSet` and `loadBalanced` defaults.
 * Pure; the lookups are `src/net/dns.ts`.
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import type { HostAddress } from "./connection_string.ts";

/**
 * The name to look up SRV records for: `_<service>._tcp.<host>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { srvQueryName } from "./srv.ts";
 *
 * assert.equal(srvQueryName("cluster0.abcde.mongodb.net"), "_mongodb._tcp.cluster0.abcde.mongodb.net");
 * ```
 */
export function srvQueryName(host: string, serviceName = "mongodb"): string {
  return `_${serviceName}._tcp.${host}`;
}

/**
 * The seeds of SRV records, each checked against `host` (the URI's): a target
 * must end with the host's domain (the host without its first label when it
 * has three or more, else the host itself) and have more labels than that
 * domain.
 *
 * @throws {ConfigurationError} for a target outside the domain: no connection may be made to it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedsFromSrv } from "./srv.ts";
 *
 * const seeds = seedsFromSrv("cluster0.example.com", [{ target: "a.example.com", port: 27017 }]);
 * assert.deepEqual(seeds, [ { type: "hostname", host: "a.example.com", port: 27017 } ]);
 * ```
 */
export function seedsFromSrv(host: string, records: readonly { target: string; port: number }[]): HostAddress[] {
  const hostLabels = trimDot(host).toLowerCase().split(".");
  const domainLabels = hostLabels.length >= 3 ? hostLabels.slice(1) : hostLabels;
  const suffix = `.${domainLabels.join(".")}`;
  return records.map(({ target, port }) => {
    const name = trimDot(target).toLowerCase();
    if (!name.endsWith(suffix) || name.split(".").length <= domainLabels.length) {
      throw new ConfigurationError(
        `the SRV record target ${JSON.stringify(target)} is not in the domain ${JSON.stringify(suffix.slice(1))} of ${
          JSON.stringify(host)
        }: refusing to connect to it`,
      );
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigurationError(`the SRV record for ${JSON.stringify(target)} has an invalid port ${port}`);
    }
    return { type: "hostname", host: name, port };
  });
}

const TXT_OPTIONS = new Map([["authsource", "authSource"], ["replicaset", "replicaSet"], [
  "loadbalanced",
  "loadBalanced",
]]);

/**
 * The default options of the TXT records of the URI's host, as connection
 * string text (`authSource=admin&replicaSet=rs0`), or `""` when there is no
 * record. A record's strings are joined in order.
 *
 * @throws {ConfigurationError} for several TXT records, or an option other than
 * `authSource`, `replicaSet` and `loadBalanced`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionsFromTxt } from "./srv.ts";
 *
 * assert.equal(optionsFromTxt("rs.example.com", [["replicaSet=rs0&", "authSource=admin"]]), "replicaSet=rs0&authSource=admin");
 * ```
 */
export function optionsFromTxt(host: string, records: readonly (readonly string[])[]): string {
  if (records.length === 0) return "";
  if (records.length > 1) {
    throw new ConfigurationError(
      `${JSON.stringify(host)} has ${records.length} TXT records; at most one may give connection options ` +
        "(merge them into one record)",
    );
  }
  const text = records[0].join("");
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const key = pair.split("=", 1)[0];
    if (!TXT_OPTIONS.has(key.toLowerCase())) {
      throw new ConfigurationError(
        `the TXT record of ${JSON.stringify(host)} sets ${JSON.stringify(key)}; ` +
          "only authSource, replicaSet and loadBalanced may be set there",
      );
    }
  }
  return text;
}

/**
 * At most `max` of `seeds`, chosen at random (Fisher-Yates), when `max` is
 * positive and smaller than their number; otherwise all of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickSrvHosts } from "./srv.ts";
 *
 * assert.equal(pickSrvHosts(["a", "b", "c"], 2).length, 2);
 * ```
 */
export function pickSrvHosts<T>(seeds: readonly T[], max: number, random: () => number = Math.random): T[] {
  const out = [...seeds];
  if (max <= 0 || max >= out.length) return out;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, max);
}

function trimDot(name: string): string {
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
