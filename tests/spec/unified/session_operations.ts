/**
 * Sessions in the unified format: `session` entities (`sessionOptions`), the
 * `session` argument of operations, `endSession`, `$$sessionLsid`, and the
 * test runner's session assertions (`assertSessionDirty`/`NotDirty`,
 * `assertSameLsidOnLastTwoCommands`/`Different...`, `assertSessionPinned`/
 * `Unpinned`). The shared runner files call in here through small hooks.
 */
import assert from "node:assert/strict";
import type { Document } from "../../../src/bson/mod.ts";
import { ClientSession, type ClientSessionOptions, Connection } from "../../../src/client/mod.ts";
import { pinnedServer } from "../../../src/client/mongos_pinning.ts";
import { type EntityMap, plain, SkipTest, TestFileError } from "./entities.ts";
import type { Args } from "./arguments.ts";
import { isDocument } from "./matcher.ts";
import type { OperationContext, OperationResult } from "./operations.ts";

/** The lsid of each session entity, taken when it was created (`$$sessionLsid` matches it after the session ended). */
const lsids = new WeakMap<ClientSession, Document>();

const SESSION_OPTION_FIELDS = new Set(["causalConsistency", "snapshot", "snapshotTime", "defaultTransactionOptions"]);

/** Creates a `session` entity: `conn.startSession(sessionOptions)` on its client. */
export function createSessionEntity(spec: Record<string, unknown>, map: EntityMap): void {
  const client = map.get(spec.client, "client").client;
  const raw = spec.sessionOptions ?? {};
  if (!isDocument(raw)) throw new TestFileError(`session ${spec.id}: sessionOptions must be a document`);
  for (const k of Object.keys(raw)) {
    if (!SESSION_OPTION_FIELDS.has(k)) throw new SkipTest(`driver lacks session option ${k}`);
  }
  const options = { ...(plain(raw) as Document) } as Record<string, unknown>;
  // snapshotTime names a saved value (a session's getSnapshotTime result).
  if (typeof raw.snapshotTime === "string") options.snapshotTime = map.get(raw.snapshotTime, "value");
  const session = client.startSession(options as ClientSessionOptions);
  lsids.set(session, session.id);
  map.set(spec.id as string, "session", session);
}

/** `$$sessionLsid`: the lsid of a session entity. */
export function sessionLsid(entities: EntityMap, name: string): Document {
  const session = entities.get(name, "session") as ClientSession;
  return lsids.get(session) ?? session.id;
}

/**
 * An operation's arguments with the `session` argument (an entity name)
 * replaced by the session itself, which `take` then lets through and
 * `options` passes to the driver.
 */
export function withSessionArgument(args: Args, entities: EntityMap): Args {
  if (args.session === undefined) return args;
  return { ...args, session: entities.get(args.session, "session") };
}

/**
 * Operations whose arguments the runner does not pass through `options()`
 * (database and client operations built by hand): a `session` argument there
 * would be dropped, so the test skips instead.
 */
export function sessionArgumentGap(name: string, kind: string, args: Args): string | undefined {
  if (!(args.session instanceof ClientSession) || kind === "collection") return undefined;
  if (kind === "client" && name === "clientBulkWrite") return undefined;
  if (kind === "database" && name === "runCommand") return undefined; // passes it (operations.ts)
  if (kind === "database" && name === "createCollection") return undefined; // passes it (management_operations.ts)
  return `runner lacks the session argument of ${name} (${kind})`;
}

/** Operations on a `session` entity; `undefined` for those it does not know (transactions: branch txn). */
export async function runSessionEntityOperation(
  name: string,
  args: Args,
  session: ClientSession,
): Promise<OperationResult | undefined> {
  switch (name) {
    case "endSession":
      if (Object.keys(args).length > 0) throw new TestFileError("endSession takes no arguments");
      await session.endSession();
      return { value: undefined };
    case "getSnapshotTime":
      if (Object.keys(args).length > 0) throw new TestFileError("getSnapshotTime takes no arguments");
      if (!session.snapshotEnabled) throw new TestFileError("getSnapshotTime: not a snapshot session");
      return { value: session.snapshotTime };
    default:
      return undefined;
  }
}

/** The test runner's session operations; `undefined` for other operations. */
export function runSessionTestRunnerOperation(
  name: string,
  args: Args,
  ctx: OperationContext,
): OperationResult | Promise<OperationResult> | undefined {
  switch (name) {
    case "assertSessionDirty":
    case "assertSessionNotDirty": {
      const session = ctx.entities.get(args.session, "session") as ClientSession;
      assert.equal(session.isDirty, name === "assertSessionDirty", `${name}: the session is dirty: ${session.isDirty}`);
      return { value: undefined };
    }
    case "assertSessionPinned":
    case "assertSessionUnpinned": {
      const session = ctx.entities.get(args.session, "session") as ClientSession;
      const pinned = pinnedServer(session)?.address;
      if (name === "assertSessionPinned") assert.ok(pinned !== undefined, "assertSessionPinned: the session is not pinned");
      else assert.equal(pinned, undefined, `assertSessionUnpinned: the session is pinned to ${pinned}`);
      return { value: undefined };
    }
    case "targetedFailPoint":
      return targetedFailPoint(args, ctx);
    case "assertSameLsidOnLastTwoCommands":
    case "assertDifferentLsidOnLastTwoCommands": {
      const c = ctx.entities.get(args.client, "client");
      if (c.events === undefined) throw new SkipTest(`monitoring events not implemented (${name})`);
      const started = c.events.filter((e) => e.name === "commandStartedEvent");
      if (started.length < 2) {
        throw new TestFileError(`${name}: fewer than two commandStartedEvents were observed`);
      }
      const [a, b] = started.slice(-2).map((e) => (e.event.command as Document | undefined)?.lsid);
      assert.ok(a !== undefined && b !== undefined, `${name}: a command without lsid`);
      const same = sameLsid(a, b);
      assert.equal(same, name === "assertSameLsidOnLastTwoCommands", `${name}: the lsids are ${same ? "" : "not "}equal`);
      return { value: undefined };
    }
    default:
      return undefined;
  }
}

/**
 * `targetedFailPoint`: the fail point on the mongos the session is pinned to,
 * through a new client connected directly to it (the driver has no API to
 * send a command to a given server), closed once the command is done. The
 * runner turns fail points off on every mongos after the test.
 */
async function targetedFailPoint(args: Args, ctx: OperationContext): Promise<OperationResult> {
  const session = ctx.entities.get(args.session, "session") as ClientSession;
  const fp = args.failPoint;
  if (!isDocument(fp) || typeof fp.configureFailPoint !== "string") {
    throw new TestFileError("targetedFailPoint: failPoint must be a configureFailPoint command");
  }
  const address = pinnedServer(session)?.address;
  if (address === undefined) {
    if (String(ctx.deployment?.topology) !== "sharded") {
      throw new SkipTest("not applicable to a replica set: targetedFailPoint needs a session pinned to a mongos");
    }
    throw new TestFileError("targetedFailPoint: the session is not pinned to a mongos");
  }
  const direct = await Connection.connect(`mongodb://${ctx.deployment?.userinfo ?? ""}${address}/?directConnection=true`, {
    serverSelectionTimeoutMS: 10_000,
  });
  try {
    await direct.admin.command(fp);
  } finally {
    await direct.close();
  }
  ctx.failPoints.push({ name: fp.configureFailPoint });
  return { value: undefined };
}

function sameLsid(a: unknown, b: unknown): boolean {
  const bytes = (l: unknown) => {
    const id = isDocument(l) ? (l.id as { buffer?: Uint8Array } | undefined) : undefined;
    return id?.buffer === undefined ? undefined : Array.from(id.buffer).join(",");
  };
  const x = bytes(a);
  return x !== undefined && x === bytes(b);
}
