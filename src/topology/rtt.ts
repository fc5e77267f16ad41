/**
 * Round-trip-time averaging for server monitoring.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** Weight of the newest sample in the moving average (the server-selection spec's alpha). */
const ALPHA = 0.2;

/**
 * Folds a new round-trip-time sample into a server's average, as the
 * server-selection specification defines it: an exponentially weighted moving
 * average with alpha 0.2, where the first sample becomes the average.
 *
 * @param previous The current average in ms, or `null` before the first sample.
 * @param sample The round-trip time just measured, in ms (finite, >= 0).
 * @returns The new average in ms.
 * @throws {ConfigurationError} When `previous` or `sample` is negative, NaN or infinite.
 *
 * @example
 * ```ts
 * import { updateRoundTripTime } from "./rtt.ts";
 *
 * let avg = updateRoundTripTime(null, 10); // 10
 * avg = updateRoundTripTime(avg, 20);      // 0.2 * 20 + 0.8 * 10 = 12
 * console.log(avg);
 * ```
 */
export function updateRoundTripTime(previous: number | null, sample: number): number {
  if (typeof sample !== "number" || !Number.isFinite(sample) || sample < 0) {
    throw new ConfigurationError(`round-trip time sample must be a finite number >= 0, got ${String(sample)}`);
  }
  if (previous === null || previous === undefined) return sample;
  if (typeof previous !== "number" || !Number.isFinite(previous) || previous < 0) {
    throw new ConfigurationError(
      `previous round-trip time must be null or a finite number >= 0, got ${String(previous)}`,
    );
  }
  return ALPHA * sample + (1 - ALPHA) * previous;
}
