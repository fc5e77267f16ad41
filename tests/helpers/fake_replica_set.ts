/**
 * Several loopback fake mongods (`fake_mongod.ts`) answering `hello` as the
 * members of one replica set, with roles the test changes at will: elect a
 * member, step the primary down, change the hosts the members report, or
 * kill a member (its server closes every connection and stops listening).
 * Every request each member receives is in its `requests` log.
 *
 * @module
 */
import { type Document, ObjectId } from "../../src/bson/mod.ts";
import { type FakeHandler, type FakeMongod, startFakeMongod } from "./fake_mongod.ts";

/** What a member says it is. */
export type FakeRole = "primary" | "secondary" | "arbiter" | "other";

/** Options of {@linkcode startFakeReplicaSet}. */
export interface FakeReplicaSetOptions {
  /** The set name (default "foo"). */
  setName?: string;
  /** One role per member (default primary, secondary, secondary). */
  roles?: FakeRole[];
  /** maxWireVersion of every member (default 17: OP_MSG). */
  maxWireVersion?: number;
  /** Answers non-hello commands on every member (default: fake_mongod's defaults). */
  handler?: FakeHandler;
}

/** A running fake replica set. */
export interface FakeReplicaSet {
  readonly setName: string;
  readonly members: FakeMongod[];
  /** `127.0.0.1:<port>` of each member, in order. */
  readonly addresses: string[];
  /** Current roles. */
  readonly roles: FakeRole[];
  /** Changes roles (and the `primary` every member reports); a new primary gets a newer electionId. */
  setRoles(roles: FakeRole[]): void;
  /** Makes member `i` the only primary; the old one becomes a secondary (unless killed). */
  elect(i: number): void;
  /** The hosts every member reports (default: all addresses). */
  setHosts(hosts: string[]): void;
  /** Closes member `i` (listener and every connection); its role becomes "other" for the rest. */
  kill(i: number): Promise<void>;
  /** Whether member `i` was killed. */
  isDead(i: number): boolean;
  /** Monitoring checks member `i` received: hello/isMaster after a connection's handshake. */
  heartbeats(i: number): number;
  /** Commands (not hello) member `i` received, optionally of one name. */
  commands(i: number, name?: string): ReturnType<FakeMongod["commands"]>;
  close(): Promise<void>;
}

/** Starts the members on free loopback ports and makes them answer as one set. */
export async function startFakeReplicaSet(options: FakeReplicaSetOptions = {}): Promise<FakeReplicaSet> {
  const setName = options.setName ?? "foo";
  const roles = [...(options.roles ?? ["primary", "secondary", "secondary"])];
  const members: FakeMongod[] = [];
  for (let i = 0; i < roles.length; i++) {
    members.push(await startFakeMongod({ maxWireVersion: options.maxWireVersion ?? 17, handler: options.handler }));
  }
  const addresses = members.map((m) => m.address);
  let hosts = [...addresses];
  const dead = new Set<number>();
  let election = 1;
  const electionIds = roles.map(() => electionId(election));

  const apply = () => {
    const primary = roles.findIndex((r, i) => r === "primary" && !dead.has(i));
    const arbiters = hosts.filter((h) => roles[addresses.indexOf(h)] === "arbiter");
    for (let i = 0; i < members.length; i++) {
      const role = roles[i];
      const hello: Document = {
        ismaster: role === "primary",
        isWritablePrimary: role === "primary",
        secondary: role === "secondary",
        setName,
        setVersion: 1,
        hosts: hosts.filter((h) => !arbiters.includes(h)),
        me: addresses[i],
        lastWrite: { lastWriteDate: new Date() },
      };
      if (arbiters.length > 0) hello.arbiters = arbiters;
      if (role === "arbiter") hello.arbiterOnly = true;
      if (role === "other") hello.hidden = true;
      if (primary >= 0) hello.primary = addresses[primary];
      if (role === "primary") hello.electionId = electionIds[i];
      members[i].hello = hello;
    }
  };
  apply();

  const set: FakeReplicaSet = {
    setName,
    members,
    addresses,
    roles,
    setRoles(next) {
      for (let i = 0; i < roles.length; i++) {
        if (next[i] === "primary" && roles[i] !== "primary") electionIds[i] = electionId(++election);
        roles[i] = next[i];
      }
      apply();
    },
    elect(i) {
      set.setRoles(roles.map((r, j) => (j === i ? "primary" : r === "primary" ? "secondary" : r)));
    },
    setHosts(next) {
      hosts = [...next];
      apply();
    },
    async kill(i) {
      dead.add(i);
      roles[i] = "other";
      apply();
      await members[i].close();
    },
    isDead: (i) => dead.has(i),
    heartbeats: (i) => members[i].requests.filter((r) => r.isHello && r.index > 1).length,
    commands: (i, name) => members[i].commands(name),
    async close() {
      await Promise.all(members.map((m) => m.close()));
    },
  };
  return set;
}

function electionId(n: number): ObjectId {
  return new ObjectId(`7fffffff${n.toString(16).padStart(16, "0")}`);
}
