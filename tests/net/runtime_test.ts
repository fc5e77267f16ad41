// Which socket adapter a runtime gets, judged from its globals, and the
// ConfigurationError of a runtime with none (a browser page) at the first
// operation, not a TypeError deep inside nor a server-selection timeout.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { detectSocketRuntime, unsupportedRuntime } from "../../src/net/_runtime.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { runChild } from "../helpers/run_child.ts";

const child = fileURLToPath(new URL("./fixtures/no_socket_api_child.ts", import.meta.url));
const isBun = (globalThis as { Bun?: unknown }).Bun !== undefined;

describe("socket runtime detection", () => {
  test("each runtime's globals pick its adapter; Deno and Bun win over their process shim", () => {
    const node = { process: { versions: { node: "24.21.0" } } };
    assert.equal(detectSocketRuntime({ Deno: {}, ...node }), "deno");
    assert.equal(detectSocketRuntime({ Bun: {}, ...node }), "bun");
    assert.equal(detectSocketRuntime(node), "node");
    assert.equal(detectSocketRuntime({ navigator: { userAgent: "Cloudflare-Workers" } }), "workers");
    // workerd with nodejs_compat has a process global too: still Workers.
    assert.equal(detectSocketRuntime({ navigator: { userAgent: "Cloudflare-Workers" }, ...node }), "workers");
  });

  test("a browser page, or no globals at all, has no socket runtime", () => {
    assert.equal(detectSocketRuntime({ navigator: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0" } }), undefined);
    assert.equal(detectSocketRuntime({}), undefined);
    assert.equal(detectSocketRuntime({ process: { versions: {} } }), undefined);
  });

  test("this runtime is recognised", () => {
    assert.notEqual(detectSocketRuntime(globalThis), undefined);
  });

  test("the error names every supported runtime", () => {
    const error = unsupportedRuntime();
    assert.ok(error instanceof ConfigurationError);
    for (const name of ["Deno", "Bun", "Node.js", "Cloudflare Workers"]) assert.match(error.message, new RegExp(name));
  });

  test(
    "with the runtime's globals removed, the first operation rejects with that ConfigurationError and nothing is left running",
    { skip: isBun ? "Bun's global cannot be deleted, so Bun cannot pose as a runtime without sockets" : false },
    async () => {
      const r = await runChild(child, { guardMS: 60_000 });
      assert.equal(r.signal, null, `child was killed: an open handle kept it alive\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.code, 0, `child failed\n${r.stdout}\n${r.stderr}`);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.at(-1), "done");
      const result = JSON.parse(lines[0]) as { name: string; message: string; configurationError: boolean };
      assert.equal(result.name, "ConfigurationError", r.stdout);
      assert.ok(result.configurationError);
      assert.match(result.message, /no TCP socket API/);
      assert.match(result.message, /Cloudflare Workers/);
    },
  );
});
