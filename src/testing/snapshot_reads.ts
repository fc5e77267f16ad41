/**
 * Snapshot reads outside transactions (MongoDB 5.0+, the driver's snapshot
 * sessions): `find`, `aggregate` and `distinct` with `readConcern: {level:
 * "snapshot"}` read the data as of `atClusterTime` (by default the member's
 * newest applied optime) and report the time they read at (`cursor.atClusterTime`,
 * or `atClusterTime` beside distinct's `values`). A past time is rebuilt by
 * replaying the oplog up to it. Before 5.0 (wire 13) mongod refuses the level
 * outside a transaction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSnapshotRead } from "./snapshot_reads.ts";
 *
 * assert.equal(isSnapshotRead("find", { find: "c", readConcern: { level: "snapshot" } }), true);
 * assert.equal(isSnapshotRead("find", { find: "c", readConcern: { level: "snapshot" }, autocommit: false }), false);
 * ```
 *
 * @module
 */
import { type Document, Timestamp } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import type { CommandHost, CommandRequest } from "./commands.ts";
import { isPlainDocument } from "./query.ts";
import { Store } from "./store.ts";
import { scopedHost } from "./_scoped_host.ts";

const SNAPSHOT_COMMANDS: ReadonlySet<string> = new Set(["find", "aggregate", "distinct"]);

/**
 * Whether a command asks for a snapshot read outside a transaction.
 *
 * @example
 * ```ts
 * import { isSnapshotRead } from "./snapshot_reads.ts";
 *
 * console.log(isSnapshotRead("distinct", { distinct: "c", key: "x", readConcern: { level: "snapshot" } })); // true
 * ```
 */
export function isSnapshotRead(name: string, body: Document): boolean {
  const rc = body.readConcern;
  return body.autocommit === undefined && isPlainDocument(rc) && rc.level === "snapshot" && name !== "getMore";
}

function before(a: Timestamp, b: Timestamp): boolean {
  return a.t < b.t || (a.t === b.t && a.i < b.i);
}

/**
 * Runs a snapshot read on `host` (see the module).
 *
 * @example
 * ```ts ignore
 * const reply = await snapshotRead(member, request, runCommand);
 * ```
 */
export async function snapshotRead(
  host: CommandHost,
  req: CommandRequest,
  exec: (req: CommandRequest) => Promise<Document>,
): Promise<Document> {
  const fail = (errmsg: string, code: number = ErrorCode.InvalidOptions, codeName = "InvalidOptions") => ({
    ok: 0,
    errmsg,
    code,
    codeName,
  });
  if (host.maxWireVersion < 13) {
    return fail("readConcern level snapshot is only valid in multi-statement transactions");
  }
  if (!SNAPSHOT_COMMANDS.has(req.name)) {
    return fail(`Command ${req.name} does not support readConcern level snapshot outside a transaction`);
  }
  const { entries, applied } = host.oplog();
  if (applied === 0) return fail("no snapshot available yet", 246, "SnapshotUnavailable");
  const newest = entries[applied - 1].ts;
  const rc = req.body.readConcern as Document;
  let at = newest;
  let store = host.store;
  if (rc.atClusterTime !== undefined) {
    if (!(rc.atClusterTime instanceof Timestamp)) {
      return fail("atClusterTime must be a timestamp", ErrorCode.TypeMismatch, "TypeMismatch");
    }
    at = rc.atClusterTime;
    if (before(newest, at)) {
      return fail(
        `atClusterTime ${at.t}.${at.i} is later than the newest optime this member applied (${newest.t}.${newest.i})`,
        ErrorCode.BadValue,
        "BadValue",
      );
    }
    if (before(at, newest)) {
      store = new Store();
      for (let i = 0; i < applied && !before(at, entries[i].ts); i++) store.apply(entries[i].change);
    }
  }
  const reply = await exec({
    ...req,
    host: scopedHost(host, store, () => {
      throw new Error("a snapshot read cannot write");
    }),
  });
  if (Number(reply.ok) !== 1) return reply;
  if (isPlainDocument(reply.cursor)) reply.cursor.atClusterTime = at;
  else {
    const { ok, ...rest } = reply;
    return { ...rest, atClusterTime: at, ok };
  }
  return reply;
}
