// cold_start.ts child: the floor under any driver's import + connect + ping on
// this runtime. No driver at all: one connection (the runtime's own socket API:
// Deno.connect on Deno, node:net elsewhere) to the first host of BENCH_URI, a
// hand-encoded OP_MSG `hello`, then `ping`, then close, with one connect timer
// as every driver keeps (Deno's first setTimeout costs a few ms). A real
// driver does more (a monitor per member, a pooled connection), so this is a
// lower bound, not a peer.
const g = globalThis as {
  Deno?: {
    env: { get(k: string): string | undefined };
    connect(o: { hostname: string; port: number }): Promise<{
      write(b: Uint8Array): Promise<number>;
      read(b: Uint8Array): Promise<number | null>;
      close(): void;
    }>;
  };
  process?: { env: Record<string, string | undefined> };
};
const uri = g.Deno !== undefined ? g.Deno.env.get("BENCH_URI") : g.process?.env.BENCH_URI;
if (uri === undefined) throw new Error("BENCH_URI is not set");
const [host, port] = uri.replace("mongodb://", "").split(/[,/]/)[0].split(":");

// OP_MSG with one body section: { <name>: 1, $db: "admin" }.
function opMsg(name: string, requestId: number): Uint8Array {
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const i32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
  const body = [0x10, ...ascii(name), 0, ...i32(1), 0x02, ...ascii("$db"), 0, ...i32(6), ...ascii("admin"), 0, 0];
  const doc = [...i32(body.length + 4), ...body];
  const msg = [...i32(requestId), ...i32(0), ...i32(2013), ...i32(0), 0, ...doc];
  return new Uint8Array([...i32(msg.length + 4), ...msg]);
}

interface Wire {
  send(b: Uint8Array): Promise<void>;
  reply(): Promise<Uint8Array>;
  close(): void;
}

async function open(): Promise<Wire> {
  if (g.Deno !== undefined) {
    const conn = await g.Deno.connect({ hostname: host, port: Number(port) });
    return {
      send: async (b) => void (await conn.write(b)),
      reply: async () => {
        const buf = new Uint8Array(64 * 1024);
        let n = 0;
        while (n < 4 || n < new DataView(buf.buffer).getInt32(0, true)) {
          const r = await conn.read(buf.subarray(n));
          if (r === null) throw new Error("closed");
          n += r;
        }
        return buf.subarray(0, n);
      },
      close: () => conn.close(),
    };
  }
  const net = await import("node:net");
  const socket = net.connect(Number(port), host);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let pending: Uint8Array = new Uint8Array(0);
  let wake: (() => void) | undefined;
  socket.on("data", (d: Uint8Array) => {
    const next = new Uint8Array(pending.length + d.length);
    next.set(pending);
    next.set(d, pending.length);
    pending = next;
    wake?.();
  });
  return {
    send: (b) => new Promise((resolve) => socket.write(b, () => resolve())),
    reply: async () => {
      while (pending.length < 4 || pending.length < new DataView(pending.buffer).getInt32(0, true)) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const out = pending;
      pending = new Uint8Array(0);
      return out;
    },
    close: () => socket.destroy(),
  };
}

const timer = setTimeout(() => {
  throw new Error("connect timed out");
}, 10_000);
const wire = await open();
clearTimeout(timer);
await wire.send(opMsg("hello", 1));
await wire.reply();
await wire.send(opMsg("ping", 2));
const r = await wire.reply();
if (r.length < 30) throw new Error("short ping reply");
wire.close();
