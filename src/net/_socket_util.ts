/**
 * Internal helpers shared by the socket adapters: option checking, address
 * formatting, the connect deadline, and error wording. Not exported from the
 * package.
 *
 * @module
 */

import { ConfigurationError, ConnectionFailure, MongoError, NetworkTimeout } from "../errors.ts";
import type { Socket, SocketOptions } from "./socket.ts";
import { formatAddress } from "../address.ts";
import { describeValue } from "../describe.ts";

/** The default `connectTimeoutMS` of the MongoDB URI-options specification. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

// setTimeout fires at once for delays above 2^31 - 1 ms, so larger values would
// silently mean "no time at all".
const MAX_TIMER_MS = 2_147_483_647;

/** Validated {@linkcode SocketOptions} with every default filled in. */
export interface ResolvedSocketOptions {
  /** How the peer is named in messages and `remoteAddress`. */
  address: string;
  /** Host without IPv6 brackets. */
  host: string;
  port: number;
  path: string | undefined;
  tls: boolean;
  /** SNI to send: `servername`, else `host` unless it is an IP literal. */
  sni: string | undefined;
  /** The name the certificate must match: `servername`, else `host`. */
  verifyName: string;
  tlsCAFile: string | undefined;
  tlsCertificateKeyFile: string | undefined;
  tlsCertificateKeyFilePassword: string | undefined;
  tlsAllowInvalidCertificates: boolean;
  /** `true` also when `tlsAllowInvalidCertificates` is (it relaxes the host-name check too). */
  tlsAllowInvalidHostnames: boolean;
  connectTimeoutMS: number;
  signal: AbortSignal | undefined;
}

/** Whether `host` is an IPv4 or IPv6 literal (brackets already removed). */
export function isIpLiteral(host: string): boolean {
  return host.includes(":") || /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Checks `options` and fills in defaults; throws `ConfigurationError` naming the bad option. */
export function resolveSocketOptions(options: SocketOptions): ResolvedSocketOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(`socket options must be an object, got ${describeValue(options)}`);
  }
  const { path, tls = false, servername, tlsCAFile, tlsAllowInvalidCertificates = false, signal } = options;
  const { tlsCertificateKeyFile, tlsCertificateKeyFilePassword, tlsAllowInvalidHostnames = false } = options;
  const connectTimeoutMS = options.connectTimeoutMS ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (typeof tls !== "boolean") throw new ConfigurationError(`tls must be a boolean, got ${describeValue(tls)}`);
  if (typeof tlsAllowInvalidCertificates !== "boolean") {
    throw new ConfigurationError(
      `tlsAllowInvalidCertificates must be a boolean, got ${describeValue(tlsAllowInvalidCertificates)}`,
    );
  }
  if (servername !== undefined && (typeof servername !== "string" || servername === "")) {
    throw new ConfigurationError(`servername must be a non-empty string, got ${describeValue(servername)}`);
  }
  if (tlsCAFile !== undefined && (typeof tlsCAFile !== "string" || tlsCAFile === "")) {
    throw new ConfigurationError(`tlsCAFile must be a non-empty file path, got ${describeValue(tlsCAFile)}`);
  }
  if (typeof tlsAllowInvalidHostnames !== "boolean") {
    throw new ConfigurationError(
      `tlsAllowInvalidHostnames must be a boolean, got ${describeValue(tlsAllowInvalidHostnames)}`,
    );
  }
  if (tlsCertificateKeyFile !== undefined && (typeof tlsCertificateKeyFile !== "string" || tlsCertificateKeyFile === "")) {
    throw new ConfigurationError(
      `tlsCertificateKeyFile must be a non-empty file path, got ${describeValue(tlsCertificateKeyFile)}`,
    );
  }
  if (tlsCertificateKeyFilePassword !== undefined) {
    if (typeof tlsCertificateKeyFilePassword !== "string") {
      throw new ConfigurationError(
        `tlsCertificateKeyFilePassword must be a string, got ${describeValue(tlsCertificateKeyFilePassword)}`,
      );
    }
    if (tlsCertificateKeyFile === undefined) {
      throw new ConfigurationError("tlsCertificateKeyFilePassword needs tlsCertificateKeyFile");
    }
  }
  if (
    typeof connectTimeoutMS !== "number" || !Number.isFinite(connectTimeoutMS) || connectTimeoutMS < 0 ||
    connectTimeoutMS > MAX_TIMER_MS
  ) {
    throw new ConfigurationError(
      `connectTimeoutMS must be a number from 0 (no limit) to ${MAX_TIMER_MS}, got ${describeValue(connectTimeoutMS)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigurationError(`signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  const common = {
    tls,
    tlsCAFile,
    tlsCertificateKeyFile,
    tlsCertificateKeyFilePassword,
    tlsAllowInvalidCertificates,
    tlsAllowInvalidHostnames: tlsAllowInvalidHostnames || tlsAllowInvalidCertificates,
    connectTimeoutMS,
    signal,
  };

  if (path !== undefined) {
    if (typeof path !== "string" || path === "") {
      throw new ConfigurationError(`path must be a non-empty Unix socket path, got ${describeValue(path)}`);
    }
    if (tls) throw new ConfigurationError(`tls is not supported over a Unix domain socket (path ${path})`);
    return { ...common, address: path, host: "", port: 0, path, sni: undefined, verifyName: "" };
  }

  let host = options.host;
  if (typeof host !== "string" || host.trim() === "" || /\s/.test(host)) {
    throw new ConfigurationError(`host must be a non-empty host name or IP address, got ${describeValue(host)}`);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = options.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`port must be an integer from 1 to 65535, got ${describeValue(port)}`);
  }
  const sni = servername ?? (isIpLiteral(host) ? undefined : host);
  return {
    ...common,
    address: formatAddress({ host, port }),
    host,
    port,
    path: undefined,
    sni,
    verifyName: servername ?? host,
  };
}

/** The message of an underlying error, with its `code` when the message lacks it. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message || error.name;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code !== "" && !message.includes(code) ? `${message} (${code})` : message;
}

/** Checks the text of a CA file, so that a wrong file fails with a clear message instead of a TLS error. */
export function checkCAFileText(path: string, text: string): string {
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigurationError(`tlsCAFile ${JSON.stringify(path)} holds no PEM certificate`);
  }
  return text;
}

/** A client certificate chain and its private key, as read from `tlsCertificateKeyFile`. */
export interface ClientKey {
  /** The PEM certificate blocks, in file order. */
  cert: string;
  /** The PEM private-key block. */
  key: string;
  /** Whether the key is encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY` or a legacy `Proc-Type: 4,ENCRYPTED` key). */
  encrypted: boolean;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Splits the text of a `tlsCertificateKeyFile` (MongoDB's format: one PEM file
 * holding the client certificate, any intermediates, and the private key) into
 * certificates and key, so that a wrong file fails with a clear message.
 */
export function parseClientKeyFile(path: string, text: string): ClientKey {
  const certs: string[] = [];
  const keys: string[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    if (match[1] === "CERTIFICATE") certs.push(match[0]);
    else if (match[1].endsWith("PRIVATE KEY")) keys.push(match[0]);
  }
  const where = `tlsCertificateKeyFile ${JSON.stringify(path)}`;
  if (certs.length === 0) throw new ConfigurationError(`${where} holds no PEM certificate (it needs the certificate and its key)`);
  if (keys.length === 0) throw new ConfigurationError(`${where} holds no PEM private key (it needs the certificate and its key)`);
  if (keys.length > 1) throw new ConfigurationError(`${where} holds ${keys.length} private keys; give exactly one`);
  const key = keys[0];
  const encrypted = key.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /Proc-Type:\s*4,ENCRYPTED/.test(key);
  return { cert: certs.join("\n") + "\n", key: key + "\n", encrypted };
}

/** What the TLS files of a connection hold, read once per connect. */
export interface TlsFiles {
  /** The text of `tlsCAFile`. */
  ca: string | undefined;
  /** The client certificate and key of `tlsCertificateKeyFile`. */
  clientKey: ClientKey | undefined;
}

/** Reads and checks `tlsCAFile` and `tlsCertificateKeyFile` (when TLS is on) with the runtime's file API. */
export async function readTlsFiles(
  options: ResolvedSocketOptions,
  readText: (path: string) => Promise<string>,
): Promise<TlsFiles> {
  if (!options.tls) return { ca: undefined, clientKey: undefined };
  let ca: string | undefined;
  let clientKey: ClientKey | undefined;
  if (options.tlsCAFile !== undefined) {
    const path = options.tlsCAFile;
    let text: string;
    try {
      text = await readText(path);
    } catch (error) {
      throw caFileError(path, error);
    }
    ca = checkCAFileText(path, text);
  }
  if (options.tlsCertificateKeyFile !== undefined) {
    const path = options.tlsCertificateKeyFile;
    let text: string;
    try {
      text = await readText(path);
    } catch (error) {
      throw keyFileError(path, error);
    }
    clientKey = parseClientKeyFile(path, text);
    if (clientKey.encrypted && options.tlsCertificateKeyFilePassword === undefined) {
      throw new ConfigurationError(
        `the private key in tlsCertificateKeyFile ${JSON.stringify(path)} is encrypted: give tlsCertificateKeyFilePassword`,
      );
    }
  }
  return { ca, clientKey };
}

/** The `ConfigurationError` for a client certificate file the runtime could not read. */
export function keyFileError(path: string, cause: unknown): ConfigurationError {
  return new ConfigurationError(
    `tlsCertificateKeyFile ${JSON.stringify(path)} could not be read: ${describeError(cause)}`,
    { cause },
  );
}

/**
 * The `ConfigurationError` for a certificate or key the runtime's TLS refused
 * while setting up the connection (a wrong `tlsCertificateKeyFilePassword`, a
 * key that does not match the certificate).
 */
export function clientKeyRejected(options: ResolvedSocketOptions, cause: unknown): ConfigurationError {
  const password = options.tlsCertificateKeyFilePassword === undefined ? "" : " (is tlsCertificateKeyFilePassword right?)";
  return new ConfigurationError(
    `the client certificate or key in tlsCertificateKeyFile ${JSON.stringify(options.tlsCertificateKeyFile)} ` +
      `was refused${password}: ${describeError(cause)}`,
    { cause },
  );
}

/**
 * A step run on the plain TCP connection before the server is reached: a
 * proxy handshake. The adapter connects to `host:port` instead of the server,
 * runs `open()` over the plain {@linkcode Socket} (which is named after the
 * server), then starts TLS on the same connection when `tls` is on. The whole
 * of it runs inside `connectTimeoutMS` and `signal`.
 */
export interface Tunnel {
  /** The proxy to connect to. */
  host: string;
  port: number;
  /** How errors name it: `SOCKS5 proxy 127.0.0.1:1080`. */
  name: string;
  /** Speaks the proxy's protocol; resolves once the server is reached. Must not read past its reply. */
  open(socket: Socket, giveUp: AbortSignal): Promise<void>;
}

/** The `ConfigurationError` for something the current runtime's socket API cannot do. */
export function unsupportedOnRuntime(runtime: string, what: string, why: string): ConfigurationError {
  return new ConfigurationError(`${what} is not supported on ${runtime}: ${why}`);
}

/** The `ConfigurationError` for a CA file the runtime could not read. */
export function caFileError(path: string, cause: unknown): ConfigurationError {
  return new ConfigurationError(`tlsCAFile ${JSON.stringify(path)} could not be read: ${describeError(cause)}`, {
    cause,
  });
}

/**
 * Runs one connect attempt under `connectTimeoutMS` and `signal` (see
 * {@linkcode runBounded}); a socket that arrives after the attempt was given
 * up is closed.
 */
export function runConnect<T extends { close(): void }>(
  options: ResolvedSocketOptions,
  connect: (giveUp: AbortSignal) => Promise<T>,
): Promise<T> {
  const { signal, connectTimeoutMS, address } = options;
  return runBounded({ what: "connect", address, timeoutMS: connectTimeoutMS, signal }, connect, (s) => s.close());
}

/** The limits of one {@linkcode runBounded} attempt. */
export interface BoundedAttempt {
  /** What is attempted, for messages: "connect", "DNS SRV lookup". */
  what: string;
  /** The address (or name) the errors carry. */
  address: string;
  /** Gives up after this many ms with a `NetworkTimeout`; 0 means never. */
  timeoutMS: number;
  /** Gives up when aborted, with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs one network attempt under a timeout and a signal. `run` gets a signal
 * that aborts when the attempt is given up, so it can tear down what it has
 * opened so far; a result that still arrives afterwards goes to `late`.
 * Failures that are not already a `MongoError` become a `ConnectionFailure`
 * ("<what> failed: ..."). The timer and the abort listener are removed on
 * every outcome.
 */
export function runBounded<T>(
  attempt: BoundedAttempt,
  run: (giveUp: AbortSignal) => Promise<T>,
  late?: (value: T) => void,
): Promise<T> {
  const { what, address, timeoutMS, signal } = attempt;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const giveUp = (error: unknown) => {
      if (done) return;
      finish();
      reject(error);
      controller.abort(error);
    };
    const onAbort = () => giveUp(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMS > 0) {
      timer = setTimeout(
        () => giveUp(new NetworkTimeout(`${what} timed out after ${timeoutMS} ms`, { address })),
        timeoutMS,
      );
    }
    let result: Promise<T>;
    try {
      result = run(controller.signal);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        if (done) {
          late?.(value);
          return;
        }
        finish();
        resolve(value);
      },
      (error) => {
        if (done) return;
        finish();
        reject(
          error instanceof MongoError ? error : new ConnectionFailure(`${what} failed: ${describeError(error)}`, {
            address,
            cause: error,
          }),
        );
      },
    );
  });
}

/** Wraps a low-level error from a connected socket. */
export function connectionLost(address: string, what: string, cause: unknown): ConnectionFailure {
  return new ConnectionFailure(`${what}: ${describeError(cause)}`, { address, cause });
}

/** The error for a write on a socket that is already closed. */
export function writeAfterClose(address: string): ConnectionFailure {
  return new ConnectionFailure("write on a closed socket", { address });
}
