// How the unified runner picks a test's deployment (server_versions.ts): the
// default replica set when it can, else the first topology offered and the
// first version where the requirements can hold, each started once.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { RunnerEnvironment } from "./runner.ts";
import { type TopologyName, VersionedEnvironments, wireVersionFor } from "./server_versions.ts";

function fakeEnv(topology: TopologyName, version: string): RunnerEnvironment {
  return {
    rs: { close: () => Promise.resolve() },
    internal: { close: () => Promise.resolve() } as unknown as RunnerEnvironment["internal"],
    deployment: { uri: "", primary: () => "", serverVersion: version, topology },
    parameters: new Map(),
  };
}

const VERSION_OF: Record<number, string> = { 21: "7.0.0", 25: "8.0.0", 27: "8.2.0", 17: "6.0.0", 8: "4.2.0" };

function environments(alternatives: ConstructorParameters<typeof VersionedEnvironments>[3]) {
  const started: string[] = [];
  const def = fakeEnv("replicaset", "7.0.0");
  const envs = new VersionedEnvironments(
    (wire, topology) => {
      started.push(`${topology}@${wire}`);
      return Promise.resolve(fakeEnv(topology, VERSION_OF[wire] ?? String(wire)));
    },
    () => def,
    false,
    alternatives,
  );
  return { envs, started, def };
}

describe("VersionedEnvironments: by topology and version", () => {
  test("the default set when it meets the requirements", async () => {
    const { envs, started, def } = environments({ versions: true, topologies: ["single"] });
    assert.equal(await envs.for(undefined, [{ topologies: ["single", "replicaset"] }]), def);
    assert.equal(await envs.for([{ minServerVersion: "4.0" }], undefined), def);
    assert.deepEqual(started, []);
  });

  test("a standalone for topology single, of the version the test needs, started once", async () => {
    const { envs, started } = environments({ versions: true, topologies: ["single"] });
    const file = [{ topologies: ["single", "sharded"] }];
    const a = await envs.for(file, [{ minServerVersion: "4.4.0" }]);
    assert.equal(a.deployment.topology, "single");
    assert.equal(a.deployment.serverVersion, "7.0.0");
    const old = await envs.for(file, [{ maxServerVersion: "4.2.99" }]);
    assert.equal(old.deployment.serverVersion, "4.2.0");
    assert.equal(await envs.for(file, undefined), a, "the same standalone again");
    assert.deepEqual(started, ["single@21", "single@8"]);
  });

  test("without versions only the default version is offered; an unavailable topology falls back to the default", async () => {
    const { envs, started, def } = environments({ topologies: ["single"] });
    assert.equal(await envs.for([{ topologies: ["single"], maxServerVersion: "4.2.99" }], undefined), def);
    assert.equal(await envs.for([{ topologies: ["sharded"] }], undefined), def);
    assert.deepEqual(started, []);
  });

  test("replica sets of other versions come before other topologies", async () => {
    const { envs, started } = environments({ versions: true, topologies: ["single"] });
    const env = await envs.for([{ minServerVersion: "8.0", topologies: ["single", "replicaset"] }], undefined);
    assert.equal(env.deployment.topology, "replicaset");
    assert.deepEqual(started, ["replicaset@25"]);
  });

  test("wireVersionFor takes the topology", () => {
    assert.equal(wireVersionFor([{ topologies: ["single"] }], undefined), undefined);
    assert.equal(wireVersionFor([{ topologies: ["single"] }], undefined, false, "single"), 21);
  });
});
