/**
 * A tiny authoritative DNS server over UDP (RFC 1035 messages) for the
 * `mongodb+srv://` tests: it answers A, SRV and TXT queries from a table and
 * NXDOMAIN for names it does not know, on 127.0.0.1 at a free port. Written on
 * `node:dgram`, which Deno and Bun both provide, and independent of the
 * driver's code.
 *
 * @module
 */
import { createSocket } from "node:dgram";

/** The records of one name. */
export interface DnsEntry {
  /** IPv4 addresses (A records). */
  a?: string[];
  srv?: { target: string; port: number; priority?: number; weight?: number }[];
  /** Each TXT record as its character strings (each at most 255 bytes). */
  txt?: string[][];
}

/** A running server. */
export interface DnsServer {
  readonly port: number;
  /** Every query received: the name (lower-cased) and type ("A", "SRV", "TXT" or the number). */
  readonly queries: { name: string; type: string }[];
  /** The records; replaceable at any time. */
  records: Record<string, DnsEntry>;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_TXT = 16;
const TYPE_SRV = 33;

/** Starts the server. */
export async function startDnsServer(records: Record<string, DnsEntry>): Promise<DnsServer> {
  const socket = createSocket("udp4");
  const queries: { name: string; type: string }[] = [];
  const state = { records };
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    const reply = answer(msg, state.records, queries);
    if (reply !== null) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: socket.address().port,
    queries,
    get records() {
      return state.records;
    },
    set records(r) {
      state.records = r;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function answer(
  msg: Uint8Array,
  records: Record<string, DnsEntry>,
  log: { name: string; type: string }[],
): Uint8Array | null {
  if (msg.length < 12) return null;
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = view.getUint16(0);
  const rd = view.getUint16(2) & 0x0100;
  if (view.getUint16(4) !== 1) return null;
  // The question: labels, then type and class.
  let at = 12;
  const labels: string[] = [];
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at];
    labels.push(new TextDecoder().decode(msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  at += 1;
  const type = view.getUint16(at);
  const question = msg.subarray(12, at + 4);
  const name = labels.join(".").toLowerCase();
  log.push({
    name,
    type: type === TYPE_A ? "A" : type === TYPE_SRV ? "SRV" : type === TYPE_TXT ? "TXT" : String(type),
  });

  const entry = Object.entries(records).find(([n]) => n.toLowerCase() === name)?.[1];
  const rdatas: Uint8Array[] = [];
  if (entry !== undefined && type === TYPE_SRV) {
    for (const r of entry.srv ?? []) {
      const target = encodeName(r.target);
      const rdata = new Uint8Array(6 + target.length);
      const v = new DataView(rdata.buffer);
      v.setUint16(0, r.priority ?? 0);
      v.setUint16(2, r.weight ?? 0);
      v.setUint16(4, r.port);
      rdata.set(target, 6);
      rdatas.push(rdata);
    }
  } else if (entry !== undefined && type === TYPE_A) {
    for (const ip of entry.a ?? []) rdatas.push(new Uint8Array(ip.split(".").map(Number)));
  } else if (entry !== undefined && type === TYPE_TXT) {
    for (const strings of entry.txt ?? []) {
      const parts = strings.map((s) => new TextEncoder().encode(s));
      const rdata = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
      let o = 0;
      for (const p of parts) {
        rdata[o++] = p.length;
        rdata.set(p, o);
        o += p.length;
      }
      rdatas.push(rdata);
    }
  }
  const rcode = entry === undefined ? 3 : 0; // NXDOMAIN for unknown names, else NOERROR (maybe no answers)
  const size = 12 + question.length + rdatas.reduce((n, r) => n + 12 + r.length, 0);
  const out = new Uint8Array(size);
  const o = new DataView(out.buffer);
  o.setUint16(0, id);
  o.setUint16(2, 0x8000 | 0x0400 | rd | 0x0080 | rcode); // response, authoritative, RD copied, RA
  o.setUint16(4, 1);
  o.setUint16(6, rdatas.length);
  out.set(question, 12);
  let w = 12 + question.length;
  for (const r of rdatas) {
    o.setUint16(w, 0xc00c); // the name: a pointer to the question's
    o.setUint16(w + 2, type);
    o.setUint16(w + 4, 1); // IN
    o.setUint32(w + 6, 60);
    o.setUint16(w + 10, r.length);
    out.set(r, w + 12);
    w += 12 + r.length;
  }
  return out;
}

function encodeName(name: string): Uint8Array {
  const parts = name.replace(/\.$/, "").split(".").map((l) => new TextEncoder().encode(l));
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 1));
  let o = 0;
  for (const p of parts) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}
