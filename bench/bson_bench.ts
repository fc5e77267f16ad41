/**
 * BSON encode/decode throughput: this codec against js-bson (`npm:bson`), side by side
 * in one process, on the four documents in `bench/data/`.
 *
 *   deno run -A bench/bson_bench.ts [--quick]
 *   bun bench/bson_bench.ts [--quick]
 *
 * Before timing anything it proves both codecs agree with the reference bytes; a broken
 * check or a peer that cannot be loaded exits non-zero. A missed target does not: the
 * table says so and the exit code stays 0.
 *
 * @module
 */
import { args, fail, median, packageVersion, readBytes, runtimeLabel } from "./_common.ts";

/** The four sets of `bench/data/`, in the order the table lists them. */
const SETS = ["flat", "deep", "full", "full_ext"] as const;

/** Ratio ours/js-bson each op must reach (issue 2, "The hot encode path"). */
const TARGETS = { encode: 1.5, decode: 1.0 } as const;

type Op = keyof typeof TARGETS;

type Doc = Record<string, unknown>;

interface Codec {
  name: string;
  encode(doc: Doc): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

interface Plan {
  /** Rounds whose timings are thrown away while the JIT settles. */
  warmupRounds: number;
  /** Rounds that are kept; the reported figure is their median. */
  rounds: number;
  /** Wall-clock length of one timed sample, used only to pick an iteration count. */
  sampleMs: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const hex = (u: Uint8Array) => Array.from(u.subarray(Math.max(0, i - 8), i + 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return `lengths ${a.length} vs ${b.length}; first difference at byte ${i}\n    got: ${hex(a)}\n   want: ${hex(b)}`;
}

// Results flow into this so no engine can prove the work dead and drop it.
let sink = 0;

function timeEncode(codec: Codec, doc: Doc, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += codec.encode(doc).length;
  return performance.now() - t0;
}

function timeDecode(codec: Codec, bytes: Uint8Array, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += codec.decode(bytes) === null ? 1 : 0;
  return performance.now() - t0;
}

function timeOnce(codec: Codec, op: Op, doc: Doc, bytes: Uint8Array, iterations: number): number {
  return op === "encode" ? timeEncode(codec, doc, iterations) : timeDecode(codec, bytes, iterations);
}

/** Picks an iteration count so that one sample of this codec takes about `sampleMs`. */
function calibrate(codec: Codec, op: Op, doc: Doc, bytes: Uint8Array, sampleMs: number): number {
  let n = 16;
  for (;;) {
    const ms = timeOnce(codec, op, doc, bytes, n);
    if (ms >= sampleMs / 4 || n >= 1 << 24) {
      return Math.max(1, Math.round(n * sampleMs / Math.max(ms, 0.001)));
    }
    n *= 4;
  }
}

/**
 * Alternates the two codecs round by round (swapping who goes first each round, so
 * neither always runs on a heap the other just dirtied) and returns each one's median MB/s.
 */
function measure(
  ours: Codec,
  theirs: Codec,
  op: Op,
  input: { ourDoc: Doc; theirDoc: Doc; bytes: Uint8Array },
  plan: Plan,
): { ours: number; theirs: number } {
  const { ourDoc, theirDoc, bytes } = input;
  const nOurs = calibrate(ours, op, ourDoc, bytes, plan.sampleMs);
  const nTheirs = calibrate(theirs, op, theirDoc, bytes, plan.sampleMs);
  const mbOurs = bytes.length * nOurs / 1e6;
  const mbTheirs = bytes.length * nTheirs / 1e6;
  const rOurs: number[] = [];
  const rTheirs: number[] = [];
  for (let round = 0; round < plan.warmupRounds + plan.rounds; round++) {
    let a: number, b: number;
    if (round % 2 === 0) {
      a = timeOnce(ours, op, ourDoc, bytes, nOurs);
      b = timeOnce(theirs, op, theirDoc, bytes, nTheirs);
    } else {
      b = timeOnce(theirs, op, theirDoc, bytes, nTheirs);
      a = timeOnce(ours, op, ourDoc, bytes, nOurs);
    }
    if (round < plan.warmupRounds) continue;
    rOurs.push(mbOurs / (a / 1000));
    rTheirs.push(mbTheirs / (b / 1000));
  }
  return { ours: median(rOurs), theirs: median(rTheirs) };
}

async function loadPeers(): Promise<{
  ours: Codec;
  theirs: Codec;
  ourParse: (text: string) => Doc;
  theirParse: (text: string) => Doc;
  oursRaw: (bytes: Uint8Array) => unknown;
  theirsRaw: (bytes: Uint8Array) => unknown;
}> {
  let mine: typeof import("../src/bson/mod.ts");
  try {
    mine = await import("../src/bson/mod.ts");
  } catch (e) {
    fail("cannot import this codec from src/bson/mod.ts", e);
  }
  let jsb: typeof import("bson");
  try {
    jsb = await import("bson");
  } catch (e) {
    fail("cannot import the js-bson peer (`bson` in node_modules): run `npm ci`", e);
  }
  for (const name of ["encode", "decode", "EJSON"] as const) {
    if (mine[name] === undefined) fail(`src/bson/mod.ts does not export ${name}`);
  }
  const { encode, decode, EJSON } = mine;
  const { BSON } = jsb;
  return {
    ours: { name: "ours", encode: (d) => encode(d), decode: (b) => decode(b) },
    // ignoreUndefined matches our mapping (undefined is skipped); the bench sets contain none.
    theirs: { name: "js-bson", encode: (d) => BSON.serialize(d, { ignoreUndefined: true }), decode: (b) => BSON.deserialize(b) },
    ourParse: (text) => EJSON.parse(text, { relaxed: false }) as Doc,
    theirParse: (text) => BSON.EJSON.parse(text, { relaxed: false }) as Doc,
    // Wrapper-preserving decodes: the only form that must re-encode to the same bytes
    // (default decodes promote int64/double to JS numbers, which re-encode differently).
    oursRaw: (b) => decode(b, { promoteValues: false }),
    theirsRaw: (b) => BSON.deserialize(b, { promoteValues: false }),
  };
}

async function main(): Promise<void> {
  const isQuick = args().includes("--quick");
  const plan: Plan = isQuick ? { warmupRounds: 2, rounds: 5, sampleMs: 20 } : { warmupRounds: 3, rounds: 25, sampleMs: 70 };
  console.log(`# BSON benchmark: ours vs js-bson`);
  console.log(`runtime: ${runtimeLabel({ engine: true })}${isQuick ? " (--quick)" : ""}`);

  const peers = await loadPeers();
  const { ours, theirs } = peers;
  const jsbVersion = await packageVersion("bson");
  console.log(`peer: js-bson ${jsbVersion}; ${plan.warmupRounds} warm-up + ${plan.rounds} measured rounds per cell, median reported`);
  console.log(`MB = reference .bson bytes x iterations / 1e6\n`);

  const inputs = [];
  for (const set of SETS) {
    const bytes = await readBytes(`./data/${set}.bson`);
    const text = new TextDecoder().decode(await readBytes(`./data/${set}.json`));
    let ourDoc: Doc, theirDoc: Doc;
    try {
      ourDoc = peers.ourParse(text);
    } catch (e) {
      fail(`${set}: our EJSON.parse rejected ${set}.json`, e);
    }
    try {
      theirDoc = peers.theirParse(text);
    } catch (e) {
      fail(`${set}: js-bson EJSON.parse rejected ${set}.json`, e);
    }
    inputs.push({ set, bytes, ourDoc, theirDoc });
  }

  // Correctness first: a fast codec that writes the wrong bytes is not a result.
  for (const { set, bytes, ourDoc, theirDoc } of inputs) {
    const check = (what: string, got: () => Uint8Array) => {
      let out: Uint8Array;
      try {
        // Copy: an encoder that reuses its buffer may hand back a view that the next call overwrites.
        out = got().slice();
      } catch (e) {
        fail(`${set}: ${what} threw`, e);
      }
      if (!sameBytes(out, bytes)) fail(`${set}: ${what} does not match ${set}.bson: ${firstDiff(out, bytes)}`);
    };
    check("our encode(EJSON.parse(json))", () => ours.encode(ourDoc));
    check("js-bson serialize(EJSON.parse(json))", () => theirs.encode(theirDoc));
    check("our encode(decode(bytes, {promoteValues:false}))", () => ours.encode(peers.oursRaw(bytes) as Doc));
    check("js-bson serialize(deserialize(bytes, {promoteValues:false}))", () => theirs.encode(peers.theirsRaw(bytes) as Doc));
    // The timed decodes use default options; they must at least succeed and see the same fields.
    let a: unknown, b: unknown;
    try {
      a = ours.decode(bytes);
    } catch (e) {
      fail(`${set}: our decode(bytes) with default options threw`, e);
    }
    try {
      b = theirs.decode(bytes);
    } catch (e) {
      fail(`${set}: js-bson deserialize(bytes) threw`, e);
    }
    const ka = Object.keys(a as Doc).join(","), kb = Object.keys(b as Doc).join(",");
    if (ka !== kb) fail(`${set}: default decodes disagree on the top-level keys:\n  ours:    ${ka}\n  js-bson: ${kb}`);
  }
  console.log(`checks: all 4 sets encode to the reference bytes and round-trip through both decoders\n`);

  const rows: string[] = [];
  let missed = 0;
  for (const { set, bytes, ourDoc, theirDoc } of inputs) {
    for (const op of ["encode", "decode"] as const) {
      const r = measure(ours, theirs, op, { ourDoc, theirDoc, bytes }, plan);
      const ratio = r.ours / r.theirs;
      const met = ratio >= TARGETS[op];
      if (!met) missed++;
      rows.push(`| ${set} | ${op} | ${r.ours.toFixed(1)} | ${r.theirs.toFixed(1)} | ${ratio.toFixed(2)} | >= ${TARGETS[op].toFixed(1)} | ${met ? "yes" : "**NO**"} |`);
    }
  }
  console.log(`| set | op | ours MB/s | js-bson MB/s | ratio ours/js-bson | target | met? |`);
  console.log(`|---|---|---:|---:|---:|---:|---|`);
  for (const r of rows) console.log(r);
  console.log(`\n${missed === 0 ? "all targets met" : `${missed} of ${rows.length} targets missed`} (${runtimeLabel({ engine: true })})`);
  if (sink === -1) console.log(sink); // keeps `sink` observable
}

await main();
