// Index management, rename, and the database and client listings on a fake
// topology: the commands sent (createIndexes with generated names,
// listIndexes as a cursor with getMore, dropIndexes, renameCollection on
// admin, create, listCollections with nameOnly/authorizedCollections,
// listDatabases with nameOnly) and bad input refused before any I/O.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { indexName } from "../../mod.ts";
import { type Call, okHandler } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

const name = (call: Call) => Object.keys(call.cmd)[0];

describe("index management", () => {
  test("createIndex: keys or a field name, index options renamed as the server wants, the generated name", async () => {
    const { coll, log } = setup();
    assert.equal(await coll.createIndex({ name: 1, age: -1 }, { unique: true, maxTimeMS: 100 }), "name_1_age_-1");
    assert.deepEqual(log[0].cmd, {
      createIndexes: "people",
      indexes: [{ key: { name: 1, age: -1 }, name: "name_1_age_-1", unique: true }],
      maxTimeMS: 100,
    });
    assert.equal(log[0].server, "a:27017");
    assert.equal(
      await coll.createIndex("bio", {
        name: "t",
        defaultLanguage: "fr",
        languageOverride: "lang",
        version: 2,
        expireAfterSeconds: 60,
        partialFilterExpression: { a: 1 },
        writeConcern: { w: "majority" },
      }),
      "t",
    );
    assert.deepEqual(log[1].cmd, {
      createIndexes: "people",
      indexes: [{
        key: { bio: 1 },
        name: "t",
        expireAfterSeconds: 60,
        partialFilterExpression: { a: 1 },
        v: 2,
        default_language: "fr",
        language_override: "lang",
      }],
      writeConcern: { w: "majority" },
    });
  });

  test("createIndexes sends every index in one command and returns the names in order", async () => {
    const { coll, log } = setup();
    const names = await coll.createIndexes([{ key: { a: 1 } }, { key: { loc: "2dsphere" }, name: "where" }], {
      commitQuorum: "majority",
      comment: "c",
    });
    assert.deepEqual(names, ["a_1", "where"]);
    assert.equal(log.length, 1);
    assert.deepEqual(log[0].cmd, {
      createIndexes: "people",
      indexes: [{ key: { a: 1 }, name: "a_1" }, { key: { loc: "2dsphere" }, name: "where" }],
      commitQuorum: "majority",
      comment: "c",
    });
  });

  test("commitQuorum is refused before MongoDB 4.4, nothing sent", async () => {
    const { coll, log, primary } = setup();
    primary.description = { ...primary.description, maxWireVersion: 8 };
    await assert.rejects(coll.createIndex({ a: 1 }, { commitQuorum: 2 }), /commitQuorum needs MongoDB 4.4/);
    assert.equal(log.length, 0);
  });

  test("bad index input is a ConfigurationError naming it", async () => {
    const { coll, log } = setup();
    await assert.rejects(coll.createIndex({}), /the key pattern is empty/);
    await assert.rejects(
      coll.createIndex({ a: true } as unknown as Document),
      /key "a" must be 1, -1 or an index type/,
    );
    await assert.rejects(coll.createIndex({ a: 1 }, { uniqe: true } as Document), /unknown createIndex option "uniqe"/);
    await assert.rejects(coll.createIndexes([]), /non-empty array/);
    await assert.rejects(coll.createIndexes([{ keys: { a: 1 } } as unknown as { key: Document }]), /field "keys"/);
    await assert.rejects(coll.dropIndex("*"), /use dropIndexes/);
    await assert.rejects(coll.dropIndex(7 as unknown as string), ConfigurationError);
    assert.equal(log.length, 0);
  });

  test("listIndexes is a cursor on the primary, with getMore and batchSize", async () => {
    const { coll, log } = setup((call) => {
      if (name(call) === "listIndexes") {
        return { ok: 1, cursor: { id: 8n, ns: "test.people", firstBatch: [{ v: 2, key: { _id: 1 }, name: "_id_" }] } };
      }
      if (name(call) === "getMore") {
        return { ok: 1, cursor: { id: 0n, ns: "test.people", nextBatch: [{ v: 2, key: { a: 1 }, name: "a_1" }] } };
      }
      return okHandler(call);
    });
    const indexes = await coll.listIndexes({ batchSize: 1, comment: "c" }).toArray();
    assert.deepEqual(indexes.map((i) => i.name), ["_id_", "a_1"]);
    assert.deepEqual(log[0].cmd, { listIndexes: "people", cursor: { batchSize: 1 }, comment: "c" });
    assert.equal(log[0].server, "a:27017");
    assert.deepEqual(log[1].cmd, { getMore: 8n, collection: "people", batchSize: 1 });
    assert.throws(() => coll.listIndexes({ limit: 1 } as Document), /unknown listIndexes option "limit"/);
  });

  test("dropIndex by name or keys, dropIndexes with *", async () => {
    const { coll, log } = setup(() => ({ ok: 1, nIndexesWas: 2 }));
    assert.equal((await coll.dropIndex("a_1")).nIndexesWas, 2);
    await coll.dropIndex({ a: 1 }, { maxTimeMS: 5 });
    await coll.dropIndexes();
    assert.deepEqual(log.map((c) => c.cmd), [
      { dropIndexes: "people", index: "a_1" },
      { dropIndexes: "people", index: { a: 1 }, maxTimeMS: 5 },
      { dropIndexes: "people", index: "*" },
    ]);
  });

  test("rename runs renameCollection on admin and returns the collection under its new name", async () => {
    const { coll, log } = setup();
    const renamed = await coll.rename("archive", { dropTarget: true });
    assert.equal(renamed.namespace, "test.archive");
    assert.equal(log[0].db, "admin");
    assert.deepEqual(log[0].cmd, { renameCollection: "test.people", to: "test.archive", dropTarget: true });
    await assert.rejects(coll.rename("a$b"), ConfigurationError);
  });

  test("rawData goes with createIndexes, listIndexes and dropIndexes to 8.2+ servers only; a non-boolean is a TypeError", async () => {
    const listReply = { ok: 1, cursor: { id: 0n, ns: "test.people", firstBatch: [] } };
    for (const [wire, sent] of [[27, true], [25, false]] as const) {
      const { coll, log } = setup((call) => name(call) === "listIndexes" ? listReply : okHandler(call), {}, wire);
      await coll.createIndex({ x: 1 }, { rawData: true });
      await coll.listIndexes({ rawData: true }).toArray();
      await coll.dropIndex("x_1", { rawData: true });
      assert.deepEqual(log.map((c) => [name(c), c.cmd.rawData]), [
        ["createIndexes", sent ? true : undefined],
        ["listIndexes", sent ? true : undefined],
        ["dropIndexes", sent ? true : undefined],
      ], `wire ${wire}`);
    }
    const { coll, log } = setup(okHandler, {}, 27);
    await assert.rejects(coll.createIndex({ x: 1 }, { rawData: "yes" } as never), TypeError);
    await assert.rejects(coll.dropIndexes({ rawData: 1 } as never), TypeError);
    assert.throws(() => coll.listIndexes({ rawData: "yes" } as never), TypeError);
    assert.equal(log.length, 0);
  });

  test("indexName joins each field and its value", () => {
    assert.equal(indexName({ a: 1, "b.c": -1, d: "hashed" }), "a_1_b.c_-1_d_hashed");
  });
});

describe("database and client", () => {
  test("createCollection sends create with its options and returns the collection", async () => {
    const { client, log } = setup();
    const db = client.db("test");
    const capped = await db.createCollection("log", {
      capped: true,
      size: 4096,
      max: 10,
      validator: { $jsonSchema: { required: ["at"] } },
      validationLevel: "moderate",
    });
    assert.equal(capped.name, "log");
    assert.deepEqual(log[0].cmd, {
      create: "log",
      capped: true,
      size: 4096,
      max: 10,
      validator: { $jsonSchema: { required: ["at"] } },
      validationLevel: "moderate",
    });
    await assert.rejects(db.createCollection("x", { capped: true }), /needs size/);
    await assert.rejects(
      db.createCollection("x", { cappd: true } as Document),
      /unknown createCollection option "cappd"/,
    );
    assert.equal(log.length, 1);
  });

  test("listCollectionNames sends nameOnly (and authorizedCollections); dropCollection drops", async () => {
    const { client, log } = setup((call) => {
      if (name(call) === "listCollections") {
        return {
          ok: 1,
          cursor: { id: 0n, ns: "test.$cmd.listCollections", firstBatch: [{ name: "a" }, { name: "b" }] },
        };
      }
      return okHandler(call);
    });
    const db = client.db("test");
    assert.deepEqual(await db.listCollectionNames({ name: { $ne: "c" } }, { authorizedCollections: true }), ["a", "b"]);
    assert.deepEqual(log[0].cmd, {
      listCollections: 1,
      filter: { name: { $ne: "c" } },
      cursor: {},
      nameOnly: true,
      authorizedCollections: true,
    });
    assert.equal(await db.dropCollection("a"), true);
    assert.deepEqual(log[1].cmd, { drop: "a" });
  });

  test("listDatabaseNames sends listDatabases with nameOnly to admin", async () => {
    const { client, log } = setup(() => ({ ok: 1, databases: [{ name: "admin" }, { name: "test" }] }));
    assert.deepEqual(await client.listDatabaseNames({ authorizedDatabases: true }), ["admin", "test"]);
    assert.equal(log[0].db, "admin");
    assert.deepEqual(log[0].cmd, { listDatabases: 1, nameOnly: true, authorizedDatabases: true });
  });
});
