// Node runs the sources as they are, by type stripping: only erasable
// TypeScript under mod.ts and src/ (no enums, namespaces, parameter
// properties, `import x = require()`...). On Node every file goes through
// Node's own stripper and is then imported; on Deno the type-check step
// enforces the same rule (deno.json: erasableSyntaxOnly, verbatimModuleSyntax).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const onNode = g.Deno === undefined && g.Bun === undefined;
const skip = onNode ? false : "Node's type stripping runs only on Node (Deno's check uses erasableSyntaxOnly)";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

const files = [join(ROOT, "mod.ts"), ...sourceFiles(join(ROOT, "src"))];

describe("the sources run on Node by type stripping", () => {
  test("deno.json keeps the type check to erasable syntax", () => {
    const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    assert.equal(config.compilerOptions?.erasableSyntaxOnly, true);
    assert.equal(config.compilerOptions?.verbatimModuleSyntax, true);
  });

  test("every file under mod.ts and src/ is erasable TypeScript (node:module stripTypeScriptTypes)", { skip }, async () => {
    const { stripTypeScriptTypes } = await import("node:module") as unknown as {
      stripTypeScriptTypes(code: string, options: { mode: "strip"; sourceUrl: string }): string;
    };
    assert.equal(typeof stripTypeScriptTypes, "function", "Node 22.13 or later has stripTypeScriptTypes");
    assert.ok(files.length > 50, `${files.length} source files`);
    const refused: string[] = [];
    for (const file of files) {
      try {
        stripTypeScriptTypes(readFileSync(file, "utf8"), { mode: "strip", sourceUrl: file });
      } catch (error) {
        refused.push(`${relative(ROOT, file)}: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    assert.deepEqual(refused, []);
  });

  test("every file under mod.ts and src/ imports on Node", { skip }, async () => {
    const failed: string[] = [];
    for (const file of files) {
      try {
        await import(pathToFileURL(file).href);
      } catch (error) {
        failed.push(`${relative(ROOT, file)}: ${(error as Error).message.split("\n")[0]}`);
      }
    }
    assert.deepEqual(failed, []);
  });
});
