/**
 * What the driver sends, or refuses to send, by the selected server's wire
 * version, as the CRUD specification asks: a `hint` on an unacknowledged
 * write the server would ignore is a client-side error, and `rawData` goes
 * only to servers that know it (8.2+) and is left out for older ones.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { typeError } from "./_internal.ts";

/** The first wire version whose servers take `hint` on each kind of unacknowledged write (4.2 for update, 4.4 for delete and findAndModify). */
const HINT_WIRE: Readonly<Record<string, readonly [number, string]>> = {
  update: [8, "4.2"],
  delete: [9, "4.4"],
  findAndModify: [9, "4.4"],
};

/** The first wire version whose servers take `rawData` (MongoDB 8.2). */
export const RAW_DATA_WIRE_VERSION = 27;

/**
 * Throws a {@linkcode ConfigurationError} when an unacknowledged (`w: 0`)
 * write carries a `hint` and the server is too old to check it (crud.md:
 * such servers would silently ignore it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUnacknowledgedHint } from "./wire_features.ts";
 *
 * assert.throws(() => checkUnacknowledgedHint("delete", true, false, 8));
 * checkUnacknowledgedHint("delete", true, false, 9);
 * checkUnacknowledgedHint("delete", true, true, 8);
 * ```
 */
export function checkUnacknowledgedHint(
  kind: "update" | "delete" | "findAndModify",
  hasHint: boolean,
  acknowledged: boolean,
  wireVersion: number,
): void {
  if (!hasHint || acknowledged) return;
  const [since, version] = HINT_WIRE[kind];
  if (wireVersion >= since) return;
  throw new ConfigurationError(
    `hint on an unacknowledged ${kind} needs MongoDB ${version} or later (wire version ${since}); ` +
      `the server's maxWireVersion is ${wireVersion}: use an acknowledged write concern or drop the hint`,
  );
}

/**
 * The command with `rawData` added when it is set and the server takes it
 * (8.2+); older servers get the command without it, as crud.md says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRawData } from "./wire_features.ts";
 *
 * assert.deepEqual(withRawData({ find: "c" }, true, 27), { find: "c", rawData: true });
 * assert.deepEqual(withRawData({ find: "c" }, true, 25), { find: "c" });
 * ```
 */
export function withRawData(
  cmd: Document,
  rawData: unknown,
  wireVersion: number,
): Document {
  if (rawData === undefined) return cmd;
  if (typeof rawData !== "boolean") throw typeError("rawData", "a boolean", rawData);
  if (wireVersion < RAW_DATA_WIRE_VERSION) return cmd;
  return { ...cmd, rawData };
}
