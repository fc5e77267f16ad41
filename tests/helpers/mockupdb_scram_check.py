#!/usr/bin/python3
"""Proves mockupdb_scram.py against PyMongo, an independent SCRAM client.

Usage: /usr/bin/python3 tests/helpers/mockupdb_scram_check.py

Not run by the test suite. Starts the server in-process for each case, logs in
with PyMongo and runs ping; prints "ok <case>" per passing case, "FAIL <case>:
<why>" otherwise, and exits 1 if any case failed. Prints {"skip": reason} and
exits 0 if mockupdb or pymongo cannot be imported.
"""
import json
import sys
import traceback

sys.dont_write_bytecode = True  # importing mockupdb_scram must not leave __pycache__ in the repo

try:
    import pymongo
    import pymongo.auth
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    from mockupdb_scram import make_server
except ImportError as error:
    print(json.dumps({"skip": "python3-mockupdb / python3-pymongo is not importable: %s" % error}), flush=True)
    sys.exit(0)

BOTH = ["SCRAM-SHA-1", "SCRAM-SHA-256"]
USERS = [
    {"db": "admin", "user": "ada", "password": "pencil", "mechanisms": BOTH},
    {"db": "admin", "user": "sha1only", "password": "pencil", "mechanisms": ["SCRAM-SHA-1"]},
    {"db": "admin", "user": "sha256only", "password": "pencil", "mechanisms": ["SCRAM-SHA-256"]},
    {"db": "admin", "user": "a=b,c", "password": "pencil", "mechanisms": BOTH},
    # SASLprep maps U+00AD (soft hyphen) to nothing and NFKC turns U+2168 (Roman nine) into "IX".
    {"db": "admin", "user": "nine", "password": "I\u00adX", "mechanisms": ["SCRAM-SHA-256"]},
    {"db": "admin", "user": "ete", "password": "\u00e9t\u00e9", "mechanisms": BOTH},
    {"db": "app", "user": "grace", "password": "cobol", "mechanisms": BOTH},
]

failures = []


class Run(object):
    """One server with its request log, and PyMongo clients that close with it."""

    def __init__(self, wire=17, **extra):
        config = {"maxWireVersion": wire, "users": USERS,
                  "iterations": {"SCRAM-SHA-1": 10000, "SCRAM-SHA-256": 15000}, "corrupt": None}
        config.update(extra)
        self.requests = []
        self.server = make_server(config, self.requests.append)
        self.port = self.server.run()
        self.clients = []

    def client(self, **kwargs):
        client = MongoClient("127.0.0.1", self.port, directConnection=True, serverSelectionTimeoutMS=5000,
                             connectTimeoutMS=5000, socketTimeoutMS=10000, **kwargs)
        self.clients.append(client)
        return client

    def sasl(self, command):
        return [r for r in self.requests if r["command"] == command]

    def close(self):
        for client in self.clients:
            client.close()
        self.server.stop()


def case(name):
    def wrap(fn):
        run = None
        try:
            run = Run(**getattr(fn, "server", {}))
            fn(run)
            print("ok %s" % name, flush=True)
        except Exception as error:  # report every case, then fail at the end
            failures.append(name)
            print("FAIL %s: %s: %s" % (name, type(error).__name__, error), flush=True)
            traceback.print_exc(file=sys.stderr)
        finally:
            if run is not None:
                run.close()
        return fn
    return wrap


def server(**config):
    def wrap(fn):
        fn.server = config
        return fn
    return wrap


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


def login(run, user, password, mechanism=None, source="admin"):
    kwargs = {"username": user, "password": password, "authSource": source}
    if mechanism:
        kwargs["authMechanism"] = mechanism
    client = run.client(**kwargs)
    expect(client.admin.command("ping")["ok"] == 1, "ping did not answer ok: 1")
    return client


def expect_failure(run, code, words, **login_args):
    try:
        login(run, **login_args)
    except OperationFailure as error:
        expect(code is None or error.code == code, "expected code %r, got %r (%s)" % (code, error.code, error))
        expect(words.lower() in str(error).lower(), "expected %r in %r" % (words, str(error)))
        return error
    raise AssertionError("login succeeded but should have failed")


def mechanisms_used(run):
    return [r["doc"]["mechanism"] for r in run.sasl("saslStart")]


def opcodes_used(run):
    return sorted({r["opcode"] for r in run.requests if r["command"] in ("saslStart", "saslContinue", "ping")})


@case("SCRAM-SHA-1 explicit, wire 17, OP_MSG")
def _(run):
    login(run, "ada", "pencil", "SCRAM-SHA-1")
    expect(mechanisms_used(run) == ["SCRAM-SHA-1"], "mechanisms %r" % mechanisms_used(run))
    expect(opcodes_used(run) == ["OpMsg"], "opcodes %r" % opcodes_used(run))


@case("SCRAM-SHA-256 explicit, wire 17, OP_MSG")
def _(run):
    login(run, "ada", "pencil", "SCRAM-SHA-256")
    expect(mechanisms_used(run) == ["SCRAM-SHA-256"], "mechanisms %r" % mechanisms_used(run))
    expect(opcodes_used(run) == ["OpMsg"], "opcodes %r" % opcodes_used(run))


@case("negotiation picks SCRAM-SHA-256 when listed (hello saslSupportedMechs)")
def _(run):
    login(run, "ada", "pencil")
    hellos = [r for r in run.requests if "saslSupportedMechs" in r["doc"]]
    expect(hellos and hellos[0]["doc"]["saslSupportedMechs"] == "admin.ada", "no hello with saslSupportedMechs")
    expect(mechanisms_used(run) == ["SCRAM-SHA-256"], "mechanisms %r" % mechanisms_used(run))


@case("negotiation picks SCRAM-SHA-1 for a SHA-1-only user")
def _(run):
    login(run, "sha1only", "pencil")
    expect(mechanisms_used(run) == ["SCRAM-SHA-1"], "mechanisms %r" % mechanisms_used(run))


@case("authSource other than admin (db app)")
def _(run):
    client = login(run, "grace", "cobol", "SCRAM-SHA-256", source="app")
    expect(all(r["db"] == "app" for r in run.sasl("saslStart") + run.sasl("saslContinue")), "sasl not on db app")
    expect(client.app.things.find_one() == {"_id": 1}, "find did not return {_id: 1}")
    expect(client.app.things.insert_many([{"a": 1}, {"a": 2}]).acknowledged, "insert not acknowledged")


for mech in BOTH:
    @case("user name with '=' and ',' (%s, sent as a=3Db=2Cc)" % mech)
    def _(run, mech=mech):
        login(run, "a=b,c", "pencil", mech)
        payload = bytes(run.sasl("saslStart")[0]["doc"]["payload"])
        expect(b"n=a=3Db=2Cc," in payload, "escaped name not in %r" % payload)

    @case("non-ASCII password \u00e9t\u00e9 (%s)" % mech)
    def _(run, mech=mech):
        login(run, "ete", "\u00e9t\u00e9", mech)

for shown, password in (("I\\u00ADX", "I\u00adX"), ("IX", "IX"), ("\\u2168", "\u2168")):
    @case("SASLprep: password %s matches stored I\\u00ADX (SCRAM-SHA-256)" % shown)
    def _(run, password=password):
        login(run, "nine", password, "SCRAM-SHA-256")

for mech in BOTH:
    @case("wrong password fails with code 18 (%s)" % mech)
    def _(run, mech=mech):
        expect_failure(run, 18, "Authentication failed", user="ada", password="crayon", mechanism=mech)

    @case("unknown user fails with code 18 (%s)" % mech)
    def _(run, mech=mech):
        expect_failure(run, 18, "Authentication failed", user="nobody", password="pencil", mechanism=mech)

    @case("right user on the wrong authSource fails with code 18 (%s)" % mech)
    def _(run, mech=mech):
        expect_failure(run, 18, "Authentication failed", user="grace", password="cobol", mechanism=mech)


@case("mechanism not allowed for the user fails with code 18")
def _(run):
    expect_failure(run, 18, "Authentication failed", user="sha1only", password="pencil", mechanism="SCRAM-SHA-256")


@case("hello omits saslSupportedMechs for an unknown user; SCRAM-SHA-1 fallback then fails 18")
def _(run):
    expect_failure(run, 18, "Authentication failed", user="nobody", password="pencil")
    hellos = [r for r in run.requests if "saslSupportedMechs" in r["doc"]]
    expect(hellos, "no hello asked for saslSupportedMechs")
    expect(mechanisms_used(run) == ["SCRAM-SHA-1"], "mechanisms %r" % mechanisms_used(run))


@case("unauthenticated ping fails with code 13 Unauthorized")
def _(run):
    client = run.client()
    try:
        client.admin.command("ping")
    except OperationFailure as error:
        expect(error.code == 13, "code %r" % error.code)
        return
    raise AssertionError("ping without auth succeeded")


def wire5(mech, explicit):
    @case("wire 5 (OP_QUERY) %s%s" % (mech, "" if explicit else " by default"))
    @server(maxWireVersion=5)
    def _(run):
        login(run, "ada", "pencil", mech if explicit else None)
        expect(mechanisms_used(run) == [mech], "mechanisms %r" % mechanisms_used(run))
        expect(opcodes_used(run) == ["Command"], "opcodes %r" % opcodes_used(run))


wire5("SCRAM-SHA-1", False)
wire5("SCRAM-SHA-256", True)


@case("no skipEmptyExchange: done false after v=, then an empty saslContinue")
def _(run):
    real_start = pymongo.auth._authenticate_scram_start

    def start_without_skip(credentials, mechanism):
        nonce, first_bare, cmd = real_start(credentials, mechanism)
        cmd.pop("options")
        return nonce, first_bare, cmd

    pymongo.auth._authenticate_scram_start = start_without_skip
    try:
        login(run, "ada", "pencil", "SCRAM-SHA-256")
    finally:
        pymongo.auth._authenticate_scram_start = real_start
    conts = run.sasl("saslContinue")
    expect(len(conts) == 2, "expected 2 saslContinue, got %d" % len(conts))
    expect(bytes(conts[1]["doc"]["payload"]) == b"", "second saslContinue payload not empty")


def speculative():
    @case("speculativeAuthenticate in hello (config speculative: true): no saslStart, one saslContinue")
    @server(speculative=True)
    def _(run):
        login(run, "ada", "pencil", "SCRAM-SHA-256")
        expect(run.sasl("saslStart") == [], "saslStart was sent")
        expect(len(run.sasl("saslContinue")) == 1, "saslContinue count %d" % len(run.sasl("saslContinue")))


speculative()


@case("salt is fixed per user and mechanism for the server's life (seen by PyMongo)")
def _(run):
    real_parse = pymongo.auth._parse_scram_response
    seen = []

    def recording_parse(response):
        parsed = real_parse(response)
        if b"s" in parsed:
            seen.append(parsed[b"s"])
        return parsed

    pymongo.auth._parse_scram_response = recording_parse
    try:
        for mech in ("SCRAM-SHA-256", "SCRAM-SHA-256", "SCRAM-SHA-1"):
            login(run, "ada", "pencil", mech).close()  # a new client each time: no PyMongo key cache
    finally:
        pymongo.auth._parse_scram_response = real_parse
    expect(len(seen) == 3, "saw %d server-first messages" % len(seen))
    expect(seen[0] == seen[1], "SCRAM-SHA-256 salt changed between logins")
    expect(seen[0] != seen[2], "SCRAM-SHA-1 and SCRAM-SHA-256 share a salt")


for corrupt, words in (("signature", "invalid signature"), ("nonce", "invalid nonce"),
                       ("iterations", "invalid iteration count")):
    def corrupted(corrupt=corrupt, words=words):
        @case("corrupt %s: PyMongo rejects the server (%s)" % (corrupt, words))
        @server(corrupt=corrupt)
        def _(run):
            expect_failure(run, None, words, user="ada", password="pencil", mechanism="SCRAM-SHA-256")
    corrupted()

print("%d failed" % len(failures) if failures else "all ok (pymongo %s)" % pymongo.version, flush=True)
sys.exit(1 if failures else 0)
