/**
 * Decrypts a PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2 with HMAC-SHA-1/256/384/512,
 * then AES-128/256-CBC; what `openssl pkey -aes256` and `openssl pkcs8 -topk8 -v2 aes-256-cbc`
 * write) with WebCrypto, for Deno, whose TLS reads unencrypted PEM keys only. Internal.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { ResolvedSocketOptions, TlsFiles } from "./_socket_util.ts";

const PBES2 = "1.2.840.113549.1.5.13";
const PBKDF2 = "1.2.840.113549.1.5.12";
const PRFS: Readonly<Record<string, string>> = {
  "1.2.840.113549.2.7": "SHA-1",
  "1.2.840.113549.2.9": "SHA-256",
  "1.2.840.113549.2.10": "SHA-384",
  "1.2.840.113549.2.11": "SHA-512",
};
const CIPHERS: Readonly<Record<string, number>> = {
  "2.16.840.1.101.3.4.1.2": 16, // aes128-CBC
  "2.16.840.1.101.3.4.1.42": 32, // aes256-CBC
};

interface Node {
  tag: number;
  body: Uint8Array;
}

/** A minimal DER reader: definite lengths only, which is all DER allows. */
class Der {
  #bytes: Uint8Array;
  #at = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  get done(): boolean {
    return this.#at >= this.#bytes.length;
  }
  next(tag?: number): Node {
    const b = this.#bytes;
    if (this.#at + 2 > b.length) throw new Error("truncated DER");
    const t = b[this.#at++];
    if (tag !== undefined && t !== tag) throw new Error(`DER tag ${t}, expected ${tag}`);
    let len = b[this.#at++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new Error("unsupported DER length");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[this.#at++];
    }
    if (this.#at + len > b.length) throw new Error("truncated DER");
    const body = b.subarray(this.#at, this.#at + len);
    this.#at += len;
    return { tag: t, body };
  }
}

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const INTEGER = 0x02;
const OID = 0x06;

function oid(body: Uint8Array): string {
  const parts = [Math.floor(body[0] / 40), body[0] % 40];
  let value = 0;
  for (let i = 1; i < body.length; i++) {
    value = value * 128 + (body[i] & 0x7f);
    if ((body[i] & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function integer(body: Uint8Array): number {
  let value = 0;
  for (const byte of body) value = value * 256 + byte;
  return value;
}

function base64Decode(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The unencrypted PKCS#8 PEM (`PRIVATE KEY`) of an encrypted one.
 *
 * @throws {ConfigurationError} For a legacy `Proc-Type: 4,ENCRYPTED` key, a scheme other than
 *   PBES2/PBKDF2/AES-CBC, or a password that does not decrypt it.
 */
export async function decryptPkcs8(pem: string, password: string, where: string): Promise<string> {
  const match = /-----BEGIN ENCRYPTED PRIVATE KEY-----([\s\S]*?)-----END ENCRYPTED PRIVATE KEY-----/.exec(pem);
  const convert = "convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pkcs8.pem`";
  if (match === null) {
    throw new ConfigurationError(`the private key in ${where} uses the legacy OpenSSL encryption, which Deno cannot read: ${convert}`);
  }
  let params: { salt: Uint8Array; iterations: number; hash: string; keyLength: number; iv: Uint8Array; data: Uint8Array };
  try {
    const outer = new Der(new Der(base64Decode(match[1])).next(SEQUENCE).body);
    const algorithm = new Der(outer.next(SEQUENCE).body);
    const data = outer.next(OCTET_STRING).body;
    if (oid(algorithm.next(OID).body) !== PBES2) throw new Error("not PBES2");
    const pbes2 = new Der(algorithm.next(SEQUENCE).body);
    const kdf = new Der(pbes2.next(SEQUENCE).body);
    const cipher = new Der(pbes2.next(SEQUENCE).body);
    if (oid(kdf.next(OID).body) !== PBKDF2) throw new Error("not PBKDF2");
    const kdfParams = new Der(kdf.next(SEQUENCE).body);
    const salt = kdfParams.next(OCTET_STRING).body;
    const iterations = integer(kdfParams.next(INTEGER).body);
    let hash = "SHA-1";
    let keyLength: number | undefined;
    while (!kdfParams.done) {
      const node = kdfParams.next();
      if (node.tag === INTEGER) keyLength = integer(node.body);
      else if (node.tag === SEQUENCE) {
        const prf = PRFS[oid(new Der(node.body).next(OID).body)];
        if (prf === undefined) throw new Error("unsupported PBKDF2 PRF");
        hash = prf;
      }
    }
    const size = CIPHERS[oid(cipher.next(OID).body)];
    if (size === undefined) throw new Error("unsupported cipher");
    const iv = cipher.next(OCTET_STRING).body;
    params = { salt, iterations, hash, keyLength: keyLength ?? size, iv, data };
  } catch (error) {
    throw new ConfigurationError(
      `the encrypted private key in ${where} is not PBES2 with PBKDF2 and AES-128/256-CBC ` +
        `(${(error as Error).message}), which is what Deno can decrypt: ${convert}`,
    );
  }
  const subtle = crypto.subtle;
  let plain: ArrayBuffer;
  try {
    const base = await subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
    const bits = await subtle.deriveBits(
      { name: "PBKDF2", salt: params.salt as BufferSource, iterations: params.iterations, hash: params.hash },
      base,
      params.keyLength * 8,
    );
    const key = await subtle.importKey("raw", bits, "AES-CBC", false, ["decrypt"]);
    plain = await subtle.decrypt({ name: "AES-CBC", iv: params.iv as BufferSource }, key, params.data as BufferSource);
  } catch (error) {
    throw new ConfigurationError(
      `tlsCertificateKeyFilePassword does not decrypt the private key in ${where} (${(error as Error).message})`,
    );
  }
  const bytes = new Uint8Array(plain);
  // A wrong password passes the padding check now and then: the result must still be a DER SEQUENCE.
  try {
    const seq = new Der(bytes);
    seq.next(SEQUENCE);
    if (!seq.done) throw new Error("trailing bytes");
  } catch {
    throw new ConfigurationError(`tlsCertificateKeyFilePassword does not decrypt the private key in ${where}`);
  }
  const lines = base64Encode(bytes).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

/** `files` with its client key decrypted, when it is encrypted (readTlsFiles made sure a password is given). */
export async function withDecryptedKey(options: ResolvedSocketOptions, files: TlsFiles): Promise<TlsFiles> {
  const clientKey = files.clientKey;
  if (clientKey === undefined || !clientKey.encrypted) return files;
  const where = `tlsCertificateKeyFile ${JSON.stringify(options.tlsCertificateKeyFile)}`;
  const key = await decryptPkcs8(clientKey.key, options.tlsCertificateKeyFilePassword ?? "", where);
  return { ...files, clientKey: { ...clientKey, key, encrypted: false } };
}
