/**
 * A BSON round trip: a document with every common type is encoded, decoded,
 * and printed as Extended JSON. Runs on Deno and Bun:
 *
 *   npm run example          (both runtimes)
 *   deno run examples/bson_roundtrip.ts
 *   bun examples/bson_roundtrip.ts
 */
import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  decode,
  Double,
  EJSON,
  encode,
  Int32,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "../mod.ts";

const runtime = "Deno" in globalThis ? `Deno ${Deno.version.deno}` : "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : "an unknown runtime";

const doc = {
  _id: new ObjectId(),
  name: "Ada Lovelace",
  born: new Date("1815-12-10T00:00:00Z"),
  visits: 42, // an integer in int32 range: int32
  ratio: 0.5, // double
  wholeDouble: new Double(3), // a double that happens to be whole
  small: new Int32(7),
  views: 9_007_199_254_740_993n, // bigint: int64, beyond Number's safe range
  price: Decimal128.fromString("19.99"),
  tags: ["math", "engines", { nested: true }],
  session: new UUID(),
  blob: new Binary(new Uint8Array([1, 2, 3]), Binary.SUBTYPE_USER_DEFINED),
  pattern: new BSONRegExp("^ada", "i"),
  code: new Code("function () { return x; }", { x: 1 }),
  ts: new Timestamp({ t: 1_700_000_000, i: 1 }),
  lowest: new MinKey(),
  highest: new MaxKey(),
  nothing: null,
  unicode: "héllo wörld ✓ 🍃",
};

const bytes = encode(doc);
// Default decoding gives plain JS numbers; `promoteValues: false` keeps
// Double/Int32/Int64 wrappers so that re-encoding is byte-identical.
const back = decode(bytes);
const again = encode(decode(bytes, { promoteValues: false }));

console.log(`runtime: ${runtime}`);
console.log(`encoded ${Object.keys(doc).length} fields into ${bytes.length} bytes`);
console.log(`re-encoding the decoded document gives identical bytes: ${equalBytes(bytes, again)}`);
console.log("decoded, as relaxed Extended JSON:");
console.log(EJSON.stringify(back, { relaxed: true, space: 2 }));

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
