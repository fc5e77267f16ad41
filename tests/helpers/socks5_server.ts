/**
 * A SOCKS5 proxy for tests (RFC 1928 CONNECT, RFC 1929 username/password),
 * written from the RFCs and independent of `src/net`: the listener is
 * {@linkcode startTcpServer}, the outbound leg `node:net`. It records every
 * request, maps destinations (so that names only the proxy knows resolve, as
 * they would behind a real proxy), and can misbehave on purpose.
 *
 * @module
 */
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { type ServerConnection, startTcpServer, type TcpServer } from "./tcp_server.ts";

/** How the proxy departs from the protocol, for tests of a client facing a lying proxy. */
export type Misbehaviour =
  | "bad-version" // answers the greeting with version 4
  | "bad-auth-version" // answers the username/password request with version 5
  | "truncated" // sends half a CONNECT reply, then closes
  | "hang" // reads the greeting and never answers
  | "hang-after-connect" // answers the greeting, never the CONNECT request
  | "extra-bytes" // sends bytes right after a successful CONNECT reply, before the server
  | "no-acceptable"; // answers every greeting with 0xFF

/** One CONNECT request as received. */
export interface Socks5Request {
  /** 1 (IPv4), 3 (domain name) or 4 (IPv6). */
  atyp: number;
  /** The address as text: dotted IPv4, the name, or 8 colon-separated hex groups. */
  host: string;
  port: number;
  /** The user name it logged in with, if any. */
  username?: string;
}

/** Options of {@linkcode startSocks5Server}. */
export interface Socks5ServerOptions {
  /** Require this username/password (method 2); without it only "no authentication" is accepted. */
  auth?: { username: string; password: string };
  /** Where to really connect for a request (default: its host and port). */
  resolve?: (request: Socks5Request) => { host: string; port: number };
  /** Answer every CONNECT with this REP code (1 to 255) instead of connecting. */
  reply?: number;
  misbehave?: Misbehaviour;
}

/** A running proxy. */
export interface Socks5Server {
  readonly port: number;
  /** Every CONNECT request, in arrival order. */
  readonly requests: Socks5Request[];
  /** Greetings received (connections that spoke at all). */
  readonly greetings: number;
  /** Logins refused. */
  readonly refusedLogins: number;
  /** Connections a "hang" proxy held that the client then closed. */
  readonly hangsClosed: number;
  close(): Promise<void>;
}

/** Exact-length reads over a chunked connection. */
class Reader {
  #conn: ServerConnection;
  #buffer = new Uint8Array(0);
  constructor(conn: ServerConnection) {
    this.#conn = conn;
  }
  async take(n: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < n) {
      const chunk = await this.#conn.read();
      if (chunk === null) return null;
      const joined = new Uint8Array(this.#buffer.length + chunk.length);
      joined.set(this.#buffer);
      joined.set(chunk, this.#buffer.length);
      this.#buffer = joined;
    }
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return out;
  }
  /** What was read past the last take. */
  rest(): Uint8Array {
    return this.#buffer;
  }
}

const decoder = new TextDecoder();

/** Starts a proxy on 127.0.0.1 at a free port. */
export async function startSocks5Server(options: Socks5ServerOptions = {}): Promise<Socks5Server> {
  const requests: Socks5Request[] = [];
  let greetings = 0;
  let refusedLogins = 0;
  let hangsClosed = 0;
  const outbound = new Set<NetSocket>();
  const serve = async (conn: ServerConnection) => {
    const reader = new Reader(conn);
    const greeting = await reader.take(2);
    if (greeting === null || greeting[0] !== 5) return conn.close();
    const methods = await reader.take(greeting[1]);
    if (methods === null) return conn.close();
    greetings++;
    // A hanging proxy still notices when the client gives up and closes.
    const hang = async () => {
      while ((await conn.read()) !== null) { /* discard */ }
      hangsClosed++;
    };
    if (options.misbehave === "hang") return hang();
    if (options.misbehave === "bad-version") return conn.write(new Uint8Array([4, 0]));
    const wanted = options.auth !== undefined ? 2 : 0;
    if (options.misbehave === "no-acceptable" || !methods.includes(wanted)) {
      await conn.write(new Uint8Array([5, 0xff]));
      return conn.close();
    }
    await conn.write(new Uint8Array([5, wanted]));
    let username: string | undefined;
    if (options.auth !== undefined) {
      const head = await reader.take(2);
      if (head === null || head[0] !== 1) return conn.close();
      const user = await reader.take(head[1]);
      const plen = await reader.take(1);
      const pass = plen === null ? null : await reader.take(plen[0]);
      if (user === null || pass === null) return conn.close();
      username = decoder.decode(user);
      const ok = username === options.auth.username && decoder.decode(pass) === options.auth.password;
      if (options.misbehave === "bad-auth-version") return conn.write(new Uint8Array([5, 0]));
      await conn.write(new Uint8Array([1, ok ? 0 : 1]));
      if (!ok) {
        refusedLogins++;
        return conn.close();
      }
    }
    const head = await reader.take(4);
    if (head === null || head[0] !== 5 || head[1] !== 1) return conn.close();
    let host: string;
    if (head[3] === 1) {
      const a = await reader.take(4);
      if (a === null) return conn.close();
      host = [...a].join(".");
    } else if (head[3] === 3) {
      const len = await reader.take(1);
      const name = len === null ? null : await reader.take(len[0]);
      if (name === null) return conn.close();
      host = decoder.decode(name);
    } else if (head[3] === 4) {
      const a = await reader.take(16);
      if (a === null) return conn.close();
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
      host = groups.join(":");
    } else {
      await conn.write(new Uint8Array([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
      return conn.close();
    }
    const portBytes = await reader.take(2);
    if (portBytes === null) return conn.close();
    const request: Socks5Request = { atyp: head[3], host, port: (portBytes[0] << 8) | portBytes[1], username };
    requests.push(request);
    if (options.misbehave === "hang-after-connect") return hang();
    if (options.misbehave === "truncated") {
      await conn.write(new Uint8Array([5, 0, 0, 1, 127]));
      return conn.close();
    }
    if (options.reply !== undefined) {
      await conn.write(new Uint8Array([5, options.reply, 0, 1, 0, 0, 0, 0, 0, 0]));
      return conn.close();
    }
    const to = options.resolve?.(request) ?? { host: request.host, port: request.port };
    const out = netConnect({ host: to.host, port: to.port });
    outbound.add(out);
    const opened = await new Promise<boolean>((resolve) => {
      out.once("connect", () => resolve(true));
      out.once("error", () => resolve(false));
    });
    if (!opened) {
      await conn.write(new Uint8Array([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
      outbound.delete(out);
      return conn.close();
    }
    // A domain-name bound address, as some proxies send, to exercise that branch of the client.
    const bound = new TextEncoder().encode("proxy.test");
    // With "extra-bytes" the junk goes in the same write, so the client reads it with the reply.
    const junk = options.misbehave === "extra-bytes" ? [0xde, 0xad] : [];
    await conn.write(new Uint8Array([5, 0, 0, 3, bound.length, ...bound, 0x04, 0x38, ...junk]));
    out.on("data", (chunk: Uint8Array) => {
      conn.write(new Uint8Array(chunk)).catch(() => out.destroy());
    });
    out.on("error", () => conn.close());
    out.on("close", () => {
      outbound.delete(out);
      conn.close();
    });
    const early = reader.rest();
    if (early.length > 0) out.write(early);
    for (;;) {
      const chunk = await conn.read();
      if (chunk === null) break;
      out.write(chunk);
    }
    out.destroy();
  };
  const server: TcpServer = await startTcpServer({ onConnection: serve });
  return {
    port: server.port,
    requests,
    get greetings() {
      return greetings;
    },
    get refusedLogins() {
      return refusedLogins;
    },
    get hangsClosed() {
      return hangsClosed;
    },
    close: async () => {
      for (const out of outbound) out.destroy();
      await server.close();
    },
  };
}
