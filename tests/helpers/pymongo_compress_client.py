"""PyMongo (Debian python3-pymongo, 3.11) talking zlib-compressed wire messages
to the simulated replica set.

Run by tests/testing/compression_test.ts. Prints one "RESULT <json>" line per
observation.

    python3 pymongo_compress_client.py probe            # prints "OK" or "SKIP <reason>"
    python3 pymongo_compress_client.py run <mongodb uri>
"""
import json
import sys


def probe():
    try:
        import pymongo  # noqa: F401
    except ImportError as e:
        print("SKIP pymongo is not importable: %s" % e)
        return
    try:
        from pymongo import compression_support
    except ImportError as e:
        print("SKIP this pymongo has no compression support: %s" % e)
        return
    if not getattr(compression_support, "_HAVE_ZLIB", False):
        print("SKIP this pymongo cannot use zlib (the zlib module is missing)")
        return
    print("OK")


def result(key, value):
    print("RESULT " + json.dumps({key: value}), flush=True)


def run(uri):
    import pymongo
    from pymongo import MongoClient

    result("version", pymongo.version)
    client = MongoClient(uri, compressors="zlib", serverSelectionTimeoutMS=10000)
    coll = client.test.packed
    # Repetitive text, so that zlib really shrinks the bodies.
    docs = [{"_id": i, "text": "compress me " * 20, "n": i * i} for i in range(100)]
    inserted = coll.insert_many(docs).inserted_ids
    result("inserted", len(inserted))
    # A small batch size, so getMores travel compressed too.
    back = list(coll.find({}, batch_size=30).sort("_id", 1))
    result("read", len(back))
    result("same", back == docs)
    result("count", coll.count_documents({"n": {"$gte": 2500}}))
    client.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "probe":
        probe()
    elif mode == "run":
        run(sys.argv[2])
    else:
        sys.exit("unknown mode %r" % mode)
