// SASLprep (src/net/_saslprep.ts) against PyMongo's (stringprep tables of
// RFC 3454), over 5000 seeded random strings drawn from the blocks where the
// profile acts: spaces and characters mapped to nothing, compatibility forms
// that NFKC changes, combining marks, right-to-left letters and digits, and
// prohibited characters. Without python3-pymongo it skips with a printed reason
// (a failure under CI=true: tests/helpers/peers.ts).
//
// Two known, deliberate differences are kept out of the comparison:
// - characters added to Unicode after 3.2 (here U+2090-U+209F): RFC 4013 pins
//   Unicode 3.2, PyMongo's NFKC follows it, the runtime's NFKC is newer;
// - PyMongo 3.11 crashes (IndexError) on a string mapped to nothing at all;
//   this implementation returns "" there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { saslprep } from "../../src/net/_saslprep.ts";
import { PYTHON, pythonMissing, skipForMissingPeer } from "../helpers/peers.ts";

const ORACLE = new URL("../helpers/saslprep_oracle.py", import.meta.url).pathname;

function pool(): number[] {
  const out: number[] = [];
  const ranges = [
    [0x20, 0x7e],
    [0x01, 0x1f],
    [0x7f, 0x9f],
    [0xa0, 0xff],
    [0xad, 0xad],
    [0x300, 0x36f],
    [0x34f, 0x34f],
    [0x391, 0x3c9],
    [0x410, 0x44f],
    [0x5be, 0x5c3],
    [0x5d0, 0x5ea],
    [0x61b, 0x64a],
    [0x660, 0x669],
    [0x6dd, 0x6dd],
    [0x6f0, 0x6f9],
    [0x70f, 0x710],
    [0x1680, 0x1680],
    [0x1806, 0x1806],
    [0x180b, 0x180e],
    [0x2000, 0x200f],
    [0x2028, 0x202f],
    [0x205f, 0x206f],
    [0x2070, 0x208f],
    [0x2160, 0x2188],
    [0x2ff0, 0x2ffb],
    [0x3000, 0x3000],
    [0x4e00, 0x4e10],
    [0xac00, 0xac10],
    [0xe000, 0xe005],
    [0xfb00, 0xfb06],
    [0xfb1d, 0xfb4f],
    [0xfdd0, 0xfdd2],
    [0xfe00, 0xfe0f],
    [0xfe70, 0xfe80],
    [0xfeff, 0xfeff],
    [0xff01, 0xff5e],
    [0xfff9, 0xfffd],
    [0x1d173, 0x1d17a],
    [0x1d400, 0x1d410],
    [0x1f600, 0x1f605],
    [0xe0001, 0xe0001],
    [0xe0020, 0xe0022],
    [0xf0000, 0xf0001],
  ];
  for (const [lo, hi] of ranges) for (let c = lo; c <= hi; c++) out.push(c);
  return out;
}

test("SASLprep agrees with PyMongo's on 5000 random strings", (t) => {
  const missing = pythonMissing(["pymongo"]);
  if (missing !== undefined) {
    skipForMissingPeer(t, "SASLprep oracle (PyMongo)", missing);
    return;
  }
  const chars = pool();
  let seed = 20261125;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const inputs: string[] = [];
  for (let i = 0; i < 5000; i++) {
    let s = "";
    for (let n = 1 + Math.floor(next() * 6); n > 0; n--) {
      s += String.fromCodePoint(chars[Math.floor(next() * chars.length)]);
    }
    inputs.push(s);
  }
  const run = spawnSync(PYTHON, [ORACLE], {
    input: inputs.map((s) => JSON.stringify(s)).join("\n") + "\n",
    maxBuffer: 1 << 26,
  });
  const lines = String(run.stdout).trim().split("\n").map((l) => JSON.parse(l));
  if (lines[0]?.skip !== undefined) {
    skipForMissingPeer(t, "SASLprep oracle (PyMongo)", String(lines[0].skip));
    return;
  }
  assert.equal(lines.length, inputs.length, `the oracle answered every line\n${String(run.stderr)}`);
  let prepared = 0;
  let rejected = 0;
  const differ: string[] = [];
  inputs.forEach((s, i) => {
    let ours: string | null;
    try {
      ours = saslprep(s, "password");
    } catch {
      ours = null;
    }
    const theirs = lines[i].crash !== undefined ? "" : (lines[i].ok ?? null);
    if (ours === null) rejected++;
    else prepared++;
    if (ours !== theirs) {
      const cps = [...s].map((c) => c.codePointAt(0)!.toString(16)).join(" ");
      differ.push(`[${cps}] ours ${JSON.stringify(ours)}, PyMongo ${JSON.stringify(lines[i])}`);
    }
  });
  console.log(
    `saslprep oracle: ${inputs.length} strings, ${prepared} prepared, ${rejected} rejected, ${differ.length} differ`,
  );
  assert.ok(prepared > 500 && rejected > 500, "both outcomes are exercised");
  assert.deepEqual(differ, []);
});
