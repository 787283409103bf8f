// server-tools against a real MongoDB: FerretDB (the wire protocol, SQLite storage) on an
// internal network beside the toolbox, hardened as on the Pi, on each platform of each release.
// A database of several collections (nested documents, binary, dates, indexes, more documents
// than a batch) is dumped and restored into another database and comes back identical: every
// document byte for byte, every index. And a dump cut short (its container killed, as a rollout
// or a power loss would) leaves the previous dump whole.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { preparedImages, RELEASES, repositoryFor, type Built } from "../support/built-images";
import { docker, dockerResult, pull } from "../support/docker";
import { HARDENED, QEMU_FAST_PAUTH } from "../support/lucid-set";
import { startMongo } from "../support/mongo";
import { SERVICES } from "../../infra/services";

jest.setTimeout(20 * 60_000);
const built: Record<string, Built> = {};
beforeAll(async () => Object.assign(built, await preparedImages()));

const CASES = RELEASES.flatMap((d) => ["linux/amd64", "linux/arm64"].map((p) => [p, d] as const));
const DUMPS = "/var/lib/lucid-tools";

/** Python run in the toolbox, with its pymongo: seeds `lucid`, `rows` documents in `a-big`. */
const seed = (rows: number) => `
import datetime, uuid
from bson import Binary, ObjectId
from pymongo import ASCENDING, DESCENDING, MongoClient
db = MongoClient("mongodb://mongo:27017", serverSelectionTimeoutMS=10000)["lucid"]
db["a-big"].insert_many([{"_id": i, "n": i, "pad": "x" * 900} for i in range(${rows})])
db.people.insert_many([
    {"_id": ObjectId(), "name": "ada", "address": {"city": "London", "geo": [51.5, -0.12]}, "tags": ["a", "b"]},
    {"_id": ObjectId(), "name": "grace", "address": {"city": "New York", "nested": {"deeper": {"x": 1}}}, "tags": []},
])
db.blobs.insert_many([
    {"_id": 1, "raw": Binary(bytes(range(256))), "uuid": Binary(uuid.UUID(int=42).bytes, 4)},
    {"_id": 2, "raw": Binary(b""), "note": None},
])
db.events.insert_many([
    {"_id": 1, "at": datetime.datetime(2026, 11, 29, 9, 45, 1, 123000), "kind": "up", "n": 1.5},
    {"_id": 2, "at": datetime.datetime(1969, 7, 20, 20, 17), "kind": "moon", "n": -(2**40)},
])
db.people.create_index([("name", ASCENDING)], unique=True, name="by_name")
db.events.create_index([("at", DESCENDING), ("kind", ASCENDING)], name="by_time")
print("seeded")
`;

/** Python in the toolbox: each collection of two databases, its documents' bytes (a SHA-256 each) and indexes. */
const compare = `
import hashlib, json
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
c = MongoClient("mongodb://mongo:27017", serverSelectionTimeoutMS=10000)
raw = CodecOptions(document_class=RawBSONDocument)
def view(name):
    db = c.get_database(name, codec_options=raw)
    out = {}
    for coll in sorted(db.list_collection_names()):
        docs = sorted(hashlib.sha256(d.raw).hexdigest() for d in db[coll].find())
        idx = sorted((json.loads(json_util.dumps({k: v for k, v in dict(i).items() if k != "ns"})) for i in c[name][coll].list_indexes()), key=lambda i: i["name"])
        out[coll] = {"count": len(docs), "docs": docs, "indexes": idx}
    return out
print(json.dumps({"source": view("lucid"), "restored": view("copy")}))
`;

describe.each(CASES)("server-tools on %s (%s) against FerretDB", (platform, debian) => {
  const prefix = `lucid-mongo-${debian}-${platform.split("/")[1]}`;
  const network = `${prefix}-net`;
  const tools = `${prefix}-tools`;
  const volume = `${prefix}-data`;
  const py = (code: string) => {
    const r = dockerResult(["exec", tools, "/usr/bin/python3", "-c", code], 600_000);
    if (r.code !== 0)
      throw new Error(`python in ${tools} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const lucidTools = (...args: string[]) => {
    const r = dockerResult(
      ["exec", tools, "/usr/bin/python3", "-m", "lucid_tools", ...args],
      600_000,
    );
    return { code: r.code, report: JSON.parse(r.stdout || "{}") as Record<string, unknown> };
  };
  /** The volume's directory on this machine (the Engine is local): read without the container. */
  const onHost = () => docker(["volume", "inspect", "-f", "{{.Mountpoint}}", volume]);
  const startTools = () =>
    docker([
      "run",
      "-d",
      "--name",
      tools,
      "--network",
      network,
      ...HARDENED,
      ...QEMU_FAST_PAUTH,
      "-v",
      `${volume}:${DUMPS}`,
      pull(repositoryFor(debian), built[debian]["server-tools"].digests[platform]),
    ]);

  beforeAll(async () => {
    docker(["network", "create", "--internal", network]);
    await startMongo(`${prefix}-mongo`, network);
    startTools();
  });
  afterAll(() => {
    docker(["rm", "-f", "-v", tools, `${prefix}-mongo`], { allowFail: true });
    docker(["volume", "rm", volume], { allowFail: true });
    docker(["network", "rm", network], { allowFail: true });
  });

  test("ping, then a database dumped and restored comes back identical: documents byte for byte, indexes", () => {
    const ping = lucidTools("mongo-ping");
    expect([ping.code, ping.report.ok]).toEqual([0, true]);
    expect(py(seed(1200))).toContain("seeded"); // 1200: more than a batch of 500
    const dumped = lucidTools("mongo-dump", "--db", "lucid");
    expect(dumped.code).toBe(0);
    expect(dumped.report.collections).toEqual({ "a-big": 1200, blobs: 2, events: 2, people: 2 });
    expect(dumped.report.out).toBe(`${DUMPS}/dump`);
    const restored = lucidTools("mongo-restore", "--db", "copy");
    expect([restored.code, restored.report.collections]).toEqual([0, dumped.report.collections]);
    const { source, restored: back } = JSON.parse(py(compare));
    expect(Object.keys(source)).toEqual(["a-big", "blobs", "events", "people"]);
    expect(source.people.indexes.map((i: { name: string }) => i.name)).toEqual(["_id_", "by_name"]);
    expect(source.events.indexes.map((i: { name: string }) => i.name)).toEqual(["_id_", "by_time"]);
    expect(back).toEqual(source);
    // a database with no collection is no dump; a restore over documents writes nothing
    const none = lucidTools("mongo-dump", "--db", "nosuch");
    expect([none.code, none.report.error]).toEqual([
      1,
      `ValueError: database nosuch has no collection: nothing dumped; ${DUMPS}/dump kept`,
    ]);
    const over = lucidTools("mongo-restore", "--db", "copy");
    expect([over.code, over.report.error]).toEqual([
      1,
      "ValueError: copy already holds documents in a-big, blobs, events, people: restore into an empty database (nothing was written)",
    ]);
  });

  // Bounded memory: a database more than twice the service's memory limit, in documents of 1 MiB
  // (a batch of 500 of them would be 500 MiB), dumped and restored by a toolbox held to that limit
  // as on the Pi. Each peak resident size is read by the process itself. Native speed, one release.
  if (platform === "linux/amd64" && debian === RELEASES[0])
    test("a dump and a restore of twice the service's memory limit run within it", () => {
      const limit = SERVICES.find((s) => s.name === "server-tools")!.limits.memory; // "192m"
      const limitMiB = Number(limit.replace(/m$/, ""));
      const docs = limitMiB * 2;
      py(`from pymongo import MongoClient
db = MongoClient("mongodb://mongo:27017")["large"]
for start in range(0, ${docs}, 16):
    db.blobs.insert_many([{"_id": i, "pad": bytes([i % 256]) * (1 << 20)} for i in range(start, min(start + 16, ${docs}))])`);
      const limited = (call: string) => {
        const r = dockerResult(
          [
            "run",
            "--rm",
            "--network",
            network,
            ...HARDENED,
            "--memory",
            limit,
            "--memory-swap",
            limit, // no swap to hide in
            "-v",
            `${volume}:${DUMPS}`,
            "--entrypoint",
            "/usr/bin/python3",
            pull(repositoryFor(debian), built[debian]["server-tools"].digests[platform]),
            "-c",
            `import json, resource
from lucid_tools import mongo
report = mongo.${call}
print(json.dumps({**report, "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))`,
          ],
          600_000,
        );
        expect({ code: r.code, err: r.stderr.slice(-400) }).toEqual({ code: 0, err: "" });
        return JSON.parse(r.stdout) as { collections: object; peakMiB: number };
      };
      const dump = limited(`dump("mongodb://mongo:27017", "large", "${DUMPS}/large")`);
      expect(dump.collections).toEqual({ blobs: docs });
      const dumped = fs.statSync(path.join(onHost(), "large", "blobs.bson")).size;
      expect(dumped).toBeGreaterThan(docs * (1 << 20));
      const restore = limited(`restore("mongodb://mongo:27017", "large2", "${DUMPS}/large")`);
      expect(restore.collections).toEqual({ blobs: docs });
      console.log(
        `${dumped >> 20} MiB: mongo-dump peak resident ${dump.peakMiB} MiB, mongo-restore ${restore.peakMiB} MiB (limit ${limit})`,
      );
      expect(dump.peakMiB).toBeLessThan(limitMiB / 2);
      expect(restore.peakMiB).toBeLessThan(limitMiB / 2);
    });

  // The cut needs a dump long enough to be caught half way: native speed, one release.
  // (defined there alone: not a skipped test on the others)
  if (platform === "linux/amd64" && debian === RELEASES[0])
    test("a dump cut short leaves the previous dump whole; the next one clears what it left", async () => {
      py(`from pymongo import MongoClient
db = MongoClient("mongodb://mongo:27017")["lucid"]
db["a-big"].insert_many([{"_id": 10**6 + i, "pad": "y" * 4000} for i in range(30000)])`);
      const dir = onHost();
      const link = path.join(dir, "dump");
      const before = fs.readlinkSync(link);
      const hashes = (d: string) =>
        Object.fromEntries(
          fs.readdirSync(d).map((f) => [
            f,
            crypto
              .createHash("sha256")
              .update(fs.readFileSync(path.join(d, f)))
              .digest("hex"),
          ]),
        );
      const whole = hashes(path.join(dir, before));
      docker([
        "exec",
        "-d",
        tools,
        "/usr/bin/python3",
        "-m",
        "lucid_tools",
        "mongo-dump",
        "--db",
        "lucid",
      ]);
      // Killed once the new dump has written part of its first collection.
      let partial = "";
      for (let i = 0; i < 6000 && !partial; i++) {
        partial =
          fs
            .readdirSync(dir)
            .find(
              (f) =>
                f.endsWith(".partial") &&
                fs.existsSync(path.join(dir, f, "a-big.bson")) &&
                fs.statSync(path.join(dir, f, "a-big.bson")).size > 0,
            ) ?? "";
        if (!partial) await new Promise((r) => setTimeout(r, 5));
      }
      expect(partial).not.toBe("");
      const second = lucidTools("mongo-dump", "--db", "lucid"); // one at a time
      expect([second.code, second.report.error]).toEqual([
        1,
        `RuntimeError: another dump into ${DUMPS}/dump is running; nothing changed`,
      ]);
      docker(["kill", tools]);
      expect(fs.readlinkSync(link)).toBe(before);
      expect(hashes(path.join(dir, before))).toEqual(whole);
      expect(fs.existsSync(path.join(dir, partial))).toBe(true); // left by the cut
      docker(["start", tools]);
      const again = lucidTools("mongo-dump", "--db", "lucid");
      expect(again.code).toBe(0);
      expect(fs.readlinkSync(link)).not.toBe(before);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
      expect(
        fs
          .readdirSync(dir)
          .filter((f) => f.startsWith("dump-"))
          .sort(),
      ).toEqual([before, fs.readlinkSync(link)].sort());
    });
});
