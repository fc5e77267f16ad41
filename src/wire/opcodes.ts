/**
 * Opcodes and flag bits of the MongoDB wire protocol, named as the MongoDB
 * manual ("MongoDB Wire Protocol", "Legacy Opcodes") and the OP_MSG
 * specification name them.
 *
 * @module
 */

/**
 * A reply to an OP_QUERY or OP_GET_MORE (legacy).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_REPLY } from "./mod.ts";
 *
 * assert.equal(OP_REPLY, 1);
 * ```
 */
export const OP_REPLY = 1;
/**
 * A legacy update (no reply); removed in MongoDB 5.1. Not encoded by this driver.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_UPDATE } from "./mod.ts";
 *
 * assert.equal(OP_UPDATE, 2001);
 * ```
 */
export const OP_UPDATE = 2001;
/**
 * A legacy insert (no reply); removed in MongoDB 5.1. Not encoded by this driver.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_INSERT } from "./mod.ts";
 *
 * assert.equal(OP_INSERT, 2002);
 * ```
 */
export const OP_INSERT = 2002;
/**
 * A query or (on `<db>.$cmd`) a command; since MongoDB 5.1 only the handshake.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_QUERY } from "./mod.ts";
 *
 * assert.equal(OP_QUERY, 2004);
 * ```
 */
export const OP_QUERY = 2004;
/**
 * The next batch of a legacy cursor; the reply is an OP_REPLY.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_GET_MORE } from "./mod.ts";
 *
 * assert.equal(OP_GET_MORE, 2005);
 * ```
 */
export const OP_GET_MORE = 2005;
/**
 * A legacy delete (no reply); removed in MongoDB 5.1. Not encoded by this driver.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_DELETE } from "./mod.ts";
 *
 * assert.equal(OP_DELETE, 2006);
 * ```
 */
export const OP_DELETE = 2006;
/**
 * Closes legacy cursors on the server; there is no reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_KILL_CURSORS } from "./mod.ts";
 *
 * assert.equal(OP_KILL_CURSORS, 2007);
 * ```
 */
export const OP_KILL_CURSORS = 2007;
/**
 * Another message, compressed (snappy, zlib or zstd). Not handled by this layer yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_COMPRESSED } from "./mod.ts";
 *
 * assert.equal(OP_COMPRESSED, 2012);
 * ```
 */
export const OP_COMPRESSED = 2012;
/**
 * The extensible message of MongoDB 3.6+ (`maxWireVersion >= 6`), used both ways.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_MSG } from "./mod.ts";
 *
 * assert.equal(OP_MSG, 2013);
 * ```
 */
export const OP_MSG = 2013;

/**
 * The names of the opcodes this protocol defines, by number (for error messages and logs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OP_NAMES } from "./mod.ts";
 *
 * assert.equal(OP_NAMES[2013], "OP_MSG");
 * ```
 */
export const OP_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [OP_REPLY]: "OP_REPLY",
  [OP_UPDATE]: "OP_UPDATE",
  [OP_INSERT]: "OP_INSERT",
  [OP_QUERY]: "OP_QUERY",
  [OP_GET_MORE]: "OP_GET_MORE",
  [OP_DELETE]: "OP_DELETE",
  [OP_KILL_CURSORS]: "OP_KILL_CURSORS",
  [OP_COMPRESSED]: "OP_COMPRESSED",
  [OP_MSG]: "OP_MSG",
});

/**
 * OP_QUERY `flags` bits. Bit 0 and bits 8-31 are reserved and must be 0.
 * `SecondaryOk` is the manual's old `SlaveOk`: the query may run on a secondary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueryFlags } from "./mod.ts";
 *
 * const flags = QueryFlags.SecondaryOk | QueryFlags.NoCursorTimeout;
 * assert.equal(flags, 20);
 * ```
 */
export const QueryFlags: {
  /** Bit 1: keep the cursor open after the last document (capped collections). */
  readonly TailableCursor: 0x2;
  /** Bit 2: allow the query to run on a replica-set secondary (formerly `SlaveOk`). */
  readonly SecondaryOk: 0x4;
  /** Bit 3: internal replication use, seek the oplog efficiently by `ts`. */
  readonly OplogReplay: 0x8;
  /** Bit 4: do not time the cursor out after the server's idle period. */
  readonly NoCursorTimeout: 0x10;
  /** Bit 5: with TailableCursor, block a while at the end of data instead of returning nothing. */
  readonly AwaitData: 0x20;
  /** Bit 6: stream all batches without waiting for OP_GET_MORE requests. */
  readonly Exhaust: 0x40;
  /** Bit 7: on a sharded cluster, return partial results when some shards are down. */
  readonly Partial: 0x80;
} = Object.freeze({
  TailableCursor: 0x2,
  SecondaryOk: 0x4,
  OplogReplay: 0x8,
  NoCursorTimeout: 0x10,
  AwaitData: 0x20,
  Exhaust: 0x40,
  Partial: 0x80,
});

/**
 * Every bit {@linkcode QueryFlags} defines; any other bit of OP_QUERY `flags` is reserved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QUERY_FLAGS_MASK } from "./mod.ts";
 *
 * assert.equal(QUERY_FLAGS_MASK.toString(16), "fe");
 * ```
 */
export const QUERY_FLAGS_MASK = 0xfe;

/**
 * OP_REPLY `responseFlags` bits. Bits 4-31 are reserved; a decoder keeps them as received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseFlags } from "./mod.ts";
 *
 * const flags = 0b1010;
 * assert.equal((flags & ResponseFlags.QueryFailure) !== 0, true);
 * ```
 */
export const ResponseFlags: {
  /** Bit 0: an OP_GET_MORE named a cursor the server does not know (any more). */
  readonly CursorNotFound: 0x1;
  /** Bit 1: the query failed; the one document returned holds `$err` (and `code`). */
  readonly QueryFailure: 0x2;
  /** Bit 2: internal to mongos, the shard's config is out of date. Drivers ignore it. */
  readonly ShardConfigStale: 0x4;
  /** Bit 3: the server supports the AwaitData query flag (always set since MongoDB 1.6). */
  readonly AwaitCapable: 0x8;
} = Object.freeze({
  CursorNotFound: 0x1,
  QueryFailure: 0x2,
  ShardConfigStale: 0x4,
  AwaitCapable: 0x8,
});

/**
 * OP_MSG `flagBits`. Bits 0-15 are required (an unknown one set is an error);
 * bits 16-31 are optional (unknown ones are ignored).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MsgFlags } from "./mod.ts";
 *
 * const flagBits = MsgFlags.checksumPresent | MsgFlags.exhaustAllowed;
 * assert.equal(flagBits.toString(16), "10001");
 * ```
 */
export const MsgFlags: {
  /** Bit 0: the message ends with a CRC-32C checksum of all bytes before it. */
  readonly checksumPresent: 0x1;
  /** Bit 1: the sender will send another message; on a request, no reply is wanted. */
  readonly moreToCome: 0x2;
  /** Bit 16: requests only, the client accepts several replies (moreToCome) to this one. */
  readonly exhaustAllowed: 0x10000;
} = Object.freeze({
  checksumPresent: 0x1,
  moreToCome: 0x2,
  exhaustAllowed: 0x10000,
});

/**
 * The required OP_MSG flag bits (0-15) this driver understands; any other bit
 * in `0xffff` makes a message invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MSG_REQUIRED_FLAGS_MASK, MsgFlags } from "./mod.ts";
 *
 * assert.equal(MSG_REQUIRED_FLAGS_MASK === (MsgFlags.checksumPresent | MsgFlags.moreToCome), true);
 * ```
 */
export const MSG_REQUIRED_FLAGS_MASK = 0b11;
