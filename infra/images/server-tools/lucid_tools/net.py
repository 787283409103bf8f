"""Network checks: each returns a dict to print, or raises OSError with what failed."""

import socket
import ssl
import struct
import time
import urllib.request

TIMEOUT = 5.0


def _split(hostport: str, default_port: int) -> tuple:
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", str(default_port))
    return host.strip("[]"), int(port)


def dns(name: str) -> dict:
    infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    return {"name": name, "addresses": sorted({i[4][0] for i in infos})}


def tcp(hostport: str) -> dict:
    host, port = _split(hostport, 80)
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=TIMEOUT):
        pass
    return {"target": f"{host}:{port}", "open": True, "ms": round((time.monotonic() - start) * 1000, 1)}


def http(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:  # noqa: S310 - operator-given URL
        body = resp.read(256)
        return {"url": url, "status": resp.status, "bytes": len(body)}


def tls(hostport: str, cafile: str = None) -> dict:
    host, port = _split(hostport, 443)
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as conn:
            cert = conn.getpeercert()
            return {
                "target": f"{host}:{port}",
                "version": conn.version(),
                "subject": dict(x[0] for x in cert.get("subject", ())),
                "notAfter": cert.get("notAfter"),
            }


TOR_SOCKS = "/run/lucid-tor/socks"


def _proxy_socket(proxy: str) -> socket.socket:
    """A connection to the proxy: a Unix socket when `proxy` is a path (tor-proxy's), else host:port."""
    if not proxy.startswith("/"):
        return socket.create_connection(_split(proxy, 1080), timeout=TIMEOUT)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(TIMEOUT)
        s.connect(proxy)
    except BaseException:
        s.close()
        raise
    return s


def socks(target: str, proxy: str = TOR_SOCKS, handshake_only: bool = False) -> dict:
    """A SOCKS5 CONNECT to target through the proxy (no auth), as the services use tor-proxy:
    its Unix socket in the tor-sockets volume by default, or a proxy at host:port.
    handshake_only: stop once the proxy accepted the greeting (it answers SOCKS at all)."""
    host, port = _split(target, 80)
    with _proxy_socket(proxy) as s:
        s.settimeout(TIMEOUT)
        s.sendall(b"\x05\x01\x00")
        if s.recv(2) != b"\x05\x00":
            raise OSError(f"{proxy} refused the SOCKS5 greeting")
        if handshake_only:
            return {"proxy": proxy, "greeting": "ok"}
        name = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
        reply = s.recv(10)
        if len(reply) < 2 or reply[0] != 5:
            raise OSError(f"{proxy} is not a SOCKS5 proxy")
        if reply[1] != 0:
            raise OSError(f"{proxy} could not connect to {host}:{port} (SOCKS reply {reply[1]})")
        return {"proxy": proxy, "target": f"{host}:{port}", "greeting": "ok", "connected": True}
