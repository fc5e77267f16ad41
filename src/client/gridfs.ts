/**
 * GridFS, after the GridFS specification: {@linkcode GridFSBucket} stores
 * files larger than a document as a files collection document
 * (`<bucket>.files`) and chunks of `chunkSizeBytes` (`<bucket>.chunks`).
 * Uploads are `WritableStream`s ({@linkcode GridFSUploadStream}), downloads
 * `ReadableStream`s ({@linkcode GridFSDownloadStream}); both are web
 * standards, so a file streams the same way on Deno, Bun, Node and Workers.
 *
 * @module
 */

import type { Document } from "../bson/mod.ts";
import { ConfigurationError, OperationFailure } from "../errors.ts";
import { ErrorCode } from "../error_codes.ts";
import type { ReadPreferenceLike } from "../topology/read_preference.ts";
import type { Collection } from "./collection.ts";
import type { CollectionOptions } from "./collection_options.ts";
import type { Cursor } from "./cursor.ts";
import type { Database } from "./database.ts";
import type { ReadConcern } from "./read_concern.ts";
import type { ClientSession } from "./session.ts";
import type { WriteConcern } from "./write_concern.ts";
import { checkDocument, checkInt, checkOptions, checkSignal, show, typeError } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import { FileNotFoundError, RevisionNotFoundError } from "./gridfs_errors.ts";
import {
  checkUploadOptions,
  type CommandOptions,
  type GridFSFile,
  GridFSUploadStream,
  type GridFSUploadOptions,
} from "./gridfs_upload.ts";
import { gridFSDeadline } from "./_gridfs_deadline.ts";
import {
  checkDownloadOptions,
  type GridFSDownloadByNameOptions,
  type GridFSDownloadOptions,
  GridFSDownloadStream,
  readAll,
} from "./gridfs_download.ts";

/**
 * Options of {@linkcode GridFSBucket}'s constructor.
 *
 * @example
 * ```ts
 * import type { GridFSBucketOptions } from "@zerodep/mongo";
 *
 * const options: GridFSBucketOptions = { bucketName: "images", chunkSizeBytes: 1024 * 1024, writeConcern: { w: "majority" } };
 * ```
 */
export interface GridFSBucketOptions {
  /** The prefix of the bucket's two collections (`<bucketName>.files`, `<bucketName>.chunks`); default `"fs"`. */
  readonly bucketName?: string;
  /** Bytes per chunk of new files (default 255 KiB); files already stored keep theirs. */
  readonly chunkSizeBytes?: number;
  /** Write concern of every write (default: the database's). */
  readonly writeConcern?: WriteConcern;
  /** Read concern of every read (default: the database's). */
  readonly readConcern?: ReadConcern;
  /** Where reads go (default: the database's read preference). */
  readonly readPreference?: ReadPreferenceLike;
  /**
   * Default time limit of each method in ms, over every command it sends, and of each stream's
   * whole life; 0 = no limit (default: the database's `timeoutMS`).
   */
  readonly timeoutMS?: number;
}

/**
 * Options of the bucket's single operations (`delete`, `rename`, `drop`, ...).
 *
 * @example
 * ```ts
 * import type { GridFSOperationOptions } from "@zerodep/mongo";
 *
 * const options: GridFSOperationOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface GridFSOperationOptions {
  /** Cancels the operation. */
  readonly signal?: AbortSignal;
  /** Runs every command of the operation in this session. */
  readonly session?: ClientSession;
  /** Time limit of the whole operation in ms, 0 = no limit (default: the bucket's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode GridFSBucket.find}: those of a `find` on the files collection.
 *
 * @example
 * ```ts
 * import type { GridFSFindOptions } from "@zerodep/mongo";
 *
 * const newestFirst: GridFSFindOptions = { sort: { uploadDate: -1 }, limit: 10 };
 * ```
 */
export interface GridFSFindOptions extends GridFSOperationOptions {
  /** Let a large sort spill to disk (sent only when given). */
  readonly allowDiskUse?: boolean;
  /** Documents per batch. */
  readonly batchSize?: number;
  /** Return at most this many files. */
  readonly limit?: number;
  /** Server-side time limit of each round trip, in ms. */
  readonly maxTimeMS?: number;
  /** Keep the server cursor alive when idle. */
  readonly noCursorTimeout?: boolean;
  /** Files to skip. */
  readonly skip?: number;
  /** Sort order, e.g. `{uploadDate: -1}`. */
  readonly sort?: Document;
}

const BUCKET_OPTIONS: ReadonlySet<string> = new Set([
  "bucketName",
  "chunkSizeBytes",
  "writeConcern",
  "readConcern",
  "readPreference",
  "timeoutMS",
]);
const OPERATION_OPTIONS: ReadonlySet<string> = new Set(["signal", "session", "timeoutMS"]);
const FIND_OPTIONS: ReadonlySet<string> = new Set([
  ...OPERATION_OPTIONS,
  "allowDiskUse",
  "batchSize",
  "limit",
  "maxTimeMS",
  "noCursorTimeout",
  "skip",
  "sort",
]);
const DEFAULT_CHUNK_SIZE = 255 * 1024;
const FILES_INDEX: Document = { filename: 1, uploadDate: 1 };
const CHUNKS_INDEX: Document = { files_id: 1, n: 1 };

/**
 * A GridFS bucket of a database: files of any size stored as a files
 * collection document plus chunks. Immutable once made.
 *
 * - Upload with {@linkcode GridFSBucket.openUploadStream} (a
 *   `WritableStream`), {@linkcode GridFSBucket.uploadFromStream} (from a
 *   `ReadableStream` or async iterable) or {@linkcode GridFSBucket.upload}
 *   (bytes or a stream). Before its first write the bucket creates the
 *   indexes GridFS needs (`{filename: 1, uploadDate: 1}` on files, unique
 *   `{files_id: 1, n: 1}` on chunks) if the files collection is empty and
 *   they are missing, checking first with reads on the primary, so a
 *   read-only user never tries to create them.
 * - Download with {@linkcode GridFSBucket.openDownloadStream} /
 *   {@linkcode GridFSBucket.openDownloadStreamByName} (`ReadableStream`s,
 *   optionally of a byte range) or {@linkcode GridFSBucket.download} /
 *   {@linkcode GridFSBucket.downloadByName} (one `Uint8Array`). The file
 *   lookup and the chunks query are retryable reads.
 * - Manage with {@linkcode GridFSBucket.find} (a cursor over files
 *   documents; query metadata with `{"metadata.owner": "ada"}`),
 *   {@linkcode GridFSBucket.delete}, {@linkcode GridFSBucket.rename},
 *   their `ByName` forms, and {@linkcode GridFSBucket.drop}.
 *
 * Every operation takes a `signal` and a `session`; the database's
 * `timeoutMS` bounds each command it sends.
 *
 * @example Store and read back a file
 * ```ts ignore
 * import { GridFSBucket, ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("mongodb://localhost:27017/?replicaSet=foo");
 * const bucket = new GridFSBucket(c.db("media"), { bucketName: "images" });
 * const id = await bucket.upload("logo.png", await Deno.readFile("logo.png"), { metadata: { owner: "ada" } });
 * const bytes = await bucket.download(id);
 * for await (const f of bucket.find({ "metadata.owner": "ada" })) console.log(f.filename, f.length);
 * ```
 */
export class GridFSBucket {
  #db: Database;
  #name: string;
  #chunkSize: number;
  #files: Collection;
  #chunks: Collection;
  #indexes: Promise<void> | undefined;
  #timeoutMS: number | undefined;

  /**
   * A bucket of `db`.
   *
   * @throws {ConfigurationError} for an unknown option, an empty bucket name or a chunk size below 1.
   */
  constructor(db: Database, options: GridFSBucketOptions = {}) {
    const o = checkOptions(options, "GridFSBucket options");
    checkOptionNames(o, BUCKET_OPTIONS, "GridFSBucket option");
    const name = o.bucketName ?? "fs";
    if (typeof name !== "string" || name === "") {
      throw new ConfigurationError(`GridFSBucket: bucketName must be a non-empty string, got ${show(name)}`);
    }
    this.#db = db;
    this.#name = name;
    this.#chunkSize = checkInt(o.chunkSizeBytes, "chunkSizeBytes", 1) ?? DEFAULT_CHUNK_SIZE;
    this.#timeoutMS = checkInt(o.timeoutMS, "timeoutMS", 0);
    const level: CollectionOptions = {};
    if (o.writeConcern !== undefined) Object.assign(level, { writeConcern: o.writeConcern });
    if (o.readConcern !== undefined) Object.assign(level, { readConcern: o.readConcern });
    if (o.readPreference !== undefined) Object.assign(level, { readPreference: o.readPreference });
    if (o.timeoutMS !== undefined) Object.assign(level, { timeoutMS: o.timeoutMS });
    this.#files = db.collection(`${name}.files`, level);
    this.#chunks = db.collection(`${name}.chunks`, level);
  }

  /** The bucket's name, the prefix of its collections. */
  get bucketName(): string {
    return this.#name;
  }

  /** The bucket's `timeoutMS`: its own, else the database's (`undefined`: not set; 0: no limit). */
  get timeoutMS(): number | undefined {
    return this.#timeoutMS ?? this.#db.timeoutMS;
  }

  /** The chunk size of new files, in bytes. */
  get chunkSizeBytes(): number {
    return this.#chunkSize;
  }

  /** The database the bucket is in. */
  get database(): Database {
    return this.#db;
  }

  /** The files collection (`<bucketName>.files`), with the bucket's read and write settings. */
  get filesCollection(): Collection {
    return this.#files;
  }

  /** The chunks collection (`<bucketName>.chunks`), with the bucket's read and write settings. */
  get chunksCollection(): Collection {
    return this.#chunks;
  }

  /**
   * Opens an upload of a new file named `filename`: write `Uint8Array`s to
   * the returned stream, then close it to store the files document; its
   * `id` is the file's id (`options.id`, else a new ObjectId). Aborting the
   * stream (`stream.abort()` or `writer.abort()`) deletes the chunks
   * already written, and rejects if it could not.
   *
   * @throws {ConfigurationError} for an unknown option or a chunk size below 1.
   *
   * @example
   * ```ts ignore
   * const upload = bucket.openUploadStream("big.bin", { chunkSizeBytes: 1 << 20 });
   * await response.body!.pipeTo(upload); // e.g. a fetch() body
   * console.log(upload.id);
   * ```
   */
  openUploadStream(filename: string, options?: GridFSUploadOptions): GridFSUploadStream {
    if (typeof filename !== "string") throw typeError("filename", "a string", filename, "GridFS upload");
    const o = checkUploadOptions(options);
    const deadline = this.#deadline(o.timeoutMS, "GridFS upload");
    return new GridFSUploadStream(this.#target(), filename, o.chunkSizeBytes ?? this.#chunkSize, o, deadline);
  }

  /**
   * Uploads what `source` yields (a `ReadableStream<Uint8Array>` or an
   * (async) iterable of `Uint8Array`s) as a new file; resolves with its id.
   * The source is read to its end and not cancelled. When reading the
   * source fails, the chunks already written are deleted and the source's
   * error is rethrown.
   *
   * @example
   * ```ts ignore
   * const file = await Deno.open("video.mp4");
   * const id = await bucket.uploadFromStream("video.mp4", file.readable);
   * ```
   */
  async uploadFromStream(
    filename: string,
    source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options?: GridFSUploadOptions,
  ): Promise<unknown> {
    const iterable = toIterable(source);
    const upload = this.openUploadStream(filename, options);
    const writer = upload.getWriter();
    try {
      for await (const bytes of iterable) await writer.write(bytes);
    } catch (e) {
      // A failed write already errored the stream (abort then only releases it); a failed source is aborted.
      await writer.abort(e).catch(() => {});
      throw e;
    }
    await writer.close();
    return upload.id;
  }

  /**
   * Uploads `data` (bytes, or a stream or async iterable of them) as a new
   * file named `filename`; resolves with its id.
   *
   * @example
   * ```ts ignore
   * const id = await bucket.upload("hello.txt", new TextEncoder().encode("hello"));
   * ```
   */
  upload(
    filename: string,
    data: Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: GridFSUploadOptions,
  ): Promise<unknown> {
    if (data instanceof Uint8Array) return this.uploadFromStream(filename, [data], options);
    return this.uploadFromStream(filename, data, options);
  }

  /**
   * A stream of the file with id `id` (or of bytes `[start, end)` of it).
   * Nothing is read until the stream is; the first read rejects with
   * {@linkcode FileNotFoundError} when there is no such file.
   *
   * @example
   * ```ts ignore
   * const res = new Response(bucket.openDownloadStream(id)); // serve it over HTTP
   * ```
   */
  openDownloadStream(id: unknown, options?: GridFSDownloadOptions): GridFSDownloadStream {
    const o = checkDownloadOptions(options, false);
    const lookup = async (command: () => CommandOptions) => {
      const file = await this.#files.findOne({ _id: id }, command());
      if (file === null) {
        throw new FileNotFoundError(`no GridFS file with id ${show(id)} in bucket ${this.#name}`, { id });
      }
      return file as unknown as GridFSFile;
    };
    return new GridFSDownloadStream(this.#chunks, lookup, o, this.#deadline(o.timeoutMS, "GridFS download"));
  }

  /**
   * A stream of a revision of the files named `filename` (by upload date:
   * `revision` 0 the oldest, -1 the newest, the default). The first read
   * rejects with {@linkcode FileNotFoundError} when no file has the name,
   * and with {@linkcode RevisionNotFoundError} when the revision does not exist.
   *
   * @example
   * ```ts ignore
   * const firstVersion = bucket.openDownloadStreamByName("notes.txt", { revision: 0 });
   * ```
   */
  openDownloadStreamByName(filename: string, options?: GridFSDownloadByNameOptions): GridFSDownloadStream {
    if (typeof filename !== "string") throw typeError("filename", "a string", filename, "GridFS download");
    const o = checkDownloadOptions(options, true);
    const revision = o.revision ?? -1;
    const lookup = async (command: () => CommandOptions) => {
      const skip = revision >= 0 ? revision : -revision - 1;
      const sort = { uploadDate: revision >= 0 ? 1 : -1 };
      const file = await this.#files.findOne({ filename }, { sort, skip, ...command() });
      if (file !== null) return file as unknown as GridFSFile;
      const any = skip === 0 ? null : await this.#files.findOne({ filename }, { projection: { _id: 1 }, ...command() });
      if (any === null) {
        throw new FileNotFoundError(`no GridFS file named ${show(filename)} in bucket ${this.#name}`, { filename });
      }
      throw new RevisionNotFoundError(
        `GridFS file ${show(filename)} in bucket ${this.#name} has no revision ${revision} (fewer revisions are stored)`,
        { filename, revision },
      );
    };
    return new GridFSDownloadStream(this.#chunks, lookup, o, this.#deadline(o.timeoutMS, "GridFS download"));
  }

  /**
   * The content of the file with id `id` (or bytes `[start, end)` of it).
   *
   * @throws {FileNotFoundError} when there is no such file.
   * @throws {ChunkIsMissingError} / {ChunkIsWrongSizeError} / {ExtraChunkError} when its chunks are corrupt.
   *
   * @example
   * ```ts ignore
   * const text = new TextDecoder().decode(await bucket.download(id));
   * ```
   */
  download(id: unknown, options?: GridFSDownloadOptions): Promise<Uint8Array> {
    return readAll(this.openDownloadStream(id, options));
  }

  /**
   * The content of a revision of the files named `filename` (default: the newest).
   *
   * @throws {FileNotFoundError} when no file has the name.
   * @throws {RevisionNotFoundError} when the revision does not exist.
   *
   * @example
   * ```ts ignore
   * const latest = await bucket.downloadByName("notes.txt");
   * ```
   */
  downloadByName(filename: string, options?: GridFSDownloadByNameOptions): Promise<Uint8Array> {
    return readAll(this.openDownloadStreamByName(filename, options));
  }

  /**
   * A cursor over the files documents matching `filter` (not validated: a
   * filter on fields files do not have matches nothing). Query what was
   * given at upload through `metadata`: `{"metadata.owner": "ada"}`.
   *
   * @example
   * ```ts ignore
   * const recent = await bucket.find({}, { sort: { uploadDate: -1 }, limit: 5 }).toArray();
   * ```
   */
  find(filter: Document = {}, options?: GridFSFindOptions): Cursor<GridFSFile> {
    checkDocument(filter, "the GridFS find filter");
    const o = checkOptions(options, "GridFS find options");
    checkOptionNames(o, FIND_OPTIONS, "GridFS find option");
    return this.#files.find(filter, o) as unknown as Cursor<GridFSFile>;
  }

  /**
   * Deletes the file with id `id`: its files document first, then its
   * chunks (orphaned chunks with that id are deleted even when there is no
   * files document).
   *
   * @throws {FileNotFoundError} when there was no files document with that id.
   *
   * @example
   * ```ts ignore
   * await bucket.delete(id);
   * ```
   */
  async delete(id: unknown, options?: GridFSOperationOptions): Promise<void> {
    const cmd = this.#command(options, "GridFS delete");
    const { deletedCount } = await this.#files.deleteOne({ _id: id }, cmd());
    await this.#chunks.deleteMany({ files_id: id }, cmd());
    if (deletedCount === 0) {
      throw new FileNotFoundError(`no GridFS file with id ${show(id)} in bucket ${this.#name}; nothing was deleted`, { id });
    }
  }

  /**
   * Deletes every revision of the files named `filename`, files documents
   * first, then their chunks.
   *
   * @throws {FileNotFoundError} when no file has the name.
   *
   * @example
   * ```ts ignore
   * await bucket.deleteByName("draft.txt");
   * ```
   */
  async deleteByName(filename: string, options?: GridFSOperationOptions): Promise<void> {
    if (typeof filename !== "string") throw typeError("filename", "a string", filename, "GridFS deleteByName");
    const cmd = this.#command(options, "GridFS deleteByName");
    const first = cmd();
    const found = await this.#files.find({ filename }, { projection: { _id: 1 }, ...first }).toArray({ signal: first.signal });
    if (found.length === 0) {
      throw new FileNotFoundError(`no GridFS file named ${show(filename)} in bucket ${this.#name}; nothing was deleted`, {
        filename,
      });
    }
    const ids = found.map((f) => f._id);
    await this.#files.deleteMany({ _id: { $in: ids } }, cmd());
    await this.#chunks.deleteMany({ files_id: { $in: ids } }, cmd());
  }

  /**
   * Renames the file with id `id` (sets its `filename`).
   *
   * @throws {FileNotFoundError} when there is no such file.
   *
   * @example
   * ```ts ignore
   * await bucket.rename(id, "final.txt");
   * ```
   */
  async rename(id: unknown, newFilename: string, options?: GridFSOperationOptions): Promise<void> {
    if (typeof newFilename !== "string") throw typeError("newFilename", "a string", newFilename, "GridFS rename");
    const cmd = this.#command(options, "GridFS rename");
    const { matchedCount } = await this.#files.updateOne({ _id: id }, { $set: { filename: newFilename } }, cmd());
    if (matchedCount === 0) {
      throw new FileNotFoundError(`no GridFS file with id ${show(id)} in bucket ${this.#name}; nothing was renamed`, { id });
    }
  }

  /**
   * Renames every revision of the files named `filename`.
   *
   * @throws {FileNotFoundError} when no file has the name.
   *
   * @example
   * ```ts ignore
   * await bucket.renameByName("draft.txt", "final.txt");
   * ```
   */
  async renameByName(filename: string, newFilename: string, options?: GridFSOperationOptions): Promise<void> {
    if (typeof filename !== "string") throw typeError("filename", "a string", filename, "GridFS renameByName");
    if (typeof newFilename !== "string") throw typeError("newFilename", "a string", newFilename, "GridFS renameByName");
    const cmd = this.#command(options, "GridFS renameByName");
    const { matchedCount } = await this.#files.updateMany({ filename }, { $set: { filename: newFilename } }, cmd());
    if (matchedCount === 0) {
      throw new FileNotFoundError(`no GridFS file named ${show(filename)} in bucket ${this.#name}; nothing was renamed`, {
        filename,
      });
    }
  }

  /**
   * Drops the bucket's files collection, then its chunks collection (each
   * may already be absent). The next upload creates the indexes again.
   *
   * @example
   * ```ts ignore
   * await bucket.drop();
   * ```
   */
  async drop(options?: GridFSOperationOptions): Promise<void> {
    const cmd = this.#command(options, "GridFS drop");
    await this.#files.drop(cmd());
    await this.#chunks.drop(cmd());
    this.#indexes = undefined;
  }

  /** `GridFSBucket(Database(...), 'fs')`. */
  toString(): string {
    return `GridFSBucket(${this.#db.toString()}, '${this.#name}')`;
  }

  /** A deadline of `timeoutMS` (else the bucket's) from now. */
  #deadline(timeoutMS: number | undefined, what: string): () => { timeoutMS?: number } {
    return gridFSDeadline(timeoutMS ?? this.timeoutMS, what);
  }

  /** The options of each command of a method: its signal and session, and what is left of its `timeoutMS`. */
  #command(options: GridFSOperationOptions | undefined, what: string): () => CommandOptions {
    const o = checkOperation(options);
    const deadline = this.#deadline(o.timeoutMS, what);
    return () => ({ ...opOptions(o), ...deadline() });
  }

  #target() {
    return {
      files: this.#files,
      chunks: this.#chunks,
      ensureIndexes: (command: () => CommandOptions) => {
        // Once per bucket, shared by concurrent uploads; a failure lets the next write try again.
        this.#indexes ??= ensureIndexes(this.#files, this.#chunks, command).catch((e) => {
          this.#indexes = undefined;
          throw e;
        });
        return this.#indexes;
      },
    };
  }
}

function checkOperation(options: GridFSOperationOptions | undefined): GridFSOperationOptions {
  const o = checkOptions(options, "GridFS options");
  checkOptionNames(o, OPERATION_OPTIONS, "GridFS option");
  checkSignal(o.signal);
  checkInt(o.timeoutMS, "timeoutMS", 0);
  return o;
}

function opOptions(o: GridFSOperationOptions): CommandOptions {
  const out: { signal?: AbortSignal; session?: ClientSession } = {};
  if (o.signal !== undefined) out.signal = o.signal;
  if (o.session !== undefined) out.session = o.session;
  return out;
}

function toIterable(source: unknown): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (source instanceof ReadableStream) {
    // Read without cancelling the source on an early exit (the specification leaves closing it to the caller).
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }
  if (source !== null && typeof source === "object" && (Symbol.asyncIterator in source || Symbol.iterator in source)) {
    return source as AsyncIterable<Uint8Array>;
  }
  throw typeError("source", "a ReadableStream or an async iterable of Uint8Array", source, "GridFS upload");
}

/** Whether `keys` is the index key pattern `want` (same fields in order, numbers compared by value). */
function sameKeys(keys: unknown, want: Document): boolean {
  if (keys === null || typeof keys !== "object") return false;
  const a = Object.entries(keys as Document);
  const b = Object.entries(want);
  return a.length === b.length && a.every(([k, v], i) => k === b[i][0] && Number(v) === b[i][1]);
}

async function hasIndex(coll: Collection, keys: Document, command: () => CommandOptions): Promise<boolean> {
  try {
    const o = command();
    const indexes = await coll.listIndexes({ ...o, readPreference: "primary" }).toArray({ signal: o.signal });
    return indexes.some((i) => sameKeys(i.key, keys));
  } catch (e) {
    if (e instanceof OperationFailure && e.code === ErrorCode.NamespaceNotFound) return false;
    throw e;
  }
}

/** The specification's index check: only when the files collection is empty (read on the primary). */
async function ensureIndexes(files: Collection, chunks: Collection, command: () => CommandOptions): Promise<void> {
  const any = await files.findOne({}, { projection: { _id: 1 }, readPreference: "primary", ...command() });
  if (any !== null) return;
  if (!await hasIndex(files, FILES_INDEX, command)) await files.createIndex(FILES_INDEX, command());
  if (!await hasIndex(chunks, CHUNKS_INDEX, command)) await chunks.createIndex(CHUNKS_INDEX, { unique: true, ...command() });
}
