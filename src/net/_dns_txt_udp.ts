/**
 * A DNS TXT query over UDP (RFC 1035), for runtimes whose resolver loses the
 * boundaries between TXT records: Bun 1.4's `node:dns` reports each
 * character-string of one record as a record of its own, so a record split
 * into several strings (`"replicaS" "et=rep" "l0"`) would read as several
 * records, which the seedlist discovery rules refuse. Asked directly, the
 * answer keeps each record's strings together. Internal to `dns.ts`.
 *
 * @module
 */

/**
 * A DNS server to ask: an IP address and UDP port.
 *
 * @example
 * ```ts
 * import type { NameServer } from "./_dns_txt_udp.ts";
 *
 * const ns: NameServer = { host: "127.0.0.53", port: 53 };
 * ```
 */
export interface NameServer {
  /** IPv4 or IPv6 address (without brackets). */
  host: string;
  /** UDP port. */
  port: number;
}

/**
 * What one reply says: the TXT records (each as its strings), or that the
 * reply was truncated (the answer needs TCP).
 *
 * @example
 * ```ts
 * import type { TxtAnswer } from "./_dns_txt_udp.ts";
 *
 * const a: TxtAnswer = { truncated: false, records: [["replicaS", "et=rep", "l0"]] };
 * ```
 */
export interface TxtAnswer {
  /** The server set TC: the records did not fit in a UDP reply. */
  truncated: boolean;
  /** Each TXT record as its character-strings, in order; `[]` for NXDOMAIN or no TXT record. */
  records: string[][];
}

const TYPE_TXT = 16;
const CLASS_IN = 1;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];
/** Resend the query (to the next server) when no reply came in this long. */
const RETRANSMIT_MS = 1000;

/**
 * The query message for the TXT records of `name`, recursion desired.
 *
 * @example
 * ```ts
 * import { encodeTxtQuery } from "./_dns_txt_udp.ts";
 *
 * const bytes = encodeTxtQuery(0x1234, "cluster0.example.com");
 * ```
 */
export function encodeTxtQuery(id: number, name: string): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").map((l) => new TextEncoder().encode(l));
  if (labels.some((l) => l.length === 0 || l.length > 63)) throw new Error(`${JSON.stringify(name)} is not a DNS name`);
  const out = new Uint8Array(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // one question
  let at = 12;
  for (const l of labels) {
    out[at++] = l.length;
    out.set(l, at);
    at += l.length;
  }
  out[at++] = 0;
  view.setUint16(at, TYPE_TXT);
  view.setUint16(at + 2, CLASS_IN);
  return out;
}

/**
 * Reads a reply to {@linkcode encodeTxtQuery}: `null` when it is not the reply
 * to that query (another id, another question), else its TXT records.
 *
 * @throws {Error} for a malformed reply, or a server error (SERVFAIL, REFUSED, ...).
 * @example
 * ```ts ignore
 * import { decodeTxtReply } from "./_dns_txt_udp.ts";
 *
 * const answer = decodeTxtReply(reply, 0x1234, "cluster0.example.com");
 * ```
 */
export function decodeTxtReply(msg: Uint8Array, id: number, name: string): TxtAnswer | null {
  if (msg.length < 12) throw new Error("a DNS reply shorter than its header");
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = view.getUint16(2);
  if (view.getUint16(0) !== id || (flags & 0x8000) === 0 || view.getUint16(4) !== 1) return null;
  const [qname, afterName] = readQuestionName(msg, 12);
  if (afterName + 4 > msg.length) throw new Error("a DNS reply cut inside its question");
  const asked = name.replace(/\.$/, "").toLowerCase();
  if (qname !== asked || view.getUint16(afterName) !== TYPE_TXT) return null;
  const rcode = flags & 0x000f;
  if (rcode === 3) return { truncated: false, records: [] };
  if (rcode !== 0) throw new Error(`the DNS server answered ${RCODE_NAMES[rcode] ?? `rcode ${rcode}`}`);
  const truncated = (flags & 0x0200) !== 0;
  const records: string[][] = [];
  let at = afterName + 4;
  const answers = view.getUint16(6);
  for (let i = 0; i < answers; i++) {
    at = skipName(msg, at);
    if (at + 10 > msg.length) throw new Error("a DNS reply cut inside an answer");
    const type = view.getUint16(at);
    const klass = view.getUint16(at + 2);
    const length = view.getUint16(at + 8);
    const start = at + 10;
    const end = start + length;
    if (end > msg.length) throw new Error("a DNS reply cut inside an answer");
    // CNAME answers lead to the name whose TXT records follow them.
    if (type === TYPE_TXT && klass === CLASS_IN) records.push(characterStrings(msg.subarray(start, end)));
    at = end;
  }
  return { truncated, records };
}

/**
 * Asks `servers` (in turn, resending every second until one answers) for
 * the TXT records of `name`. Resolves `undefined` when the reply was
 * truncated (the caller asks again over TCP). Rejects with `signal.reason`
 * when `signal` aborts; the socket is closed on every outcome.
 *
 * @example
 * ```ts ignore
 * import { queryTxtOverUdp } from "./_dns_txt_udp.ts";
 *
 * const records = await queryTxtOverUdp("cluster0.example.com", [{ host: "127.0.0.53", port: 53 }], AbortSignal.timeout(5000));
 * ```
 */
export async function queryTxtOverUdp(
  name: string,
  servers: readonly NameServer[],
  signal: AbortSignal,
): Promise<string[][] | undefined> {
  if (servers.length === 0) throw new Error("no DNS server is configured");
  const dgram = (await import("node:dgram")) as unknown as { createSocket(type: "udp4" | "udp6"): UdpSocket };
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const query = encodeTxtQuery(id, name);
  return new Promise<string[][] | undefined>((resolve, reject) => {
    const sockets = new Map<string, UdpSocket>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sent = 0;
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      for (const s of sockets.values()) s.close();
      sockets.clear();
    };
    const onAbort = () => {
      finish();
      reject(signal.reason);
    };
    const onMessage = (msg: Uint8Array, from: { address: string; port: number }) => {
      // Only a server asked may answer (a spoofed reply must also guess the id).
      if (!servers.some((s) => s.host === from.address && s.port === from.port)) return;
      let answer: TxtAnswer | null;
      try {
        answer = decodeTxtReply(new Uint8Array(msg), id, name);
      } catch (error) {
        finish();
        reject(error);
        return;
      }
      if (answer === null) return;
      finish();
      resolve(answer.truncated ? undefined : answer.records);
    };
    const send = () => {
      const server = servers[sent++ % servers.length];
      const family = server.host.includes(":") ? "udp6" : "udp4";
      let socket = sockets.get(family);
      if (socket === undefined) {
        socket = dgram.createSocket(family);
        socket.on("message", onMessage);
        socket.on("error", () => {}); // a send that fails is resent to the next server
        sockets.set(family, socket);
      }
      socket.send(query, server.port, server.host);
      timer = setTimeout(send, RETRANSMIT_MS);
    };
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    send();
  });
}

/**
 * A `getServers()` entry of `node:dns` (`"1.2.3.4"`, `"1.2.3.4:5353"`,
 * `"::1"`, `"[::1]:5353"`) as a {@linkcode NameServer}.
 *
 * @example
 * ```ts
 * import { parseServerEntry } from "./_dns_txt_udp.ts";
 *
 * console.log(parseServerEntry("[::1]:5353")); // { host: "::1", port: 5353 }
 * ```
 */
export function parseServerEntry(entry: string): NameServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1], port: Number(bracketed[2] ?? 53) };
  const parts = entry.split(":");
  if (parts.length === 2) return { host: parts[0], port: Number(parts[1]) };
  return { host: entry, port: 53 };
}

// ---- internals ---------------------------------------------------------------

interface UdpSocket {
  on(event: "message", listener: (msg: Uint8Array, from: { address: string; port: number }) => void): void;
  on(event: "error", listener: (error: unknown) => void): void;
  send(msg: Uint8Array, port: number, address: string): void;
  close(): void;
}

/** The question's name (no compression there), lower-cased, and where it ends. */
function readQuestionName(msg: Uint8Array, at: number): [string, number] {
  const labels: string[] = [];
  for (;;) {
    if (at >= msg.length) throw new Error("a DNS reply cut inside a name");
    const length = msg[at];
    if (length === 0) return [labels.join(".").toLowerCase(), at + 1];
    if (length > 63 || at + 1 + length > msg.length) throw new Error("a malformed name in a DNS reply");
    labels.push(new TextDecoder().decode(msg.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
}

/** Where a name (labels, maybe ending in a compression pointer) ends. */
function skipName(msg: Uint8Array, at: number): number {
  for (;;) {
    if (at >= msg.length) throw new Error("a DNS reply cut inside a name");
    const length = msg[at];
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    if (length > 63) throw new Error("a malformed name in a DNS reply");
    at += 1 + length;
  }
}

/** The <character-string>s of a TXT record's data. */
function characterStrings(data: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const length = data[at];
    if (at + 1 + length > data.length) throw new Error("a malformed TXT record in a DNS reply");
    out.push(new TextDecoder().decode(data.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  return out;
}
