// The TLS options at the client level: they reach the socket of every
// connection, and a client key that cannot be used surfaces in server
// selection's error with the option's name.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ServerSelectionError } from "../../src/errors.ts";
import { ReplicaSetConnection } from "../../src/client/mod.ts";
import type { SocketOptions } from "../../src/net/socket.ts";
import { startReplicaSet, type ReplicaSet } from "../../src/testing/mod.ts";
import { certSkipReason, type ClientCerts, makeClientCerts, makeTestCerts, type TestCerts } from "../helpers/tls_certs.ts";

describe("TLS client options", () => {
  test("the TLS options reach the socket: client certificate, its password, tlsAllowInvalidHostnames", async () => {
    const seen: SocketOptions[] = [];
    const c = new ReplicaSetConnection("127.0.0.1:1", {
      replicaSet: "tls",
      serverSelectionTimeoutMS: 200,
      tlsCertificateKeyFile: "/certs/client.pem",
      tlsCertificateKeyFilePassword: "secret",
      tlsAllowInvalidHostnames: true,
      socketFactory: (o) => {
        seen.push(o);
        return Promise.reject(new Error("not connecting"));
      },
    });
    try {
      await c.db("t").collection("c").findOne().catch(() => {});
      assert.ok(seen.length > 0);
      for (const o of seen) {
        assert.equal(o.tls, true, "a tls* option implies tls");
        assert.equal(o.tlsCertificateKeyFile, "/certs/client.pem");
        assert.equal(o.tlsCertificateKeyFilePassword, "secret");
        assert.equal(o.tlsAllowInvalidHostnames, true);
      }
    } finally {
      await c.close();
    }
  });

  describe("a client key that cannot be used", () => {
    const skip = certSkipReason();
    let certs: TestCerts;
    let client: ClientCerts;
    let rs: ReplicaSet;
    before(async () => {
      if (skip !== undefined) return;
      certs = makeTestCerts();
      client = makeClientCerts(certs);
      rs = await startReplicaSet({ members: 1, name: "tlskey" });
    });
    after(async () => {
      if (skip !== undefined) return;
      await rs.close();
      certs.remove();
    });

    test("a wrong tlsCertificateKeyFilePassword: server selection's error names it", { skip }, async () => {
      const c = new ReplicaSetConnection(rs.hosts[0], {
        replicaSet: "tlskey",
        serverSelectionTimeoutMS: 1000,
        tlsCAFile: certs.caFile,
        tlsCertificateKeyFile: client.encryptedClientFile,
        tlsCertificateKeyFilePassword: "wrong",
      });
      try {
        const error = await c.db("t").collection("c").findOne().then(() => null, (e) => e);
        assert.ok(error instanceof ServerSelectionError, `got ${error}`);
        assert.match(error.message, /ConfigurationError: .*tlsCertificateKeyFilePassword/);
      } finally {
        await c.close();
      }
    });
  });
});
