// What monitoring costs on the command path: `ping` round trips per second
// through three pools on the SAME in-process loopback server (the tests'
// fake mongod): one without a monitoring sink, one with the client's sink
// and no listener (what every client's pools have), one with a
// `commandSucceeded` listener (every round trip builds and dispatches a
// CommandSucceededEvent). Interleaved rounds; the first is a warm-up; the
// median of the others is printed.
//
//   deno run -A bench/events_bench.ts
//   bun bench/events_bench.ts
import { ConnectionPool } from "../src/net/mod.ts";
import { startFakeMongod } from "../tests/helpers/fake_mongod.ts";
import { POOL_DEFAULTS } from "../tests/helpers/net_defaults.ts";
import { ListenerCounts } from "../src/client/monitoring.ts";
import { median, runtimeLabel } from "./_common.ts";
const server = await startFakeMongod({
  maxWireVersion: 17,
  record: false,
  hello: { logicalSessionTimeoutMinutes: undefined },
});
const addr = { host: server.host, port: server.port };
const none = new ConnectionPool(addr, { ...POOL_DEFAULTS, maxPoolSize: 10 });
const t1 = new EventTarget();
const idle = new ConnectionPool(addr, { ...POOL_DEFAULTS, maxPoolSize: 10, events: new ListenerCounts(t1) });
const t2 = new EventTarget();
const c2 = new ListenerCounts(t2);
let n = 0;
const l = () => void n++;
t2.addEventListener("commandSucceeded", l);
c2.add("commandSucceeded", l, undefined);
const listening = new ConnectionPool(addr, { ...POOL_DEFAULTS, maxPoolSize: 10, events: c2 });
const pools = { "no sink": none, "sink, no listener": idle, "commandSucceeded listener": listening };
const rates: Record<string, number[]> = {};
const N = 4000;
for (let r = 0; r < 9; r++) {
  for (const [name, pool] of Object.entries(pools)) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await pool.withConnection((c) => c.command("admin", { ping: 1 }));
    (rates[name] ??= []).push(N / ((performance.now() - t0) / 1000));
  }
}
console.log(`events_bench on ${runtimeLabel()}:`);
for (const [name, r] of Object.entries(rates)) {
  console.log(`${name}: ${median(r.slice(1)).toFixed(0)} ping/s (median of 8 rounds)`);
}
console.log(`events delivered: ${n}`);
await Promise.all(Object.values(pools).map((p) => p.close()));
await server.close();
