// A ReplicaSetConnection on the fake topology (_fake_topology.ts), for the
// application API's unit tests: the client, collection test.people, and the
// set's servers and command log.
import { type ClientConnectionOptions, ReplicaSetConnection } from "../../mod.ts";
import { fakeSet, type Handler, okHandler, TOPOLOGY_FACTORY } from "./_fake_topology.ts";

export function setup(handler: Handler = okHandler, options: ClientConnectionOptions = {}, wire = 17) {
  const set = fakeSet(handler, { wire });
  const client = new ReplicaSetConnection(
    "a:27017",
    {
      replicaSet: "foo",
      ...options,
      [TOPOLOGY_FACTORY]: set.topology.factory(),
    } as ClientConnectionOptions,
  );
  return { client, coll: client.db("test").collection("people"), ...set };
}
