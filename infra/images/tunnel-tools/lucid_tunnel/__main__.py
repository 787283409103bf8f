"""lucid_tunnel status | publish | run | health  (settings from the environment, see config())."""

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

from stem import ProtocolError, SocketError
from stem.connection import AuthenticationFailure
from stem.control import Controller


def config() -> dict:
    return {
        "control_host": os.environ.get("TOR_CONTROL_HOST", "tor-proxy"),
        "control_port": int(os.environ.get("TOR_CONTROL_PORT", "9051")),
        "target": os.environ.get("ONION_TARGET", "api-gateway:8080"),
        "virtual_port": int(os.environ.get("ONION_PORT", "80")),
        "state": Path(os.environ.get("LUCID_TUNNEL_STATE", "/var/lib/lucid-tunnel")),
    }


def connect(cfg: dict) -> Controller:
    """An authenticated controller; cookie auth reads the cookie Tor names (on its volume)."""
    address = socket.gethostbyname(cfg["control_host"])  # stem takes an IP address only
    ctl = Controller.from_port(address=address, port=cfg["control_port"])
    ctl.authenticate()
    return ctl


def status(cfg: dict) -> dict:
    with connect(cfg) as ctl:
        phase = ctl.get_info("status/bootstrap-phase")
        return {
            "version": str(ctl.get_version()),
            "bootstrap": phase,
            "progress": int(phase.split("PROGRESS=")[1].split()[0]) if "PROGRESS=" in phase else None,
            "network": ctl.get_conf("DisableNetwork") != "1",
        }


def publish(cfg: dict) -> dict:
    """Publishes the target as an onion service; the key is kept, so the address is stable.
    Safe to repeat: a service Tor already runs under this key is reported, not added twice."""
    key_file, host_file = cfg["state"] / "onion_key", cfg["state"] / "hostname"
    key_type, key = ("ED25519-V3", key_file.read_text().strip()) if key_file.exists() else ("NEW", "ED25519-V3")
    report = {"target": cfg["target"], "port": cfg["virtual_port"]}
    with connect(cfg) as ctl:
        try:
            svc = ctl.create_ephemeral_hidden_service(
                {cfg["virtual_port"]: cfg["target"]}, key_type=key_type, key_content=key,
                await_publication=False, detached=True,
            )
        except ProtocolError as err:
            if "collision" not in str(err) or not host_file.exists():
                raise
            return {"hostname": host_file.read_text().strip(), "already": True, **report}
    if key_type == "NEW":
        _write_private(key_file, svc.private_key)
    hostname = f"{svc.service_id}.onion"
    host_file.write_text(hostname + "\n")
    return {"hostname": hostname, "already": False, **report}


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content + "\n")


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="lucid_tunnel")
    parser.add_argument("command", choices=["status", "publish", "run", "health"])
    args = parser.parse_args(argv)
    cfg = config()
    try:
        if args.command == "health":
            status(cfg)
            return 0
        if args.command in ("status", "publish"):
            print(json.dumps(status(cfg) if args.command == "status" else publish(cfg)))
            return 0
        print(json.dumps(publish(cfg)), flush=True)
        while True:  # keep reporting; Docker's health check watches the control port
            time.sleep(60)
            print(json.dumps(status(cfg)), flush=True)
    except (SocketError, ProtocolError, AuthenticationFailure, OSError, ValueError) as err:
        print(f"lucid_tunnel: {cfg['control_host']}:{cfg['control_port']}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
