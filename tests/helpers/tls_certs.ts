/**
 * Throw-away TLS material for loopback tests, made with `/usr/bin/openssl` at
 * test time: a CA, a server certificate it signs (SAN `DNS:localhost`, any
 * other names asked for, `IP:127.0.0.1`), and an unrelated second CA. Nothing is committed.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The generated files (paths) and their PEM text. */
export interface TestCerts {
  dir: string;
  /** PEM of the CA that signed the server certificate, and its path. */
  caFile: string;
  /** PEM path of an unrelated CA (for "wrong CA" tests). */
  otherCaFile: string;
  /** Server certificate and key, PEM text. */
  cert: string;
  key: string;
  /** Removes the directory. */
  remove(): void;
}

const OPENSSL = "/usr/bin/openssl";

/** Why certificates cannot be made here, or `undefined` when they can. */
export function certSkipReason(): string | undefined {
  return existsSync(OPENSSL) ? undefined : `${OPENSSL} not found; TLS tests need it to make a test certificate`;
}

/**
 * Makes a fresh CA, server certificate and second CA in a temporary directory.
 * `dnsNames` are added to the server certificate's names (after `localhost`).
 */
export function makeTestCerts(options: { dnsNames?: string[] } = {}): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "zerodep-mongo-tls-"));
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=zerodep test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  writeFileSync(
    join(dir, "server.ext"),
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" +
      `subjectAltName=${["localhost", ...(options.dnsNames ?? [])].map((n) => `DNS:${n}`).join(",")},IP:127.0.0.1\n`,
  );
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
  run("req", "-x509", ...ec, "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=unrelated CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other.pem"),
    cert: readFileSync(join(dir, "server.pem"), "utf8"),
    key: readFileSync(join(dir, "server.key"), "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Client certificates and a misnamed server certificate, made beside a {@linkcode TestCerts}. */
export interface ClientCerts {
  /** One PEM file: a client certificate the CA signed, then its key (MongoDB's tlsCertificateKeyFile). */
  clientFile: string;
  /** The same certificate with its key encrypted (PKCS#8, AES-256) under `password`. */
  encryptedClientFile: string;
  password: string;
  /** A client certificate (and key) signed by the unrelated CA. */
  wrongClientFile: string;
  /** A server certificate the CA signed for `DNS:elsewhere.test` only, and its key (PEM text). */
  misnamedCert: string;
  misnamedKey: string;
  /** A server certificate the unrelated CA signed for `DNS:elsewhere.test`, and its key (PEM text). */
  untrustedMisnamedCert: string;
  untrustedMisnamedKey: string;
}

/** Makes client certificates and misnamed server certificates in `certs.dir` (removed with it). */
export function makeClientCerts(certs: TestCerts): ClientCerts {
  const dir = certs.dir;
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const sign = (name: string, ca: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}\n`);
    run("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    run("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
      "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  sign("client", "ca", "extendedKeyUsage=clientAuth");
  sign("wrongclient", "other", "extendedKeyUsage=clientAuth");
  sign("misnamed", "ca", "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:elsewhere.test");
  sign("untrusted", "other", "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:elsewhere.test");
  const password = "p4ss wörd";
  run("pkey", "-in", "client.key", "-aes256", "-passout", `pass:${password}`, "-out", "client.enc.key");
  writeFileSync(join(dir, "client-file.pem"), read("client.pem") + read("client.key"));
  writeFileSync(join(dir, "client-encrypted.pem"), read("client.pem") + read("client.enc.key"));
  writeFileSync(join(dir, "wrongclient-file.pem"), read("wrongclient.pem") + read("wrongclient.key"));
  return {
    clientFile: join(dir, "client-file.pem"),
    encryptedClientFile: join(dir, "client-encrypted.pem"),
    password,
    wrongClientFile: join(dir, "wrongclient-file.pem"),
    misnamedCert: read("misnamed.pem"),
    misnamedKey: read("misnamed.key"),
    untrustedMisnamedCert: read("untrusted.pem"),
    untrustedMisnamedKey: read("untrusted.key"),
  };
}
