// Loaded by tests/run.mjs before Deno runs the suite (`deno test --preload`).
// It gives Deno's node:test what Bun's runner has and Deno's lacks:
//
// - Honest skips. Deno's node:test reports a test that called `t.skip()` as
//   passed, and its JUnit report has no <skipped/> for it. Here `t.skip()`
//   prints `SKIP <full name>: <reason>` and, when ZERODEP_TEST_SKIP_LOG names a
//   file, appends `{"name", "reason"}` to it as one JSON line; tests/run.mjs
//   counts those tests as skipped.
// - A per-test timeout. With ZERODEP_TEST_TIMEOUT_MS set, a test (or a
//   describe() group with no child running) that goes that long without
//   finishing fails with a message naming it, and the run goes on, like Bun's
//   `--timeout`.
//
// Run a file without tests/run.mjs and none of this applies.
// deno-lint-ignore-file no-explicit-any
import { appendFileSync } from "node:fs";
import * as nodeTest from "node:test";

const skipLog = Deno.env.get("ZERODEP_TEST_SKIP_LOG");
const timeoutMS = Number(Deno.env.get("ZERODEP_TEST_TIMEOUT_MS") ?? "0");

/** Finds the prototype of Deno's node:test TestContext by registering a probe test that Deno never sees. */
async function testContextPrototype(): Promise<any> {
  const denoTest = Deno.test;
  let definition: any;
  let proto: any;
  (Deno as any).test = (d: any) => (definition = d);
  try {
    nodeTest.test("zerodep preload probe", (t) => {
      proto = Object.getPrototypeOf(t);
    });
  } finally {
    (Deno as any).test = denoTest;
  }
  if (typeof definition?.fn !== "function") return undefined;
  await definition.fn({ name: "zerodep preload probe", origin: "", step: () => Promise.resolve(true) });
  return proto;
}

const proto = await testContextPrototype();
if (typeof proto?.skip !== "function") {
  // The count would be wrong without this hook: fail loudly rather than report skips as passes.
  throw new Error("tests/helpers/deno_preload.ts: cannot find node:test's TestContext.skip in this Deno; update the preload");
}
const skip = proto.skip;
proto.skip = function (this: any, reason?: string) {
  const name = String(this.fullName ?? this.name);
  const why = reason === undefined ? "no reason given" : String(reason);
  console.log(`SKIP ${name}: ${why}`);
  if (skipLog) appendFileSync(skipLog, JSON.stringify({ name, reason: why }) + "\n");
  return skip.call(this, reason);
};

/**
 * Wraps a Deno test or step function so that it fails after `timeoutMS`
 * without progress. The clock stops while a child step runs, so a group is
 * never failed for the time its tests take; each test has its own clock.
 */
function guarded(name: string, fn: (ctx: any) => unknown): (ctx: any) => Promise<unknown> {
  return async (ctx: any) => {
    const where = String(ctx.origin ?? "unknown module");
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = 0;
    let fail!: (e: Error) => void;
    const timedOut = new Promise<never>((_, reject) => (fail = reject));
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(new Error(`${where}: "${name}" timed out after ${timeoutMS} ms (ZERODEP_TEST_TIMEOUT_MS)`)),
        timeoutMS,
      );
    };
    const step = ctx.step.bind(ctx);
    ctx.step = (definition: any, ...rest: any[]) => {
      if (definition === null || typeof definition !== "object" || typeof definition.fn !== "function") {
        return step(definition, ...rest);
      }
      running += 1;
      clearTimeout(timer);
      return step({ ...definition, fn: guarded(`${name} > ${definition.name}`, definition.fn) }).finally(() => {
        running -= 1;
        if (running === 0) arm();
      });
    };
    arm();
    try {
      return await Promise.race([fn(ctx), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}

if (timeoutMS > 0) {
  const denoTest = Deno.test;
  (Deno as any).test = function (this: unknown, definition: any, ...rest: any[]) {
    if (definition !== null && typeof definition === "object" && typeof definition.fn === "function") {
      return (denoTest as any).call(this, { ...definition, fn: guarded(String(definition.name), definition.fn) });
    }
    return (denoTest as any).call(this, definition, ...rest);
  };
}
