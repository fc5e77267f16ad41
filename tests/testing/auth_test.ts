// Authentication in the simulated replica set (`startReplicaSet({ users })`):
// the server side of SCRAM-SHA-256 checked against RFC 7677's published
// conversation and against a client computed here with node:crypto; the
// gate on unauthenticated connections over OP_MSG and the legacy opcodes;
// then two clients that did not come from this simulator: this driver's
// ReplicaSetConnection (speculative authentication, negotiation) and PyMongo.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { fileURLToPath } from "node:url";

import { Binary, type Document, encode, type Int64, type ObjectId } from "../../src/bson/mod.ts";
import { AuthenticationError, ConfigurationError, OperationFailure } from "../../src/errors.ts";
import { OP_INSERT, ResponseFlags } from "../../src/wire/mod.ts";
import { type ReplicaSet, startReplicaSet } from "../../src/testing/mod.ts";
import { Authenticator, deriveCredential, preparePassword, SaslSession } from "../../src/testing/_scram.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import { withClient } from "./_client.ts";
import { type PythonRun, runPythonResults } from "../helpers/python_results.ts";
import { peerSkip, pythonMissing } from "../helpers/peers.ts";

const UTF8 = new TextEncoder();
const bin = (s: string) => new Binary(UTF8.encode(s));
const text = (v: unknown) => new TextDecoder().decode((v as Binary).buffer);
const MECH = "SCRAM-SHA-256";
const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };
const AUTH_FAILED = { ok: 0, errmsg: "Authentication failed.", code: 18, codeName: "AuthenticationFailed" };

/** RFC 7677 section 3 (user "user", password "pencil"). */
const RFC = {
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal:
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

async function rfcAuthenticator(): Promise<Authenticator> {
  const credential = await deriveCredential(
    { user: "user", password: "pencil", db: "admin", mechanisms: [MECH] },
    { iterations: 4096, salt: fromBase64(RFC.salt) },
  );
  return new Authenticator([credential]);
}

function start(payload: string, skipEmptyExchange = true): Document {
  const cmd: Document = { saslStart: 1, mechanism: MECH, payload: bin(payload) };
  if (skipEmptyExchange) cmd.options = { skipEmptyExchange: true };
  return cmd;
}

function cont(payload: string, conversationId: unknown = 1): Document {
  return { saslContinue: 1, conversationId, payload: bin(payload) };
}

/**
 * A SCRAM-SHA-256 client written here with node:crypto (independent of both
 * the simulator and src/net/auth.ts): the first message, then the final one
 * and the signature the server must send for a given server-first message.
 */
function scramClient(user: string, password: string, nonce = "cl13ntn0nc3") {
  const escaped = user.replaceAll("=", "=3D").replaceAll(",", "=2C");
  const bare = `n=${escaped},r=${nonce}`;
  return {
    first: `n,,${bare}`,
    final(serverFirst: string): { message: string; signature: string } {
      const f = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
      const salted = pbkdf2Sync(password, Buffer.from(f.s, "base64"), Number(f.i), 32, "sha256");
      const clientKey = createHmac("sha256", salted).update("Client Key").digest();
      const storedKey = createHash("sha256").update(clientKey).digest();
      const withoutProof = `c=biws,r=${f.r}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const sig = createHmac("sha256", storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i])).toString("base64");
      const serverKey = createHmac("sha256", salted).update("Server Key").digest();
      return {
        message: `${withoutProof},p=${proof}`,
        signature: `v=${createHmac("sha256", serverKey).update(authMessage).digest("base64")}`,
      };
    },
  };
}

describe("SCRAM-SHA-256, the server side (src/testing/_scram.ts)", () => {
  test("RFC 7677's conversation: server-first, proof accepted, server signature", async () => {
    const auth = await rfcAuthenticator();
    const session = new SaslSession();
    const first = auth.saslStart(session, "admin", start(RFC.clientFirst), { wire: 21, serverNonce: RFC.serverNonce });
    assert.equal(first.ok, 1);
    assert.equal(first.conversationId, 1);
    assert.equal(first.done, false);
    assert.equal(text(first.payload), RFC.serverFirst);
    assert.equal(session.authenticated, false);
    const final = await auth.saslContinue(session, cont(RFC.clientFinal));
    assert.deepEqual(
      { ok: final.ok, conversationId: final.conversationId, done: final.done, payload: text(final.payload) },
      { ok: 1, conversationId: 1, done: true, payload: RFC.serverFinal },
    );
    assert.equal(session.authenticated, true);
    assert.deepEqual([...session.users], ["admin.user"]);
  });

  test("without skipEmptyExchange (and on a 4.2 member even with it) one empty step ends it", async () => {
    const auth = await rfcAuthenticator();
    for (const [skip, wire] of [[false, 21], [true, 8]] as const) {
      const session = new SaslSession();
      auth.saslStart(session, "admin", start(RFC.clientFirst, skip), { wire, serverNonce: RFC.serverNonce });
      const second = await auth.saslContinue(session, cont(RFC.clientFinal));
      assert.equal(second.done, false, `skip ${skip}, wire ${wire}`);
      assert.equal(text(second.payload), RFC.serverFinal);
      assert.equal(session.authenticated, false, "not before the conversation is done");
      const third = await auth.saslContinue(session, cont(""));
      assert.equal(third.ok, 1);
      assert.equal(third.done, true);
      assert.equal(text(third.payload), "");
      assert.equal(session.authenticated, true);
    }
  });

  test("a wrong proof, a changed nonce or channel-binding field, a stray step: AuthenticationFailed", async () => {
    const auth = await rfcAuthenticator();
    const proof = RFC.clientFinal.slice(RFC.clientFinal.indexOf(",p=") + 3);
    const flipped = (proof[0] === "A" ? "B" : "A") + proof.slice(1);
    const finals = {
      "wrong proof": RFC.clientFinal.replace(proof, flipped),
      "proof too short": RFC.clientFinal.replace(proof, "AAAA"),
      "proof not base64": RFC.clientFinal.replace(proof, "!!!!"),
      "nonce not the combined one": RFC.clientFinal.replace("k0,p=", "k1,p="),
      "channel binding for 'y'": RFC.clientFinal.replace("c=biws", "c=eSws"),
      "no proof": RFC.clientFinal.slice(0, RFC.clientFinal.indexOf(",p=")),
    };
    for (const [what, payload] of Object.entries(finals)) {
      const session = new SaslSession();
      auth.saslStart(session, "admin", start(RFC.clientFirst), { wire: 21, serverNonce: RFC.serverNonce });
      assert.deepEqual(await auth.saslContinue(session, cont(payload)), AUTH_FAILED, what);
      assert.equal(session.authenticated, false, what);
      // The failed conversation is over: the right proof now finds nothing to continue.
      assert.deepEqual(await auth.saslContinue(session, cont(RFC.clientFinal)), AUTH_FAILED, `${what}, retried`);
    }
    const session = new SaslSession();
    assert.deepEqual(await auth.saslContinue(session, cont(RFC.clientFinal)), AUTH_FAILED, "no saslStart first");
    auth.saslStart(session, "admin", start(RFC.clientFirst), { wire: 21, serverNonce: RFC.serverNonce });
    assert.deepEqual(await auth.saslContinue(session, cont(RFC.clientFinal, 2)), AUTH_FAILED, "wrong conversationId");
  });

  test("unknown user, other database, SCRAM-SHA-1 or another mechanism, malformed first messages", async () => {
    const auth = await rfcAuthenticator();
    const refused: [string, string, Document, number][] = [
      ["unknown user", "admin", start("n,,n=nobody,r=abc"), 21],
      ["user of another database", "test", start(RFC.clientFirst), 21],
      ["SCRAM-SHA-1", "admin", { ...start(RFC.clientFirst), mechanism: "SCRAM-SHA-1" }, 21],
      ["PLAIN", "admin", { ...start(RFC.clientFirst), mechanism: "PLAIN" }, 21],
      ["no mechanism", "admin", { saslStart: 1, payload: bin(RFC.clientFirst) }, 21],
      ["3.6 member (no SCRAM-SHA-256)", "admin", start(RFC.clientFirst), 6],
      ["channel binding required", "admin", start("p=tls-unique,,n=user,r=abc"), 21],
      ["mandatory extension", "admin", start("n,,m=ext,n=user,r=abc"), 21],
      ["bad escape in the name", "admin", start("n,,n=us=er,r=abc"), 21],
      ["empty nonce", "admin", start("n,,n=user,r="), 21],
      ["nonce with a space", "admin", start("n,,n=user,r=a b"), 21],
      ["no nonce", "admin", start("n,,n=user"), 21],
      ["authzid of someone else", "admin", start("n,a=admin,n=user,r=abc"), 21],
      ["payload not UTF-8", "admin", { ...start(""), payload: new Binary(new Uint8Array([0xff, 0xfe])) }, 21],
      ["payload a number", "admin", { ...start(""), payload: 12 }, 21],
    ];
    for (const [what, db, cmd, wire] of refused) {
      const session = new SaslSession();
      assert.deepEqual(auth.saslStart(session, db, cmd, { wire }), AUTH_FAILED, what);
      assert.equal(session.conversation, undefined, what);
    }
    const ok = auth.saslStart(new SaslSession(), "admin", start("n,a=user,n=user,r=abc"), { wire: 21 });
    assert.equal(ok.ok, 1, "an authzid naming the user itself is accepted");
    const s = text(ok.payload);
    assert.match(s, /^r=abc[A-Za-z0-9+/=]{32},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096$/, "a random server nonce");
  });

  test("user names with '=' and ',' travel escaped; a client computed with node:crypto gets the right signature", async () => {
    const user = "a=b,c";
    const auth = new Authenticator([
      await deriveCredential({ user, password: "p,w=d", db: "shop", mechanisms: [MECH] }, { iterations: 4096 }),
    ]);
    const client = scramClient(user, "p,w=d");
    assert.equal(client.first, "n,,n=a=3Db=2Cc,r=cl13ntn0nc3");
    const session = new SaslSession();
    const first = auth.saslStart(session, "shop", start(client.first), { wire: 21 });
    assert.equal(first.ok, 1);
    const { message, signature } = client.final(text(first.payload));
    const final = await auth.saslContinue(session, cont(message));
    assert.equal(final.done, true);
    assert.equal(text(final.payload), signature);
    assert.deepEqual([...session.users], ["shop.a=b,c"]);
    assert.deepEqual(auth.supportedMechanisms("shop.a=b,c", 21), [MECH]);
    assert.equal(auth.supportedMechanisms("admin.a=b,c", 21), undefined);
    assert.equal(auth.supportedMechanisms("shop.a=b,c", 6), undefined, "3.6 does not list mechanisms");
  });

  test("password SASLprep (approximated): RFC 4013's examples, NFKC, prohibited characters refused", () => {
    assert.equal(preparePassword("pencil", "p"), "pencil");
    assert.equal(preparePassword("I\u00ADX", "p"), "IX", "soft hyphen mapped to nothing");
    assert.equal(preparePassword("\u00AA", "p"), "a", "NFKC");
    assert.equal(preparePassword("\u2168", "p"), "IX", "NFKC");
    assert.equal(preparePassword("a\u00A0b", "p"), "a b", "non-ASCII space mapped to space");
    assert.throws(() => preparePassword("\u0007", "p"), ConfigurationError);
    assert.throws(() => preparePassword("a\uE000", "p"), ConfigurationError);
    assert.throws(() => preparePassword("\u00AD", "p"), ConfigurationError, "empty after mapping");
  });
});

describe("startReplicaSet({ users }) option checks", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["empty users", { users: [] }, /non-empty array/],
    ["users not an array", { users: { user: "a" } }, /non-empty array/],
    ["no user name", { users: [{ password: "x" }] }, /users\[0\]\.user/],
    ["empty password", { users: [{ user: "a", password: "" }] }, /users\[0\]\.password/],
    ["prohibited password", { users: [{ user: "a", password: "\u0001" }] }, /SASLprep/],
    ["bad db", { users: [{ user: "a", password: "x", db: "a.b" }] }, /users\[0\]\.db/],
    ["SCRAM-SHA-1", { users: [{ user: "a", password: "x", mechanisms: ["SCRAM-SHA-1"] }] }, /only SCRAM-SHA-256/],
    ["no mechanisms", { users: [{ user: "a", password: "x", mechanisms: [] }] }, /mechanisms/],
    ["twice", { users: [{ user: "a", password: "x" }, { user: "a", password: "y", db: "admin" }] }, /twice/],
    ["iterations below 4096", { users: [{ user: "a", password: "x" }], scramIterations: 4095 }, /scramIterations/],
  ];
  for (const [what, options, message] of bad) {
    test(`refused: ${what}`, async () => {
      await assert.rejects(
        startReplicaSet(options as Parameters<typeof startReplicaSet>[0]),
        (e: unknown) => e instanceof ConfigurationError && message.test(e.message),
      );
    });
  }
});

/** Authenticates a raw connection by hand (the node:crypto client above), over OP_MSG or OP_QUERY. */
async function login(
  run: (db: string, cmd: Document) => Promise<Document>,
  user = "ada",
  password = "pencil",
): Promise<void> {
  const client = scramClient(user, password);
  const first = await run("admin", start(client.first));
  assert.equal(first.ok, 1, String(first.errmsg));
  const { message, signature } = client.final(text(first.payload));
  const final = await run("admin", cont(message, first.conversationId));
  assert.equal(final.ok, 1);
  assert.equal(final.done, true);
  assert.equal(text(final.payload), signature);
}

function authSet(options: Parameters<typeof startReplicaSet>[0] = {}): Promise<ReplicaSet> {
  return startReplicaSet({
    members: 1,
    users: [{ user: "ada", password: "pencil" }],
    scramIterations: 4096,
    ...options,
  });
}

describe("a member that requires authentication, over the wire", () => {
  test("OP_MSG: what runs unauthenticated, Unauthorized for the rest, then everything after SCRAM", async () => {
    await using rs = await authSet();
    await withClient(rs.hosts[0], async (c) => {
      for (const cmd of [{ hello: 1 }, { isMaster: 1 }, { ismaster: 1 }, { ping: 1 }, { buildInfo: 1 }]) {
        assert.equal((await c.command("admin", cmd)).ok, 1, Object.keys(cmd)[0]);
      }
      assert.equal((await c.command("admin", { endSessions: [] })).ok, 1);
      for (const cmd of [{ find: "c" }, { insert: "c", documents: [{ a: 1 }] }, { listDatabases: 1 }]) {
        const name = Object.keys(cmd)[0];
        const r = await c.command(name === "listDatabases" ? "admin" : "test", cmd);
        assert.deepEqual(
          { ok: r.ok, errmsg: r.errmsg, code: r.code, codeName: r.codeName },
          { ok: 0, errmsg: `command ${name} requires authentication`, code: 13, codeName: "Unauthorized" },
        );
      }
      assert.equal((await c.command("test", { noSuchCommand: 1 })).code, 59, "an unknown command is unknown first");
      assert.deepEqual(rs.members[0].documents("test.c"), [], "the refused insert wrote nothing");
      await login((db, cmd) => c.command(db, cmd));
      assert.equal((await c.command("test", { insert: "c", documents: [{ _id: 1 }] })).ok, 1);
      const found = await c.command("test", { find: "c" });
      assert.deepEqual((found.cursor as Document).firstBatch, [{ _id: 1 }]);
    });
    // Authentication belongs to a connection: a new one starts over.
    await withClient(rs.hosts[0], async (c) => {
      assert.equal((await c.command("test", { find: "c" })).code, 13);
    });
  });

  test("hello: saslSupportedMechs for a known user only; speculativeAuthenticate answered, or left out", async () => {
    await using rs = await authSet({ members: 2 });
    const [m] = rs.members;
    await withClient(m.host, async (c) => {
      const known = await c.command("admin", { hello: 1, saslSupportedMechs: "admin.ada" });
      assert.deepEqual(known.saslSupportedMechs, [MECH]);
      for (const who of ["admin.nobody", "test.ada", "ada", 12]) {
        const r = await c.command("admin", { hello: 1, saslSupportedMechs: who });
        assert.equal(r.ok, 1);
        assert.equal("saslSupportedMechs" in r, false, String(who));
      }
      const client = scramClient("ada", "pencil", "sp3cul4t1v3");
      const hello = await c.command("admin", {
        hello: 1,
        speculativeAuthenticate: { ...start(client.first), db: "admin" },
      });
      const spec = hello.speculativeAuthenticate as Document;
      assert.equal(spec.conversationId, 1);
      assert.equal(spec.done, false);
      assert.match(text(spec.payload), /^r=sp3cul4t1v3.+,s=.+,i=4096$/);
      const { message, signature } = client.final(text(spec.payload));
      const final = await c.command("admin", cont(message, spec.conversationId));
      assert.equal(final.done, true);
      assert.equal(text(final.payload), signature);
      assert.equal((await c.command("test", { find: "c" })).ok, 1);
    });
    await withClient(m.host, async (c) => {
      const wrongUser = await c.command("admin", {
        hello: 1,
        speculativeAuthenticate: { ...start(scramClient("nobody", "x").first), db: "admin" },
      });
      assert.equal(wrongUser.ok, 1);
      assert.equal("speculativeAuthenticate" in wrongUser, false, "a failed first step is left out");
      const notADoc = await c.command("admin", { hello: 1, speculativeAuthenticate: "x" });
      assert.equal("speculativeAuthenticate" in notADoc, false);
    });
  });

  test("monitoring hellos, awaitable ones included, keep working without authentication", async () => {
    await using rs = await authSet();
    const [m] = rs.members;
    await withClient(m.host, async (c) => {
      const first = await c.command("admin", { hello: 1 });
      const tv = first.topologyVersion as { processId: ObjectId; counter: Int64 };
      const r = await c.command("admin", { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 50 });
      assert.equal(r.ok, 1);
      assert.equal(r.isWritablePrimary, true);
    });
  });

  test("a 4.2 member: saslSupportedMechs yes, speculative authentication no", async () => {
    await using rs = await authSet({ maxWireVersion: 8 });
    await withClient(rs.hosts[0], async (c) => {
      const r = await c.command("admin", {
        hello: 1,
        saslSupportedMechs: "admin.ada",
        speculativeAuthenticate: { ...start(scramClient("ada", "pencil").first), db: "admin" },
      });
      assert.equal(r.code, 59, "hello is unknown before 5.0: the handshake is isMaster");
      const m = await c.command("admin", {
        isMaster: 1,
        saslSupportedMechs: "admin.ada",
        speculativeAuthenticate: { ...start(scramClient("ada", "pencil").first), db: "admin" },
      });
      assert.deepEqual(m.saslSupportedMechs, [MECH]);
      assert.equal("speculativeAuthenticate" in m, false);
    });
  });

  test("legacy opcodes (wire 13): OP_QUERY handshake and SCRAM; find and getMore refused with code 13; OP_KILL_CURSORS and OP_INSERT do nothing", async () => {
    await using rs = await authSet({ maxWireVersion: 13 });
    const [m] = rs.members;
    await withClient(m.host, async (owner) => {
      const hs = await owner.legacyCommand("admin", { isMaster: 1, saslSupportedMechs: "admin.ada" });
      assert.deepEqual(hs.saslSupportedMechs, [MECH]);
      await login((db, cmd) => owner.legacyCommand(db, cmd));
      for (let i = 0; i < 5; i++) {
        assert.equal((await owner.command("test", { insert: "c", documents: [{ i }] })).ok, 1);
      }
      const opened = await owner.query("test.c", {}, { numberToReturn: 2 });
      assert.equal(opened.documents.length, 2);
      const cursorId = opened.cursorId;
      assert.notEqual(cursorId, 0n);
      await withClient(m.host, async (stranger) => {
        const q = await stranger.query("test.c", {});
        assert.ok((q.responseFlags & ResponseFlags.QueryFailure) !== 0);
        assert.deepEqual(q.documents, [{ $err: "command find requires authentication", code: 13 }]);
        const g = await stranger.getMore("test.c", cursorId);
        assert.ok((g.responseFlags & ResponseFlags.QueryFailure) !== 0);
        assert.deepEqual(g.documents, [{ $err: "command getMore requires authentication", code: 13 }]);
        const cmd = await stranger.legacyCommand("test", { count: "c" });
        assert.equal(cmd.code, 13);
        await stranger.killCursors([cursorId]);
        await stranger.send(legacyInsert("test.c", { i: 99 }));
        const gle = await stranger.legacyCommand("test", { getLastError: 1 });
        assert.equal(gle.code, 13, "getLastError needs authentication too");
      });
      const more = await owner.getMore("test.c", cursorId);
      assert.equal(more.documents.length, 3, "the stranger's OP_KILL_CURSORS killed nothing");
      assert.equal(m.documents("test.c").length, 5, "the stranger's OP_INSERT wrote nothing");
    });
  });
});

let legacyId = 5000;
function legacyInsert(ns: string, doc: Document): Uint8Array {
  const nsBytes = UTF8.encode(ns + "\0");
  const body = encode(doc);
  const out = new Uint8Array(16 + 4 + nsBytes.length + body.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, out.length, true);
  v.setInt32(4, legacyId++, true);
  v.setInt32(12, OP_INSERT, true);
  out.set(nsBytes, 20);
  out.set(body, 20 + nsBytes.length);
  return out;
}

describe("this driver's ReplicaSetConnection against a set that requires authentication", () => {
  const uri = (rs: ReplicaSet, userinfo: string) => `mongodb://${userinfo}${rs.hosts.join(",")}/?replicaSet=${rs.name}`;

  test("ada:pencil inserts and finds; speculative authentication: saslContinue logged, saslStart never", async () => {
    await using rs = await startReplicaSet({ members: 3, name: "auth", users: [{ user: "ada", password: "pencil" }] });
    {
      await using c = await ReplicaSetConnection.connect(uri(rs, "ada:pencil@"), FAST);
      const coll = c.db("test").collection("people");
      await coll.insertOne({ _id: 1, name: "Ada" });
      assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1, name: "Ada" });
    }
    const log = rs.members.flatMap((m) => m.requests);
    assert.ok(log.some((r) => r.command === "saslContinue"), "saslContinue logged");
    assert.equal(log.filter((r) => r.command === "saslStart").length, 0, "no saslStart: the handshake carried it");
    const carried = log.filter((r) => (r.body as Document).speculativeAuthenticate !== undefined);
    assert.ok(carried.length > 0, "a handshake carried speculativeAuthenticate");
    assert.ok(carried.every((r) => ["hello", "isMaster", "ismaster"].includes(r.command)));
    assert.ok(log.some((r) => r.command === "insert") && log.some((r) => r.command === "find"));
  });

  test("a 4.2 set: negotiated through saslSupportedMechs, saslStart then the empty closing step", async () => {
    await using rs = await startReplicaSet({
      members: 2,
      name: "auth42",
      maxWireVersion: 8,
      users: [{ user: "ada", password: "pencil" }],
      scramIterations: 4096,
    });
    {
      await using c = await ReplicaSetConnection.connect(uri(rs, "ada:pencil@"), FAST);
      await c.db("test").collection("c").insertOne({ _id: 1 });
      assert.deepEqual(await c.db("test").collection("c").findOne({}), { _id: 1 });
    }
    const log = rs.members.flatMap((m) => m.requests);
    const starts = log.filter((r) => r.command === "saslStart");
    assert.ok(starts.length > 0);
    assert.ok(starts.every((r) => r.body.mechanism === MECH), "SCRAM-SHA-256 chosen from saslSupportedMechs");
    const conts = log.filter((r) => r.command === "saslContinue");
    assert.equal(conts.length, starts.length * 2, "proof, then the empty step, per conversation");
  });

  test("a wrong password: AuthenticationError with code 18", async () => {
    await using rs = await authSet({ members: 2, name: "wrongpw" });
    await using c = await ReplicaSetConnection.connect(uri(rs, "ada:wrong@"), FAST);
    await assert.rejects(
      c.db("test").collection("c").findOne({}),
      (e: unknown) => e instanceof AuthenticationError && e.code === 18 && e.codeName === "AuthenticationFailed",
    );
  });

  test("no credentials: OperationFailure with code 13 on find", async () => {
    await using rs = await authSet({ members: 2, name: "nocreds" });
    await using c = await ReplicaSetConnection.connect(uri(rs, ""), FAST);
    await assert.rejects(
      c.db("test").collection("c").findOne({}),
      (e: unknown) =>
        e instanceof OperationFailure && e.code === 13 && e.errmsg === "command find requires authentication",
    );
  });
});

const SCRIPT = fileURLToPath(new URL("../helpers/pymongo_auth_client.py", import.meta.url));

function runPython(args: string[]): Promise<PythonRun> {
  return runPythonResults(SCRIPT, args);
}

const skipPy = peerSkip("PyMongo against an authenticating set", pythonMissing(["pymongo"]));

describe("PyMongo against a set that requires authentication", () => {
  test("SCRAM-SHA-256 inserts and reads; a wrong password gets code 18; no credentials gets 13 on find", { skip: skipPy }, async () => {
    await using rs = await startReplicaSet({
      members: 3,
      name: "pyauth",
      users: [{ user: "ada", password: "pencil" }],
    });
    const run = await runPython([rs.hosts.join(","), rs.name, "ada", "pencil", "admin"]);
    assert.equal(run.code, 0, run.stderr);
    const r = run.results;
    assert.equal(typeof r.version, "string");
    assert.equal(r.inserted, true);
    assert.deepEqual(r.found, { _id: 1, name: "Ada" });
    assert.equal(r.wrong_password, 18);
    assert.equal(r.no_credentials_ping, 1);
    assert.equal(r.no_credentials, 13);
    const log = rs.members.flatMap((m) => m.requests);
    assert.ok(log.some((q) => q.command === "saslContinue"));
    assert.deepEqual(rs.primary!.documents("test.people"), [{ _id: 1, name: "Ada" }]);
  });
});
