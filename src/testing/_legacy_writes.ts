/**
 * Decoding of the legacy write opcodes (OP_INSERT, OP_UPDATE, OP_DELETE),
 * which `src/wire` does not handle because the driver never sends them. A
 * simulated pre-3.6 member turns each into the matching write command.
 *
 * @module
 */
import { decode, type Document } from "../bson/mod.ts";
import { WireProtocolError } from "../errors.ts";
import { OP_DELETE, OP_INSERT, OP_UPDATE } from "../wire/mod.ts";

/** A legacy write as the equivalent command (name, collection namespace, body). */
export interface LegacyWrite {
  ns: string;
  command: "insert" | "update" | "delete";
  body: Document;
}

const DECODE = { promoteValues: false } as const;

/** Decodes a whole OP_INSERT/OP_UPDATE/OP_DELETE frame. @throws {WireProtocolError} when malformed. */
export function decodeLegacyWrite(frame: Uint8Array): LegacyWrite {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const opCode = view.getInt32(12, true);
  let pos = 16;
  const fail = (why: string): never => {
    throw new WireProtocolError(`invalid legacy write (opCode ${opCode}): ${why}`);
  };
  const int32 = () => {
    if (pos + 4 > frame.length) fail("truncated");
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const cstring = () => {
    const end = frame.indexOf(0, pos);
    if (end < 0) fail("unterminated namespace");
    const s = new TextDecoder("utf-8", { fatal: true }).decode(frame.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const doc = () => {
    if (pos + 5 > frame.length) fail("truncated document");
    const len = view.getInt32(pos, true);
    if (len < 5 || pos + len > frame.length) fail(`document length ${len} does not fit`);
    const d = decode(frame.subarray(pos, pos + len), DECODE);
    pos += len;
    return d;
  };
  const split = (ns: string) => {
    const dot = ns.indexOf(".");
    if (dot <= 0 || dot === ns.length - 1) fail(`bad namespace ${JSON.stringify(ns)}`);
    return ns.slice(dot + 1);
  };
  if (opCode === OP_INSERT) {
    const flags = int32();
    const ns = cstring();
    const documents: Document[] = [];
    while (pos < frame.length) documents.push(doc());
    if (documents.length === 0) fail("no documents");
    return { ns, command: "insert", body: { insert: split(ns), documents, ordered: (flags & 1) === 0 } };
  }
  if (opCode === OP_UPDATE) {
    int32();
    const ns = cstring();
    const flags = int32();
    const q = doc();
    const u = doc();
    if (pos !== frame.length) fail("bytes after the update document");
    return {
      ns,
      command: "update",
      body: { update: split(ns), updates: [{ q, u, upsert: (flags & 1) !== 0, multi: (flags & 2) !== 0 }] },
    };
  }
  if (opCode === OP_DELETE) {
    int32();
    const ns = cstring();
    const flags = int32();
    const q = doc();
    if (pos !== frame.length) fail("bytes after the selector");
    return { ns, command: "delete", body: { delete: split(ns), deletes: [{ q, limit: (flags & 1) !== 0 ? 1 : 0 }] } };
  }
  return fail("not a legacy write opcode");
}
