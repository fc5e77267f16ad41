/**
 * OP_COMPRESSED (opcode 2012): another message's body, compressed. The body
 * after the 16-byte header is `int32 originalOpcode`, `int32
 * uncompressedSize` (the original body without its header), `uint8
 * compressorId`, then the compressed original body. This driver speaks
 * `noop` (0) and `zlib` (2), the one the web platform ships
 * (`CompressionStream("deflate")` is zlib's format); snappy and zstd would
 * need code this package does not carry.
 *
 * @module
 */
import { WireProtocolError } from "../errors.ts";
import { HEADER_SIZE, readHeader } from "./header.ts";
import { OP_COMPRESSED, OP_NAMES } from "./opcodes.ts";

/**
 * The compressor ids of OP_COMPRESSED, by the names used in the
 * `compressors` option and the handshake's `compression` field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPRESSOR_IDS } from "./op_compressed.ts";
 *
 * assert.equal(COMPRESSOR_IDS.zlib, 2);
 * ```
 */
export const COMPRESSOR_IDS: Readonly<Record<"noop" | "snappy" | "zlib" | "zstd", number>> = Object.freeze({
  noop: 0,
  snappy: 1,
  zlib: 2,
  zstd: 3,
});

/**
 * The compressors this package can use, by name.
 *
 * @example
 * ```ts
 * import type { SupportedCompressor } from "./op_compressed.ts";
 *
 * const c: SupportedCompressor = "zlib";
 * ```
 */
export type SupportedCompressor = "noop" | "zlib";

/**
 * Commands never sent compressed (the compression specification's list):
 * the handshake and everything that carries credentials.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UNCOMPRESSIBLE_COMMANDS } from "./op_compressed.ts";
 *
 * assert.equal(UNCOMPRESSIBLE_COMMANDS.has("saslStart"), true);
 * ```
 */
export const UNCOMPRESSIBLE_COMMANDS: ReadonlySet<string> = new Set([
  "hello",
  "ismaster",
  "isMaster",
  "saslStart",
  "saslContinue",
  "getnonce",
  "authenticate",
  "createUser",
  "updateUser",
  "copydbSaslStart",
  "copydbgetnonce",
  "copydb",
]);

/**
 * Wraps a whole message (header included) in OP_COMPRESSED, keeping its
 * `requestId` and `responseTo`.
 *
 * @param frame The message to send, as encoded.
 * @param compressor `"zlib"` or `"noop"`.
 * @returns The OP_COMPRESSED message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressMessage, decompressMessage, encodeOpMsg } from "./mod.ts";
 * import { ByteWriter } from "../bson/mod.ts";
 *
 * const msg = encodeOpMsg(new ByteWriter(), { requestId: 7, body: { ping: 1, $db: "admin" } });
 * const packed = await compressMessage(msg, "zlib");
 * assert.equal((await decompressMessage(packed)).length === msg.length, true);
 * ```
 */
export async function compressMessage(frame: Uint8Array, compressor: SupportedCompressor): Promise<Uint8Array> {
  const header = readHeader(frame);
  const body = frame.subarray(HEADER_SIZE, header.messageLength);
  const id = COMPRESSOR_IDS[compressor];
  if (id === undefined) throw new WireProtocolError(`cannot compress with ${JSON.stringify(compressor)}`);
  const packed = compressor === "zlib" ? await transform(body, new CompressionStream("deflate"), Infinity) : body;
  const out = new Uint8Array(HEADER_SIZE + 9 + packed.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, out.length, true);
  view.setInt32(4, header.requestId, true);
  view.setInt32(8, header.responseTo, true);
  view.setInt32(12, OP_COMPRESSED, true);
  view.setInt32(16, header.opCode, true);
  view.setInt32(20, body.length, true);
  out[24] = id;
  out.set(packed, 25);
  return out;
}

/**
 * Options of {@linkcode decompressMessage}.
 *
 * @example
 * ```ts
 * import type { DecompressOptions } from "./op_compressed.ts";
 *
 * const options: DecompressOptions = { maxMessageSizeBytes: 48_000_000 };
 * ```
 */
export interface DecompressOptions {
  /** The largest original message accepted, header included (default 48000000). */
  maxMessageSizeBytes?: number;
}

/**
 * Unwraps an OP_COMPRESSED message into the original whole message (its
 * header rebuilt with the original opcode and length).
 *
 * @throws {WireProtocolError} for an unknown or unsupported compressor, a
 * size that lies (in either direction, checked while inflating so that a
 * small message cannot expand without bound), a body that does not inflate,
 * or an OP_COMPRESSED inside an OP_COMPRESSED.
 * @example
 * ```ts ignore
 * import { decompressMessage } from "./op_compressed.ts";
 *
 * const original = await decompressMessage(frameFromTheServer);
 * ```
 */
export async function decompressMessage(frame: Uint8Array, options: DecompressOptions = {}): Promise<Uint8Array> {
  const header = readHeader(frame);
  if (header.opCode !== OP_COMPRESSED) {
    throw new WireProtocolError(`expected OP_COMPRESSED, got ${OP_NAMES[header.opCode] ?? header.opCode}`);
  }
  if (header.messageLength < HEADER_SIZE + 9 || frame.length < header.messageLength) {
    throw new WireProtocolError(`OP_COMPRESSED of ${header.messageLength} bytes is too short or truncated`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const originalOpcode = view.getInt32(16, true);
  const size = view.getInt32(20, true);
  const id = frame[24];
  const max = options.maxMessageSizeBytes ?? 48_000_000;
  if (originalOpcode === OP_COMPRESSED) throw new WireProtocolError("OP_COMPRESSED inside OP_COMPRESSED");
  if (size < 0 || size + HEADER_SIZE > max) {
    throw new WireProtocolError(
      `OP_COMPRESSED says the original body is ${size} bytes; at most ${max - HEADER_SIZE} are accepted`,
    );
  }
  const packed = frame.subarray(HEADER_SIZE + 9, header.messageLength);
  let body: Uint8Array;
  if (id === COMPRESSOR_IDS.noop) {
    body = packed;
  } else if (id === COMPRESSOR_IDS.zlib) {
    try {
      body = await transform(packed, new DecompressionStream("deflate"), size);
    } catch (error) {
      if (error instanceof WireProtocolError) throw error;
      throw new WireProtocolError(`OP_COMPRESSED: the zlib body does not inflate: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } else {
    const name = Object.entries(COMPRESSOR_IDS).find(([, v]) => v === id)?.[0];
    throw new WireProtocolError(
      `OP_COMPRESSED with compressor ${name ?? `id ${id}`}, which this driver does not speak (it offers only zlib)`,
    );
  }
  if (body.length !== size) {
    throw new WireProtocolError(`OP_COMPRESSED says ${size} bytes but the body inflates to ${body.length}`);
  }
  const out = new Uint8Array(HEADER_SIZE + size);
  const outView = new DataView(out.buffer);
  outView.setInt32(0, out.length, true);
  outView.setInt32(4, header.requestId, true);
  outView.setInt32(8, header.responseTo, true);
  outView.setInt32(12, originalOpcode, true);
  out.set(body, HEADER_SIZE);
  return out;
}

// Runs bytes through a (de)compression stream; stops as soon as the output
// passes `limit` bytes, so a lying size cannot make it inflate without bound.
async function transform(
  input: Uint8Array,
  stream: CompressionStream | DecompressionStream,
  limit: number,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  const writing = writer.write(input as Uint8Array<ArrayBuffer>).then(() => writer.close());
  writing.catch(() => {}); // the reader reports the failure
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new WireProtocolError(`OP_COMPRESSED: the body inflates past the ${limit} bytes it announced`);
    }
    chunks.push(value);
  }
  await writing;
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
