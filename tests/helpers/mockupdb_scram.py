#!/usr/bin/python3
"""A standalone MockupDB server that authenticates with SCRAM-SHA-1 / SCRAM-SHA-256.

Usage: mockupdb_scram.py '<json config>'

    {"maxWireVersion": 17,
     "users": [{"db": "admin", "user": "ada", "password": "pencil",
                "mechanisms": ["SCRAM-SHA-1", "SCRAM-SHA-256"]}],
     "iterations": {"SCRAM-SHA-1": 10000, "SCRAM-SHA-256": 15000},
     "corrupt": null,            # or "signature" | "nonce" | "iterations"
     "speculative": false}       # answer hello's speculativeAuthenticate

Prints {"port": N, "host": "127.0.0.1"} as the first stdout line, then one
{"request": {"opcode", "command", "db", "doc"}} line per request (relaxed
Extended JSON), and exits when stdin closes. If mockupdb or pymongo cannot be
imported it prints {"skip": reason} and exits 0. A bad config exits 2 with the
reason on stderr. Why each SASL step failed goes to stderr; the client only
gets mongod's opaque errors: 18 AuthenticationFailed (bad user, mechanism,
payload or proof), 17 ProtocolError (saslContinue with no conversation, a
conversationId other than 1, or another db), 334 MechanismUnavailable (not a
SCRAM mechanism). Before a connection authenticates, commands other than
hello/isMaster/saslStart/saslContinue get 13 Unauthorized; afterwards ping,
find ([{_id: 1}]) and insert ({n}) are answered and anything else gets {ok: 1}.

The server is written from RFC 5802 / RFC 7677 and MongoDB's auth spec, and is
checked against PyMongo (an independent SCRAM client) by
mockupdb_scram_check.py. Import make_server() to run it in-process.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import traceback
import weakref

try:
    from bson import json_util
    from bson.int64 import Int64
    from mockupdb import MockupDB
    from pymongo.saslprep import saslprep
except ImportError as error:  # CI installs python3-mockupdb; say why we cannot run
    if __name__ != "__main__":
        raise
    print(json.dumps({"skip": "python3-mockupdb / python3-pymongo is not importable: %s" % error}), flush=True)
    sys.exit(0)

HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}
DEFAULT_ITERATIONS = {"SCRAM-SHA-1": 10000, "SCRAM-SHA-256": 15000}
CORRUPTIONS = (None, "signature", "nonce", "iterations")
# Commands a connection may run before it has authenticated.
OPEN_COMMANDS = ("hello", "ismaster", "saslstart", "saslcontinue")
EJSON = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED)


class ScramError(Exception):
    """A failed SASL step, carried to the reply as {ok: 0, code, codeName, errmsg}."""

    def __init__(self, code, code_name, errmsg, detail=None):
        super().__init__(errmsg)
        self.code = code
        self.code_name = code_name
        self.errmsg = errmsg
        # Why it failed, for stderr only: mongod never tells the client which check failed.
        self.detail = detail


def auth_failed(detail):
    return ScramError(18, "AuthenticationFailed", "Authentication failed.", detail)


def protocol_error(errmsg):
    return ScramError(17, "ProtocolError", errmsg, errmsg)


def b64(data):
    return base64.b64encode(data)


def hmac_digest(key, message, hash_name):
    return hmac.new(key, message, hash_name).digest()


def unescape_user(raw):
    """RFC 5802 saslname: only "=2C" and "=3D" may follow "="."""
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 1] == b"=":
            code = raw[i + 1:i + 3]
            if code == b"2C":
                out += b","
            elif code == b"3D":
                out += b"="
            else:
                raise auth_failed("bad escape in user name %r" % raw)
            i += 3
        else:
            out += raw[i:i + 1]
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise auth_failed("user name is not UTF-8: %r" % raw)


def valid_nonce(nonce):
    # RFC 5802 "printable": ASCII 0x21-0x7E except ",".
    return len(nonce) > 0 and all(0x21 <= c <= 0x7E and c != 0x2C for c in nonce)


def as_bytes(payload):
    if isinstance(payload, bytes):  # bson.Binary is a bytes subclass
        return bytes(payload)
    if isinstance(payload, str):  # mongod also takes a string payload
        return payload.encode("utf-8")
    raise auth_failed("payload is %s, not BinData" % type(payload).__name__)


class ScramServer(object):
    """The autoresponder: hello, SCRAM conversations and a few commands, per connection."""

    def __init__(self, config, on_request=None):
        if not isinstance(config, dict):
            raise ValueError("config must be a JSON object")
        self.wire = config.get("maxWireVersion", 17)
        if not isinstance(self.wire, int) or isinstance(self.wire, bool) or self.wire < 0:
            raise ValueError("maxWireVersion must be a non-negative integer")
        self.corrupt = config.get("corrupt")
        if self.corrupt not in CORRUPTIONS:
            raise ValueError("corrupt must be one of %r" % (CORRUPTIONS,))
        self.speculative = bool(config.get("speculative", False))
        self.iterations = dict(DEFAULT_ITERATIONS)
        for mech, count in (config.get("iterations") or {}).items():
            if mech not in HASHES or not isinstance(count, int) or count < 1:
                raise ValueError("iterations: %r: %r is not a mechanism with a positive count" % (mech, count))
            self.iterations[mech] = count
        self.users = {}
        for entry in config.get("users", []):
            db, user, password = entry.get("db", "admin"), entry.get("user"), entry.get("password")
            if not all(isinstance(v, str) for v in (db, user, password)):
                raise ValueError("user %r: db, user and password must be strings" % (entry,))
            mechs = entry.get("mechanisms", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
            if not isinstance(mechs, list) or not mechs or any(m not in HASHES for m in mechs):
                raise ValueError("user %r: mechanisms must be a non-empty list of %r" % (user, sorted(HASHES)))
            self.users[(db, user)] = {
                "mechanisms": list(mechs),
                # One salt per user and mechanism for the server's life, so a client-side key cache is observable.
                "salts": {m: os.urandom(16) for m in mechs},
                "secrets": {m: self._prepare(user, password, m) for m in mechs},
            }
        self.on_request = on_request
        self._keys = {}
        self._lock = threading.Lock()
        # Keyed by the accepted socket itself: ports can be reused, sockets die with their connection.
        self._connections = weakref.WeakKeyDictionary()
        for key, user in self.users.items():  # derive the keys now so a bad password fails at start
            for mech in user["mechanisms"]:
                self._server_keys(key, mech, self.iterations[mech])

    @staticmethod
    def _prepare(user, password, mech):
        if mech == "SCRAM-SHA-1":
            # MongoDB's SCRAM-SHA-1 uses the legacy MONGODB-CR digest as the password.
            return hashlib.md5(("%s:mongo:%s" % (user, password)).encode("utf-8")).hexdigest().encode("utf-8")
        return saslprep(password).encode("utf-8")

    def _server_keys(self, key, mech, iterations):
        """(StoredKey, ServerKey) for a user, mechanism and iteration count."""
        cache_key = (key, mech, iterations)
        if cache_key not in self._keys:
            user = self.users[key]
            hash_name = HASHES[mech]
            salted = hashlib.pbkdf2_hmac(hash_name, user["secrets"][mech], user["salts"][mech], iterations)
            client_key = hmac_digest(salted, b"Client Key", hash_name)
            stored_key = hashlib.new(hash_name, client_key).digest()
            server_key = hmac_digest(salted, b"Server Key", hash_name)
            self._keys[cache_key] = (stored_key, server_key)
        return self._keys[cache_key]

    def _state(self, request):
        sock = getattr(request, "_client", None)
        if sock is None:
            raise RuntimeError("MockupDB request has no client socket")
        with self._lock:
            state = self._connections.get(sock)
            if state is None:
                state = {"authenticated": set(), "conversation": None}
                self._connections[sock] = state
            return state

    # -- SCRAM --------------------------------------------------------------

    def sasl_start(self, state, db, doc):
        state["conversation"] = None  # a new saslStart abandons any conversation in progress
        mech = doc.get("mechanism")
        if mech not in HASHES:
            raise ScramError(334, "MechanismUnavailable",
                             "Received authentication for mechanism %s which is unknown or not enabled" % (mech,),
                             "mechanism %r" % (mech,))
        payload = as_bytes(doc.get("payload"))
        if not payload.startswith(b"n,,"):
            # MongoDB supports neither channel binding nor an authzid.
            raise auth_failed("client-first must start with the gs2 header 'n,,': %r" % payload)
        first_bare = payload[3:]
        parts = first_bare.split(b",")
        if len(parts) < 2 or not parts[0].startswith(b"n=") or not parts[1].startswith(b"r="):
            raise auth_failed("client-first-bare must be n=<user>,r=<nonce>: %r" % first_bare)
        user = unescape_user(parts[0][2:])
        client_nonce = parts[1][2:]
        if not valid_nonce(client_nonce):
            raise auth_failed("client nonce is empty or not printable: %r" % client_nonce)
        key = (db, user)
        if key not in self.users:
            raise auth_failed("no user %r on db %r" % (user, db))
        if mech not in self.users[key]["mechanisms"]:
            raise auth_failed("user %r on db %r cannot use %s" % (user, db, mech))

        iterations = 1000 if self.corrupt == "iterations" else self.iterations[mech]
        nonce = client_nonce + b64(os.urandom(24))
        if self.corrupt == "nonce":
            nonce = b64(os.urandom(24)) + b64(os.urandom(24))
        salt = self.users[key]["salts"][mech]
        server_first = b"r=" + nonce + b",s=" + b64(salt) + b",i=" + str(iterations).encode("ascii")
        state["conversation"] = {
            "db": db, "key": key, "mech": mech, "iterations": iterations, "nonce": nonce,
            "first_bare": first_bare, "server_first": server_first, "step": 1,
            "skip_empty": bool((doc.get("options") or {}).get("skipEmptyExchange")),
        }
        return {"conversationId": 1, "done": False, "payload": server_first}

    def sasl_continue(self, state, db, doc):
        conv = state["conversation"]
        if conv is None:
            raise protocol_error("No SASL session state found")
        if doc.get("conversationId") != 1:
            state["conversation"] = None
            raise protocol_error("Unexpected conversationId %r, expected 1" % (doc.get("conversationId"),))
        if db != conv["db"]:
            state["conversation"] = None
            raise protocol_error("Attempt to switch database target during SASL authentication")
        try:
            payload = as_bytes(doc.get("payload"))
            if conv["step"] == 2:
                if payload:
                    raise auth_failed("the closing saslContinue must have an empty payload: %r" % payload)
                return self._finish(state, conv, b"")
            return self._client_final(state, conv, payload)
        except ScramError:
            state["conversation"] = None
            raise

    def _client_final(self, state, conv, payload):
        without_proof, sep, proof_attr = payload.rpartition(b",p=")
        parts = without_proof.split(b",")
        if not sep or len(parts) < 2 or not parts[0].startswith(b"c=") or not parts[1].startswith(b"r="):
            raise auth_failed("client-final must be c=...,r=...,p=...: %r" % payload)
        if parts[0] != b"c=biws":
            raise auth_failed("channel binding must be c=biws (n,,): %r" % parts[0])
        if parts[1][2:] != conv["nonce"]:
            raise auth_failed("client-final nonce %r is not the combined nonce" % parts[1][2:])
        hash_name = HASHES[conv["mech"]]
        try:
            proof = base64.b64decode(proof_attr, validate=True)
        except ValueError:
            raise auth_failed("proof is not base64: %r" % proof_attr)
        stored_key, server_key = self._server_keys(conv["key"], conv["mech"], conv["iterations"])
        if len(proof) != len(stored_key):
            raise auth_failed("proof has %d bytes, expected %d" % (len(proof), len(stored_key)))
        auth_message = conv["first_bare"] + b"," + conv["server_first"] + b"," + without_proof
        client_signature = hmac_digest(stored_key, auth_message, hash_name)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature))
        if not hmac.compare_digest(hashlib.new(hash_name, client_key).digest(), stored_key):
            raise auth_failed("wrong proof (wrong password?) for %r" % (conv["key"],))
        signed = auth_message + (b"lie" if self.corrupt == "signature" else b"")
        verifier = b"v=" + b64(hmac_digest(server_key, signed, hash_name))
        if conv["skip_empty"]:
            return self._finish(state, conv, verifier)
        conv["step"] = 2
        return {"conversationId": 1, "done": False, "payload": verifier}

    def _finish(self, state, conv, payload):
        state["authenticated"].add(conv["key"])
        state["conversation"] = None
        return {"conversationId": 1, "done": True, "payload": payload}

    # -- commands -----------------------------------------------------------

    def hello(self, state, doc):
        reply = {"ismaster": True, "isWritablePrimary": True, "helloOk": True, "minWireVersion": 0,
                 "maxWireVersion": self.wire, "maxBsonObjectSize": 16777216,
                 "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000}
        asked = doc.get("saslSupportedMechs")
        if isinstance(asked, str) and "." in asked:
            db, user = asked.split(".", 1)  # db names cannot hold ".", user names can
            if (db, user) in self.users:
                reply["saslSupportedMechs"] = list(self.users[(db, user)]["mechanisms"])
        spec = doc.get("speculativeAuthenticate")
        if self.speculative and isinstance(spec, dict) and "saslStart" in spec:
            try:
                reply["speculativeAuthenticate"] = self.sasl_start(state, spec.get("db", "admin"), spec)
            except ScramError as error:
                # mongod leaves the field out and lets the client authenticate the long way.
                log_detail("speculativeAuthenticate", error)
        return reply

    def respond(self, request):
        """MockupDB autoresponder: answers every request, so none is left queued and no client hangs."""
        name = getattr(request, "command_name", None)
        doc = request.docs[0] if request.docs else {}
        if name == "$query" and isinstance(doc.get("$query"), dict):  # OP_QUERY wrapped for $readPreference
            doc = doc["$query"]
            name = next(iter(doc), None)
        if self.on_request is not None:
            self.on_request({"opcode": type(request).__name__, "command": name,
                             "db": request.namespace, "doc": doc})
        if name is None:
            # Not a command (legacy OP_QUERY on a collection, OP_GET_MORE, ...): outside this server's scope.
            if type(request).__name__ in ("OpQuery", "OpGetMore"):
                return request.fail("mockupdb_scram answers commands only")
            return True
        if type(request).__name__ == "OpMsg" and request.flags & 2:  # moreToCome: no reply allowed
            return True
        try:
            return request.replies(self._answer(request, name, doc))
        except ScramError as error:
            log_detail(name, error)
            return request.replies({"ok": 0, "code": error.code, "codeName": error.code_name,
                                    "errmsg": error.errmsg})
        except Exception as error:  # a crash here would kill MockupDB's thread and hang the client
            traceback.print_exc(file=sys.stderr)
            return request.replies({"ok": 0, "code": 8, "codeName": "UnknownError",
                                    "errmsg": "mockupdb_scram: %s: %s" % (type(error).__name__, error)})

    def _answer(self, request, name, doc):
        state = self._state(request)
        lower = name.lower()
        db = request.namespace
        if lower in ("hello", "ismaster"):
            return self.hello(state, doc)
        if lower == "saslstart":
            return self.sasl_start(state, db, doc)
        if lower == "saslcontinue":
            return self.sasl_continue(state, db, doc)
        if not state["authenticated"]:
            return {"ok": 0, "code": 13, "codeName": "Unauthorized", "errmsg": "command requires authentication"}
        if lower == "ping":
            return {"ok": 1}
        if lower == "find":
            ns = "%s.%s" % (db, doc.get("find"))
            return {"cursor": {"firstBatch": [{"_id": 1}], "id": Int64(0), "ns": ns}, "ok": 1}
        if lower == "insert":
            documents = doc.get("documents") or []
            return {"ok": 1, "n": len(documents)}
        return {"ok": 1}


def log_detail(where, error):
    sys.stderr.write("mockupdb_scram: %s -> %d %s (%s)\n" % (where, error.code, error.code_name, error.detail))
    sys.stderr.flush()


def make_server(config, on_request=None):
    """A MockupDB (not yet running) that authenticates per config; call .run() for the port.

    on_request, if given, is called with {"opcode", "command", "db", "doc"} for each request.
    """
    scram = ScramServer(config, on_request)
    # MockupDB binds "localhost" as AF_INET only, i.e. 127.0.0.1.
    server = MockupDB(port=None, max_wire_version=scram.wire)
    server.autoresponds(scram.respond)
    return server


def main():
    try:
        config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
        out_lock = threading.Lock()

        def emit(obj):
            line = json_util.dumps(obj, json_options=EJSON) + "\n"
            with out_lock:
                sys.stdout.write(line)
                sys.stdout.flush()

        server = make_server(config, lambda request: emit({"request": request}))
    except ValueError as error:  # includes a JSON syntax error
        sys.stderr.write("mockupdb_scram: bad config: %s\n" % error)
        sys.exit(2)
    port = server.run()
    emit({"port": port, "host": "127.0.0.1"})
    try:
        sys.stdin.read()  # until the test closes our stdin
    finally:
        server.stop()


if __name__ == "__main__":
    main()
