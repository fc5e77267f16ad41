// CONTRACT (written by the lead): the SDAM helper owns this file and fills it in.
import type { ServerDescription } from "./server_description.ts";

/** The type of the whole deployment, as the SDAM specification names it. */
export type TopologyType =
  | "Single"
  | "ReplicaSetNoPrimary"
  | "ReplicaSetWithPrimary"
  | "Sharded"
  | "LoadBalanced"
  | "Unknown";

/** What the driver knows of the whole deployment (immutable; replaced on every change). */
export interface TopologyDescription {
  readonly type: TopologyType;
  readonly setName: string | null;
  readonly maxSetVersion: number | null;
  /** The largest electionId seen, 24 lowercase hex chars. */
  readonly maxElectionId: string | null;
  /** Keyed by address ("host:port", lowercase). */
  readonly servers: ReadonlyMap<string, ServerDescription>;
  /** False when some server's wire-version range does not overlap the driver's. */
  readonly compatible: boolean;
  readonly compatibilityError: string | null;
  readonly logicalSessionTimeoutMinutes: number | null;
  /** Settings that selection needs (max staleness, latency window). */
  readonly heartbeatFrequencyMS: number;
  readonly localThresholdMS: number;
}
