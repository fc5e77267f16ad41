/**
 * GridFS uploads: {@linkcode GridFSUploadStream}, a web-standard
 * `WritableStream<Uint8Array>` that cuts what is written into chunks of
 * `chunkSizeBytes`, inserts each full chunk as soon as it has one, and on
 * `close()` inserts the last (shorter) chunk and then the files collection
 * document. `abort()` deletes the chunks written so far.
 *
 * @module
 */

import { Binary, type Document, ObjectId } from "../bson/mod.ts";
import type { Collection } from "./collection.ts";
import type { ClientSession } from "./session.ts";
import { checkDocument, checkInt, checkOptions, checkSignal, typeError } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import type { DeadlineOptions } from "./_gridfs_deadline.ts";

/**
 * The files collection document of a stored file, as GridFS writes it.
 * Legacy files may lack fields (a file stored without a name has no
 * `filename`); `md5` is only on files older drivers stored.
 *
 * @example
 * ```ts
 * import type { GridFSFile } from "@zerodep/mongo";
 *
 * const describe = (f: GridFSFile) => `${f.filename}: ${f.length} bytes, uploaded ${f.uploadDate.toISOString()}`;
 * ```
 */
export interface GridFSFile {
  /** The file id (an ObjectId unless the application chose another). */
  readonly _id: unknown;
  /** The file's size in bytes. */
  readonly length: number;
  /** The size of each chunk but the last, in bytes. */
  readonly chunkSize: number;
  /** When the files document was written. */
  readonly uploadDate: Date;
  /** The name given at upload; not unique (files with one name are its revisions). */
  readonly filename: string;
  /** The application's document given at upload, if any. */
  readonly metadata?: Document;
  /** Deprecated: a MIME type given at upload (store it in `metadata` instead). */
  readonly contentType?: string;
  /** Deprecated: other names given at upload (store them in `metadata` instead). */
  readonly aliases?: readonly string[];
  /** Deprecated: an MD5 digest written by older drivers; this driver writes none. */
  readonly md5?: string;
}

/**
 * Options of an upload ({@linkcode GridFSBucket.openUploadStream},
 * {@linkcode GridFSBucket.uploadFromStream}, {@linkcode GridFSBucket.upload}).
 *
 * @example
 * ```ts
 * import type { GridFSUploadOptions } from "@zerodep/mongo";
 *
 * const options: GridFSUploadOptions = { chunkSizeBytes: 64 * 1024, metadata: { owner: "ada" } };
 * ```
 */
export interface GridFSUploadOptions {
  /** The file id (any BSON value but `undefined`); default a new ObjectId. */
  readonly id?: unknown;
  /** Bytes per chunk of this file (default: the bucket's `chunkSizeBytes`). */
  readonly chunkSizeBytes?: number;
  /** The files document's `metadata` (left out when not given). Query it with `{"metadata.field": value}`. */
  readonly metadata?: Document;
  /** Deprecated by the GridFS specification: put a MIME type in `metadata` instead. */
  readonly contentType?: string;
  /** Deprecated by the GridFS specification: put other names in `metadata` instead. */
  readonly aliases?: readonly string[];
  /** Cancels the upload: the stream errors with the signal's reason and the chunks written are deleted, as by `abort()`. */
  readonly signal?: AbortSignal;
  /** Runs every command of the upload in this session. */
  readonly session?: ClientSession;
  /**
   * Time limit of the stream's whole life in ms, from `openUploadStream` to `close()` or `abort()` (0 = no
   * limit; default: the bucket's). `uploadFromStream` cannot interrupt a source that does not answer in time.
   */
  readonly timeoutMS?: number;
}

/** The options of one command of a GridFS operation: its signal, session and what is left of its `timeoutMS`. */
export type CommandOptions = { signal?: AbortSignal; session?: ClientSession } & DeadlineOptions;

/** What an upload stream needs of its bucket. */
export interface UploadTarget {
  readonly files: Collection;
  readonly chunks: Collection;
  /** Creates the bucket's indexes before its first write (once per bucket); `command` gives each command's options. */
  ensureIndexes(command: () => CommandOptions): Promise<void>;
}

const UPLOAD_OPTIONS: ReadonlySet<string> = new Set([
  "id",
  "chunkSizeBytes",
  "metadata",
  "contentType",
  "aliases",
  "signal",
  "session",
  "timeoutMS",
]);

interface UploadState {
  target: UploadTarget;
  id: unknown;
  filename: string;
  chunkSize: number;
  options: GridFSUploadOptions;
  deadline: () => DeadlineOptions;
  buffer: Uint8Array;
  filled: number;
  n: number;
  length: number;
  wroteChunks: boolean;
  /** The files document's insert was sent (it may have happened). */
  wroteFile: boolean;
  file: GridFSFile | undefined;
}

/**
 * An upload in progress: write bytes to it, then `close()` it to store the
 * file (or `abort()` to delete what was written). `id` is the new file's id
 * from the start; `gridFSFile` is its files document once closed.
 *
 * Writes are `Uint8Array`s of any size; each full chunk is inserted while
 * the next write waits (back pressure), so memory stays near one chunk plus
 * the write in hand. An empty file stores a files document and no chunk.
 * A failed insert errors the stream and leaves the chunks already inserted
 * (the specification has drivers report the failure rather than clean up);
 * `abort()` removes them.
 *
 * @example
 * ```ts ignore
 * const upload = bucket.openUploadStream("notes.txt", { metadata: { owner: "ada" } });
 * const writer = upload.getWriter();
 * await writer.write(new TextEncoder().encode("hello "));
 * await writer.write(new TextEncoder().encode("world"));
 * await writer.close();
 * console.log(upload.id, upload.gridFSFile?.length); // ObjectId(...) 11
 * ```
 */
export class GridFSUploadStream extends WritableStream<Uint8Array> {
  #state: UploadState;

  /** Prefer {@linkcode GridFSBucket.openUploadStream}. */
  constructor(
    target: UploadTarget,
    filename: string,
    chunkSize: number,
    options: GridFSUploadOptions,
    deadline: () => DeadlineOptions = () => ({}),
  ) {
    const state: UploadState = {
      deadline,
      target,
      id: options.id === undefined ? new ObjectId() : options.id,
      filename,
      chunkSize,
      options,
      buffer: new Uint8Array(0),
      filled: 0,
      n: 0,
      length: 0,
      wroteChunks: false,
      wroteFile: false,
      file: undefined,
    };
    super({
      write: (bytes) => cleanUpIfCancelled(state, write(state, bytes)),
      close: () => cleanUpIfCancelled(state, close(state)),
      abort: () => abort(state),
    }, { highWaterMark: 1 });
    this.#state = state;
  }

  /** The id of the file being stored. */
  get id(): unknown {
    return this.#state.id;
  }

  /** The filename the file is stored under. */
  get filename(): string {
    return this.#state.filename;
  }

  /** Bytes per chunk of this file. */
  get chunkSizeBytes(): number {
    return this.#state.chunkSize;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#state.length;
  }

  /** The files collection document, once `close()` has stored it; else `undefined`. */
  get gridFSFile(): GridFSFile | undefined {
    return this.#state.file;
  }
}

/** Checks upload options: known names, a positive integer chunk size, a document `metadata`. */
export function checkUploadOptions(options: GridFSUploadOptions | undefined): GridFSUploadOptions {
  const o = checkOptions(options, "GridFS upload options");
  checkOptionNames(o as Document, UPLOAD_OPTIONS, "GridFS upload option");
  checkInt(o.chunkSizeBytes, "chunkSizeBytes", 1);
  checkInt(o.timeoutMS, "timeoutMS", 0);
  if (o.metadata !== undefined) checkDocument(o.metadata, "metadata");
  if (o.contentType !== undefined && typeof o.contentType !== "string") {
    throw typeError("contentType", "a string", o.contentType, "GridFS upload options");
  }
  if (o.aliases !== undefined && !(Array.isArray(o.aliases) && o.aliases.every((a) => typeof a === "string"))) {
    throw typeError("aliases", "an array of strings", o.aliases, "GridFS upload options");
  }
  checkSignal(o.signal);
  return o;
}

function opOptions(state: UploadState): CommandOptions {
  const o: CommandOptions = { ...state.deadline() };
  if (state.options.signal !== undefined) o.signal = state.options.signal;
  if (state.options.session !== undefined) o.session = state.options.session;
  return o;
}

function chunkDoc(state: UploadState, data: Uint8Array): Document {
  return { _id: new ObjectId(), files_id: state.id, n: state.n++, data: new Binary(data, 0) };
}

async function insertChunks(state: UploadState, docs: Document[]): Promise<void> {
  if (docs.length === 0) return;
  await state.target.ensureIndexes(() => opOptions(state));
  state.wroteChunks = true;
  if (docs.length === 1) await state.target.chunks.insertOne(docs[0], opOptions(state));
  else await state.target.chunks.insertMany(docs, opOptions(state));
}

async function write(state: UploadState, bytes: Uint8Array): Promise<void> {
  if (!(bytes instanceof Uint8Array)) {
    throw typeError("each chunk written", "a Uint8Array (encode strings with TextEncoder)", bytes, "GridFS upload");
  }
  const size = state.chunkSize;
  const full: Document[] = [];
  let at = 0;
  if (state.filled === 0) {
    // Whole chunks straight from the caller's bytes (copied: the caller may reuse its buffer).
    while (bytes.length - at >= size) {
      full.push(chunkDoc(state, bytes.slice(at, at + size)));
      at += size;
    }
  }
  while (at < bytes.length) {
    if (state.buffer.length === 0) state.buffer = new Uint8Array(size);
    const take = Math.min(size - state.filled, bytes.length - at);
    state.buffer.set(bytes.subarray(at, at + take), state.filled);
    state.filled += take;
    at += take;
    if (state.filled === size) {
      full.push(chunkDoc(state, state.buffer));
      state.buffer = new Uint8Array(0);
      state.filled = 0;
    }
  }
  state.length += bytes.length;
  await insertChunks(state, full);
}

async function close(state: UploadState): Promise<void> {
  if (state.filled > 0) {
    await insertChunks(state, [chunkDoc(state, state.buffer.slice(0, state.filled))]);
    state.buffer = new Uint8Array(0);
    state.filled = 0;
  }
  const o = state.options;
  const file: Document = {
    _id: state.id,
    length: state.length,
    chunkSize: state.chunkSize,
    uploadDate: new Date(),
    filename: state.filename,
  };
  if (o.contentType !== undefined) file.contentType = o.contentType;
  if (o.aliases !== undefined) file.aliases = [...o.aliases];
  if (o.metadata !== undefined) file.metadata = o.metadata;
  await state.target.ensureIndexes(() => opOptions(state));
  state.wroteFile = true;
  await state.target.files.insertOne(file, opOptions(state));
  state.file = file as unknown as GridFSFile;
}

/**
 * `work`; when it fails because the upload's signal aborted, the upload is
 * aborted too (its chunks deleted, best effort: the signal's reason is what
 * the caller gets). Other failures leave the chunks, as the specification says.
 */
async function cleanUpIfCancelled(state: UploadState, work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (e) {
    if (state.options.signal?.aborted === true) {
      // Cancelled during close: the files document may have been stored; the caller was told it was not.
      const o: CommandOptions = state.options.session === undefined ? {} : { session: state.options.session };
      if (state.wroteFile) await state.target.files.deleteOne({ _id: state.id }, o).catch(() => {});
      await abort(state).catch(() => {});
    }
    throw e;
  }
}

async function abort(state: UploadState): Promise<void> {
  state.buffer = new Uint8Array(0);
  state.filled = 0;
  if (!state.wroteChunks) return;
  // The abort's own signal is not the upload's: an upload cancelled by its signal must still clean up.
  const o: CommandOptions = { ...state.deadline() };
  if (state.options.session !== undefined) o.session = state.options.session;
  await state.target.chunks.deleteMany({ files_id: state.id }, o);
}
