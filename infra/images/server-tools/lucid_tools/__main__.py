"""lucid_tools <command> ...: prints one JSON line; exit 0 when the check passed, 1 when not."""

import argparse
import json
import signal
import sys
import time

from . import net


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lucid_tools")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("dns").add_argument("name")
    sub.add_parser("tcp").add_argument("target", help="host:port")
    sub.add_parser("http").add_argument("url")
    t = sub.add_parser("tls")
    t.add_argument("target", help="host:port")
    t.add_argument("--cafile", help="trust this CA bundle instead of the system one")
    s = sub.add_parser("socks")
    s.add_argument("target", help="host:port to CONNECT to")
    s.add_argument("--proxy", default=net.TOR_SOCKS, help="a Unix socket's path, or host:port")
    s.add_argument("--handshake-only", action="store_true", help="only check the proxy speaks SOCKS5")
    for name in ("mongo-ping", "mongo-dump", "mongo-restore"):
        m = sub.add_parser(name)
        m.add_argument("--uri", default="mongodb://mongo:27017")
        if name != "mongo-ping":
            m.add_argument("--db", required=True)
            m.add_argument("--dir", default="/var/lib/lucid-tools/dump")
    sub.add_parser("self-check")
    sub.add_parser("idle", help="stay up, for `docker exec` use")
    return p


def run(args: argparse.Namespace) -> dict:
    c = args.command
    if c == "dns":
        return net.dns(args.name)
    if c == "tcp":
        return net.tcp(args.target)
    if c == "http":
        return net.http(args.url)
    if c == "tls":
        return net.tls(args.target, args.cafile)
    if c == "socks":
        return net.socks(args.target, args.proxy, args.handshake_only)
    if c.startswith("mongo-"):
        from . import mongo  # pymongo takes seconds to import on a small device: only when asked

        if c == "mongo-ping":
            return mongo.ping(args.uri)
        if c == "mongo-dump":
            return mongo.dump(args.uri, args.db, args.dir)
        return mongo.restore(args.uri, args.db, args.dir)
    return {"ok": True}  # self-check: the toolbox starts


def main(argv: list) -> int:
    args = parser().parse_args(argv)
    if args.command == "idle":
        # As PID 1 of its container, SIGTERM (`docker stop`, a rollout) would be ignored without a
        # handler, and Docker would kill it after the grace period: it ends at once, with 0.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    try:
        print(json.dumps(run(args)))
        return 0
    except Exception as err:  # every failure is a one-line report, never a traceback
        print(json.dumps({"command": args.command, "error": f"{type(err).__name__}: {err}"}))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
