"""The /iam/... routes of `healthscore local serve` as a machine caller meets them in AWS: SigV4-signed requests
(service execute-api) verified against the server's credentials, the caller presented as the assumed role's session
API Gateway reports, its roles from IAM_ROLE_MAP, and API Gateway's 403s for anything else."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from factories import add_org
from local_serve import PREFIX, healthscore, local_serve, serve_environment

from healthscore.dal.connection import DbConnection

ACCESS_KEY, SECRET_KEY, SESSION_TOKEN = "AKIDLOCALTEST", "local-test-secret", "local-session-token"
KEYS = ReadOnlyCredentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
REGION = "eu-west-1"
CALLER = "arn:aws:sts::000000000000:assumed-role/ops-tooling/nightly-7"


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **serve_environment(database_url, tmp_path),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_DEFAULT_REGION": REGION,
        # Any session of the role: the key has no session, as the docs recommend.
        "IAM_ROLE_MAP": json.dumps({"arn:aws:sts::000000000000:assumed-role/ops-tooling": ["CLIENT_SUCCESS"]}),
    }


@pytest.fixture
def iam_url(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    options = ("--iam-role", "ops-tooling", "--iam-session", "nightly-7")
    with local_serve(environment, tmp_path / "serve.log", *options) as base_url:
        yield base_url.removesuffix(PREFIX) + "/iam" + PREFIX


def send(
    url: str,
    method: str = "GET",
    body: bytes = b"",
    *,
    keys: ReadOnlyCredentials | None = KEYS,
    signed_at: datetime | None = None,
    tamper: bytes | None = None,
) -> tuple[int, Any]:
    """One request, signed with `keys` by botocore at `signed_at` (now by default); `tamper` replaces the body
    after signing."""
    headers = {"Content-Type": "application/json"} if body else {}
    if keys is not None:
        request = AWSRequest(method=method, url=url, headers=headers, data=body)
        signer = SigV4Auth(keys, "execute-api", REGION)
        if signed_at is None:
            signer.add_auth(request)
        else:
            with patch("botocore.auth.get_current_datetime", return_value=signed_at.replace(tzinfo=None)):
                signer.add_auth(request)
        headers = dict(request.headers.items())
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    connection.request(
        method, parts.path + (f"?{parts.query}" if parts.query else ""), body=tamper or body or None, headers=headers
    )
    answer = connection.getresponse()
    payload = answer.read()
    connection.close()
    return answer.status, json.loads(payload) if payload else None


def test_a_signed_caller_is_the_assumed_roles_session_with_the_mapped_roles(
    conn: DbConnection, environment: dict[str, str], iam_url: str
) -> None:
    org_id: UUID = add_org(conn, name="Signed Tenant")
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    override = json.dumps({"riskLevel": "HIGH", "reason": "renewal call went badly", "expiresAt": expires}).encode()

    status, body = send(f"{iam_url}/scores/{org_id}/override", "PUT", override)
    assert status == 200, body
    assert body["setBy"] == CALLER  # the principal API Gateway reports, as the API records it

    status, body = send(f"{iam_url}/scores?limit=5")
    assert (status, body["items"]) == (200, [])
    # The map gives this role CLIENT_SUCCESS only.
    assert send(f"{iam_url}/calculate-all", "POST") == (
        403,
        {"message": "Forbidden: this operation needs the role PLATFORM_ADMIN"},
    )

    # The documented command signs the same way (with the environment's credentials).
    command = healthscore(
        "api",
        "call",
        "--sigv4",
        "GET",
        f"{iam_url}/scores/{org_id}/overrides",
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = command.communicate(timeout=60)
    assert (command.returncode, err.strip()) == (0, "200"), err
    assert [item["setBy"] for item in json.loads(out)["items"]] == [CALLER]


def test_unsigned_badly_signed_and_stale_requests_are_refused_as_api_gateway_refuses_them(iam_url: str) -> None:
    url = f"{iam_url}/scores?limit=5"
    mismatch = (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret"
        " Access Key and signing method. Consult the service documentation for details."
    )

    assert send(url, keys=None) == (403, {"message": "Missing Authentication Token"})
    wrong_secret = ReadOnlyCredentials(KEYS.access_key, "not-the-secret", KEYS.token)
    assert send(url, keys=wrong_secret) == (403, {"message": mismatch})
    assert send(f"{iam_url}/calculate-all", "POST", b"{}", tamper=b"[]") == (403, {"message": mismatch})
    unknown = ReadOnlyCredentials("AKIDSOMEONEELSE", KEYS.secret_key, KEYS.token)
    assert send(url, keys=unknown) == (403, {"message": "The security token included in the request is invalid."})

    # API Gateway allows 5 minutes of clock skew either way.
    now = datetime.now(UTC)
    assert send(url, signed_at=now - timedelta(minutes=4))[0] == 200
    status, body = send(url, signed_at=now - timedelta(minutes=6))
    assert (status, body["message"].split(":")[0]) == (403, "Signature expired")
    status, body = send(url, signed_at=now + timedelta(minutes=6))
    assert (status, body["message"].split(":")[0]) == (403, "Signature not yet current")
