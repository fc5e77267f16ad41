// SDAM log messages (`logTopology`): the topology component's messages, in
// the order the specification's events come, with the fields it requires,
// against a simulated standalone; the severity threshold; option checks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, Connection, logTopology, type TopologyLogMessage } from "../../mod.ts";
import { startStandalone } from "../../src/testing/mod.ts";

const FAST = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500, connectTimeoutMS: 2000 };

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never happened: ${what}`);
}

describe("logTopology", () => {
  test("a client's lifecycle and heartbeats, as the specification's structured messages", async () => {
    await using server = await startStandalone();
    const conn = new Connection(`mongodb://${server.host}/?directConnection=false`, FAST);
    const log: TopologyLogMessage[] = [];
    logTopology(conn, { severity: "debug", write: (m) => log.push(m) });
    await conn.connect();
    await until(() => log.some((m) => m.data.message === "Server heartbeat succeeded"), "a heartbeat");
    await conn.close();
    assert.ok(log.every((m) => m.severity === "debug" && m.component === "topology"));
    const lifecycle = log.map((m) => m.data.message).filter((m) => !m.startsWith("Server heartbeat"));
    assert.deepEqual(lifecycle, [
      "Starting topology monitoring",
      "Topology description changed",
      "Starting server monitoring",
      "Topology description changed",
      "Stopped server monitoring",
      "Topology description changed",
      "Stopped topology monitoring",
    ]);
    const ids = new Set(log.map((m) => m.data.topologyId));
    assert.equal(ids.size, 1, "one topologyId");
    const [host, port] = server.host.split(":");
    const started = log.find((m) => m.data.message === "Server heartbeat started")!;
    assert.equal(started.data.serverHost, host);
    assert.equal(started.data.serverPort, Number(port));
    assert.equal(started.data.driverConnectionId, 1, "the monitor's first connection");
    assert.equal(started.data.awaited, false);
    const ok = log.find((m) => m.data.message === "Server heartbeat succeeded")!;
    assert.equal(typeof ok.data.durationMS, "number");
    assert.equal(ok.data.driverConnectionId, 1);
    assert.equal(typeof ok.data.serverConnectionId, "number");
    const reply = JSON.parse(ok.data.reply as string); // relaxed Extended JSON of the hello (legacy isMaster first)
    assert.equal(reply.isWritablePrimary ?? reply.ismaster, true);
    assert.equal(reply.ok, 1);
    const changed = log.filter((m) => m.data.message === "Topology description changed");
    assert.equal(JSON.parse(changed[1].data.newDescription as string).type, "Single");
  });

  test("a failed heartbeat carries the failure", async () => {
    await using server = await startStandalone();
    const conn = new Connection(`mongodb://${server.host}/?appname=logged`, FAST);
    const log: TopologyLogMessage[] = [];
    logTopology(conn, { severity: "trace", write: (m) => log.push(m) });
    try {
      await conn.connect();
      await conn.admin.command({
        configureFailPoint: "failCommand",
        mode: "alwaysOn",
        data: { failCommands: ["hello", "isMaster"], appName: "logged", closeConnection: true },
      });
      await until(() => log.some((m) => m.data.message === "Server heartbeat failed"), "a failed heartbeat");
      const failed = log.find((m) => m.data.message === "Server heartbeat failed")!;
      assert.equal(typeof failed.data.failure, "string");
      assert.ok((failed.data.failure as string).length > 0);
      assert.equal(typeof failed.data.durationMS, "number");
      assert.equal(typeof failed.data.driverConnectionId, "number");
    } finally {
      await conn.admin.command({ configureFailPoint: "failCommand", mode: "off" }).catch(() => {});
      await conn.close();
    }
  });

  test("below debug nothing is logged; detaching stops it; bad options are refused", async () => {
    await using server = await startStandalone();
    const conn = new Connection(`mongodb://${server.host}/`, FAST);
    const quiet: TopologyLogMessage[] = [];
    const loud: TopologyLogMessage[] = [];
    logTopology(conn, { severity: "info", write: (m) => quiet.push(m) });
    const detach = logTopology(conn, { severity: "debug", write: (m) => loud.push(m) });
    await conn.connect();
    detach();
    const seen = loud.length;
    assert.ok(seen > 0);
    await conn.close();
    assert.equal(quiet.length, 0);
    assert.equal(loud.length, seen, "nothing after detach");
    assert.throws(() => logTopology(conn, { severity: "loud" as never, write: () => {} }), ConfigurationError);
    assert.throws(() => logTopology(conn, { severity: "debug", write: 1 as never }), ConfigurationError);
    assert.throws(
      () => logTopology(conn, { severity: "debug", write: () => {}, maxDocumentLength: -1 }),
      ConfigurationError,
    );
  });

  test("maxDocumentLength cuts the reply", async () => {
    await using server = await startStandalone();
    const conn = new Connection(`mongodb://${server.host}/`, FAST);
    const log: TopologyLogMessage[] = [];
    logTopology(conn, { severity: "debug", write: (m) => log.push(m), maxDocumentLength: 20 });
    await conn.connect();
    await until(() => log.some((m) => m.data.message === "Server heartbeat succeeded"), "a heartbeat");
    await conn.close();
    const reply = log.find((m) => m.data.message === "Server heartbeat succeeded")!.data.reply as string;
    assert.equal(reply.length, 23);
    assert.ok(reply.endsWith("..."));
  });
});
