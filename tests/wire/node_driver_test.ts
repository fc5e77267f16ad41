// Differential framing test against the official Node driver (npm `mongodb`,
// dev-only): the messages it writes must decode with ours, the requests we write
// must match its bytes, and the replies we write must parse with its parsers.
// Its framing classes are internal (`lib/cmap/commands.js`), so this test pins
// the behaviour of the installed version (7.9.0); it is an oracle, not an API.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BSON } from "bson";
// @ts-ignore: internal module of the official driver, untyped here.
import * as commands from "mongodb/lib/cmap/commands.js";
import { ByteWriter } from "../../src/bson/mod.ts";
import {
  decodeOpMsg,
  decodeOpQuery,
  encodeOpMsg,
  encodeOpQuery,
  encodeOpReply,
  MsgFlags,
  OP_MSG,
  QueryFlags,
  readHeader,
} from "../../src/wire/mod.ts";

type Ctor = new (...args: unknown[]) => { toBin(): Uint8Array[]; parse(): Uint8Array; [k: string]: unknown };
const { OpMsgRequest, OpQueryRequest, DocumentSequence, OpReply, OpMsgResponse } = commands as unknown as Record<
  string,
  Ctor
>;

const w = new ByteWriter();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function theirHeader(frame: Uint8Array): Record<string, number> {
  const h = readHeader(frame);
  return { length: h.messageLength, requestId: h.requestId, responseTo: h.responseTo, opCode: h.opCode };
}

describe("framing agrees with the official Node driver", () => {
  test("OP_MSG ping: same bytes both ways", () => {
    const theirs = concat(new OpMsgRequest("admin", { ping: 1 }, { requestId: 5 }).toBin());
    const ours = encodeOpMsg(w, { requestId: 5, body: { ping: 1, $db: "admin" } });
    assert.equal(hex(ours), hex(theirs));
    assert.deepEqual(decodeOpMsg(theirs).body, { ping: 1, $db: "admin" });
  });

  test("OP_MSG insert with a kind-1 documents sequence, moreToCome and exhaustAllowed", () => {
    const docs = [{ _id: 1, a: "x" }, { _id: 2, b: [1, 2, 3] }, { _id: 3 }];
    const req = new OpMsgRequest(
      "test",
      { insert: "c", documents: new DocumentSequence("documents", docs), ordered: true },
      { requestId: 77, moreToCome: true, exhaustAllowed: true },
    );
    const theirs = concat(req.toBin());
    const msg = decodeOpMsg(theirs);
    assert.equal(msg.flagBits, MsgFlags.moreToCome | MsgFlags.exhaustAllowed);
    assert.deepEqual(msg.sequences, [{ identifier: "documents", documents: docs }]);
    // The driver adds $db last and removes the sequence field from the body.
    assert.deepEqual(msg.body, { insert: "c", ordered: true, $db: "test" });
    const ours = encodeOpMsg(w, {
      requestId: 77,
      flagBits: MsgFlags.moreToCome | MsgFlags.exhaustAllowed,
      body: { insert: "c", ordered: true, $db: "test" },
      sequences: [{ identifier: "documents", documents: docs }],
    });
    assert.equal(hex(ours), hex(theirs));
  });

  test("OP_QUERY handshake with secondaryOk: same bytes both ways", () => {
    const query = { isMaster: 1, helloOk: true, client: { driver: { name: "x", version: "1" } } };
    const theirs = concat(
      new OpQueryRequest("admin", query, { requestId: 3, numberToReturn: -1, secondaryOk: true }).toBin(),
    );
    const ours = encodeOpQuery(w, {
      requestId: 3,
      flags: QueryFlags.SecondaryOk,
      fullCollectionName: "admin.$cmd",
      numberToReturn: -1,
      query,
    });
    assert.equal(hex(ours), hex(theirs));
    const q = decodeOpQuery(theirs);
    assert.equal(q.flags, QueryFlags.SecondaryOk);
    assert.deepEqual(q.query, query);
  });

  test("our OP_REPLY parses with the driver's OpReply", () => {
    const frame = encodeOpReply(w, {
      requestId: 9,
      responseTo: 3,
      responseFlags: 8,
      cursorId: 1234567890123n,
      startingFrom: 4,
      documents: [{ ismaster: true, maxWireVersion: 5, ok: 1 }, { second: "doc" }],
    });
    const reply = new OpReply(frame, theirHeader(frame), frame.subarray(16), undefined);
    reply.parse();
    assert.equal(reply.requestId, 9);
    assert.equal(reply.responseTo, 3);
    assert.equal(reply.awaitCapable, true);
    assert.equal(reply.numberReturned, 2);
    assert.equal(reply.startingFrom, 4);
    assert.equal(String(reply.cursorId), "1234567890123");
    const sections = reply.sections as Uint8Array[];
    assert.deepEqual(BSON.deserialize(sections[0]), { ismaster: true, maxWireVersion: 5, ok: 1 });
    assert.deepEqual(BSON.deserialize(sections[1]), { second: "doc" });
  });

  test("our OP_MSG reply parses with the driver's OpMsgResponse", () => {
    const frame = encodeOpMsg(w, { requestId: 10, responseTo: 5, body: { ok: 1, n: 3, hosts: ["a:1"] } });
    const resp = new OpMsgResponse(frame, theirHeader(frame), frame.subarray(16), undefined);
    resp.parse();
    assert.equal(resp.opCode, OP_MSG);
    assert.equal(resp.responseTo, 5);
    assert.equal(resp.moreToCome, false);
    assert.deepEqual(BSON.deserialize((resp.sections as Uint8Array[])[0]), { ok: 1, n: 3, hosts: ["a:1"] });
  });
});
