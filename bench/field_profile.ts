/**
 * Where does the time go? For one benchmark set, times each top-level field on its own
 * (a document holding that field 20 times, minus the cost of an empty document) through
 * this codec and js-bson, and lists the fields where we lose the most nanoseconds per
 * occurrence. Use it when bson_bench.ts reports a missed target.
 *
 *   deno run -A bench/field_profile.ts [set] [encode|decode]     (default: full_ext decode)
 *   bun bench/field_profile.ts [set] [encode|decode]
 *
 * @module
 */
import * as Ours from "../src/bson/mod.ts";
import { BSON } from "bson";
import { args, median, readBytes } from "./_common.ts";

const argv = args();
const set = argv.find((a) => !a.startsWith("-") && a !== "encode" && a !== "decode") ?? "full_ext";
const op = argv.includes("encode") ? "encode" : "decode";
const COPIES = 20;

function time(f: () => unknown, n: number): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return performance.now() - t;
}

/** Median nanoseconds per call over 7 timed rounds after 3 discarded ones. */
function nsPerCall(f: () => unknown, n: number): number {
  for (let w = 0; w < 3; w++) time(f, n);
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) rounds.push(time(f, n));
  return (median(rounds) / n) * 1e6;
}

const text = new TextDecoder().decode(await readBytes(`./data/${set}.json`));
const ourDoc = Ours.EJSON.parse(text, { relaxed: false }) as Record<string, unknown>;
const theirDoc = BSON.EJSON.parse(text, { relaxed: false }) as Record<string, unknown>;

function runner(ours: Record<string, unknown>, theirs: Record<string, unknown>): { o: () => unknown; t: () => unknown; size: number } {
  const bytes = Ours.encode(ours).slice();
  return op === "encode"
    ? { o: () => Ours.encode(ours), t: () => BSON.serialize(theirs), size: bytes.length }
    : { o: () => Ours.decode(bytes), t: () => BSON.deserialize(bytes), size: bytes.length };
}

const empty = runner({}, {});
const baseOurs = nsPerCall(empty.o, 20_000);
const baseTheirs = nsPerCall(empty.t, 20_000);

const rows: { key: string; type: string; ours: number; theirs: number }[] = [];
for (const key of Object.keys(ourDoc)) {
  const o: Record<string, unknown> = {}, t: Record<string, unknown> = {};
  for (let i = 0; i < COPIES; i++) {
    o[`${key}${i}`] = ourDoc[key];
    t[`${key}${i}`] = theirDoc[key];
  }
  const r = runner(o, t);
  const n = Math.max(200, Math.round(2e6 / r.size));
  const v = ourDoc[key];
  rows.push({
    key,
    type: v === null ? "null" : typeof v === "object" ? v.constructor?.name ?? "object" : typeof v,
    ours: (nsPerCall(r.o, n) - baseOurs) / COPIES,
    theirs: (nsPerCall(r.t, n) - baseTheirs) / COPIES,
  });
}
rows.sort((a, b) => (b.ours - b.theirs) - (a.ours - a.theirs));
console.log(`# ${set} ${op}: ns per field occurrence, worst first`);
console.log(`| field | JS type | ours ns | js-bson ns | ours - js-bson |`);
console.log(`|---|---|---:|---:|---:|`);
for (const r of rows.slice(0, 20)) {
  console.log(`| ${r.key} | ${r.type} | ${r.ours.toFixed(0)} | ${r.theirs.toFixed(0)} | ${(r.ours - r.theirs).toFixed(0)} |`);
}
const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0);
console.log(`\nall ${rows.length} fields: ours ${sum((r) => r.ours).toFixed(0)} ns, js-bson ${sum((r) => r.theirs).toFixed(0)} ns per document`);
