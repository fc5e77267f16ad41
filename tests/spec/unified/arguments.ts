/**
 * Arguments of unified-format operations as the driver takes them: checked
 * against what a driver method accepts (anything else skips the test, never
 * silently ignored), BSON number wrappers of scalar options unwrapped.
 */
import type { Document } from "../../../src/bson/mod.ts";
import { plain, SkipTest, TestFileError } from "./entities.ts";
import { isDocument } from "./matcher.ts";
import { ClientSession } from "../../../src/client/mod.ts";

export type Args = Record<string, unknown>;

/** Checks the arguments: required ones present (else a test-file error), unsupported ones skip the test. */
export function take(name: string, args: Args, allowed: readonly string[]): Args {
  for (const k of Object.keys(args)) {
    if (k === "session") {
      // A session entity, resolved by the runner (session_operations.ts); `options` passes it to the driver.
      if (args.session instanceof ClientSession) continue;
      throw new SkipTest("driver lacks sessions (session argument)");
    }
    if (k === "timeoutMS") {
      throw new SkipTest(
        `driver lacks client-side operation timeouts (${name} timeoutMS)`,
      );
    }
    if (!allowed.includes(k)) {
      throw new SkipTest(`driver lacks ${name} option ${k}`);
    }
  }
  const out: Args = {};
  for (const [k, v] of Object.entries(args)) out[k] = v;
  return out;
}

/** Options for the driver: BSON number wrappers of scalar options unwrapped, documents kept as they are. */
export function options(args: Args, skipKeys: readonly string[]): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(args)) {
    if (skipKeys.includes(k)) continue;
    out[k] = isDocument(v) && k !== "writeConcern" ? v : plain(v);
  }
  return out;
}

export function docArg(args: Args, key: string, name: string): Document {
  const v = args[key];
  if (!isDocument(v)) {
    throw new TestFileError(`${name}: ${key} must be a document`);
  }
  return v;
}
