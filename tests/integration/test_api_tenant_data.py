"""Metrics, adoption and run progress through the real api handler, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from api_support import add_scored_tenants, request

from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.tenant_requests import TenantOutcome, record_outcomes


@pytest.fixture
def tenants(conn: DbConnection) -> list[UUID]:
    return add_scored_tenants(conn, 2)


def test_metrics_are_daily_values_oldest_first_with_their_change(tenants: list[UUID]) -> None:
    status, body = request(
        "GET /metrics/{organizationId}", path={"organizationId": tenants[0]}, query={"metricType": "SUPPORT_TICKETS"}
    )

    assert status == 200
    today = datetime.now(UTC).date()
    assert body == {
        "organizationId": str(tenants[0]),
        "metricType": "SUPPORT_TICKETS",
        "items": [
            {"date": (today - timedelta(days=1)).isoformat(), "value": 0, "changePct": None},
            {"date": today.isoformat(), "value": 4, "changePct": None},  # no change from 0
        ],
    }
    status, body = request(
        "GET /metrics/{organizationId}", path={"organizationId": tenants[1]}, query={"metricType": "LOGIN_RATE"}
    )
    assert [(item["value"], item["changePct"]) for item in body["items"]] == [(0.4, None), (0.4, 0)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "metricType"),
        ({"metricType": "LOGINS"}, "metricType"),
        ({"metricType": "LOGIN_RATE", "days": 400}, "days"),
    ],
)
def test_metrics_refuse_a_missing_or_unknown_type_and_bad_days(
    tenants: list[UUID], query: dict[str, Any], field: str
) -> None:
    status, body = request("GET /metrics/{organizationId}", path={"organizationId": tenants[0]}, query=query)

    assert status == 422
    assert body["message"].startswith(f"{field}: ")


def test_metrics_of_an_unknown_organization_are_404(database_url: str) -> None:
    unknown = uuid4()
    status, body = request(
        "GET /metrics/{organizationId}", path={"organizationId": unknown}, query={"metricType": "LOGIN_RATE"}
    )

    assert (status, body) == (404, {"message": f"Organization {unknown} not found"})


def test_adoption_counts_enabled_and_used_features(tenants: list[UUID]) -> None:
    status, body = request("GET /adoption/{organizationId}", path={"organizationId": tenants[1]})

    assert status == 200
    assert (body["enabledCount"], body["usedCount"], body["adoptionRate"]) == (2, 1, 0.5)
    assert [(f["featureKey"], f["enabled"], f["isUsed"]) for f in body["features"]] == [
        ("mobile", False, False),
        ("reports", True, True),
        ("sso", True, False),
    ]
    assert body["features"][1]["lastUsedAt"] is not None


def test_run_progress_counts_outcomes(conn: DbConnection, tenants: list[UUID]) -> None:
    as_of = datetime.now(UTC)
    runs.start_run(conn, "run-progress", "calculate-scores", as_of)
    runs.finish_enqueue(conn, "run-progress", 4)
    record_outcomes(
        conn,
        [
            TenantOutcome(tenants[0], "run-progress", "scored"),
            TenantOutcome(tenants[1], "run-progress", "skipped", "organization has no users"),
            TenantOutcome(uuid4(), "run-progress", "failed", "boom"),
        ],
    )

    status, body = request("GET /runs/{runId}", path={"runId": "run-progress"})

    assert status == 200
    assert {key: body[key] for key in ("runId", "job", "tenantCount", "scored", "skipped", "failed", "pending")} == {
        "runId": "run-progress",
        "job": "calculate-scores",
        "tenantCount": 4,
        "scored": 1,
        "skipped": 1,
        "failed": 1,
        "pending": 1,
    }
    assert body["complete"] is False
    assert datetime.fromisoformat(body["asOf"]) == as_of


def test_an_unknown_run_is_404(database_url: str) -> None:
    status, body = request("GET /runs/{runId}", path={"runId": "no-such-run"})

    assert (status, body) == (404, {"message": "Run no-such-run not found"})


@pytest.mark.parametrize(
    ("run_id", "status", "message"),
    [
        ("r" * 129, 422, "runId: String should have at most 128 characters"),
        ("run\x00id", 404, "No route GET"),  # Powertools' path patterns match no control character
    ],
)
def test_an_impossible_run_id_is_refused(database_url: str, run_id: str, status: int, message: str) -> None:
    answer, body = request("GET /runs/{runId}", path={"runId": run_id})

    assert answer == status
    assert body["message"].startswith(message)
