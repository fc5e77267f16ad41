/**
 * `runCursorCommand`: a command the caller writes whose reply is a cursor
 * (`find`, `aggregate`, `listCollections`, ...), iterated with `getMore` as
 * any cursor is. The command is sent as given, with only the fields every
 * command carries (`$db`, `lsid`, `$clusterTime`, `$readPreference`); no
 * read or write concern is added, and it is not retried.
 *
 * @module
 */

import type { Document } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import { checkDocument, checkInt, checkOptions } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import type { CommandCursorOptions, CursorSource } from "./cursor_options.ts";

/**
 * Options of {@linkcode Database.runCursorCommand}: where and how the
 * command runs, and the fields of each later `getMore`.
 *
 * @example
 * ```ts
 * import type { RunCursorCommandOptions } from "@zerodep/mongo";
 *
 * const options: RunCursorCommandOptions = { batchSize: 100, comment: "nightly export" };
 * ```
 */
export interface RunCursorCommandOptions extends CommandCursorOptions {
  /** The `maxTimeMS` of each `getMore` (how long a tailable awaitData cursor's getMore waits on the server). */
  readonly maxTimeMS?: number;
  /** The `comment` of each `getMore` (MongoDB 4.4+; the command's own comment is part of the command). */
  readonly comment?: unknown;
}

const OPTIONS: ReadonlySet<string> = new Set([
  "batchSize",
  "readPreference",
  "signal",
  "session",
  "timeoutMS",
  "timeoutMode",
  "maxTimeMS",
  "comment",
]);

/**
 * The cursor source of a `runCursorCommand` call, its input checked.
 *
 * @throws {ConfigurationError} for an empty command or an unknown option.
 * @throws {TypeError} for a command that is not a document, or an option of the wrong type.
 */
export function runCursorCommandSource(command: unknown, options: RunCursorCommandOptions | undefined): CursorSource {
  const cmd = checkDocument(command, "the cursor command");
  if (Object.keys(cmd).length === 0) throw new ConfigurationError("runCursorCommand needs a command, got {}");
  const opts = checkOptions(options, "runCursorCommand options");
  checkOptionNames(opts, OPTIONS, "runCursorCommand option");
  const { maxTimeMS, comment, ...cursorOptions } = opts;
  checkInt(maxTimeMS, "maxTimeMS", 0);
  return {
    kind: "command",
    command: cmd,
    options: cursorOptions,
    retryable: false,
    getMore: { ...(maxTimeMS === undefined ? {} : { maxTimeMS }), ...(comment === undefined ? {} : { comment }) },
  };
}
