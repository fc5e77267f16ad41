// TXT lookups keep each record's strings together on every runtime (Bun's own
// resolveTxt does not, so on Bun src/net/_dns_txt_udp.ts asks the server
// directly): the resolver against the project's DNS test server, and the
// reply reader against hand-made replies (truncated, another id, server
// errors, compressed names, cut messages).
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { systemResolver } from "../../src/net/dns.ts";
import { decodeTxtReply, encodeTxtQuery, parseServerEntry, queryTxtOverUdp } from "../../src/net/_dns_txt_udp.ts";
import { startDnsServer } from "../helpers/dns_server.ts";

/** A reply to `query` with `flags` and TXT answers (names as pointers to the question). */
function reply(query: Uint8Array, flags: number, answers: string[][], answerCount = answers.length): Uint8Array {
  const rdatas = answers.map((strings) => {
    const parts = strings.map((s) => new TextEncoder().encode(s));
    const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out[o++] = p.length;
      out.set(p, o);
      o += p.length;
    }
    return out;
  });
  const out = new Uint8Array(query.length + rdatas.reduce((n, r) => n + 12 + r.length, 0));
  out.set(query);
  const v = new DataView(out.buffer);
  v.setUint16(2, 0x8000 | flags);
  v.setUint16(6, answerCount);
  let w = query.length;
  for (const r of rdatas) {
    v.setUint16(w, 0xc00c);
    v.setUint16(w + 2, 16);
    v.setUint16(w + 4, 1);
    v.setUint32(w + 6, 60);
    v.setUint16(w + 10, r.length);
    out.set(r, w + 12);
    w += 12 + r.length;
  }
  return out;
}

describe("TXT replies", () => {
  const name = "Cluster0.Example.COM.";
  const query = encodeTxtQuery(0xbeef, name);

  test("the query: id, recursion desired, one TXT question for the name", () => {
    const v = new DataView(query.buffer);
    assert.equal(v.getUint16(0), 0xbeef);
    assert.equal(v.getUint16(2), 0x0100);
    assert.equal(v.getUint16(4), 1);
    assert.deepEqual([...query.subarray(12, 21)], [8, ..."Cluster0".split("").map((c) => c.charCodeAt(0))]);
    assert.equal(v.getUint16(query.length - 4), 16);
    assert.throws(() => encodeTxtQuery(1, "a..b"), /not a DNS name/);
  });

  test("records keep their strings; NXDOMAIN and no answer are no records", () => {
    assert.deepEqual(decodeTxtReply(reply(query, 0, [["replicaS", "et=rep", "l0"], ["x=1"]]), 0xbeef, name), {
      truncated: false,
      records: [["replicaS", "et=rep", "l0"], ["x=1"]],
    });
    assert.deepEqual(decodeTxtReply(reply(query, 3, []), 0xbeef, name), { truncated: false, records: [] });
    assert.deepEqual(decodeTxtReply(reply(query, 0, []), 0xbeef, name), { truncated: false, records: [] });
    assert.equal(decodeTxtReply(reply(query, 0x0200, [["a"]]), 0xbeef, name)?.truncated, true);
  });

  test("a reply to another query is not this one's", () => {
    assert.equal(decodeTxtReply(reply(query, 0, [["a"]]), 0xbeee, name), null, "another id");
    assert.equal(decodeTxtReply(reply(query, 0, [["a"]]), 0xbeef, "other.example.com"), null, "another name");
    const asQuery = reply(query, 0, [["a"]]);
    new DataView(asQuery.buffer).setUint16(2, 0); // QR clear: a query, not a reply
    assert.equal(decodeTxtReply(asQuery, 0xbeef, name), null);
  });

  test("server errors and cut or malformed replies are errors", () => {
    assert.throws(() => decodeTxtReply(reply(query, 2, []), 0xbeef, name), /answered SERVFAIL/);
    assert.throws(() => decodeTxtReply(reply(query, 5, []), 0xbeef, name), /answered REFUSED/);
    const full = reply(query, 0, [["replicaSet=rs0"]]);
    for (const cut of [6, 20, full.length - 3]) {
      assert.throws(() => decodeTxtReply(full.subarray(0, cut), 0xbeef, name), /DNS reply|TXT record/);
    }
    assert.throws(() => decodeTxtReply(reply(query, 0, [["a"]], 2), 0xbeef, name), /cut inside/, "one answer short");
  });

  test("name server entries as node:dns lists them", () => {
    assert.deepEqual(parseServerEntry("10.0.0.2"), { host: "10.0.0.2", port: 53 });
    assert.deepEqual(parseServerEntry("127.0.0.1:5353"), { host: "127.0.0.1", port: 5353 });
    assert.deepEqual(parseServerEntry("::1"), { host: "::1", port: 53 });
    assert.deepEqual(parseServerEntry("[::1]:5353"), { host: "::1", port: 5353 });
  });
});

describe("TXT lookups on this runtime, against a DNS server on 127.0.0.1", () => {
  test("one record of several strings stays one record; two records stay two", async () => {
    const server = await startDnsServer({
      "split.example.com": { txt: [["replicaS", "et=rep", "l0"]] },
      "two.example.com": { txt: [["replicaSet=a"], ["authSource=b"]] },
      "none.example.com": {},
    });
    try {
      const dns = systemResolver({ nameServer: { host: "127.0.0.1", port: server.port } });
      assert.deepEqual(await dns.txt("split.example.com"), [["replicaS", "et=rep", "l0"]]);
      assert.deepEqual(await dns.txt("two.example.com"), [["replicaSet=a"], ["authSource=b"]]);
      assert.deepEqual(await dns.txt("none.example.com"), []);
      assert.deepEqual(await dns.txt("missing.example.com"), []);
    } finally {
      await server.close();
    }
  });

  test("queryTxtOverUdp: an abort while waiting rejects with its reason and closes the socket", async () => {
    const { createSocket } = await import("node:dgram");
    const silent = createSocket("udp4");
    let asked = 0;
    silent.on("message", () => asked++);
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    try {
      const stop = new AbortController();
      const pending = queryTxtOverUdp(
        "x.example.com",
        [{ host: "127.0.0.1", port: silent.address().port }],
        stop.signal,
      );
      for (let i = 0; i < 300 && asked === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(asked > 0, "the query was sent");
      const reason = new Error("stop");
      stop.abort(reason);
      await assert.rejects(pending, (e) => e === reason);
      await assert.rejects(queryTxtOverUdp("x.example.com", [], stop.signal), /no DNS server/);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
