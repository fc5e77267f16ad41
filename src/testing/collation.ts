/**
 * Collation for the simulated server: the simple (binary) one, and the `en`
 * locale at strength 1 (base letters), 2 (accents) or 3 (case, the
 * default), with `numericOrdering`, compared with the runtime's ICU
 * (`Intl.Collator`) as mongod compares with ICU. Any other locale or option
 * is a BadValue naming it, never a silently binary comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareWithCollation, withCollation } from "./collation.ts";
 *
 * assert.equal(withCollation({ locale: "en", strength: 2 }, () => compareWithCollation("ABC", "abc")), 0);
 * ```
 *
 * @module
 */
import { isPlainDocument, numericValue } from "./query.ts";
import { badValue, typeMismatch } from "./_server_error.ts";

const DEFAULTS: Record<string, unknown> = {
  caseLevel: false,
  caseFirst: "off",
  alternate: "non-ignorable",
  maxVariable: "punct",
  backwards: false,
  normalization: false,
};

/**
 * The collator a collation document asks for (undefined: simple, binary).
 *
 * @throws {MongoError} BadValue for a locale or option the simulator does not implement.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collatorFor } from "./collation.ts";
 *
 * assert.equal(collatorFor({ locale: "simple" }), undefined);
 * ```
 */
export function collatorFor(spec: unknown): Intl.Collator | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isPlainDocument(spec)) throw typeMismatch("collation must be an object");
  const locale = spec.locale;
  if (typeof locale !== "string") throw badValue("Missing expected field \"locale\"");
  if (locale === "simple") {
    if (Object.keys(spec).length > 1) throw badValue("If \"locale\" is \"simple\", then no other fields may be specified");
    return undefined;
  }
  if (locale !== "en" && locale !== "en_US") {
    throw badValue(`the simulated server implements the collation locales "simple" and "en" only, not "${locale}"`);
  }
  let strength = 3;
  let numeric = false;
  for (const [k, v] of Object.entries(spec)) {
    if (k === "locale") continue;
    if (k === "strength") {
      strength = Number(numericValue(v));
      if (![1, 2, 3].includes(strength)) {
        throw badValue(`the simulated server implements collation strength 1, 2 and 3 only, not ${String(numericValue(v) ?? v)}`);
      }
    } else if (k === "numericOrdering") {
      numeric = v === true;
    } else if (Object.hasOwn(DEFAULTS, k)) {
      if (v !== DEFAULTS[k]) throw badValue(`the simulated server does not implement the collation option ${k}: ${String(v)}`);
    } else if (k !== "version") {
      throw badValue(`unknown collation field: ${k}`);
    }
  }
  const sensitivity = strength === 1 ? "base" : strength === 2 ? "accent" : "variant";
  return new Intl.Collator("en-US", { sensitivity, numeric, usage: "sort" });
}

let active: Intl.Collator | undefined;

/**
 * Runs `fn` with a collation in force for string comparisons (`null` or
 * `undefined`: the simple one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareWithCollation, withCollation } from "./collation.ts";
 *
 * assert.equal(withCollation(undefined, () => compareWithCollation("B", "a")), -1);
 * ```
 */
export function withCollation<T>(spec: unknown, fn: () => T): T {
  const collator = collatorFor(spec);
  const saved = active;
  active = collator;
  try {
    return fn();
  } finally {
    active = saved;
  }
}

/**
 * Compares two strings under the collation in force (binary order otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareWithCollation } from "./collation.ts";
 *
 * assert.equal(compareWithCollation("a", "b"), -1);
 * ```
 */
export function compareWithCollation(a: string, b: string): number {
  if (active !== undefined) {
    const c = active.compare(a, b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
