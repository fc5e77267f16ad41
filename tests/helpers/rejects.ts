// One assertion the socket, pool, connection, topology and peer tests share:
// a promise rejects with an error of a given class, optionally checked further.
import assert from "node:assert/strict";

/**
 * Awaits `promise` and asserts that it rejects with an instance of `type`;
 * `check` is a pattern its message must match, or a function that asserts
 * more. Returns the error, typed, for further assertions.
 */
export async function rejectsWith<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  check?: RegExp | ((error: E) => void),
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${(error as Error)?.constructor?.name ?? typeof error}: ${String(error)}`,
    );
    if (check instanceof RegExp) assert.match(error.message, check);
    else check?.(error);
    return error;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}
