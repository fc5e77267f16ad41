// README.md's option list is generated from the option table
// (scripts/options_table.ts); this fails when the two have drifted apart.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  currentSection,
  END_MARKER,
  renderOptionsTable,
  renderSection,
  START_MARKER,
  updateReadme,
} from "../../scripts/options_table.ts";
import { OPTION_TABLE } from "../../src/topology/option_table.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README's option list", () => {
  test("matches the option table (regenerate with `npm run docs:options`)", () => {
    const section = currentSection(readme);
    assert.ok(section !== null, `README.md lacks the markers ${START_MARKER} ... ${END_MARKER}`);
    assert.equal(
      section,
      renderSection(),
      "README.md's options section differs from the option table: run `npm run docs:options` and commit README.md",
    );
  });

  test("the generated table has one row per option, with its default and status", () => {
    const rows = renderOptionsTable().split("\n").slice(2);
    assert.equal(rows.length, OPTION_TABLE.length);
    const loadBalanced = rows.find((r) => r.startsWith("| `loadBalanced` |"))!;
    assert.match(loadBalanced, /\| `false` \| partial: /);
    const pool = rows.find((r) => r.startsWith("| `maxPoolSize` |"))!;
    assert.match(pool, /\| integer >= 0 \| `100` \| supported \|/);
    for (const r of rows) assert.equal(r.split(/(?<!\\)\|/).length, 7, `five cells: ${r}`);
  });

  test("updateReadme replaces only the section between the markers", () => {
    const text = `a\n${START_MARKER}\nstale\n${END_MARKER}\nb\n`;
    assert.equal(updateReadme(text), `a\n${START_MARKER}${renderSection()}${END_MARKER}\nb\n`);
    assert.throws(() => updateReadme("no markers"), /markers/);
  });
});
