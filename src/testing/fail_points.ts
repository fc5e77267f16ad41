/**
 * The `configureFailPoint` command and the `failCommand` fail point, per
 * member as on mongod: modes `alwaysOn`, `off`, `{times: n}`, `{skip: n}`
 * (and `activationProbability`); data `failCommands`, `errorCode`,
 * `errorLabels`, `closeConnection`, `blockConnection` + `blockTimeMS`,
 * `writeConcernError`, `appName`, `failInternalCommands` (the simulator runs
 * no internal commands, so it never matters). Also
 * `onPrimaryTransactionalWrite` (the retryable writes tests' point): a
 * retryable write runs, then its connection closes (`closeConnection`,
 * default true) so the reply is lost; with `failBeforeCommitExceptionCode`
 * it fails before writing anything. And `failGetMoreAfterCursorCheckout`
 * (data `errorCode`, `errorLabels`): a getMore fails once its cursor is
 * found, so an error on a change stream's getMore gets mongod's
 * `ResumableChangeStreamError` label (`failCommand` fires before the cursor
 * is known: its errors get no such label). Any other fail point name is
 * refused with BadValue (`<name> not found`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FailPoints } from "./fail_points.ts";
 *
 * const points = new FailPoints();
 * points.configure({
 *   configureFailPoint: "failCommand",
 *   mode: { times: 1 },
 *   data: { failCommands: ["insert"], errorCode: 91 },
 * });
 * assert.equal(points.evaluate("insert", undefined)?.errorCode, 91);
 * assert.equal(points.evaluate("insert", undefined), undefined);
 * ```
 *
 * @module
 */
import { type Document, Int32 } from "../bson/mod.ts";
import { ErrorCode, RETRYABLE_READ_CODES } from "../error_codes.ts";
import { isPlainDocument, numericValue } from "./query.ts";
import { badValue, serverError, typeMismatch } from "./_server_error.ts";
import { errorLabelsFor } from "./_error_labels.ts";

/** What a triggered `failCommand` does to one command. */
export interface FailCommandAction {
  /** Close the connection without a reply. */
  readonly closeConnection: boolean;
  /** Wait this long before anything else (0: no wait). */
  readonly blockTimeMS: number;
  /** Answer `{ok: 0}` with this code instead of running the command. */
  readonly errorCode?: number;
  /** The labels configured, when given (otherwise mongod's own). */
  readonly errorLabels?: readonly string[];
  /** Run the command, then report this write concern error. */
  readonly writeConcernError?: Document;
}

/** What a triggered `onPrimaryTransactionalWrite` does to a retryable write. */
export interface TransactionalWriteAction {
  /** Close the connection (after the write, or instead of the error reply). */
  readonly closeConnection: boolean;
  /** Fail with this code before anything is written. */
  readonly failBeforeCommitExceptionCode?: number;
}

type Mode = { kind: "off" } | { kind: "alwaysOn" } | { kind: "times"; left: number } | {
  kind: "skip";
  left: number;
};

interface FailCommand {
  mode: Mode;
  probability: number;
  commands: ReadonlySet<string>;
  appName?: string;
  action: FailCommandAction;
}

// mongod's names for the codes tests configure most; others are `Location<code>`.
const EXTRA_CODE_NAMES: Record<number, string> = {
  1: "InternalError",
  8: "UnknownError",
  11: "UserNotFound",
  24: "LockTimeout",
  59: "CommandNotFound",
  63: "StaleShardVersion",
  79: "UnknownReplWriteConcern",
  100: "UnsatisfiableWriteConcern",
  112: "WriteConflict",
  121: "DocumentValidationFailure",
  150: "StaleEpoch",
  175: "QueryPlanKilled",
  211: "KeyNotFound",
  225: "TransactionTooOld",
  237: "CursorKilled",
  251: "NoSuchTransaction",
  256: "TransactionCommitted",
  280: "ChangeStreamFatalError",
  11000: "DuplicateKey",
  11601: "Interrupted",
  13388: "StaleConfig",
};

/**
 * The `codeName` mongod reports for a code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeNameOf } from "./fail_points.ts";
 *
 * assert.equal(codeNameOf(91), "ShutdownInProgress");
 * assert.equal(codeNameOf(12345), "Location12345");
 * ```
 */
export function codeNameOf(code: number): string {
  for (const [name, c] of Object.entries(ErrorCode)) if (c === code) return name;
  return EXTRA_CODE_NAMES[code] ?? `Location${code}`;
}

function int(v: unknown, what: string): number {
  const n = numericValue(v);
  if (n === undefined || !Number.isInteger(Number(n))) throw typeMismatch(`'${what}' must be a number`);
  return Number(n);
}

function parseMode(raw: unknown): Mode {
  if (raw === "off") return { kind: "off" };
  if (raw === "alwaysOn") return { kind: "alwaysOn" };
  if (isPlainDocument(raw)) {
    const [key] = Object.keys(raw);
    if (key === "times" || key === "skip") {
      const n = int(raw[key], key);
      if (n < 0) throw badValue(`'${key}' option to 'mode' must be positive`);
      return key === "times" && n === 0 ? { kind: "off" } : { kind: key, left: n };
    }
    throw badValue(`'mode' must be one of 'off', 'alwaysOn', 'times', and 'skip'`);
  }
  throw typeMismatch(`'mode' must be a string or JSON object`);
}

function parseTransactionalWrite(data: unknown): TransactionalWriteAction {
  if (data === undefined) return { closeConnection: true };
  if (!isPlainDocument(data)) throw typeMismatch("'data' must be a document");
  for (const k of Object.keys(data)) {
    if (k !== "closeConnection" && k !== "failBeforeCommitExceptionCode") {
      throw badValue(`onPrimaryTransactionalWrite: the simulator does not support data field '${k}'`);
    }
  }
  const code = data.failBeforeCommitExceptionCode;
  return {
    closeConnection: data.closeConnection === undefined ? true : data.closeConnection === true,
    ...(code !== undefined ? { failBeforeCommitExceptionCode: int(code, "failBeforeCommitExceptionCode") } : {}),
  };
}

// Whether a point in `mode` fires now; counts the firing against `times`/`skip`.
function fires(mode: Mode, probability: number): boolean {
  if (mode.kind === "off") return false;
  if (probability < 1 && Math.random() >= probability) return false;
  if (mode.kind === "skip" && mode.left > 0) {
    mode.left--;
    return false;
  }
  if (mode.kind === "times") mode.left--;
  return true;
}

function parseFailCommand(mode: Mode, probability: number, data: unknown): FailCommand {
  if (!isPlainDocument(data)) throw badValue("failCommand fail point needs a 'data' document");
  const known = new Set([
    "failCommands",
    "errorCode",
    "errorLabels",
    "closeConnection",
    "blockConnection",
    "blockTimeMS",
    "writeConcernError",
    "appName",
    "failInternalCommands",
    "namespace",
  ]);
  for (const k of Object.keys(data)) {
    if (!known.has(k)) throw badValue(`failCommand: the simulator does not support data field '${k}'`);
  }
  if (data.namespace !== undefined) throw badValue("failCommand: 'namespace' is not supported by the simulator");
  if (!Array.isArray(data.failCommands) || data.failCommands.some((c) => typeof c !== "string")) {
    throw badValue("'failCommands' must be an array of command names");
  }
  const block = data.blockConnection === true;
  if (block && data.blockTimeMS === undefined) throw badValue("'blockTimeMS' is required with 'blockConnection'");
  let errorLabels: string[] | undefined;
  if (data.errorLabels !== undefined) {
    if (!Array.isArray(data.errorLabels) || data.errorLabels.some((l) => typeof l !== "string")) {
      throw typeMismatch("'errorLabels' must be an array of strings");
    }
    errorLabels = data.errorLabels as string[];
  }
  if (data.writeConcernError !== undefined && !isPlainDocument(data.writeConcernError)) {
    throw typeMismatch("'writeConcernError' must be a document");
  }
  if (data.appName !== undefined && typeof data.appName !== "string") throw typeMismatch("'appName' must be a string");
  const action: FailCommandAction = {
    closeConnection: data.closeConnection === true,
    blockTimeMS: block ? Math.max(0, int(data.blockTimeMS, "blockTimeMS")) : 0,
    ...(data.errorCode !== undefined ? { errorCode: int(data.errorCode, "errorCode") } : {}),
    ...(errorLabels !== undefined ? { errorLabels } : {}),
    ...(data.writeConcernError !== undefined ? { writeConcernError: data.writeConcernError as Document } : {}),
  };
  return {
    mode,
    probability,
    commands: new Set(data.failCommands as string[]),
    ...(typeof data.appName === "string" ? { appName: data.appName } : {}),
    action,
  };
}

/**
 * The fail points of one member.
 *
 * @example
 * ```ts
 * import { FailPoints } from "./fail_points.ts";
 *
 * const points = new FailPoints();
 * points.configure({ configureFailPoint: "failCommand", mode: "off" });
 * ```
 */
export class FailPoints {
  #failCommand: FailCommand | undefined;
  #entered = 0;
  #transactionalWrite: { mode: Mode; probability: number; action: TransactionalWriteAction } | undefined;
  #getMoreAfterCheckout: { mode: Mode; action: FailCommandAction } | undefined;

  /** Runs `configureFailPoint`; returns its reply (`count`: times the point fired before). */
  configure(body: Document): Document {
    const name = body.configureFailPoint;
    if (typeof name !== "string") throw typeMismatch("'configureFailPoint' must be a string");
    if (name !== "failCommand" && name !== "onPrimaryTransactionalWrite" && name !== "failGetMoreAfterCursorCheckout") {
      throw badValue(
        `${name} not found (the simulator implements failCommand, onPrimaryTransactionalWrite and failGetMoreAfterCursorCheckout)`,
      );
    }
    if (body.mode === undefined) throw badValue("missing 'mode' field");
    const mode = parseMode(body.mode);
    if (name === "failGetMoreAfterCursorCheckout") {
      this.#getMoreAfterCheckout = mode.kind === "off" ? undefined : { mode, action: parseGetMoreFailure(body.data) };
      return { count: new Int32(0), ok: 1 };
    }
    let probability = 1;
    if (isPlainDocument(body.mode) && body.mode.activationProbability !== undefined) {
      probability = Number(numericValue(body.mode.activationProbability) ?? NaN);
      if (!(probability >= 0 && probability <= 1)) throw badValue("activationProbability must be between 0 and 1");
    }
    const before = this.#entered;
    if (name === "onPrimaryTransactionalWrite") {
      this.#transactionalWrite = mode.kind === "off"
        ? undefined
        : { mode, probability, action: parseTransactionalWrite(body.data) };
      return { count: new Int32(0), ok: 1 };
    }
    if (mode.kind === "off") {
      this.#failCommand = undefined;
    } else {
      this.#failCommand = parseFailCommand(mode, probability, body.data);
    }
    this.#entered = 0;
    return { count: new Int32(before), ok: 1 };
  }

  /** Turns every fail point off (a restarted member has none). */
  clear(): void {
    this.#failCommand = undefined;
    this.#transactionalWrite = undefined;
    this.#getMoreAfterCheckout = undefined;
    this.#entered = 0;
  }

  /** Whether `onPrimaryTransactionalWrite` fires for a retryable write; counts it against `times`/`skip`. */
  evaluateTransactionalWrite(): TransactionalWriteAction | undefined {
    const p = this.#transactionalWrite;
    if (p === undefined || !fires(p.mode, p.probability)) return undefined;
    if (p.mode.kind === "times" && p.mode.left <= 0) this.#transactionalWrite = undefined;
    return p.action;
  }

  /** The `failGetMoreAfterCursorCheckout` action if it fires now (counted against `times`/`skip`). */
  takeGetMoreFailure(): FailCommandAction | undefined {
    const fp = this.#getMoreAfterCheckout;
    if (fp === undefined) return undefined;
    if (fp.mode.kind === "skip" && fp.mode.left > 0) {
      fp.mode.left--;
      return undefined;
    }
    if (fp.mode.kind === "times" && --fp.mode.left <= 0) this.#getMoreAfterCheckout = undefined;
    return fp.action;
  }

  /**
   * Whether `failCommand` fires for this command on a connection whose
   * handshake gave `appName`; counts the firing against `times`/`skip`.
   */
  evaluate(command: string, appName: string | undefined): FailCommandAction | undefined {
    const fc = this.#failCommand;
    if (fc === undefined || !fc.commands.has(command)) return undefined;
    if (fc.appName !== undefined && fc.appName !== appName) return undefined;
    if (fc.probability < 1 && Math.random() >= fc.probability) return undefined;
    const mode = fc.mode;
    if (mode.kind === "skip" && mode.left > 0) {
      mode.left--;
      return undefined;
    }
    if (mode.kind === "times") {
      mode.left--;
      if (mode.left <= 0) this.#failCommand = undefined;
    }
    this.#entered++;
    return fc.action;
  }
}

/**
 * Whether `failGetMoreAfterCursorCheckout` fires for a getMore whose cursor
 * was found; throws its error (labelled as mongod labels a change stream's
 * resumable errors when `changeStream`).
 */
export function checkGetMoreFailPoint(points: FailPoints, changeStream: boolean): void {
  const action = points.takeGetMoreFailure();
  if (action === undefined) return;
  const reply = failedReply(action, {}, changeStream);
  const labels = reply.errorLabels as string[] | undefined;
  throw serverError(
    Number(reply.code),
    String(reply.codeName),
    "Failing getMore via 'failGetMoreAfterCursorCheckout' failpoint",
    labels === undefined ? undefined : { errorLabels: labels },
  );
}

function parseGetMoreFailure(data: unknown): FailCommandAction {
  if (!isPlainDocument(data)) throw badValue("failGetMoreAfterCursorCheckout needs a 'data' document");
  for (const k of Object.keys(data)) {
    if (k !== "errorCode" && k !== "errorLabels" && k !== "closeConnection") {
      throw badValue(`failGetMoreAfterCursorCheckout: the simulator does not support data field '${k}'`);
    }
  }
  if (data.closeConnection === true) throw badValue("failGetMoreAfterCursorCheckout: closeConnection is not supported by the simulator");
  const labels = data.errorLabels;
  if (labels !== undefined && (!Array.isArray(labels) || labels.some((l) => typeof l !== "string"))) {
    throw typeMismatch("'errorLabels' must be an array of strings");
  }
  return {
    closeConnection: false,
    blockTimeMS: 0,
    errorCode: data.errorCode === undefined ? 1 : int(data.errorCode, "errorCode"),
    ...(labels !== undefined ? { errorLabels: labels as string[] } : {}),
  };
}

// The codes mongod labels ResumableChangeStreamError on a change stream's getMore.
const RESUMABLE_CHANGE_STREAM_CODES: ReadonlySet<number> = new Set([
  ...RETRYABLE_READ_CODES,
  63, // StaleShardVersion
  133, // FailedToSatisfyReadPreference
  150, // StaleEpoch
  234, // RetryChangeStream
  13388, // StaleConfig
]);

function labelsFor(
  action: FailCommandAction,
  body: Document,
  code: number | undefined,
  changeStream = false,
  writeConcernError = false,
): string[] | undefined {
  if (action.errorLabels !== undefined) return [...action.errorLabels];
  if (changeStream && code !== undefined && RESUMABLE_CHANGE_STREAM_CODES.has(code)) return ["ResumableChangeStreamError"];
  if (code === undefined) return undefined;
  const name = Object.keys(body)[0] ?? "";
  return writeConcernError ? errorLabelsFor(name, body, undefined, code) : errorLabelsFor(name, body, code, undefined);
}

/**
 * The `{ok: 0}` reply of a command failed by `failCommand` with an
 * `errorCode`, labelled as mongod labels it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { failedReply } from "./fail_points.ts";
 *
 * const reply = failedReply({ closeConnection: false, blockTimeMS: 0, errorCode: 91 }, { insert: "c", txnNumber: 1 });
 * assert.deepEqual(reply.errorLabels, ["RetryableWriteError"]);
 * ```
 */
export function failedReply(action: FailCommandAction, body: Document, changeStream = false): Document {
  const code = action.errorCode ?? ErrorCode.BadValue;
  const reply: Document = {
    ok: 0,
    errmsg: "Failing command via 'failCommand' failpoint",
    code: new Int32(code),
    codeName: codeNameOf(code),
  };
  const labels = labelsFor(action, body, code, changeStream);
  if (labels !== undefined) reply.errorLabels = labels;
  return reply;
}

/**
 * Adds the configured write concern error (and its labels) to the reply of
 * a command that ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addWriteConcernError } from "./fail_points.ts";
 *
 * const reply: Record<string, unknown> = { n: 1, ok: 1 };
 * addWriteConcernError(reply, { closeConnection: false, blockTimeMS: 0, writeConcernError: { code: 64, errmsg: "x" } }, {});
 * assert.deepEqual(reply.writeConcernError, { code: 64, errmsg: "x" });
 * ```
 */
export function addWriteConcernError(reply: Document, action: FailCommandAction, body: Document): void {
  const wce = action.writeConcernError;
  if (wce === undefined) return;
  const code = numericValue(wce.code);
  reply.writeConcernError = { ...wce };
  const labels = labelsFor(action, body, code === undefined ? undefined : Number(code), false, true);
  if (labels !== undefined) {
    const ok = reply.ok;
    delete reply.ok;
    reply.errorLabels = labels;
    reply.ok = ok;
  }
}
