/**
 * The known differences of FerretDB 1.24.2 (SQLite handler) from MongoDB that
 * the unified CRUD tests hit, as a table: each row names the difference and
 * says how to recognise it, either from the test before it runs (a value
 * FerretDB answers by dropping the connection, a command it does not have) or
 * from the error the test failed with (FerretDB's own NotImplemented message,
 * its refusal of a field name...). A failure that no row explains stays a
 * failure.
 */
import type { Document } from "../../src/bson/mod.ts";
import { Decimal128, Double, MaxKey, MinKey } from "../../src/bson/mod.ts";
import { MongoError, OperationFailure } from "../../src/errors.ts";
import type { TestFile } from "../spec/unified/runner.ts";

/** One known difference: what it is, and how a test shows it. */
export interface FerretDBGap {
  /** The difference, as the skip reason prints it. */
  readonly reason: string;
  /** The test hits it before running (checked on the file and the test). */
  readonly before?: (file: TestFile, test: Document) => boolean;
  /** The error a test failed with shows it. */
  readonly error?: (e: unknown) => boolean;
}

/** FerretDB's "not implemented" answer (NotImplemented, 238) whose message matches `re`. */
function notImplemented(re: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof OperationFailure && e.code === 238 && re.test(e.errmsg);
}

/** Every value of a test's arguments, initial data and expectations, depth first. */
function* values(v: unknown): Generator<unknown> {
  yield v;
  if (Array.isArray(v)) { for (const x of v) yield* values(x); }
  else if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) yield* values(x);
  }
}

function sends(file: TestFile, test: Document, pred: (v: unknown) => boolean): boolean {
  const sent = [file.doc.initialData, (test.operations as Document[]).map((o) => o.arguments)];
  for (const v of values(sent)) if (pred(v)) return true;
  return false;
}

function usesOperation(test: Document, names: readonly string[]): boolean {
  return (test.operations as Document[]).some((o) => names.includes(String(o.name)));
}

/** The table, in the order rows are tried. */
export const FERRETDB_GAPS: readonly FerretDBGap[] = [
  {
    reason: "FerretDB 1.24 has no fail points (configureFailPoint/failCommand is absent)",
    before: (_, t) => usesOperation(t, ["failPoint", "targetedFailPoint"]),
  },
  {
    reason: "FerretDB 1.24 has no transactions",
    before: (_, t) =>
      usesOperation(t, ["startTransaction", "withTransaction", "commitTransaction", "abortTransaction"]),
  },
  {
    reason: "FerretDB 1.24 refuses Decimal128, NaN, MinKey and MaxKey in requests (it drops the connection)",
    before: (f, t) =>
      sends(f, t, (v) =>
        v instanceof Decimal128 || v instanceof MinKey || v instanceof MaxKey ||
        (v instanceof Double && Number.isNaN(v.valueOf())) || (typeof v === "number" && Number.isNaN(v))),
  },
  {
    reason: "FerretDB 1.24 lacks arrayFilters (update, findAndModify)",
    error: notImplemented(/support for field "arrayFilters"/),
  },
  {
    reason: "FerretDB 1.24 lacks let (update, delete, findAndModify)",
    error: notImplemented(/support for field "let"/),
  },
  {
    reason: "FerretDB 1.24 lacks collation",
    error: notImplemented(/support for field "collation"/),
  },
  {
    reason: "FerretDB 1.24 lacks findAndModify's fields (a projection)",
    error: notImplemented(/^findAndModify: support for field "fields"/),
  },
  {
    reason: "FerretDB 1.24 lacks update pipelines (an aggregation pipeline as the update)",
    error: (e) =>
      notImplemented(/^Aggregation pipelines are not supported yet/)(e) ||
      (e instanceof OperationFailure && e.code === 14 &&
        /'update\.updates\.u' is the wrong type 'array'/.test(e.errmsg)),
  },
  {
    reason: "FerretDB 1.24 lacks the $out stage",
    error: notImplemented(/stage "\$out" is not implemented/),
  },
  {
    reason: "FerretDB 1.24 lacks views (create with viewOn)",
    error: notImplemented(/^create: support for field "viewOn"/),
  },
  {
    reason: "FerretDB 1.24 lacks collMod (validators)",
    error: notImplemented(/^`collMod` command is not implemented/),
  },
  {
    reason: "FerretDB 1.24 takes only a string comment",
    error: (e) =>
      e instanceof OperationFailure && e.code === 14 && /'\w+\.comment' is the wrong type 'object'/.test(e.errmsg),
  },
  {
    reason: "FerretDB 1.24 refuses field names with '.' or a leading '$' (MongoDB 5.0+ stores them)",
    error: (e) =>
      e instanceof MongoError &&
      /invalid key: ".*" \(key must not (start with '\$'|contain '\.') sign\)/.test(e.message),
  },
  {
    reason: "FerretDB 1.24's duplicate key error has no keyPattern/keyValue",
    error: (e) => e instanceof Error && e.name === "MatchError" && /^\$\.keyPattern: missing/.test(e.message),
  },
];

/** The known difference a test hits before it runs, as its skip reason. */
export function ferretdbSkipBefore(file: TestFile, test: Document): string | undefined {
  return FERRETDB_GAPS.find((g) => g.before?.(file, test))?.reason;
}

/** The known difference that explains a failure, as the skip reason; undefined: a real failure. */
export function ferretdbExplainFailure(error: unknown): string | undefined {
  return FERRETDB_GAPS.find((g) => g.error?.(error))?.reason;
}
