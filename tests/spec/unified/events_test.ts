// observeEvents / expectEvents of the unified runner, without a server: a
// plain EventTarget stands in for a client that dispatches monitoring events.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { EJSON } from "../../../src/bson/mod.ts";
import { SkipTest } from "./entities.ts";
import { checkExpectedEvents, observe, type ObservedEvent } from "./events.ts";
import { checkedOutConnections, trackCheckouts } from "./connection_counts.ts";
import { type MatchContext, MatchError } from "./matcher.ts";

const ctx: MatchContext = {
  entity: (n) => {
    throw new Error(`no entity ${n}`);
  },
  sessionLsid: (n) => {
    throw new Error(`no session ${n}`);
  },
};
const x = (text: string): unknown => EJSON.parse(text, { relaxed: false });

function fire(
  target: EventTarget,
  type: string,
  fields: Record<string, unknown>,
): void {
  target.dispatchEvent(Object.assign(new Event(type), fields));
}

function client(): { target: EventTarget; log: ObservedEvent[] } {
  const target = new EventTarget();
  const log = observe(target, {
    observeEvents: [
      "commandStartedEvent",
      "commandSucceededEvent",
      "connectionCheckedOutEvent",
    ],
    ignoreCommandMonitoringEvents: ["killCursors"],
    observeSensitiveCommands: false,
  })!;
  return { target, log };
}

describe("unified runner events", () => {
  test("records the observed types only, without ignored, fail point and sensitive commands", () => {
    const { target, log } = client();
    fire(target, "commandStarted", {
      commandName: "find",
      command: { find: "c" },
      requestId: 1,
    });
    fire(target, "commandStarted", {
      commandName: "killCursors",
      command: { killCursors: "c" },
      requestId: 2,
    });
    fire(target, "commandStarted", {
      commandName: "configureFailPoint",
      command: {},
      requestId: 3,
    });
    fire(target, "commandStarted", {
      commandName: "saslStart",
      command: {},
      requestId: 4,
    });
    fire(target, "commandStarted", {
      commandName: "hello",
      command: { hello: 1, speculativeAuthenticate: {} },
      requestId: 5,
    });
    fire(target, "commandSucceeded", {
      commandName: "hello",
      reply: { ok: 1 },
      requestId: 5,
    });
    fire(target, "commandFailed", { commandName: "find", requestId: 6 }); // not observed
    fire(target, "connectionCheckedOut", { connectionId: 1 });
    assert.deepEqual(log.map((e) => e.name), [
      "commandStartedEvent",
      "connectionCheckedOutEvent",
    ]);
  });

  test("matches command events in order, by type, with root-level command documents", async () => {
    const { target, log } = client();
    fire(target, "commandStarted", {
      commandName: "find",
      databaseName: "db",
      command: { find: "c", lsid: {} },
    });
    fire(target, "connectionCheckedOut", { connectionId: 1 });
    fire(target, "commandSucceeded", {
      commandName: "find",
      reply: { ok: 1, cursor: {} },
      serverConnectionId: 9,
    });
    const logs = () => log;
    await checkExpectedEvents(
      x(`[{"client": "c0", "events": [
        {"commandStartedEvent": {"command": {"find": "c"}, "commandName": "find", "databaseName": "db"}},
        {"commandSucceededEvent": {"reply": {"ok": 1}, "commandName": "find", "hasServerConnectionId": true}}]}]`),
      logs,
      ctx,
    );
    await checkExpectedEvents(
      x(`[{"client": "c0", "eventType": "cmap", "events": [{"connectionCheckedOutEvent": {}}]}]`),
      logs,
      ctx,
    );
    await assert.rejects(
      checkExpectedEvents(
        x(`[{"client": "c0", "events": [{"commandStartedEvent": {"commandName": "insert"}}]}]`),
        logs,
        ctx,
      ),
      MatchError,
    );
    await assert.rejects(
      checkExpectedEvents(
        x(`[{"client": "c0", "events": [{"commandSucceededEvent": {}}, {"commandStartedEvent": {}}]}]`),
        logs,
        ctx,
      ),
      MatchError,
    );
    // A nested document of the command is not root-level.
    await assert.rejects(
      checkExpectedEvents(
        x(`[{"client": "c0", "events": [{"commandStartedEvent": {"command": {"lsid": {"x": 1}}}}, {"commandSucceededEvent": {}}]}]`),
        logs,
        ctx,
      ),
      MatchError,
    );
  });

  test("counts must agree unless ignoreExtraEvents; an empty list means no events", async () => {
    const { target, log } = client();
    fire(target, "commandStarted", { commandName: "find", command: {} });
    fire(target, "commandStarted", { commandName: "getMore", command: {} });
    const logs = () => log;
    const one = `{"commandStartedEvent": {"commandName": "find"}}`;
    await assert.rejects(
      checkExpectedEvents(
        x(`[{"client": "c0", "events": [${one}]}]`),
        logs,
        ctx,
      ),
      MatchError,
    );
    await checkExpectedEvents(
      x(`[{"client": "c0", "ignoreExtraEvents": true, "events": [${one}]}]`),
      logs,
      ctx,
    );
    await assert.rejects(
      checkExpectedEvents(x(`[{"client": "c0", "events": []}]`), logs, ctx),
      MatchError,
    );
  });

  test("a client without events skips expectations that need some", async () => {
    const none = () => undefined;
    const one = `{"commandStartedEvent": {"commandName": "find"}}`;
    await assert.rejects(
      checkExpectedEvents(
        x(`[{"client": "c0", "events": [${one}]}]`),
        none,
        ctx,
      ),
      (e) => {
        assert.ok(e instanceof SkipTest);
        assert.equal(e.reason, "command monitoring events not implemented");
        return true;
      },
    );
    await checkExpectedEvents(x(`[{"client": "c0", "events": []}]`), none, ctx);
    assert.equal(
      observe({}, {
        observeEvents: ["commandStartedEvent"],
        ignoreCommandMonitoringEvents: [],
        observeSensitiveCommands: false,
      }),
      undefined,
    );
  });

  test("SDAM events are recorded and matched on their descriptions' types and awaited", async () => {
    const target = new EventTarget();
    const log = observe(target, {
      observeEvents: [
        "serverDescriptionChangedEvent",
        "serverHeartbeatSucceededEvent",
      ],
      ignoreCommandMonitoringEvents: [],
      observeSensitiveCommands: false,
    })!;
    fire(target, "serverDescriptionChanged", {
      address: "a:1",
      previousDescription: { type: "Unknown" },
      newDescription: { type: "RSPrimary" },
    });
    fire(target, "serverHeartbeatSucceeded", {
      address: "a:1",
      awaited: false,
    });
    fire(target, "topologyDescriptionChanged", {
      newDescription: { type: "ReplicaSetWithPrimary" },
    }); // not observed
    assert.deepEqual(log.map((e) => e.name), [
      "serverDescriptionChangedEvent",
      "serverHeartbeatSucceededEvent",
    ]);
    const expect = (events: string) =>
      checkExpectedEvents(
        x(`[{"client": "c0", "eventType": "sdam", "events": [${events}]}]`),
        () => log,
        ctx,
      );
    await expect(
      `{"serverDescriptionChangedEvent": {"previousDescription": {"type": "Unknown"}, "newDescription": {"type": "RSPrimary"}}}, {"serverHeartbeatSucceededEvent": {"awaited": false}}`,
    );
    await assert.rejects(
      expect(
        `{"serverDescriptionChangedEvent": {"newDescription": {"type": "Unknown"}}}, {"serverHeartbeatSucceededEvent": {}}`,
      ),
      MatchError,
    );
    await assert.rejects(
      expect(
        `{"serverDescriptionChangedEvent": {}}, {"serverHeartbeatSucceededEvent": {"awaited": true}}`,
      ),
      MatchError,
    );
  });

  test("checked-out connections are counted from the CMAP events, whatever the client observes", () => {
    const target = new EventTarget();
    assert.equal(checkedOutConnections(target), undefined);
    trackCheckouts(target);
    fire(target, "connectionCheckedOut", { connectionId: 1 });
    fire(target, "connectionCheckedOut", { connectionId: 2 });
    fire(target, "connectionCheckedIn", { connectionId: 1 });
    assert.equal(checkedOutConnections(target), 1);
  });
});
