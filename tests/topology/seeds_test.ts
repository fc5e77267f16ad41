// Seeds in every form of PyMongo 2.1's replica-set guide, the connection-string
// details the spec vectors do not pin, and client options given in code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { ConfigurationError, OptionTypeError } from "../../src/errors.ts";
import { hostAddressToString, parseConnectionString, parseHostAddress } from "../../src/topology/connection_string.ts";
import { parseSeeds } from "../../src/topology/seeds.ts";
import { resolveClientOptions, validateClientOptions } from "../../src/topology/options.ts";

/** Asserts a ConfigurationError whose message contains every fragment. */
function throwsConfig(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigurationError, `expected ConfigurationError, got ${String(e)}`);
    for (const f of fragments) {
      assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    }
    return true;
  });
}

/** A value of the wrong JavaScript type: an OptionTypeError (a TypeError, not a ConfigurationError) carrying the option. */
function throwsType(fn: () => unknown, option: string, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OptionTypeError && e instanceof TypeError, `expected OptionTypeError, got ${String(e)}`);
    assert.ok(!(e instanceof ConfigurationError));
    assert.equal(e.option, option);
    for (const f of [option, ...fragments]) {
      assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    }
    return true;
  });
}

const quiet = { onWarning: () => {} };

describe("parseSeeds: the guide's seed forms", () => {
  test('"host"', () => {
    assert.deepEqual(parseSeeds("localhost"), {
      hosts: [{ type: "hostname", host: "localhost", port: null }],
      uri: null,
    });
  });

  test('"host:port"', () => {
    assert.deepEqual(parseSeeds("db1.example.net:27018").hosts, [{
      type: "hostname",
      host: "db1.example.net",
      port: 27018,
    }]);
  });

  test('("host", port) as a two-element array', () => {
    assert.deepEqual(parseSeeds(["localhost", 27017]).hosts, [{ type: "hostname", host: "localhost", port: 27017 }]);
  });

  test('["host:port", "host:port"]', () => {
    assert.deepEqual(parseSeeds(["a:27017", "b:27018"]).hosts, [
      { type: "hostname", host: "a", port: 27017 },
      { type: "hostname", host: "b", port: 27018 },
    ]);
  });

  test("a two-element list of strings is a list, not a pair", () => {
    assert.equal(parseSeeds(["a", "b"]).hosts.length, 2);
  });

  test('"h1:p1,h2:p2" with spaces after commas', () => {
    assert.deepEqual(parseSeeds("h1:1, h2:2 ,h3").hosts.map(hostAddressToString), ["h1:1", "h2:2", "h3:27017"]);
  });

  test("a mongodb:// URI delegates to parseConnectionString", () => {
    const { hosts, uri } = parseSeeds("mongodb://h1:27017,h2:27018,h3:27019/db?replicaSet=foo");
    assert.deepEqual(hosts.map(hostAddressToString), ["h1:27017", "h2:27018", "h3:27019"]);
    assert.equal(uri?.options.replicaSet, "foo");
    assert.equal(uri?.database, "db");
  });

  test("a mongodb+srv:// URI keeps its one host and implies TLS", () => {
    const { hosts, uri } = parseSeeds("mongodb+srv://cluster0.example.com/");
    assert.deepEqual(hosts, [{ type: "hostname", host: "cluster0.example.com", port: null }]);
    assert.equal(uri?.scheme, "mongodb+srv");
    assert.equal(uri?.options.tls, true);
  });

  test("IPv6 in brackets, with and without port", () => {
    assert.deepEqual(parseSeeds("[::1]:27018,[fe80::1]").hosts, [
      { type: "ip_literal", host: "::1", port: 27018 },
      { type: "ip_literal", host: "fe80::1", port: null },
    ]);
    assert.equal(hostAddressToString(parseSeeds("[::1]").hosts[0]), "[::1]:27017");
  });

  test("a bare IPv6 address is accepted in the pair form only", () => {
    assert.deepEqual(parseSeeds(["::1", 27017]).hosts, [{ type: "ip_literal", host: "::1", port: 27017 }]);
    throwsConfig(() => parseSeeds("::1"), '"::1"', "brackets");
  });

  test("IPv4 is typed ipv4; 256.0.0.1 is a hostname", () => {
    assert.equal(parseSeeds("127.0.0.1").hosts[0].type, "ipv4");
    assert.equal(parseSeeds("256.0.0.1").hosts[0].type, "hostname");
  });

  test("Unix socket paths, raw and percent-encoded, never get a port", () => {
    assert.deepEqual(parseSeeds("/tmp/mongodb-27017.sock", 27018).hosts, [
      { type: "unix", host: "/tmp/mongodb-27017.sock", port: null },
    ]);
    assert.deepEqual(parseSeeds(["%2Ftmp%2Fa.sock", "b"]).hosts[0], { type: "unix", host: "/tmp/a.sock", port: null });
    assert.equal(hostAddressToString(parseSeeds("/tmp/a.sock").hosts[0]), "/tmp/a.sock");
  });

  test("the port argument fills hosts without one, in every form", () => {
    assert.deepEqual(parseSeeds("a,b:2", 27019).hosts.map((h) => h.port), [27019, 2]);
    assert.deepEqual(parseSeeds(["a", "b"], 27019).hosts.map((h) => h.port), [27019, 27019]);
    assert.deepEqual(parseSeeds("mongodb://a,b:2", 27019).hosts.map((h) => h.port), [27019, 2]);
    assert.deepEqual(parseSeeds(["a", 5], 5).hosts[0].port, 5);
  });

  test("hostnames are lowercased", () => {
    assert.equal(parseSeeds("DB1.Example.NET").hosts[0].host, "db1.example.net");
  });
});

describe("parseSeeds: bad seeds name themselves", () => {
  test("empty and stray commas", () => {
    throwsConfig(() => parseSeeds(""), "empty");
    throwsConfig(() => parseSeeds("a,,b"), "stray comma");
    throwsConfig(() => parseSeeds("a,"), "stray comma");
    throwsConfig(() => parseSeeds([]), "empty");
  });

  test("bad ports", () => {
    throwsConfig(() => parseSeeds("a:0"), 'seed "a:0"', "1 to 65535");
    throwsConfig(() => parseSeeds("a:65536"), 'seed "a:65536"');
    throwsConfig(() => parseSeeds("a:x"), 'seed "a:x"', "port");
    throwsConfig(() => parseSeeds("a:"), 'seed "a:"');
    throwsConfig(() => parseSeeds(["a", 0]), '"a"', "port");
    throwsConfig(() => parseSeeds(["a", 1.5]), "port");
    throwsConfig(() => parseSeeds("a", 70000), "port must be an integer from 1 to 65535, got 70000");
    throwsConfig(() => parseSeeds("a", "27017" as unknown as number), "port", '"27017"');
  });

  test("a port given twice", () => {
    throwsConfig(() => parseSeeds(["a:1", 2]), "twice");
    throwsConfig(() => parseSeeds(["a", 2], 3), "twice");
    throwsConfig(() => parseSeeds(["/tmp/a.sock", 2]), "no port");
    throwsConfig(() => parseSeeds("mongodb+srv://c.example.com", 27017), "mongodb+srv");
  });

  test("wrong types", () => {
    throwsConfig(() => parseSeeds(null as unknown as string), "seeds must be", "null");
    throwsConfig(() => parseSeeds(42 as unknown as string), "seeds must be", "42");
    throwsConfig(() => parseSeeds({} as unknown as string), "seeds must be");
    throwsConfig(() => parseSeeds([1, 2] as unknown as string[]), "host must be a string");
    throwsConfig(() => parseSeeds(["a", "b", 3] as unknown as string[]), "seed 2", "3 (a number)");
  });

  test("URIs and odd strings", () => {
    throwsConfig(() => parseSeeds(["mongodb://a"]), "given alone");
    throwsConfig(() => parseSeeds("http://a"), "unsupported scheme");
    throwsConfig(() => parseSeeds("a b"), 'seed "a b"', "invalid host name");
    throwsConfig(() => parseSeeds("/tmp/mongodb"), '"/tmp/mongodb"', ".sock");
    throwsConfig(() => parseSeeds("[::1"), "closing");
    throwsConfig(() => parseSeeds("mongodb://a:99999"), "port");
  });
});

describe("parseConnectionString details", () => {
  test("warnings go to console.warn when no handler is given, and are listed", () => {
    const original = console.warn;
    const seen: unknown[] = [];
    console.warn = (...args: unknown[]) => seen.push(args[0]);
    try {
      const cs = parseConnectionString("mongodb://a/?foo=bar&connectMS=5");
      assert.equal(cs.warnings.length, 2);
      assert.deepEqual(seen, cs.warnings);
      assert.ok(cs.warnings[0].includes("'foo'"));
    } finally {
      console.warn = original;
    }
  });

  test("the result has the documented shape", () => {
    const cs = parseConnectionString(
      "mongodb://u%3A:p%40@H1,h2:27018/my%3Fdb?replicaSet=rs&w=majority&journal=true",
      quiet,
    );
    assert.deepEqual(cs, {
      scheme: "mongodb",
      hosts: [{ type: "hostname", host: "h1", port: null }, { type: "hostname", host: "h2", port: 27018 }],
      auth: { username: "u:", password: "p@", db: "my?db" },
      database: "my?db",
      options: { replicaSet: "rs", w: "majority", journal: true },
      warnings: [],
    });
  });

  test("every option type converts", () => {
    const cs = parseConnectionString(
      "mongodb://a/?appName=x&w=2&wTimeoutMS=5&retryReads=false&readPreference=nearest&readPreferenceTags=dc:ny,rack:1" +
        "&readPreferenceTags=&compressors=zlib,zstd&zlibCompressionLevel=-1&authMechanism=PLAIN" +
        "&authMechanismProperties=A:b:c,CANONICALIZE_HOST_NAME:false&localThresholdMS=0&serverMonitoringMode=poll",
      quiet,
    );
    assert.deepEqual(cs.options, {
      appName: "x",
      w: 2,
      wTimeoutMS: 5,
      retryReads: false,
      readPreference: "nearest",
      readPreferenceTags: [{ dc: "ny", rack: "1" }, {}],
      compressors: ["zlib", "zstd"],
      zlibCompressionLevel: -1,
      authMechanism: "PLAIN",
      authMechanismProperties: { A: "b:c", CANONICALIZE_HOST_NAME: false },
      localThresholdMS: 0,
      serverMonitoringMode: "poll",
    });
  });

  test("a repeated option keeps the last value with a warning; ssl is tls", () => {
    const warnings: string[] = [];
    const cs = parseConnectionString("mongodb://a/?maxPoolSize=1&MAXPOOLSIZE=2&ssl=true", {
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(cs.options.maxPoolSize, 2);
    assert.equal(cs.options.tls, true);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes("more than once"));
  });

  test("an unknown compressor is dropped with a warning, the known ones kept", () => {
    const warnings: string[] = [];
    const cs = parseConnectionString("mongodb://a/?compressors=lz4,zlib", { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(cs.options.compressors, ["zlib"]);
    assert.ok(warnings[0].includes("lz4"));
  });

  test("errors name the part that is wrong", () => {
    throwsConfig(() => parseConnectionString(""), "empty");
    throwsConfig(() => parseConnectionString("mongo://a"), "scheme");
    throwsConfig(() => parseConnectionString("mongodb://a:b:c@h"), "password", "URL encoded");
    throwsConfig(() => parseConnectionString("mongodb://a@b@h"), '"@"');
    throwsConfig(() => parseConnectionString("mongodb://a%zz@h"), "%");
    throwsConfig(() => parseConnectionString("mongodb://a/b@h/db"), '"/"');
    throwsConfig(() => parseConnectionString("mongodb:///tmp/m.sock"), "URL encoded");
    throwsConfig(() => parseConnectionString("mongodb://h/a$b"), "database name", '"$"');
    throwsConfig(() => parseConnectionString("mongodb://h/?w"), '"w"', "key=value");
    throwsConfig(
      () => parseConnectionString("mongodb://h/?authMechanism=SCRAM-SHA-512"),
      "authMechanism",
      "SCRAM-SHA-512",
    );
    throwsConfig(() => parseConnectionString("mongodb://a,b/?directConnection=true"), "directConnection", "2");
    throwsConfig(() => parseConnectionString("mongodb://h/?tls=true&ssl=false"), "contradict");
    throwsConfig(
      () => parseConnectionString("mongodb://h/?tlsInsecure=true&tlsAllowInvalidHostnames=false"),
      "tlsInsecure",
    );
    throwsConfig(() => parseConnectionString("mongodb+srv://a.b.c:27017"), "port");
    throwsConfig(() => parseConnectionString("mongodb+srv://a.b.c/?directConnection=true"), "directConnection");
    throwsConfig(() => parseConnectionString(undefined as unknown as string), "must be a string");
  });

  test("parseHostAddress takes raw text when asked", () => {
    assert.deepEqual(parseHostAddress("/var/run/m.sock", { percentEncoded: false }), {
      type: "unix",
      host: "/var/run/m.sock",
      port: null,
    });
    assert.deepEqual(parseHostAddress("a%2Fb.sock"), { type: "unix", host: "a/b.sock", port: null });
  });
});

describe("validateClientOptions: options given in code", () => {
  test("valid options pass through, names normalized", () => {
    const warnings: string[] = [];
    const o = validateClientOptions(
      {
        ReplicaSet: "rs",
        maxPoolSize: 10,
        ssl: true,
        readPreferenceTags: [{ dc: "ny" }],
        readPreference: "secondary",
        w: "majority",
        extra: undefined,
      },
      "client options",
      { onWarning: (m) => warnings.push(m) },
    );
    assert.deepEqual(o, {
      replicaSet: "rs",
      maxPoolSize: 10,
      tls: true,
      readPreferenceTags: [{ dc: "ny" }],
      readPreference: "secondary",
      w: "majority",
    });
    assert.deepEqual(warnings, []);
  });

  test("wrong types are OptionTypeErrors naming the option, the expected type and the value; bad values of the right type ConfigurationErrors", () => {
    throwsType(
      () => validateClientOptions({ maxPoolSize: "10" }),
      "maxPoolSize",
      "non-negative integer",
      '"10" (a string)',
    );
    throwsType(() => validateClientOptions({ tls: "true" }), "tls", "boolean", '"true"');
    throwsType(() => validateClientOptions({ retryWrites: 1 }), "retryWrites", "boolean", "1 (a number)");
    throwsType(() => validateClientOptions({ replicaSet: 5 }), "replicaSet", "string", "5 (a number)");
    throwsConfig(() => validateClientOptions({ replicaSet: "" }), "replicaSet", "non-empty string");
    throwsConfig(
      () => validateClientOptions({ readPreference: "SECONDARY" }),
      "readPreference",
      "secondaryPreferred",
      '"SECONDARY"',
    );
    throwsType(() => validateClientOptions({ readPreferenceTags: { dc: "ny" } }), "readPreferenceTags", "an object");
    throwsType(
      () => validateClientOptions({ readPreference: "nearest", readPreferenceTags: [{ dc: 1 }] }),
      "readPreferenceTags",
      '"dc"',
      "1 (a number)",
    );
    throwsConfig(() => validateClientOptions({ w: -1 }), "w", "-1");
    throwsConfig(() => validateClientOptions({ w: 1.5 }), "w", "1.5");
    throwsConfig(() => validateClientOptions({ heartbeatFrequencyMS: 100 }), "heartbeatFrequencyMS", ">= 500", "100");
    throwsConfig(() => validateClientOptions({ serverSelectionTimeoutMS: 0 }), "serverSelectionTimeoutMS", "positive");
    throwsConfig(() => validateClientOptions({ localThresholdMS: Number.NaN }), "localThresholdMS", "NaN");
    throwsConfig(() => validateClientOptions({ maxPoolSize: 2 ** 31 }), "maxPoolSize", "too large");
    throwsType(() => validateClientOptions({ socketTimeoutMS: 10n }), "socketTimeoutMS", "10n (a bigint)");
    throwsConfig(() => validateClientOptions({ appName: "x".repeat(129) }), "appName", "128 bytes");
    throwsConfig(() => validateClientOptions({ appName: "é".repeat(65) }), "appName", "130");
    throwsType(
      () => validateClientOptions({ authMechanismProperties: "A:b" }),
      "authMechanismProperties",
      "document",
    );
    throwsConfig(() => validateClientOptions({ authMechanism: "scram-sha-1" }), "authMechanism", "SCRAM-SHA-1");
    throwsType(() => validateClientOptions({ compressors: "zlib" }), "compressors", "list");
    throwsConfig(() => validateClientOptions({ compressors: ["lz4"] }), "compressors", '"lz4"');
    throwsConfig(() => validateClientOptions({ zlibCompressionLevel: 10 }), "zlibCompressionLevel", "-1 to 9");
    throwsConfig(() => validateClientOptions({ maxStalenessSeconds: -2 }), "maxStalenessSeconds");
    throwsConfig(() => validateClientOptions({ srvServiceName: "bad_name" }), "srvServiceName", "RFC 6335");
    throwsType(() => validateClientOptions(null as unknown as Record<string, unknown>), "client options", "must be an object");
  });

  test("the source label starts every message", () => {
    throwsConfig(
      () => validateClientOptions({ maxPoolSize: -1 }, "ReplicaSetConnection options"),
      "ReplicaSetConnection options: maxPoolSize",
    );
  });

  test("an unknown key is a ConfigurationError naming it; deprecated aliases warn", () => {
    throwsConfig(
      () => validateClientOptions({ slaveOk: true, wtimeout: 5 }),
      "client options: unknown option 'slaveOk'",
    );
    throwsConfig(() => validateClientOptions({ maxPoolSzie: 5 }), "unknown option 'maxPoolSzie'");
    const warnings: string[] = [];
    const o = validateClientOptions({ wtimeout: 5, j: true }, "client options", {
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(o, { wTimeoutMS: 5, journal: true });
    assert.equal(warnings.length, 2);
    assert.ok(warnings[0].includes("wtimeout"));
  });

  test("the canonical name wins over its deprecated alias; aliases must agree", () => {
    const warnings: string[] = [];
    assert.deepEqual(
      validateClientOptions({ wtimeout: 5, wTimeoutMS: 7 }, "o", { onWarning: (m) => warnings.push(m) }),
      { wTimeoutMS: 7 },
    );
    assert.ok(warnings.some((w) => w.includes("'wtimeout' ignored")), warnings.join(" | "));
    warnings.length = 0;
    assert.deepEqual(
      validateClientOptions({ wTimeoutMS: 7, wtimeout: 5 }, "o", { onWarning: (m) => warnings.push(m) }),
      { wTimeoutMS: 7 },
    );
    assert.equal(warnings.length, 1);
    throwsConfig(() => validateClientOptions({ tls: true, ssl: false }), "ssl", "different values");
  });

  test("combinations are left to resolveClientOptions (the URI may hold the rest)", () => {
    assert.deepEqual(validateClientOptions({ readPreferenceTags: [{ dc: "ny" }] }), {
      readPreferenceTags: [{ dc: "ny" }],
    });
  });
});

describe("resolveClientOptions", () => {
  test("defaults", () => {
    const r = resolveClientOptions({}, {});
    assert.equal(r.readPreference, "primary");
    assert.deepEqual(r.readPreferenceTags, []);
    assert.equal(r.maxStalenessSeconds, -1);
    assert.equal(r.localThresholdMS, 15);
    assert.equal(r.serverSelectionTimeoutMS, 30000);
    assert.equal(r.heartbeatFrequencyMS, 10000);
    assert.equal(r.connectTimeoutMS, 10000);
    assert.equal(r.socketTimeoutMS, 0);
    assert.equal(r.maxPoolSize, 100);
    assert.equal(r.minPoolSize, 0);
    assert.equal(r.waitQueueTimeoutMS, 0);
    assert.equal(r.retryReads, true);
    assert.equal(r.retryWrites, true);
    assert.equal(r.tls, false);
    assert.equal(r.directConnection, false);
    assert.equal(r.srvServiceName, "mongodb");
    assert.equal(r.replicaSet, undefined);
    assert.equal(r.proxyPort, undefined);
  });

  test("options in code override the connection string, option by option", () => {
    const cs = parseConnectionString(
      "mongodb://a,b/?replicaSet=rs&maxPoolSize=5&readPreference=secondary&readPreferenceTags=dc:ny",
      quiet,
    );
    const r = resolveClientOptions(cs.options, {
      maxPoolSize: 20,
      readPreferenceTags: [{ dc: "sf" }],
      appName: undefined,
    }, { hostCount: 2 });
    assert.equal(r.replicaSet, "rs");
    assert.equal(r.maxPoolSize, 20);
    assert.deepEqual(r.readPreferenceTags, [{ dc: "sf" }]);
    assert.equal(r.readPreference, "secondary");
  });

  test("combinations of options given in code", () => {
    const r = (o: Record<string, unknown>) => resolveClientOptions({}, o);
    throwsConfig(
      () => r({ tlsInsecure: true, tlsAllowInvalidCertificates: true }),
      "tlsInsecure",
      "tlsAllowInvalidCertificates",
    );
    throwsConfig(() => r({ loadBalanced: true, replicaSet: "rs" }), "loadBalanced", "replicaSet");
    throwsConfig(() => r({ readPreferenceTags: [{ dc: "ny" }] }), "primary");
    throwsConfig(() => r({ maxStalenessSeconds: 90 }), "primary");
    throwsConfig(() => r({ w: 0, journal: true }), "w=0");
    throwsConfig(() => r({ minPoolSize: 5, maxPoolSize: 2 }), "minPoolSize");
    throwsConfig(() => r({ proxyPort: 1080 }), "proxyHost");
    throwsConfig(() => r({ proxyHost: "p", proxyUsername: "u" }), "together");
    throwsConfig(() => r({ authMechanism: "MONGODB-X509", authSource: "admin" }), "$external");
    assert.deepEqual(r({ readPreferenceTags: [{}] }).readPreferenceTags, [{}]);
    assert.equal(r({ maxStalenessSeconds: -1 }).maxStalenessSeconds, -1);
    assert.equal(r({ minPoolSize: 5, maxPoolSize: 0 }).minPoolSize, 5);
  });

  test("combinations are checked after the merge", () => {
    const cs = parseConnectionString("mongodb://a/?tlsInsecure=true", quiet);
    throwsConfig(() => resolveClientOptions(cs.options, { tlsAllowInvalidCertificates: false }), "tlsInsecure");
    throwsConfig(() => resolveClientOptions({}, { directConnection: true }, { hostCount: 2 }), "directConnection");
    throwsConfig(
      () =>
        resolveClientOptions({ readPreference: "secondary" }, {
          readPreference: "primary",
          readPreferenceTags: [{ a: "b" }],
        }),
      "primary",
    );
    throwsConfig(() => resolveClientOptions({}, { srvMaxHosts: 2 }, { srv: false }), "srvMaxHosts");
  });

  test("TLS: srv default, explicit override, implicit from tls options, tlsInsecure relaxes both checks", () => {
    const srv = parseConnectionString("mongodb+srv://c.example.com", quiet);
    assert.equal(resolveClientOptions(srv.options, {}, { srv: true }).tls, true);
    assert.equal(resolveClientOptions(srv.options, { tls: false }, { srv: true }).tls, false);
    assert.equal(resolveClientOptions({}, { tlsCAFile: "ca.pem" }).tls, true);
    const r = resolveClientOptions({ tlsInsecure: true }, {});
    assert.equal(r.tls, true);
    assert.equal(r.tlsAllowInvalidCertificates, true);
    assert.equal(r.tlsAllowInvalidHostnames, true);
  });

  test("proxyPort defaults to 1080 with a proxyHost", () => {
    assert.equal(resolveClientOptions({}, { proxyHost: "p" }).proxyPort, 1080);
  });

  test("bad object options are reported by name", () => {
    throwsType(
      () => resolveClientOptions({}, { connectTimeoutMS: "5s" }),
      "connectTimeoutMS",
      "client options: connectTimeoutMS",
      '"5s"',
    );
    throwsConfig(() => resolveClientOptions({}, { connectTimeoutMS: -5 }), "client options: connectTimeoutMS", "-5");
    throwsConfig(() => resolveClientOptions({}, { connectTimeoutMSS: 5 }), "unknown option 'connectTimeoutMSS'");
  });
});

describe("hostile input", () => {
  test("a __proto__ tag is kept as a tag", () => {
    const cs = parseConnectionString("mongodb://a/?readPreference=nearest&readPreferenceTags=__proto__:x", quiet);
    const tags = cs.options.readPreferenceTags!;
    assert.deepEqual(Object.keys(tags[0]), ["__proto__"]);
    assert.equal(Object.getOwnPropertyDescriptor(tags[0], "__proto__")?.value, "x");
    assert.equal(Object.getPrototypeOf(tags[0]), Object.prototype);
  });

  test("long and odd strings fail fast with a ConfigurationError, never a RangeError", () => {
    const long = "a".repeat(200_000);
    assert.equal(parseConnectionString(`mongodb://${long}`, quiet).hosts[0].host.length, 200_000);
    throwsConfig(() => parseConnectionString(`mongodb://${",".repeat(10_000)}`), "stray comma");
    throwsConfig(() => parseConnectionString("mongodb://h/?" + "%".repeat(3) + "=1"), "percent-encoding");
    const warnings: string[] = [];
    parseConnectionString("mongodb://h/?maxPoolSize=" + "9".repeat(400), { onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].length < 300, "a huge value is cut short in the message");
    throwsConfig(() => parseConnectionString("mongodb://" + "b".repeat(1000) + ":x"), "(1002 characters)");
    throwsConfig(() => parseSeeds("h:" + "9".repeat(400)), "port");
  });

  test("a huge integer option value is a warning, not a crash", () => {
    const warnings: string[] = [];
    const cs = parseConnectionString("mongodb://h/?connectTimeoutMS=99999999999999999999", {
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(cs.options.connectTimeoutMS, undefined);
    assert.equal(warnings.length, 1);
  });
});
