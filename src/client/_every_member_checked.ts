// What ReplicaSetConnection.connect() waits for after selection (issue 11,
// item 5): every member of the discovered host list has answered once or
// failed, so hosts, primary and secondaries are complete, as PyMongo 2.1's
// connect was. Not part of the public API.

import type { TopologyLike } from "./_internal.ts";

/** Whether a member has answered a check, or failed one. */
function checked(sd: { readonly type: string; readonly error: string | null }): boolean {
  return sd.type !== "Unknown" || sd.error !== null;
}

/**
 * Resolves once every member the topology knows of has been checked (see
 * `checked`), or after `limitMS`; rejects with `signal.reason` when aborted.
 */
export function everyMemberChecked(topology: TopologyLike, limitMS: number, signal: AbortSignal | undefined): Promise<void> {
  const done = () => [...topology.description.servers.values()].every(checked);
  if (done() || topology.onDescriptionChanged === undefined) return Promise.resolve();
  signal?.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      off();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal!.reason);
    const timer = setTimeout(() => finish(), limitMS);
    const off = topology.onDescriptionChanged!(() => {
      if (done() || topology.isClosed) finish();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
