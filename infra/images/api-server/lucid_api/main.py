"""HTTP API: health, version, and Ed25519 signing with the server's key.

Open: /health, /version, /public-key, /verify (nothing secret in or out). Signing with the
server's key needs the bearer token (auth.py). There is no endpoint that makes key pairs for
clients: a private key made here would cross the network (plain HTTP on the LAN, Tor beyond the
onion service) and pass through the gateway's and the server's memory; a client makes its own
key and /verify checks any public key.
"""

import base64
import logging
import os
import platform

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import auth, keys

app = FastAPI(title="Lucid API", docs_url=None, redoc_url=None, openapi_url=None)
# A key file that is there but unusable is not a crash loop: the API starts, says why (once in
# its log, and at /health, which Docker's health check reads, so a rollout names it), and signs
# nothing until the file is mended.
try:
    _key, _key_error = keys.load_or_create(), None
except keys.KeyFileError as err:
    _key, _key_error = None, str(err)
    logging.getLogger("lucid_api").error("%s", err)


def _signing_key():
    if _key is None:
        raise HTTPException(status_code=503, detail=_key_error)
    return _key


class SignRequest(BaseModel):
    message: str = Field(..., max_length=4096)


class Signed(BaseModel):
    message: str
    signature: str
    publicKey: str


@app.get("/health")
def health():
    if _key_error is not None:
        return JSONResponse(status_code=503, content={"status": "error", "error": _key_error})
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
    return {"publicKey": keys.public_b64(_signing_key().public_key())}


@app.post("/sign", response_model=Signed, dependencies=[Depends(auth.require_token)])
def sign(req: SignRequest) -> Signed:
    key = _signing_key()
    signature = base64.b64encode(key.sign(req.message.encode())).decode()
    return Signed(message=req.message, signature=signature, publicKey=keys.public_b64(key.public_key()))


@app.post("/verify")
def verify(req: Signed) -> dict:
    return {"valid": keys.verify(req.publicKey, req.message.encode(), req.signature)}
