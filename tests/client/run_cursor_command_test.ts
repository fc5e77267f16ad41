// Database.runCursorCommand on a fake topology (the run-command
// specification's cursor commands): the command goes as written (no read
// concern added, the primary unless a read preference is given), later
// batches come with getMore carrying the options' batchSize, maxTimeMS and
// comment, it is not retried, and bad input is refused before any I/O.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { AutoReconnect, ConfigurationError } from "../../src/errors.ts";
import { ReadPreference } from "../../src/topology/read_preference.ts";
import { okHandler } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

const reply = (id: bigint, key: "firstBatch" | "nextBatch", docs: number[]) => ({
  ok: 1,
  cursor: { id, ns: "test.people", [key]: docs.map((_id) => ({ _id })) },
});

describe("runCursorCommand", () => {
  test("the command as written on the primary, then getMores with the options' fields, on the same server", async () => {
    const { client, log } = setup((call) => call.cmd.find !== undefined ? reply(5n, "firstBatch", [1]) : reply(0n, "nextBatch", [2, 3]), {
      readConcernLevel: "majority",
    }, 17);
    const db = client.db("test");
    const cmd = { find: "people", filter: { x: 1 }, batchSize: 1 };
    const docs = await db.runCursorCommand(cmd, { batchSize: 2, maxTimeMS: 50, comment: "c" }).toArray();
    assert.deepEqual(docs, [{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    assert.deepEqual(log[0].cmd, cmd, "sent as written: no readConcern although the client has one");
    assert.equal(log[0].server, "a:27017", "the primary by default");
    assert.deepEqual(log[1].cmd, { getMore: 5n, collection: "people", batchSize: 2, maxTimeMS: 50, comment: "c" });
    assert.equal(log[1].server, log[0].server);
  });

  test("a read preference chooses the server; a network error is not retried", async () => {
    const { client, log } = setup(() => {
      throw new AutoReconnect("connection reset", { address: "x" });
    });
    const cursor = client.db("test").runCursorCommand({ listCollections: 1 }, { readPreference: ReadPreference.SECONDARY_ONLY });
    await assert.rejects(cursor.toArray(), AutoReconnect);
    assert.equal(log.length, 1, "sent once");
    assert.notEqual(log[0].server, "a:27017", "not the primary");
  });

  test("bad input: not a document, an empty command, an unknown option, maxTimeMS of the wrong type", () => {
    const { client, log } = setup(okHandler);
    const db = client.db("test");
    assert.throws(() => db.runCursorCommand("find" as never), TypeError);
    assert.throws(() => db.runCursorCommand({}), ConfigurationError);
    assert.throws(() => db.runCursorCommand({ find: "x" }, { cursorType: "tailable" } as never), /unknown runCursorCommand option "cursorType"/);
    assert.throws(() => db.runCursorCommand({ find: "x" }, { maxTimeMS: "1" } as never), TypeError);
    assert.equal(log.length, 0);
  });
});
