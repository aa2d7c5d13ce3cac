"""The keys that may sign a token: a JWKS given inline (JWT_JWKS_JSON) or fetched (JWT_JWKS_URL).

A fetched JWKS is downloaded on first use and trusted for JWKS_MAX_AGE_SECONDS (default
an hour); the first request after that fetches it again, so a key the identity provider
removed (rotated out, or revoked after a leak) stops verifying within that time. A token
naming an unknown `kid` triggers a refetch too (key rotation). Fetches are at least a
minute apart either way, so a stream of forged `kid`s cannot turn the authorizer into a
load generator against the identity provider. When a refetch fails, the keys held so
far keep verifying (an outage of the identity provider must not lock every user out)
and the fetch is retried, still at most once a minute.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import urllib.request
from dataclasses import dataclass
from time import monotonic
from typing import Any, Final, Protocol
from urllib.parse import urlparse

from jwt import PyJWK, PyJWTError

from healthscore.config import ConfigError, Settings

REFETCH_INTERVAL_SECONDS: Final = 60.0
# An authorizer that waits longer than this makes every request slow; better to refuse and retry later.
FETCH_TIMEOUT_SECONDS: Final = 3.0
# A JWKS holds a handful of keys (a few kB); anything far larger is not one.
MAX_JWKS_BYTES: Final = 1024 * 1024
ASYMMETRIC_KEY_TYPES: Final = frozenset({"RSA", "EC", "OKP"})

logger = logging.getLogger(__name__)


class JwksUnavailableError(RuntimeError):
    """No JWKS could be obtained yet (the endpoint failed or answered something unusable)."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    key_type: str  # the JWK's "kty": RSA, EC or OKP
    algorithm: str | None  # the JWK's "alg", when it pins one
    public_key: Any  # a cryptography public key object


class JwksSource(Protocol):
    def key_for(self, kid: str) -> VerificationKey | None:
        """The key with this `kid`, or None when the JWKS has none."""
        ...


def parse_jwks(document: object) -> dict[str, VerificationKey]:
    """The signature keys of a JWKS document by `kid`; symmetric, encryption and kid-less keys are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('not a JWKS: expected an object with a "keys" list')
    keys: dict[str, VerificationKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ASYMMETRIC_KEY_TYPES:
            continue
        kid, algorithm = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            public_key = PyJWK(jwk).key
        except PyJWTError:
            continue  # a key this library cannot use cannot verify anything either
        keys[kid] = VerificationKey(kid, jwk["kty"], algorithm if isinstance(algorithm, str) else None, public_key)
    if not keys:
        raise ValueError("the JWKS holds no usable signature key with a kid")
    return keys


class StaticJwks:
    def __init__(self, keys: dict[str, VerificationKey]) -> None:
        self._keys = keys

    def key_for(self, kid: str) -> VerificationKey | None:
        return self._keys.get(kid)


class RemoteJwks:
    def __init__(self, url: str, max_age_seconds: float) -> None:
        self._url = url
        self._max_age = max_age_seconds
        self._keys: dict[str, VerificationKey] | None = None
        self._last_fetch: float | None = None  # the last attempt, successful or not
        self._fetched_at: float | None = None  # when the keys held were fetched
        # The local HTTP server may verify from several threads; one fetch at a time keeps the interval honest.
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> VerificationKey | None:
        with self._lock:
            if self._keys is None or ((kid not in self._keys or self._stale()) and self._may_refetch()):
                self._refresh()
            if self._keys is None:
                raise JwksUnavailableError("the JWKS of JWT_JWKS_URL could not be fetched")
            return self._keys.get(kid)

    def _may_refetch(self) -> bool:
        return self._last_fetch is None or monotonic() - self._last_fetch >= REFETCH_INTERVAL_SECONDS

    def _stale(self) -> bool:
        return self._fetched_at is None or monotonic() - self._fetched_at >= self._max_age

    def _refresh(self) -> None:
        """Fetch the JWKS; on failure keep the keys held so far (an outage must not revoke them)."""
        self._last_fetch = monotonic()
        try:
            # The scheme was checked at start-up (https, or http to this machine).
            with urllib.request.urlopen(self._url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                document = response.read(MAX_JWKS_BYTES + 1)
            if len(document) > MAX_JWKS_BYTES:
                raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
            self._keys = parse_jwks(json.loads(document))
            self._fetched_at = self._last_fetch
        except (OSError, ValueError, RecursionError) as exc:
            logger.warning("could not fetch the JWKS of JWT_JWKS_URL: %s", exc)


def jwks_from_settings(settings: Settings) -> JwksSource:
    """The JWKS source the configuration names; ConfigError naming the variable when it cannot work."""
    if settings.jwt_jwks_json and settings.jwt_jwks_url:
        raise ConfigError("set only one of JWT_JWKS_URL and JWT_JWKS_JSON")
    if settings.jwt_jwks_json:
        try:
            return StaticJwks(parse_jwks(json.loads(settings.jwt_jwks_json)))
        except ValueError as exc:
            raise ConfigError(f"JWT_JWKS_JSON: {exc}") from None
    if settings.jwt_jwks_url:
        if not _trusted_transport(settings.jwt_jwks_url):
            raise ConfigError("JWT_JWKS_URL: must be an https URL (plain http only to localhost)")
        return RemoteJwks(settings.jwt_jwks_url, settings.jwks_max_age_seconds)
    raise ConfigError("JWT_JWKS_URL or JWT_JWKS_JSON must be set")


def _trusted_transport(url: str) -> bool:
    """Keys fetched over plain http could be swapped in transit; allow it only on this machine."""
    parts = urlparse(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
