/**
 * The options of a `Connection`: opening it, and each command and
 * streamed read on it.
 *
 * @module
 */
import type { DecodeOptions, Document } from "../bson/mod.ts";
import type { DocumentSequence } from "../wire/mod.ts";
import type { Credential } from "./auth.ts";
import type { ServerApi } from "./handshake.ts";
import type { SocketFactory } from "./socket.ts";

/**
 * Options of `Connection.connect`: resolved values (the client's
 * option resolution fills in every default; see `resolveClientOptions`).
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "./connection_options.ts";
 *
 * const options: ConnectionOptions = { appName: "inventory", connectTimeoutMS: 5000, socketTimeoutMS: 30000 };
 * ```
 */
export interface ConnectionOptions {
  /**
   * Limit in ms on opening the socket (TLS included) and, separately, on the
   * handshake round trip; 0 means none.
   */
  connectTimeoutMS: number;
  /** Limit in ms on every round trip after the handshake unless a call sets its own; 0 means none. */
  socketTimeoutMS: number;
  /** Wrap the socket in TLS. Default `false`. */
  tls?: boolean;
  /** A PEM file of certificate authorities to trust as well as the runtime's. */
  tlsCAFile?: string;
  /** Accept any certificate and host name (see `SocketOptions` for Deno's limits). */
  tlsAllowInvalidCertificates?: boolean;
  /** Accept a certificate for another host name; its chain is still checked. */
  tlsAllowInvalidHostnames?: boolean;
  /** A PEM file with the client certificate and its key (see `SocketOptions` for Deno's limits). */
  tlsCertificateKeyFile?: string;
  /** The password of an encrypted key in `tlsCertificateKeyFile`. */
  tlsCertificateKeyFilePassword?: string;
  /** The TLS server name (SNI and certificate check). Default: the host. */
  servername?: string;
  /**
   * Opens the byte stream (default `connectSocket`, the runtime's own
   * sockets): bring a transport this driver does not know.
   */
  socketFactory?: SocketFactory;
  /** Sent in the handshake as `client.application.name`; at most 128 bytes. */
  appName?: string;
  /**
   * More fields for the handshake document, after the ones this driver sets
   * (e.g. `loadBalanced: true` behind a load balancer).
   */
  handshake?: Document;
  /**
   * Request the Stable API: the handshake is then `hello` over OP_MSG (the
   * server must be 5.0+), and every command but `getMore` carries
   * `apiVersion` (and `apiStrict` / `apiDeprecationErrors` when set), unless
   * it already has an `apiVersion`.
   */
  serverApi?: ServerApi;
  /**
   * Authenticate with SCRAM right after the `hello` (the handshake then
   * completes only once authenticated; its round trips are limited by
   * `connectTimeoutMS`). Monitors' connections leave it out.
   */
  credential?: Credential;
  /**
   * Compressors to offer in the handshake, in order of preference; the first
   * one the server accepts compresses every message but the handshake and
   * authentication. Only `"zlib"` is spoken (others are not offered). Default none.
   */
  compressors?: readonly string[];
  /** Cancels the connect and the handshake; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The pool generation to stamp on the connection (default 0). */
  generation?: number;
  /**
   * The connection's id (a pool numbers its own connections 1, 2, 3, ... as
   * the CMAP specification says); default: the next process-wide number.
   */
  id?: number;
  /** How reply documents are decoded (default: the BSON defaults, int64 as bigint). */
  decode?: DecodeOptions;
}

/**
 * Options of `Connection.command`.
 *
 * @example
 * ```ts
 * import type { CommandOptions } from "./connection_options.ts";
 *
 * const options: CommandOptions = { socketTimeoutMS: 1000, readPreference: { mode: "secondaryPreferred" } };
 * ```
 */
export interface CommandOptions {
  /** Aborts the round trip: the command rejects with `signal.reason` and the connection is closed. */
  signal?: AbortSignal;
  /** Limit in ms on this round trip (0 = none); default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
  /** OP_QUERY only (wire < 6): set the SecondaryOk flag bit. */
  secondaryOk?: boolean;
  /**
   * Sent as `$readPreference`: in the OP_MSG body, or on OP_QUERY in the
   * `{$query: cmd, $readPreference}` wrapping that mongos reads. The caller
   * decides when to send it (server-selection rules); nothing is added here.
   */
  readPreference?: Document;
  /**
   * OP_MSG kind-1 sections, e.g. `{identifier: "documents", documents}` for an
   * `insert`. On OP_QUERY they become array fields of the command.
   */
  sequences?: DocumentSequence[];
  /**
   * OP_MSG only: set moreToCome and expect no reply (for `w: 0` writes); the
   * promise resolves with `{ok: 1}` once the message is written. On OP_QUERY
   * (wire < 6) the command is sent normally and its reply awaited.
   */
  moreToCome?: boolean;
  /** Return the reply as is: no `OperationFailure` for `ok: 0`, no `WriteConcernError`. */
  raw?: boolean;
  /**
   * OP_MSG only: set exhaustAllowed (for `getMore` on 4.2+ and the streaming
   * `hello` on 4.4+). If the reply has moreToCome, it is returned at once and
   * the connection streams: `Connection.moreToCome` is true and the
   * next replies are read with `Connection.readNext`; nothing else
   * may be sent meanwhile. Without this option, moreToCome replies are read
   * through and the last one is returned.
   */
  exhaustAllowed?: boolean;
}

/**
 * Options of `Connection.readNext`.
 *
 * @example
 * ```ts
 * import type { ReadNextOptions } from "./connection_options.ts";
 *
 * const options: ReadNextOptions = { socketTimeoutMS: 20000, raw: true };
 * ```
 */
export interface ReadNextOptions {
  /** Aborts the wait (the connection is then closed). */
  signal?: AbortSignal;
  /** Limit in ms on the wait; default: the connection's `socketTimeoutMS`. */
  socketTimeoutMS?: number;
  /** Return the reply as is (see `CommandOptions.raw`). */
  raw?: boolean;
}
