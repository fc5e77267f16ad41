// Sharded transactions (the transactions specification, "Sharded
// Transactions"): mongos pinning and the `recoveryToken`.
//
// The first command of a transaction on a mongos pins the session to that
// mongos; every later command of the transaction, commit and abort included,
// goes there without server selection (execute.ts asks `pinnedServer`). The
// session is unpinned, before the next selection, when
//  1. the transaction is aborted (each abort attempt, sent or not);
//  2. any command of it fails with a TransientTransactionError;
//  3. a commitTransaction attempt fails with UnknownTransactionCommitResult
//     (or a retryable error, before the retry selects a mongos);
//  4. a new transaction starts;
//  5. an operation outside a transaction runs on the session;
//  6. the session ends.
// A commit that succeeds, or fails otherwise, keeps the pin: commit may be
// called again.
//
// Every `ok: 1` reply in a sharded transaction carries a `recoveryToken`; the
// latest one goes, unchanged, on commitTransaction and abortTransaction so
// that another mongos can find the transaction's outcome. It is dropped when
// the session moves to "no transaction" or "starting transaction".
//
// Nothing here is part of the public API.

import type { Document } from "../bson/mod.ts";
import { MongoError } from "../errors.ts";
import type { ServerLike } from "./_internal.ts";
import type { ClientSession } from "./session.ts";

/** A session's sharded-transaction state: its pinned mongos and the latest recoveryToken. */
interface Pin {
  server: ServerLike | undefined;
  recoveryToken: Document | undefined;
}

const pins = new WeakMap<ClientSession, Pin>();

function pinOf(session: ClientSession): Pin {
  let pin = pins.get(session);
  if (pin === undefined) pins.set(session, pin = { server: undefined, recoveryToken: undefined });
  return pin;
}

/** The mongos the session's transaction is pinned to, if any. */
export function pinnedServer(session: ClientSession): ServerLike | undefined {
  return pins.get(session)?.server;
}

/**
 * Pins the session to `server` when it is a mongos and the command about to
 * run there is the first of the transaction (`startTransaction: true`): the
 * transaction is still starting, and the operation is not its commit or
 * abort (a commit or abort retried after an unpin must not pin again).
 */
export function pinToFirstServer(session: ClientSession, server: ServerLike, operation: string): void {
  if (server.description.type !== "Mongos" || session.transaction.state !== "STARTING_TRANSACTION") return;
  if (operation === "commitTransaction" || operation === "abortTransaction") return;
  pinOf(session).server = pinnedView(server);
}

/**
 * The pinned mongos as the transaction sees it: the server itself, with the
 * description it had when the session was pinned. Its live description goes
 * Unknown when its monitor loses it, and the runner reads the wire version
 * and session support from the description; the transaction's commands still
 * go there (the specification: no selection), and their network error is the
 * transient error that unpins.
 */
function pinnedView(server: ServerLike): ServerLike {
  const description = server.description;
  return {
    address: server.address,
    description,
    command: (db, cmd, options) => server.command(db, cmd, options),
    withConnection: (fn, options) => server.withConnection(fn, options),
  };
}

/** Unpins the session (abort, a retryable commit error, the session's end). */
export function unpin(session: ClientSession): void {
  const pin = pins.get(session);
  if (pin !== undefined) pin.server = undefined;
}

/**
 * The session leaves (or starts) a transaction: unpinned, and the
 * recoveryToken dropped (rules 4 and 5; the token's "no transaction" and
 * "starting transaction" states).
 */
export function leaveTransaction(session: ClientSession): void {
  const pin = pins.get(session);
  if (pin === undefined) return;
  pin.server = undefined;
  pin.recoveryToken = undefined;
}

/**
 * Unpins after an error of a command in the transaction labelled
 * TransientTransactionError (any command) or UnknownTransactionCommitResult
 * (a commit's), once the labels are final.
 */
export function unpinAfterError(session: ClientSession, error: unknown): void {
  if (
    error instanceof MongoError &&
    (error.hasErrorLabel("TransientTransactionError") || error.hasErrorLabel("UnknownTransactionCommitResult"))
  ) unpin(session);
}

/** Keeps the `recoveryToken` of a reply in the session's transaction (the latest wins). */
export function keepRecoveryToken(session: ClientSession, reply: Document): void {
  const token = reply.recoveryToken;
  if (token === undefined || token === null || typeof token !== "object" || Array.isArray(token)) return;
  if (session.transaction.state === "NO_TRANSACTION") return;
  pinOf(session).recoveryToken = token as Document;
}

/** Adds the session's `recoveryToken` to a commitTransaction or abortTransaction command (`body`, a copy). */
export function addRecoveryToken(session: ClientSession, body: Document): void {
  if (body.commitTransaction === undefined && body.abortTransaction === undefined) return;
  const token = pins.get(session)?.recoveryToken;
  if (token !== undefined) body.recoveryToken = token;
}
