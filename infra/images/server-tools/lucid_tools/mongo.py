"""MongoDB checks, dump and restore through pymongo (BSON files, one per collection)."""

from pathlib import Path

import bson
from pymongo import MongoClient

TIMEOUT_MS = 5000


def _client(uri: str) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=TIMEOUT_MS, connectTimeoutMS=TIMEOUT_MS)


def ping(uri: str) -> dict:
    with _client(uri) as client:
        client.admin.command("ping")
        return {"ok": True, "version": client.server_info().get("version")}


def dump(uri: str, db: str, out: str) -> dict:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    counts = {}
    with _client(uri) as client:
        for name in client[db].list_collection_names():
            docs = list(client[db][name].find())
            (target / f"{name}.bson").write_bytes(b"".join(bson.encode(d) for d in docs))
            counts[name] = len(docs)
    return {"db": db, "out": str(target), "collections": counts}


def restore(uri: str, db: str, src: str) -> dict:
    counts = {}
    with _client(uri) as client:
        for file in sorted(Path(src).glob("*.bson")):
            docs = bson.decode_all(file.read_bytes())
            if docs:
                client[db][file.stem].insert_many(docs)
            counts[file.stem] = len(docs)
    return {"db": db, "src": src, "collections": counts}
