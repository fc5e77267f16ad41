/**
 * `guard(p, what)`: `p`, or a rejection naming `what` if it has not settled
 * within `ms` (default 60 s). A test that would otherwise hang fails with a
 * message saying where it stalled; it never asserts a duration.
 */
export async function guard<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, stall]);
  } finally {
    clearTimeout(timer);
  }
}
