// PyMongo 3.11 (/usr/bin/python3) as a second oracle for the application API
// the simulator now answers: find_one_and_update, bulk_write with a duplicate
// key, create_index + DuplicateKeyError, distinct, aggregate $out, rename.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startReplicaSet } from "../../src/testing/mod.ts";
import { peerSkip, PYTHON, pythonMissing } from "../helpers/peers.ts";

const SCRIPT = `
import json, sys
import pymongo
from pymongo import ReturnDocument, InsertOne, UpdateOne, DeleteOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
c = client.t.c
out = {}
c.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])
out["fam"] = c.find_one_and_update({"a": {"$gt": 1}}, {"$inc": {"a": 5}}, return_document=ReturnDocument.AFTER)
out["index"] = c.create_index([("a", 1), ("b", -1)], unique=True)
try:
    c.insert_one({"_id": 3, "a": 7})
except DuplicateKeyError as e:
    out["dup"] = {"code": e.code, "keyValue": e.details.get("keyValue"), "keyPattern": e.details.get("keyPattern")}
try:
    c.bulk_write([InsertOne({"_id": 1}), InsertOne({"_id": 4, "a": 4}), UpdateOne({"_id": 4}, {"$set": {"z": 1}})], ordered=False)
except BulkWriteError as e:
    d = e.details
    out["bulk"] = {"nInserted": d["nInserted"], "nMatched": d["nMatched"], "nModified": d["nModified"],
                   "errors": [[w["index"], w["code"]] for w in d["writeErrors"]]}
out["distinct"] = sorted(c.distinct("a"))
list(c.aggregate([{"$match": {"a": {"$gte": 4}}}, {"$out": "big"}]))
out["big"] = sorted(d["_id"] for d in client.t.big.find())
client.t.big.rename("huge")
out["names"] = sorted(client.t.list_collection_names())
out["indexes"] = sorted(i["name"] for i in c.list_indexes())
try:
    client.admin.command("configureFailPoint", "failCommand", mode={"times": 1}, data={"failCommands": ["find"], "errorCode": 2})
    c.find_one()
except OperationFailure as e:
    out["failpoint"] = e.code
print("RESULT " + json.dumps(out))
`;

function runPython(uri: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", SCRIPT, uri], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ out, err, code }));
  });
}

const skip = peerSkip("PyMongo application API against the simulator", pythonMissing(["pymongo"]));

describe("PyMongo 3.11 application API against the simulator", () => {
  test("find_one_and_update, create_index + DuplicateKeyError, bulk_write, distinct, $out, rename, fail point", { skip }, async () => {
    await using rs = await startReplicaSet({ members: 2 });
    const run = await runPython(rs.uri);
    assert.equal(run.code, 0, run.err);
    const line = run.out.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line !== undefined, run.out);
    const r = JSON.parse(line.slice(7));
    assert.deepEqual(r.fam, { _id: 2, a: 7 });
    assert.equal(r.index, "a_1_b_-1");
    assert.deepEqual(r.dup, { code: 11000, keyValue: { a: 7, b: null }, keyPattern: { a: 1, b: -1 } });
    assert.deepEqual(r.bulk, { nInserted: 1, nMatched: 1, nModified: 1, errors: [[0, 11000]] });
    assert.deepEqual(r.distinct, [1, 4, 7]);
    assert.deepEqual(r.big, [2, 4]);
    assert.deepEqual(r.names, ["c", "huge"]);
    assert.deepEqual(r.indexes, ["_id_", "a_1_b_-1"]);
    assert.equal(r.failpoint, 2);
  });
});
