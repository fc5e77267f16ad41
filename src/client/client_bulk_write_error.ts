/**
 * {@linkcode ClientBulkWriteError}, what `client.bulkWrite()` throws when a
 * write did not succeed, apart from the bulk write itself (which loads on
 * first use) so that the error class costs nothing at import.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { MongoError } from "../errors.ts";
import type { ClientBulkWriteResult } from "./client_bulk_write.ts";

/**
 * One failed write or write concern failure of a client bulk write.
 *
 * @example
 * ```ts
 * import type { ClientWriteErrorDetail } from "@zerodep/mongo";
 *
 * const e: ClientWriteErrorDetail = { code: 11000, message: "E11000 duplicate key error" };
 * ```
 */
export interface ClientWriteErrorDetail {
  /** The server's error code. */
  readonly code: number;
  /** The server's message. */
  readonly message: string;
  /** The server's `errInfo`, when it sent one. */
  readonly details?: Document;
}

/**
 * A client bulk write that did not fully succeed: `writeErrors` by model
 * index, `writeConcernErrors` (one per command that had one), the
 * `partialResult` of the writes that did happen (when at least one did), and
 * `error`, a top-level failure that stopped it after some results were seen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClientBulkWriteError } from "@zerodep/mongo";
 *
 * const e = new ClientBulkWriteError({ writeErrors: { 1: { code: 11000, message: "E11000" } }, writeConcernErrors: [] });
 * assert.equal(e.writeErrors[1].code, 11000);
 * ```
 */
export class ClientBulkWriteError extends MongoError {
  /** The error's name. */
  override name = "ClientBulkWriteError";
  /** A top-level error that stopped the bulk write after some results were seen. */
  readonly error?: unknown;
  /** The failed writes, by the index of their model. */
  readonly writeErrors: Readonly<Record<number, ClientWriteErrorDetail>>;
  /** The write concern errors, one per command that reported one. */
  readonly writeConcernErrors: readonly ClientWriteErrorDetail[];
  /** What the writes that succeeded did, when at least one did. */
  readonly partialResult?: ClientBulkWriteResult;
  /** Creates the error from what the bulk write observed. */
  constructor(fields: {
    error?: unknown;
    writeErrors: Record<number, ClientWriteErrorDetail>;
    writeConcernErrors: ClientWriteErrorDetail[];
    partialResult?: ClientBulkWriteResult;
  }) {
    const n = Object.keys(fields.writeErrors).length;
    const parts = [];
    if (fields.error !== undefined) parts.push(`stopped by ${fields.error instanceof Error ? fields.error.message : String(fields.error)}`);
    if (n > 0) parts.push(`${n} write error(s), the first: ${Object.values(fields.writeErrors)[0].message}`);
    if (fields.writeConcernErrors.length > 0) parts.push(`write concern error: ${fields.writeConcernErrors[0].message}`);
    super(`client bulk write failed: ${parts.join("; ")}`);
    if (fields.error !== undefined) this.error = fields.error;
    this.writeErrors = fields.writeErrors;
    this.writeConcernErrors = fields.writeConcernErrors;
    if (fields.partialResult !== undefined) this.partialResult = fields.partialResult;
  }
}
