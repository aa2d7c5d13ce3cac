"""`healthscore local serve` as a real process, over real HTTP, with tokens from `healthscore local token`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from factories import add_org, add_users

from healthscore.dal.connection import DbConnection
from healthscore.local.sqs_server import free_port

PREFIX = "/api/v1/internal/client-health"
STARTUP_SECONDS = 60


def healthscore(*args: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "healthscore.cli.main", *args], env=env, text=True, **kwargs)


def call(url: str, token: str | None = None, method: str = "GET") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def tenant(conn: DbConnection) -> UUID:
    org_id = add_org(conn, name="Served Tenant")
    add_users(conn, org_id, [datetime.now(UTC) - timedelta(days=1), None])
    return org_id


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "HEALTHSCORE_LOCAL_DIR": str(tmp_path)}


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The base URL of a running `healthscore local serve`; stopped with Ctrl-C afterwards."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = healthscore("local", "serve", "--port", str(port), env=environment, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}{PREFIX}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while call_or_none(f"{base_url}/scores") is None:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.2)
    yield base_url
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def call_or_none(url: str) -> tuple[int, Any] | None:
    try:
        return call(url)
    except OSError:
        return None


def mint(role: str, environment: dict[str, str]) -> str:
    process = healthscore("local", "token", "--role", role, env=environment, stdout=subprocess.PIPE)
    token, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return token.strip()


def test_the_local_server_serves_scores_to_a_token_and_refuses_without_one(
    tenant: UUID, environment: dict[str, str], server: str
) -> None:
    admin = mint("PLATFORM_ADMIN", environment)

    assert call(f"{server}/scores") == (401, {"message": "Unauthorized"})
    assert call(f"{server}/scores", token="not-a-jwt") == (403, {"message": "Forbidden"})
    assert call(f"{server}/calculate-all", token=mint("CLIENT_SUCCESS", environment), method="POST")[0] == 403

    # calculate-all -> local Lambda endpoint -> fan-out -> local SQS -> scorer -> database
    status, started = call(f"{server}/calculate-all", token=admin, method="POST")
    assert status == 202
    deadline = time.monotonic() + 30
    while not (progress := call(f"{server}/runs/{started['runId']}", token=admin)[1])["complete"]:
        assert time.monotonic() < deadline, progress
        time.sleep(0.2)
    assert (progress["tenantCount"], progress["scored"]) == (1, 1)

    status, body = call(f"{server}/scores", token=mint("CLIENT_SUCCESS", environment))
    assert status == 200
    assert [item["organizationId"] for item in body["items"]] == [str(tenant)]
