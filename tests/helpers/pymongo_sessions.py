"""PyMongo 3.11's own retryable writes and transactions against the simulated set.

Run by tests/testing/pymongo_sessions_test.ts. Prints one "RESULT <json>" line
per observation.

    python3 pymongo_sessions.py failclose <host,host,...> <set name>
    python3 pymongo_sessions.py lostreply <host,host,...> <set name>
    python3 pymongo_sessions.py transaction <host,host,...> <set name>
"""
import json
import sys

import pymongo
from pymongo import MongoClient, ReturnDocument
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern


def result(key, value):
    print("RESULT " + json.dumps({key: value}), flush=True)


def client_for(hosts, name):
    return MongoClient(hosts.split(","), replicaset=name, serverSelectionTimeoutMS=10000,
                       heartbeatFrequencyMS=500, retryWrites=True)


def failclose(client):
    client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                         data={"failCommands": ["insert"], "closeConnection": True})
    r = client.test.c.insert_one({"_id": 1, "name": "Ada"})
    result("inserted_id", r.inserted_id)
    result("count", client.test.c.count_documents({}))


def lostreply(client):
    # The test killed one secondary: w: 3 keeps the primary waiting after the
    # write applied, while the test takes the primary away.
    coll = client.test.get_collection("c", write_concern=WriteConcern(w=3, wtimeout=20000))
    doc = coll.find_one_and_update({"_id": 1}, {"$inc": {"n": 1}}, upsert=True,
                                   return_document=ReturnDocument.AFTER)
    result("value", doc)


def transaction(client):
    coll = client.test.c
    coll.insert_one({"_id": 0, "n": 0})
    client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                         data={"failCommands": ["insert"], "errorCode": 112,
                               "errorLabels": ["TransientTransactionError"]})
    attempts = []
    seen = {}

    def body(session):
        attempts.append(1)
        coll.insert_one({"_id": 1}, session=session)
        coll.update_one({"_id": 0}, {"$set": {"n": 1}}, session=session)
        seen["inside"] = sorted(d["_id"] for d in coll.find({}, session=session))
        seen["outside"] = [d for d in coll.find({})]

    with client.start_session() as session:
        session.with_transaction(body, write_concern=WriteConcern(w="majority"))
    result("attempts", len(attempts))
    result("inside", seen["inside"])
    result("outside_before_commit", seen["outside"])
    result("after_commit", list(coll.find({})))
    # A conflicting second transaction gets WriteConflict with the label.
    with client.start_session() as a, client.start_session() as b:
        a.start_transaction()
        coll.update_one({"_id": 0}, {"$inc": {"n": 1}}, session=a)
        b.start_transaction()
        try:
            coll.update_one({"_id": 0}, {"$inc": {"n": 1}}, session=b)
            result("conflict", None)
        except OperationFailure as e:
            result("conflict", {"code": e.code,
                                "transient": e.has_error_label("TransientTransactionError")})
        b.abort_transaction()
        a.commit_transaction()
    result("final", coll.find_one({"_id": 0}))


def main():
    mode, hosts, name = sys.argv[1:4]
    result("version", pymongo.version)
    client = client_for(hosts, name)
    try:
        {"failclose": failclose, "lostreply": lostreply, "transaction": transaction}[mode](client)
    finally:
        client.close()


if __name__ == "__main__":
    main()
