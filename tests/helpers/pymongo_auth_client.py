"""PyMongo (Debian python3-pymongo, 3.11) authenticating against the simulated replica set.

Run by tests/testing/auth_test.ts. Prints one "RESULT <json>" line per
observation:

    python3 pymongo_auth_client.py <host:port,host:port,...> <set name> <user> <password> <authSource>

- "version": PyMongo's version;
- "inserted", "found": an insert and a read with the right credentials
  (authMechanism=SCRAM-SHA-256);
- "wrong_password": the code of the OperationFailure a wrong password gets;
- "no_credentials": the code of the OperationFailure a find without credentials gets;
- "no_credentials_ping": a ping without credentials (allowed before authentication).
"""
import json
import sys
from urllib.parse import quote_plus

import pymongo
from pymongo import MongoClient
from pymongo.errors import OperationFailure

TIMEOUTS = dict(serverSelectionTimeoutMS=10000, connectTimeoutMS=5000)


def result(key, value):
    print("RESULT " + json.dumps({key: value}), flush=True)


def failure_code(fn):
    try:
        fn()
    except OperationFailure as e:
        return e.code
    return None


def main(hosts, name, user, password, source):
    result("version", pymongo.version)
    good = "mongodb://%s:%s@%s/?replicaSet=%s&authSource=%s" % (
        quote_plus(user), quote_plus(password), hosts, name, source)
    client = MongoClient(good, authMechanism="SCRAM-SHA-256", **TIMEOUTS)
    inserted = client.test.people.insert_one({"_id": 1, "name": "Ada"})
    result("inserted", inserted.acknowledged)
    result("found", client.test.people.find_one({"_id": 1}))
    client.close()

    bad = "mongodb://%s:%s@%s/?replicaSet=%s&authSource=%s" % (
        quote_plus(user), quote_plus(password + "-wrong"), hosts, name, source)
    client = MongoClient(bad, authMechanism="SCRAM-SHA-256", **TIMEOUTS)
    result("wrong_password", failure_code(lambda: client.test.people.find_one()))
    client.close()

    client = MongoClient("mongodb://%s/?replicaSet=%s" % (hosts, name), **TIMEOUTS)
    result("no_credentials_ping", client.admin.command("ping").get("ok"))
    result("no_credentials", failure_code(lambda: client.test.people.find_one()))
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
