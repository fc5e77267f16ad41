/**
 * Timers that never keep the process alive (unref'd where the runtime can)
 * and that one `clearAll()` cancels, so a closed replica set leaves nothing
 * scheduled behind.
 *
 * @module
 */

type Id = ReturnType<typeof setTimeout>;

function unref(id: Id): void {
  const g = globalThis as { Deno?: { unrefTimer?(id: number): void } };
  if (typeof id === "number") {
    g.Deno?.unrefTimer?.(id);
    return;
  }
  (id as { unref?(): void }).unref?.();
}

/** A group of timers cancelled together. */
export class Timers {
  #ids = new Set<Id>();
  #sleepers = new Set<() => void>();
  #closed = false;

  /** Runs `fn` once after `ms` unless cleared first; returns its id. */
  set(fn: () => void, ms: number): Id | undefined {
    if (this.#closed) return undefined;
    const id = setTimeout(() => {
      this.#ids.delete(id);
      fn();
    }, Math.max(0, ms));
    unref(id);
    this.#ids.add(id);
    return id;
  }

  /** Cancels one timer. */
  clear(id: Id | undefined): void {
    if (id === undefined) return;
    clearTimeout(id);
    this.#ids.delete(id);
  }

  /** Resolves after `ms`, or at once when `clearAll()` runs. */
  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#sleepers.delete(done);
        this.clear(id);
        resolve();
      };
      const id = this.set(done, ms);
      this.#sleepers.add(done);
    });
  }

  /** Resolves when `promise` settles or after `ms`, whichever is first, and cancels the timer. */
  async race(promise: Promise<unknown>, ms: number): Promise<void> {
    if (this.#closed) return;
    let wake!: () => void;
    const timeout = new Promise<void>((resolve) => (wake = resolve));
    const id = this.set(wake, ms);
    this.#sleepers.add(wake);
    try {
      await Promise.race([promise, timeout]);
    } finally {
      this.#sleepers.delete(wake);
      this.clear(id);
    }
  }

  /** Cancels everything; later `set()` calls do nothing and `sleep()` resolves at once. */
  clearAll(): void {
    this.#closed = true;
    for (const id of this.#ids) clearTimeout(id);
    this.#ids.clear();
    for (const wake of [...this.#sleepers]) wake();
  }
}
