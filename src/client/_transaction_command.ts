// Runs one commitTransaction / abortTransaction command of a session's
// transaction through the operation runner: to the admin database on a newly
// selected primary, in the session (execute's finishCommand adds `lsid`,
// `txnNumber` and `autocommit`), once; the transaction (transaction.ts)
// decides on the retry and the labels. Nothing here is part of the public API.

import type { Document } from "../bson/mod.ts";
import { execute } from "./execute.ts";
import { type ClientSession, sessionState } from "./session.ts";

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
  });
}
