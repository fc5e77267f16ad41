/**
 * Authentication of a new connection with SCRAM-SHA-256 or SCRAM-SHA-1
 * (RFC 5802 and RFC 7677, in MongoDB's form: `saslStart` / `saslContinue`
 * commands on the credential's database). Run by `Connection.connect` right
 * after the handshake's `hello`, before the connection is handed out; monitor
 * connections never authenticate.
 *
 * The mechanism, when the credential names none, is chosen from the
 * `saslSupportedMechs` the server listed for the user in its `hello` reply:
 * SCRAM-SHA-256 when listed, else SCRAM-SHA-1. The first step also rides in
 * the handshake (`speculativeAuthenticate`), so a 4.4+ server needs one round
 * trip less. The keys derived from a
 * password (PBKDF2, the costly part) are cached per salt and iteration count,
 * so only a pool's first connection pays for them.
 *
 * @module
 */
import { Binary, type Document } from "../bson/mod.ts";
import { AuthenticationError, OperationFailure } from "../errors.ts";

/**
 * The SCRAM mechanisms this driver speaks.
 *
 * @example
 * ```ts
 * import type { ScramMechanism } from "./auth.ts";
 *
 * const m: ScramMechanism = "SCRAM-SHA-256";
 * ```
 */
export type ScramMechanism = "SCRAM-SHA-1" | "SCRAM-SHA-256";

/**
 * Who a connection authenticates as. Resolved by the client from the
 * connection string's user information and the `auth*` options.
 *
 * @example
 * ```ts
 * import type { Credential } from "./auth.ts";
 *
 * const credential: Credential = { username: "ada", password: "pencil", source: "admin" };
 * ```
 */
export interface Credential {
  /** The user name, as created on the server (not SASLprep'd). */
  readonly username: string;
  /** The password. */
  readonly password: string;
  /** The database the user is defined in (`authSource`). */
  readonly source: string;
  /** The mechanism; absent: negotiated from the server's `saslSupportedMechs`. */
  readonly mechanism?: ScramMechanism;
}

/** What {@linkcode authenticate} needs of a connection: one command round trip. */
export type RunCommand = (db: string, cmd: Document) => Promise<Document>;

/**
 * Options of {@linkcode authenticate}.
 *
 * @example
 * ```ts
 * import type { AuthenticateOptions } from "./auth.ts";
 *
 * const options: AuthenticateOptions = { address: "db1:27017", hello: { saslSupportedMechs: ["SCRAM-SHA-256"] } };
 * ```
 */
export interface AuthenticateOptions {
  /** The server, for errors. */
  address: string;
  /** The server's handshake reply (its `saslSupportedMechs` choose the mechanism). */
  hello: Document;
  /** The pool generation of the connection, for errors. */
  generation?: number;
  /** The client nonce, for tests against published conversations; default 24 random bytes. */
  nonce?: string;
  /** The first step the handshake carried, if any (see {@linkcode speculativeStart}). */
  speculative?: SpeculativeStart;
}

/** The SCRAM iteration count below which a server is not trusted (RFC 7677 asks for at least 4096). */
export const MIN_SCRAM_ITERATIONS = 4096;

/**
 * The field a handshake carries so that the server lists the user's
 * mechanisms: `saslSupportedMechs: "<source>.<user>"`, when the mechanism is
 * left to negotiation; `{}` otherwise.
 *
 * @example
 * ```ts
 * import { negotiationFields } from "./auth.ts";
 *
 * console.log(negotiationFields({ username: "ada", password: "x", source: "admin" }));
 * // { saslSupportedMechs: "admin.ada" }
 * ```
 */
export function negotiationFields(credential: Credential): Document {
  return credential.mechanism === undefined
    ? { saslSupportedMechs: `${credential.source}.${credential.username}` }
    : {};
}

/**
 * The mechanism for `credential` against a server that answered `hello`.
 *
 * @example
 * ```ts
 * import { chooseMechanism } from "./auth.ts";
 *
 * const c = { username: "ada", password: "x", source: "admin" };
 * console.log(chooseMechanism(c, { saslSupportedMechs: ["SCRAM-SHA-1", "SCRAM-SHA-256"] })); // "SCRAM-SHA-256"
 * console.log(chooseMechanism(c, {})); // "SCRAM-SHA-1"
 * ```
 */
export function chooseMechanism(credential: Credential, hello: Document): ScramMechanism {
  if (credential.mechanism !== undefined) return credential.mechanism;
  const listed = hello.saslSupportedMechs;
  if (Array.isArray(listed) && listed.includes("SCRAM-SHA-256")) return "SCRAM-SHA-256";
  return "SCRAM-SHA-1";
}

/**
 * Authenticates one connection: the whole SCRAM conversation, the server's
 * signature checked.
 *
 * @param credential Who to authenticate as.
 * @param run Sends one command on the connection and returns its reply (throws `OperationFailure` on `ok: 0`).
 * @param options The server's address and handshake reply.
 * @throws {AuthenticationError} when the server refuses, or its side of the conversation does not check out.
 * @throws {ConfigurationError} when the password cannot be prepared (SASLprep).
 * @example
 * ```ts ignore
 * import { authenticate } from "./auth.ts";
 *
 * await authenticate({ username: "ada", password: "pencil", source: "admin" }, (db, cmd) => conn.command(db, cmd), {
 *   address: "db1:27017",
 *   hello: conn.hello,
 * });
 * ```
 */
export async function authenticate(
  credential: Credential,
  run: RunCommand,
  options: AuthenticateOptions,
): Promise<void> {
  const speculative = options.speculative;
  const answered = options.hello.speculativeAuthenticate;
  // The server took the speculative first step in its hello reply: go on from there.
  if (speculative !== undefined && answered !== null && typeof answered === "object") {
    await converse(credential, run, options, speculative.mechanism, speculative.nonce, answered as Document);
    return;
  }
  const mechanism = chooseMechanism(credential, options.hello);
  const nonce = options.nonce ?? newNonce();
  await converse(credential, run, options, mechanism, nonce, undefined);
}

/**
 * A SCRAM first step to send inside the handshake (`speculativeAuthenticate`,
 * MongoDB 4.4+): a server that can take it answers with its first message in
 * the `hello` reply, which saves a round trip per connection. Without a
 * mechanism in the credential it speaks SCRAM-SHA-256; a server that declines
 * (an older one, or a user without SCRAM-SHA-256) is authenticated the usual
 * way by {@linkcode authenticate}.
 *
 * @example
 * ```ts
 * import { speculativeStart } from "./auth.ts";
 *
 * const s = speculativeStart({ username: "ada", password: "pencil", source: "admin" });
 * console.log(s.mechanism, s.document.db); // "SCRAM-SHA-256" "admin"
 * ```
 */
export function speculativeStart(credential: Credential, nonce: string = newNonce()): SpeculativeStart {
  const mechanism = credential.mechanism ?? "SCRAM-SHA-256";
  return { mechanism, nonce, document: { ...startCommand(credential, mechanism, nonce), db: credential.source } };
}

/**
 * What {@linkcode speculativeStart} returns: the `speculativeAuthenticate`
 * document for the handshake, and what {@linkcode authenticate} needs to go on.
 *
 * @example
 * ```ts
 * import type { SpeculativeStart } from "./auth.ts";
 *
 * function field(s: SpeculativeStart) {
 *   return { speculativeAuthenticate: s.document };
 * }
 * ```
 */
export interface SpeculativeStart {
  /** The mechanism of the first step. */
  readonly mechanism: ScramMechanism;
  /** The client nonce of the first step. */
  readonly nonce: string;
  /** The `saslStart` command, with `db`, to send as the handshake's `speculativeAuthenticate`. */
  readonly document: Document;
}

function startCommand(credential: Credential, mechanism: ScramMechanism, nonce: string): Document {
  return {
    saslStart: 1,
    mechanism,
    payload: new Binary(UTF8.encode(`n,,${clientFirstBare(credential, nonce)}`)),
    autoAuthorize: 1,
    options: { skipEmptyExchange: true },
  };
}

function clientFirstBare(credential: Credential, nonce: string): string {
  return `n=${escapeUsername(credential.username)},r=${nonce}`;
}

function newNonce(): string {
  return base64(crypto.getRandomValues(new Uint8Array(24)));
}

// The conversation from the first step on; `start` is the server's answer to
// it when the handshake carried it (speculative authentication).
async function converse(
  credential: Credential,
  run: RunCommand,
  options: AuthenticateOptions,
  mechanism: ScramMechanism,
  nonce: string,
  answered: Document | undefined,
): Promise<void> {
  const fail = (message: string, cause?: unknown): AuthenticationError => {
    const refused = cause instanceof OperationFailure ? cause : undefined;
    return new AuthenticationError(message, {
      address: options.address,
      mechanism,
      code: refused?.code,
      codeName: refused?.codeName,
      generation: options.generation,
      cause,
    });
  };
  const exchange = async (cmd: Document): Promise<Document> => {
    try {
      return await run(credential.source, cmd);
    } catch (error) {
      if (error instanceof OperationFailure) {
        throw fail(
          `authentication of user ${quote(credential.username)} on ${
            quote(credential.source)
          } with ${mechanism} failed: ${error.errmsg}`,
          error,
        );
      }
      throw error;
    }
  };
  const hash = mechanism === "SCRAM-SHA-256" ? "SHA-256" : "SHA-1";
  // SASLprep's tables and MD5 are loaded by the first authentication, not by every client.
  const password = mechanism === "SCRAM-SHA-256"
    ? (await import("./_saslprep.ts")).saslprep(credential.password, "password")
    : hex((await import("./_md5.ts")).md5(UTF8.encode(`${credential.username}:mongo:${credential.password}`)));

  const start = answered ?? await exchange(startCommand(credential, mechanism, nonce));
  const serverFirst = payloadText(start, fail);
  const fields = parseFields(serverFirst);
  const combined = fields.get("r");
  const salt = fields.get("s");
  const iterations = Number(fields.get("i"));
  if (combined === undefined || salt === undefined || !fields.has("i")) {
    throw fail(`the server's first SCRAM message is malformed: ${quote(serverFirst)}`);
  }
  if (!combined.startsWith(nonce) || combined.length === nonce.length) {
    throw fail("the server's nonce does not extend the client's: the server cannot be trusted");
  }
  if (!Number.isInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS) {
    throw fail(`the server asked for ${fields.get("i")} iterations; at least ${MIN_SCRAM_ITERATIONS} are required`);
  }
  let saltBytes: Bytes;
  try {
    saltBytes = fromBase64(salt);
  } catch {
    throw fail(`the server's salt is not base64: ${quote(salt)}`);
  }

  const { clientKey, serverKey } = await deriveKeys(hash, password, saltBytes, salt, iterations);
  const clientFinalBare = `c=biws,r=${combined}`;
  const authMessage = UTF8.encode(`${clientFirstBare(credential, nonce)},${serverFirst},${clientFinalBare}`);
  const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
  const clientSignature = await hmac(hash, storedKey, authMessage);
  const proof = clientKey.map((b, i) => b ^ clientSignature[i]);
  const serverSignature = await hmac(hash, serverKey, authMessage);

  const conversationId = start.conversationId;
  const cont = await exchange({
    saslContinue: 1,
    conversationId,
    payload: new Binary(UTF8.encode(`${clientFinalBare},p=${base64(proof)}`)),
  });
  const serverFinal = parseFields(payloadText(cont, fail));
  const error = serverFinal.get("e");
  if (error !== undefined) throw fail(`the server ended the SCRAM conversation: ${error}`);
  const verifier = serverFinal.get("v");
  if (verifier === undefined || !sameBytes(verifier, base64(serverSignature))) {
    throw fail("the server's SCRAM signature is wrong: the server does not know the password and cannot be trusted");
  }
  // Servers before 4.4 ignore skipEmptyExchange and want one more, empty, step.
  let reply = cont;
  for (let step = 0; reply.done !== true; step++) {
    if (step === 2) throw fail("the server did not finish the SCRAM conversation");
    reply = await exchange({ saslContinue: 1, conversationId, payload: new Binary(new Uint8Array(0)) });
  }
}

// ---- internals ---------------------------------------------------------------

/** Byte arrays on a plain ArrayBuffer, as Web Crypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;

const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: true });

interface Keys {
  clientKey: Bytes;
  serverKey: Bytes;
}

// Derived keys by mechanism, prepared password, salt and iteration count. A
// pool opens many connections with one credential: PBKDF2 (thousands of HMAC
// rounds) runs once. Bounded, oldest out first.
const KEY_CACHE = new Map<string, Keys>();
const KEY_CACHE_MAX = 64;

async function deriveKeys(
  hash: "SHA-1" | "SHA-256",
  password: string,
  salt: Bytes,
  saltText: string,
  iterations: number,
): Promise<Keys> {
  const cacheKey = `${hash}\0${saltText}\0${iterations}\0${password}`;
  const cached = KEY_CACHE.get(cacheKey);
  if (cached !== undefined) return cached;
  const material = await crypto.subtle.importKey("raw", UTF8.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = hash === "SHA-256" ? 256 : 160;
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", salt, iterations, hash }, material, bits),
  );
  const keys = {
    clientKey: await hmac(hash, salted, UTF8.encode("Client Key")),
    serverKey: await hmac(hash, salted, UTF8.encode("Server Key")),
  };
  if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.delete(KEY_CACHE.keys().next().value!);
  KEY_CACHE.set(cacheKey, keys);
  return keys;
}

async function hmac(hash: "SHA-1" | "SHA-256", key: Bytes, data: Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

function payloadText(reply: Document, fail: (message: string) => AuthenticationError): string {
  const payload = reply.payload;
  if (!(payload instanceof Binary)) throw fail("the server's SASL reply has no binary payload");
  try {
    return UTF8_DECODER.decode(payload.buffer);
  } catch {
    throw fail("the server's SASL payload is not UTF-8");
  }
}

// "k=v,k=v": each value runs to the next comma (SCRAM values never contain one).
function parseFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(",")) {
    if (part.length >= 2 && part[1] === "=") out.set(part[0], part.slice(2));
  }
  return out;
}

function escapeUsername(name: string): string {
  return name.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

// Compares without stopping at the first difference.
function sameBytes(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Bytes {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
