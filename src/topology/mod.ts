/**
 * `@zerodep/mongo/topology`: the machinery under the client. Pure logic:
 * connection strings and seeds, client options, server and topology
 * descriptions (SDAM), read preferences and server selection. Live: the
 * `Topology` that monitors a deployment (`Monitor`) and runs commands on its
 * servers (`Server`), on the net layer's pools and sockets.
 *
 * Applications use the client in `@zerodep/mongo`; this entry is for tools
 * and tests that drive the specifications' state machines themselves.
 *
 * Stable (follows semver): what the specifications define and their vectors
 * test, namely connection strings and seeds, client options, read
 * preferences, server and topology descriptions (SDAM), server selection and
 * round-trip times. Experimental (marked `@experimental`, may change in any
 * release): the live machinery (`Topology`, `Server`, `Monitor`,
 * `selectServer`, `readPreferenceOnWire`), the application-error hooks
 * (`handleApplicationError`, `is*Error`), SDAM events, credentials
 * (`parseCredential`, `resolveCredential`) and `loadBalancerServerDescription`.
 *
 * @example Parse a connection string
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostAddressToString, parseConnectionString } from "@zerodep/mongo/topology";
 *
 * const cs = parseConnectionString("mongodb://a:27017,b:27017/?replicaSet=rs");
 * assert.deepEqual(cs.hosts.map(hostAddressToString), [ "a:27017", "b:27017" ]);
 * assert.equal(cs.options.replicaSet, "rs");
 * ```
 *
 * @module
 */
export {
  type ConnectionString,
  type HostAddress,
  hostAddressToString,
  type HostType,
  parseConnectionString,
  type ParseConnectionStringOptions,
  parseHostAddress,
  type ParseHostAddressOptions,
} from "./connection_string.ts";
export {
  type ClientOptions,
  resolveClientOptions,
  type ResolveClientOptionsOptions,
  type ResolvedClientOptions,
  validateClientOptions,
  type ValidateClientOptionsOptions,
} from "./options.ts";
export { type ParsedSeeds, parseSeeds, type ParseSeedsOptions, type Seeds } from "./seeds.ts";
export { type CredentialSources, type MongoCredential, parseCredential, resolveCredential } from "./credential.ts";
export {
  type HedgeOptions,
  type LegacyReadPreferenceName,
  ReadPreference,
  type ReadPreferenceDocument,
  type ReadPreferenceLike,
  type ReadPreferenceMode,
  type ReadPreferenceOptions,
  type TagSet,
} from "./read_preference.ts";
export { updateRoundTripTime } from "./rtt.ts";
export {
  type ApplicationError,
  type ApplicationErrorOutcome,
  type CommandErrorReply,
  handleApplicationError,
  type HandleApplicationErrorOptions,
  isNodeIsRecoveringError,
  isNotPrimaryError,
  isShutdownError,
  isStateChangeError,
} from "./sdam_errors.ts";
export {
  publishTopologyEvents,
  type SdamEvent,
  topologyDescriptionEquals,
  type TopologyEventInitMap,
  topologyEvents,
} from "./sdam_events.ts";
export type {
  CheckOutFailedReason,
  CommandEventBase,
  CommandFailedInit,
  CommandStartedInit,
  CommandSucceededInit,
  ConnectionClosedReason,
  EventSink,
  NetEventInitMap,
} from "../net/monitoring.ts";
export { selectServer, type SelectServerOptions, type TopologySource } from "./select_loop.ts";
export {
  compareTopologyVersion,
  loadBalancerServerDescription,
  normalizeAddress,
  type ServerDescription,
  serverDescriptionEquals,
  serverDescriptionFromHello,
  type ServerDescriptionOptions,
  type ServerType,
  type TopologyVersion,
  unknownServerDescription,
} from "./server_description.ts";
export {
  chooseServer,
  type ChooseServerOptions,
  DEFAULT_LOCAL_THRESHOLD_MS,
  IDLE_WRITE_PERIOD_MS,
  selectServers,
  type SelectServersOptions,
  type ServerSelectionResult,
  type ServerSelector,
  SMALLEST_MAX_STALENESS_SECONDS,
  writeStageReadPreference,
} from "./server_selection.ts";
export {
  applyServerDescription,
  initialTopologyDescription,
  type InitialTopologyOptions,
  isDataBearing,
  MAX_SUPPORTED_WIRE_VERSION,
  MIN_SUPPORTED_WIRE_VERSION,
  type TopologyDescription,
  type TopologyType,
  type TopologyUpdate,
  updateTopology,
} from "./topology_description.ts";
export { Monitor, type MonitorCheckResult, type MonitorOptions } from "./monitor.ts";
export {
  readPreferenceOnWire,
  type ReadPreferenceOnWireOptions,
  Server,
  type ServerCommandOptions,
  type ServerContext,
  type WireReadPreference,
  type WithConnectionOptions,
} from "./server.ts";
export {
  type DescriptionListener,
  Topology,
  type TopologyConnectOptions,
  type TopologyOptions,
  type TopologySelectOptions,
} from "./topology.ts";
// Types of the layers below that the live topology's API mentions, re-exported
// (the same bindings) so that this module's documentation is complete. The net
// layer's `Connection` is renamed: the client layer exports PyMongo's `Connection`.
export type { DecodeOptions, Document } from "../bson/mod.ts";
export type { MongoError } from "../errors.ts";
export type {
  CommandOptions as WireCommandOptions,
  Connection as WireConnection,
  ConnectionOptions as WireConnectionOptions,
  Credential,
  QueryOptions as WireQueryOptions,
  ReadNextOptions as WireReadNextOptions,
  RoundTripOptions as WireRoundTripOptions,
  ScramMechanism,
  ServerAddress as WireServerAddress,
  ServerApi as WireServerApi,
  ServerLimits,
} from "../net/mod.ts";
export type { DocumentSequence, OP_REPLY, OpReply } from "../wire/mod.ts";
// The default socket factory, for a `socketFactory` that wraps it.
export { connectSocket, type Socket, type SocketFactory, type SocketOptions } from "../net/mod.ts";
