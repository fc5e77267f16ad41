/**
 * A client entity's topology description as the unified format's
 * `recordTopologyDescription` keeps it, followed from the client's
 * `topologyDescriptionChanged` events.
 */
import type { ClientBase } from "../../../src/client/mod.ts";
import type { TopologyDescription } from "../../../src/topology/topology_description.ts";

/** A recorded topology description entity: its type and its primary, if any. */
export interface TopologySnapshot {
  readonly type: string;
  readonly primary: string | null;
}

const current = new WeakMap<object, TopologySnapshot>();

function snapshot(td: TopologyDescription): TopologySnapshot {
  let primary: string | null = null;
  for (const [address, sd] of td.servers) {
    if (sd.type === "RSPrimary") primary = address;
  }
  return { type: td.type, primary };
}

/** Follows a client's topology description from its events; call it before the client starts. */
export function trackTopology(client: ClientBase): void {
  client.addEventListener("topologyDescriptionChanged", (e) => {
    current.set(
      client,
      snapshot(
        (e as unknown as { newDescription: TopologyDescription })
          .newDescription,
      ),
    );
  });
}

/** The client's description as of its last `topologyDescriptionChanged` (Unknown before the first). */
export function currentTopology(client: ClientBase): TopologySnapshot {
  return current.get(client) ?? { type: "Unknown", primary: null };
}
