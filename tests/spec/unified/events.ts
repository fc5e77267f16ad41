/**
 * `observeEvents` and `expectEvents` of the unified test format, for a driver
 * whose client is an `EventTarget` of monitoring events (`commandStarted`,
 * `poolCreated`, ...: the format's names without the `Event` suffix). With a
 * client that dispatches no events, a test that expects some is skipped
 * ("command monitoring events not implemented"). SDAM events are matched by
 * `sdam_events.ts`.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { SkipTest, TestFileError } from "./entities.ts";
import { isDocument, match, type MatchContext, MatchError } from "./matcher.ts";
import { isSdamEvent, matchSdamEvent } from "./sdam_events.ts";

/** One observed event: its name in the format (`commandStartedEvent`) and the driver's event object. */
export interface ObservedEvent {
  readonly name: string;
  readonly event: Record<string, unknown>;
}

const COMMAND_EVENTS = ["commandStartedEvent", "commandSucceededEvent", "commandFailedEvent"];
const CMAP_EVENTS = [
  "poolCreatedEvent",
  "poolReadyEvent",
  "poolClearedEvent",
  "poolClosedEvent",
  "connectionCreatedEvent",
  "connectionReadyEvent",
  "connectionClosedEvent",
  "connectionCheckOutStartedEvent",
  "connectionCheckOutFailedEvent",
  "connectionCheckedOutEvent",
  "connectionCheckedInEvent",
];

/** Commands whose monitoring events are ignored unless `observeSensitiveCommands` (Command Logging and Monitoring). */
const SENSITIVE = new Set([
  "authenticate",
  "saslstart",
  "saslcontinue",
  "getnonce",
  "createuser",
  "updateuser",
  "copydbgetnonce",
  "copydbsaslstart",
  "copydb",
]);

/** What a client entity asked to observe. */
export interface ObserveOptions {
  readonly observeEvents: readonly string[];
  readonly ignoreCommandMonitoringEvents: readonly string[];
  readonly observeSensitiveCommands: boolean;
}

/** Whether the driver's client dispatches monitoring events. */
export function dispatchesEvents(client: unknown): boolean {
  return typeof (client as { addEventListener?: unknown }).addEventListener === "function";
}

/**
 * Starts recording the events a client entity observes; returns the list
 * they are appended to, or undefined when the client dispatches no events.
 */
export function observe(client: unknown, o: ObserveOptions): ObservedEvent[] | undefined {
  if (!dispatchesEvents(client)) return undefined;
  const log: ObservedEvent[] = [];
  const target = client as EventTarget;
  // Commands that started sensitive (hello with speculativeAuthenticate) stay ignored when they finish.
  const ignoredRequests = new Set<unknown>();
  for (const name of o.observeEvents) {
    if (!COMMAND_EVENTS.includes(name) && !CMAP_EVENTS.includes(name) && !isSdamEvent(name)) continue;
    const type = name.slice(0, -"Event".length);
    target.addEventListener(type, (e) => {
      const event = e as unknown as Record<string, unknown>;
      if (COMMAND_EVENTS.includes(name)) {
        const command = String(event.commandName);
        if (o.ignoreCommandMonitoringEvents.includes(command) || command === "configureFailPoint") return;
        if (!o.observeSensitiveCommands) {
          const started = event.command as Document | undefined;
          const speculative = started !== undefined && started.speculativeAuthenticate !== undefined;
          if (speculative) ignoredRequests.add(event.requestId);
          if (SENSITIVE.has(command.toLowerCase()) || ignoredRequests.has(event.requestId)) return;
          const hello = command === "hello" || command.toLowerCase() === "ismaster";
          // A redacted hello (empty command or reply) was a sensitive one.
          if (hello && isDocument(event.reply) && Object.keys(event.reply).length === 0) return;
          if (hello && isDocument(started) && Object.keys(started).length === 0) return;
        }
      }
      log.push({ name, event });
    });
  }
  return log;
}

/** The format's event type of a name: "command", "cmap" or "sdam". */
function typeOf(name: string): string {
  if (COMMAND_EVENTS.includes(name)) return "command";
  if (CMAP_EVENTS.includes(name)) return "cmap";
  return "sdam";
}

/** Asserts one expected event (`{commandStartedEvent: {...}}`) against an observed one. */
export function matchEvent(expected: Document, actual: ObservedEvent, where: string, ctx: MatchContext): void {
  const [name] = Object.keys(expected);
  if (name !== actual.name) {
    throw new MatchError(`${where}: expected ${name}, got ${actual.name} (${String(actual.event.commandName ?? "")})`);
  }
  const spec = expected[name] as Document;
  const e = actual.event;
  if (isSdamEvent(name)) return matchSdamEvent(name, spec, e, where);
  for (const [k, v] of Object.entries(spec)) {
    switch (k) {
      case "command":
      case "reply":
        match(v, e[k], { root: true, ctx });
        break;
      case "commandName":
      case "databaseName":
      case "reason":
      case "interruptInUseConnections":
        if (e[k] !== v) {
          throw new MatchError(`${where}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(e[k])}`);
        }
        break;
      case "hasServiceId":
        if ((e.serviceId !== undefined && e.serviceId !== null) !== v) {
          throw new MatchError(`${where}.hasServiceId: expected ${v}`);
        }
        break;
      case "hasServerConnectionId":
        if ((e.serverConnectionId !== undefined && e.serverConnectionId !== null) !== v) {
          throw new MatchError(`${where}.hasServerConnectionId: expected ${v}, got ${String(e.serverConnectionId)}`);
        }
        break;
      default:
        throw new SkipTest(`runner lacks matching of ${name}.${k}`);
    }
  }
}

/** The recorded events of a client entity, by id (undefined: the client dispatches none). */
export type EventLogs = (client: string) => ObservedEvent[] | undefined;

/**
 * Checks `expectEvents`. Skips (throws {@linkcode SkipTest}) when an
 * expectation needs events the driver or the runner cannot observe; an
 * empty expected list with a client that dispatches nothing passes, as the
 * spec's "no events were observed" holds.
 */
export async function checkExpectedEvents(expectEvents: unknown, logs: EventLogs, ctx: MatchContext): Promise<void> {
  if (expectEvents === undefined) return;
  if (!Array.isArray(expectEvents)) throw new TestFileError("expectEvents must be an array");
  for (const l of expectEvents as Document[]) {
    const eventType = (l.eventType as string | undefined) ?? "command";
    const expected = (l.events ?? []) as Document[];
    const log = logs(l.client as string);
    if (expected.length === 0 && log === undefined) continue;
    if (log === undefined) {
      const label = eventType === "command" ? "command monitoring" : eventType === "cmap" ? "CMAP" : "SDAM";
      throw new SkipTest(`${label} events not implemented`);
    }
    const pick = () => log.filter((e) => typeOf(e.name) === eventType);
    // Events of the last operation may still be on their way (a check-in after the reply): wait, bounded.
    for (let i = 0; i < 40 && pick().length < expected.length; i++) await new Promise((r) => setTimeout(r, 25));
    const actual = pick();
    const extraOk = l.ignoreExtraEvents === true;
    if (extraOk ? actual.length < expected.length : actual.length !== expected.length) {
      throw new MatchError(
        `client ${l.client}: expected ${expected.length} ${eventType} event(s), got ${actual.length}: ` +
          actual.map((e) => `${e.name}(${String(e.event.commandName ?? "")})`).join(", "),
      );
    }
    expected.forEach((e, i) => matchEvent(e, actual[i], `client ${l.client} ${eventType} event ${i}`, ctx));
  }
}
