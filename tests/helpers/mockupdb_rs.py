#!/usr/bin/python3
"""A 3-member replica set of MockupDB servers for tests/client/mockupdb_rs_test.ts.

Usage: mockupdb_rs.py <maxWireVersion> [<setName>]

Starts three MockupDB servers on 127.0.0.1 at free ports. Member 0 answers
hello/ismaster as the primary, members 1 and 2 as secondaries, each with the
set name, the real "127.0.0.1:port" of all three in `hosts`, its own `me`, and
the given maxWireVersion. A `find` is answered with one document naming the
member that received it: {"_id": 1, "member": <index>}. Prints
{"ports": [p0, p1, p2], "host": "127.0.0.1"} as the first JSON line on
stdout, then one {"member": i, "request": {...}} line per request received
(MockupDB's class of the request, its flags, namespace, command name and
documents as relaxed Extended JSON). Exits when stdin closes. If mockupdb
cannot be imported it prints {"skip": reason} and exits 0.
"""
import json
import sys
import threading

try:
    from bson import ObjectId, json_util
    from mockupdb import MockupDB
except ImportError as error:  # CI installs python3-mockupdb; say why we cannot run
    print(json.dumps({"skip": "python3-mockupdb is not importable: %s" % error}), flush=True)
    sys.exit(0)

wire = int(sys.argv[1]) if len(sys.argv) > 1 else 17
set_name = sys.argv[2] if len(sys.argv) > 2 else "foo"
OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED)
# Each server answers on its own thread; one lock keeps the output lines whole.
lock = threading.Lock()
ELECTION_ID = ObjectId("7fffffff0000000000000001")


def emit(obj):
    text = json_util.dumps(obj, json_options=OPTIONS) + "\n"
    with lock:
        sys.stdout.write(text)
        sys.stdout.flush()


servers = [MockupDB(port=None, max_wire_version=wire) for _ in range(3)]
# Bind every port first: each member's hello must list the real ports of all three.
ports = [s.run() for s in servers]
hosts = ["127.0.0.1:%d" % p for p in ports]


def responder(index):
    primary = index == 0

    def respond(request):
        name = getattr(request, "command_name", None)
        emit({
            "member": index,
            "request": {
                "opcode": type(request).__name__,
                "flags": request.flags,
                "namespace": request.namespace,
                "command": name,
                "docs": list(request.docs),
            },
        })
        if name is None:
            return False
        lower = name.lower()
        if lower in ("ismaster", "hello"):
            reply = dict(
                ismaster=primary, isWritablePrimary=primary, secondary=not primary, helloOk=True,
                setName=set_name, setVersion=1, hosts=hosts, me=hosts[index],
                minWireVersion=0, maxWireVersion=wire, maxBsonObjectSize=16777216,
                maxMessageSizeBytes=48000000, maxWriteBatchSize=100000,
            )
            if primary:
                reply["primary"] = hosts[0]
                reply["electionId"] = ELECTION_ID
            else:
                reply["primary"] = hosts[0]
            return request.replies(**reply)
        if lower == "find":
            ns = "%s.%s" % (request.namespace, request.doc["find"])
            return request.replies(ok=1, cursor={"id": 0, "ns": ns, "firstBatch": [{"_id": 1, "member": index}]})
        if lower in ("endsessions", "ping", "killcursors"):
            return request.replies(ok=1)
        return request.command_err(code=59, errmsg="no such command in this mock: %s" % name)

    return respond


for i, s in enumerate(servers):
    s.autoresponds(responder(i))
emit({"ports": ports, "host": "127.0.0.1"})
try:
    sys.stdin.read()  # until the test closes our stdin
finally:
    for s in servers:
        s.stop()
