// The source tree's rules, checked on the import statements themselves:
// zero runtime dependencies, data flowing down the layers
// (client -> topology -> net -> wire -> bson, errors.ts at the bottom), and a
// root module that evaluates no network code when it is imported.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname ?? ".", "..");

interface Edge {
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** Resolved path relative to ROOT (relative specifiers only). */
  to: string | null;
  typeOnly: boolean;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Import and re-export edges of one file; statements start a line, so JSDoc examples (` * import`) are not read. */
function edges(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const out: Edge[] = [];
  const add = (specifier: string, typeOnly: boolean, dynamic: boolean) => {
    const to = specifier.startsWith(".") ? relative(ROOT, resolve(dirname(file), specifier)) : null;
    out.push({ from: relative(ROOT, file), specifier, to, typeOnly, dynamic });
  };
  for (
    const m of text.matchAll(
      /^(import|export)\s+(type\s+)?(\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s*from\s*"([^"]+)"/gm,
    )
  ) {
    const names = /\{([^}]*)\}/.exec(m[3]);
    const allTyped = names !== null && !/^\s*\w+\s*,/.test(m[3]) &&
      names[1].split(",").map((s) => s.trim()).filter((s) => s !== "").every((s) => s.startsWith("type "));
    add(m[4], m[2] !== undefined || allTyped, false);
  }
  for (const m of text.matchAll(/^import\s*"([^"]+)"/gm)) add(m[1], false, false);
  for (const line of text.split("\n")) {
    if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue;
    for (const m of line.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) add(m[1], false, true);
  }
  return out;
}

/**
 * The only non-relative specifiers allowed under mod.ts: each adapter's platform modules, imported
 * dynamically inside the function that runs on that platform, so other runtimes never load them.
 */
const RUNTIME_MODULES: Record<string, string[]> = {
  "src/net/socket_node.ts": ["node:fs/promises", "node:net", "node:tls"],
  "src/net/socket_cloudflare.ts": ["cloudflare:sockets"],
  "src/net/dns.ts": ["node:dns"],
  "src/net/_dns_txt_udp.ts": ["node:dgram"],
  "src/testing/listener.ts": ["node:net"],
};

const files = [join(ROOT, "mod.ts"), ...sourceFiles(join(ROOT, "src"))];
const everything = files.flatMap(edges);
/** Edges between source files (the runtime adapters' platform modules are checked on their own). */
const all = everything.filter((e) => e.to !== null || !(e.dynamic && RUNTIME_MODULES[e.from]?.includes(e.specifier)));

/** Files evaluated when `entry` is imported: value imports, followed; type-only and dynamic ones are not. */
function evaluatedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const e of all) if (e.from === file && !e.typeOnly && !e.dynamic && e.to !== null) visit(e.to);
  };
  visit(entry);
  return seen;
}

/**
 * The bottom layer: one file per concept every layer shares (the error
 * classes, how messages name values, server addresses, server error codes).
 */
const BOTTOM = ["src/errors.ts", "src/describe.ts", "src/address.ts", "src/error_codes.ts"];
const LAYERS = ["src/bson/", "src/wire/", "src/net/", "src/topology/", "src/client/"];
const rank = (path: string) =>
  BOTTOM.includes(path) ? 0 : 1 + LAYERS.findIndex((l) => path === l || path.startsWith(l));

describe("source layout", () => {
  test("the parser sees the tree (sanity: files and edges were found)", () => {
    assert.ok(files.length > 50, `${files.length} source files`);
    assert.ok(all.length > 200, `${all.length} import edges`);
    assert.ok(
      all.some((e) => e.typeOnly) && all.some((e) => e.dynamic),
      "type-only and dynamic imports are recognised",
    );
  });

  test("zero runtime dependencies: every written import specifier is relative, but a runtime adapter's own", () => {
    const foreign = all.filter((e) => e.to === null).map((e) => `${e.from}: ${e.specifier}`);
    assert.deepEqual(foreign, [], "npm:, jsr:, node: and URL specifiers are not allowed under mod.ts");
    for (const e of all) assert.ok(e.to!.endsWith(".ts"), `${e.from} imports ${e.specifier} with its extension`);
  });

  test("the runtime adapters load their platform's modules by a literal dynamic import, so JSR sees them", () => {
    for (const [file, specifiers] of Object.entries(RUNTIME_MODULES)) {
      const found = everything.filter((e) => e.from === file && e.to === null).map((e) => e.specifier);
      const distinct = [...new Set(found)];
      assert.deepEqual(distinct.sort(), [...specifiers].sort(), file);
    }
  });

  test("data flows down: no layer imports one above it, types included", () => {
    const upward = all.filter((e) => {
      if (e.from === "mod.ts") return false;
      if (e.from.startsWith("src/testing/")) return false; // checked below
      if (e.to!.startsWith("src/testing/")) return true;
      return rank(e.to!) > rank(e.from);
    }).map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(upward, []);
  });

  test("the bottom layer imports only itself, and errors.ts nothing", () => {
    const bad = all.filter((e) => BOTTOM.includes(e.from) && !BOTTOM.includes(e.to!))
      .map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(bad, []);
    assert.deepEqual(all.filter((e) => e.from === "src/errors.ts").map((e) => e.to), []);
  });

  test("the simulator (src/testing) uses only the bottom layer, bson and wire: no client or socket code", () => {
    const bad = all.filter((e) => e.from.startsWith("src/testing/") && !e.to!.startsWith("src/testing/"))
      .filter((e) => !(rank(e.to!) >= 0 && rank(e.to!) <= 2))
      .map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(bad, []);
  });

  test("importing mod.ts evaluates no network code; the client loads it by a dynamic import", () => {
    const loaded = evaluatedBy("mod.ts");
    assert.ok(loaded.has("src/client/client_base.ts") && loaded.has("src/bson/encode.ts"), "the walk follows mod.ts");
    const network = [...loaded].filter((f) =>
      f.startsWith("src/net/") || f.startsWith("src/wire/") || f.startsWith("src/testing/") ||
      ["src/topology/topology.ts", "src/topology/monitor.ts", "src/topology/server.ts"].includes(f)
    );
    assert.deepEqual(network, [], "these load at a client's first connect or operation");
    const lazy = all.filter((e) => e.dynamic && e.to === "src/topology/topology.ts").map((e) => e.from);
    assert.deepEqual(lazy, ["src/client/client_base.ts"]);
    // ...and the dynamic import brings in the rest.
    const live = evaluatedBy("src/topology/topology.ts");
    assert.ok(live.has("src/net/connection.ts") && live.has("src/wire/op_msg.ts"));
  });

  test("importing mod.ts evaluates none of the operations that load on first use (cold start, issue 15)", () => {
    const loaded = evaluatedBy("mod.ts");
    const deferred = [
      "src/client/writes.ts",
      "src/client/bulk_write.ts",
      "src/client/find_and_modify.ts",
      "src/client/distinct.ts",
      "src/client/client_bulk_write.ts",
      "src/client/with_transaction.ts",
      "src/client/_transaction_command.ts",
    ];
    assert.deepEqual(deferred.filter((f) => loaded.has(f)), [], "a static import brought these back into the cold start");
    for (const f of deferred) assert.ok(all.some((e) => e.dynamic && e.to === f), `${f} is still loaded on first use`);
    // The error class a bulk write throws stays importable at once (and instanceof works across the split).
    assert.ok(loaded.has("src/client/client_bulk_write_error.ts"));
  });

  test("the ./bson entry evaluates only the codec and the error classes", () => {
    const outside = [...evaluatedBy("src/bson/mod.ts")].filter((f) =>
      !f.startsWith("src/bson/") && f !== "src/errors.ts"
    );
    assert.deepEqual(outside, []);
  });
});
