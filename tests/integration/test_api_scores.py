"""The scores routes through the real api handler, on a real PostgreSQL with scored tenants."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from api_support import OPS_ROLE_ARN, add_scored_tenants, api_event, call_api, invoke_api, request
from factories import add_org, add_score
from handlers import TEST_REQUEST_ID

from healthscore.api import service
from healthscore.api.resolver import openapi_json
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection

TENANTS = 7


@pytest.fixture
def tenants(conn: DbConnection) -> list[UUID]:
    return add_scored_tenants(conn, TENANTS)


def latest_rows(conn: DbConnection) -> dict[UUID, dict[str, Any]]:
    rows = conn.execute(
        "SELECT DISTINCT ON (s.organization_id) s.*, o.name FROM tenant_health_scores s"
        " JOIN organizations o ON o.id = s.organization_id ORDER BY s.organization_id, s.score_date DESC"
    ).fetchall()
    return {row["organization_id"]: row for row in rows}


def walk(query: dict[str, Any], between_pages: Any = None) -> list[dict[str, Any]]:
    """Every item of GET /scores, page by page; `between_pages()` runs after each page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, body = request("GET /scores", query={**query, **({"cursor": cursor} if cursor else {})})
        assert status == 200, body
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items
        if between_pages:
            between_pages()


def test_list_has_each_tenants_latest_score(conn: DbConnection, tenants: list[UUID]) -> None:
    status, body = request("GET /scores")

    assert status == 200
    assert body["nextCursor"] is None
    latest = latest_rows(conn)
    assert {UUID(item["organizationId"]) for item in body["items"]} == set(tenants)
    for item in body["items"]:
        row = latest[UUID(item["organizationId"])]
        assert item["scoreDate"] == datetime.now(UTC).date().isoformat()
        assert (item["overallScore"], item["trend"], item["riskLevel"]) == (
            row["overall_score"],
            row["trend"],
            row["risk_level"],
        )
        assert item["organizationName"] == row["name"]
        assert (item["loginScore"], item["caseResolutionScore"], item["supportTicketScore"]) == (
            row["login_score"],
            row["case_resolution_score"],
            row["support_ticket_score"],
        )
        assert "components" not in item  # one spelling of each value
        assert (item["computedRiskLevel"], item["override"]) == (row["risk_level"], None)
        assert (item["profileId"], item["profileVersion"]) == (row["profile_id"], row["profile_version"])
    scores = [item["overallScore"] for item in body["items"]]
    assert scores == sorted(scores)  # default: overallScore ascending, riskiest first


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"riskLevel": "HIGH"}, lambda row: row["risk_level"] == "HIGH"),
        ({"trend": "DECLINING"}, lambda row: row["trend"] == "DECLINING"),
        ({"minScore": 50, "maxScore": 80}, lambda row: 50 <= row["overall_score"] <= 80),
    ],
)
def test_list_filters(conn: DbConnection, tenants: list[UUID], query: dict[str, Any], keep: Any) -> None:
    expected = {org_id for org_id, row in latest_rows(conn).items() if keep(row)}
    assert expected, "the fixture should give every filter something to find"

    assert {UUID(item["organizationId"]) for item in walk({**query, "limit": 2})} == expected


def test_walking_pages_sees_every_tenant_once_while_scores_are_written(conn: DbConnection, tenants: list[UUID]) -> None:
    first_seen = {row["organization_id"]: row["overall_score"] for row in latest_rows(conn).values()}
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    writes = iter(tenants)

    def rescore_one() -> None:
        # A new day's score at the far end of the sort order: without the cursor's snapshot
        # this tenant would move across the page boundary and be seen twice or never.
        org_id = next(writes)
        add_score(conn, org_id, tomorrow, 100 if first_seen[org_id] < 50 else 0)

    items = walk({"limit": 2, "sortBy": "overallScore", "order": "asc"}, between_pages=rescore_one)

    ids = [UUID(item["organizationId"]) for item in items]
    assert sorted(ids) == sorted(tenants)  # each exactly once
    assert {UUID(i["organizationId"]): i["overallScore"] for i in items} == first_seen
    assert [item["overallScore"] for item in items] == sorted(first_seen.values())
    # A new walk starts from a new snapshot and sees the new scores.
    assert {item["scoreDate"] for item in walk({"limit": 50})} >= {tomorrow.isoformat()}


@pytest.mark.parametrize("sort_by", ["overallScore", "organizationName", "calculatedAt"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_follow_the_sort_order_with_the_id_breaking_ties(
    conn: DbConnection, tenants: list[UUID], sort_by: str, order: str
) -> None:
    column = {"overallScore": "overall_score", "organizationName": "name", "calculatedAt": "calculated_at"}[sort_by]
    rows = sorted(
        latest_rows(conn).values(), key=lambda row: (row[column], row["organization_id"]), reverse=order == "desc"
    )

    items = walk({"limit": 3, "sortBy": sort_by, "order": order})

    assert [UUID(item["organizationId"]) for item in items] == [row["organization_id"] for row in rows]


def cursor_for(sort_by: str) -> str:
    status, body = request("GET /scores", query={"limit": 1, "sortBy": sort_by})
    assert status == 200
    return str(body["nextCursor"])


def forged_cursor(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"limit": 0}, 422, "limit"),
        ({"limit": 201}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"riskLevel": "SEVERE"}, 422, "riskLevel"),
        ({"trend": "UP"}, 422, "trend"),
        ({"minScore": 101}, 422, "minScore"),
        ({"maxScore": -1}, 422, "maxScore"),
        ({"sortBy": "name"}, 422, "sortBy"),
        ({"order": "up"}, 422, "order"),
        ({"newlyHighRisk": "maybe"}, 422, "newlyHighRisk"),
        ({"minScore": 80, "maxScore": 20}, 400, "minScore"),
        ({"cursor": "not a cursor"}, 400, "cursor"),
        ({"cursor": "e30"}, 400, "cursor"),  # "{}"
        ({"cursor": forged_cursor({"k": "overallScore", "o": "asc", "v": "x", "id": "1", "s": "now"})}, 400, "cursor"),
        (
            {
                "sortBy": "organizationName",
                "cursor": forged_cursor(
                    {"k": "organizationName", "o": "asc", "v": "a\u0000", "id": str(uuid4()), "s": "2024-01-01T00:00Z"}
                ),
            },
            400,
            "cursor",
        ),
    ],
)
def test_bad_list_parameters_are_refused_naming_the_field(
    tenants: list[UUID], query: dict[str, Any], status: int, field: str
) -> None:
    answer, body = request("GET /scores", query=query)

    assert answer == status
    assert body["message"].startswith(f"{field}: ")
    assert [error["field"] for error in body["errors"]] == [field]


def test_a_cursor_is_refused_with_another_sort_order(tenants: list[UUID]) -> None:
    cursor = cursor_for("organizationName")

    status, body = request("GET /scores", query={"cursor": cursor, "sortBy": "overallScore"})

    assert status == 400
    assert body["message"].startswith("cursor: issued for sortBy=organizationName")


def test_score_detail_explains_the_change(conn: DbConnection, tenants: list[UUID]) -> None:
    changed = tenants[0]  # got tickets since yesterday

    status, body = request("GET /scores/{organizationId}", path={"organizationId": changed})

    assert status == 200
    latest = latest_rows(conn)[changed]
    assert body["overallScore"] == latest["overall_score"]
    assert body["previousScore"] == latest["previous_score"]
    assert body["supportTicketScore"] == latest["support_ticket_score"] == 25
    assert body["weights"] == {
        "login": 0.3,
        "caseResolution": 0.25,
        "campaignCompletion": 0.2,
        "featureAdoption": 0.15,
        "supportTickets": 0.1,
    }
    assert set(body["missingComponents"]) == {"caseResolution", "campaignCompletion"}
    change = body["change"]
    assert change["delta"] == body["overallScore"] - body["previousScore"] < 0
    assert change["previousScoreDate"] == (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    driver = change["contributions"][0]  # the largest movement first
    assert driver["component"] == "supportTickets"
    assert driver["delta"] < 0
    assert driver["delta"] == pytest.approx(driver["current"] - driver["previous"])
    # The contributions' deltas add up to the change before rounding.
    assert sum(c["delta"] for c in change["contributions"]) == pytest.approx(change["delta"], abs=1)


def test_a_first_score_has_no_change(conn: DbConnection) -> None:
    org_id = add_org(conn)
    add_score(conn, org_id, datetime.now(UTC).date(), 64, trend="STABLE", risk_level="MEDIUM")

    status, body = request("GET /scores/{organizationId}", path={"organizationId": org_id})

    assert status == 200
    assert (body["overallScore"], body["previousScore"], body["change"]) == (64, None, None)


def test_history_is_oldest_first(tenants: list[UUID]) -> None:
    status, body = request("GET /scores/{organizationId}/history", path={"organizationId": tenants[0]})

    assert status == 200
    today = datetime.now(UTC).date()
    assert [item["date"] for item in body["items"]] == [(today - timedelta(days=1)).isoformat(), today.isoformat()]
    assert set(body["items"][0]) == {
        "date",
        "overallScore",
        "trend",
        "riskLevel",
        "basis",
        "profileId",
        "profileVersion",
    }
    assert (body["items"][0]["basis"], body["items"][0]["profileId"]) == ("computed", "default")

    status, body = request(
        "GET /scores/{organizationId}/history", path={"organizationId": tenants[0]}, query={"days": 1}
    )
    assert [item["date"] for item in body["items"]] == [today.isoformat()]


@pytest.mark.parametrize("days", [0, 366, "week"])
def test_history_refuses_bad_days(tenants: list[UUID], days: Any) -> None:
    status, body = request(
        "GET /scores/{organizationId}/history", path={"organizationId": tenants[0]}, query={"days": days}
    )

    assert status == 422
    assert body["message"].startswith("days: ")


@pytest.mark.parametrize(
    "route",
    [
        "GET /scores/{organizationId}",
        "GET /scores/{organizationId}/history",
        "GET /adoption/{organizationId}",
        "POST /scores/{organizationId}/recalculate",
    ],
)
def test_unknown_organization_is_404_and_a_malformed_id_422(database_url: str, route: str) -> None:
    unknown = uuid4()

    status, body = request(route, path={"organizationId": unknown})
    assert (status, body) == (404, {"message": f"Organization {unknown} not found"})

    status, body = request(route, path={"organizationId": "12; DROP TABLE organizations"})
    assert status == 422
    assert body["message"].startswith("organizationId: Input should be a valid UUID")


def test_an_organization_never_scored_is_404(conn: DbConnection) -> None:
    org_id = add_org(conn)

    status, body = request("GET /scores/{organizationId}", path={"organizationId": org_id})

    assert (status, body) == (404, {"message": f"Organization {org_id} has no score yet"})


def test_no_authorizer_context_is_401_even_with_bad_parameters(database_url: str) -> None:
    for query in ({}, {"limit": 1000}):
        status, body = request("GET /scores", query=query, roles=None)
        assert (status, body) == (401, {"message": "Unauthorized: the request carries no credentials"})


def test_a_caller_without_a_service_role_is_403(database_url: str) -> None:
    status, body = request("GET /scores", roles="BILLING_ADMIN")

    assert status == 403
    assert "CLIENT_SUCCESS or PLATFORM_ADMIN" in body["message"]


def test_iam_principals_get_roles_from_the_iam_role_map(tenants: list[UUID], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAM_ROLE_MAP", json.dumps({"arn:aws:sts::123456789012:assumed-role/ops-*": ["CLIENT_SUCCESS"]}))
    get_settings.cache_clear()

    status, body = request("GET /scores", iam_arn=OPS_ROLE_ARN)
    assert status == 200
    assert len(body["items"]) == TENANTS

    status, body = request("GET /scores", iam_arn="arn:aws:sts::123456789012:assumed-role/someone-else/ops-session")
    assert status == 403

    status, body = request("POST /calculate-all", iam_arn=OPS_ROLE_ARN)
    assert (status, body) == (403, {"message": "Forbidden: this operation needs the role PLATFORM_ADMIN"})


def test_an_unexpected_error_is_a_500_with_a_correlation_id_and_no_internals(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr(service, "list_scores", fail)

    status, body = request("GET /scores")

    assert status == 500
    assert body["correlationId"] == TEST_REQUEST_ID  # the Lambda request id
    assert "hunter2" not in json.dumps(body)


def test_the_swagger_ui_is_served_over_the_same_document(database_url: str) -> None:
    # Built on first use (healthscore.api.resolver), not at import: it must still work then.
    response = invoke_api(api_event("GET /swagger"))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html"
    assert "SwaggerUIBundle" in response["body"]
    assert "/api/v1/internal/client-health/scores/{organizationId}" in response["body"]

    status, body = call_api(api_event("GET /swagger", query={"format": "json"}))
    assert status == 200
    assert body == json.loads(openapi_json())


def test_the_openapi_document_is_served_and_unknown_routes_are_404(database_url: str) -> None:
    status, body = call_api(api_event("GET /openapi.json"))
    assert status == 200
    assert "/api/v1/internal/client-health/scores/{organizationId}" in body["paths"]

    status, body = call_api(api_event("GET /nothing-here"))
    assert (status, body) == (404, {"message": "No route GET /api/v1/internal/client-health/nothing-here"})
