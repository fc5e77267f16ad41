// The rule for bad options (issue 11, item 8), one test per family: a value of
// the wrong JavaScript type is an OptionTypeError (a TypeError carrying the
// option's name) thrown before any I/O; an unknown option name, or a value of
// the right type that is not allowed, is a ConfigurationError naming it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Document } from "../../src/bson/mod.ts";
import { ConfigurationError, MongoError, OptionTypeError } from "../../src/errors.ts";
import { type ClientConnectionOptions, ReplicaSetConnection } from "../../src/client/mod.ts";
import { fakeSet, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

function setup() {
  const set = fakeSet(okHandler);
  const client = new ReplicaSetConnection(
    "a:27017",
    { replicaSet: "foo", [TOPOLOGY_FACTORY]: set.topology.factory() } as ClientConnectionOptions,
  );
  return { client, coll: client.db("test").collection("people"), ...set };
}

/** An OptionTypeError for `option`, a TypeError and not a MongoError, its message naming option, expected and given. */
function isTypeError(option: string, expected: RegExp, given: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof OptionTypeError, `expected an OptionTypeError, got ${String(e)}`);
    assert.ok(e instanceof TypeError && !(e instanceof MongoError));
    assert.equal(e.name, "OptionTypeError");
    assert.equal(e.option, option);
    assert.match(e.expected, expected);
    assert.match(e.given, given);
    assert.ok(e.message.includes(`${option} must be ${e.expected}, got ${e.given}`), e.message);
    return true;
  };
}

function isConfigurationError(fragment: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ConfigurationError, `expected a ConfigurationError, got ${String(e)}`);
    assert.ok(!(e instanceof TypeError));
    assert.match(e.message, fragment);
    return true;
  };
}

describe("option types: client options", () => {
  test("wrong types are OptionTypeErrors at construction; bad values and unknown names ConfigurationErrors", () => {
    const fake = () => ({ replicaSet: "foo", [TOPOLOGY_FACTORY]: fakeSet(okHandler).topology.factory() });
    const make = (o: Document) => new ReplicaSetConnection("a:27017", { ...fake(), ...o } as ClientConnectionOptions);
    assert.throws(() => make({ maxPoolSize: "10" }), isTypeError("maxPoolSize", /integer/, /"10" \(a string\)/));
    assert.throws(() => make({ retryReads: "yes" }), isTypeError("retryReads", /boolean/, /"yes"/));
    assert.throws(() => make({ readPreference: 1 }), isTypeError("readPreference", /mode string/, /1 \(a number\)/));
    assert.throws(() => make({ onWarning: "log" }), isTypeError("onWarning", /function/, /"log"/));
    assert.throws(() => make({ writeConcern: { j: "true" } }), isTypeError("writeConcern.j", /boolean/, /"true"/));
    assert.throws(() => make({ connectTimeoutMS: -1 }), isConfigurationError(/connectTimeoutMS/));
    assert.throws(() => make({ readPreference: "secundary" }), isConfigurationError(/secundary/));
    assert.throws(() => make({ writeConcern: { w: -1 } }), isConfigurationError(/writeConcern\.w/));
    assert.throws(() => make({ maxPoolSise: 10 }), isConfigurationError(/unknown option 'maxPoolSise'/));
    assert.throws(
      () => new ReplicaSetConnection("a:27017", "x" as never),
      isTypeError("ReplicaSetConnection options", /object/, /"x"/),
    );
  });
});

describe("option types: collection, find and write options", () => {
  test("find and aggregate: wrong types are OptionTypeErrors thrown by the call, nothing is sent", async () => {
    const { coll, log } = setup();
    assert.throws(
      () => coll.find({}, { maxTimeMS: "5" as never }).toArray(),
      isTypeError("maxTimeMS", /integer/, /"5"/),
    );
    assert.throws(
      () => coll.find({}, { noCursorTimeout: 1 as never }).toArray(),
      isTypeError("noCursorTimeout", /boolean/, /1/),
    );
    assert.throws(() => coll.find({}, { hint: 1 as never }).toArray(), isTypeError("hint", /index name/, /1/));
    await assert.rejects(coll.findOne({}, { signal: "x" as never }), isTypeError("signal", /AbortSignal/, /"x"/));
    assert.throws(
      () => coll.aggregate([], { allowDiskUse: "no" as never }).toArray(),
      isTypeError("allowDiskUse", /boolean/, /"no"/),
    );
    await assert.rejects(coll.countDocuments("x" as never), OptionTypeError);
    assert.throws(() => coll.find({}, { maxTimeMS: -5 }).toArray(), isConfigurationError(/maxTimeMS/));
    assert.throws(() => coll.find({}, { maxTimeMs: 5 } as never).toArray(), isConfigurationError(/maxTimeMs/));
    assert.equal(log.length, 0);
  });

  test("writes and index management: wrong types are OptionTypeErrors, nothing is sent", async () => {
    const { client, coll, log } = setup();
    await assert.rejects(
      coll.insertOne({}, { writeConcern: { w: true } as never }),
      isTypeError("writeConcern.w", /integer or a non-empty string/, /true/),
    );
    await assert.rejects(
      coll.insertMany([{}], { ordered: "false" } as never),
      isTypeError("ordered", /boolean/, /"false"/),
    );
    await assert.rejects(coll.updateOne({}, { $set: { a: 1 } }, { upsert: 1 } as never), OptionTypeError);
    await assert.rejects(
      coll.findOneAndUpdate({}, { $set: { a: 1 } }, { upsert: "y" } as never),
      isTypeError("upsert", /boolean/, /"y"/),
    );
    await assert.rejects(coll.createIndex({ a: 1 }, { name: 5 } as never), isTypeError("name", /string/, /5/));
    await assert.rejects(coll.createIndexes({} as never), OptionTypeError);
    await assert.rejects(
      coll.rename("b", { dropTarget: "yes" } as never),
      isTypeError("dropTarget", /boolean/, /"yes"/),
    );
    await assert.rejects(coll.createSearchIndex({ name: 1 } as never), OptionTypeError);
    await assert.rejects(
      client.db("test").createCollection("c", { capped: "yes" } as never),
      isTypeError("capped", /boolean/, /"yes"/),
    );
    await assert.rejects(coll.insertOne({}, { writeConcern: { w: 1.5 } }), isConfigurationError(/writeConcern\.w/));
    await assert.rejects(coll.createIndex({ a: 1 }, { name: "" }), isConfigurationError(/name/));
    await assert.rejects(coll.insertOne({}, { writeConcer: { w: 1 } } as never), isConfigurationError(/writeConcer/));
    assert.equal(log.length, 0);
  });
});
