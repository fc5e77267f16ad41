/**
 * The one deadline of a GridFS method or stream (the client-side operations
 * timeout specification's GridFS rules): `timeoutMS` caps the whole method
 * or the stream's whole lifetime, so each command it sends gets what is left.
 *
 * @module
 */

import { OperationTimeoutError } from "../errors.ts";

/** The options a command of a GridFS method gets from its deadline: `timeoutMS` left, or nothing without one. */
export type DeadlineOptions = { timeoutMS?: number };

/**
 * A deadline of `timeoutMS` from now (`undefined`: none, each command keeps
 * its own; 0: no limit). Each call returns the options of the next command,
 * or throws an `OperationTimeoutError` (phase `"gridfs"`) once it has passed.
 */
export function gridFSDeadline(timeoutMS: number | undefined, what: string): () => DeadlineOptions {
  if (timeoutMS === undefined) return () => ({});
  if (timeoutMS === 0) return () => ({ timeoutMS: 0 });
  const end = performance.now() + timeoutMS;
  return () => {
    const left = Math.floor(end - performance.now());
    if (left < 1) {
      throw new OperationTimeoutError(`${what}: timeoutMS (${timeoutMS} ms) expired`, { timeoutMS, phase: "gridfs" });
    }
    return { timeoutMS: left };
  };
}
