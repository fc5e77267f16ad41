// The session and transaction attachment of the operation runner
// (execute.ts): `finishCommand` builds the final command document (`lsid`,
// `txnNumber`, `$clusterTime`, read and write concern, `maxTimeMS`, the
// transaction's fields and a sharded transaction's `recoveryToken`), and
// `observed` reads what a reply tells the session (`$clusterTime`,
// `operationTime`, `recoveryToken`, a network error's dirty server session).
// Nothing here is part of the public API.

import { AutoReconnect, ConfigurationError, ConnectionFailure, NetworkTimeout, OperationFailure, SessionError } from "../errors.ts";
import type { Document } from "../bson/mod.ts";
import type { ClientContext } from "./_internal.ts";
import { type ClientSession, laterTimestamp, observeReply, sessionState } from "./session.ts";
import { addRecoveryToken, keepRecoveryToken } from "./mongos_pinning.ts";
import type { Deadline, Operation } from "./execute.ts";

/** Sessions, `$clusterTime` and retryable writes need MongoDB 3.6+ (wire 6). */
export const SESSIONS_WIRE_VERSION = 6;

/** Snapshot reads need MongoDB 5.0+ (wire 13). */
const SNAPSHOT_WIRE_VERSION = 13;

/** `readConcern` needs MongoDB 3.2+ (wire 4). */
const READ_CONCERN_WIRE_VERSION = 4;

/** What `finishCommand` needs of one run of an operation. */
export interface CommandExecution {
  /** The `txnNumber` of a retryable write (every attempt sends the same one). */
  readonly txnNumber: bigint | undefined;
  /** Whether the operation runs in the session's transaction (or is its commit or abort). */
  readonly inTransaction: boolean;
}

/** What `finishCommand` needs of the operation's clock (execute.ts's `Clock`). */
export interface CommandClock {
  readonly deadline: Deadline | undefined;
  /** Sets `maxTimeMS` from the time left minus `rtt`; throws the timeout error when nothing is left. */
  setMaxTimeMS(body: Document, rtt: number): void;
}

/**
 * The command as sent: the operation's document with the read concern, the
 * write concern and `maxTimeMS` the runner adds. The one place where the
 * final document is built (sessions, `$clusterTime` and command monitoring
 * attach here). The operation's document is not modified.
 */
export function finishCommand(
  ctx: ClientContext,
  op: Operation<unknown>,
  exec: CommandExecution,
  session: ClientSession | undefined,
  cmd: Document,
  wireVersion: number,
  clock: CommandClock,
  rtt: number,
  timed: boolean,
  txnNumber?: false,
): Document {
  const rc = op.readConcern;
  const wc = op.writeConcern;
  const state = session === undefined ? undefined : sessionState(session);
  // Causal consistency: a read that takes a read concern waits for the session's last operation.
  const afterClusterTime = state !== undefined && session!.supports.causalConsistency && rc !== undefined
    ? state.operationTime
    : undefined;
  const snapshot = session?.snapshotEnabled === true && rc !== undefined;
  const addRc = (rc !== undefined && rc.level !== undefined) || afterClusterTime !== undefined || snapshot;
  const addWc = wc !== undefined && Object.keys(wc).length > 0 && wireVersion >= (op.writeConcernMinWireVersion ?? 0);
  const clusterTime = op.noSession === true || wireVersion < SESSIONS_WIRE_VERSION
    ? undefined
    : laterTimestamp(state?.clusterTime?.clusterTime, ctx.clusterTime?.clusterTime)
    ? state!.clusterTime
    : ctx.clusterTime;
  if (!addRc && !addWc && !timed && session === undefined && clusterTime === undefined) return cmd;
  const body: Document = { ...cmd };
  if (session !== undefined) {
    body.lsid = session.id;
    state!.serverSession!.lastUse = performance.now();
    if (exec.txnNumber !== undefined && txnNumber !== false) body.txnNumber = exec.txnNumber;
  }
  if (addRc) {
    if (snapshot) {
      if (wireVersion < SNAPSHOT_WIRE_VERSION) {
        throw new SessionError(
          `Snapshot reads require MongoDB 5.0 or later (wire version 13); the server's maxWireVersion is ${wireVersion}`,
        );
      }
      body.readConcern = state!.snapshotTime === undefined
        ? { level: "snapshot" }
        : { level: "snapshot", atClusterTime: state!.snapshotTime };
    } else {
      if (wireVersion < READ_CONCERN_WIRE_VERSION) {
        throw new ConfigurationError(
          `readConcern level ${JSON.stringify(rc?.level)} needs MongoDB 3.2 or later (wire version 4); ` +
            `the server's maxWireVersion is ${wireVersion}`,
        );
      }
      const doc: Document = rc?.level === undefined ? {} : { level: rc.level };
      if (afterClusterTime !== undefined) doc.afterClusterTime = afterClusterTime;
      body.readConcern = doc;
    }
  }
  if (clusterTime !== undefined) body.$clusterTime = clusterTime;
  if (addWc) {
    const { wtimeout, ...rest } = wc;
    // Under timeoutMS the deprecated wtimeout is ignored (the deadline bounds the wait).
    body.writeConcern = clock.deadline === undefined || wtimeout === undefined ? { ...wc } : rest;
  }
  if (timed) clock.setMaxTimeMS(body, rtt);
  return exec.inTransaction ? transactionCommand(session!, body) : body;
}

/**
 * A command of a transaction: the transaction's fields (`txnNumber`,
 * `autocommit`, `startTransaction` and its readConcern on the first), none of
 * the inherited read or write concern; the first command of a causally
 * consistent session waits for the session's last operation
 * (`readConcern.afterClusterTime`), even a write.
 */
function transactionCommand(session: ClientSession, body: Document): Document {
  const state = sessionState(session);
  const out = session.transaction.applyToCommand(body, state.serverSession!.txnNumber);
  addRecoveryToken(session, out);
  if (out.startTransaction === true && session.supports.causalConsistency && state.operationTime !== undefined) {
    out.readConcern = { ...(out.readConcern as Document | undefined), afterClusterTime: state.operationTime };
  }
  return out;
}

/**
 * A round trip's outcome, observed: `$clusterTime` and `operationTime` of
 * the reply (or of an error's reply) advance the client's and the session's
 * times; a network error makes the server session dirty (not reused).
 */
export async function observed(
  ctx: ClientContext,
  session: ClientSession | undefined,
  reply: Promise<Document>,
): Promise<Document> {
  try {
    const r = await reply;
    observeReply(ctx, session, r);
    if (session !== undefined) keepRecoveryToken(session, r);
    return r;
  } catch (error) {
    if (error instanceof OperationFailure) observeReply(ctx, session, error.response);
    else if (session !== undefined && isNetworkError(error)) {
      const s = sessionState(session).serverSession;
      if (s !== undefined) s.isDirty = true;
    }
    throw error;
  }
}

export function isNetworkError(error: unknown): boolean {
  return error instanceof AutoReconnect || error instanceof NetworkTimeout ||
    (error instanceof ConnectionFailure && error.when !== undefined);
}
