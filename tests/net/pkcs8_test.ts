// The PKCS#8 decryptor Deno's adapters use for encrypted client keys, checked
// against openssl: keys it encrypted with several PBES2 settings decrypt to
// the bytes of the same key unencrypted; a wrong password, the legacy OpenSSL
// format and an unsupported cipher are ConfigurationErrors that say what to do.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ConfigurationError } from "../../src/errors.ts";
import { decryptPkcs8 } from "../../src/net/_pkcs8.ts";
import { certSkipReason } from "../helpers/tls_certs.ts";

const OPENSSL = "/usr/bin/openssl";
const skip = certSkipReason();
if (skip !== undefined) console.log(`SKIP PKCS#8 decryption tests: ${skip}`);

function der(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
}

describe("decryptPkcs8", { skip }, () => {
  let dir: string;
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  const password = "p4ss wörd";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-pkcs8-"));
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "ec.key");
    run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const variants: [string, string[]][] = [
    ["aes-256-cbc, HMAC-SHA-256 (openssl's default)", ["-v2", "aes-256-cbc"]],
    ["aes-128-cbc, HMAC-SHA-1", ["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"]],
    ["aes-256-cbc, HMAC-SHA-512, 100000 iterations", ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512", "-iter", "100000"]],
  ];
  for (const key of ["ec.key", "rsa.key"]) {
    for (const [label, args] of variants) {
      test(`${key}: ${label} decrypts to openssl's unencrypted key`, async () => {
        const encrypted = run("pkcs8", "-topk8", "-in", key, ...args, "-passout", `pass:${password}`);
        const plain = run("pkcs8", "-topk8", "-nocrypt", "-in", key);
        const decrypted = await decryptPkcs8(encrypted, password, "test key");
        assert.match(decrypted, /^-----BEGIN PRIVATE KEY-----\n/);
        assert.equal(der(decrypted), der(plain));
      });
    }
  }

  test("a wrong password is a ConfigurationError naming tlsCertificateKeyFilePassword", async () => {
    const encrypted = run("pkcs8", "-topk8", "-in", "ec.key", "-v2", "aes-256-cbc", "-passout", `pass:${password}`);
    for (const wrong of ["", "nope", password.toUpperCase(), "x".repeat(300)]) {
      await assert.rejects(
        decryptPkcs8(encrypted, wrong, "test key"),
        (e) => e instanceof ConfigurationError && /tlsCertificateKeyFilePassword does not decrypt/.test(e.message),
      );
    }
  });

  test("the legacy OpenSSL format and other ciphers are ConfigurationErrors that say how to convert", async () => {
    const legacy = run("ec", "-in", "ec.key", "-aes256", "-passout", `pass:${password}`);
    assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
    await assert.rejects(
      decryptPkcs8(legacy, password, "test key"),
      (e) => e instanceof ConfigurationError && /legacy OpenSSL encryption.*openssl pkcs8 -topk8/.test(e.message),
    );
    const des = run("pkcs8", "-topk8", "-in", "ec.key", "-v2", "des3", "-passout", `pass:${password}`);
    await assert.rejects(
      decryptPkcs8(des, password, "test key"),
      (e) => e instanceof ConfigurationError && /unsupported cipher.*openssl pkcs8 -topk8/.test(e.message),
    );
  });
});
