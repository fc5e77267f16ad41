// ServerDescription from hello replies, equality, topologyVersion ordering and
// the RTT average.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Long, ObjectId as JsBsonObjectId } from "bson";

import { ConfigurationError } from "../../src/errors.ts";
import {
  compareTopologyVersion,
  loadBalancerServerDescription,
  normalizeAddress,
  objectIdToHex,
  serverDescriptionEquals,
  serverDescriptionFromHello,
  unknownServerDescription,
} from "../../src/topology/server_description.ts";
import { ObjectId } from "../../src/bson/object_id.ts";
import { updateRoundTripTime } from "../../src/topology/rtt.ts";

const HEX = "0123456789abcdef01234567";
const base = { ok: 1, minWireVersion: 0, maxWireVersion: 21 };

describe("serverDescriptionFromHello: server type", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["ok: 0", { ok: 0, errmsg: "boom" }, "Unknown"],
    ["ok missing", { isWritablePrimary: true }, "Unknown"],
    ["mongos", { ...base, msg: "isdbgrid", isWritablePrimary: true }, "Mongos"],
    ["ghost", { ...base, isreplicaset: true, isWritablePrimary: false }, "RSGhost"],
    ["primary", { ...base, setName: "rs", isWritablePrimary: true }, "RSPrimary"],
    ["legacy ismaster primary", { ...base, setName: "rs", ismaster: true }, "RSPrimary"],
    ["isWritablePrimary wins over ismaster", { ...base, setName: "rs", isWritablePrimary: false, ismaster: true, secondary: true }, "RSSecondary"],
    ["secondary", { ...base, setName: "rs", isWritablePrimary: false, secondary: true }, "RSSecondary"],
    ["hidden secondary", { ...base, setName: "rs", secondary: true, hidden: true }, "RSOther"],
    ["arbiter", { ...base, setName: "rs", arbiterOnly: true }, "RSArbiter"],
    ["recovering member", { ...base, setName: "rs", isWritablePrimary: false, secondary: false }, "RSOther"],
    ["standalone", { ...base, isWritablePrimary: true }, "Standalone"],
    ["ok: true", { ok: true, isWritablePrimary: true }, "Standalone"],
    ["ok: 1.0 as a bigint", { ok: 1n, isWritablePrimary: true }, "Standalone"],
  ];
  for (const [name, reply, type] of cases) {
    test(`${name} -> ${type}`, () => {
      assert.equal(serverDescriptionFromHello("a:27017", reply, { now: 0 }).type, type);
    });
  }
});

describe("serverDescriptionFromHello: fields", () => {
  test("host names are lower-cased and given a port", () => {
    const sd = serverDescriptionFromHello("A:27017", {
      ...base,
      setName: "rs",
      secondary: true,
      hosts: ["A:27017", "B:27018"],
      passives: ["P"],
      arbiters: ["ARB:1"],
      me: "A:27017",
      primary: "B:27018",
    });
    assert.equal(sd.address, "a:27017");
    assert.deepEqual(sd.hosts, ["a:27017", "b:27018"]);
    assert.deepEqual(sd.passives, ["p:27017"]);
    assert.deepEqual(sd.arbiters, ["arb:1"]);
    assert.equal(sd.me, "a:27017");
    assert.equal(sd.primary, "b:27018");
  });

  test("electionId from every ObjectId shape, as lowercase hex", () => {
    const shapes: [string, unknown][] = [
      ["24-hex string", HEX.toUpperCase()],
      ["project ObjectId", new ObjectId(HEX)],
      ["js-bson ObjectId", new JsBsonObjectId(HEX)],
      ["object with id bytes", { id: Uint8Array.from(HEX.match(/../g)!.map((h) => parseInt(h, 16))) }],
      ["12-byte Uint8Array", Uint8Array.from(HEX.match(/../g)!.map((h) => parseInt(h, 16)))],
    ];
    for (const [name, electionId] of shapes) {
      const sd = serverDescriptionFromHello("a:27017", { ...base, setName: "rs", isWritablePrimary: true, electionId });
      assert.equal(sd.electionId, HEX, name);
      assert.equal(objectIdToHex(electionId), HEX, name);
    }
  });

  test("lastWriteDate from a Date, a number or a Long, in ms", () => {
    const ms = 1_700_000_000_123;
    for (const lastWriteDate of [new Date(ms), ms, BigInt(ms), Long.fromNumber(ms)]) {
      const sd = serverDescriptionFromHello("a:27017", { ...base, setName: "rs", secondary: true, lastWrite: { lastWriteDate } });
      assert.equal(sd.lastWriteDate, ms);
    }
    assert.equal(serverDescriptionFromHello("a:27017", base).lastWriteDate, null);
  });

  test("tags, setVersion, topologyVersion, helloOk, logicalSessionTimeoutMinutes", () => {
    const sd = serverDescriptionFromHello("a:27017", {
      ...base,
      setName: "rs",
      secondary: true,
      tags: { dc: "ny", rack: "1" },
      setVersion: Long.fromNumber(7),
      topologyVersion: { processId: new JsBsonObjectId(HEX), counter: Long.fromNumber(3) },
      helloOk: true,
      logicalSessionTimeoutMinutes: 30,
    }, { now: 42 });
    assert.deepEqual(sd.tags, { dc: "ny", rack: "1" });
    assert.equal(sd.setVersion, 7);
    assert.deepEqual(sd.topologyVersion, { processId: HEX, counter: 3n });
    assert.equal(sd.helloOk, true);
    assert.equal(sd.logicalSessionTimeoutMinutes, 30);
    assert.equal(sd.lastUpdateTime, 42);
    assert.equal(sd.error, null);
  });

  test("round-trip time: first sample, then the weighted average", () => {
    const first = serverDescriptionFromHello("a:27017", base, { roundTripTime: 10, previousRoundTripTime: null });
    assert.equal(first.roundTripTime, 10);
    const second = serverDescriptionFromHello("a:27017", base, { roundTripTime: 20, previousRoundTripTime: first.roundTripTime });
    assert.equal(second.roundTripTime, 12);
    assert.equal(serverDescriptionFromHello("a:27017", base, { previousRoundTripTime: 7 }).roundTripTime, 7);
  });

  test("a not-ok reply is Unknown with the server's message", () => {
    const sd = serverDescriptionFromHello("a:27017", { ok: 0, errmsg: "auth failed", code: 18 });
    assert.equal(sd.type, "Unknown");
    assert.match(sd.error ?? "", /auth failed \(code 18\)/);
    assert.equal(sd.roundTripTime, null);
  });

  const malformed: [string, Record<string, unknown>, RegExp][] = [
    ["hosts not an array", { hosts: "a:27017" }, /hosts must be an array of strings/],
    ["hosts with a number", { hosts: ["a:27017", 5] }, /hosts must be an array of strings/],
    ["bad port in hosts", { hosts: ["a:99999"] }, /invalid port/],
    ["maxWireVersion a string", { maxWireVersion: "21" }, /maxWireVersion must be an integer/],
    ["setName a number", { setName: 5 }, /setName must be a string/],
    ["electionId garbage", { setName: "rs", isWritablePrimary: true, electionId: "xyz" }, /electionId must be an ObjectId/],
    ["tags with a number", { tags: { dc: 1 } }, /tags\.dc must be a string/],
    ["topologyVersion without processId", { topologyVersion: { counter: 1 } }, /topologyVersion\.processId/],
    ["lastWriteDate a string", { lastWrite: { lastWriteDate: "yesterday" } }, /lastWrite\.lastWriteDate must be a date/],
  ];
  for (const [name, extra, message] of malformed) {
    test(`malformed reply (${name}) gives Unknown with an error naming the field`, () => {
      const sd = serverDescriptionFromHello("a:27017", { ...base, ...extra });
      assert.equal(sd.type, "Unknown");
      assert.match(sd.error ?? "", message);
      assert.match(sd.error ?? "", /a:27017/);
    });
  }

  test("a reply that is not a document gives Unknown, not a crash", () => {
    const sd = serverDescriptionFromHello("a:27017", null as unknown as Record<string, unknown>);
    assert.equal(sd.type, "Unknown");
    assert.match(sd.error ?? "", /not a document/);
  });

  test("a bad address or RTT sample is a ConfigurationError", () => {
    assert.throws(() => serverDescriptionFromHello("", base), ConfigurationError);
    assert.throws(() => serverDescriptionFromHello("a:0", base), ConfigurationError);
    assert.throws(() => serverDescriptionFromHello("a:27017", base, { roundTripTime: -1 }), ConfigurationError);
  });
});

describe("addresses", () => {
  test("normalizeAddress", () => {
    assert.equal(normalizeAddress("Example.COM"), "example.com:27017");
    assert.equal(normalizeAddress("h:1"), "h:1");
    assert.equal(normalizeAddress("[::1]"), "[::1]:27017");
    assert.equal(normalizeAddress("[FE80::1]:27018"), "[fe80::1]:27018");
    assert.equal(normalizeAddress("/tmp/MongoDB-27017.sock"), "/tmp/MongoDB-27017.sock");
    for (const bad of ["", ":27017", "h:", "h:x", "h:70000", "::1", "[::1", "[::1]x"]) {
      assert.throws(() => normalizeAddress(bad), ConfigurationError, bad);
    }
  });

  test("unknown and load-balancer descriptions", () => {
    const u = unknownServerDescription("A", "refused");
    assert.equal(u.address, "a:27017");
    assert.equal(u.type, "Unknown");
    assert.equal(u.error, "refused");
    assert.equal(u.roundTripTime, null);
    assert.equal(loadBalancerServerDescription("lb").type, "LoadBalancer");
  });
});

describe("serverDescriptionEquals", () => {
  const a = serverDescriptionFromHello("a:27017", {
    ...base,
    setName: "rs",
    secondary: true,
    hosts: ["a:27017", "b:27017"],
    tags: { dc: "ny" },
  }, { roundTripTime: 5, now: 1 });

  test("ignores round-trip time, lastUpdateTime, lastWriteDate and host order", () => {
    const b = { ...a, roundTripTime: 99, lastUpdateTime: 1000, lastWriteDate: 5, hosts: ["b:27017", "a:27017"] };
    assert.equal(serverDescriptionEquals(a, b), true);
  });

  test("sees every (=) field", () => {
    const changes: Record<string, unknown>[] = [
      { type: "RSPrimary" },
      { error: "x" },
      { minWireVersion: 1 },
      { maxWireVersion: 17 },
      { me: "a:27017" },
      { hosts: ["a:27017"] },
      { passives: ["c:27017"] },
      { arbiters: ["c:27017"] },
      { tags: { dc: "sf" } },
      { tags: {} },
      { setName: "other" },
      { setVersion: 2 },
      { electionId: HEX },
      { primary: "b:27017" },
      { logicalSessionTimeoutMinutes: 30 },
      { topologyVersion: { processId: HEX, counter: 1n } },
    ];
    for (const change of changes) {
      assert.equal(serverDescriptionEquals(a, { ...a, ...change }), false, JSON.stringify(change, (_k, v) => typeof v === "bigint" ? String(v) : v));
    }
  });

  test("topologyVersions compare by value; PossiblePrimary equals Unknown", () => {
    const tv = (counter: bigint) => ({ processId: HEX, counter });
    assert.equal(serverDescriptionEquals({ ...a, topologyVersion: tv(1n) }, { ...a, topologyVersion: tv(1n) }), true);
    assert.equal(serverDescriptionEquals({ ...a, topologyVersion: tv(1n) }, { ...a, topologyVersion: tv(2n) }), false);
    const u = unknownServerDescription("b:27017");
    assert.equal(serverDescriptionEquals(u, { ...u, type: "PossiblePrimary" }), true);
  });
});

test("compareTopologyVersion follows the specification's ordering", () => {
  const tv = (pid: string, counter: bigint) => ({ processId: pid, counter });
  const other = "000000000000000000000002";
  assert.equal(compareTopologyVersion(tv(HEX, 1n), tv(HEX, 2n)), -1);
  assert.equal(compareTopologyVersion(tv(HEX, 2n), tv(HEX, 2n)), 0);
  assert.equal(compareTopologyVersion(tv(HEX, 3n), tv(HEX, 2n)), 1);
  assert.equal(compareTopologyVersion(tv(HEX, 3n), tv(other, 1n)), -1, "a new process is always newer");
  assert.equal(compareTopologyVersion(null, tv(HEX, 1n)), -1);
  assert.equal(compareTopologyVersion(tv(HEX, 1n), null), -1);
});

test("updateRoundTripTime: EWMA with alpha 0.2 and clear errors for bad input", () => {
  assert.equal(updateRoundTripTime(null, 10), 10);
  assert.equal(updateRoundTripTime(null, 0), 0);
  assert.equal(updateRoundTripTime(0, 5), 1);
  assert.equal(updateRoundTripTime(1, 1000), 200.8);
  for (const [prev, sample] of [[null, -1], [null, NaN], [null, Infinity], [-1, 3], [NaN, 3]] as const) {
    assert.throws(() => updateRoundTripTime(prev, sample), ConfigurationError);
  }
});
