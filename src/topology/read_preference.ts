/**
 * Read preference: which members of a deployment may serve a read.
 *
 * ## Naming hazard: PyMongo 2.1 names vs modern modes
 *
 * The static members of {@linkcode ReadPreference} carry the names of the
 * PyMongo 2.1 replica-set guide, two of which mean something different from the
 * modern mode string of the same spelling. On the wire and in connection
 * strings the driver always speaks the modern mode.
 *
 * | 2.1 name (static member)                | modern mode          | behaviour                                                   |
 * | --------------------------------------- | -------------------- | ----------------------------------------------------------- |
 * | `ReadPreference.PRIMARY`                | `primary`            | the primary only; waits while there is none                 |
 * | `ReadPreference.SECONDARY`              | `secondaryPreferred` | a secondary; the primary when no secondary is eligible      |
 * | `ReadPreference.SECONDARY_ONLY`         | `secondary`          | a secondary only, never the primary; waits while none       |
 * | `ReadPreference.PRIMARY_PREFERRED`      | `primaryPreferred`   | the primary; an eligible secondary while there is none      |
 * | `ReadPreference.NEAREST`                | `nearest`            | any eligible primary or secondary in the latency window     |
 * | `ReadPreference.SECONDARY_PREFERRED`    | `secondaryPreferred` | alias of `SECONDARY`                                        |
 *
 * **The lowercase string `"secondary"` is the MODERN mode: it never reads from
 * the primary.** Only the static members and the upper-case legacy names
 * accepted by {@linkcode ReadPreference.from} (`"SECONDARY"`,
 * `"SECONDARY_ONLY"`, ...) carry the 2.1 meanings. Any other spelling (such as
 * `"Secondary"`) is rejected rather than guessed.
 *
 * @module
 */

import { ConfigurationError, OptionTypeError } from "../errors.ts";
import { describeValue } from "../describe.ts";

/**
 * A modern read preference mode, as sent on the wire and in connection strings.
 *
 * Beware: `"secondary"` here is the modern mode (never the primary), which is
 * PyMongo 2.1's `SECONDARY_ONLY`; 2.1's `SECONDARY` is `"secondaryPreferred"`.
 *
 * @example
 * ```ts
 * import type { ReadPreferenceMode } from "@zerodep/mongo";
 *
 * const mode: ReadPreferenceMode = "secondaryPreferred";
 * ```
 */
export type ReadPreferenceMode =
  | "primary"
  | "primaryPreferred"
  | "secondary"
  | "secondaryPreferred"
  | "nearest";

/**
 * A PyMongo 2.1 style name, accepted by {@linkcode ReadPreference.from}.
 * `"SECONDARY"` means modern `secondaryPreferred`; `"SECONDARY_ONLY"` means
 * modern `secondary`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, type LegacyReadPreferenceName } from "@zerodep/mongo";
 *
 * const name: LegacyReadPreferenceName = "SECONDARY";
 * assert.equal(ReadPreference.from(name).mode, "secondaryPreferred");
 * ```
 */
export type LegacyReadPreferenceName =
  | "PRIMARY"
  | "PRIMARY_PREFERRED"
  | "SECONDARY"
  | "SECONDARY_ONLY"
  | "SECONDARY_PREFERRED"
  | "NEAREST";

/**
 * One tag set: a server matches it when the server's tags contain every
 * key/value pair of the set. The empty set `{}` matches every server.
 *
 * @example
 * ```ts
 * import type { TagSet } from "@zerodep/mongo";
 *
 * const nyRack2: TagSet = { dc: "ny", rack: "2" };
 * ```
 */
export type TagSet = Readonly<Record<string, string>>;

/**
 * Options for hedged reads (deprecated by MongoDB 8.0).
 *
 * @example
 * ```ts
 * import type { HedgeOptions } from "@zerodep/mongo";
 *
 * const hedge: HedgeOptions = { enabled: true };
 * ```
 */
export interface HedgeOptions {
  /** Enables or disables hedged reads on the server. Default `true`. */
  readonly enabled?: boolean;
}

/**
 * Options of {@linkcode ReadPreference}.
 *
 * @example
 * ```ts
 * import { ReadPreference, type ReadPreferenceOptions } from "@zerodep/mongo";
 *
 * const options: ReadPreferenceOptions = { tags: [{ dc: "ny" }, {}], maxStalenessSeconds: 120 };
 * const rp = new ReadPreference("secondary", options);
 * ```
 */
export interface ReadPreferenceOptions {
  /**
   * Tag sets, tried in order: the first set that matches at least one candidate
   * server decides which servers are eligible; later sets are ignored. `{}`
   * matches every server, so `[{ dc: "ny" }, {}]` means "ny if possible, else
   * any". Not allowed (except as empty sets) with mode `primary`.
   */
  readonly tags?: readonly TagSet[];
  /**
   * The largest replication lag, in seconds, a secondary may have and still be
   * read from. `-1` or absent means no limit. Against a replica set it must be
   * at least 90 and at least `(heartbeatFrequencyMS + 10000) / 1000`; that is
   * checked at server selection, when the topology's heartbeat is known. Not
   * allowed with mode `primary`.
   */
  readonly maxStalenessSeconds?: number;
  /**
   * Hedged reads for sharded clusters.
   *
   * @deprecated Hedged reads are deprecated in MongoDB 8.0 and will be removed.
   */
  readonly hedge?: HedgeOptions;
}

/**
 * The `$readPreference` document sent to a server (modern camelCase mode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, type ReadPreferenceDocument } from "@zerodep/mongo";
 *
 * const doc: ReadPreferenceDocument = ReadPreference.NEAREST.toDocument();
 * assert.deepEqual(doc, { mode: "nearest" });
 * ```
 */
export interface ReadPreferenceDocument {
  /** The modern mode. */
  mode: ReadPreferenceMode;
  /** The tag sets; present only when some set is non-empty. */
  tags?: Record<string, string>[];
  /** Present only when a maximum staleness is set. */
  maxStalenessSeconds?: number;
  /** Present only when hedging was configured (deprecated). */
  hedge?: { enabled: boolean };
}

/**
 * Anything {@linkcode ReadPreference.from} accepts: an instance, a modern mode,
 * a PyMongo 2.1 upper-case name, or a document like the wire form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference, type ReadPreferenceLike } from "@zerodep/mongo";
 *
 * const values: ReadPreferenceLike[] = ["nearest", "SECONDARY_ONLY", { mode: "secondary", tags: [{ dc: "ny" }] }];
 * assert.deepEqual(values.map((v) => ReadPreference.from(v).mode), ["nearest", "secondary", "secondary"]);
 * ```
 */
export type ReadPreferenceLike =
  | ReadPreference
  | ReadPreferenceMode
  | LegacyReadPreferenceName
  | ({ readonly mode: ReadPreferenceMode | LegacyReadPreferenceName } & ReadPreferenceOptions);

const MODES: readonly ReadPreferenceMode[] = [
  "primary",
  "primaryPreferred",
  "secondary",
  "secondaryPreferred",
  "nearest",
];

const LEGACY: Readonly<Record<LegacyReadPreferenceName, ReadPreferenceMode>> = {
  PRIMARY: "primary",
  PRIMARY_PREFERRED: "primaryPreferred",
  SECONDARY: "secondaryPreferred",
  SECONDARY_ONLY: "secondary",
  SECONDARY_PREFERRED: "secondaryPreferred",
  NEAREST: "nearest",
};

// The 2.1 name shown next to the modern mode in messages, so a user of either
// vocabulary recognises it.
const LEGACY_OF: Readonly<Record<ReadPreferenceMode, LegacyReadPreferenceName>> = {
  primary: "PRIMARY",
  primaryPreferred: "PRIMARY_PREFERRED",
  secondary: "SECONDARY_ONLY",
  secondaryPreferred: "SECONDARY",
  nearest: "NEAREST",
};

function isMode(value: unknown): value is ReadPreferenceMode {
  return typeof value === "string" && (MODES as readonly string[]).includes(value);
}

function isLegacyName(value: unknown): value is LegacyReadPreferenceName {
  return typeof value === "string" && Object.hasOwn(LEGACY, value);
}

function modeOf(value: unknown): ReadPreferenceMode {
  if (isMode(value)) return value;
  if (isLegacyName(value)) return LEGACY[value];
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new ConfigurationError(
    `invalid read preference mode ${shown}: use a modern mode (${MODES.join(", ")}) or a PyMongo 2.1 name ` +
      `(${Object.keys(LEGACY).join(", ")}); note "secondary" never reads from the primary, "SECONDARY" may`,
  );
}

function copyTags(tags: unknown): readonly TagSet[] {
  if (tags === undefined) return Object.freeze([]);
  if (!Array.isArray(tags)) {
    throw new OptionTypeError("read preference tags", "an array of tag sets", describeValue(tags));
  }
  return Object.freeze(tags.map((set, i) => {
    if (set === null || typeof set !== "object" || Array.isArray(set)) {
      throw new OptionTypeError(`read preference tag set ${i}`, "an object of strings", describeValue(set));
    }
    const copy: Record<string, string> = {};
    for (const [key, value] of Object.entries(set)) {
      if (typeof value !== "string") {
        throw new OptionTypeError(`the value of "${key}"`, "a string", describeValue(value), {
          where: `read preference tag set ${i}`,
        });
      }
      copy[key] = value;
    }
    return Object.freeze(copy);
  }));
}

function sameTags(a: readonly TagSet[], b: readonly TagSet[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((set, i) => {
    const other = b[i];
    const keys = Object.keys(set);
    return keys.length === Object.keys(other).length && keys.every((k) => other[k] === set[k]);
  });
}

/**
 * Which servers may serve a read: a mode, optional tag sets, an optional
 * maximum staleness and (deprecated) hedging. Instances are immutable.
 *
 * **Naming hazard.** The static members use PyMongo 2.1's names:
 * `ReadPreference.SECONDARY` is the modern mode `secondaryPreferred` (reads a
 * secondary, falls back to the primary), and `ReadPreference.SECONDARY_ONLY`
 * is the modern mode `secondary` (never the primary). The constructor and the
 * lowercase strings take the MODERN modes, so `new ReadPreference("secondary")`
 * equals `ReadPreference.SECONDARY_ONLY`, not `ReadPreference.SECONDARY`.
 *
 * | 2.1 name (static member)                | modern mode          | behaviour                                                   |
 * | --------------------------------------- | -------------------- | ----------------------------------------------------------- |
 * | `ReadPreference.PRIMARY`                | `primary`            | the primary only; waits while there is none                 |
 * | `ReadPreference.SECONDARY`              | `secondaryPreferred` | a secondary; the primary when no secondary is eligible      |
 * | `ReadPreference.SECONDARY_ONLY`         | `secondary`          | a secondary only, never the primary; waits while none       |
 * | `ReadPreference.PRIMARY_PREFERRED`      | `primaryPreferred`   | the primary; an eligible secondary while there is none      |
 * | `ReadPreference.NEAREST`                | `nearest`            | any eligible primary or secondary in the latency window     |
 * | `ReadPreference.SECONDARY_PREFERRED`    | `secondaryPreferred` | alias of `SECONDARY`                                        |
 *
 * Against a mongos or a load balancer the preference is passed on; against a
 * direct connection (topology Single) it is ignored for selection.
 *
 * @example The guide's names and the modern modes
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadPreference } from "@zerodep/mongo";
 *
 * assert.equal(ReadPreference.SECONDARY.mode, "secondaryPreferred");
 * assert.equal(ReadPreference.SECONDARY_ONLY.mode, "secondary");
 * const nyFirst = new ReadPreference("secondary", { tags: [{ dc: "ny" }, {}], maxStalenessSeconds: 120 });
 * assert.deepEqual(nyFirst.toDocument(), { mode: "secondary", tags: [{ dc: "ny" }, {}], maxStalenessSeconds: 120 });
 * ```
 */
export class ReadPreference {
  /** Read from the primary only (the default). Modern mode `primary`. */
  static readonly PRIMARY: ReadPreference = new ReadPreference("primary");
  /**
   * PyMongo 2.1's SECONDARY: read from a secondary, or from the primary when no
   * secondary is available. Modern mode `secondaryPreferred` (NOT `secondary`).
   */
  static readonly SECONDARY: ReadPreference = new ReadPreference("secondaryPreferred");
  /** Alias of {@linkcode ReadPreference.SECONDARY}: modern mode `secondaryPreferred`. */
  static readonly SECONDARY_PREFERRED: ReadPreference = ReadPreference.SECONDARY;
  /**
   * PyMongo 2.1's SECONDARY_ONLY: read from a secondary, never the primary.
   * Modern mode `secondary`.
   */
  static readonly SECONDARY_ONLY: ReadPreference = new ReadPreference("secondary");
  /** Read from the primary, or from a secondary while there is none. Modern mode `primaryPreferred`. */
  static readonly PRIMARY_PREFERRED: ReadPreference = new ReadPreference("primaryPreferred");
  /** Read from any eligible member in the latency window. Modern mode `nearest`. */
  static readonly NEAREST: ReadPreference = new ReadPreference("nearest");

  /** The modern mode (what goes on the wire). */
  readonly mode: ReadPreferenceMode;
  /** The tag sets in order; empty means every candidate is eligible. */
  readonly tags: readonly TagSet[];
  /** The maximum staleness in seconds, or `undefined` for none (`-1` is stored as `undefined`). */
  readonly maxStalenessSeconds: number | undefined;
  /**
   * Hedging, when configured.
   *
   * @deprecated Hedged reads are deprecated in MongoDB 8.0.
   */
  readonly hedge: Readonly<{ enabled: boolean }> | undefined;

  /**
   * Makes a read preference from a MODERN mode (`"secondary"` never reads the
   * primary; use `ReadPreference.SECONDARY` or `"secondaryPreferred"` for 2.1's
   * SECONDARY). Throws {@linkcode ConfigurationError} for an unknown mode, tags
   * or maxStalenessSeconds with mode `primary`, malformed tags, or a
   * maxStalenessSeconds that is not `-1` or a non-negative integer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * const rp = new ReadPreference("nearest", { tags: [{ dc: "ny" }] });
   * assert.equal(rp.toString(), 'nearest (NEAREST), tags [{"dc":"ny"}]');
   * ```
   */
  constructor(mode: ReadPreferenceMode, options: ReadPreferenceOptions = {}) {
    if (!isMode(mode)) {
      if (isLegacyName(mode)) {
        throw new ConfigurationError(
          `"${mode}" is a PyMongo 2.1 name, not a mode: use ReadPreference.${mode} or ReadPreference.from("${mode}")`,
        );
      }
      modeOf(mode);
    }
    if (options === null || typeof options !== "object") {
      throw new OptionTypeError("read preference options", "an object", describeValue(options));
    }
    const tags = copyTags(options.tags);
    let maxStaleness: number | undefined;
    const raw: unknown = options.maxStalenessSeconds;
    if (raw !== undefined && raw !== -1) {
      if (typeof raw !== "number") {
        throw new OptionTypeError(
          "maxStalenessSeconds",
          "-1 (no maximum) or a non-negative integer number of seconds",
          describeValue(raw),
        );
      }
      if (!Number.isInteger(raw) || raw < 0) {
        throw new ConfigurationError(
          `maxStalenessSeconds must be -1 (no maximum) or a non-negative integer number of seconds, got ${
            describeValue(raw)
          }`,
        );
      }
      maxStaleness = raw;
    }
    let hedge: { enabled: boolean } | undefined;
    if (options.hedge !== undefined) {
      const h: unknown = options.hedge;
      if (h === null || typeof h !== "object" || Array.isArray(h)) {
        throw new OptionTypeError("hedge", "an object like { enabled: true }", describeValue(h));
      }
      const enabled: unknown = (h as HedgeOptions).enabled ?? true;
      if (typeof enabled !== "boolean") {
        throw new OptionTypeError("hedge.enabled", "a boolean", describeValue(enabled));
      }
      hedge = Object.freeze({ enabled });
    }
    if (mode === "primary") {
      if (tags.some((set) => Object.keys(set).length > 0)) {
        throw new ConfigurationError(
          `read preference mode primary cannot have tag sets (got ${JSON.stringify(tags)}): ` +
            `tags only filter secondaries; use primaryPreferred or nearest`,
        );
      }
      if (maxStaleness !== undefined) {
        throw new ConfigurationError(
          `read preference mode primary cannot have maxStalenessSeconds (got ${maxStaleness}): ` +
            `the primary is never stale; use primaryPreferred or a secondary mode`,
        );
      }
      if (hedge !== undefined) {
        throw new ConfigurationError("read preference mode primary cannot have hedge options");
      }
    }
    this.mode = mode;
    this.tags = tags;
    this.maxStalenessSeconds = maxStaleness;
    this.hedge = hedge;
    Object.freeze(this);
  }

  /**
   * Converts any accepted form to a {@linkcode ReadPreference}:
   * an instance (returned as is); a MODERN mode string (`"secondary"` = never
   * the primary); a PyMongo 2.1 upper-case name (`"SECONDARY"` =
   * secondaryPreferred, `"SECONDARY_ONLY"` = secondary, `"PRIMARY"`,
   * `"PRIMARY_PREFERRED"`, `"SECONDARY_PREFERRED"`, `"NEAREST"`); or a document
   * `{ mode, tags?, maxStalenessSeconds?, hedge? }` whose `mode` is either form.
   * Other spellings, such as `"Secondary"`, are rejected with a
   * {@linkcode ConfigurationError} instead of being guessed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.equal(ReadPreference.from("secondary").mode, "secondary"); // never the primary
   * assert.equal(ReadPreference.from("SECONDARY").mode, "secondaryPreferred"); // 2.1 meaning
   * assert.deepEqual(ReadPreference.from({ mode: "nearest", tags: [{ dc: "ny" }] }).tags, [{ dc: "ny" }]);
   * ```
   */
  static from(value: ReadPreferenceLike): ReadPreference {
    if (value instanceof ReadPreference) return value;
    if (typeof value === "string") {
      // Instances are immutable, so the shared static ones serve both spellings.
      return ReadPreference.#static(modeOf(value));
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new OptionTypeError(
        "readPreference",
        "a ReadPreference, a mode string or { mode, tags?, maxStalenessSeconds? }",
        describeValue(value),
      );
    }
    const { mode, tags, maxStalenessSeconds, hedge } = value;
    if (mode === undefined) throw new ConfigurationError("a read preference document needs a mode");
    return new ReadPreference(modeOf(mode), { tags, maxStalenessSeconds, hedge });
  }

  static #static(mode: ReadPreferenceMode): ReadPreference {
    switch (mode) {
      case "primary":
        return ReadPreference.PRIMARY;
      case "primaryPreferred":
        return ReadPreference.PRIMARY_PREFERRED;
      case "secondary":
        return ReadPreference.SECONDARY_ONLY;
      case "secondaryPreferred":
        return ReadPreference.SECONDARY;
      case "nearest":
        return ReadPreference.NEAREST;
    }
  }

  /**
   * The PyMongo 2.1 name of this mode (`secondaryPreferred` -> `"SECONDARY"`,
   * `secondary` -> `"SECONDARY_ONLY"`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.equal(new ReadPreference("secondary").legacyName, "SECONDARY_ONLY");
   * ```
   */
  get legacyName(): LegacyReadPreferenceName {
    return LEGACY_OF[this.mode];
  }

  /**
   * Whether a secondary may serve the read (every mode but `primary`); the
   * wire layer uses it for the SecondaryOk flag.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.equal(ReadPreference.PRIMARY.secondaryOk, false);
   * assert.equal(ReadPreference.SECONDARY.secondaryOk, true);
   * ```
   */
  get secondaryOk(): boolean {
    return this.mode !== "primary";
  }

  /**
   * The `$readPreference` document: `mode` in camelCase, `tags` only when some
   * tag set is non-empty, `maxStalenessSeconds` only when set, `hedge` only when
   * configured. A fresh object each call, safe to modify.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.deepEqual(ReadPreference.SECONDARY.toDocument(), { mode: "secondaryPreferred" });
   * ```
   */
  toDocument(): ReadPreferenceDocument {
    const doc: ReadPreferenceDocument = { mode: this.mode };
    if (this.tags.some((set) => Object.keys(set).length > 0)) doc.tags = this.tags.map((set) => ({ ...set }));
    if (this.maxStalenessSeconds !== undefined) doc.maxStalenessSeconds = this.maxStalenessSeconds;
    if (this.hedge !== undefined) doc.hedge = { enabled: this.hedge.enabled };
    return doc;
  }

  /**
   * A readable description naming both vocabularies, used in error messages:
   * `secondaryPreferred (SECONDARY), tags [{"dc":"ny"}], maxStalenessSeconds 120`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.equal(String(ReadPreference.SECONDARY_ONLY), "secondary (SECONDARY_ONLY)");
   * ```
   */
  toString(): string {
    let text = `${this.mode} (${this.legacyName})`;
    if (this.tags.length > 0) text += `, tags ${JSON.stringify(this.tags)}`;
    if (this.maxStalenessSeconds !== undefined) text += `, maxStalenessSeconds ${this.maxStalenessSeconds}`;
    if (this.hedge !== undefined) text += `, hedge ${JSON.stringify(this.hedge)}`;
    return text;
  }

  /**
   * Whether two read preferences select the same way: same mode, same tag sets
   * in the same order, same maxStalenessSeconds and hedge.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReadPreference } from "@zerodep/mongo";
   *
   * assert.equal(ReadPreference.from("SECONDARY").equals(new ReadPreference("secondaryPreferred")), true);
   * assert.equal(ReadPreference.SECONDARY.equals(ReadPreference.SECONDARY_ONLY), false);
   * ```
   */
  equals(other: ReadPreference): boolean {
    return other instanceof ReadPreference &&
      this.mode === other.mode &&
      sameTags(this.tags, other.tags) &&
      this.maxStalenessSeconds === other.maxStalenessSeconds &&
      this.hedge?.enabled === other.hedge?.enabled;
  }
}
