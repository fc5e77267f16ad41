// The option table is the single source of each option: every ClientOptions
// field has one row, resolveClientOptions fills in exactly the table's
// defaults, and every value a row says the driver cannot honour is refused at
// construction (by resolveClientOptions and so by the clients), while the
// values it can honour are accepted.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { Connection, ReplicaSetConnection } from "../../src/client/mod.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { type ClientOptions, resolveClientOptions } from "../../src/topology/options.ts";
import { lookupOption, OPTION_TABLE } from "../../src/topology/option_table.ts";
import { parseConnectionString } from "../../src/topology/connection_string.ts";

// The compiler checks this list against ClientOptions: a missing or extra name fails `deno check`.
const EVERY_OPTION: Record<keyof ClientOptions, true> = {
  appName: true,
  authMechanism: true,
  authMechanismProperties: true,
  authSource: true,
  compressors: true,
  connectTimeoutMS: true,
  directConnection: true,
  enableOverloadRetargeting: true,
  heartbeatFrequencyMS: true,
  journal: true,
  loadBalanced: true,
  localThresholdMS: true,
  maxAdaptiveRetries: true,
  maxConnecting: true,
  maxIdleTimeMS: true,
  maxPoolSize: true,
  maxStalenessSeconds: true,
  minPoolSize: true,
  proxyHost: true,
  proxyPassword: true,
  proxyPort: true,
  proxyUsername: true,
  readConcernLevel: true,
  readPreference: true,
  readPreferenceTags: true,
  replicaSet: true,
  retryReads: true,
  retryWrites: true,
  serverMonitoringMode: true,
  serverSelectionTimeoutMS: true,
  serverSelectionTryOnce: true,
  socketTimeoutMS: true,
  srvMaxHosts: true,
  srvServiceName: true,
  timeoutMS: true,
  tls: true,
  tlsAllowInvalidCertificates: true,
  tlsAllowInvalidHostnames: true,
  tlsCAFile: true,
  tlsCertificateKeyFile: true,
  tlsCertificateKeyFilePassword: true,
  tlsDisableCertificateRevocationCheck: true,
  tlsDisableOCSPEndpointCheck: true,
  tlsInsecure: true,
  w: true,
  waitQueueTimeoutMS: true,
  wTimeoutMS: true,
  zlibCompressionLevel: true,
};

function refused(options: Record<string, unknown>, ...words: string[]): void {
  assert.throws(() => resolveClientOptions({}, options), (e: unknown) => {
    assert.ok(e instanceof ConfigurationError, `expected a ConfigurationError, got ${String(e)}`);
    assert.match(e.message, /is not supported: /);
    for (const w of words) assert.ok(e.message.includes(w), `${JSON.stringify(e.message)} should mention ${w}`);
    return true;
  });
}

describe("the option table", () => {
  test("one row per ClientOptions field, each with a description and a status", () => {
    const names = OPTION_TABLE.map((o) => o.name);
    assert.deepEqual([...names].sort(), Object.keys(EVERY_OPTION).sort());
    for (const row of OPTION_TABLE) {
      assert.ok(row.doc.length > 0 && !row.doc.includes("\n"), `${row.name}: a one-line doc`);
      assert.ok(Object.isFrozen(row), `${row.name}: frozen`);
      if (row.status === "supported") {
        assert.equal(row.refuse, undefined, `${row.name}: supported rows refuse nothing`);
      } else {
        assert.ok(row.note !== undefined && row.note.length > 0, `${row.name}: ${row.status} needs a note`);
      }
      if (row.status === "refused" || (row.status === "partial" && row.name !== "compressors")) {
        assert.equal(typeof row.refuse, "function", `${row.name}: ${row.status} needs a refuse()`);
      }
    }
  });

  test("resolveClientOptions fills in exactly the table's defaults", () => {
    const r = resolveClientOptions({}, {}) as unknown as Record<string, unknown>;
    for (const row of OPTION_TABLE) {
      if (row.name === "proxyPort") {
        assert.equal(r.proxyPort, undefined, "proxyPort only with proxyHost");
      } else if (row.default !== undefined) {
        assert.deepEqual(r[row.name], row.default, row.name);
      } else if (row.name !== "tlsAllowInvalidCertificates" && row.name !== "tlsAllowInvalidHostnames") {
        assert.equal(r[row.name], undefined, `${row.name} has no default`);
      }
    }
    // The derived defaults stay code beside the table.
    assert.equal(resolveClientOptions({}, { proxyHost: "p" }).proxyPort, lookupOption("proxyPort")!.default);
    assert.equal(resolveClientOptions({}, { tlsCAFile: "ca.pem" }).tls, true);
    assert.equal(resolveClientOptions({}, {}, { srv: true }).tls, true);
    const insecure = resolveClientOptions({}, { tlsInsecure: true });
    assert.equal(insecure.tlsAllowInvalidCertificates, true);
    assert.equal(insecure.tlsAllowInvalidHostnames, true);
  });

  test("values the driver cannot honour are refused, naming the option and why", () => {
    refused({ loadBalanced: true }, "loadBalanced=true", "pinned");
    refused({ zlibCompressionLevel: 9 }, "zlibCompressionLevel=9", "CompressionStream");
    refused({ zlibCompressionLevel: 0 }, "zlibCompressionLevel=0");
    refused({ maxAdaptiveRetries: 3 }, "maxAdaptiveRetries=3", "backpressure");
    refused({ enableOverloadRetargeting: true }, "enableOverloadRetargeting=true", "backpressure");
    refused({ tlsDisableOCSPEndpointCheck: false }, "tlsDisableOCSPEndpointCheck=false", "revocation");
    refused({ tlsDisableCertificateRevocationCheck: false }, "tlsDisableCertificateRevocationCheck=false");
    refused({ authMechanism: "GSSAPI" }, "authMechanism", "GSSAPI", "SCRAM");
    refused({ authMechanism: "MONGODB-CR" }, "MONGODB-CR");
    refused({ authMechanismProperties: { SERVICE_NAME: "mongodb" } }, "authMechanismProperties", "GSSAPI");
  });

  test("the values it can honour are accepted", () => {
    const ok = (o: Record<string, unknown>) => resolveClientOptions({}, o);
    assert.equal(ok({ loadBalanced: false }).loadBalanced, false);
    assert.equal(ok({ zlibCompressionLevel: 6 }).zlibCompressionLevel, 6);
    assert.equal(ok({ zlibCompressionLevel: -1 }).zlibCompressionLevel, -1);
    assert.equal(ok({ serverMonitoringMode: "poll" }).serverMonitoringMode, "poll");
    assert.equal(ok({ serverMonitoringMode: "stream" }).serverMonitoringMode, "stream");
    assert.equal(ok({ maxAdaptiveRetries: 0 }).maxAdaptiveRetries, 0);
    assert.equal(ok({ enableOverloadRetargeting: false }).enableOverloadRetargeting, false);
    assert.equal(ok({ tlsDisableOCSPEndpointCheck: true }).tls, true);
    assert.equal(ok({ authMechanism: "SCRAM-SHA-1" }).authMechanism, "SCRAM-SHA-1");
    // No effect, documented: parsed for connection strings written for single-threaded drivers.
    assert.equal(ok({ serverSelectionTryOnce: false }).serverSelectionTryOnce, false);
  });

  test("a connection string parses what the client then refuses (the parser follows the URI spec)", () => {
    const cs = parseConnectionString("mongodb://a/?loadBalanced=true&zlibCompressionLevel=9", { onWarning: () => {} });
    assert.equal(cs.options.loadBalanced, true);
    assert.throws(() => resolveClientOptions(cs.options, {}, { hostCount: 1 }), /loadBalanced=true is not supported/);
  });

  test("the clients refuse at construction, before any I/O", () => {
    assert.throws(
      () => new Connection("mongodb://a:1/?loadBalanced=true&directConnection=false"),
      (e: unknown) => e instanceof ConfigurationError && /loadBalanced=true is not supported/.test(e.message),
    );
    assert.throws(
      () => new ReplicaSetConnection("mongodb://u:p@a:1/?replicaSet=rs&authMechanism=PLAIN"),
      (e: unknown) => e instanceof ConfigurationError && /authMechanism="PLAIN" is not supported/.test(e.message),
    );
  });
});
