"""The JWT authorizer (functions/authorizer/app.py) invoked with HTTP API v2 REQUEST authorizer events.

Every refusal is an answer (`isAuthorized: false`), never an exception, and its logged
reason never holds the token.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from handlers import lambda_context, load_handler
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from healthscore.auth import jwks as jwks_module
from healthscore.config import ConfigError, get_settings
from healthscore_dev.cli.main import main
from healthscore_dev.local.dev_keys import key_path, local_auth_environment, mint_token

ISSUER = "https://login.example.com/health"
AUDIENCE = "healthscore-api"
AUTH_VARIABLES = ("JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL", "JWT_JWKS_JSON", "ROLES_CLAIM")

Invoke = Callable[[object], dict[str, Any]]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any
    pins_algorithm: bool = True  # whether its JWK carries "alg"

    def jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        kind: Any = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}[_key_type(public)]
        jwk = dict(kind.to_jwk(public, as_dict=True), kid=self.kid, use="sig")
        return dict(jwk, alg=self.algorithm) if self.pins_algorithm else jwk

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _key_type(public_key: object) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA"
    return "EC" if isinstance(public_key, ec.EllipticCurvePublicKey) else "OKP"


@dataclass(frozen=True)
class Keys:
    rsa: SigningKey  # in the JWKS, without "alg": any RSA algorithm of the allow-list verifies
    ec: SigningKey  # in the JWKS, pinned to ES256
    ed: SigningKey  # in the JWKS, Ed25519
    stranger: SigningKey  # in no JWKS

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.rsa.jwk(), self.ec.jwk(), self.ed.jwk()]}


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=SigningKey("rsa-1", "RS256", rsa.generate_private_key(65537, 2048), pins_algorithm=False),
        ec=SigningKey("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1())),
        ed=SigningKey("ed-1", "EdDSA", ed25519.Ed25519PrivateKey.generate()),
        stranger=SigningKey("rsa-1", "RS256", rsa.generate_private_key(65537, 2048)),
    )


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims; an override replaces one, a None override leaves it out."""
    now = int(time.time())
    valid = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-123",
        "roles": ["CLIENT_SUCCESS"],
        "iat": now,
        "exp": now + 300,
    }
    return {name: value for name, value in (valid | overrides).items() if value is not None}


def make_token(key: SigningKey, *, algorithm: str | None = None, kid: str | None = None, **overrides: Any) -> str:
    """A token signed by `key` (with its kid unless another is given) holding `claims(**overrides)`."""
    headers = {"kid": kid or key.kid}
    return jwt.encode(claims(**overrides), key.private_key, algorithm=algorithm or key.algorithm, headers=headers)


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A token assembled by hand, for what PyJWT refuses to produce."""
    signing_input = b".".join(_b64(json.dumps(part).encode()) for part in (header, payload))
    return (signing_input + b"." + _b64(sign(signing_input))).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@pytest.fixture
def base_event(events_dir: Path) -> dict[str, Any]:
    return json.loads((events_dir / "authorizer_request.json").read_text())


def with_authorization(base_event: dict[str, Any], authorization: object) -> dict[str, Any]:
    event = copy.deepcopy(base_event)
    if authorization is None:
        del event["headers"]["authorization"]
        event["identitySource"] = []
    else:
        event["headers"]["authorization"] = authorization
        event["identitySource"] = [authorization]
    return event


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch, keys: Keys) -> Iterator[pytest.MonkeyPatch]:
    """The authorizer's environment with an inline JWKS; tests may change it before starting the handler."""
    for name in AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("JWT_JWKS_JSON", json.dumps(keys.jwks()))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def start_authorizer(base_event: dict[str, Any]) -> Invoke:
    """A fresh execution environment of the authorizer (reads the environment as it is now)."""
    get_settings.cache_clear()
    handler = load_handler("authorizer")

    def invoke(authorization: object) -> dict[str, Any]:
        return handler.lambda_handler(with_authorization(base_event, authorization), lambda_context())

    return invoke


@pytest.fixture
def invoke(auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], caplog: pytest.LogCaptureFixture) -> Invoke:
    caplog.set_level(logging.INFO)
    return start_authorizer(base_event)


def refusal_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.__dict__["reason"] for record in caplog.records if record.getMessage() == "request refused"]


# --- accepted -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_name", "algorithm"),
    [("rsa", "RS256"), ("rsa", "RS512"), ("rsa", "PS256"), ("ec", "ES256"), ("ed", "EdDSA")],
)
def test_valid_token_is_authorized_with_its_subject_and_roles(
    invoke: Invoke, keys: Keys, key_name: str, algorithm: str
) -> None:
    token = make_token(getattr(keys, key_name), algorithm=algorithm)

    assert invoke(f"Bearer {token}") == {
        "isAuthorized": True,
        "context": {"sub": "user-123", "roles": "CLIENT_SUCCESS"},
    }


@pytest.mark.parametrize(
    "roles",
    [
        ["PLATFORM_ADMIN", "CLIENT_SUCCESS"],
        "CLIENT_SUCCESS PLATFORM_ADMIN",
        "PLATFORM_ADMIN,CLIENT_SUCCESS",
        ["CLIENT_SUCCESS", "PLATFORM_ADMIN", "SOMETHING_ELSE"],
    ],
    ids=["list", "space-separated", "comma-separated", "unknown-roles-ignored"],
)
def test_roles_claim_as_list_or_string(invoke: Invoke, keys: Keys, roles: object) -> None:
    answer = invoke(f"Bearer {make_token(keys.rsa, roles=roles)}")

    assert answer["isAuthorized"] is True
    assert answer["context"]["roles"] == "CLIENT_SUCCESS,PLATFORM_ADMIN"


def test_roles_from_cognito_groups(invoke: Invoke, keys: Keys) -> None:
    groups: dict[str, Any] = {"cognito:groups": ["PLATFORM_ADMIN", "eu-west-1_Users"]}
    token = make_token(keys.rsa, roles=None, **groups)

    assert invoke(f"Bearer {token}")["context"] == {"sub": "user-123", "roles": "PLATFORM_ADMIN"}


def test_roles_from_a_configured_claim(auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], keys: Keys) -> None:
    auth_env.setenv("ROLES_CLAIM", "https://healthscore.example.com/roles")
    invoke = start_authorizer(base_event)

    custom_claim: dict[str, Any] = {"https://healthscore.example.com/roles": ["PLATFORM_ADMIN"]}
    custom = make_token(keys.rsa, roles=None, **custom_claim)
    default_claim_only = make_token(keys.rsa, roles=["PLATFORM_ADMIN"])

    assert invoke(f"Bearer {custom}")["context"]["roles"] == "PLATFORM_ADMIN"
    assert invoke(f"Bearer {default_claim_only}")["isAuthorized"] is False


def test_expired_within_leeway_is_accepted(invoke: Invoke, keys: Keys) -> None:
    token = make_token(keys.ec, exp=int(time.time()) - 30)

    assert invoke(f"Bearer {token}")["isAuthorized"] is True


def test_not_before_within_leeway_is_accepted(invoke: Invoke, keys: Keys) -> None:
    token = make_token(keys.ec, nbf=int(time.time()) + 30)

    assert invoke(f"Bearer {token}")["isAuthorized"] is True


def test_audience_list_containing_ours_is_accepted(invoke: Invoke, keys: Keys) -> None:
    token = make_token(keys.ec, aud=["another-api", AUDIENCE])

    assert invoke(f"Bearer {token}")["isAuthorized"] is True


def test_header_name_and_scheme_are_case_insensitive(
    auth_env: pytest.MonkeyPatch, keys: Keys, base_event: dict[str, Any]
) -> None:
    event = copy.deepcopy(base_event)
    del event["headers"]["authorization"]
    event["headers"]["Authorization"] = f"bearer {make_token(keys.ec)}"
    handler = load_handler("authorizer")

    assert handler.lambda_handler(event, lambda_context())["isAuthorized"] is True


# --- refused ------------------------------------------------------------------------------------


def _hs256_with_public_key_as_secret(keys: Keys) -> str:
    secret = keys.rsa.public_pem()
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.rsa.kid}
    return unsigned_token(header, claims(), lambda data: hmac.new(secret, data, hashlib.sha256).digest())


REFUSED: list[Any] = [
    pytest.param(lambda k: None, "no Authorization header", id="no-header"),
    pytest.param(lambda k: "", "no Authorization header", id="empty-header"),
    pytest.param(lambda k: 12345, "no Authorization header", id="header-not-a-string"),
    pytest.param(lambda k: "Basic dXNlcjpwYXNzd29yZA==", "not a Bearer credential", id="basic-auth"),
    pytest.param(lambda k: make_token(k.rsa), "not a Bearer credential", id="token-without-scheme"),
    pytest.param(lambda k: "Bearer", "malformed token", id="bearer-without-token"),
    pytest.param(lambda k: "Bearer not-a-jwt", "malformed token", id="garbage"),
    pytest.param(lambda k: "Bearer a b c", "malformed token", id="spaces"),
    pytest.param(lambda k: "Bearer ëyJ.ëyJ.sig", "malformed token", id="non-ascii"),
    pytest.param(lambda k: "Bearer a.b.c", "malformed token", id="bad-base64"),
    pytest.param(lambda k: "Bearer e30.e30.", "algorithm not allowed", id="empty-header-and-payload"),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, exp=int(time.time()) - 120)}", "token expired", id="expired"),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, nbf=int(time.time()) + 120)}", "token not yet valid", id="not-yet-valid"
    ),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, aud='another-api')}", "wrong audience", id="wrong-aud"),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, iss='https://evil.example.com')}", "wrong issuer", id="wrong-iss"
    ),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, exp=None)}", "a required claim is missing", id="no-exp"),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, aud=None)}", "a required claim is missing", id="no-aud"),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, sub=None)}", "a required claim is missing", id="no-sub"),
    pytest.param(lambda k: f"Bearer {make_token(k.stranger)}", "bad signature", id="signed-by-another-key"),
    pytest.param(
        lambda k: f"Bearer {make_token(k.stranger, kid='rotated-2')}", "unknown signing key", id="unknown-kid"
    ),
    pytest.param(
        lambda k: "Bearer " + jwt.encode(claims(), k.rsa.private_key, algorithm="RS256"),
        "token names no signing key (kid)",
        id="no-kid",
    ),
    pytest.param(
        lambda k: "Bearer " + unsigned_token({"alg": "none", "kid": k.rsa.kid}, claims(), lambda _: b""),
        "algorithm not allowed",
        id="alg-none",
    ),
    pytest.param(
        lambda k: f"Bearer {_hs256_with_public_key_as_secret(k)}", "algorithm not allowed", id="hs256-confusion"
    ),
    pytest.param(
        # The check precedes the signature's: PyJWT would not sign ES384 with a P-256 key anyway.
        lambda k: "Bearer " + unsigned_token({"alg": "ES384", "kid": k.ec.kid}, claims(), lambda _: b"s" * 96),
        "algorithm does not match the signing key",
        id="alg-other-than-pinned",
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, kid=k.ec.kid)}",
        "algorithm does not match the signing key",
        id="rsa-token-naming-ec-key",
    ),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, roles=None)}", "no allowed role", id="no-roles"),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, roles=['VIEWER'])}", "no allowed role", id="unknown-role"),
]


@pytest.mark.parametrize(("authorization", "reason"), REFUSED)
def test_refused_with_reason_and_no_exception(
    invoke: Invoke,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    authorization: Callable[[Keys], object],
    reason: str,
) -> None:
    header = authorization(keys)

    assert invoke(header) == {"isAuthorized": False, "context": {}}
    assert refusal_reasons(caplog) == [reason]
    if isinstance(header, str) and "." in header:
        token = header.split()[-1]
        assert token not in caplog.text
        assert all(token not in str(value) for record in caplog.records for value in vars(record).values())


@pytest.mark.parametrize(
    "event",
    [{}, {"headers": None}, {"headers": "authorization"}, {"version": "2.0", "type": "REQUEST"}, None, "garbage", []],
    ids=["empty", "headers-null", "headers-string", "no-headers", "null", "string", "list"],
)
def test_garbage_event_is_refused(
    auth_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], event: Any
) -> None:
    handler = load_handler("authorizer")
    caplog.set_level(logging.INFO)
    unavailable_metrics(capsys)

    assert handler.lambda_handler(event, lambda_context()) == {"isAuthorized": False, "context": {}}
    assert refusal_reasons(caplog) == ["no Authorization header"]  # a request without a token, not a crash
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert unavailable_metrics(capsys) == []  # nor counted as an outage of the authorizer


# --- several audiences, Cognito access tokens ---------------------------------------------------

PORTAL_CLIENT_ID = "5r2lbvf4p0c6example"  # a Cognito app client id


@pytest.fixture
def multi_invoke(auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], caplog: pytest.LogCaptureFixture) -> Invoke:
    auth_env.setenv("JWT_AUDIENCE", f"{AUDIENCE}, {PORTAL_CLIENT_ID}")
    caplog.set_level(logging.INFO)
    return start_authorizer(base_event)


def cognito_access_token(key: SigningKey, **overrides: Any) -> str:
    """The claims of a Cognito access token: no aud, token_use and client_id instead."""
    access: dict[str, Any] = {"aud": None, "token_use": "access", "client_id": PORTAL_CLIENT_ID}
    return make_token(key, **(access | overrides))


@pytest.mark.parametrize("audience", [AUDIENCE, PORTAL_CLIENT_ID, ["unrelated", PORTAL_CLIENT_ID]])
def test_id_token_naming_any_configured_audience_is_accepted(
    multi_invoke: Invoke, keys: Keys, audience: object
) -> None:
    token = make_token(keys.rsa, aud=audience, token_use="id")

    assert multi_invoke(f"Bearer {token}")["isAuthorized"] is True


def test_cognito_access_token_with_a_configured_client_id_is_accepted(multi_invoke: Invoke, keys: Keys) -> None:
    groups: dict[str, Any] = {"cognito:groups": ["PLATFORM_ADMIN"]}

    assert multi_invoke(f"Bearer {cognito_access_token(keys.rsa, roles=None, **groups)}") == {
        "isAuthorized": True,
        "context": {"sub": "user-123", "roles": "PLATFORM_ADMIN"},
    }


AUDIENCE_REFUSED: list[Any] = [
    pytest.param({"client_id": "another-app-client"}, "wrong client_id", id="access-token-wrong-client-id"),
    pytest.param({"client_id": None}, "wrong client_id", id="access-token-without-client-id"),
    pytest.param({"client_id": [PORTAL_CLIENT_ID]}, "wrong client_id", id="access-token-client-id-not-a-string"),
    pytest.param({"token_use": "id"}, "a required claim is missing", id="id-token-without-aud"),
    pytest.param({"token_use": "refresh"}, "a required claim is missing", id="access-token-wrong-token-use"),
    pytest.param({"token_use": None}, "a required claim is missing", id="no-aud-no-token-use"),
    pytest.param({"token_use": ["access"]}, "a required claim is missing", id="token-use-not-a-string"),
    pytest.param({"aud": "another-api"}, "wrong audience", id="aud-wins-over-client-id"),
    pytest.param({"aud": [1, {"a": PORTAL_CLIENT_ID}]}, "wrong audience", id="aud-not-strings"),
    pytest.param({"aud": f"{AUDIENCE},{PORTAL_CLIENT_ID}"}, "wrong audience", id="aud-is-not-split"),
]


@pytest.mark.parametrize(("overrides", "reason"), AUDIENCE_REFUSED)
def test_token_without_one_of_our_audiences_is_refused(
    multi_invoke: Invoke, keys: Keys, caplog: pytest.LogCaptureFixture, overrides: dict[str, Any], reason: str
) -> None:
    assert multi_invoke(f"Bearer {cognito_access_token(keys.rsa, **overrides)}")["isAuthorized"] is False
    assert refusal_reasons(caplog) == [reason]


def test_single_audience_is_still_exact(invoke: Invoke, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    # JWT_AUDIENCE is only AUDIENCE here: the portal's client id is not one of ours.
    assert invoke(f"Bearer {cognito_access_token(keys.rsa)}")["isAuthorized"] is False
    assert invoke(f"Bearer {cognito_access_token(keys.rsa, client_id=AUDIENCE)}")["isAuthorized"] is True
    assert refusal_reasons(caplog) == ["wrong client_id"]


# --- hostile tokens -----------------------------------------------------------------------------


def _b64_json_text(text: str) -> str:
    return _b64(text.encode()).decode()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def rs256_token(key: SigningKey, payload: str) -> str:
    """A token validly signed by `key` over any payload text, including what PyJWT refuses to encode."""
    signing_input = _b64(json.dumps({"alg": "RS256", "kid": key.kid}).encode()) + b"." + _b64(payload.encode())
    signature = jwt.get_algorithm_by_name("RS256").sign(signing_input, key.private_key)
    return (signing_input + b"." + _b64(signature)).decode()


def _hs_confusion(key: SigningKey, algorithm: str, digest: Any) -> str:
    secret = key.public_pem()
    header = {"alg": algorithm, "typ": "JWT", "kid": key.kid}
    return unsigned_token(header, claims(), lambda data: hmac.new(secret, data, digest).digest())


HOSTILE: list[Any] = [
    pytest.param(lambda k: "Bearer " + "a" * 100_000, "token too large", id="100kB-garbage"),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, padding='x' * 100_000)}", "token too large", id="100kB-signed-token"
    ),
    pytest.param(
        # A header nested deeper than the JSON parser recurses (RecursionError, not a decode error).
        lambda k: f"Bearer {_b64_json_text(_nested(5_000))}.e30.c2ln",
        "malformed token",
        id="deeply-nested-header",
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, deep=json.loads(_nested(500)))}.x",
        "malformed token",
        id="token-with-a-fourth-part",
    ),
    pytest.param(
        lambda k: "Bearer " + unsigned_token({"alg": "RS256", "kid": {"$ref": "../"}}, claims(), lambda _: b"s"),
        "invalid token (InvalidTokenError)",  # PyJWT's own check: a kid must be a string
        id="kid-an-object",
    ),
    pytest.param(
        lambda k: "Bearer " + unsigned_token({"alg": "RS256", "kid": ["rsa-1"]}, claims(), lambda _: b"s"),
        "invalid token (InvalidTokenError)",  # PyJWT's own check: a kid must be a string
        id="kid-a-list",
    ),
    pytest.param(
        lambda k: "Bearer " + unsigned_token({"alg": ["RS256"], "kid": "rsa-1"}, claims(), lambda _: b"s"),
        "algorithm not allowed",
        id="alg-a-list",
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, roles=[['CLIENT_SUCCESS'], {'role': 'PLATFORM_ADMIN'}])}",
        "no allowed role",
        id="roles-nested",
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, roles={'CLIENT_SUCCESS': True})}", "no allowed role", id="roles-object"
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, roles='VIEWER ' * 1_500)}", "no allowed role", id="roles-huge-string"
    ),
    pytest.param(
        lambda k: f"Bearer {make_token(k.rsa, sub={'id': 'user-123'})}",
        "invalid token (InvalidSubjectError)",
        id="sub-an-object",
    ),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, sub='')}", "a required claim is missing", id="sub-empty"),
    pytest.param(lambda k: f"Bearer {make_token(k.rsa, exp='tomorrow')}", "malformed token", id="exp-a-string"),
    pytest.param(
        lambda k: f"Bearer {rs256_token(k.rsa, json.dumps(claims(iss=[ISSUER])))}",
        "wrong issuer",
        id="iss-a-list",
    ),
]
for _alg in ("none", "None", "NONE", "nOnE"):
    HOSTILE.append(
        pytest.param(
            lambda k, alg=_alg: "Bearer " + unsigned_token({"alg": alg, "kid": k.rsa.kid}, claims(), lambda _: b""),
            "algorithm not allowed",
            id=f"alg-{_alg}-unsigned",
        )
    )
for _name, _digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)):
    for _key in ("rsa", "ec", "ed"):
        HOSTILE.append(
            pytest.param(
                lambda k, name=_name, digest=_digest, key=_key: (
                    f"Bearer {_hs_confusion(getattr(k, key), name, digest)}"
                ),
                "algorithm not allowed",
                id=f"{_name}-with-the-{_key}-public-key-as-secret",
            )
        )


@pytest.mark.parametrize(("authorization", "reason"), HOSTILE)
def test_hostile_token_is_refused_never_raised(
    invoke: Invoke,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    authorization: Callable[[Keys], str],
    reason: str,
) -> None:
    assert invoke(authorization(keys)) == {"isAuthorized": False, "context": {}}
    # The fixed reason of an expected refusal: not "unexpected error; request refused".
    assert refusal_reasons(caplog) == [reason]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_deeply_nested_claim_in_a_validly_signed_token_is_refused(
    invoke: Invoke, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    token = rs256_token(keys.rsa, json.dumps(claims())[:-1] + f', "deep": {_nested(5_000)}}}')

    assert invoke(f"Bearer {token}") == {"isAuthorized": False, "context": {}}
    assert refusal_reasons(caplog) == ["malformed token"]


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("JWT_ISSUER", "JWT_ISSUER"),
        ("JWT_AUDIENCE", "JWT_AUDIENCE"),
        ("JWT_JWKS_JSON", "JWT_JWKS_URL or JWT_JWKS_JSON"),
    ],
)
def test_missing_configuration_fails_the_cold_start_naming_the_variable(
    auth_env: pytest.MonkeyPatch, unset: str, named: str
) -> None:
    auth_env.delenv(unset)
    get_settings.cache_clear()

    with pytest.raises(ConfigError, match=named):
        load_handler("authorizer")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("JWT_JWKS_JSON", "{not json", "JWT_JWKS_JSON"),
        ("JWT_JWKS_JSON", '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}', "JWT_JWKS_JSON"),
        ("JWT_JWKS_URL", "http://keys.example.com/jwks.json", "JWT_JWKS_URL"),
        ("ROLES_CLAIM", "", "ROLES_CLAIM"),
        ("JWT_AUDIENCE", "healthscore-api,,portal", "JWT_AUDIENCE"),
        ("JWT_AUDIENCE", "healthscore-api,", "JWT_AUDIENCE"),
        ("JWKS_MAX_AGE_SECONDS", "30", "JWKS_MAX_AGE_SECONDS"),
        ("JWKS_MAX_AGE_SECONDS", "an hour", "JWKS_MAX_AGE_SECONDS"),
    ],
    ids=[
        "jwks-not-json",
        "jwks-only-symmetric-key",
        "jwks-url-plain-http",
        "empty-roles-claim",
        "empty-audience-in-list",
        "trailing-comma-audience",
        "jwks-max-age-below-refetch-interval",
        "jwks-max-age-not-a-number",
    ],
)
def test_bad_configuration_fails_the_cold_start_naming_the_variable(
    auth_env: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    if variable == "JWT_JWKS_URL":
        auth_env.delenv("JWT_JWKS_JSON")
    auth_env.setenv(variable, value)
    get_settings.cache_clear()

    with pytest.raises(ConfigError, match=named):
        load_handler("authorizer")


def test_configuration_lost_after_start_refuses(
    invoke: Invoke, keys: Keys, auth_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke(f"Bearer {make_token(keys.rsa, exp=1)}")["isAuthorized"] is False
    assert unavailable_metrics(capsys) == []  # a bad token is the caller's problem, not an outage
    auth_env.delenv("JWT_ISSUER")
    get_settings.cache_clear()

    assert invoke(f"Bearer {make_token(keys.rsa)}") == {"isAuthorized": False, "context": {}}
    assert unavailable_metrics(capsys) == [1.0]


# --- JWKS fetched from JWT_JWKS_URL -------------------------------------------------------------


@dataclass
class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts the requests it serves."""

    document: dict[str, Any]
    url: str = ""
    paths: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return len(self.paths)

    def serve(self, path: str) -> bytes:
        with self._lock:
            self.paths.append(path)
            return json.dumps(self.document).encode()


@pytest.fixture
def jwks_server(keys: Keys) -> Iterator[JwksServer]:
    state = JwksServer(document={"keys": [keys.rsa.jwk()]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.serve(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class FakeClock:
    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(jwks_module, "monotonic", fake)
    return fake


@pytest.fixture
def remote_invoke(
    auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], jwks_server: JwksServer, clock: FakeClock
) -> Invoke:
    auth_env.delenv("JWT_JWKS_JSON")
    auth_env.setenv("JWT_JWKS_URL", jwks_server.url)
    return start_authorizer(base_event)


def test_jwks_is_fetched_on_first_use_and_cached(
    remote_invoke: Invoke, jwks_server: JwksServer, keys: Keys, clock: FakeClock
) -> None:
    assert jwks_server.requests == 0  # the cold start does not wait for the network

    for _ in range(5):
        clock.now += 700  # 3,500 s in all: within JWKS_MAX_AGE_SECONDS (default 3,600)
        assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True

    assert jwks_server.requests == 1
    assert jwks_server.paths == ["/.well-known/jwks.json"]


def test_unknown_kid_refetches_at_most_once_a_minute(
    remote_invoke: Invoke, jwks_server: JwksServer, keys: Keys, clock: FakeClock
) -> None:
    rotated = SigningKey("rsa-2", "RS256", keys.stranger.private_key)
    assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True
    assert jwks_server.requests == 1

    # The identity provider rotates in a new key; within a minute of the last fetch it is not looked for.
    jwks_server.document = {"keys": [keys.rsa.jwk(), rotated.jwk()]}
    clock.now += 30
    assert remote_invoke(f"Bearer {make_token(rotated)}")["isAuthorized"] is False
    assert jwks_server.requests == 1

    clock.now += 31
    assert remote_invoke(f"Bearer {make_token(rotated)}")["isAuthorized"] is True
    assert jwks_server.requests == 2

    # A burst of forged kids costs at most one fetch a minute.
    for _ in range(10):
        clock.now += 1
        assert remote_invoke(f"Bearer {make_token(keys.stranger, kid='forged')}")["isAuthorized"] is False
    assert jwks_server.requests == 2
    clock.now += 60
    for _ in range(10):
        assert remote_invoke(f"Bearer {make_token(keys.stranger, kid='forged')}")["isAuthorized"] is False
    assert jwks_server.requests == 3

    assert remote_invoke(f"Bearer {make_token(rotated)}")["isAuthorized"] is True
    assert jwks_server.requests == 3


@pytest.mark.parametrize(
    "kid",
    [
        "../../../etc/passwd",
        "..%2F..%2Fjwks.json",
        "/.well-known/jwks.json?kid=rsa-1",
        "http://127.0.0.1:1/evil-jwks.json",
        "file:///etc/passwd",
        "rsa-1/../rsa-1",
        "rsa-1\u0000",
    ],
)
def test_kid_is_a_name_never_a_path_or_url(
    remote_invoke: Invoke, jwks_server: JwksServer, keys: Keys, clock: FakeClock, kid: str
) -> None:
    assert remote_invoke(f"Bearer {make_token(keys.rsa, kid=kid)}")["isAuthorized"] is False
    clock.now += 61
    assert remote_invoke(f"Bearer {make_token(keys.rsa, kid=kid)}")["isAuthorized"] is False

    # Two refetches for an unknown kid, both of the configured URL: the kid never reaches it.
    assert jwks_server.paths == ["/.well-known/jwks.json"] * 2


def test_key_rotated_out_of_the_jwks_stops_verifying_after_the_maximum_age(
    remote_invoke: Invoke, jwks_server: JwksServer, keys: Keys, clock: FakeClock
) -> None:
    old_token = make_token(keys.rsa, exp=int(time.time()) + 86_400)
    assert remote_invoke(f"Bearer {old_token}")["isAuthorized"] is True

    # The identity provider rotates rsa-1 out: its tokens are still unexpired.
    rotated = SigningKey("rsa-2", "RS256", keys.stranger.private_key)
    jwks_server.document = {"keys": [rotated.jwk()]}
    clock.now += 3_599
    assert remote_invoke(f"Bearer {old_token}")["isAuthorized"] is True  # within the maximum age
    assert jwks_server.requests == 1

    clock.now += 1
    assert remote_invoke(f"Bearer {old_token}")["isAuthorized"] is False
    assert jwks_server.requests == 2
    assert remote_invoke(f"Bearer {make_token(rotated)}")["isAuthorized"] is True
    assert jwks_server.requests == 2


def test_jwks_maximum_age_is_configurable(
    auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], jwks_server: JwksServer, keys: Keys, clock: FakeClock
) -> None:
    auth_env.delenv("JWT_JWKS_JSON")
    auth_env.setenv("JWT_JWKS_URL", jwks_server.url)
    auth_env.setenv("JWKS_MAX_AGE_SECONDS", "300")
    invoke = start_authorizer(base_event)

    for _ in range(4):
        assert invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True
        clock.now += 150

    assert jwks_server.requests == 2  # at 0 s and at 300 s


def test_stale_keys_keep_verifying_while_the_jwks_is_unreachable_and_are_refetched_once_a_minute(
    remote_invoke: Invoke, jwks_server: JwksServer, keys: Keys, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True
    jwks_server.document = {"keys": "the identity provider is having a bad day"}
    clock.now += 3_600

    for _ in range(5):
        assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True
        clock.now += 20
    assert jwks_server.requests == 3  # 0 s, 3,600 s, 3,660 s: not one a request

    # Back: the next fetch a minute on brings the rotation in.
    jwks_server.document = {"keys": [keys.ec.jwk()]}
    clock.now += 60
    assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is False
    assert remote_invoke(f"Bearer {make_token(keys.ec)}")["isAuthorized"] is True
    assert jwks_server.requests == 4


def unavailable_metrics(capsys: pytest.CaptureFixture[str]) -> list[float]:
    """The AuthorizerUnavailable values written out (EMF lines on stdout) since the last call."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    return [value for line in lines for value in line.get("AuthorizerUnavailable", [])]


def test_unusable_jwks_refuses_then_recovers(
    remote_invoke: Invoke,
    jwks_server: JwksServer,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jwks_server.document = {"keys": "not a list"}
    caplog.set_level(logging.INFO)
    unavailable_metrics(capsys)

    assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is False
    assert refusal_reasons(caplog) == ["signing keys unavailable"]
    assert unavailable_metrics(capsys) == [1.0]  # AuthorizerUnavailableAlarm counts it

    # With no keys held yet there is nothing to protect: the next request tries again.
    jwks_server.document = {"keys": [keys.rsa.jwk()]}
    assert remote_invoke(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is True
    assert jwks_server.requests == 2


def test_jwks_endpoint_unreachable_refuses(
    auth_env: pytest.MonkeyPatch, base_event: dict[str, Any], keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    auth_env.delenv("JWT_JWKS_JSON")
    auth_env.setenv("JWT_JWKS_URL", f"http://127.0.0.1:{port}/jwks.json")
    caplog.set_level(logging.INFO)

    assert start_authorizer(base_event)(f"Bearer {make_token(keys.rsa)}")["isAuthorized"] is False
    assert refusal_reasons(caplog) == ["signing keys unavailable"]


# --- the local development token ----------------------------------------------------------------


def test_local_token_is_accepted_by_the_authorizer_with_the_local_jwks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    base_event: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HEALTHSCORE_LOCAL_DIR", str(tmp_path))
    for name in AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    assert main(["local", "token", "--role", "PLATFORM_ADMIN"]) == 0
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    assert not output.startswith("Bearer")
    token = output.strip()

    assert key_path().parent == tmp_path
    assert key_path().stat().st_mode & 0o777 == 0o600
    for name, value in local_auth_environment().items():
        monkeypatch.setenv(name, value)
    invoke = start_authorizer(base_event)
    try:
        assert invoke(f"Bearer {token}") == {
            "isAuthorized": True,
            "context": {"sub": "local-developer", "roles": "PLATFORM_ADMIN"},
        }

        # The key is stored once and reused: a second token verifies against the same JWKS.
        assert main(["local", "token"]) == 0
        assert invoke(f"Bearer {capsys.readouterr().out.strip()}")["context"]["roles"] == "CLIENT_SUCCESS"

        # A role the service does not know: the authorizer would refuse its token, so the command refuses it.
        with pytest.raises(SystemExit) as refused:
            main(["local", "token", "--role", "VIEWER"])
        assert refused.value.code == 2
        assert "invalid choice: 'VIEWER'" in capsys.readouterr().err
        assert invoke(f"Bearer {mint_token('VIEWER')}")["isAuthorized"] is False
    finally:
        get_settings.cache_clear()
