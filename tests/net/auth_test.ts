// SCRAM authentication (src/net/auth.ts), MD5 and SASLprep, checked against
// the published conversations (RFC 5802 / RFC 7677 as MongoDB's auth
// specification uses them, recomputed independently with Python's hashlib),
// RFC 1321's MD5 suite and node:crypto, and RFC 4013's examples. The live
// conversation with an independent server is in tests/net/auth_mockupdb_test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";

import { Binary, type Document } from "../../src/bson/mod.ts";
import { AuthenticationError, ConfigurationError, OperationFailure, OptionTypeError } from "../../src/errors.ts";
import {
  authenticate,
  chooseMechanism,
  type Credential,
  negotiationFields,
  speculativeStart,
} from "../../src/net/auth.ts";
import { md5 } from "../../src/net/_md5.ts";
import { saslprep } from "../../src/net/_saslprep.ts";
import { resolveCredential } from "../../src/topology/credential.ts";

const text = (d: Document) => new TextDecoder().decode((d.payload as Binary).buffer);
const bin = (s: string) => new Binary(new TextEncoder().encode(s));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The two conversations of MongoDB's authentication specification (user "user", password "pencil"). */
const CONVERSATIONS = {
  "SCRAM-SHA-1": {
    nonce: "fyko+d2lbbFgONRv9qkxdawL",
    serverFirst: "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
    clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
    serverFinal: "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=",
  },
  "SCRAM-SHA-256": {
    nonce: "rOprNGfwEbeRWgbNEkqO",
    serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    clientFinal:
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
  },
} as const;

type Mechanism = keyof typeof CONVERSATIONS;

interface Script {
  serverFirst?: string;
  serverFinal?: string;
  /** The server wants the empty third step (servers before 4.4). */
  emptyStep?: boolean;
  refuse?: "start" | "continue";
}

/** A server that plays the published conversation and records what the client sent. */
function scripted(mechanism: Mechanism, script: Script = {}) {
  const c = CONVERSATIONS[mechanism];
  const sent: { db: string; cmd: Document }[] = [];
  const run = (db: string, cmd: Document): Promise<Document> => {
    sent.push({ db, cmd });
    const refuse = () =>
      Promise.reject(
        new OperationFailure("Authentication failed.", {
          code: 18,
          codeName: "AuthenticationFailed",
          response: { ok: 0, code: 18, errmsg: "Authentication failed." },
        }),
      );
    if (cmd.saslStart === 1) {
      if (script.refuse === "start") return refuse();
      return Promise.resolve({
        conversationId: 1,
        done: false,
        payload: bin(script.serverFirst ?? c.serverFirst),
        ok: 1,
      });
    }
    if (cmd.saslContinue === 1 && sent.filter((s) => s.cmd.saslContinue === 1).length === 1) {
      if (script.refuse === "continue") return refuse();
      return Promise.resolve({
        conversationId: 1,
        done: !script.emptyStep,
        payload: bin(script.serverFinal ?? c.serverFinal),
        ok: 1,
      });
    }
    return Promise.resolve({ conversationId: 1, done: true, payload: bin(""), ok: 1 });
  };
  const credential: Credential = { username: "user", password: "pencil", source: "admin", mechanism };
  const go = () => authenticate(credential, run, { address: "db:27017", hello: {}, nonce: c.nonce });
  return { sent, run, go, credential };
}

async function authFails(p: Promise<unknown>, pattern: RegExp): Promise<AuthenticationError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AuthenticationError, `expected AuthenticationError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.equal(e.address, "db:27017");
    return e;
  }
  assert.fail("authentication succeeded");
}

describe("SCRAM conversation", () => {
  for (const mechanism of ["SCRAM-SHA-1", "SCRAM-SHA-256"] as const) {
    test(`${mechanism}: the client's messages are the published ones, byte for byte`, async () => {
      const s = scripted(mechanism);
      await s.go();
      assert.equal(s.sent.length, 2, "saslStart and one saslContinue (skipEmptyExchange)");
      const [start, cont] = s.sent;
      assert.equal(start.db, "admin");
      assert.equal(start.cmd.mechanism, mechanism);
      assert.deepEqual(start.cmd.options, { skipEmptyExchange: true });
      assert.equal(start.cmd.autoAuthorize, 1);
      assert.equal(text(start.cmd), `n,,n=user,r=${CONVERSATIONS[mechanism].nonce}`);
      assert.equal(cont.cmd.conversationId, 1);
      assert.equal(text(cont.cmd), CONVERSATIONS[mechanism].clientFinal);
    });

    test(`${mechanism}: a server that wants the empty third step gets it`, async () => {
      const s = scripted(mechanism, { emptyStep: true });
      await s.go();
      assert.equal(s.sent.length, 3);
      assert.equal((s.sent[2].cmd.payload as Binary).length, 0);
    });

    test(`${mechanism}: a wrong server signature is refused (the server does not know the password)`, async () => {
      const s = scripted(mechanism, { serverFinal: "v=" + btoa("x".repeat(mechanism === "SCRAM-SHA-1" ? 20 : 32)) });
      const e = await authFails(s.go(), /signature is wrong/);
      assert.equal(e.mechanism, mechanism);
      assert.equal(e.code, undefined);
    });
  }

  test("a server that refuses gives AuthenticationError with its code; the cause is the server's reply", async () => {
    for (const refuse of ["start", "continue"] as const) {
      const e = await authFails(
        scripted("SCRAM-SHA-256", { refuse }).go(),
        /user "user" on "admin".*Authentication failed/,
      );
      assert.equal(e.code, 18);
      assert.equal(e.codeName, "AuthenticationFailed");
      assert.ok(e.cause instanceof OperationFailure);
      assert.ok(!e.message.includes("pencil"), "the password is never in a message");
    }
  });

  test("a server-first message that does not check out is refused before any proof is sent", async () => {
    const c = CONVERSATIONS["SCRAM-SHA-256"];
    const cases: [string, RegExp][] = [
      [c.serverFirst.replace("r=rOpr", "r=XXpr"), /nonce does not extend/],
      [`r=${c.nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /nonce does not extend/],
      [c.serverFirst.replace("i=4096", "i=4095"), /4095 iterations; at least 4096/],
      [c.serverFirst.replace("i=4096", "i=lots"), /iterations/],
      [c.serverFirst.replace(",s=W22ZaJ0SNY7soEsUEjb6gQ==", ""), /malformed/],
      [c.serverFirst.replace("s=W22ZaJ0SNY7soEsUEjb6gQ==", "s=!!!"), /salt is not base64/],
    ];
    for (const [serverFirst, pattern] of cases) {
      const s = scripted("SCRAM-SHA-256", { serverFirst });
      await authFails(s.go(), pattern);
      assert.equal(s.sent.length, 1, `no proof sent for ${serverFirst}`);
    }
  });

  test("a server error in the final message (e=...) and a reply without payload are AuthenticationErrors", async () => {
    await authFails(
      scripted("SCRAM-SHA-256", { serverFinal: "e=invalid-proof" }).go(),
      /ended the SCRAM conversation: invalid-proof/,
    );
    const noPayload = (_db: string, _cmd: Document) => Promise.resolve({ ok: 1, conversationId: 1, done: false });
    await authFails(
      authenticate({ username: "u", password: "p", source: "admin" }, noPayload, { address: "db:27017", hello: {} }),
      /no binary payload/,
    );
  });

  test("user names escape '=' and ','; the nonce is fresh base64 each time", async () => {
    const firsts: string[] = [];
    const run = (_db: string, cmd: Document): Promise<Document> => {
      firsts.push(text(cmd));
      return Promise.reject(new OperationFailure("stop", { code: 18, response: { ok: 0 } }));
    };
    const credential = { username: "a=b,c", password: "p", source: "x", mechanism: "SCRAM-SHA-256" as const };
    for (let i = 0; i < 2; i++) {
      await assert.rejects(authenticate(credential, run, { address: "db:27017", hello: {} }), AuthenticationError);
    }
    const [one, two] = firsts.map((f) => /^n,,n=a=3Db=2Cc,r=([A-Za-z0-9+/]{32})$/.exec(f));
    assert.ok(one && two, firsts.join(" | "));
    assert.notEqual(one[1], two[1]);
  });

  test("speculative: the first step rides in the hello; a server that took it gets only the proof", async () => {
    const c = CONVERSATIONS["SCRAM-SHA-256"];
    const s = scripted("SCRAM-SHA-256");
    const speculative = speculativeStart({ ...s.credential, mechanism: undefined }, c.nonce);
    assert.equal(speculative.mechanism, "SCRAM-SHA-256", "SCRAM-SHA-256 when the credential names none");
    assert.equal(speculative.document.db, "admin");
    assert.equal(speculative.document.saslStart, 1);
    assert.equal(text(speculative.document), `n,,n=user,r=${c.nonce}`);
    const hello = { speculativeAuthenticate: { conversationId: 1, done: false, payload: bin(c.serverFirst) } };
    await authenticate(s.credential, s.run, { address: "db:27017", hello, speculative });
    assert.deepEqual(s.sent.map((x) => Object.keys(x.cmd)[0]), ["saslContinue"], "no saslStart");
    assert.equal(text(s.sent[0].cmd), c.clientFinal);

    // A server that did not take it (no field in its reply): the usual conversation, from saslStart.
    const t = scripted("SCRAM-SHA-256");
    await authenticate(t.credential, t.run, { address: "db:27017", hello: {}, speculative, nonce: c.nonce });
    assert.deepEqual(t.sent.map((x) => Object.keys(x.cmd)[0]), ["saslStart", "saslContinue"]);
    assert.equal(speculativeStart({ ...s.credential, mechanism: "SCRAM-SHA-1" }).mechanism, "SCRAM-SHA-1");
  });

  test("negotiation: saslSupportedMechs is asked for only without a mechanism; SCRAM-SHA-256 wins when listed", () => {
    const c: Credential = { username: "ada", password: "x", source: "app" };
    assert.deepEqual(negotiationFields(c), { saslSupportedMechs: "app.ada" });
    assert.deepEqual(negotiationFields({ ...c, mechanism: "SCRAM-SHA-1" }), {});
    assert.equal(chooseMechanism(c, { saslSupportedMechs: ["SCRAM-SHA-1", "SCRAM-SHA-256"] }), "SCRAM-SHA-256");
    assert.equal(chooseMechanism(c, { saslSupportedMechs: ["SCRAM-SHA-1"] }), "SCRAM-SHA-1");
    assert.equal(chooseMechanism(c, {}), "SCRAM-SHA-1", "a server that lists nothing (before 4.0) speaks SCRAM-SHA-1");
    assert.equal(
      chooseMechanism({ ...c, mechanism: "SCRAM-SHA-1" }, { saslSupportedMechs: ["SCRAM-SHA-256"] }),
      "SCRAM-SHA-1",
    );
  });
});

describe("MD5", () => {
  test("RFC 1321's test suite", () => {
    const suite: [string, string][] = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
      ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
    ];
    for (const [input, digest] of suite) assert.equal(hex(md5(new TextEncoder().encode(input))), digest, input);
  });

  test("agrees with node:crypto on every length from 0 to 300 (padding edges at 55, 56, 64)", () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      assert.equal(hex(md5(bytes)), createHash("md5").update(bytes).digest("hex"), `length ${n}`);
    }
  });
});

describe("SASLprep", () => {
  test("RFC 4013's examples", () => {
    assert.equal(saslprep("I\u00ADX", "password"), "IX", "soft hyphen mapped to nothing");
    assert.equal(saslprep("user", "password"), "user");
    assert.equal(saslprep("USER", "password"), "USER", "case is kept");
    assert.equal(saslprep("\u00AA", "password"), "a", "NFKC");
    assert.equal(saslprep("\u2168", "password"), "IX", "NFKC");
    assert.throws(() => saslprep("\u0007", "password"), ConfigurationError, "prohibited control character");
    assert.throws(() => saslprep("\u0627\u0031", "password"), ConfigurationError, "bidi: must end with RandALCat");
  });

  test("non-ASCII spaces become spaces; prohibited characters are named by code point, never shown", () => {
    assert.equal(saslprep("a\u00A0b\u3000c", "password"), "a b c");
    assert.equal(saslprep("\u0627\u0628", "password"), "\u0627\u0628", "right-to-left only is fine");
    // U+0340 is in table C.8 but NFKC turns it into U+0300 first, so it passes (as in PyMongo).
    assert.equal(saslprep("pw\u0340", "password"), "pw\u0300".normalize("NFKC"));
    for (const bad of ["\uE000", "\uFFFE", "\u{1FFFF}", "\u200E", "\u2FF0", "\u{E0001}", "\u0000"]) {
      assert.throws(
        () => saslprep(`pw${bad}`, "password"),
        (e) => e instanceof ConfigurationError && /U\+[0-9A-F]{4,}/.test(e.message) && !e.message.includes("pw"),
      );
    }
    assert.throws(() => saslprep("\u0627a\u0628", "password"), /right-to-left/);
  });

  test("printable ASCII passes through untouched", () => {
    let all = "";
    for (let c = 0x20; c < 0x7f; c++) all += String.fromCharCode(c);
    assert.equal(saslprep(all, "password"), all);
  });
});

describe("resolveCredential", () => {
  test("the connection string's user, the database as source, admin by default, code auth wins", () => {
    assert.equal(resolveCredential({}), undefined);
    assert.equal(resolveCredential({ uri: null, authSource: "x" }), undefined, "authSource alone asks for nothing");
    assert.deepEqual(resolveCredential({ uri: { username: "ada", password: "p", db: "app" } }), {
      username: "ada",
      password: "p",
      source: "app",
    });
    assert.equal(resolveCredential({ uri: { username: "ada", password: "p", db: null } })?.source, "admin");
    assert.equal(resolveCredential({ uri: { username: "ada", password: "p", db: "" } })?.source, "admin");
    assert.equal(
      resolveCredential({ uri: { username: "ada", password: "p", db: "app" }, authSource: "users" })?.source,
      "users",
    );
    const both = resolveCredential({
      uri: { username: "ada", password: "p", db: null },
      auth: { username: "grace", password: "q" },
      authMechanism: "SCRAM-SHA-1",
    });
    assert.deepEqual(both, { username: "grace", password: "q", source: "admin", mechanism: "SCRAM-SHA-1" });
  });

  test("what cannot work is a ConfigurationError at construction", () => {
    for (const m of ["MONGODB-X509", "GSSAPI", "PLAIN", "MONGODB-AWS", "MONGODB-OIDC", "MONGODB-CR"]) {
      assert.throws(
        () => resolveCredential({ uri: { username: "u", password: "p", db: null }, authMechanism: m }),
        (e) =>
          e instanceof ConfigurationError && e.message.includes(m) && /SCRAM-SHA-256 and SCRAM-SHA-1/.test(e.message),
      );
    }
    assert.throws(() => resolveCredential({ authMechanism: "SCRAM-SHA-256" }), /needs a user name/);
    assert.throws(() => resolveCredential({ uri: { username: "u", password: null, db: null } }), /no password/);
    assert.throws(() => resolveCredential({ auth: { password: "p" } }), /no user name/);
    assert.throws(
      () => resolveCredential({ auth: { username: 7 as unknown as string } }),
      (e) => e instanceof OptionTypeError && e.option === "auth.username" && /auth.username must be a string/.test(e.message),
    );
  });
});
