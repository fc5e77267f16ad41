/**
 * SDAM events in the unified test format: the names a client entity can
 * observe (`serverDescriptionChangedEvent`, `topologyDescriptionChangedEvent`,
 * the heartbeats, topology opening/closing) and the assertions of an
 * `expectedEvent` of one of them (`previousDescription`/`newDescription`
 * types, `awaited`).
 */
import type { Document } from "../../../src/bson/mod.ts";
import { SkipTest } from "./entities.ts";
import { isDocument, MatchError } from "./matcher.ts";

/** The SDAM event names of the format, each the driver's event type plus `Event`. */
export const SDAM_EVENTS: readonly string[] = [
  "serverDescriptionChangedEvent",
  "serverHeartbeatStartedEvent",
  "serverHeartbeatSucceededEvent",
  "serverHeartbeatFailedEvent",
  "topologyDescriptionChangedEvent",
  "topologyOpeningEvent",
  "topologyClosedEvent",
  "serverOpeningEvent",
  "serverClosedEvent",
];

/** Whether `name` is an SDAM event of the format. */
export function isSdamEvent(name: string): boolean {
  return SDAM_EVENTS.includes(name);
}

function matchDescription(
  expected: unknown,
  actual: unknown,
  where: string,
): void {
  if (!isDocument(expected)) {
    throw new MatchError(
      `${where}: the expected description must be a document`,
    );
  }
  for (const [k, v] of Object.entries(expected)) {
    if (k !== "type") {
      throw new SkipTest(`runner lacks matching of a description's ${k}`);
    }
    const type = (actual as { type?: unknown } | undefined)?.type;
    if (type !== v) {
      throw new MatchError(
        `${where}.type: expected ${String(v)}, got ${String(type)}`,
      );
    }
  }
}

/**
 * Asserts the fields of an expected SDAM event (`spec`, the value under its
 * name) against the driver's event object. Throws {@linkcode MatchError}.
 */
export function matchSdamEvent(
  name: string,
  spec: Document,
  event: Record<string, unknown>,
  where: string,
): void {
  for (const [k, v] of Object.entries(spec)) {
    switch (k) {
      case "previousDescription":
      case "newDescription":
        if (
          name !== "serverDescriptionChangedEvent" &&
          name !== "topologyDescriptionChangedEvent"
        ) {
          throw new MatchError(`${where}: ${name} has no ${k}`);
        }
        matchDescription(v, event[k], `${where}.${k}`);
        break;
      case "awaited":
        if (!name.startsWith("serverHeartbeat")) {
          throw new MatchError(`${where}: ${name} has no awaited`);
        }
        if (event.awaited !== v) {
          throw new MatchError(
            `${where}.awaited: expected ${String(v)}, got ${
              String(event.awaited)
            }`,
          );
        }
        break;
      default:
        throw new SkipTest(`runner lacks matching of ${name}.${k}`);
    }
  }
}
