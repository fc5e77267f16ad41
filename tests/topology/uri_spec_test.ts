// Runs the Connection String and URI Options spec vectors against
// parseConnectionString.
//
//   URI_SPEC_DIR  a folder holding connection-string/ and uri-options/
//                 (default: tests/spec); every *.json in them is run.
//
// Each case is parsed once while this module loads (parsing is pure and
// synchronous); each case is then one test that asserts its recorded outcome.
// A missing folder, or one without a vector, fails the run: each folder's last
// test prints its summary line ("<folder>: files N, cases run N, cases passed
// N") and asserts it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

import { ConfigurationError } from "../../src/errors.ts";
import { type ConnectionString, parseConnectionString } from "../../src/topology/connection_string.ts";
import { lookupOption } from "../../src/topology/options.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const specDir = resolve(process.env.URI_SPEC_DIR ?? join(here, "../spec"));
const FOLDERS = ["connection-string", "uri-options"] as const;

// deno-lint-ignore no-explicit-any
type Json = any;

interface Outcome {
  name: string;
  error: Error | null;
}

/** Compares one expected option value with the parsed one, allowing the vectors' older spellings. */
function checkOption(key: string, expected: Json, actual: unknown): void {
  const where = `option ${key}`;
  if (Array.isArray(expected) || (expected !== null && typeof expected === "object")) {
    // Tag sets and mechanism properties: documents compared by string value
    // (older vectors wrote rack: 1 for the tag "1").
    const norm = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(norm)
        : v !== null && typeof v === "object"
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, norm(x)]))
        : String(v);
    assert.deepEqual(norm(actual), norm(expected), where);
    return;
  }
  if (typeof expected === "string" && Array.isArray(actual)) {
    // Older vectors give a list option (compressors) as its URI text.
    assert.deepEqual(actual, expected.split(","), where);
    return;
  }
  if (typeof expected !== typeof actual) {
    // Older vectors give some integers as strings ("50000").
    assert.equal(String(actual), String(expected), where);
    return;
  }
  assert.equal(actual, expected, where);
}

function runCase(t: Json): void {
  const warnings: string[] = [];
  let parsed: ConnectionString | null = null;
  let thrown: unknown = null;
  try {
    parsed = parseConnectionString(t.uri, { onWarning: (m) => warnings.push(m) });
  } catch (e) {
    thrown = e;
  }

  if (t.valid === false) {
    assert.ok(
      thrown !== null,
      `expected an error, parsed ${JSON.stringify(parsed)} (warnings: ${warnings.join(" | ")})`,
    );
    assert.ok(thrown instanceof ConfigurationError, `expected a ConfigurationError, got ${String(thrown)}`);
    return;
  }
  if (thrown !== null) {
    throw new assert.AssertionError({ message: `expected a valid URI, got ${String(thrown)}` });
  }
  const cs = parsed!;
  assert.deepEqual(cs.warnings, warnings, "warnings listed in the result are the ones reported");
  if (t.warning === true) assert.ok(warnings.length > 0, "expected a warning, got none");
  if (t.warning === false) assert.deepEqual(warnings, [], "expected no warning");

  if (t.hosts != null) {
    assert.equal(cs.hosts.length, t.hosts.length, "number of hosts");
    t.hosts.forEach((h: Json, i: number) => {
      const got = cs.hosts[i];
      if (h.type != null) assert.equal(got.type, h.type, `type of host ${i}`);
      if (h.host != null) assert.equal(got.host, h.host, `host ${i}`);
      // The runner compares ports only where the vector gives one (null = "not given").
      assert.equal(got.port, h.port ?? null, `port of host ${i}`);
    });
  }

  if (t.auth != null) {
    assert.equal(cs.auth?.username ?? null, t.auth.username ?? null, "username");
    assert.equal(cs.auth?.password ?? null, t.auth.password ?? null, "password");
    assert.equal(cs.database, t.auth.db ?? null, "auth database");
  }

  if (t.options != null) {
    for (const [key, expected] of Object.entries(t.options as Record<string, Json>)) {
      const spec = lookupOption(key);
      assert.ok(spec, `option ${key} is known to the parser`);
      const actual = (cs.options as Record<string, unknown>)[spec.name];
      assert.ok(actual !== undefined, `option ${key} was parsed`);
      checkOption(key, expected, actual);
    }
  }
}

for (const folder of FOLDERS) {
  const dir = join(specDir, folder);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
  const results: Array<{ file: string; outcomes: Outcome[] }> = [];
  let run = 0;
  let passed = 0;
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
    const outcomes: Outcome[] = [];
    for (const t of doc.tests as Json[]) {
      run++;
      let error: Error | null = null;
      try {
        runCase(t);
        passed++;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
      outcomes.push({ name: String(t.description), error });
    }
    results.push({ file, outcomes });
  }
  describe(`${folder} spec vectors (${dir})`, () => {
    for (const { file, outcomes } of results) {
      describe(`${folder}/${file}`, () => {
        outcomes.forEach((o, i) => {
          test(`${folder}/${file} #${i + 1}: ${o.name}`, () => {
            if (o.error) throw o.error;
          });
        });
      });
    }
    test(`${folder}: summary`, () => {
      console.log(`${folder}: files ${files.length}, cases run ${run}, cases passed ${passed}`);
      assert.ok(existsSync(dir), `${dir} does not exist (check URI_SPEC_DIR)`);
      assert.ok(files.length > 0, `no *.json in ${dir} (check URI_SPEC_DIR)`);
      assert.ok(run > 0, `no ${folder} case ran`);
      assert.equal(passed, run, `${run - passed} ${folder} case(s) failed`);
    });
  });
}
