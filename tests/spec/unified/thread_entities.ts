/**
 * Thread entities of the unified test format: `runOnThread` schedules an
 * operation on a thread (operations of one thread run in order, threads run
 * concurrently), `waitForThread` waits for its last operation and fails the
 * test with the first assertion that failed on it (`sdam_operations.ts`).
 */
/** How long `waitForThread` waits before failing the test (the format's 10 seconds). */
const WAIT_FOR_THREAD_MS = 10_000;

/** One thread entity: a queue of operations and the errors they ended with. */
export class ThreadEntity {
  #tail: Promise<void> = Promise.resolve();
  #errors: unknown[] = [];

  /** Schedules `task` after the thread's earlier operations; never rejects. */
  schedule(task: () => Promise<void>): void {
    this.#tail = this.#tail.then(task).catch((e) => {
      this.#errors.push(e);
    });
  }

  /** Waits (bounded) for the thread's operations, then throws the first error one of them ended with. */
  async join(id: string, timeoutMS = WAIT_FOR_THREAD_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), timeoutMS);
    });
    try {
      const late = await Promise.race([this.#tail.then(() => false), timedOut]);
      if (late) {
        throw new Error(
          `waitForThread: thread ${id} still runs after ${timeoutMS} ms`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
    if (this.#errors.length > 0) {
      const [first] = this.#errors;
      this.#errors = [];
      throw first;
    }
  }

  /** Waits for whatever is still running, ignoring its outcome (when the test ends). */
  async settle(): Promise<void> {
    await this.#tail;
  }
}
