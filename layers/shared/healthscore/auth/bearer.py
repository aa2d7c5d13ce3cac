"""The authorizer's use case: from an `Authorization` header to a Principal."""

from __future__ import annotations

import re
from typing import Final

from healthscore.auth.principal import Principal
from healthscore.auth.tokens import TokenRejected, TokenVerifier
from healthscore.config import Settings, get_settings

# RFC 6750 b64token: whatever else arrives is not a JWT and need not reach the parser.
_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Identity providers' tokens are a few kB (Cognito's, with groups, well under 8 kB); refusing larger
# ones before any parsing keeps a 100 kB header from costing base64 and JSON work on every request.
MAX_TOKEN_CHARS: Final = 16 * 1024

_verifier: tuple[Settings, TokenVerifier] | None = None


def get_verifier() -> TokenVerifier:
    """The verifier of this execution environment, built (configuration checked) once per loaded settings."""
    global _verifier
    settings = get_settings()
    if _verifier is None or _verifier[0] is not settings:
        _verifier = (settings, TokenVerifier.from_settings(settings))
    return _verifier[1]


def bearer_token(authorization: object) -> str:
    """The token of an `Authorization: Bearer <token>` header value; TokenRejected for anything else."""
    if not isinstance(authorization, str) or not authorization.strip():
        raise TokenRejected("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRejected("not a Bearer credential")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenRejected("token too large")
    if not _B64TOKEN.fullmatch(token):
        raise TokenRejected("malformed token")
    return token


def authenticate(authorization: object) -> Principal:
    """The principal of a request's `Authorization` header value; TokenRejected when it has none."""
    return get_verifier().verify(bearer_token(authorization))
