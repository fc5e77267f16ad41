/**
 * Tells a feature the simulated set lacks from a wrong answer. The simulator
 * answers what it does not implement as mongod answers what does not exist
 * (CommandNotFound 59, "Unrecognized pipeline stage name" 40324), so the name
 * in the message decides: a real mongod command or stage the simulator lacks
 * makes the test skip ("simulator lacks ..."); any other name (e.g. the
 * `unsupportedCommand` of the valid-fail tests) stays an error. So does the
 * simulator's own "<feature> is not supported by the simulated server"
 * (NotImplemented, 238) and a fail point other than failCommand.
 */
import { OperationFailure } from "../../../src/errors.ts";

/** Aggregation stages of mongod 7.0/8.0. */
// deno-fmt-ignore
const STAGES = new Set([
  "$addFields", "$bucket", "$bucketAuto", "$changeStream", "$changeStreamSplitLargeEvent", "$collStats", "$count",
  "$currentOp", "$densify", "$documents", "$facet", "$fill", "$geoNear", "$graphLookup", "$group", "$indexStats",
  "$limit", "$listLocalSessions", "$listSampledQueries", "$listSearchIndexes", "$listSessions", "$lookup", "$match",
  "$merge", "$out", "$planCacheStats", "$project", "$querySettings", "$redact", "$replaceRoot", "$replaceWith",
  "$sample", "$search", "$searchMeta", "$set", "$setWindowFields", "$shardedDataDistribution", "$skip", "$sort",
  "$sortByCount", "$unionWith", "$unset", "$unwind", "$vectorSearch",
]);

/** Commands of mongod (and mongos) 7.0/8.0 that spec tests send. */
// deno-fmt-ignore
const COMMANDS = new Set([
  "abortTransaction", "aggregate", "appendOplogNote", "authenticate", "buildInfo", "bulkWrite", "collMod",
  "collStats", "commitTransaction", "compact", "configureFailPoint", "connectionStatus", "convertToCapped", "count",
  "create", "createIndexes", "createSearchIndexes", "createUser", "currentOp", "dbStats", "delete", "distinct",
  "drop", "dropDatabase", "dropIndexes", "dropSearchIndex", "dropUser", "endSessions", "explain", "find",
  "findAndModify", "fsync", "getLog", "getMore", "getParameter", "hello", "insert", "isMaster", "killAllSessions",
  "killCursors", "killOp", "killSessions", "listCollections", "listCommands", "listDatabases", "listIndexes",
  "listSearchIndexes", "mapReduce", "ping", "refreshSessions", "renameCollection", "replSetGetStatus",
  "replSetStepDown", "saslContinue", "saslStart", "serverStatus", "setParameter", "shardCollection", "startSession", "update",
  "updateSearchIndex", "usersInfo", "validate",
]);

/** Query operators of mongod 7.0/8.0 (top-level and field-level). */
// deno-fmt-ignore
const QUERY_OPERATORS = new Set([
  "$all", "$alwaysFalse", "$alwaysTrue", "$and", "$bitsAllClear", "$bitsAllSet", "$bitsAnyClear", "$bitsAnySet",
  "$comment", "$elemMatch", "$eq", "$exists", "$expr", "$geoIntersects", "$geoWithin", "$gt", "$gte", "$in",
  "$jsonSchema", "$lt", "$lte", "$mod", "$ne", "$near", "$nearSphere", "$nin", "$nor", "$not", "$or", "$regex",
  "$sampleRate", "$size", "$text", "$type", "$where",
]);

/** The reason to skip when `e` is the simulator saying it lacks a real mongod command or stage, else undefined. */
export function simulatorGap(e: unknown): string | undefined {
  if (!(e instanceof OperationFailure)) return undefined;
  // The simulator's own word for what it does not implement ("... not supported by the simulator",
  // or NotImplemented "... is not supported by the simulated server").
  const own = /([^:]*) (?:is|are) not supported by the simulat(?:or|ed server)/.exec(e.errmsg)
    ?.[1];
  if (own !== undefined) return `simulator lacks ${own.trim()}`;
  // configureFailPoint with a fail point the simulator does not have (it implements failCommand, onPrimaryTransactionalWrite and failGetMoreAfterCursorCheckout).
  const failPoint = /^(\w+) not found \(the simulator implements (?:only )?failCommand[^)]*\)/.exec(e.errmsg)?.[1];
  if (e.code === 2 && failPoint !== undefined) return `simulator lacks fail point ${failPoint}`;
  // mongod's BadValue for an operator it does not know: "unknown top level operator: $x", "unknown operator: $x".
  const operator = /unknown (?:top level )?operator: (\$\w+)/.exec(e.errmsg)?.[1];
  if (e.code === 2 && operator !== undefined && QUERY_OPERATORS.has(operator)) {
    return `simulator lacks query operator ${operator}`;
  }
  const name = /'([^']+)'/.exec(e.errmsg)?.[1];
  if (name === undefined) return undefined;
  if (e.code === 59 && COMMANDS.has(name)) {
    return `simulator lacks command ${name} (CommandNotFound)`;
  }
  if (e.code === 40324 && STAGES.has(name)) {
    return `simulator lacks aggregation stage ${name}`;
  }
  return undefined;
}
