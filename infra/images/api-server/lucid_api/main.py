"""HTTP API: health, version, and Ed25519 signing with the server's key."""

import base64
import os
import platform

from fastapi import FastAPI
from pydantic import BaseModel, Field

from . import keys

app = FastAPI(title="Lucid API", docs_url=None, redoc_url=None, openapi_url=None)
_key = keys.load_or_create()


class SignRequest(BaseModel):
    message: str = Field(..., max_length=4096)


class Signed(BaseModel):
    message: str
    signature: str
    publicKey: str


class KeyPair(BaseModel):
    publicKey: str
    privateKey: str


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/version")
def version() -> dict:
    return {
        "version": os.environ.get("LUCID_VERSION", "dev"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


@app.get("/public-key")
def public_key() -> dict:
    return {"publicKey": keys.public_b64(_key.public_key())}


@app.post("/sign", response_model=Signed)
def sign(req: SignRequest) -> Signed:
    signature = base64.b64encode(_key.sign(req.message.encode())).decode()
    return Signed(message=req.message, signature=signature, publicKey=keys.public_b64(_key.public_key()))


@app.post("/verify")
def verify(req: Signed) -> dict:
    return {"valid": keys.verify(req.publicKey, req.message.encode(), req.signature)}


@app.post("/keypairs", response_model=KeyPair)
def new_keypair() -> KeyPair:
    """A fresh Ed25519 pair for a client; the server keeps nothing of it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return KeyPair(publicKey=keys.public_b64(private.public_key()), privateKey=base64.b64encode(raw).decode())
