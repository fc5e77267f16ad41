// Interop with MockupDB (PyMongo authors' wire-protocol mock server, Debian
// python3-mockupdb): the same single-server commands against a wire-5
// (OP_QUERY) and a wire-17 (OP_MSG) MockupDB, asserting what MockupDB
// received and what the driver returned. A missing python3 or mockupdb skips
// with a printed reason (a failure under CI=true: tests/helpers/peers.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { OperationFailure } from "../../src/errors.ts";
import { Connection } from "../../src/net/connection.ts";
import { DRIVER_NAME, DRIVER_VERSION } from "../../src/net/client_metadata.ts";
import { type Child, spawnChild } from "../helpers/spawn.ts";
import { PYTHON, pythonMissing, skipForMissingPeer } from "../helpers/peers.ts";
import { CONNECTION_DEFAULTS } from "../helpers/net_defaults.ts";

const SCRIPT = new URL("../helpers/mockupdb_server.py", import.meta.url).pathname;

interface Received {
  opcode: string;
  flags: number;
  namespace: string;
  command: string | null;
  docs: Record<string, unknown>[];
}

async function startMockupDB(wire: number): Promise<{ child: Child; port: number } | { skip: string }> {
  const missing = pythonMissing(["mockupdb"]);
  if (missing !== undefined) return { skip: missing };
  const child = spawnChild([PYTHON, SCRIPT, String(wire)]);
  try {
    const first = JSON.parse(await child.waitForLine((l) => l.startsWith("{"), 1000));
    if (first.skip !== undefined) {
      child.kill();
      return { skip: String(first.skip) };
    }
    return { child, port: Number(first.port) };
  } catch (error) {
    child.kill();
    throw error;
  }
}

function received(child: Child): Received[] {
  return child.lines.map((l) => JSON.parse(l)).filter((o) => o.request !== undefined).map((o) => o.request);
}

/** The request for `command`, waiting (bounded) for MockupDB to print it. */
async function lastRequest(child: Child, command: string): Promise<Received> {
  await child.waitForLine((l) => l.includes(`"command": "${command}"`), 500);
  return received(child).filter((r) => r.command === command).at(-1)!;
}

for (const wire of [5, 17]) {
  describe(`MockupDB interop, maxWireVersion ${wire} (${wire >= 6 ? "OP_MSG" : "OP_QUERY"})`, () => {
    test("handshake, ping, insert with a sequence, find, ok:0", async (t) => {
      const started = await startMockupDB(wire);
      if ("skip" in started) {
        skipForMissingPeer(t, `MockupDB interop (wire ${wire})`, started.skip);
        return;
      }
      const { child, port } = started;
      try {
        const conn = await Connection.connect({ host: "127.0.0.1", port }, { ...CONNECTION_DEFAULTS, appName: "mockupdb-test" });
        try {
          // Handshake: legacy hello over OP_QUERY on admin.$cmd.
          const hs = await lastRequest(child, "isMaster");
          assert.equal(hs.opcode, "Command");
          assert.equal(hs.namespace, "admin");
          assert.equal(hs.flags, 0);
          const hsDoc = hs.docs[0] as Record<string, Record<string, unknown>>;
          assert.equal(hsDoc.isMaster, 1);
          assert.equal(hsDoc.helloOk, true);
          assert.deepEqual(hsDoc.client.driver, { name: DRIVER_NAME, version: DRIVER_VERSION });
          assert.deepEqual(hsDoc.client.application, { name: "mockupdb-test" });
          assert.equal(conn.maxWireVersion, wire);

          // ping
          const pong = await conn.command("admin", { ping: 1 });
          assert.equal(pong.ok, 1);
          const ping = await lastRequest(child, "ping");
          if (wire >= 6) {
            assert.equal(ping.opcode, "OpMsg");
            assert.equal(ping.flags, 0);
            assert.equal(ping.namespace, "admin");
            assert.deepEqual(ping.docs[0], { ping: 1, $db: "admin" });
          } else {
            assert.equal(ping.opcode, "Command");
            assert.equal(ping.namespace, "admin");
            assert.deepEqual(ping.docs[0], { ping: 1 });
          }

          // insert: OP_MSG kind-1 sequence (MockupDB folds it into the document) or an array on OP_QUERY.
          const documents = [{ _id: 1, name: "Ada" }, { _id: 2, name: "Grace" }];
          const inserted = await conn.command("test", { insert: "people", ordered: true }, {
            sequences: [{ identifier: "documents", documents }],
          });
          assert.equal(inserted.ok, 1);
          assert.equal(inserted.n, 2);
          const ins = await lastRequest(child, "insert");
          assert.equal(ins.opcode, wire >= 6 ? "OpMsg" : "Command");
          assert.equal(ins.namespace, "test");
          assert.deepEqual(ins.docs[0], {
            insert: "people",
            ordered: true,
            ...(wire >= 6 ? { $db: "test" } : {}),
            documents,
          });

          // find on a secondary: SecondaryOk flag on OP_QUERY, $readPreference on OP_MSG.
          const found = await conn.command(
            "test",
            { find: "people", filter: { name: { $exists: true } } },
            wire >= 6 ? { readPreference: { mode: "secondaryPreferred" } } : { secondaryOk: true },
          );
          const cursor = found.cursor as { id: unknown; ns: string; firstBatch: unknown[] };
          assert.equal(cursor.ns, "test.people");
          assert.deepEqual(cursor.firstBatch, [{ _id: 1, name: "Ada" }, { _id: 2, name: "Grace" }]);
          const find = await lastRequest(child, "find");
          if (wire >= 6) {
            assert.equal(find.flags, 0);
            assert.deepEqual(find.docs[0], {
              find: "people",
              filter: { name: { $exists: true } },
              $db: "test",
              $readPreference: { mode: "secondaryPreferred" },
            });
          } else {
            assert.equal(find.flags, 4, "SecondaryOk (0x4)");
            assert.deepEqual(find.docs[0], { find: "people", filter: { name: { $exists: true } } });
          }

          // An error reply from MockupDB's command_err.
          const failure = await conn.command("test", { fail: 1 }).then(
            () => assert.fail("expected OperationFailure"),
            (e) => e,
          );
          assert.ok(failure instanceof OperationFailure, String(failure));
          assert.equal(failure.code, 26);
          assert.equal(failure.errmsg, "ns not found");
        } finally {
          conn.close();
        }
      } finally {
        await child.closeStdin();
        child.kill();
        await child.exited;
      }
    });
  });
}
