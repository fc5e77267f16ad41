/**
 * Who a client authenticates as, put together from the connection string's
 * user information (`mongodb://user:password@...`), the `auth` option given
 * in code and the `authSource` / `authMechanism` / `authMechanismProperties`
 * options. Pure: the SCRAM conversation itself is in `src/net/auth.ts`.
 *
 * Two steps, kept apart so that each can be checked on its own (the
 * Authentication spec's connection-string vectors check the first):
 * - {@linkcode parseCredential} applies the specification's rules for every
 *   mechanism it defines (which fields each needs or forbids, the default
 *   source and mechanism properties);
 * - {@linkcode resolveCredential} refuses the mechanisms this driver does not
 *   speak (everything but SCRAM) and gives the net layer its credential.
 *
 * @module
 */
import { ConfigurationError, OptionTypeError } from "../errors.ts";
import { describeValue } from "../describe.ts";
import type { Credential, ScramMechanism } from "../net/auth.ts";
import { SPOKEN_AUTH_MECHANISMS } from "./option_table.ts";

/**
 * The inputs of {@linkcode parseCredential} and {@linkcode resolveCredential}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CredentialSources } from "@zerodep/mongo/topology";
 *
 * const sources: CredentialSources = { uri: { username: "ada", password: "pencil", db: "app" } };
 * assert.equal(sources.uri?.db, "app");
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
  /** The `authMechanismProperties` option, if set. */
  readonly authMechanismProperties?: Readonly<Record<string, string | boolean>>;
}

/**
 * A credential as the Authentication specification describes it, for any
 * mechanism it defines (this driver speaks SCRAM only: see {@linkcode resolveCredential}).
 *
 * Experimental: the shape follows the specification's test vectors and may change.
 *
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCredential } from "@zerodep/mongo/topology";
 *
 * const c = parseCredential({ uri: { username: "u@REALM", password: null, db: null }, authMechanism: "GSSAPI" });
 * assert.equal(c?.source, "$external");
 * assert.deepEqual(c?.mechanismProperties, { SERVICE_NAME: "mongodb" });
 * ```
 */
export interface MongoCredential {
  /** The user name; `null` for mechanisms that may take it from elsewhere (X.509, AWS, OIDC). */
  readonly username: string | null;
  /** The password, or `null`. */
  readonly password: string | null;
  /** The database the user is defined in (`$external` for external mechanisms). */
  readonly source: string;
  /** The mechanism, or `null` when it is negotiated with the server (SCRAM). */
  readonly mechanism: string | null;
  /** Mechanism properties with their defaults, or `null` when the mechanism has none. */
  readonly mechanismProperties: Readonly<Record<string, string | boolean>> | null;
}

const EXTERNAL = "$external";
const CANONICALIZE_VALUES: readonly unknown[] = ["none", "forward", "forwardAndReverse", true, false];
const OIDC_ENVIRONMENTS = ["test", "azure", "gcp", "k8s"];
const OIDC_PROPERTIES = ["ENVIRONMENT", "TOKEN_RESOURCE", "ALLOWED_HOSTS"];

/**
 * The credential the options describe, checked against the Authentication
 * specification's rules for its mechanism, or `undefined` when no
 * authentication is asked for (no user name and no mechanism). It does not
 * refuse a mechanism this driver does not speak: {@linkcode resolveCredential} does.
 *
 * @throws {ConfigurationError} for a field the mechanism needs and lacks (a
 * user name, a password, a property) or forbids, a source other than
 * `$external` for an external mechanism, or `auth` of the wrong shape.
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCredential } from "@zerodep/mongo/topology";
 *
 * const c = parseCredential({ uri: { username: "ada", password: "pencil", db: null }, authMechanism: "PLAIN" });
 * assert.equal(c?.source, "$external");
 * ```
 */
export function parseCredential(sources: CredentialSources): MongoCredential | undefined {
  const auth = sources.auth;
  if (auth !== undefined) {
    if (auth === null || typeof auth !== "object" || Array.isArray(auth)) {
      throw new OptionTypeError("auth", "{ username, password }", describeValue(auth));
    }
    for (const key of ["username", "password"] as const) {
      if (auth[key] !== undefined && typeof auth[key] !== "string") {
        throw new OptionTypeError(`auth.${key}`, "a string", describeValue(auth[key]));
      }
    }
  }
  const mechanism = sources.authMechanism;
  const username = auth?.username ?? sources.uri?.username ?? null;
  const password = auth?.password ?? sources.uri?.password ?? null;
  const db = sources.uri?.db || null;
  const given = sources.authMechanismProperties;
  const fail = (message: string): never => {
    throw new ConfigurationError(mechanism === undefined ? message : `authMechanism ${mechanism}: ${message}`);
  };
  const needUser = () => {
    if (username === null || username === "") fail("needs a user name");
  };
  const noPassword = () => {
    if (password !== null) fail("takes no password");
  };
  const external = (): string => {
    if (sources.authSource !== undefined && sources.authSource !== EXTERNAL) {
      fail(`authSource must be "$external", got ${JSON.stringify(sources.authSource)}`);
    }
    return EXTERNAL;
  };
  const make = (source: string, properties: Record<string, string | boolean> | null = null): MongoCredential =>
    Object.freeze({
      username,
      password,
      source,
      mechanism: mechanism ?? null,
      mechanismProperties: properties === null ? null : Object.freeze(properties),
    });

  switch (mechanism) {
    case undefined:
    case "SCRAM-SHA-1":
    case "SCRAM-SHA-256":
    case "MONGODB-CR": {
      if (mechanism === undefined && (username === null || username === "")) {
        if (auth?.password !== undefined) throw new ConfigurationError("auth has a password but no user name");
        return undefined;
      }
      needUser();
      if (password === null) fail(`user ${JSON.stringify(username)} has no password: SCRAM needs one`);
      return make(sources.authSource ?? db ?? "admin");
    }
    case "PLAIN":
      needUser();
      if (password === null) fail("needs a password");
      return make(sources.authSource ?? db ?? EXTERNAL);
    case "MONGODB-X509":
      noPassword();
      return make(external());
    case "GSSAPI": {
      needUser();
      const properties: Record<string, string | boolean> = { SERVICE_NAME: "mongodb", ...given };
      const canonicalize = properties.CANONICALIZE_HOST_NAME;
      if (canonicalize !== undefined && !CANONICALIZE_VALUES.includes(canonicalize)) {
        fail(
          `CANONICALIZE_HOST_NAME must be none, forward, forwardAndReverse, true or false, got ${
            JSON.stringify(canonicalize)
          }`,
        );
      }
      return make(external(), properties);
    }
    case "MONGODB-AWS": {
      // The specification no longer takes AWS credentials from the connection
      // string: they come from the environment (the AWS SDK's chain).
      if (username !== null || password !== null) {
        fail("takes no user name or password: AWS credentials come from the environment");
      }
      if (given?.AWS_SESSION_TOKEN !== undefined) {
        fail("takes no AWS_SESSION_TOKEN: AWS credentials come from the environment");
      }
      return make(external(), given === undefined ? null : { ...given });
    }
    case "MONGODB-OIDC": {
      noPassword();
      const properties = { ...given };
      for (const key of Object.keys(properties)) {
        if (!OIDC_PROPERTIES.includes(key)) fail(`unknown mechanism property ${JSON.stringify(key)}`);
      }
      const environment = properties.ENVIRONMENT;
      if (environment === undefined) fail("needs an ENVIRONMENT mechanism property (test, azure, gcp or k8s)");
      if (!OIDC_ENVIRONMENTS.includes(environment as string)) {
        fail(`ENVIRONMENT must be test, azure, gcp or k8s, got ${JSON.stringify(environment)}`);
      }
      if (environment !== "azure" && username !== null) fail(`ENVIRONMENT ${environment} takes no user name`);
      if ((environment === "azure" || environment === "gcp") && properties.TOKEN_RESOURCE === undefined) {
        fail(`ENVIRONMENT ${environment} needs a TOKEN_RESOURCE mechanism property`);
      }
      return make(external(), properties);
    }
    default:
      return fail("is not a mechanism of the Authentication specification");
  }
}

/**
 * The credential for a client, or `undefined` when no user name was given
 * (no authentication). The user is looked up in `authSource`, else the
 * connection string's database, else `admin`.
 *
 * Experimental: its checks may change as authentication mechanisms are added.
 *
 * @throws {ConfigurationError} for a mechanism this driver does not speak
 * (anything but SCRAM-SHA-256 and SCRAM-SHA-1), or what
 * {@linkcode parseCredential} refuses.
 * @experimental
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveCredential } from "@zerodep/mongo/topology";
 *
 * const c = resolveCredential({ uri: { username: "ada", password: "pencil", db: "app" } });
 * assert.equal(c?.username, "ada");
 * assert.equal(c?.source, "app");
 * assert.equal(c?.mechanism, undefined); // negotiated
 * ```
 */
export function resolveCredential(sources: CredentialSources): Credential | undefined {
  const mechanism = sources.authMechanism;
  if (mechanism !== undefined && !SPOKEN_AUTH_MECHANISMS.includes(mechanism)) {
    throw new ConfigurationError(
      `authMechanism ${mechanism} is not supported: this driver authenticates with SCRAM-SHA-256 and SCRAM-SHA-1`,
    );
  }
  const parsed = parseCredential(sources);
  if (parsed === undefined) return undefined;
  const credential: { username: string; password: string; source: string; mechanism?: ScramMechanism } = {
    username: parsed.username!,
    password: parsed.password!,
    source: parsed.source,
  };
  if (parsed.mechanism !== null) credential.mechanism = parsed.mechanism as ScramMechanism;
  return Object.freeze(credential);
}
