#!/usr/bin/python3
"""A MockupDB server for tests/net/mockupdb_test.ts.

Usage: mockupdb_server.py <maxWireVersion>

Starts MockupDB on 127.0.0.1 at a free port with an autoresponder, prints
{"port": N} as the first JSON line on stdout, then one {"request": {...}} line
per request received: the MockupDB class of the request (OpMsg, Command,
OpQuery, ...), its flags, its namespace and its document(s) as relaxed
Extended JSON. It exits when stdin closes (the test closes it, or dies).
If mockupdb cannot be imported, it prints {"skip": reason} and exits 0.
"""
import json
import sys

try:
    from bson import json_util
    from mockupdb import MockupDB
except ImportError as error:  # CI installs python3-mockupdb; say why we cannot run
    print(json.dumps({"skip": "python3-mockupdb is not importable: %s" % error}), flush=True)
    sys.exit(0)

wire = int(sys.argv[1]) if len(sys.argv) > 1 else 17
OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED)


def emit(obj):
    sys.stdout.write(json_util.dumps(obj, json_options=OPTIONS) + "\n")
    sys.stdout.flush()


def respond(request):
    name = getattr(request, "command_name", None)
    docs = list(request.docs)
    emit({
        "request": {
            "opcode": type(request).__name__,
            "flags": request.flags,
            "namespace": request.namespace,
            "command": name,
            "docs": docs,
        }
    })
    if name is None:
        return False
    lower = name.lower()
    if lower in ("ismaster", "hello"):
        return request.replies(ismaster=True, isWritablePrimary=True, helloOk=True, minWireVersion=0,
                               maxWireVersion=wire, maxBsonObjectSize=16777216,
                               maxMessageSizeBytes=48000000, maxWriteBatchSize=100000)
    if lower == "ping":
        return request.replies(ok=1)
    if lower == "insert":
        return request.replies(ok=1, n=len(request.doc.get("documents", [])))
    if lower == "find":
        ns = "%s.%s" % (request.namespace, request.doc["find"])
        return request.replies(ok=1, cursor={"id": 0, "ns": ns,
                                             "firstBatch": [{"_id": 1, "name": "Ada"}, {"_id": 2, "name": "Grace"}]})
    if lower == "fail":
        return request.command_err(code=26, errmsg="ns not found")
    return request.replies(ok=1)


# MockupDB binds "localhost" as AF_INET only, i.e. 127.0.0.1.
server = MockupDB(port=None, max_wire_version=wire)
server.autoresponds(respond)
port = server.run()
emit({"port": port, "host": "127.0.0.1"})
try:
    sys.stdin.read()  # until the test closes our stdin
finally:
    server.stop()
