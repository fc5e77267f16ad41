// Runs the Connection String and URI Options spec vectors against
// parseConnectionString, and the Authentication spec's connection-string
// vectors (auth/legacy) against parseConnectionString + parseCredential.
//
//   URI_SPEC_DIR   a folder holding connection-string/ and uri-options/
//                  (default: tests/spec); every *.json in them is run.
//   AUTH_SPEC_DIR  a folder of auth/legacy *.json files (default:
//                  tests/spec/auth/legacy); missing or empty fails the run.
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
import { lookupOption, resolveClientOptions } from "../../src/topology/options.ts";
import { type CredentialSources, parseCredential, resolveCredential } from "../../src/topology/credential.ts";
import { SPOKEN_AUTH_MECHANISMS } from "../../src/topology/option_table.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const specDir = resolve(process.env.URI_SPEC_DIR || join(here, "../spec"));
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

// ---------------------------------------------------------------------------
// auth/legacy: credentials in connection strings.
//
// The split: the *parsing* (parseConnectionString, then parseCredential with
// the Authentication spec's rules for every mechanism) must accept each valid
// vector with exactly its credential and reject each invalid one; the refusal
// of a mechanism this driver does not speak is the *client's*
// (resolveClientOptions' option table and resolveCredential), checked after.
// An invalid vector passes only when parsing rejects it, never because the
// client refuses the mechanism.

const authDir = resolve(process.env.AUTH_SPEC_DIR || join(here, "../spec/auth/legacy"));

// Vectors that contradict others of the same file: the shared copy holds both
// the older MONGODB-AWS rule (credentials in the URI allowed) and the newer one
// ("should throw an exception if username and password provided"); the parser
// follows the newer rule, so the older vectors cannot pass and are not counted.
const AWS_OLD_RULE = "contradicts 'should throw an exception if username and password provided (MONGODB-AWS)' " +
  "in the same file: the specification since removed AWS credentials from the connection string";
const CONTRADICTED: ReadonlyMap<string, string> = new Map([
  ["should use username and password if specified (MONGODB-AWS)", AWS_OLD_RULE],
  ["should use username, password and session token if specified (MONGODB-AWS)", AWS_OLD_RULE],
]);

/** Why a vector cannot be checked here, or `null`. */
function authSkipReason(t: Json): string | null {
  const contradicted = CONTRADICTED.get(String(t.description));
  if (contradicted !== undefined) return contradicted;
  if (t.callback !== undefined) {
    return "needs an OIDC callback given in code; this driver has no OIDC API to take one";
  }
  return null;
}

function runAuthCase(t: Json): void {
  let sources: CredentialSources | null = null;
  let hostCount = 1;
  let options: Record<string, unknown> = {};
  let parsed: ReturnType<typeof parseCredential> = undefined;
  let thrown: unknown = null;
  try {
    const cs = parseConnectionString(t.uri, { onWarning: () => {} });
    hostCount = cs.hosts.length;
    options = cs.options as Record<string, unknown>;
    sources = {
      uri: cs.auth,
      authMechanism: cs.options.authMechanism,
      authSource: cs.options.authSource,
      authMechanismProperties: cs.options.authMechanismProperties,
    };
    parsed = parseCredential(sources);
  } catch (e) {
    thrown = e;
  }
  if (t.valid === false) {
    assert.ok(thrown !== null, `expected parsing to fail, got the credential ${JSON.stringify(parsed)}`);
    assert.ok(thrown instanceof ConfigurationError, `expected a ConfigurationError, got ${String(thrown)}`);
    return;
  }
  if (thrown !== null) {
    throw new assert.AssertionError({ message: `expected a valid URI, got ${String(thrown)}` });
  }
  const expected = t.credential;
  if (expected === null) {
    assert.equal(parsed, undefined, "no credential");
    assert.equal(resolveCredential(sources!), undefined, "the client authenticates with nothing");
    return;
  }
  assert.ok(parsed !== undefined, "a credential");
  assert.equal(parsed.username, expected.username, "username");
  assert.equal(parsed.password, expected.password, "password");
  assert.equal(parsed.source, expected.source, "source");
  assert.equal(parsed.mechanism, expected.mechanism, "mechanism");
  assert.deepEqual(parsed.mechanismProperties, expected.mechanism_properties, "mechanism_properties");

  // The client's side: SCRAM (or negotiated) works; any other mechanism is
  // refused at construction, naming the mechanism.
  if (expected.mechanism === null || SPOKEN_AUTH_MECHANISMS.includes(expected.mechanism)) {
    resolveClientOptions(options, {}, { hostCount });
    const credential = resolveCredential(sources!);
    assert.deepEqual(
      credential,
      {
        username: expected.username,
        password: expected.password,
        source: expected.source,
        ...(expected.mechanism === null ? {} : { mechanism: expected.mechanism }),
      },
      "the client's credential",
    );
  } else {
    const refused = (e: unknown) =>
      e instanceof ConfigurationError && e.message.includes(expected.mechanism) && /is not supported/.test(e.message);
    assert.throws(() => resolveClientOptions(options, {}, { hostCount }), refused, "the client refuses the mechanism");
    assert.throws(() => resolveCredential(sources!), refused, "resolveCredential refuses the mechanism");
  }
}

{
  interface AuthOutcome {
    name: string;
    error: Error | null;
    skip: string | null;
  }
  const found = existsSync(authDir);
  const files = found ? readdirSync(authDir).filter((f) => f.endsWith(".json")).sort() : [];
  const results: Array<{ file: string; outcomes: AuthOutcome[] }> = [];
  const count = { tests: 0, passed: 0, failed: 0, skipped: 0 };
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(authDir, file), "utf8"));
    const outcomes: AuthOutcome[] = [];
    for (const t of doc.tests as Json[]) {
      count.tests++;
      const skip = authSkipReason(t);
      let error: Error | null = null;
      if (skip !== null) {
        count.skipped++;
      } else {
        try {
          runAuthCase(t);
          count.passed++;
        } catch (e) {
          error = e instanceof Error ? e : new Error(String(e));
          count.failed++;
        }
      }
      outcomes.push({ name: String(t.description), error, skip });
    }
    results.push({ file, outcomes });
  }
  const summary = `auth-legacy: files ${files.length}, tests ${count.tests}, passed ${count.passed}, ` +
    `failed ${count.failed}, skipped ${count.skipped}`;
  console.log(summary);

  describe(`auth/legacy spec vectors (${authDir})`, () => {
    test(summary, () => {
      assert.ok(found, `AUTH_SPEC_DIR: folder ${authDir} not found`);
      assert.ok(files.length > 0, `no *.json in ${authDir}`);
      assert.ok(count.tests > 0, `no vectors in ${authDir}`);
      assert.equal(count.passed + count.failed + count.skipped, count.tests);
      assert.equal(count.failed, 0, "every vector that can be checked passes");
    });
    for (const { file, outcomes } of results) {
      describe(`auth/legacy/${file}`, () => {
        outcomes.forEach((o, i) => {
          const name = `auth/legacy/${file} #${i + 1}: ${o.name}`;
          if (o.skip !== null) {
            test(name, { skip: o.skip }, () => {});
            return;
          }
          test(name, () => {
            if (o.error) throw o.error;
          });
        });
      });
    }
  });
}
