"""lucid_tunnel status | publish | run | health  (settings from the environment, see config())."""

import argparse
import base64
import json
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from stem import ProtocolError, SocketError
from stem.connection import AuthenticationFailure
from stem.control import Controller


KEEP_S = 5  # seconds between looks at whether the onion is still published, and where to


def config() -> dict:
    return {
        # Tor's control port: a Unix socket in the tor-sockets volume (Tor has no network port)
        "control_socket": os.environ.get("TOR_CONTROL_SOCKET", "/run/lucid-tor/control"),
        "target": os.environ.get("ONION_TARGET", "api-gateway:8080"),
        "virtual_port": int(os.environ.get("ONION_PORT", "80")),
        "state": Path(os.environ.get("LUCID_TUNNEL_STATE", "/var/lib/lucid-tunnel")),
        # the address this container gave Tor, not data: on its tmpfs, never on the state volume
        "published": Path(os.environ.get("LUCID_TUNNEL_RUNTIME", "/tmp"))
        / "lucid-tunnel-published",
    }


def connect(cfg: dict) -> Controller:
    """An authenticated controller; cookie auth reads the cookie Tor names (on its volume)."""
    ctl = Controller.from_socket_file(cfg["control_socket"])
    try:
        ctl.authenticate()
    except BaseException:
        ctl.close()
        raise
    return ctl


def status(cfg: dict) -> dict:
    with connect(cfg) as ctl:
        phase = ctl.get_info("status/bootstrap-phase")
        return {
            "version": str(ctl.get_version()),
            "bootstrap": phase,
            "progress": int(phase.split("PROGRESS=")[1].split()[0]) if "PROGRESS=" in phase else None,
            "network": ctl.get_conf("DisableNetwork") != "1",
            "onion": onion_state(cfg, ctl),
        }


def target_address(cfg: dict) -> str:
    """The target as Tor is given it: the gateway's address now. Tor resolves a name once, when the
    service is added, so a gateway recreated at another address would leave the onion pointing at
    the old one; the address is looked up here, and looked at again while `run` runs."""
    host, port = cfg["target"].rsplit(":", 1)
    return f"{socket.gethostbyname(host)}:{port}"


def onion_state(cfg: dict, ctl: Controller) -> dict | None:
    """The kept onion: its hostname, whether this Tor serves it now, and the address it was last
    published to (None before the first publication)."""
    host_file, published = cfg["state"] / "hostname", cfg["published"]
    if not host_file.exists():
        return None
    hostname = host_file.read_text().strip()
    served = ctl.list_ephemeral_hidden_services(default=[], our_services=False, detached=True)
    return {
        "hostname": hostname,
        "served": hostname.removesuffix(".onion") in served,
        "address": published.read_text().strip() if published.exists() else None,
    }


def publish(cfg: dict, ctl: Controller | None = None, address: str | None = None) -> dict:
    """Publishes the target as an onion service; the key is kept, so the address is stable.
    Safe to repeat: a service Tor already runs under this key is reported, not added twice.
    With `ctl`, on that controller (left open); else on a connection of its own. To `address`
    when given (the target's, just looked up), else to the one its name has now."""
    if ctl is None:
        with connect(cfg) as own:
            return publish(cfg, own, address)
    key_file, host_file = cfg["state"] / "onion_key", cfg["state"] / "hostname"
    key_type, key = ("ED25519-V3", onion_key(cfg)) if key_file.exists() else ("NEW", "ED25519-V3")
    address = address or target_address(cfg)
    report = {"target": cfg["target"], "address": address, "port": cfg["virtual_port"]}
    try:
        svc = ctl.create_ephemeral_hidden_service(
            {cfg["virtual_port"]: address}, key_type=key_type, key_content=key,
            await_publication=False, detached=True,
        )
    except ProtocolError as err:
        if "collision" not in str(err) or not host_file.exists():
            raise
        return {"hostname": host_file.read_text().strip(), "already": True, **report}
    hostname = f"{svc.service_id}.onion"
    try:
        if key_type == "NEW":
            _write_private(key_file, svc.private_key)
        host_file.write_text(hostname + "\n")
        cfg["published"].write_text(address + "\n")
    except BaseException:
        # a service whose key was not kept would be an address nobody can have again: gone
        ctl.remove_ephemeral_hidden_service(svc.service_id)
        raise
    return {"hostname": hostname, "already": False, **report}


class KeyFileError(ValueError):
    """The onion key file is there but holds no usable key."""


def onion_key(cfg: dict) -> str:
    """The kept onion key (Tor's ED25519-V3 form: base64 of 64 bytes); an error naming the file and
    what to do when it is empty or not a key. Never replaced on its own: that changes the address."""
    path = cfg["state"] / "onion_key"
    key = path.read_text().strip()
    try:
        ok = len(base64.b64decode(key, validate=True)) == 64
    except ValueError:
        ok = False
    if not ok:
        raise KeyFileError(
            f"{path} is {'empty' if not key else 'not an onion key'}: restore it from a backup, or "
            "move it aside (with the hostname file) for a new key, and with it a new onion address"
        )
    return key


def _write_private(path: Path, content: str) -> None:
    """Written whole or not at all (temporary file, fsync, linked into place, directory synced);
    never over a key that is there."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        os.unlink(tmp)


def keep_published(cfg: dict, ctl: Controller) -> dict | None:
    """Publishes the onion again when this Tor no longer serves it (tor-proxy was recreated or
    restarted: ephemeral services go with it) or the gateway's address is not the one it points at
    (api-gateway was recreated elsewhere): same key, same address. The report when it did."""
    state = onion_state(cfg, ctl)
    if state is None:
        return None
    address = target_address(cfg)
    if not state["served"]:
        why = "Tor no longer served it"
    elif state["address"] != address:
        why = f"{cfg['target']} is at {address}, not {state['address']}"
        ctl.remove_ephemeral_hidden_service(state["hostname"].removesuffix(".onion"))
    else:
        return None
    return {**publish(cfg, ctl, address), "again": why}


def publish_when_ready(cfg: dict, wait_s: int = 60) -> dict:
    """`run` starts beside Tor, which may not answer on its control port yet: tried once a second
    for at most wait_s seconds, so a start-up race is waited out, not a crash to restart."""
    for attempt in range(wait_s):
        try:
            ctl = connect(cfg)  # only reaching Tor is retried, never a publication
        except (SocketError, OSError, AuthenticationFailure):  # Tor not up, or its cookie not yet
            if attempt == wait_s - 1:
                raise
            time.sleep(1)
            continue
        with ctl:
            return publish(cfg, ctl)
    raise AssertionError("unreachable")


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="lucid_tunnel")
    parser.add_argument("command", choices=["status", "publish", "run", "health"])
    args = parser.parse_args(argv)
    # As PID 1 of its container, SIGTERM (`docker stop`, a rollout) would be ignored without a
    # handler, and Docker would kill it after the grace period: it ends at once, with 0 (the
    # control connection closed on the way out, as SystemExit unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cfg = config()
    try:
        if args.command == "health":
            status(cfg)
            if (cfg["state"] / "onion_key").exists():
                onion_key(cfg)  # a broken key is not a healthy tunnel
            return 0
        if args.command in ("status", "publish"):
            print(json.dumps(status(cfg) if args.command == "status" else publish(cfg)))
            return 0
        try:
            print(json.dumps(publish_when_ready(cfg)), flush=True)
        except KeyFileError as err:
            # Not a crash loop: said every minute, unhealthy (see health) until it is mended.
            while True:
                print(f"lucid_tunnel: {err}", file=sys.stderr, flush=True)
                time.sleep(60)
        # Kept published: looked at every few seconds (Docker's health check watches the control
        # port); a Tor briefly away (being recreated) is waited for, said once a minute at most.
        said = 0.0
        while True:
            time.sleep(KEEP_S)
            try:
                with connect(cfg) as ctl:
                    again = keep_published(cfg, ctl)
                if again:
                    print(json.dumps(again), flush=True)
            except (SocketError, ProtocolError, AuthenticationFailure, OSError) as err:
                if time.monotonic() - said > 60:
                    said = time.monotonic()
                    print(f"lucid_tunnel: keeping the onion published: {err}",
                          file=sys.stderr, flush=True)
    except (SocketError, ProtocolError, AuthenticationFailure, OSError, ValueError) as err:
        print(f"lucid_tunnel: {cfg['control_host']}:{cfg['control_port']}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
