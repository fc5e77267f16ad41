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
