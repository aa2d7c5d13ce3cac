"""Risk overrides and the portfolio summary through the real api handler, on a real PostgreSQL.

The clock is the API's `service.utc_now`: an override set "two hours ago" that expired an hour
ago shows how a lapse looks, with no sleeping and no job.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from api_support import add_scored_tenants, api_event, call_api, request
from factories import add_org, add_score

from healthscore.api import service
from healthscore.dal.connection import DbConnection

OVERRIDE = "PUT /scores/{organizationId}/override"
TODAY = datetime.now(UTC).date()


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def put_override(org_id: UUID, risk_level: str = "HIGH", **kwargs: Any) -> tuple[int, Any]:
    body = {"riskLevel": risk_level, "reason": "Executive sponsor left", "expiresAt": in_days(7)}
    body.update(kwargs.pop("body", {}))
    return request(OVERRIDE, path={"organizationId": org_id}, body=body, **kwargs)


def score_object(org_id: UUID) -> dict[str, Any]:
    status, body = request("GET /scores/{organizationId}", path={"organizationId": org_id})
    assert status == 200, body
    return body


def listed(query: dict[str, Any] | None = None) -> dict[UUID, dict[str, Any]]:
    status, body = request("GET /scores", query={"limit": 200, **(query or {})})
    assert status == 200, body
    return {UUID(item["organizationId"]): item for item in body["items"]}


@pytest.fixture
def low_tenant(conn: DbConnection) -> UUID:
    org_id = add_org(conn, name="Steady Co")
    add_score(conn, org_id, TODAY - timedelta(days=1), 85, risk_level="LOW")
    add_score(conn, org_id, TODAY, 88, risk_level="LOW")
    return org_id


def test_an_override_sets_the_effective_risk_everywhere(conn: DbConnection, low_tenant: UUID) -> None:
    status, body = put_override(low_tenant, sub="csm-7")

    assert status == 200, body
    assert body["riskLevel"] == "HIGH"
    assert (body["reason"], body["setBy"]) == ("Executive sponsor left", "csm-7")
    override = {k: body[k] for k in ("riskLevel", "reason", "setBy", "setAt", "expiresAt")}
    detail = score_object(low_tenant)
    assert (detail["riskLevel"], detail["computedRiskLevel"], detail["override"]) == ("HIGH", "LOW", override)
    item = listed({"riskLevel": "HIGH"})[low_tenant]
    assert (item["riskLevel"], item["computedRiskLevel"], item["override"]) == ("HIGH", "LOW", override)
    assert low_tenant not in listed({"riskLevel": "LOW"})
    status, summary = request("GET /summary")
    assert summary["byRisk"] == {"LOW": 0, "MEDIUM": 0, "HIGH": 1}
    assert [i["organizationId"] for i in summary["newlyHighRisk"]] == [str(low_tenant)]  # LOW yesterday


def test_an_override_lapses_by_itself(conn: DbConnection, low_tenant: UUID, monkeypatch: pytest.MonkeyPatch) -> None:
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    monkeypatch.setattr(service, "utc_now", lambda: two_hours_ago)
    status, body = put_override(low_tenant, body={"expiresAt": (two_hours_ago + timedelta(hours=1)).isoformat()})
    assert status == 200, body
    # In effect until it expired: the tenant's score, read at the time it was set (the listing and summary
    # read the database's clock, which cannot go back), shows it.
    detail = score_object(low_tenant)
    assert (detail["riskLevel"], detail["computedRiskLevel"], detail["override"]["riskLevel"]) == (
        "HIGH",
        "LOW",
        "HIGH",
    )
    monkeypatch.undo()

    detail = score_object(low_tenant)
    assert (detail["riskLevel"], detail["computedRiskLevel"], detail["override"]) == ("LOW", "LOW", None)
    assert listed({"riskLevel": "LOW"})[low_tenant]["override"] is None
    assert low_tenant not in listed({"riskLevel": "HIGH"})
    assert request("GET /summary")[1]["byRisk"]["HIGH"] == 0
    # Nothing is active any more, so there is nothing to clear; the history still has it.
    status, body = request("DELETE /scores/{organizationId}/override", path={"organizationId": low_tenant})
    assert status == 404
    [record] = request("GET /scores/{organizationId}/overrides", path={"organizationId": low_tenant})[1]["items"]
    assert (record["clearedAt"], record["clearedBy"]) == (None, None)


def test_a_new_override_replaces_the_active_one_and_delete_clears(conn: DbConnection, low_tenant: UUID) -> None:
    assert put_override(low_tenant, "HIGH", sub="csm-1")[0] == 200
    assert put_override(low_tenant, "MEDIUM", sub="csm-2", body={"reason": "Renewal signed"})[0] == 200
    assert score_object(low_tenant)["riskLevel"] == "MEDIUM"

    status, body = request("DELETE /scores/{organizationId}/override", path={"organizationId": low_tenant}, sub="csm-3")
    assert status == 204

    assert score_object(low_tenant)["override"] is None
    assert listed()[low_tenant]["riskLevel"] == "LOW"
    status, history = request("GET /scores/{organizationId}/overrides", path={"organizationId": low_tenant})
    assert status == 200
    newest, oldest = history["items"]
    assert (newest["riskLevel"], newest["setBy"], newest["clearedBy"]) == ("MEDIUM", "csm-2", "csm-3")
    assert (oldest["riskLevel"], oldest["setBy"], oldest["clearedBy"]) == ("HIGH", "csm-1", "csm-2")
    assert oldest["clearedAt"] == newest["setAt"]
    status, body = request("DELETE /scores/{organizationId}/override", path={"organizationId": low_tenant})
    assert (status, body["message"]) == (404, f"Organization {low_tenant} has no active override")


def test_a_tenant_without_a_score_may_have_an_override_that_its_first_score_shows(conn: DbConnection) -> None:
    org_id = add_org(conn)
    assert put_override(org_id, "MEDIUM")[0] == 200

    add_score(conn, org_id, TODAY, 90, risk_level="LOW")

    detail = score_object(org_id)
    assert (detail["riskLevel"], detail["computedRiskLevel"]) == ("MEDIUM", "LOW")
    assert listed({"riskLevel": "MEDIUM"})[org_id]["override"]["riskLevel"] == "MEDIUM"


def test_an_expiry_without_a_time_zone_is_utc(conn: DbConnection, low_tenant: UUID) -> None:
    naive = (datetime.now(UTC) + timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    status, body = put_override(low_tenant, body={"expiresAt": naive.isoformat()})
    assert status == 200, body
    assert datetime.fromisoformat(body["expiresAt"]) == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"riskLevel": "CRITICAL"}, "riskLevel"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"expiresAt": in_days(-1)}, "expiresAt"),
        ({"expiresAt": in_days(91)}, "expiresAt"),
        ({"expiresAt": "next week"}, "expiresAt"),
        ({"setBy": "someone-else"}, "setBy"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(low_tenant: UUID, body: dict[str, Any], field: str) -> None:
    status, answer = put_override(low_tenant, body=body)

    assert status == 422, answer
    assert answer["message"].startswith(f"{field}: "), answer
    assert answer["errors"][0]["location"] == "body"
    assert score_object(low_tenant)["override"] is None


def test_a_500_character_reason_and_90_days_are_accepted(low_tenant: UUID) -> None:
    status, body = put_override(low_tenant, body={"reason": "x" * 500, "expiresAt": in_days(89.99)})
    assert status == 200, body


@pytest.mark.parametrize(
    "route",
    [OVERRIDE, "DELETE /scores/{organizationId}/override", "GET /scores/{organizationId}/overrides"],
)
def test_override_routes_of_an_unknown_tenant_are_404(database_url: str, route: str) -> None:
    unknown = uuid4()
    body = {"riskLevel": "HIGH", "reason": "r", "expiresAt": in_days(1)} if route == OVERRIDE else None

    status, answer = request(route, path={"organizationId": unknown}, body=body)

    assert (status, answer) == (404, {"message": f"Organization {unknown} not found"})


def test_both_roles_may_override(low_tenant: UUID) -> None:
    assert put_override(low_tenant, roles="PLATFORM_ADMIN")[0] == 200
    assert put_override(low_tenant, roles="CLIENT_SUCCESS")[0] == 200
    assert put_override(low_tenant, roles="BILLING_ADMIN")[0] == 403


def test_the_summary_counts_latest_scores_by_effective_risk_and_trend(conn: DbConnection) -> None:
    tenants = add_scored_tenants(conn, 6)
    rows = conn.execute(
        "SELECT organization_id, overall_score, trend, risk_level, previous_risk_level FROM tenant_latest_scores"
    ).fetchall()

    status, body = request("GET /summary")

    assert status == 200
    assert body["tenants"] == len(tenants)
    assert body["byRisk"] == {level: sum(r["risk_level"] == level for r in rows) for level in ("LOW", "MEDIUM", "HIGH")}
    assert body["byTrend"] == {t: sum(r["trend"] == t for r in rows) for t in ("IMPROVING", "STABLE", "DECLINING")}
    assert body["averageScore"] == pytest.approx(sum(r["overall_score"] for r in rows) / len(rows), abs=0.01)
    newly = {
        r["organization_id"]
        for r in rows
        if r["risk_level"] == "HIGH" and r["previous_risk_level"] in {"LOW", "MEDIUM"}
    }
    assert {UUID(item["organizationId"]) for item in body["newlyHighRisk"]} == newly
    assert body["newlyHighRiskCount"] == len(newly)
    assert all(set(item) >= {"loginScore", "computedRiskLevel", "override"} for item in body["newlyHighRisk"])


def test_an_empty_portfolio(database_url: str) -> None:
    status, body = request("GET /summary")

    assert (status, body["tenants"], body["averageScore"], body["newlyHighRisk"]) == (200, 0, None, [])
    assert body["newlyHighRiskCount"] == 0


def test_the_summary_counters_follow_every_write(conn: DbConnection) -> None:
    tenants = add_scored_tenants(conn, 8)  # two days: inserts, then updates of the latest rows
    assert put_override(tenants[0], "HIGH")[0] == 200
    assert put_override(tenants[1], "LOW")[0] == 200
    assert request("DELETE /scores/{organizationId}/override", path={"organizationId": tenants[1]})[0] == 204
    add_score(conn, tenants[2], TODAY + timedelta(days=1), 12, trend="DECLINING", risk_level="HIGH")
    add_score(conn, tenants[3], TODAY - timedelta(days=5), 99)  # an older day leaves the latest row alone

    counters = conn.execute(
        "SELECT effective_risk_level, trend, tenants, score_sum, newly_high FROM tenant_score_counts WHERE tenants <> 0"
    ).fetchall()
    recount = conn.execute(
        "SELECT effective_risk_level, trend, count(*) AS tenants, sum(overall_score) AS score_sum,"
        " count(*) FILTER (WHERE effective_risk_level = 'HIGH' AND previous_risk_level <> 'HIGH') AS newly_high"
        " FROM tenant_latest_scores GROUP BY 1, 2"
    ).fetchall()
    assert sorted(map(tuple, (r.values() for r in counters))) == sorted(map(tuple, (r.values() for r in recount)))
    status, body = request("GET /summary")
    assert (status, body["tenants"]) == (200, len(tenants))
    assert body["byRisk"]["HIGH"] == sum(r["tenants"] for r in recount if r["effective_risk_level"] == "HIGH")
    assert body["newlyHighRiskCount"] == sum(r["newly_high"] for r in recount) > 0


def test_the_sample_events_of_events_are_answered(conn: DbConnection, events_dir: Path) -> None:
    """events/api_put_override.json and api_get_summary.json, as `sam local invoke -e` sends them."""
    put = json.loads((events_dir / "api_put_override.json").read_text())
    org_id = add_org(conn, org_id=UUID(put["pathParameters"]["organizationId"]))
    add_score(conn, org_id, TODAY, 75, risk_level="LOW")
    put["body"] = json.dumps({**json.loads(put["body"]), "expiresAt": in_days(30)})  # the sample's date has passed

    status, body = call_api(put)
    assert status == 200, body
    assert (body["riskLevel"], body["setBy"]) == ("HIGH", put["requestContext"]["authorizer"]["lambda"]["sub"])

    status, summary = call_api(json.loads((events_dir / "api_get_summary.json").read_text()))
    assert (status, summary["tenants"], summary["byRisk"]["HIGH"]) == (200, 1, 1)


def test_a_walk_through_pages_keeps_its_snapshot_while_overrides_change(conn: DbConnection) -> None:
    low = []
    for index in range(6):
        org_id = add_org(conn)
        add_score(conn, org_id, TODAY, 80 + index, risk_level="LOW")
        low.append(org_id)
    changes = iter(reversed(low))  # the last pages' tenants move first

    def override_one() -> None:  # LOW -> HIGH after the snapshot: not part of this walk
        assert put_override(next(changes), "HIGH")[0] == 200

    items, cursor = [], None
    while True:
        query = {"riskLevel": "LOW", "limit": 2, **({"cursor": cursor} if cursor else {})}
        status, body = request("GET /scores", query=query)
        assert status == 200, body
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            break
        override_one()

    assert [UUID(item["organizationId"]) for item in items] == low  # as at the snapshot, in order
    assert all(item["override"] is None for item in items)
    assert set(listed({"riskLevel": "LOW"})) == set(low[:4])  # a new walk sees the two overridden
    assert set(listed({"riskLevel": "HIGH"})) == set(low[4:])


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data"])
def test_a_body_that_is_not_declared_json_is_a_415_not_a_500(
    conn: DbConnection, low_tenant: UUID, content_type: str
) -> None:
    event = api_event(
        OVERRIDE,
        path={"organizationId": low_tenant},
        body={"riskLevel": "HIGH", "reason": "Executive sponsor left", "expiresAt": in_days(7)},
    )
    event["headers"]["content-type"] = content_type

    status, body = call_api(event)

    assert status == 415, body
    assert "application/json" in body["message"]
    assert score_object(low_tenant)["override"] is None  # nothing written


def test_a_body_whose_bytes_are_not_utf8_is_a_400_not_a_500(conn: DbConnection, low_tenant: UUID) -> None:
    event = api_event(OVERRIDE, path={"organizationId": low_tenant}, body={})
    event.update(body=base64.b64encode(b"\xe9f\xff\xfe").decode(), isBase64Encoded=True)

    status, body = call_api(event)

    assert status == 400, body
    assert "UTF-8" in body["message"]
    assert score_object(low_tenant)["override"] is None
