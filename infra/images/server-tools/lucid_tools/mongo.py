"""MongoDB checks, dump and restore through pymongo: per collection, its documents as BSON (byte for
byte as the server sent them) and its indexes as JSON."""

import datetime
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.errors import BulkWriteError

TIMEOUT_MS = 5000
BATCH = 500  # documents held at once, at most, by a dump's cursor and by a restore's inserts
BATCH_BYTES = 8 << 20  # and about this many bytes: 500 documents of 1 MiB would be 500 MiB
RAW = CodecOptions(document_class=RawBSONDocument)
KEEP = 2  # complete dumps kept: the newest, and the one before it


def _client(uri: str) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=TIMEOUT_MS, connectTimeoutMS=TIMEOUT_MS)


def ping(uri: str) -> dict:
    with _client(uri) as client:
        client.admin.command("ping")
        return {"ok": True, "version": client.server_info().get("version")}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dump(uri: str, db: str, out: str) -> dict:
    """`out` is a link to the newest complete dump, a directory beside it. A dump is streamed (a
    batch at a time, _batch_size: memory does not grow with a collection) into a new directory,
    each file synced, and the link moved to it only when all is written: a dump cut short (the
    container recreated by a rollout, power lost) leaves the link on the previous dump, whole.
    One dump at a time (a lock beside the link). A database with no collection (a name mistyped,
    a volume lost) is no dump: refused, the previous one kept. The newest KEEP dumps stay; older
    ones, and what dumps cut short left, go. Views and system collections are not data: skipped."""
    link = Path(out)
    parent = link.parent
    parent.mkdir(parents=True, exist_ok=True)
    with open(parent / f".{link.name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another dump into {link} is running; nothing changed") from None
        return _dump_locked(uri, db, link)


def _dump_locked(uri: str, db: str, link: Path) -> dict:
    parent = link.parent
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")  # sorts
    work = Path(tempfile.mkdtemp(dir=parent, prefix=f".{link.name}-{stamp}-", suffix=".partial"))
    counts = {}
    try:
        with _client(uri) as client:
            database = client.get_database(db, codec_options=RAW)
            names = sorted(
                c["name"] for c in client[db].list_collections()
                if c.get("type", "collection") == "collection"
                and not c["name"].startswith("system.")
            )
            if not names:
                raise ValueError(f"database {db} has no collection: nothing dumped; {link} kept")
            for name in names:
                n = 0
                with open(work / f"{name}.bson", "wb") as f:
                    for doc in database[name].find(batch_size=_batch_size(database, name)):
                        f.write(doc.raw)
                        n += 1
                    f.flush()
                    os.fsync(f.fileno())
                indexes = [dict(spec) for spec in client[db][name].list_indexes()]  # decoded
                (work / f"{name}.indexes.json").write_text(json_util.dumps(indexes) + "\n")
                counts[name] = n
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _fsync(work)
    done = work.with_name(work.name.lstrip(".").removesuffix(".partial"))
    os.rename(work, done)
    _swap(link, done.name)
    _prune(link, done.name)
    return {"db": db, "out": str(link), "dir": str(done), "collections": counts}


def _batch_size(database, name: str) -> int:
    """Documents per batch the server is asked for: BATCH, fewer when the collection's documents
    are large (its average size, from collStats), so a batch stays near BATCH_BYTES. MongoDB caps
    a batch at 16 MiB by itself; FerretDB sends what is asked (seen: one reply of 384 MiB, which
    pymongo refuses as over 48 MB). A server that cannot say: BATCH."""
    try:
        average = int(database.command("collStats", name).get("avgObjSize") or 0)
    except Exception:  # noqa: BLE001 - any refusal means only "not known"
        return BATCH
    return max(1, min(BATCH, BATCH_BYTES // max(average, 1)))


def _swap(link: Path, target: str) -> None:
    """Points `link` at `target` (a name beside it) in one rename; a directory an older toolbox
    dumped into at that path is kept beside it, renamed."""
    if link.is_dir() and not link.is_symlink():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        os.rename(link, link.with_name(f"{link.name}-before-{stamp}"))
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
    _fsync(link.parent)


def _prune(link: Path, current: str) -> None:
    parent = link.parent
    dumps = sorted(p.name for p in parent.glob(f"{link.name}-2*") if p.is_dir())
    for name in dumps[: max(0, len(dumps) - KEEP)]:
        if name != current:
            shutil.rmtree(parent / name)
    for partial in parent.glob(f".{link.name}-*.partial"):
        if partial.is_dir():
            shutil.rmtree(partial)  # a dump cut short (one running now would be in this process)


def restore(uri: str, db: str, src: str) -> dict:
    """Each collection of a dump back into `db`, BATCH documents (or BATCH_BYTES) at a time, byte
    for byte, then its indexes (the `_id` index is the collection's own). Only into collections
    that hold no document: checked for all before any is written. An insert that fails is named
    by collection and error code, never by the document's values."""
    counts = {}
    files = sorted(Path(src).glob("*.bson"))
    with _client(uri) as client:
        database = client.get_database(db, codec_options=RAW)
        full = [f.stem for f in files if database[f.stem].estimated_document_count() > 0]
        if full:
            raise ValueError(
                f"{db} already holds documents in {', '.join(full)}: restore into an empty database"
                " (nothing was written)"
            )
        for file in files:
            coll = database[file.stem]
            n = 0
            with open(file, "rb") as f:
                batch, size = [], 0
                for doc in bson.decode_file_iter(f, codec_options=RAW):
                    batch.append(doc)
                    size += len(doc.raw)
                    if len(batch) == BATCH or size >= BATCH_BYTES:
                        n += _insert(coll, batch, n)
                        batch, size = [], 0
                if batch:
                    n += _insert(coll, batch, n)
            spec = file.with_name(f"{file.stem}.indexes.json")
            if spec.exists():
                for index in json_util.loads(spec.read_text()):
                    if index["name"] == "_id_":
                        continue
                    keys = list(index.pop("key").items())
                    index.pop("v", None)
                    index.pop("ns", None)
                    coll.create_index(keys, **index)
            counts[file.stem] = n
    return {"db": db, "src": src, "collections": counts}


def _insert(coll, batch: list, before: int) -> int:
    try:
        coll.insert_many(batch, ordered=True)
    except BulkWriteError as err:
        first = (err.details.get("writeErrors") or [{}])[0]
        at = before + err.details.get("nInserted", 0)
        code = first.get("code")
        raise RuntimeError(
            f"restoring {coll.full_name} failed at its document {at + 1} (error code {code})"
        ) from None
    return len(batch)
