/**
 * `assertNumberConnectionsCheckedOut` of the unified test format: how many
 * connections a client entity has checked out of its pools right now, counted
 * from its CMAP events (`connectionCheckedOut` minus `connectionCheckedIn`),
 * followed from the client's creation whatever it observes.
 */
const counts = new WeakMap<object, { out: number }>();

/** Starts counting a client's checked-out connections; call it before the client starts. */
export function trackCheckouts(client: EventTarget): void {
  const c = { out: 0 };
  counts.set(client, c);
  client.addEventListener("connectionCheckedOut", () => c.out++);
  client.addEventListener("connectionCheckedIn", () => c.out--);
}

/** The client's connections checked out now, or undefined when it was not tracked. */
export function checkedOutConnections(client: EventTarget): number | undefined {
  return counts.get(client)?.out;
}
