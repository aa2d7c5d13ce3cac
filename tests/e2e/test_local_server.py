"""`healthscore local serve` as a real process, over real HTTP, with tokens from `healthscore local token`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from factories import add_org, add_users
from local_serve import call, local_serve, mint, serve_environment

from healthscore.dal.connection import DbConnection


@pytest.fixture
def tenant(conn: DbConnection) -> UUID:
    org_id = add_org(conn, name="Served Tenant")
    add_users(conn, org_id, [datetime.now(UTC) - timedelta(days=1), None])
    return org_id


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return serve_environment(database_url, tmp_path)


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with local_serve(environment, tmp_path / "serve.log") as base_url:
        yield base_url


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
