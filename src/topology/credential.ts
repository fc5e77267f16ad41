/**
 * Who a client authenticates as, put together from the connection string's
 * user information (`mongodb://user:password@...`), the `auth` option given
 * in code and the `authSource` / `authMechanism` options. Pure: the SCRAM
 * conversation itself is in `src/net/auth.ts`.
 *
 * @module
 */
import { ConfigurationError } from "../errors.ts";
import type { Credential, ScramMechanism } from "../net/auth.ts";

/**
 * The inputs of {@linkcode resolveCredential}.
 *
 * @example
 * ```ts
 * import type { CredentialSources } from "@zerodep/mongo/topology";
 *
 * const sources: CredentialSources = { uri: { username: "ada", password: "pencil", db: "app" } };
 * ```
 */
export interface CredentialSources {
  /** The connection string's user information and database, if it had any. */
  readonly uri?:
    | { readonly username: string | null; readonly password: string | null; readonly db: string | null }
    | null;
  /** Given in code; wins over the connection string's. */
  readonly auth?: { readonly username?: string; readonly password?: string };
  /** The `authMechanism` option, if set. */
  readonly authMechanism?: string;
  /** The `authSource` option, if set. */
  readonly authSource?: string;
}

const SUPPORTED: readonly string[] = ["SCRAM-SHA-1", "SCRAM-SHA-256"];

/**
 * The credential for a client, or `undefined` when no user name was given
 * (no authentication). The user is looked up in `authSource`, else the
 * connection string's database, else `admin`.
 *
 * @throws {ConfigurationError} for a mechanism this driver does not speak, a
 * mechanism without a user name, a user name without a password, or `auth`
 * of the wrong shape.
 * @example
 * ```ts
 * import { resolveCredential } from "@zerodep/mongo/topology";
 *
 * const c = resolveCredential({ uri: { username: "ada", password: "pencil", db: "app" } });
 * console.log(c?.username, c?.source, c?.mechanism); // "ada" "app" undefined (negotiated)
 * ```
 */
export function resolveCredential(sources: CredentialSources): Credential | undefined {
  const auth = sources.auth;
  if (auth !== undefined) {
    if (auth === null || typeof auth !== "object" || Array.isArray(auth)) {
      throw new ConfigurationError("auth must be { username, password }");
    }
    for (const key of ["username", "password"] as const) {
      if (auth[key] !== undefined && typeof auth[key] !== "string") {
        throw new ConfigurationError(`auth.${key} must be a string, got ${typeof auth[key]}`);
      }
    }
  }
  const mechanism = sources.authMechanism;
  if (mechanism !== undefined && !SUPPORTED.includes(mechanism)) {
    throw new ConfigurationError(
      `authMechanism ${mechanism} is not supported: this driver authenticates with SCRAM-SHA-256 and SCRAM-SHA-1`,
    );
  }
  const username = auth?.username ?? sources.uri?.username ?? undefined;
  if (username === undefined || username === "") {
    if (auth?.password !== undefined) throw new ConfigurationError("auth has a password but no user name");
    if (mechanism !== undefined) throw new ConfigurationError(`authMechanism ${mechanism} needs a user name`);
    return undefined;
  }
  const password = auth?.password ?? sources.uri?.password ?? null;
  if (password === null) {
    throw new ConfigurationError(`user ${JSON.stringify(username)} has no password: SCRAM needs one`);
  }
  const source = sources.authSource ?? (sources.uri?.db || "admin");
  const credential: { username: string; password: string; source: string; mechanism?: ScramMechanism } = {
    username,
    password,
    source,
  };
  if (mechanism !== undefined) credential.mechanism = mechanism as ScramMechanism;
  return Object.freeze(credential);
}
