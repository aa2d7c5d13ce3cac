"""The local development signing key: tokens that `healthscore local serve` accepts.

One EC P-256 key per checkout, generated on first use into the git-ignored local
directory (mode 0600) and reused, so a token minted in one shell keeps working
against a server started in another.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from healthscore_dev.local.embedded_db import local_dir

LOCAL_ISSUER: Final = "healthscore-local"
LOCAL_AUDIENCE: Final = "healthscore-api"
LOCAL_ROLES_CLAIM: Final = "roles"
KEY_FILE_NAME: Final = "dev-jwt-key.pem"
ALGORITHM: Final = "ES256"


class DevKeyError(RuntimeError):
    """The stored development key cannot be used; the message says what to do."""


def key_path() -> Path:
    return local_dir() / KEY_FILE_NAME


def dev_private_key() -> ec.EllipticCurvePrivateKey:
    """The development key, generated and stored on first use."""
    path = key_path()
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        pem = _create(path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DevKeyError(f"{path} is not an unencrypted EC P-256 private key; delete it to generate a new one")
    return key


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written to a private (0600) temporary file, then linked into place: the link fails if a
    # concurrent process stored its key first, and nobody ever reads a half-written key.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dev-jwt-key-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        os.unlink(temporary)
    return pem


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    # RFC 7638 thumbprint as kid: stable for the key, and different for a regenerated one.
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return {name: jwk[name] for name in ("kty", "crv", "x", "y")} | {"kid": kid, "alg": ALGORITHM, "use": "sig"}


def local_jwks_json() -> str:
    """The JWKS (public half only) that verifies the tokens of `mint_token`."""
    return json.dumps({"keys": [_public_jwk(dev_private_key())]})


def mint_token(role: str, subject: str = "local-developer", ttl_seconds: int = 3600) -> str:
    """A token for the local server; a role the service does not know yields one the authorizer refuses."""
    key = dev_private_key()
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": subject,
        LOCAL_ROLES_CLAIM: [role],
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": _public_jwk(key)["kid"]})


def local_auth_environment() -> dict[str, str]:
    """The authorizer's environment for the local server: it trusts exactly the development key."""
    return {
        "JWT_ISSUER": LOCAL_ISSUER,
        "JWT_AUDIENCE": LOCAL_AUDIENCE,
        "JWT_JWKS_JSON": local_jwks_json(),
        "ROLES_CLAIM": LOCAL_ROLES_CLAIM,
    }
