// Runs one commitTransaction / abortTransaction command of a session's
// transaction through the operation runner: to the admin database on a newly
// selected primary, in the session (execute's finishCommand adds `lsid`,
// `txnNumber` and `autocommit`), once; the transaction (transaction.ts)
// decides on the retry and the labels. An abort that fails, or a commit that
// fails with a retryable error, unpins the session first, so that the retry
// selects a mongos (mongos_pinning.ts). Nothing here is part of the public API.

import type { Document } from "../bson/mod.ts";
import { execute } from "./execute.ts";
import { type ClientSession, sessionState } from "./session.ts";
import { unpin } from "./mongos_pinning.ts";
import { isRetryableTransactionCommandError } from "./transaction.ts";

/** Sends `command` (`{ commitTransaction: 1, ... }` or `{ abortTransaction: 1, ... }`) in `session`; returns the reply. */
export function runTransactionCommand(session: ClientSession, command: Document): Promise<Document> {
  const ctx = sessionState(session).ctx;
  return execute(ctx, {
    name: Object.keys(command)[0],
    db: "admin",
    kind: "write",
    retryable: false,
    session,
    timeoutMS: ctx.timeoutMS,
    plan: () => ({ command, parse: (reply: Document) => reply }),
  }).catch((error) => {
    if (command.abortTransaction !== undefined || isRetryableTransactionCommandError(error)) unpin(session);
    throw error;
  });
}
