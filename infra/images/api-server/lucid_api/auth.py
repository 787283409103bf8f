"""The API's credential: a bearer token from LUCID_API_TOKEN (a Pulumi secret, in the release's
mode-600 `environment` file on the Pi), required by every endpoint that uses the server's key.

Compared in constant time (SHA-256 of both sides, so neither length nor prefix shows in timing);
the header's value is never logged or echoed. Without a configured token the protected endpoints
refuse every request: the API fails closed, never open.
"""

import hashlib
import hmac
import logging
import os

from fastapi import Header, HTTPException

ENV = "LUCID_API_TOKEN"
MIN_LENGTH = 32
_log = logging.getLogger("lucid_api.auth")


def _configured() -> bytes | None:
    token = os.environ.get(ENV, "")
    if len(token) < MIN_LENGTH:
        _log.warning("%s is unset or shorter than %d characters: the signing endpoints refuse every request", ENV, MIN_LENGTH)
        return None
    return hashlib.sha256(token.encode()).digest()


_EXPECTED = _configured()


def require_token(authorization: str | None = Header(default=None)) -> None:
    """A FastAPI dependency: passes only `Authorization: Bearer <the configured token>`."""
    if _EXPECTED is None:
        raise HTTPException(status_code=503, detail=f"the API has no credential configured ({ENV})")
    scheme, _, given = (authorization or "").partition(" ")
    # Always one comparison, whatever was sent: a malformed header costs what a wrong one does.
    ok = hmac.compare_digest(hashlib.sha256(given.encode()).digest(), _EXPECTED)
    if not ok or scheme.lower() != "bearer":
        # a new exception each time: one raised again and again keeps every traceback it gathered
        raise HTTPException(
            status_code=401, detail="a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
