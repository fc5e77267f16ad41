/**
 * PyMongo 2.1's "Connecting to a Replica Set" guide, runnable. It starts a
 * 3-member simulated replica set "foo" that has NOT been initiated, runs
 * `replSetInitiate` through a direct `Connection`, connects a
 * `ReplicaSetConnection` with every seed form, writes and reads, kills the
 * primary to show `AutoReconnect` and the failover, and routes reads with
 * `ReadPreference.SECONDARY` and `ReadPreference.SECONDARY_ONLY`, naming the
 * member that served each read from the driver's own `commandSucceeded`
 * events. Last, with every secondary out of reach, it shows the one real
 * difference between the two modes: SECONDARY reads the primary,
 * SECONDARY_ONLY fails.
 *
 *   deno run --allow-net --allow-env=MONGODB_URI examples/replica_set_guide.ts
 *   bun examples/replica_set_guide.ts
 *
 * With `MONGODB_URI` set (a `mongodb://...?replicaSet=...` URI of a running,
 * initiated set) it uses that set instead and skips what only the simulator
 * can do (initiating it, killing the primary, cutting off the secondaries);
 * the output says what was skipped.
 */
import {
  AutoReconnect,
  type ClientConnectionOptions,
  Connection,
  EJSON,
  MongoError,
  ReadPreference,
  ReplicaSetConnection,
} from "../mod.ts";
import { type ReplicaSet, startReplicaSet } from "../src/testing/mod.ts";
import { parseConnectionString } from "../src/topology/mod.ts";

const g = globalThis as {
  Deno?: {
    version: { deno: string };
    env: { get(name: string): string | undefined };
    permissions: { querySync(d: { name: "env"; variable: string }): { state: string } };
  };
  Bun?: { version: string };
  process?: { env: Record<string, string | undefined> };
};
const runtime = g.Deno !== undefined
  ? `Deno ${g.Deno.version.deno}`
  : g.Bun !== undefined
  ? `Bun ${g.Bun.version}`
  : "?";

/** MONGODB_URI, if set; on Deno only when --allow-env lets us read it (else the simulator is used, with a note). */
function readUri(): string | undefined {
  if (g.Deno === undefined) return g.process?.env.MONGODB_URI || undefined;
  if (g.Deno.permissions.querySync({ name: "env", variable: "MONGODB_URI" }).state !== "granted") {
    console.log("# (no --allow-env=MONGODB_URI: not looking for MONGODB_URI)");
    return undefined;
  }
  return g.Deno.env.get("MONGODB_URI") || undefined;
}
const uriFromEnv = readUri();

// Short heartbeats so the failover shows in about a second instead of the
// default 10 s; everything else is the driver's defaults.
let OPTIONS: ClientConnectionOptions = {
  heartbeatFrequencyMS: 500,
  serverSelectionTimeoutMS: 15_000,
};

function show(value: unknown): string {
  return EJSON.stringify(value, { relaxed: true });
}

function say(line: string): void {
  console.log(line);
}

function split(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/**
 * Which member served the last find, from the driver's own commandSucceeded
 * event (works the same against the simulator and against MONGODB_URI), with
 * that member's role as the driver sees it.
 */
function servedBy(c: ReplicaSetConnection, address: string | undefined): string {
  if (address === undefined) return "nobody?";
  const role = c.primary !== null && address === `${c.primary[0]}:${c.primary[1]}`
    ? "PRIMARY"
    : c.secondaries.some(([h, p]) => `${h}:${p}` === address)
    ? "SECONDARY"
    : "?";
  return `${address} (${role}, from the driver's commandSucceeded event)`;
}

say(`# PyMongo 2.1's replica-set guide on ${runtime}`);

let rs: ReplicaSet | undefined;
let hosts: string[];
let setName: string;
if (uriFromEnv === undefined) {
  rs = await startReplicaSet({
    members: 3,
    name: "foo",
    initiated: false,
    electionDelayMS: 300,
  });
  hosts = rs.hosts;
  setName = rs.name;
  say(
    `# Started 3 simulated mongods with --replSet foo, not initiated: ${hosts.join(", ")}`,
  );
} else {
  say(
    `# MONGODB_URI is set: using that set; the simulator-only steps (replSetInitiate, killing the primary,`,
  );
  say(`# the request log) are skipped`);
  const probe = await ReplicaSetConnection.connect(uriFromEnv, OPTIONS);
  hosts = [...probe.hosts];
  setName = probe.options.replicaSet ?? "";
  // The guide's seed forms name hosts only: a deployment that needs TLS or a
  // user (Atlas, say) gets the URI's settings passed along with each form.
  const o = probe.options;
  const auth = parseConnectionString(uriFromEnv).auth;
  OPTIONS = {
    ...OPTIONS,
    tls: o.tls,
    tlsCAFile: o.tlsCAFile,
    tlsAllowInvalidCertificates: o.tlsAllowInvalidCertificates,
    authSource: o.authSource ?? (auth?.db || undefined),
    authMechanism: o.authMechanism,
    auth: auth === null ? undefined : { username: auth.username ?? undefined, password: auth.password ?? undefined },
  };
  if (o.tls || auth !== null) say("# (the URI's TLS settings and user go along with each seed form below)");
  await probe.close();
}

let client: ReplicaSetConnection | undefined;
try {
  // --- Initializing the set -------------------------------------------------
  const [firstHost, firstPort] = split(hosts[0]);
  if (rs !== undefined) {
    say("\n## Initializing the set through a direct connection to one member");
    say(
      `> const c = new Connection("${firstHost}", ${firstPort}, { slaveOk: true })`,
    );
    const direct = new Connection(firstHost, firstPort, {
      slaveOk: true,
      ...OPTIONS,
    });
    try {
      const config = {
        _id: setName,
        members: hosts.map((host, i) => ({ _id: i, host })),
      };
      say(`> await c.admin.command("replSetInitiate", ${show(config)})`);
      const reply = await direct.admin.command("replSetInitiate", config);
      say(show({ ok: reply.ok }));
      say(`> c.toString()\n${direct}`);
    } finally {
      await direct.close();
    }
  } else {
    say(
      "\n## Initializing the set: skipped (MONGODB_URI names a set that is already initiated)",
    );
  }

  // --- Connecting with each seed form ---------------------------------------
  say("\n## Connecting to the set: every seed form discovers every member");
  const [secondHost, secondPort] = split(hosts[1] ?? hosts[0]);
  const forms: [
    string,
    ConstructorParameters<typeof ReplicaSetConnection>[0],
    ClientConnectionOptions,
  ][] = [
    [`"${hosts[0]}", { replicaSet: "${setName}" }`, hosts[0], {
      replicaSet: setName,
    }],
    [`["${secondHost}", ${secondPort}], { replicaSet: "${setName}" }`, [
      secondHost,
      secondPort,
    ], {
      replicaSet: setName,
    }],
    [
      `${show(hosts.slice(0, 2))}, { replicaSet: "${setName}" }`,
      hosts.slice(0, 2),
      { replicaSet: setName },
    ],
    [
      `"mongodb://${hosts.join(",")}/?replicaSet=${setName}"`,
      `mongodb://${hosts.join(",")}/?replicaSet=${setName}`,
      {},
    ],
  ];
  for (const [text, seeds, options] of forms) {
    say(`> await ReplicaSetConnection.connect(${text})`);
    const c = await ReplicaSetConnection.connect(seeds, {
      ...options,
      ...OPTIONS,
    });
    try {
      say(String(c));
    } finally {
      await c.close();
    }
  }

  // --- Writes and reads -----------------------------------------------------
  say(
    "\n## Using the connection (retryReads: false, so failures show as the guide shows them)",
  );
  say(`> const c = await ReplicaSetConnection.connect("${hosts[0]}", { replicaSet: "${setName}", retryReads: false })`);
  client = await ReplicaSetConnection.connect(hosts[0], {
    replicaSet: setName,
    retryReads: false,
    ...OPTIONS,
  });
  const c = client;
  const db = c.db("test");
  say(`> const db = c.db("test")`);
  say(`> await db.collection("test").insertOne({ x: 1 })`);
  const inserted = await db.collection("test").insertOne({ x: 1 });
  say(show(inserted));
  say(`> await db.collection("test").findOne({ x: 1 })`);
  say(show(await db.collection("test").findOne({ x: 1 })));
  say(`> [c.host, c.port]   // the primary`);
  say(show([c.host, c.port]));
  say(`> c.primary, c.secondaries`);
  say(`${show(c.primary)} ${show(c.secondaries)}`);

  // --- Failover -------------------------------------------------------------
  if (rs !== undefined) {
    const old = `${c.host}:${c.port}`;
    say(`\n## Failover: the primary ${old} dies while a read is on its way`);
    // The simulator holds the reply back so that the read is surely in flight
    // when the primary dies: the driver cannot know whether it ran.
    rs.fault(old, { delayMS: 200, commands: ["find"] });
    const logged = rs.requests(old).length;
    say(`> await db.collection("test").findOne({ x: 1 })`);
    const pending = db.collection("test").findOne({ x: 1 }).then(
      (doc) => `${show(doc)}   (the reply beat the kill)`,
      (e) => {
        if (!(e instanceof AutoReconnect)) throw e;
        return `AutoReconnect: ${e.message}`;
      },
    );
    for (
      let i = 0;
      i < 400 &&
      !rs.requests(old).slice(logged).some((r) => r.command === "find");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await rs.kill(old);
    say(await pending);
    say(
      "# The set elects a new primary; the driver re-checks the set at once and later operations reach it",
    );
    say(
      "# without reconnecting (a read that meets no primary yet waits for one, up to serverSelectionTimeoutMS)",
    );
    await rs.waitForPrimary({ not: old });
    // The election has happened in the set; the driver learns it from its monitors.
    let doc = null;
    let failures = 0;
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        doc = await db.collection("test").findOne({ x: 1 });
        break;
      } catch (e) {
        if (!(e instanceof AutoReconnect) || attempt === 49) throw e;
        failures++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    say(`> await db.collection("test").findOne({ x: 1 })`);
    say(
      show(doc) +
        (failures === 0 ? "" : `   (after ${failures} more AutoReconnect)`),
    );
    say(`> [c.host, c.port]   // the new primary`);
    say(show([c.host, c.port]));
    say(
      `# ${old} comes back and rejoins as a secondary; the driver's monitors see it`,
    );
    rs.clearFaults(old);
    await rs.restart(old);
    for (let i = 0; i < 200 && c.secondaries.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    say(`> c.primary, c.secondaries`);
    say(`${show(c.primary)} ${show(c.secondaries)}`);
  } else {
    say("\n## Failover: skipped (killing the primary needs the simulator)");
  }

  // --- Read preferences -----------------------------------------------------
  say("\n## Read preferences");
  say(`> c.addEventListener("commandSucceeded", (e) => { if (e.commandName === "find") served = e.address; })`);
  let served: string | undefined;
  c.addEventListener("commandSucceeded", (e) => {
    if (e.commandName === "find") served = e.address;
  });
  for (
    const [name, pref] of [["SECONDARY", ReadPreference.SECONDARY], [
      "SECONDARY_ONLY",
      ReadPreference.SECONDARY_ONLY,
    ]] as const
  ) {
    say(`> c.readPreference = ReadPreference.${name}   // mode "${pref.mode}"`);
    c.readPreference = pref;
    for (let i = 0; i < 4; i++) {
      served = undefined;
      say(`> await db.collection("test").findOne({ x: 1 })`);
      const doc = await db.collection("test").findOne({ x: 1 });
      say(`${show(doc)}   served by ${servedBy(c, served)}`);
    }
  }

  // --- The one difference between the two modes -------------------------------
  if (rs !== undefined) {
    say("\n## Every secondary out of reach: SECONDARY falls back to the primary, SECONDARY_ONLY does not");
    // The secondaries stay in the set (the primary keeps its majority); they only close every
    // connection from the application, as when a network partition cuts the app off from them.
    for (const m of rs.secondaries) rs.fault(m.host, { closeNext: 1_000_000 });
    say(`# the simulator: both secondaries now close every connection from the application`);
    for (let i = 0; i < 400 && c.secondaries.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    say(`> c.primary, c.secondaries`);
    say(`${show(c.primary)} ${show(c.secondaries)}`);
    served = undefined;
    say(`> await db.collection("test").findOne({ x: 1 }, { readPreference: ReadPreference.SECONDARY })`);
    const doc = await db.collection("test").findOne({ x: 1 }, { readPreference: ReadPreference.SECONDARY });
    say(`${show(doc)}   served by ${servedBy(c, served)}`);
    say(
      `> await db.collection("test").findOne({ x: 1 }, { readPreference: ReadPreference.SECONDARY_ONLY, timeoutMS: 1500 })`,
    );
    try {
      await db.collection("test").findOne({ x: 1 }, { readPreference: ReadPreference.SECONDARY_ONLY, timeoutMS: 1500 });
      say("unexpected: a SECONDARY_ONLY read succeeded with no secondary");
    } catch (e) {
      if (!(e instanceof MongoError)) throw e;
      say(`${e.name}: ${e.message.split("\n")[0]}`);
    }
    rs.clearFaults();
  }
  say("\nok: the guide ran to the end");
} catch (e) {
  console.error(
    `guide FAILED: ${e instanceof MongoError ? `${e.name}: ${e.message}` : String(e)}`,
  );
  throw e;
} finally {
  await client?.close();
  await rs?.close();
}
