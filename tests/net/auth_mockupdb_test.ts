// SCRAM against an independent server: tests/helpers/mockupdb_scram.py, a
// MockupDB server whose SCRAM side is written with Python's hashlib/hmac and
// PyMongo's SASLprep, and which PyMongo itself authenticates against
// (tests/helpers/mockupdb_scram_check.py). Over OP_MSG (wire 17) and OP_QUERY
// (wire 5), at the connection and at the client level. A missing python3,
// mockupdb or pymongo skips with a printed reason (a failure under CI=true:
// tests/helpers/peers.ts).
import { describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";

import { AuthenticationError, AutoReconnect } from "../../src/errors.ts";
import { type Credential } from "../../src/net/auth.ts";
import { Connection } from "../../src/net/connection.ts";
import { Connection as Client } from "../../src/client/mod.ts";
import { type Child, spawnChild } from "../helpers/spawn.ts";
import { PYTHON, pythonMissing, skipForMissingPeer } from "../helpers/peers.ts";
import { CONNECTION_DEFAULTS } from "../helpers/net_defaults.ts";

const SCRIPT = new URL("../helpers/mockupdb_scram.py", import.meta.url).pathname;

interface Request {
  opcode: string;
  command: string | null;
  db: string;
  doc: Record<string, unknown>;
}

interface Config {
  maxWireVersion?: number;
  speculative?: boolean;
  users?: { db?: string; user: string; password: string; mechanisms?: string[] }[];
  corrupt?: "signature" | "nonce" | "iterations" | null;
}

const USERS = [
  { db: "admin", user: "ada", password: "pencil" },
  { db: "admin", user: "old", password: "pencil", mechanisms: ["SCRAM-SHA-1"] },
  { db: "app", user: "a=b,c", password: "été" },
  { db: "admin", user: "roman", password: "I\u00ADX", mechanisms: ["SCRAM-SHA-256"] },
];

async function startServer(t: TestContext, config: Config): Promise<{ child: Child; port: number } | null> {
  const missing = pythonMissing(["mockupdb", "pymongo"]);
  if (missing !== undefined) {
    skipForMissingPeer(t, "SCRAM interop", missing);
    return null;
  }
  const child = spawnChild([PYTHON, SCRIPT, JSON.stringify({ users: USERS, ...config })]);
  try {
    const first = JSON.parse(await child.waitForLine((l) => l.startsWith("{"), 1500));
    if (first.skip !== undefined) {
      child.kill();
      skipForMissingPeer(t, "SCRAM interop", String(first.skip));
      return null;
    }
    return { child, port: Number(first.port) };
  } catch (error) {
    child.kill();
    throw new Error(`mockupdb_scram.py did not start: ${String(error)}\n${child.stderr()}`);
  }
}

async function stop(child: Child): Promise<void> {
  await child.closeStdin();
  await Promise.race([child.exited, new Promise((r) => setTimeout(r, 3000))]);
  child.kill();
}

function requests(child: Child): Request[] {
  return child.lines.map((l) => JSON.parse(l)).filter((o) => o.request !== undefined).map((o) => o.request);
}

/** The requests named `command`, once MockupDB has printed at least `n` of them (bounded wait). */
async function seen(child: Child, command: string, n = 1): Promise<Request[]> {
  for (let i = 0; i < 300; i++) {
    const got = requests(child).filter((r) => r.command === command);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`MockupDB never printed ${n} ${command} request(s)`);
}

function payload(r: Request): string {
  const p = r.doc.payload as { $binary: { base64: string } };
  return atob(p.$binary.base64);
}

for (const wire of [17, 5]) {
  describe(`SCRAM with MockupDB, maxWireVersion ${wire} (${wire >= 6 ? "OP_MSG" : "OP_QUERY"})`, () => {
    const connect = (port: number, credential: Credential) =>
      Connection.connect({ host: "127.0.0.1", port }, { ...CONNECTION_DEFAULTS, credential, connectTimeoutMS: 5000 });

    test("each mechanism, named or negotiated, authenticates; the server then answers commands", async (t) => {
      const s = await startServer(t, { maxWireVersion: wire });
      if (s === null) return;
      try {
        const cases: [Credential, string][] = [
          [{ username: "ada", password: "pencil", source: "admin", mechanism: "SCRAM-SHA-1" }, "SCRAM-SHA-1"],
          [{ username: "ada", password: "pencil", source: "admin", mechanism: "SCRAM-SHA-256" }, "SCRAM-SHA-256"],
          [{ username: "ada", password: "pencil", source: "admin" }, "SCRAM-SHA-256"],
          [{ username: "old", password: "pencil", source: "admin" }, "SCRAM-SHA-1"],
          [{ username: "a=b,c", password: "été", source: "app" }, "SCRAM-SHA-256"],
          // SASLprep: the stored password is "I\u00ADX"; "\u2168" (Roman numeral nine) prepares to the same "IX".
          [{ username: "roman", password: "\u2168", source: "admin" }, "SCRAM-SHA-256"],
        ];
        let starts = 0;
        for (const [credential, mechanism] of cases) {
          const conn = await connect(s.port, credential);
          try {
            const start: Request = (await seen(s.child, "saslStart", ++starts)).at(-1)!;
            assert.equal(start.doc.mechanism, mechanism, `${credential.username}: ${mechanism}`);
            assert.equal(start.db, credential.source);
            assert.equal(start.opcode, wire >= 6 ? "OpMsg" : "Command");
            const hello: Request = requests(s.child).filter((r) => /^(isMaster|hello)$/i.test(r.command ?? "")).at(-1)!;
            assert.equal(
              hello.doc.saslSupportedMechs,
              credential.mechanism === undefined ? `${credential.source}.${credential.username}` : undefined,
            );
            assert.equal((await conn.command("admin", { ping: 1 })).ok, 1, "authenticated: ping is allowed");
          } finally {
            conn.close();
          }
        }
        assert.ok(payload((await seen(s.child, "saslStart")).find((r) => r.db === "app")!).includes("n=a=3Db=2Cc,"));
      } finally {
        await stop(s.child);
      }
    });

    test("a wrong password, an unknown user or the wrong authSource: AuthenticationError code 18", async (t) => {
      const s = await startServer(t, { maxWireVersion: wire });
      if (s === null) return;
      try {
        const bad: Credential[] = [
          { username: "ada", password: "pencil!", source: "admin" },
          { username: "ada", password: "pencil!", source: "admin", mechanism: "SCRAM-SHA-1" },
          { username: "nobody", password: "pencil", source: "admin" },
          { username: "ada", password: "pencil", source: "app" },
          { username: "old", password: "pencil", source: "admin", mechanism: "SCRAM-SHA-256" },
        ];
        for (const credential of bad) {
          await assert.rejects(connect(s.port, credential), (e) => {
            assert.ok(e instanceof AuthenticationError, String(e));
            assert.equal(e.code, 18, e.message);
            assert.equal(e.address, `127.0.0.1:${s.port}`);
            assert.ok(!e.message.includes("pencil"), "no password in the message");
            return true;
          });
        }
      } finally {
        await stop(s.child);
      }
    });
  });
}

describe("SCRAM with a server that cannot be trusted", () => {
  for (const corrupt of ["signature", "nonce", "iterations"] as const) {
    test(`corrupt ${corrupt}: the client refuses the server`, async (t) => {
      const s = await startServer(t, { corrupt });
      if (s === null) return;
      try {
        for (const mechanism of ["SCRAM-SHA-1", "SCRAM-SHA-256"] as const) {
          const credential: Credential = { username: "ada", password: "pencil", source: "admin", mechanism };
          await assert.rejects(
            Connection.connect({ host: "127.0.0.1", port: s.port }, { ...CONNECTION_DEFAULTS, credential }),
            (e) => e instanceof AuthenticationError && e.code === undefined && e.mechanism === mechanism,
          );
        }
      } finally {
        await stop(s.child);
      }
    });
  }
});

describe("SCRAM at the client level", () => {
  test("credentials in the connection string: pooled connections authenticate, the monitor's never does", async (t) => {
    const s = await startServer(t, {});
    if (s === null) return;
    try {
      await using c = new Client(`mongodb://ada:pencil@127.0.0.1:${s.port}/admin`, { heartbeatFrequencyMS: 500 });
      const db = c.db("app");
      await Promise.all([db.command("ping"), db.command("ping"), db.command("ping")]);
      const starts = requests(s.child).filter((r) => r.command === "saslStart");
      const hellos = requests(s.child).filter((r) => /^(isMaster|hello)$/i.test(r.command ?? ""));
      const asking = hellos.filter((h) => h.doc.saslSupportedMechs === "admin.ada");
      assert.ok(starts.length >= 1, "at least one pooled connection authenticated");
      assert.equal(
        asking.length,
        starts.length,
        "every pooled connection asked for the user's mechanisms, then authenticated",
      );
      assert.ok(hellos.length > asking.length, "the monitor's hello does not negotiate or authenticate");
      assert.ok(starts.every((r) => r.doc.mechanism === "SCRAM-SHA-256"));
    } finally {
      await stop(s.child);
    }
  });

  test("a wrong password surfaces as AuthenticationError, not AutoReconnect, and is not retried", async (t) => {
    const s = await startServer(t, {});
    if (s === null) return;
    try {
      await using c = new Client("127.0.0.1", s.port, {
        auth: { username: "ada", password: "wrong" },
        serverSelectionTimeoutMS: 5000,
      });
      const error = await c.db("x").collection("y").findOne({}).then(() => null, (e) => e);
      assert.ok(error instanceof AuthenticationError, String(error));
      assert.ok(!(error instanceof AutoReconnect));
      assert.equal(error.code, 18);
      assert.equal(
        requests(s.child).filter((r) => r.command === "saslStart").length,
        1,
        "one attempt: a read retry cannot help",
      );
      assert.equal(requests(s.child).filter((r) => r.command === "find").length, 0);
    } finally {
      await stop(s.child);
    }
  });
});

describe("speculative authentication (MockupDB answering speculativeAuthenticate, as MongoDB 4.4+ does)", () => {
  test("the hello carries the first step: no saslStart, one saslContinue; a user without SCRAM-SHA-256 falls back", async (t) => {
    const s = await startServer(t, { speculative: true });
    if (s === null) return;
    try {
      const cases: [Credential, string, boolean][] = [
        [{ username: "ada", password: "pencil", source: "admin" }, "SCRAM-SHA-256", true],
        [{ username: "ada", password: "pencil", source: "admin", mechanism: "SCRAM-SHA-1" }, "SCRAM-SHA-1", true],
        // Speculation uses SCRAM-SHA-256, which "old" lacks: the server declines, negotiation picks SCRAM-SHA-1.
        [{ username: "old", password: "pencil", source: "admin" }, "SCRAM-SHA-1", false],
      ];
      for (const [credential, mechanism, speculated] of cases) {
        const before = requests(s.child).length;
        const conn = await Connection.connect({ host: "127.0.0.1", port: s.port }, { ...CONNECTION_DEFAULTS, credential });
        try {
          assert.equal((await conn.command("admin", { ping: 1 })).ok, 1);
          await seen(s.child, "ping", 1);
          const mine = requests(s.child).slice(before);
          const hello = mine.find((r) => /^(isMaster|hello)$/i.test(r.command ?? ""))!;
          const spec = hello.doc.speculativeAuthenticate as Record<string, unknown>;
          assert.equal(spec.db, credential.source);
          assert.equal(spec.mechanism, credential.mechanism ?? "SCRAM-SHA-256");
          const starts = mine.filter((r) => r.command === "saslStart");
          assert.equal(starts.length, speculated ? 0 : 1, `${credential.username}/${mechanism}`);
          if (!speculated) assert.equal(starts[0].doc.mechanism, mechanism);
        } finally {
          conn.close();
        }
      }
      await assert.rejects(
        Connection.connect({ host: "127.0.0.1", port: s.port }, {
          ...CONNECTION_DEFAULTS,
          credential: { username: "ada", password: "nope", source: "admin" },
        }),
        (e) => e instanceof AuthenticationError && e.code === 18,
      );
    } finally {
      await stop(s.child);
    }
  });
});
