// SCRAM and TLS against FerretDB v1.24.2 (tests/helpers/ferretdb.ts): one
// instance with its SCRAM authentication on (`--test-enable-new-auth`, a user
// made at start-up), one listening on TLS only with a certificate made at test
// time (tests/helpers/tls_certs.ts). Attempts are counted with FerretDB's own
// `serverStatus.metrics.commands` counters.
//
// FerretDB 1.24 differences worked around here: authentication is PLAIN-only
// unless the new-auth flag is on; SCRAM usernames with `=` or `,` (sent
// escaped as `=3D`/`=2C`) are refused by FerretDB, with the official Node
// driver too, so none is used; `hosts` is the plain listen address, which is
// empty on a TLS-only listener, so the TLS instance runs as a standalone.
//
// Without the binary every test skips with the reason; under CI=true they fail.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

import { type FerretDB, ferretdbSkipReason, startFerretDB } from "../helpers/ferretdb.ts";
import { certSkipReason, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";
import {
  AuthenticationError,
  Connection,
  type Document,
  OperationFailure,
  ReplicaSetConnection,
  ServerSelectionError,
} from "../../mod.ts";
import { rejectsWith } from "../helpers/rejects.ts";

const skip = ferretdbSkipReason("FerretDB SCRAM/TLS tests (tests/peers/ferretdb_auth_tls_test.ts)");
const tlsSkip = skip ?? certSkipReason();
if (skip === undefined && tlsSkip !== undefined) console.log(`SKIP FerretDB TLS tests: ${tlsSkip}`);

const ADMIN = { username: "ada", password: "pencil" };
const FAST = { serverSelectionTimeoutMS: 10_000, connectTimeoutMS: 5000, heartbeatFrequencyMS: 500 };

let authServer: Promise<FerretDB> | undefined;
/**
 * The SCRAM instance, with users `ada` (both mechanisms), `old` (SCRAM-SHA-1 only), `eve` (a non-ASCII
 * password) and `roman` (a password SASLprep changes).
 */
function withAuth(): Promise<FerretDB> {
  authServer ??= (async () => {
    const f = await startFerretDB({ auth: ADMIN });
    await using c = await Connection.connect(`mongodb://ada:pencil@${f.address}/?authSource=admin`, FAST);
    await c.admin.command({ createUser: "old", pwd: "sha1only", roles: [], mechanisms: ["SCRAM-SHA-1"] });
    await c.admin.command({ createUser: "eve", pwd: "\u00e9t\u00e9 \u2168", roles: [] });
    await c.admin.command({ createUser: "roman", pwd: "I\u00ADX", roles: [] }); // a soft hyphen inside
    return f;
  })();
  return authServer;
}

let tlsServer: Promise<{ f: FerretDB; certs: TestCerts }> | undefined;
/** The TLS-only instance and the certificates it was started with. */
function withTls(): Promise<{ f: FerretDB; certs: TestCerts }> {
  tlsServer ??= (async () => {
    const certs = makeTestCerts();
    const f = await startFerretDB({
      tls: { certFile: join(certs.dir, "server.pem"), keyFile: join(certs.dir, "server.key") },
      replSetName: null,
    });
    return { f, certs };
  })();
  return tlsServer;
}

after(async () => {
  const a = await authServer?.catch(() => undefined);
  await a?.close();
  const t = await tlsServer?.catch(() => undefined);
  await t?.f.close();
  t?.certs.remove();
});

/** FerretDB's counts of SASL requests (saslStart + saslContinue) and of failed ones, from serverStatus. */
async function saslCounts(admin: Connection): Promise<{ total: number; failed: number }> {
  const status = await admin.admin.command({ serverStatus: 1 });
  const commands = (status.metrics as Document).commands as Record<string, { total: bigint; failed: bigint } | undefined>;
  let total = 0;
  let failed = 0;
  for (const name of ["saslStart", "saslContinue"]) {
    total += Number(commands[name]?.total ?? 0);
    failed += Number(commands[name]?.failed ?? 0);
  }
  return { total, failed };
}

const enc = encodeURIComponent;

describe("FerretDB 1.24.2: SCRAM (new auth)", () => {
  test("SCRAM-SHA-256 and SCRAM-SHA-1, named or negotiated, authenticate; then commands run", { skip }, async () => {
    const f = await withAuth();
    const cases: [string, string, string | undefined][] = [
      ["ada", "pencil", "SCRAM-SHA-256"],
      ["ada", "pencil", "SCRAM-SHA-1"],
      ["ada", "pencil", undefined], // negotiated: saslSupportedMechs has both, SHA-256 wins
      ["old", "sha1only", undefined], // negotiated: SHA-1 is all it has
      ["eve", "\u00e9t\u00e9 \u2168", "SCRAM-SHA-256"],
      ["eve", "\u00e9t\u00e9 \u2168", "SCRAM-SHA-1"],
    ];
    for (const [user, password, mechanism] of cases) {
      const label = `${user} with ${mechanism ?? "a negotiated mechanism"}`;
      const query = mechanism === undefined ? "" : `&authMechanism=${mechanism}`;
      await using c = await ReplicaSetConnection.connect(
        `mongodb://${enc(user)}:${enc(password)}@${f.address}/?replicaSet=rs0&authSource=admin${query}`,
        FAST,
      );
      const coll = c.db("scram").collection(user);
      await coll.insertOne({ by: label });
      assert.ok((await coll.findOne({ by: label })) !== null, label);
    }
  });

  test("SASLprep as the server does it: SCRAM-SHA-256 prepares passwords, SCRAM-SHA-1 does not", { skip }, async () => {
    const f = await withAuth();
    const login = async (password: string, mechanism: string) => {
      await using c = new Connection(
        `mongodb://roman:${enc(password)}@${f.address}/?authMechanism=${mechanism}`,
        FAST,
      );
      return await c.admin.command({ ping: 1 }).then(() => "ok", (e) => e);
    };
    // Stored as "I\u00ADX": SASLprep drops the soft hyphen and maps U+2168 (ROMAN NUMERAL NINE) to "IX".
    for (const password of ["I\u00ADX", "IX", "\u2168"]) {
      assert.equal(await login(password, "SCRAM-SHA-256"), "ok", `SCRAM-SHA-256 with ${JSON.stringify(password)}`);
    }
    assert.equal(await login("I\u00ADX", "SCRAM-SHA-1"), "ok", "SCRAM-SHA-1 with the exact password");
    for (const password of ["IX", "\u2168"]) {
      const e = await login(password, "SCRAM-SHA-1");
      assert.ok(e instanceof AuthenticationError, `SCRAM-SHA-1 with ${JSON.stringify(password)}: ${String(e)}`);
      assert.equal(e.code, 18);
    }
  });

  test("the mechanism the user lacks is refused by the server: AuthenticationError", { skip }, async () => {
    const f = await withAuth();
    await using c = new Connection(`mongodb://old:sha1only@${f.address}/?authMechanism=SCRAM-SHA-256`, FAST);
    const e = await rejectsWith(c.admin.command({ ping: 1 }), AuthenticationError);
    assert.match(e.message, /SCRAM-SHA-256/);
  });

  test("a wrong password is AuthenticationError (code 18) after one attempt, not a retry loop", { skip }, async () => {
    const f = await withAuth();
    // One admin connection reads the counters, so that its own authentication is not counted.
    await using admin = await Connection.connect(`mongodb://ada:pencil@${f.address}/?authSource=admin`, FAST);
    for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-1"]) {
      const before = await saslCounts(admin);
      const c = new ReplicaSetConnection(`mongodb://ada:wrong@${f.address}/?replicaSet=rs0&authMechanism=${mechanism}`, {
        ...FAST,
        serverSelectionTimeoutMS: 30_000,
      });
      try {
        const e = await rejectsWith(c.db("x").collection("c").findOne({}), AuthenticationError);
        assert.equal(e.code, 18, mechanism);
        assert.match(e.message, /ada/);
        assert.match(e.message, new RegExp(mechanism));
      } finally {
        await c.close();
      }
      const afterwards = await saslCounts(admin);
      // The first SCRAM step rides in the handshake (speculative authentication, not a SASL command);
      // the proof then goes in one saslContinue, which FerretDB refuses: one attempt, then the error.
      assert.deepEqual(
        { total: afterwards.total - before.total, failed: afterwards.failed - before.failed },
        { total: 1, failed: 1 },
        `${mechanism}: one SASL request, refused`,
      );
    }
  });

  test("without credentials the server refuses commands: OperationFailure Unauthorized (13)", { skip }, async () => {
    const f = await withAuth();
    await using c = await ReplicaSetConnection.connect(`mongodb://${f.address}/?replicaSet=rs0`, FAST);
    const e = await rejectsWith(c.db("x").collection("c").findOne({}), OperationFailure);
    assert.deepEqual([e.code, e.codeName], [13, "Unauthorized"]);
  });
});

describe("FerretDB 1.24.2: TLS", () => {
  test("tlsCAFile: the certificate checks out, commands and CRUD run over TLS", { skip: tlsSkip }, async () => {
    const { f, certs } = await withTls();
    for (const host of ["localhost", "127.0.0.1"]) {
      await using c = await Connection.connect(`mongodb://${host}:${f.port}/?tls=true`, {
        ...FAST,
        tlsCAFile: certs.caFile,
      });
      assert.equal((await c.admin.command({ ping: 1 })).ok, 1, host);
      const coll = c.db("tls").collection(host);
      await coll.insertMany(Array.from({ length: 25 }, (_, i) => ({ _id: i })));
      assert.equal((await coll.find({}).batchSize(4).toArray()).length, 25, `${host}: getMores over TLS`);
    }
  });

  test("a wrong CA fails with a clear error naming the certificate, not a hang", { skip: tlsSkip }, async () => {
    const { f, certs } = await withTls();
    const c = new Connection(`mongodb://localhost:${f.port}/?tls=true`, {
      ...FAST,
      serverSelectionTimeoutMS: 1500,
      tlsCAFile: certs.otherCaFile,
    });
    try {
      const e = await rejectsWith(c.admin.command({ ping: 1 }), ServerSelectionError);
      assert.match(e.message, /certificate|TLS|SSL/i, e.message);
    } finally {
      await c.close();
    }
  });

  test("plain TCP to the TLS listener fails (no silent downgrade)", { skip: tlsSkip }, async () => {
    const { f } = await withTls();
    const c = new Connection(`mongodb://localhost:${f.port}/`, { ...FAST, serverSelectionTimeoutMS: 1500 });
    try {
      await rejectsWith(c.admin.command({ ping: 1 }), ServerSelectionError);
    } finally {
      await c.close();
    }
  });

  test("tlsAllowInvalidCertificates: accepted without the CA (Bun); on Deno a clear error says why not", { skip: tlsSkip }, async () => {
    const { f } = await withTls();
    const uri = `mongodb://127.0.0.1:${f.port}/?tls=true&tlsAllowInvalidCertificates=true`;
    if ("Deno" in globalThis) {
      // Deno's TLS client cannot skip chain verification per connection: the driver says so.
      const c = new Connection(uri, { ...FAST, serverSelectionTimeoutMS: 1500 });
      try {
        const e = await rejectsWith(c.admin.command({ ping: 1 }), ServerSelectionError);
        assert.match(e.message, /on Deno tlsAllowInvalidCertificates only skips the host-name check/);
      } finally {
        await c.close();
      }
      return;
    }
    await using c = await Connection.connect(uri, FAST);
    assert.equal((await c.admin.command({ ping: 1 })).ok, 1);
    const info = await c.admin.command({ buildInfo: 1 });
    assert.equal(info.ferretdbVersion, "v1.24.2");
  });
});
