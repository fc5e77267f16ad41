#!/usr/bin/python3
"""SASLprep (RFC 4013) by PyMongo, as an oracle for the TypeScript implementation.

Usage: printf '"I\\u00adX"\n' | /usr/bin/python3 saslprep_oracle.py

Reads one JSON string per stdin line and writes one JSON line per input line,
in order: {"ok": "<prepared>"} or {"error": "<message>"}. Uses
pymongo.saslprep.saslprep(s, prohibit_unassigned_code_points=False), i.e. the
"stored strings" rules are off, as MongoDB drivers use it for passwords.
Output is ASCII-only JSON (\\u escapes), so lone surrogates survive the pipe.
Prints {"skip": reason} and exits 0 if pymongo (with stringprep) is unusable.
"""
import json
import sys

try:
    from pymongo.saslprep import saslprep
    import stringprep  # noqa: F401  without it PyMongo's saslprep is a stub that rejects all non-ASCII
except ImportError as error:
    print(json.dumps({"skip": "python3-pymongo is not importable: %s" % error}), flush=True)
    sys.exit(0)


def answer(line):
    try:
        value = json.loads(line)
    except ValueError as error:
        return {"error": "input line is not JSON: %s" % error}
    if not isinstance(value, str):
        return {"error": "input line is JSON %s, not a string" % type(value).__name__}
    try:
        return {"ok": saslprep(value, prohibit_unassigned_code_points=False)}
    except (ValueError, TypeError) as error:
        return {"error": str(error)}
    except IndexError as error:
        # PyMongo 3.11 indexes data[0] without checking for an empty result
        # (a string of characters mapped to nothing): report it apart.
        return {"crash": "IndexError: %s" % error}


def main():
    # Read bytes and decode leniently: a line that is not UTF-8 gets an error answer, not a crash.
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line.strip():
            result = {"error": "empty input line"}
        else:
            result = answer(line)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
