/**
 * The unified format's `bucket` entity (a {@linkcode GridFSBucket}) and its
 * operations: `download`/`downloadByName` read the whole stream and return
 * its bytes (for `$$matchesHexBytes`), `upload`/`uploadWithId` take their
 * source as `{$$hexBytes: "..."}`, and `delete`, `deleteByName`, `rename`,
 * `renameByName`, `drop` and `find` map one to one. A `session` argument
 * goes to the driver, and so does `timeoutMS` (every GridFS method takes it). The stream operations the format tells test files not
 * to use skip with the reason.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { type Database, GridFSBucket, type GridFSBucketOptions } from "../../../src/client/mod.ts";
import { plain, SkipTest, TestFileError } from "./entities.ts";
import { type Args, docArg, options, take } from "./arguments.ts";
import { isDocument } from "./matcher.ts";
import type { OperationResult } from "./operations.ts";

/** Required arguments of the bucket operations (checked before anything runs, as operations.ts does for the others). */
export const BUCKET_REQUIRED: Record<string, string[]> = {
  download: ["id"],
  downloadByName: ["filename"],
  upload: ["filename", "source"],
  uploadWithId: ["id", "filename", "source"],
  delete: ["id"],
  deleteByName: ["filename"],
  rename: ["id", "newFilename"],
  renameByName: ["filename", "newFilename"],
};

const BUCKET_OPTIONS = new Set([
  "bucketName",
  "chunkSizeBytes",
  "writeConcern",
  "readConcern",
  "readPreference",
  "timeoutMS",
]);

/** The bucket of a `bucket` entity definition; options the driver does not take skip the test. */
export function createBucket(spec: Record<string, unknown>, db: Database): GridFSBucket {
  const raw = spec.bucketOptions;
  if (raw !== undefined && !isDocument(raw)) throw new TestFileError(`bucket ${String(spec.id)}: bucketOptions must be a document`);
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (k === "disableMD5" && v === true) continue; // the driver computes no MD5 at all
    if (!BUCKET_OPTIONS.has(k)) throw new SkipTest(`driver lacks GridFSBucket option ${k}`);
    o[k] = plain(v);
  }
  return new GridFSBucket(db, o as GridFSBucketOptions);
}

/** The bytes of `{$$hexBytes: "..."}` (an even number of hex digits, possibly none); anything else is a test-file error. */
function hexSource(source: unknown, name: string): Uint8Array {
  const hex = isDocument(source) && Object.keys(source).length === 1 ? source.$$hexBytes : undefined;
  if (typeof hex !== "string" || !/^([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new TestFileError(`${name}: source must be {$$hexBytes: <an even number of hex digits>}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function stringArg(a: Args, key: string, name: string): string {
  if (typeof a[key] !== "string") throw new TestFileError(`${name}: ${key} must be a string`);
  return a[key] as string;
}

function need(a: Args, key: string, name: string): unknown {
  if (a[key] === undefined) throw new TestFileError(`${name} is missing its required argument ${key}`);
  return a[key];
}

const UPLOAD_ARGS = ["filename", "source", "chunkSizeBytes", "metadata", "contentType", "aliases", "disableMD5"];
const STREAM_OPERATIONS = new Set([
  "downloadToStream",
  "downloadToStreamByName",
  "openDownloadStream",
  "openDownloadStreamByName",
  "openUploadStream",
  "openUploadStreamWithId",
  "uploadFromStream",
  "uploadFromStreamWithId",
]);

/** Runs an operation on a bucket entity, or returns `undefined` when `kind` is not "bucket". */
export async function runBucketOperation(
  name: string,
  raw: Args,
  kind: string,
  entity: unknown,
): Promise<OperationResult | undefined> {
  if (kind !== "bucket") return undefined;
  const bucket = entity as GridFSBucket;
  // Every bucket method takes timeoutMS (the client-side operations timeout's GridFS rules): passed through.
  const { timeoutMS, ...rest } = raw;
  return await runBucketMethod(name, rest, bucket, timeoutMS === undefined ? {} : { timeoutMS: plain(timeoutMS) as number });
}

async function runBucketMethod(
  name: string,
  raw: Args,
  bucket: GridFSBucket,
  timeout: { timeoutMS?: number },
): Promise<OperationResult> {
  if (STREAM_OPERATIONS.has(name)) {
    throw new SkipTest(`runner lacks bucket ${name} (the unified format has test files use download/upload instead)`);
  }
  switch (name) {
    case "download": {
      const a = take(name, raw, ["id"]);
      return { value: await bucket.download(need(a, "id", name), { ...options(a, ["id"]), ...timeout }) };
    }
    case "downloadByName": {
      const a = take(name, raw, ["filename", "revision"]);
      const o = { ...options(a, ["filename"]), ...timeout };
      return { value: await bucket.downloadByName(stringArg(a, "filename", name), o) };
    }
    case "upload":
    case "uploadWithId": {
      const a = take(name, raw, name === "upload" ? UPLOAD_ARGS : ["id", ...UPLOAD_ARGS]);
      if (a.disableMD5 === false) throw new SkipTest("driver lacks MD5 checksums (disableMD5: false)");
      if (name === "uploadWithId") need(a, "id", name);
      const bytes = hexSource(need(a, "source", name), name);
      const o = { ...options(a, ["filename", "source", "disableMD5"]), ...timeout };
      return { value: await bucket.upload(stringArg(a, "filename", name), bytes, o) };
    }
    case "delete": {
      const a = take(name, raw, ["id"]);
      await bucket.delete(need(a, "id", name), { ...options(a, ["id"]), ...timeout });
      return { value: undefined };
    }
    case "deleteByName": {
      const a = take(name, raw, ["filename"]);
      await bucket.deleteByName(stringArg(a, "filename", name), { ...options(a, ["filename"]), ...timeout });
      return { value: undefined };
    }
    case "rename": {
      const a = take(name, raw, ["id", "newFilename"]);
      const o = { ...options(a, ["id", "newFilename"]), ...timeout };
      await bucket.rename(need(a, "id", name), stringArg(a, "newFilename", name), o);
      return { value: undefined };
    }
    case "renameByName": {
      const a = take(name, raw, ["filename", "newFilename"]);
      const o = { ...options(a, ["filename", "newFilename"]), ...timeout };
      await bucket.renameByName(stringArg(a, "filename", name), stringArg(a, "newFilename", name), o);
      return { value: undefined };
    }
    case "drop": {
      const a = take(name, raw, []);
      await bucket.drop({ ...options(a, []), ...timeout });
      return { value: undefined };
    }
    case "find": {
      const a = take(name, raw, ["filter", "allowDiskUse", "batchSize", "limit", "maxTimeMS", "noCursorTimeout", "skip", "sort"]);
      const filter: Document = a.filter === undefined ? {} : docArg(a, "filter", name);
      return { value: await bucket.find(filter, { ...options(a, ["filter"]), ...timeout }).toArray(), iterable: true };
    }
    default:
      throw new SkipTest(`driver lacks ${name} (bucket)`);
  }
}
