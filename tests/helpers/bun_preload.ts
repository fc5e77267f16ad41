// Loaded by tests/run.mjs before Bun runs the suite (`bun test --preload`).
//
// Bun drops a skipped describe() group from its report altogether: its tests
// are neither run nor counted. Here a skipped group (`describe(name, { skip },
// fn)` or `describe.skip`) is registered as an ordinary group whose every test
// carries the group's skip reason, so each one is reported, and counted, as
// skipped. Run a file without tests/run.mjs and none of this applies.
// deno-lint-ignore-file no-explicit-any
import { createRequire } from "node:module";

const nodeTest: any = createRequire(import.meta.url)("node:test");

/** The reason of the skipped group whose body is being evaluated, if any. */
let groupSkip: string | null = null;

function reasonOf(skip: unknown): string | null {
  if (skip === undefined || skip === false || skip === null) return null;
  return skip === true ? "skipped group" : String(skip);
}

/** (name, fn) | (name, options, fn) | (fn) | (options, fn) -> [name, options, fn] */
function parts(args: any[]): [any, Record<string, unknown>, any] {
  const [a, b, c] = args;
  if (typeof a === "function") return [a.name, {}, a];
  if (a !== null && typeof a === "object") return [undefined, a, b];
  if (typeof b === "function") return [a, {}, b];
  return [a, b ?? {}, c];
}

function copyStatics(from: any, to: any): void {
  for (const key of ["only", "todo", "skip"]) if (key in from && !(key in to)) to[key] = from[key];
}

function wrapTest(original: any): any {
  const wrapped = function (this: unknown, ...args: any[]) {
    if (groupSkip === null) return original.apply(this, args);
    const [name, options, fn] = parts(args);
    return original.call(this, name, { ...options, skip: options.skip ?? groupSkip }, fn);
  };
  wrapped.skip = (...args: any[]) => {
    const [name, options, fn] = parts(args);
    return wrapped(name, { ...options, skip: options.skip ?? true }, fn);
  };
  copyStatics(original, wrapped);
  return wrapped;
}

function wrapDescribe(original: any): any {
  const wrapped = function (this: unknown, ...args: any[]) {
    const [name, options, fn] = parts(args);
    const reason = groupSkip ?? reasonOf(options.skip);
    if (reason === null || typeof fn !== "function") return original.apply(this, args);
    const { skip: _, ...rest } = options;
    return original.call(this, name, rest, function (this: unknown, ...inner: any[]) {
      const outer = groupSkip;
      groupSkip = reason;
      try {
        return fn.apply(this, inner);
      } finally {
        groupSkip = outer;
      }
    });
  };
  wrapped.skip = (...args: any[]) => {
    const [name, options, fn] = parts(args);
    return wrapped(name, { ...options, skip: options.skip ?? true }, fn);
  };
  copyStatics(original, wrapped);
  return wrapped;
}

for (const key of ["test", "it"]) if (typeof nodeTest[key] === "function") nodeTest[key] = wrapTest(nodeTest[key]);
for (const key of ["describe", "suite"]) {
  if (typeof nodeTest[key] === "function") nodeTest[key] = wrapDescribe(nodeTest[key]);
}
