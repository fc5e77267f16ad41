// CONTRACT (written by the lead): the SDAM helper owns this file and fills in the
// functions; the field names and types below are what the selection code relies on.

/** The type of one server, as the SDAM specification names it. */
export type ServerType =
  | "Standalone"
  | "Mongos"
  | "PossiblePrimary"
  | "RSPrimary"
  | "RSSecondary"
  | "RSArbiter"
  | "RSOther"
  | "RSGhost"
  | "LoadBalancer"
  | "Unknown";

/** A server's `topologyVersion`; `processId` is the ObjectId as 24 lowercase hex chars. */
export interface TopologyVersion {
  readonly processId: string;
  readonly counter: bigint;
}

/** What the driver knows of one server (immutable; replaced, never mutated). */
export interface ServerDescription {
  /** "host:port", lowercase; "[::1]:27017" for IPv6; a socket path for Unix sockets. */
  readonly address: string;
  readonly type: ServerType;
  /** Why the server is Unknown, when it is because of an error. */
  readonly error: string | null;
  /** Exponentially weighted average round-trip time in ms, or null before the first check. */
  readonly roundTripTime: number | null;
  /** `lastWrite.lastWriteDate` of the hello reply, in ms since the epoch. */
  readonly lastWriteDate: number | null;
  /** When this description was made, in ms (the monitor's clock; used by max staleness). */
  readonly lastUpdateTime: number;
  readonly minWireVersion: number;
  readonly maxWireVersion: number;
  readonly me: string | null;
  readonly hosts: readonly string[];
  readonly passives: readonly string[];
  readonly arbiters: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly setName: string | null;
  readonly setVersion: number | null;
  /** The electionId ObjectId as 24 lowercase hex chars. */
  readonly electionId: string | null;
  readonly primary: string | null;
  readonly logicalSessionTimeoutMinutes: number | null;
  readonly topologyVersion: TopologyVersion | null;
  /** The hello reply said `helloOk: true`: later checks may use `hello`. */
  readonly helloOk: boolean;
}
