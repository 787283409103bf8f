"""The server's Ed25519 signing key: made once, kept on the state volume (mode 0600).

Written atomically (a temporary file, fsync, then linked into place, the directory synced), so
a power cut leaves either no key or the whole key, and two starts at once keep one key. A key
file that is there but empty or unreadable is an error naming the file and what to do; it is
never replaced by a new key on its own (that would silently change the server's identity).
"""

import base64
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

STATE_DIR = Path(os.environ.get("LUCID_API_STATE", "/var/lib/lucid-api"))
RECOVERY = (
    "restore it from a backup, or move it aside to make a new key "
    "(signatures made with the old key then no longer verify against /public-key)"
)


class KeyFileError(Exception):
    """The key file is there but holds no usable key."""


def load_or_create(path: Path | None = None) -> Ed25519PrivateKey:
    path = path or STATE_DIR / "signing.key"
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if _write_new(path, pem):
            return key
        # another start wrote it first: that one is the key
    return _load(path)


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KeyFileError(f"{path} cannot be read ({err.strerror}): {RECOVERY}") from None
    if not data.strip():
        raise KeyFileError(f"{path} is empty (cut off while written?): {RECOVERY}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise KeyFileError(f"{path} is not a readable PEM private key ({type(err).__name__}): {RECOVERY}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 key: {RECOVERY}")
    return key


def _write_new(path: Path, data: bytes) -> bool:
    """Writes `path` whole or not at all; False when it already exists (nothing written). The
    temporary file has a name of its own each time (a service is pid 1 at every start: a pid in
    the name would collide with the one a power cut left)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # unlike rename, never replaces a key that is there
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        os.unlink(tmp)


def public_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def verify(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        public.verify(base64.b64decode(signature_b64, validate=True), message)
        return True
    except (InvalidSignature, ValueError):
        return False
