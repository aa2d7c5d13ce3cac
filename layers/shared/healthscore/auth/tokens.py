"""Verification of a JWT bearer token: signature against the JWKS, issuer, audience, lifetime, roles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt

from healthscore.auth.jwks import JwksSource, JwksUnavailableError, jwks_from_settings
from healthscore.auth.principal import ROLES, Principal
from healthscore.auth.unavailable import count_unavailable
from healthscore.config import Role, Settings

# The allow-list, with the key type each algorithm needs. Asymmetric only: an HS* token "signed"
# with the public key as HMAC secret (algorithm confusion) and "none" are refused by name.
KEY_TYPE_OF_ALGORITHM: Final[Mapping[str, str]] = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}
LEEWAY_SECONDS: Final = 60
REQUIRED_CLAIMS: Final = ("exp", "iss", "aud", "sub")
COGNITO_GROUPS_CLAIM: Final = "cognito:groups"

# Fixed reasons: a reason is logged, and PyJWT's own messages are not promised to leave claims out.
_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.MissingRequiredClaimError, "a required claim is missing"),
    (jwt.DecodeError, "malformed token"),
)


class TokenRejected(Exception):  # noqa: N818 - the name other modules and tests rely on
    """The token does not authenticate anyone; `reason` says why (safe to log, holds no token data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    audience: str
    roles_claim: str
    keys: JwksSource

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        """Raises ConfigError naming the variable when the configuration cannot work."""
        settings.require("JWT_ISSUER", "JWT_AUDIENCE", "ROLES_CLAIM")
        return cls(
            issuer=str(settings.jwt_issuer),
            audience=str(settings.jwt_audience),
            roles_claim=settings.roles_claim,
            keys=jwks_from_settings(settings),
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token holding at least one role; TokenRejected otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if not isinstance(algorithm, str) or algorithm not in KEY_TYPE_OF_ALGORITHM:
                raise TokenRejected("algorithm not allowed")
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise TokenRejected("token names no signing key (kid)")
            key = self.keys.key_for(kid)
            if key is None:
                raise TokenRejected("unknown signing key")
            if key.key_type != KEY_TYPE_OF_ALGORITHM[algorithm] or key.algorithm not in (None, algorithm):
                raise TokenRejected("algorithm does not match the signing key")
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except JwksUnavailableError:
            count_unavailable()
            raise TokenRejected("signing keys unavailable") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(_reason(exc)) from None
        if not claims["sub"]:
            raise TokenRejected("a required claim is missing")
        roles = roles_in(claims, self.roles_claim)
        if not roles:
            raise TokenRejected("no allowed role")
        return Principal(subject=claims["sub"], roles=roles)


def roles_in(claims: Mapping[str, Any], roles_claim: str) -> frozenset[Role]:
    """The service's roles named by the roles claim or by Cognito groups; other names are ignored."""
    names = _names(claims.get(roles_claim)) | _names(claims.get(COGNITO_GROUPS_CLAIM))
    return frozenset(role for role in ROLES if role in names)


def _names(value: object) -> set[str]:
    """A claim holding a list of names, or one string of names separated by spaces or commas."""
    if isinstance(value, str):
        return set(re.split(r"[\s,]+", value))
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _reason(exc: jwt.PyJWTError) -> str:
    return next((reason for kind, reason in _REASONS if isinstance(exc, kind)), f"invalid token ({type(exc).__name__})")
