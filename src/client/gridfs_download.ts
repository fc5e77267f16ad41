/**
 * GridFS downloads: {@linkcode GridFSDownloadStream}, a web-standard
 * `ReadableStream<Uint8Array>` that looks the file up on the first read,
 * then reads its chunks in order through one cursor, checking each against
 * the files document (the next `n`, the expected size, nothing past the
 * end). A byte range (`start`, `end`) reads only the chunks it covers.
 *
 * @module
 */

import { Binary, type Document } from "../bson/mod.ts";
import { ConfigurationError } from "../errors.ts";
import type { Collection } from "./collection.ts";
import type { Cursor } from "./cursor.ts";
import type { ClientSession } from "./session.ts";
import { checkInt, checkOptions, checkSignal, show } from "./_internal.ts";
import { checkOptionNames } from "./_write.ts";
import type { CommandOptions, GridFSFile } from "./gridfs_upload.ts";
import type { DeadlineOptions } from "./_gridfs_deadline.ts";
import { ChunkIsMissingError, ChunkIsWrongSizeError, ExtraChunkError, GridFSError } from "./gridfs_errors.ts";

/**
 * Options of {@linkcode GridFSBucket.openDownloadStream} and
 * {@linkcode GridFSBucket.download}.
 *
 * @example
 * ```ts
 * import type { GridFSDownloadOptions } from "@zerodep/mongo";
 *
 * // The second kilobyte of the file.
 * const options: GridFSDownloadOptions = { start: 1024, end: 2048 };
 * ```
 */
export interface GridFSDownloadOptions {
  /** The first byte to return (default 0). */
  readonly start?: number;
  /** One past the last byte to return (default: the file's length); `start == end` returns nothing. */
  readonly end?: number;
  /** Cancels the lookup and every read of the chunks. */
  readonly signal?: AbortSignal;
  /** Runs every read in this session. */
  readonly session?: ClientSession;
  /** Time limit of the stream's whole life in ms, from its opening to its last read (0 = no limit; default: the bucket's). */
  readonly timeoutMS?: number;
}

/**
 * Options of {@linkcode GridFSBucket.openDownloadStreamByName} and
 * {@linkcode GridFSBucket.downloadByName}: which revision, besides those of
 * a download by id.
 *
 * @example
 * ```ts
 * import type { GridFSDownloadByNameOptions } from "@zerodep/mongo";
 *
 * const original: GridFSDownloadByNameOptions = { revision: 0 };
 * const previous: GridFSDownloadByNameOptions = { revision: -2 };
 * ```
 */
export interface GridFSDownloadByNameOptions extends GridFSDownloadOptions {
  /**
   * Which of the files with the name, by upload date: 0 the oldest, 1 the
   * next, ...; -1 the newest (the default), -2 the one before, ...
   */
  readonly revision?: number;
}

const DOWNLOAD_OPTIONS: ReadonlySet<string> = new Set(["start", "end", "signal", "session", "timeoutMS"]);
const BY_NAME_OPTIONS: ReadonlySet<string> = new Set([...DOWNLOAD_OPTIONS, "revision"]);

/** Checks download options (by name when `byName`). */
export function checkDownloadOptions<T extends GridFSDownloadByNameOptions>(options: T | undefined, byName: boolean): T {
  const o = checkOptions(options, "GridFS download options");
  checkOptionNames(o, byName ? BY_NAME_OPTIONS : DOWNLOAD_OPTIONS, "GridFS download option");
  const start = checkInt(o.start, "start", 0);
  const end = checkInt(o.end, "end", 0);
  checkInt(o.timeoutMS, "timeoutMS", 0);
  if (start !== undefined && end !== undefined && start > end) {
    throw new ConfigurationError(`GridFS download: start (${start}) must not be past end (${end})`);
  }
  if (byName && o.revision !== undefined && (typeof o.revision !== "number" || !Number.isInteger(o.revision))) {
    throw new ConfigurationError(`GridFS download: revision must be an integer, got ${show(o.revision)}`);
  }
  checkSignal(o.signal);
  return o;
}

/** A files document's `length` or `chunkSize` as a safe integer, or a GridFSError naming the field. */
function fileNumber(file: Document, field: "length" | "chunkSize", min: number): number {
  const v = file[field];
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw new GridFSError(
      `the files document of GridFS file ${show(file._id)} has ${field} ${show(v)}: not an integer >= ${min}; the file is corrupt`,
    );
  }
  return n;
}

interface Plan {
  file: GridFSFile;
  id: unknown;
  length: number;
  chunkSize: number;
  /** Chunks the file has. */
  chunks: number;
  start: number;
  end: number;
  /** The chunk numbers covering [start, end). */
  first: number;
  last: number;
}

interface DownloadState {
  chunks: Collection;
  lookup: (command: () => CommandOptions) => Promise<GridFSFile>;
  options: GridFSDownloadOptions;
  deadline: () => DeadlineOptions;
  plan: Plan | undefined;
  cursor: Cursor<Document> | undefined;
  next: number;
  done: boolean;
}

/**
 * A download: read it like any `ReadableStream` (`for await`, a reader,
 * `pipeTo`). Nothing is sent until the first read, which looks the file up
 * (a {@linkcode FileNotFoundError} or {@linkcode RevisionNotFoundError}
 * errors the stream when there is none); each chunk read is checked, and a
 * gap, a chunk of the wrong size or one past the end errors the stream with
 * {@linkcode ChunkIsMissingError}, {@linkcode ChunkIsWrongSizeError} or
 * {@linkcode ExtraChunkError}. A zero-length file reads no chunks. Cancel
 * the stream (or its reader) to stop early: that closes the chunks cursor.
 *
 * Both reads go through the client's operation runner, so the files lookup
 * and the chunks `find` are retryable reads (a `getMore` is not retried).
 *
 * @example
 * ```ts ignore
 * const stream = bucket.openDownloadStream(id);
 * for await (const bytes of stream) console.log(bytes.length);
 * console.log(stream.gridFSFile?.filename);
 * ```
 */
export class GridFSDownloadStream extends ReadableStream<Uint8Array> {
  #state: DownloadState;

  /** Prefer {@linkcode GridFSBucket.openDownloadStream} or {@linkcode GridFSBucket.openDownloadStreamByName}. */
  constructor(
    chunks: Collection,
    lookup: (command: () => CommandOptions) => Promise<GridFSFile>,
    options: GridFSDownloadOptions,
    deadline: () => DeadlineOptions = () => ({}),
  ) {
    const state: DownloadState = {
      chunks,
      lookup,
      options,
      deadline,
      plan: undefined,
      cursor: undefined,
      next: 0,
      done: false,
    };
    super({
      pull: (controller) => pull(state, controller),
      cancel: () => finish(state),
    }, { highWaterMark: 0 });
    this.#state = state;
  }

  /** The files document, once the first read has looked it up; else `undefined`. */
  get gridFSFile(): GridFSFile | undefined {
    return this.#state.plan?.file;
  }
}

/** Reads a whole download stream into one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const part of stream) {
    parts.push(part);
    total += part.length;
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function finish(state: DownloadState): Promise<void> {
  state.done = true;
  const c = state.cursor;
  state.cursor = undefined;
  if (c !== undefined) await c.close().catch(() => {});
}

function opOptions(state: DownloadState): CommandOptions {
  const o: CommandOptions = { ...state.deadline() };
  if (state.options.signal !== undefined) o.signal = state.options.signal;
  if (state.options.session !== undefined) o.session = state.options.session;
  return o;
}

function makePlan(file: GridFSFile, options: GridFSDownloadOptions): Plan {
  const doc = file as unknown as Document;
  const length = fileNumber(doc, "length", 0);
  const chunkSize = fileNumber(doc, "chunkSize", length === 0 ? 0 : 1);
  const start = options.start ?? 0;
  const end = options.end ?? length;
  if (start > length || end > length) {
    throw new ConfigurationError(
      `GridFS download: the range [${start}, ${end}) is past the end of file ${show(file._id)} (${length} bytes)`,
    );
  }
  const chunks = length === 0 ? 0 : Math.ceil(length / chunkSize);
  const first = start === end ? 0 : Math.floor(start / chunkSize);
  const last = start === end ? -1 : Math.ceil(end / chunkSize) - 1;
  return { file, id: file._id, length, chunkSize, chunks, start, end, first, last };
}

async function pull(state: DownloadState, controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
  try {
    if (state.done) return;
    if (state.plan === undefined) {
      const plan = makePlan(await state.lookup(() => opOptions(state)), state.options);
      state.plan = plan;
      state.next = plan.first;
      if (plan.last < plan.first) {
        await finish(state);
        controller.close();
        return;
      }
      const filter: Document = { files_id: plan.id };
      if (plan.first > 0) filter.n = { $gte: plan.first };
      state.cursor = state.chunks.find(filter, { sort: { n: 1 }, ...opOptions(state) });
    }
    const plan = state.plan;
    const cursor = state.cursor as Cursor<Document>;
    if (state.next > plan.last) {
      // Reading to the end of the file: one more chunk would be one too many.
      if (plan.end === plan.length) {
        const extra = await cursor.next({ signal: state.options.signal });
        if (extra !== null) throw extraChunk(plan, extra.n);
      }
      await finish(state);
      controller.close();
      return;
    }
    const doc = await cursor.next({ signal: state.options.signal });
    controller.enqueue(checkChunk(plan, state.next, doc));
    state.next++;
  } catch (e) {
    await finish(state);
    throw e;
  }
}

function extraChunk(plan: Plan, n: unknown): ExtraChunkError {
  const k = typeof n === "number" ? n : Number(n);
  return new ExtraChunkError(
    `GridFS file ${show(plan.id)} has ${plan.chunks} chunk(s) (length ${plan.length}, chunkSize ${plan.chunkSize}) ` +
      `but the chunks collection also holds chunk ${show(n)}; delete the file and upload it again`,
    { id: plan.id, n: k },
  );
}

/** The bytes of chunk `n` within the range, after checking it is chunk `n` and of the right size. */
function checkChunk(plan: Plan, n: number, doc: Document | null): Uint8Array {
  const missing = () =>
    new ChunkIsMissingError(
      `GridFS file ${show(plan.id)} is missing chunk ${n} of ${plan.chunks}; the file is incomplete (being deleted, or corrupt)`,
      { id: plan.id, n },
    );
  if (doc === null) throw missing();
  const got = typeof doc.n === "bigint" ? Number(doc.n) : doc.n;
  if (got !== n) {
    // A later chunk came first: chunk n is missing. An earlier one (a duplicate) or a non-number `n` is one too many.
    if (typeof got === "number" && got > n) throw missing();
    throw extraChunk(plan, doc.n);
  }
  if (!(doc.data instanceof Binary)) {
    throw new GridFSError(`chunk ${n} of GridFS file ${show(plan.id)} has no binary data (data is ${show(doc.data)})`);
  }
  const data = doc.data.buffer;
  const expected = n === plan.chunks - 1 ? plan.length - n * plan.chunkSize : plan.chunkSize;
  if (data.length !== expected) {
    throw new ChunkIsWrongSizeError(
      `chunk ${n} of GridFS file ${show(plan.id)} has ${data.length} bytes, expected ${expected}; the file is corrupt`,
      { id: plan.id, n, expected, actual: data.length },
    );
  }
  const from = n === plan.first ? plan.start - n * plan.chunkSize : 0;
  const to = n === plan.last ? plan.end - n * plan.chunkSize : data.length;
  return from === 0 && to === data.length ? data : data.subarray(from, to);
}
