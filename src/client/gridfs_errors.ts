/**
 * The errors of {@linkcode GridFSBucket}: a stored file that cannot be found,
 * and chunks that do not fit the files collection document (missing, of the
 * wrong size, or more than its length needs). They live beside GridFS rather
 * than in `src/errors.ts` because only the bucket throws them; all extend
 * {@linkcode MongoError}.
 *
 * @module
 */

import { MongoError } from "../errors.ts";

/**
 * The base class of the errors GridFS raises about stored files: catch it to
 * handle every one of them.
 *
 * @example
 * ```ts
 * import { FileNotFoundError, GridFSError } from "@zerodep/mongo";
 *
 * const e = new FileNotFoundError("no file with id 1 in bucket fs", { id: 1 });
 * console.log(e instanceof GridFSError); // true
 * ```
 */
export class GridFSError extends MongoError {}

/**
 * No files collection document has the id (or the filename) asked for: the
 * file never existed, was deleted, or is being deleted. `id` or `filename`
 * says what was looked for.
 *
 * @example
 * ```ts ignore
 * import { FileNotFoundError } from "@zerodep/mongo";
 *
 * try {
 *   await bucket.download(id);
 * } catch (e) {
 *   if (e instanceof FileNotFoundError) console.log("no such file", e.id);
 * }
 * ```
 */
export class FileNotFoundError extends GridFSError {
  /** The file id looked for, when the lookup was by id. */
  readonly id: unknown;
  /** The filename looked for, when the lookup was by name. */
  readonly filename: string | undefined;
  /** Creates the error; `options.id` or `options.filename` names what was missing. */
  constructor(message: string, options: ErrorOptions & { id?: unknown; filename?: string } = {}) {
    super(message, options);
    this.id = options.id;
    this.filename = options.filename;
  }
}

/**
 * Files with the filename exist, but not the revision asked for (e.g.
 * revision 3 of a file stored twice).
 *
 * @example
 * ```ts ignore
 * import { RevisionNotFoundError } from "@zerodep/mongo";
 *
 * try {
 *   await bucket.downloadByName("report.pdf", { revision: 5 });
 * } catch (e) {
 *   if (e instanceof RevisionNotFoundError) console.log(e.filename, e.revision);
 * }
 * ```
 */
export class RevisionNotFoundError extends GridFSError {
  /** The filename. */
  readonly filename: string;
  /** The revision asked for (0 = oldest, -1 = newest). */
  readonly revision: number;
  /** Creates the error for `filename` and `revision`. */
  constructor(message: string, options: ErrorOptions & { filename: string; revision: number }) {
    super(message, options);
    this.filename = options.filename;
    this.revision = options.revision;
  }
}

/**
 * A download found the chunks of a file out of order or incomplete: chunk
 * `n` was expected next and the chunks collection did not return it.
 *
 * @example
 * ```ts
 * import { ChunkIsMissingError } from "@zerodep/mongo";
 *
 * const e = new ChunkIsMissingError("chunk 1 of file 7 is missing", { id: 7, n: 1 });
 * console.log(e.n); // 1
 * ```
 */
export class ChunkIsMissingError extends GridFSError {
  /** The file id. */
  readonly id: unknown;
  /** The chunk number that was expected. */
  readonly n: number;
  /** Creates the error for chunk `n` of file `id`. */
  constructor(message: string, options: ErrorOptions & { id: unknown; n: number }) {
    super(message, options);
    this.id = options.id;
    this.n = options.n;
  }
}

/**
 * A chunk's `data` is not as long as the file's `length` and `chunkSize`
 * say it must be (every chunk but the last is exactly `chunkSize` bytes).
 *
 * @example
 * ```ts
 * import { ChunkIsWrongSizeError } from "@zerodep/mongo";
 *
 * const e = new ChunkIsWrongSizeError("chunk 0 has 3 bytes, expected 4", { id: 7, n: 0, expected: 4, actual: 3 });
 * console.log(e.expected - e.actual); // 1
 * ```
 */
export class ChunkIsWrongSizeError extends GridFSError {
  /** The file id. */
  readonly id: unknown;
  /** The chunk number. */
  readonly n: number;
  /** The size the chunk must have. */
  readonly expected: number;
  /** The size it has. */
  readonly actual: number;
  /** Creates the error for chunk `n` of file `id`. */
  constructor(message: string, options: ErrorOptions & { id: unknown; n: number; expected: number; actual: number }) {
    super(message, options);
    this.id = options.id;
    this.n = options.n;
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/**
 * The chunks collection holds a chunk past the end the file's `length`
 * implies (chunk `n` of a file that needs fewer chunks).
 *
 * @example
 * ```ts
 * import { ExtraChunkError } from "@zerodep/mongo";
 *
 * const e = new ExtraChunkError("file 7 has an extra chunk 3", { id: 7, n: 3 });
 * console.log(e.n); // 3
 * ```
 */
export class ExtraChunkError extends GridFSError {
  /** The file id. */
  readonly id: unknown;
  /** The number of the chunk that should not exist. */
  readonly n: number;
  /** Creates the error for chunk `n` of file `id`. */
  constructor(message: string, options: ErrorOptions & { id: unknown; n: number }) {
    super(message, options);
    this.id = options.id;
    this.n = options.n;
  }
}
