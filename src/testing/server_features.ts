/**
 * What a simulated member of an older (or newer) MongoDB version accepts:
 * the command fields and the behaviours that came with a server version,
 * gated by the member's maxWireVersion, and the errors mongod of a version
 * without them gives. A set started with `maxWireVersion: 8` answers a
 * `comment` on `insert` as mongod 4.2 does, and one with 25 takes the
 * `bulkWrite` command of 8.0.
 *
 * Wire versions: 4.2 = 8, 4.4 = 9, 5.0 = 13, 6.0 = 17, 7.0 = 21, 8.0 = 25,
 * 8.2 = 27.
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { serverError } from "./_server_error.ts";

/** One field a command takes from a wire version on; mongod before it rejects the field. */
interface GatedField {
  /** The commands whose top-level field (or statement field) it is. */
  readonly commands: readonly string[];
  /** The field, or `<array>.<field>` for a field of each statement (`deletes.hint`). */
  readonly field: string;
  /** The first wire version that takes it. */
  readonly since: number;
  /** Only values other than strings are refused below `since` (a string `comment` was always taken on reads). */
  readonly nonStringOnly?: boolean;
}

/**
 * The fields the CRUD specification's tests send to servers of several
 * versions, with the version that introduced them (mongod's release notes).
 */
const GATED_FIELDS: readonly GatedField[] = [
  // `comment` of any type on writes and findAndModify: 4.4.
  {
    commands: ["insert", "update", "delete", "findAndModify"],
    field: "comment",
    since: 9,
  },
  // Reads took a string comment before 4.4, any value from 4.4 (count and distinct from 4.4.14; the
  // simulated 4.4 is 4.4.0).
  {
    commands: ["find", "aggregate"],
    field: "comment",
    since: 9,
    nonStringOnly: true,
  },
  {
    commands: ["count", "distinct"],
    field: "comment",
    since: 13,
    nonStringOnly: true,
  },
  // `let` on writes, findAndModify and reads: 5.0.
  {
    commands: ["update", "delete", "findAndModify", "find", "aggregate"],
    field: "let",
    since: 13,
  },
  // `hint` on delete statements and findAndModify: 4.4; on update statements: 4.2.
  { commands: ["delete"], field: "deletes.hint", since: 9 },
  { commands: ["findAndModify"], field: "hint", since: 9 },
  { commands: ["update"], field: "updates.hint", since: 8 },
  // `allowDiskUse` on find: 4.4.
  { commands: ["find"], field: "allowDiskUse", since: 9 },
  // `sort` on update statements: 8.0.
  { commands: ["update"], field: "updates.sort", since: 25 },
  // `rawData` (time-series buckets as stored): 8.2.
  {
    commands: [
      "find",
      "aggregate",
      "count",
      "distinct",
      "insert",
      "update",
      "delete",
      "findAndModify",
      "createIndexes",
      "listIndexes",
      "dropIndexes",
    ],
    field: "rawData",
    since: 27,
  },
];

/** mongod's IDL names of commands in "BSON field '<name>.<field>'" messages. */
const IDL_NAMES: Readonly<Record<string, string>> = { find: "FindCommand" };

/** Commands that came with a wire version; mongod before it answers CommandNotFound. */
const GATED_COMMANDS: Readonly<Record<string, number>> = { bulkWrite: 25 };

/** Commands mongod dropped, with the first wire version without them (`getnonce`: gone in 6.2). */
const REMOVED_COMMANDS: Readonly<Record<string, number>> = { getnonce: 19 };

/**
 * The error reply mongod of the member's version gives for `body` (a
 * command it does not know, a field it does not take), or undefined when it
 * takes the command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupportedByVersion } from "./server_features.ts";
 *
 * const reply = unsupportedByVersion("insert", { insert: "c", documents: [], comment: "x" }, 8);
 * assert.equal(reply?.code, 40415);
 * assert.equal(unsupportedByVersion("insert", { insert: "c", documents: [], comment: "x" }, 9), undefined);
 * ```
 */
export function unsupportedByVersion(
  name: string,
  body: Document,
  wire: number,
): Document | undefined {
  const since = GATED_COMMANDS[name];
  const removed = REMOVED_COMMANDS[name];
  if ((since !== undefined && wire < since) || (removed !== undefined && wire >= removed)) {
    return {
      ok: 0,
      errmsg: `no such command: '${name}'`,
      code: 59,
      codeName: "CommandNotFound",
    };
  }
  for (const g of GATED_FIELDS) {
    if (wire >= g.since || !g.commands.includes(name)) continue;
    const [array, field] = g.field.includes(".")
      ? g.field.split(".")
      : [undefined, g.field];
    const holders = array === undefined
      ? [body]
      : Array.isArray(body[array])
      ? body[array] as Document[]
      : [];
    const offending = holders.some((h) =>
      h !== null && typeof h === "object" && h[field] !== undefined &&
      (g.nonStringOnly !== true || typeof h[field] !== "string")
    );
    if (!offending) continue;
    const path = `${IDL_NAMES[name] ?? name}.${g.field}`;
    if (g.nonStringOnly === true) {
      return {
        ok: 0,
        errmsg:
          `BSON field '${path}' is the wrong type, expected type 'string'`,
        code: 14,
        codeName: "TypeMismatch",
      };
    }
    return {
      ok: 0,
      errmsg: `BSON field '${path}' is an unknown field.`,
      code: 40415,
      codeName: "Location40415",
    };
  }
  return undefined;
}

/**
 * Throws what mongod before 5.0 (wire 13) says of a document to store with a
 * `$`-prefixed field name (5.0 stores them); `top` says whether the document
 * is inserted (top-level names checked as mongod 4.x did) or a replacement.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkStorableNames } from "./server_features.ts";
 *
 * assert.throws(() => checkStorableNames({ $a: 1 }, 9));
 * checkStorableNames({ $a: 1 }, 13);
 * ```
 */
export function checkStorableNames(doc: Document, wire: number): void {
  if (wire >= 13) return;
  const walk = (d: Document, path: string): void => {
    for (const [k, v] of Object.entries(d)) {
      if (k.startsWith("$")) {
        throw serverError(
          52,
          "DollarPrefixedFieldName",
          `The dollar ($) prefixed field '${k}' in '${path}${k}' is not valid for storage.`,
        );
      }
      if (
        v !== null && typeof v === "object" &&
        Object.getPrototypeOf(v) === Object.prototype
      ) {
        walk(v as Document, `${path}${k}.`);
      }
    }
  };
  walk(doc, "");
}
