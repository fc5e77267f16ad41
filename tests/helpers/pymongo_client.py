"""PyMongo (Debian python3-pymongo, 3.11) driven against the simulated replica set.

Run by tests/testing/pymongo_test.ts. Prints one "RESULT <json>" line per
observation; in "replset" mode it prints "KILL" and waits for a line on stdin
while the test kills the primary.

    python3 pymongo_client.py replset <seed host:port> <set name>
    python3 pymongo_client.py initiate <set name> <host:port> [<host:port> ...]
"""
import json
import sys
import time

import pymongo
from pymongo import MongoClient, ReadPreference
from pymongo.errors import AutoReconnect, ConnectionFailure, OperationFailure


def result(key, value):
    print("RESULT " + json.dumps({key: value}), flush=True)


def node_name(node):
    return "%s:%d" % node


def wait_for(pred, tries=100):
    for _ in range(tries):
        try:
            if pred():
                return True
        except (AutoReconnect, ConnectionFailure):
            pass
        time.sleep(0.1)
    return False


def replset(seed, name):
    result("version", pymongo.version)
    client = MongoClient(seed, replicaset=name, serverSelectionTimeoutMS=10000, heartbeatFrequencyMS=500)
    client.admin.command("ping")
    wait_for(lambda: len(client.nodes) == 3 and len(client.secondaries) == 2)
    result("nodes", sorted(node_name(n) for n in client.nodes))
    result("primary", node_name(client.primary))
    db = client.test
    db.people.insert_one({"name": "Ada", "year": 1843})
    secondary = db.get_collection("people", read_preference=ReadPreference.SECONDARY)
    result("secondary_read", [d["name"] for d in secondary.find({"name": "Ada"})])
    result("count", db.people.count_documents({"year": {"$gt": 1800}}))
    print("KILL", flush=True)
    sys.stdin.readline()
    inserted = False
    for _ in range(60):
        try:
            db.people.insert_one({"name": "Grace"})
            inserted = True
            break
        except (AutoReconnect, ConnectionFailure):
            time.sleep(0.2)
    result("inserted_after_failover", inserted)
    result("new_primary", node_name(client.primary))
    result("names", sorted(d["name"] for d in db.people.find()))
    client.close()


def initiate(name, hosts):
    host, port = hosts[0].rsplit(":", 1)
    # As in PyMongo's replica-set guide: a direct connection to one member.
    direct = MongoClient(host, int(port), serverSelectionTimeoutMS=5000)
    try:
        direct.test.c.find_one()
        result("read_before_initiate", "ok")
    except (OperationFailure, AutoReconnect) as e:
        # A direct connection reads with secondaryOk; an uninitialized
        # member refuses with NotPrimaryOrSecondary (NotMasterError here).
        result("read_before_initiate", (getattr(e, "details", None) or {}).get("code"))
    config = {"_id": name, "members": [{"_id": i, "host": h} for i, h in enumerate(hosts)]}
    result("initiate", direct.admin.command("replSetInitiate", config).get("ok"))
    direct.close()
    client = MongoClient(hosts[0], replicaset=name, serverSelectionTimeoutMS=10000, heartbeatFrequencyMS=500)
    ok = wait_for(lambda: client.primary is not None)
    result("primary_found", ok)
    client.test.c.insert_one({"x": 1})
    result("found", client.test.c.find_one({}, {"_id": 0}))
    status = client.admin.command("replSetGetStatus")
    result("states", sorted(m["stateStr"] for m in status["members"]))
    client.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "replset":
        replset(sys.argv[2], sys.argv[3])
    elif mode == "initiate":
        initiate(sys.argv[2], sys.argv[3:])
    else:
        sys.exit("unknown mode %r" % mode)
