/**
 * The server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as mongod speaks it:
 * `saslStart` / `saslContinue` with `conversationId`, the optional
 * `skipEmptyExchange`, and the first step carried in a handshake
 * (`speculativeAuthenticate`). Only the derived keys of a password are kept
 * (StoredKey and ServerKey), as mongod keeps them in `admin.system.users`.
 * Written from the RFCs; shares no code with the driver's client side, which
 * it exists to check.
 *
 * Internal to `src/testing`: {@linkcode deriveCredential} and the
 * `serverNonce` option of {@linkcode Authenticator.saslStart} are the seams
 * that let a test replay a published conversation.
 *
 * @module
 */
import { Binary, type Document } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import { isPlainDocument, numericValue } from "./query.ts";

/** Byte arrays on a plain ArrayBuffer, as Web Crypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;

/** The only mechanism the simulator speaks. */
export const SCRAM_SHA_256 = "SCRAM-SHA-256";

/** Commands mongod runs on a connection that has not authenticated. */
export const UNAUTHENTICATED_COMMANDS: ReadonlySet<string> = new Set([
  "hello",
  "isMaster",
  "ismaster",
  "ping",
  "saslStart",
  "saslContinue",
  "buildInfo",
  "buildinfo",
  "endSessions",
]);

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
// 4.0 (wire 7) brought SCRAM-SHA-256 and saslSupportedMechs; 4.4 (wire 9)
// speculative authentication and skipEmptyExchange.
const SHA256_WIRE = 7;
const SPECULATIVE_WIRE = 9;
const CONVERSATION_ID = 1;

/** What a refused conversation gets, whatever the reason: mongod tells the client no more. */
export function authenticationFailed(): Document {
  return { ok: 0, errmsg: "Authentication failed.", code: ErrorCode.AuthenticationFailed, codeName: "AuthenticationFailed" };
}

/** What a command needing authentication gets on a connection that has none. */
export function unauthorized(command: string): Document {
  return { ok: 0, errmsg: `command ${command} requires authentication`, code: 13, codeName: "Unauthorized" };
}

/** A user as the server stores it: the keys derived from the password, never the password. */
export interface ScramCredential {
  readonly user: string;
  readonly db: string;
  readonly mechanisms: readonly string[];
  /** The salt, base64. */
  readonly salt: string;
  readonly iterations: number;
  readonly storedKey: Bytes;
  readonly serverKey: Bytes;
}

/** A user to create; see `UserConfig` in replica_set.ts for the public form. */
export interface UserSpec {
  user: string;
  password: string;
  db: string;
  mechanisms: readonly string[];
}

/** Options of {@linkcode deriveCredential}. */
export interface DeriveOptions {
  iterations: number;
  /** The salt (default: 16 random bytes). */
  salt?: Uint8Array;
}

/**
 * Derives what the server stores for a user: SaltedPassword = PBKDF2(prepared
 * password, salt, i), then StoredKey = H(HMAC(SaltedPassword, "Client Key"))
 * and ServerKey = HMAC(SaltedPassword, "Server Key").
 *
 * @throws {ConfigurationError} when the password cannot be prepared (see {@linkcode preparePassword}).
 * @example
 * ```ts ignore
 * const c = await deriveCredential({ user: "ada", password: "pencil", db: "admin", mechanisms: ["SCRAM-SHA-256"] }, {
 *   iterations: 4096,
 * });
 * ```
 */
export async function deriveCredential(spec: UserSpec, options: DeriveOptions): Promise<ScramCredential> {
  const password = preparePassword(spec.password, `the password of user ${JSON.stringify(spec.user)}`);
  const salt = new Uint8Array(options.salt ?? crypto.getRandomValues(new Uint8Array(16)));
  const material = await crypto.subtle.importKey("raw", UTF8.encode(password), "PBKDF2", false, ["deriveBits"]);
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", salt, iterations: options.iterations, hash: "SHA-256" },
      material,
      256,
    ),
  );
  const clientKey = await hmac(salted, UTF8.encode("Client Key"));
  return {
    user: spec.user,
    db: spec.db,
    mechanisms: [...spec.mechanisms],
    salt: base64(salt),
    iterations: options.iterations,
    storedKey: await sha256(clientKey),
    serverKey: await hmac(salted, UTF8.encode("Server Key")),
  };
}

// RFC 3454 table C.1.2 (non-ASCII spaces, mapped to SPACE) and B.1 (mapped to nothing).
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
// Controls, private use, non-characters and lone surrogates: prohibited output.
const PROHIBITED = /\p{Cc}|\p{Co}|\p{Cs}|[\uFDD0-\uFDEF\uFFFE\uFFFF]/u;

/**
 * SASLprep (RFC 4013) of a password, approximated: printable ASCII is kept as
 * it is; otherwise non-ASCII spaces become spaces, the characters RFC 3454
 * maps to nothing are removed and the result is NFKC-normalized. Controls,
 * private-use characters and unpaired surrogates are refused. The
 * bidirectional-text rules and unassigned code points are not checked.
 *
 * @throws {ConfigurationError} when the prepared password is empty or holds a prohibited character.
 */
export function preparePassword(password: string, what: string): string {
  const prepared = /^[\x20-\x7E]*$/.test(password)
    ? password
    : password.replace(NON_ASCII_SPACE, " ").replace(MAPPED_TO_NOTHING, "").normalize("NFKC");
  if (prepared === "") throw new ConfigurationError(`${what} is empty after SASLprep`);
  if (PROHIBITED.test(prepared)) {
    throw new ConfigurationError(`${what} holds a character SASLprep prohibits (a control or private-use character)`);
  }
  return prepared;
}

interface Conversation {
  credential: ScramCredential;
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  skipEmptyExchange: boolean;
  /** The proof checked out; only the empty closing step is left. */
  proven: boolean;
}

/**
 * One connection's authentication state. Kept by the member per connection.
 */
export class SaslSession {
  /** `"db.user"` of every user authenticated on the connection. */
  readonly users: Set<string> = new Set();
  /** The conversation in progress, if any. */
  conversation: Conversation | undefined;

  /** Whether some user has authenticated on the connection. */
  get authenticated(): boolean {
    return this.users.size > 0;
  }
}

/** Options of {@linkcode Authenticator.saslStart}. */
export interface SaslStartOptions {
  /** The member's maxWireVersion (what it knows depends on it). */
  wire: number;
  /** The server's half of the nonce (default: 24 random bytes, base64); a seam for published conversations. */
  serverNonce?: string;
}

/**
 * The users of a set and the conversations that prove them.
 *
 * @example
 * ```ts ignore
 * const auth = new Authenticator([await deriveCredential(spec, { iterations: 4096 })]);
 * const session = new SaslSession();
 * const first = auth.saslStart(session, "admin", saslStartCommand, { wire: 21 });
 * const final = await auth.saslContinue(session, saslContinueCommand);
 * console.log(session.authenticated); // true when the proof checked out
 * ```
 */
export class Authenticator {
  #users = new Map<string, ScramCredential>();

  /** Takes credentials made by {@linkcode deriveCredential}. */
  constructor(credentials: readonly ScramCredential[]) {
    for (const c of credentials) this.#users.set(`${c.db}.${c.user}`, c);
  }

  /** The mechanisms of `"db.user"` for a hello's `saslSupportedMechs`, or undefined for an unknown user. */
  supportedMechanisms(name: unknown, wire: number): string[] | undefined {
    if (typeof name !== "string" || wire < SHA256_WIRE) return undefined;
    const c = this.#users.get(name);
    return c === undefined ? undefined : [...c.mechanisms];
  }

  /** `saslStart` on database `db`: the server's first message, or AuthenticationFailed. */
  saslStart(session: SaslSession, db: string, body: Document, options: SaslStartOptions): Document {
    // A new saslStart abandons whatever conversation was in progress.
    session.conversation = undefined;
    const mechanism = body.mechanism;
    if (mechanism !== SCRAM_SHA_256 || options.wire < SHA256_WIRE) return authenticationFailed();
    const clientFirst = payloadText(body.payload);
    if (clientFirst === undefined) return authenticationFailed();
    const parsed = parseClientFirst(clientFirst);
    if (parsed === undefined) return authenticationFailed();
    const credential = this.#users.get(`${db}.${parsed.user}`);
    if (credential === undefined || !credential.mechanisms.includes(mechanism)) return authenticationFailed();
    const nonce = parsed.nonce + (options.serverNonce ?? base64(crypto.getRandomValues(new Uint8Array(24))));
    const serverFirst = `r=${nonce},s=${credential.salt},i=${credential.iterations}`;
    const opts = isPlainDocument(body.options) ? body.options : {};
    session.conversation = {
      credential,
      gs2Header: parsed.gs2Header,
      clientFirstBare: parsed.bare,
      serverFirst,
      nonce,
      // Servers before 4.4 do not know the option and always want the empty step.
      skipEmptyExchange: options.wire >= SPECULATIVE_WIRE && truthy(opts.skipEmptyExchange),
      proven: false,
    };
    return { conversationId: CONVERSATION_ID, done: false, payload: binary(serverFirst), ok: 1 };
  }

  /** `saslContinue`: checks the client's proof and answers with the server's signature. */
  async saslContinue(session: SaslSession, body: Document): Promise<Document> {
    const conv = session.conversation;
    const fail = () => {
      session.conversation = undefined;
      return authenticationFailed();
    };
    if (conv === undefined || Number(numericValue(body.conversationId)) !== CONVERSATION_ID) return fail();
    const text = payloadText(body.payload);
    if (text === undefined) return fail();
    if (conv.proven) {
      if (text !== "") return fail();
      return this.#succeed(session, conv, "");
    }
    const at = text.lastIndexOf(",p=");
    if (at < 0) return fail();
    const withoutProof = text.slice(0, at);
    const proof = fromBase64(text.slice(at + 3));
    const attrs = withoutProof.split(",");
    if (
      proof === undefined || proof.length !== 32 || attrs.length < 2 ||
      attrs[0] !== `c=${base64(UTF8.encode(conv.gs2Header))}` || attrs[1] !== `r=${conv.nonce}`
    ) return fail();
    const authMessage = UTF8.encode(`${conv.clientFirstBare},${conv.serverFirst},${withoutProof}`);
    const { storedKey, serverKey } = conv.credential;
    const clientSignature = await hmac(storedKey, authMessage);
    const clientKey = new Uint8Array(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!sameBytes(await sha256(clientKey), storedKey)) return fail();
    const verifier = `v=${base64(await hmac(serverKey, authMessage))}`;
    if (conv.skipEmptyExchange) return this.#succeed(session, conv, verifier);
    conv.proven = true;
    return { conversationId: CONVERSATION_ID, done: false, payload: binary(verifier), ok: 1 };
  }

  /**
   * The `speculativeAuthenticate` of a handshake (a saslStart document with
   * `db`): the fields of the saslStart reply, or undefined when it fails or
   * the member is older than 4.4 (the field is then left out of the reply).
   */
  speculative(session: SaslSession, doc: unknown, wire: number): Document | undefined {
    if (wire < SPECULATIVE_WIRE || !isPlainDocument(doc) || typeof doc.db !== "string") return undefined;
    if (Number(numericValue(doc.saslStart)) !== 1) return undefined;
    const reply = this.saslStart(session, doc.db, doc, { wire });
    if (reply.ok !== 1) return undefined;
    return { conversationId: reply.conversationId, done: reply.done, payload: reply.payload };
  }

  #succeed(session: SaslSession, conv: Conversation, payload: string): Document {
    session.conversation = undefined;
    session.users.add(`${conv.credential.db}.${conv.credential.user}`);
    return { conversationId: CONVERSATION_ID, done: true, payload: binary(payload), ok: 1 };
  }
}

interface ClientFirst {
  gs2Header: string;
  bare: string;
  user: string;
  nonce: string;
}

// "n,,n=<user>,r=<nonce>[,ext]": no channel binding ("p=" is refused), an
// authzid only when it names the user itself, no mandatory extension ("m=").
function parseClientFirst(text: string): ClientFirst | undefined {
  const first = text.indexOf(",");
  const second = first < 0 ? -1 : text.indexOf(",", first + 1);
  if (second < 0) return undefined;
  const binding = text.slice(0, first);
  const authzid = text.slice(first + 1, second);
  if (binding !== "n" && binding !== "y") return undefined;
  if (authzid !== "" && !authzid.startsWith("a=")) return undefined;
  const bare = text.slice(second + 1);
  const attrs = bare.split(",");
  if (attrs.length < 2 || !attrs[0].startsWith("n=") || !attrs[1].startsWith("r=")) return undefined;
  const user = unescapeName(attrs[0].slice(2));
  const nonce = attrs[1].slice(2);
  if (user === undefined || user === "" || !/^[\x21-\x2B\x2D-\x7E]+$/.test(nonce)) return undefined;
  if (authzid !== "" && unescapeName(authzid.slice(2)) !== user) return undefined;
  return { gs2Header: text.slice(0, second + 1), bare, user, nonce };
}

// saslname: "=" only as "=3D" or "=2C".
function unescapeName(name: string): string | undefined {
  if (/=(?!3D|2C)/.test(name)) return undefined;
  return name.replaceAll("=2C", ",").replaceAll("=3D", "=");
}

function payloadText(payload: unknown): string | undefined {
  try {
    if (payload instanceof Binary) return STRICT_UTF8.decode(payload.buffer);
  } catch {
    return undefined;
  }
  return typeof payload === "string" ? payload : undefined;
}

function truthy(v: unknown): boolean {
  const n = numericValue(v);
  return n !== undefined ? Number(n) !== 0 : v === true;
}

function binary(text: string): Binary {
  return new Binary(UTF8.encode(text));
}

async function hmac(key: Bytes, data: Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

// Looks at every byte, so the time taken says nothing about where they differ.
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Bytes | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
