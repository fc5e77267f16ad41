/**
 * DNS SRV and TXT lookups for `mongodb+srv://` connection strings, on each
 * runtime's own resolver: `Deno.resolveDns` on Deno (it needs `--allow-net`),
 * `node:dns` on Bun and Node. On Bun, TXT queries go to the resolver's
 * servers over UDP directly (`_dns_txt_udp.ts`), as its `resolveTxt` reports
 * each string of a record as a record of its own. Only the lookups live here; what the records
 * mean is `src/topology/srv.ts`.
 *
 * @module
 */
import { ConnectionFailure } from "../errors.ts";
import { runBounded } from "./_socket_util.ts";
import { parseServerEntry, queryTxtOverUdp } from "./_dns_txt_udp.ts";

/**
 * One SRV record: a host and port to seed discovery with (priority and weight
 * are ignored, as the seedlist discovery specification says).
 *
 * @example
 * ```ts
 * import type { SrvRecord } from "./dns.ts";
 *
 * const r: SrvRecord = { target: "cluster0-shard-00-00.abcde.mongodb.net", port: 27017 };
 * ```
 */
export interface SrvRecord {
  /** The target host name, without a trailing dot. */
  target: string;
  /** The port. */
  port: number;
}

/**
 * Options of the lookups of a {@linkcode DnsResolver}.
 *
 * @example
 * ```ts
 * import type { LookupOptions } from "./dns.ts";
 *
 * const options: LookupOptions = { timeoutMS: 5000 };
 * ```
 */
export interface LookupOptions {
  /** Gives up after this many ms with a `NetworkTimeout`; 0 means never. Default 10000. */
  timeoutMS?: number;
  /** Gives up when aborted, with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Looks up SRV and TXT records. {@linkcode systemResolver} is the runtime's;
 * tests pass their own.
 *
 * @example
 * ```ts ignore
 * import { systemResolver } from "./dns.ts";
 *
 * const dns = systemResolver();
 * console.log(await dns.srv("_mongodb._tcp.cluster0.abcde.mongodb.net"));
 * ```
 */
export interface DnsResolver {
  /** The SRV records of `name`; rejects with `ConnectionFailure` when there are none or the lookup fails. */
  srv(name: string, options?: LookupOptions): Promise<SrvRecord[]>;
  /** The TXT records of `name`, each as its strings in order; `[]` when it has none. */
  txt(name: string, options?: LookupOptions): Promise<string[][]>;
}

/**
 * Options of {@linkcode systemResolver}.
 *
 * @example
 * ```ts
 * import type { SystemResolverOptions } from "./dns.ts";
 *
 * const options: SystemResolverOptions = { nameServer: { host: "127.0.0.1", port: 5353 } };
 * ```
 */
export interface SystemResolverOptions {
  /** Ask this server (an IP address and UDP port) instead of the system's. */
  nameServer?: { host: string; port: number };
}

/**
 * The runtime's resolver.
 *
 * @example
 * ```ts ignore
 * import { systemResolver } from "./dns.ts";
 *
 * const records = await systemResolver().txt("cluster0.abcde.mongodb.net");
 * console.log(records.map((strings) => strings.join(""))); // [ "authSource=admin&replicaSet=atlas-xyz-shard-0" ]
 * ```
 */
export function systemResolver(options: SystemResolverOptions = {}): DnsResolver {
  const deno = (globalThis as { Deno?: DenoDns }).Deno;
  const backend = deno?.resolveDns !== undefined ? denoBackend(deno, options) : nodeBackend(options);
  return {
    async srv(name, lookup = {}) {
      const records = await bounded(name, "SRV", lookup, (signal) => backend.srv(name, signal));
      if (records.length === 0) throw noRecords(name);
      return records.map((r) => ({ target: r.target.replace(/\.$/, ""), port: r.port }));
    },
    txt(name, lookup = {}) {
      return bounded(name, "TXT", lookup, (signal) => backend.txt(name, signal));
    },
  };
}

// ---- internals ---------------------------------------------------------------

const DEFAULT_TIMEOUT_MS = 10_000;

interface Backend {
  srv(name: string, signal: AbortSignal): Promise<SrvRecord[]>;
  /** `[]` when the name has no TXT records. */
  txt(name: string, signal: AbortSignal): Promise<string[][]>;
}

interface DenoDns {
  resolveDns?(
    query: string,
    type: "SRV" | "TXT",
    options?: { nameServer?: { ipAddr: string; port?: number }; signal?: AbortSignal },
  ): Promise<unknown[]>;
}

interface NodeResolver {
  setServers(servers: string[]): void;
  resolveSrv(name: string): Promise<{ name: string; port: number }[]>;
  resolveTxt(name: string): Promise<string[][]>;
  getServers(): string[];
  cancel(): void;
}

function denoBackend(deno: DenoDns, options: SystemResolverOptions): Backend {
  const nameServer = options.nameServer === undefined
    ? undefined
    : { ipAddr: options.nameServer.host, port: options.nameServer.port };
  const resolve = deno.resolveDns!.bind(deno);
  return {
    async srv(name, signal) {
      const records = await resolve(name, "SRV", { nameServer, signal }) as { target: string; port: number }[];
      return records.map((r) => ({ target: r.target, port: r.port }));
    },
    async txt(name, signal) {
      try {
        return await resolve(name, "TXT", { nameServer, signal }) as string[][];
      } catch (error) {
        if ((error as Error).name === "NotFound") return [];
        throw error;
      }
    },
  };
}

function nodeBackend(options: SystemResolverOptions): Backend {
  const resolver = async (signal: AbortSignal): Promise<NodeResolver> => {
    const dns = (await import("node:dns")) as unknown as { promises: { Resolver: new () => NodeResolver } };
    const r = new dns.promises.Resolver();
    const ns = options.nameServer;
    if (ns !== undefined) r.setServers([ns.host.includes(":") ? `[${ns.host}]:${ns.port}` : `${ns.host}:${ns.port}`]);
    signal.addEventListener("abort", () => r.cancel(), { once: true });
    return r;
  };
  return {
    async srv(name, signal) {
      const records = await (await resolver(signal)).resolveSrv(name);
      return records.map((r) => ({ target: r.name, port: r.port }));
    },
    async txt(name, signal) {
      const r = await resolver(signal);
      if ((globalThis as { Bun?: unknown }).Bun !== undefined) {
        // Bun's resolveTxt splits a record's strings into records of their own: ask the server directly.
        const servers = options.nameServer !== undefined ? [options.nameServer] : r.getServers().map(parseServerEntry);
        const records = await queryTxtOverUdp(name, servers, signal);
        if (records !== undefined) return records; // else truncated: Bun's resolver asks over TCP
      }
      try {
        return await r.resolveTxt(name);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ENODATA" || code === "ENOTFOUND") return [];
        throw error;
      }
    },
  };
}

function bounded<T>(
  name: string,
  type: string,
  options: LookupOptions,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMS = options.timeoutMS ?? DEFAULT_TIMEOUT_MS;
  return runBounded({ what: `DNS ${type} lookup`, address: name, timeoutMS, signal: options.signal }, run);
}

function noRecords(name: string): ConnectionFailure {
  return new ConnectionFailure("DNS returned no SRV records: the mongodb+srv:// URI names no hosts", {
    address: name,
  });
}
