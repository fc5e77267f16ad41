// serverMonitoringMode "auto" streams except on a FaaS platform, which the
// handshake specification recognises by its environment variables. Deno reads
// them through Deno.env (touching `process` there loads Node compatibility,
// about 10 ms of a cold start: issue 15), the other runtimes through process.env.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Monitor, unknownServerDescription } from "../../src/topology/mod.ts";

const g = globalThis as {
  Deno?: { env: { set(k: string, v: string): void; delete(k: string): void } };
  process?: { env: Record<string, string | undefined> };
};
function setEnv(name: string, value: string | undefined): void {
  if (g.Deno !== undefined) {
    if (value === undefined) g.Deno.env.delete(name);
    else g.Deno.env.set(name, value);
  } else if (value === undefined) delete g.process!.env[name];
  else g.process!.env[name] = value;
}

const autoMonitor = () =>
  new Monitor("localhost:27017", {
    heartbeatFrequencyMS: 10_000,
    connectTimeoutMS: 1_000,
    serverMonitoringMode: "auto",
    description: () => unknownServerDescription("localhost:27017"),
    onCheck: () => {},
  });

describe("serverMonitoringMode auto on FaaS platforms", () => {
  for (const [name, value] of [["K_SERVICE", "svc"], ["AWS_EXECUTION_ENV", "AWS_Lambda_nodejs20.x"], ["VERCEL", "1"]]) {
    test(`${name}=${value}: polls`, () => {
      setEnv(name, value);
      try {
        assert.equal(autoMonitor().streaming, false);
      } finally {
        setEnv(name, undefined);
      }
    });
  }

  test("AWS_EXECUTION_ENV not of Lambda, and no FaaS variable: streams", () => {
    setEnv("AWS_EXECUTION_ENV", "AWS_ECS_FARGATE");
    try {
      assert.equal(autoMonitor().streaming, true);
    } finally {
      setEnv("AWS_EXECUTION_ENV", undefined);
    }
  });
});
