/**
 * Internal helpers shared by the socket adapters: option checking, address
 * formatting, the connect deadline, and error wording. Not exported from the
 * package.
 *
 * @module
 */

import { ConfigurationError, ConnectionFailure, MongoError, NetworkTimeout } from "../errors.ts";
import type { SocketOptions } from "./socket.ts";
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
  tlsAllowInvalidCertificates: boolean;
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
  const common = { tls, tlsCAFile, tlsAllowInvalidCertificates, connectTimeoutMS, signal };

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
