/**
 * The `client` document of the connection handshake: who is connecting
 * (driver, operating system, runtime, application), kept within the 512 bytes
 * the handshake specification allows.
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import { fitClientMetadata, type RuntimeInfo } from "./_client_metadata.ts";

/**
 * The driver name sent in every handshake.
 *
 * @example
 * ```ts
 * import { DRIVER_NAME } from "./client_metadata.ts";
 *
 * console.log(DRIVER_NAME); // "@zerodep/mongo"
 * ```
 */
export const DRIVER_NAME = "@zerodep/mongo";

/**
 * The driver version sent in every handshake; kept equal to `version` in
 * `deno.json` (a test checks it).
 *
 * @example
 * ```ts
 * import { DRIVER_VERSION } from "./client_metadata.ts";
 *
 * console.log(typeof DRIVER_VERSION); // "string"
 * ```
 */
export const DRIVER_VERSION = "0.1.0";

/** The handshake specification's limit on `application.name`, in UTF-8 bytes. */
const MAX_APP_NAME_BYTES = 128;

/**
 * Options of {@linkcode clientMetadata}.
 *
 * @example
 * ```ts
 * import type { ClientMetadataOptions } from "./client_metadata.ts";
 *
 * const options: ClientMetadataOptions = { appName: "inventory" };
 * ```
 */
export interface ClientMetadataOptions {
  /** Sent as `application.name` (the URI's `appName`); at most 128 bytes of UTF-8. */
  appName?: string;
}

/**
 * Builds the handshake's `client` document: `driver` (name, version), `os`
 * (type, and name and architecture when they fit), `platform` (the runtime
 * and its version, e.g. `"Deno 2.5.0"`), and `application.name` when
 * `appName` is given. Past 512 bytes of BSON it drops the optional `os`
 * fields and then shortens `platform`, in the order the specification sets.
 * Nothing here needs a runtime permission.
 *
 * @throws {ConfigurationError} when `appName` is not a string or is longer
 * than 128 bytes of UTF-8.
 * @example
 * ```ts
 * import { clientMetadata } from "./client_metadata.ts";
 *
 * const client = clientMetadata({ appName: "inventory" });
 * console.log(client.driver, client.application); // { name: "@zerodep/mongo", version: "0.1.0" } { name: "inventory" }
 * ```
 */
export function clientMetadata(options?: ClientMetadataOptions): Document {
  const appName = options?.appName;
  if (appName !== undefined) {
    if (typeof appName !== "string") {
      throw new ConfigurationError(`appName must be a string, got ${typeof appName}`);
    }
    const bytes = new TextEncoder().encode(appName).length;
    if (bytes > MAX_APP_NAME_BYTES) {
      throw new ConfigurationError(
        `appName must be at most ${MAX_APP_NAME_BYTES} bytes of UTF-8, got ${bytes} bytes`,
      );
    }
  }
  return fitClientMetadata(appName, runtimeInfo(), { name: DRIVER_NAME, version: DRIVER_VERSION });
}

function runtimeInfo(): RuntimeInfo {
  const g = globalThis as {
    Deno?: { build?: { os?: string; arch?: string }; version?: { deno?: string } };
    Bun?: { version?: string };
    process?: { platform?: string; arch?: string; versions?: { node?: string } };
  };
  if (g.Deno !== undefined) {
    return {
      osType: osTypeOf(g.Deno.build?.os),
      osName: g.Deno.build?.os,
      architecture: g.Deno.build?.arch,
      platform: `Deno ${g.Deno.version?.deno ?? "unknown"}`,
    };
  }
  const proc = g.process;
  const arch = proc?.arch === "x64" ? "x86_64" : proc?.arch === "arm64" ? "aarch64" : proc?.arch;
  if (g.Bun !== undefined) {
    return {
      osType: osTypeOf(proc?.platform),
      osName: proc?.platform,
      architecture: arch,
      platform: `Bun ${g.Bun.version ?? "unknown"}`,
    };
  }
  return {
    osType: osTypeOf(proc?.platform),
    osName: proc?.platform,
    architecture: arch,
    platform: proc?.versions?.node !== undefined ? `Node ${proc.versions.node}` : "unknown runtime",
  };
}

// The handshake specification's os.type values.
function osTypeOf(os: string | undefined): string {
  switch (os) {
    case "linux":
    case "android":
      return "Linux";
    case "darwin":
      return "Darwin";
    case "windows":
    case "win32":
      return "Windows";
    case "freebsd":
    case "openbsd":
    case "netbsd":
      return "BSD";
    case undefined:
      return "unknown";
    default:
      return "Unix";
  }
}
