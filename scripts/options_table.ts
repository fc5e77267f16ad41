// README's option list, generated from the option table
// (src/topology/option_table.ts), the one source of each option's type,
// default, status and description.
//
//   deno run --allow-read --allow-write scripts/options_table.ts --write   rewrite README.md's section
//   deno run scripts/options_table.ts                                     print the section
//
// `npm run docs:options` runs the first; tests/topology/readme_options_test.ts
// fails when README.md's section differs from what this prints.
// Runtime-neutral (node:fs only in main), so the test imports it on Deno and Bun.
import { OPTION_TABLE, type OptionSpec } from "../src/topology/option_table.ts";

/** The comments that bracket the generated section in README.md. */
export const START_MARKER = "<!-- options:start -->";
/** See {@linkcode START_MARKER}. */
export const END_MARKER = "<!-- options:end -->";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function code(value: unknown): string {
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

function typeOf(row: OptionSpec): string {
  switch (row.kind) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "int": {
      const max = row.max === 2147483647 || row.max === Number.MAX_SAFE_INTEGER ? undefined : row.max;
      return max === undefined ? `integer >= ${row.min}` : `integer ${row.min}..${max}`;
    }
    case "enum":
      return row.values!.map(code).join(", ");
    case "tags":
      return "list of tag sets";
    case "properties":
      return "document";
    case "w":
      return "integer or string";
    case "compressors":
      return `list of ${row.values!.map(code).join(", ")}`;
  }
}

function defaultOf(row: OptionSpec): string {
  if (row.defaultText !== undefined) return row.defaultText;
  if (row.default === undefined) return "none";
  return code(row.default);
}

function statusOf(row: OptionSpec): string {
  return row.note === undefined ? row.status : `${row.status}: ${row.note}`;
}

/** The Markdown table of every option, one row each, in the table's order. */
export function renderOptionsTable(): string {
  const lines = [
    "| option | type | default | status | description |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const row of OPTION_TABLE) {
    lines.push(
      `| \`${row.name}\` | ${cell(typeOf(row))} | ${cell(defaultOf(row))} | ${cell(statusOf(row))} | ${
        cell(row.doc)
      } |`,
    );
  }
  return lines.join("\n");
}

/** The README section between the markers (exclusive), as generated. */
export function renderSection(): string {
  return `\n${renderOptionsTable()}\n`;
}

/** The section of `readme` between the markers, or `null` when a marker is missing. */
export function currentSection(readme: string): string | null {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) return null;
  return readme.slice(start + START_MARKER.length, end);
}

/** `readme` with its section replaced by the generated one. */
export function updateReadme(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) {
    throw new Error(`README.md needs the markers ${START_MARKER} and ${END_MARKER}, in that order`);
  }
  return readme.slice(0, start + START_MARKER.length) + renderSection() + readme.slice(end);
}

if (import.meta.main) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
  const { default: process } = await import("node:process");
  const write = process.argv.slice(2).includes("--write");
  if (write) {
    const before = readFileSync(readmePath, "utf8");
    const after = updateReadme(before);
    if (after !== before) writeFileSync(readmePath, after);
    console.log(
      after === before ? "README.md: options section already up to date" : "README.md: options section rewritten",
    );
  } else {
    console.log(renderOptionsTable());
  }
}
