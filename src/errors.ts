/**
 * Every error class of the driver. This file imports nothing, so each layer
 * (bson, wire, net, topology, client) can throw the driver's own types.
 *
 * @module
 */

/**
 * The base class of every error this driver throws.
 *
 * @example Catch any driver error
 * ```ts
 * import { MongoError } from "@zerodep/mongo";
 *
 * try {
 *   throw new MongoError("boom");
 * } catch (e) {
 *   if (e instanceof MongoError) console.log(e.name, e.message);
 * }
 * ```
 */
export class MongoError extends Error {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Bytes that are not valid BSON, or a value that cannot be encoded as BSON.
 * `offset` is the byte offset in the input where decoding failed (when known).
 *
 * @example
 * ```ts
 * import { BSONError, decode } from "@zerodep/mongo";
 *
 * try {
 *   decode(new Uint8Array([5, 0, 0, 0]));
 * } catch (e) {
 *   if (e instanceof BSONError) console.log(e.offset, e.message);
 * }
 * ```
 */
export class BSONError extends MongoError {
  /** Byte offset in the input where the problem was found, if known. */
  readonly offset: number | undefined;
  /** Creates the error; `options.offset` is the byte offset of the problem. */
  constructor(message: string, options?: ErrorOptions & { offset?: number }) {
    super(options?.offset === undefined ? message : `${message} (at offset ${options.offset})`, options);
    this.offset = options?.offset;
  }
}

/**
 * A connection string, seed list or option that is malformed or of the wrong type.
 * The message names the part that is wrong.
 *
 * @example
 * ```ts
 * import { ConfigurationError } from "@zerodep/mongo";
 *
 * const e = new ConfigurationError("maxPoolSize must be a non-negative integer, got \"x\"");
 * console.log(e.name); // "ConfigurationError"
 * ```
 */
export class ConfigurationError extends MongoError {}

/**
 * No server suitable for the operation was found within `serverSelectionTimeoutMS`.
 * The message says what was wanted and what the topology looked like.
 *
 * @example
 * ```ts
 * import { ServerSelectionError } from "@zerodep/mongo";
 *
 * const e = new ServerSelectionError("no secondary available");
 * console.log(e instanceof Error); // true
 * ```
 */
export class ServerSelectionError extends MongoError {}

/**
 * A connection to a server could not be made, or an open one was lost: refused,
 * unknown host, TLS failure, reset by the peer, or used after it was closed.
 * `address` names the server (`host:port`, `[ipv6]:port` or a Unix socket path).
 *
 * @example
 * ```ts
 * import { ConnectionFailure } from "@zerodep/mongo";
 *
 * const e = new ConnectionFailure("connection refused", { address: "127.0.0.1:27017" });
 * console.log(e.address, e.message); // "127.0.0.1:27017" "127.0.0.1:27017: connection refused"
 * ```
 */
export class ConnectionFailure extends MongoError {
  /** The server the connection was for: `host:port`, `[ipv6]:port` or a Unix socket path. */
  readonly address: string;
  /** Creates the error; the message is prefixed with `options.address`. */
  constructor(message: string, options: ErrorOptions & { address: string }) {
    super(`${options.address}: ${message}`, options);
    this.address = options.address;
  }
}

/**
 * A network operation took longer than its configured limit: connecting
 * (`connectTimeoutMS`, TLS handshake included) or waiting on I/O
 * (`socketTimeoutMS`). The connection it happened on is closed.
 *
 * @example
 * ```ts
 * import { ConnectionFailure, NetworkTimeout } from "@zerodep/mongo";
 *
 * const e = new NetworkTimeout("connect timed out after 100 ms", { address: "db1:27017" });
 * console.log(e instanceof ConnectionFailure); // true
 * ```
 */
export class NetworkTimeout extends ConnectionFailure {}

/**
 * A wire-protocol message that cannot be framed or parsed: a length that lies
 * or exceeds `maxMessageSizeBytes`, a truncated or garbled section, a checksum
 * mismatch, an unknown opcode or required flag bit, or a document inside a
 * frame that is not valid BSON (then `cause` holds the `BSONError`). The
 * connection the bytes came from is out of step with its peer and must be
 * closed. Also thrown for a message that cannot be encoded as asked.
 *
 * @example
 * ```ts
 * import { MongoError, WireProtocolError } from "@zerodep/mongo";
 *
 * const e = new WireProtocolError("messageLength 12 is below the 16-byte header");
 * console.log(e instanceof MongoError, e.name); // true "WireProtocolError"
 * ```
 */
export class WireProtocolError extends MongoError {}
