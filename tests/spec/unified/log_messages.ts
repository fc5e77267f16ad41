/**
 * The unified format's log messages: a client's `observeLogMessages`
 * attaches the driver's loggers for the components it asks for (the driver
 * logs only `topology`: `logTopology` in src/client/logging.ts), and a test's
 * `expectLogMessages` is matched against what each client logged, as the
 * format says: messages matching one of `ignoreMessages` are left out, the
 * rest must match `messages` in order (level, component, and `data` as a
 * root-level document), with nothing after them unless `ignoreExtraMessages`.
 */
import type { ClientBase } from "../../../src/client/mod.ts";
import { logTopology, type TopologyLogMessage } from "../../../src/client/logging.ts";
import { TestFileError } from "./entities.ts";
import { isDocument, match, MatchError, type MatchContext } from "./matcher.ts";

/** The components the driver logs. */
const LOGGED = new Set(["topology"]);
const COMPONENTS = new Set(["command", "topology", "serverSelection", "connection"]);

/** What one client logged, and which components it observed. */
export interface ClientLogs {
  readonly observed: ReadonlySet<string>;
  readonly messages: TopologyLogMessage[];
}

/** Attaches the loggers a client entity's `observeLogMessages` asks for; undefined when it asks for none. */
export function observeLogMessages(client: ClientBase, spec: unknown): ClientLogs | undefined {
  if (spec === undefined) return undefined;
  if (!isDocument(spec)) throw new TestFileError("observeLogMessages must be a document");
  const messages: TopologyLogMessage[] = [];
  for (const [component, severity] of Object.entries(spec)) {
    if (!COMPONENTS.has(component)) throw new TestFileError(`observeLogMessages: unknown component ${component}`);
    if (component === "topology") logTopology(client, { severity: severity as never, write: (m) => messages.push(m) });
  }
  return { observed: new Set(Object.keys(spec)), messages };
}

/**
 * Checks a test's `expectLogMessages` against what the clients logged.
 * Returns a skip reason when it expects messages of a component the driver
 * does not log; throws MatchError on a mismatch.
 */
export function checkLogMessages(
  expected: unknown,
  logsOf: (client: string) => ClientLogs | undefined,
  ctx: MatchContext,
): string | undefined {
  if (expected === undefined) return undefined;
  if (!Array.isArray(expected)) throw new TestFileError("expectLogMessages must be an array");
  for (const block of expected) {
    if (!isDocument(block) || typeof block.client !== "string" || !Array.isArray(block.messages)) {
      throw new TestFileError("each expectLogMessages entry needs client and messages");
    }
    const missing = new Set<string>();
    for (const m of [...block.messages, ...(Array.isArray(block.ignoreMessages) ? block.ignoreMessages : [])]) {
      if (!isDocument(m) || typeof m.component !== "string") {
        throw new TestFileError("an expected log message needs a component");
      }
      if (!LOGGED.has(m.component)) missing.add(m.component);
    }
    if (missing.size > 0) return `driver lacks ${[...missing].join(", ")} log messages`;
  }
  for (const block of expected) {
    const logs = logsOf(block.client);
    if (logs === undefined) {
      throw new TestFileError(`expectLogMessages: client ${block.client} does not observe log messages`);
    }
    const ignore = (Array.isArray(block.ignoreMessages) ? block.ignoreMessages : []) as unknown[];
    const actual = logs.messages.filter((m) => !ignore.some((i) => matches(i, m, ctx)));
    const want = block.messages as unknown[];
    for (let i = 0; i < want.length; i++) {
      const got = actual[i];
      if (got === undefined) {
        throw new MatchError(
          `expectLogMessages ${block.client}: ${actual.length} message(s) logged, expected ${want.length}: ` +
            actual.map((m) => m.data.message).join("; "),
        );
      }
      try {
        matchMessage(want[i], got, ctx);
      } catch (e) {
        throw new MatchError(
          `expectLogMessages ${block.client}[${i}]: ${(e as Error).message} (logged: ${
            actual.map((m) => m.data.message).join("; ")
          })`,
        );
      }
    }
    if (block.ignoreExtraMessages !== true && actual.length > want.length) {
      throw new MatchError(
        `expectLogMessages ${block.client}: ${actual.length - want.length} more message(s) than expected: ` +
          actual.slice(want.length).map((m) => m.data.message).join("; "),
      );
    }
  }
  return undefined;
}

function matchMessage(expected: unknown, actual: TopologyLogMessage, ctx: MatchContext): void {
  if (!isDocument(expected)) throw new TestFileError("an expected log message must be a document");
  if (expected.level !== actual.severity) throw new MatchError(`level ${actual.severity}, expected ${expected.level}`);
  if (expected.component !== actual.component) {
    throw new MatchError(`component ${actual.component}, expected ${expected.component}`);
  }
  if (expected.failureIsRedacted !== undefined) {
    // Heartbeat failures are never of a sensitive command: not redacted.
    if (expected.failureIsRedacted === true) throw new MatchError("the failure is not redacted");
  }
  match(expected.data, actual.data, { root: true, ctx });
}

function matches(expected: unknown, actual: TopologyLogMessage, ctx: MatchContext): boolean {
  try {
    matchMessage(expected, actual, ctx);
    return true;
  } catch (e) {
    if (e instanceof MatchError) return false;
    throw e;
  }
}
