"""GET /summary's newlyHighRisk (capped) and newlyHighRiskCount, and GET /scores?newlyHighRisk=true.

Newly high risk: effective risk HIGH now, previous score's risk another level. The summary lists the
most urgent NEWLY_HIGH_RISK_LIMIT of them; the list's filter pages through all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from api_support import request
from factories import add_org, add_score

from healthscore.api import service
from healthscore.dal.connection import DbConnection
from healthscore.models.api import NEWLY_HIGH_RISK_LIMIT

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)
NEWLY = NEWLY_HIGH_RISK_LIMIT + 30


def tenant(conn: DbConnection, yesterday: str | None, today: str, score: int, trend: str = "DECLINING") -> UUID:
    org_id = add_org(conn)
    if yesterday is not None:
        add_score(conn, org_id, YESTERDAY, min(100, score + 20), risk_level=yesterday)
    add_score(conn, org_id, TODAY, score, risk_level=today, trend=trend)
    return org_id


@pytest.fixture
def fleet(conn: DbConnection) -> dict[str, list[UUID]]:
    """NEWLY tenants newly HIGH (scores repeat: ties), and HIGH tenants that are not newly HIGH."""
    newly = [
        tenant(conn, ("LOW", "MEDIUM")[i % 2], "HIGH", 10 + i % 25, ("DECLINING", "STABLE")[i % 2])
        for i in range(NEWLY)
    ]
    still = [tenant(conn, "HIGH", "HIGH", 5) for _ in range(3)]
    first = [tenant(conn, None, "HIGH", 6) for _ in range(3)]  # a first score has no previous level
    low = [tenant(conn, "HIGH", "LOW", 90) for _ in range(3)]
    return {"newly": newly, "still": still, "first": first, "low": low}


def walk(query: dict[str, Any], limit: int = 37) -> list[dict[str, Any]]:
    """Every item of GET /scores with `query`, page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, body = request("GET /scores", query={**query, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert status == 200, body
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items


def ids(items: list[dict[str, Any]]) -> list[UUID]:
    return [UUID(item["organizationId"]) for item in items]


def summary() -> dict[str, Any]:
    status, body = request("GET /summary")
    assert status == 200, body
    return body


def test_the_summary_lists_the_most_urgent_and_counts_them_all(fleet: dict[str, list[UUID]]) -> None:
    body = summary()
    listed = walk({"newlyHighRisk": "true", "sortBy": "overallScore", "order": "asc"})

    assert body["newlyHighRiskCount"] == NEWLY == len(listed)
    assert set(ids(listed)) == set(fleet["newly"])
    assert len(body["newlyHighRisk"]) == NEWLY_HIGH_RISK_LIMIT
    assert body["newlyHighRisk"] == listed[:NEWLY_HIGH_RISK_LIMIT]
    keys = [(item["overallScore"], item["organizationId"]) for item in body["newlyHighRisk"]]
    assert keys == sorted(keys)
    assert body["byRisk"]["HIGH"] == NEWLY + 6


def test_the_filter_combines_with_the_other_filters_and_sorts(fleet: dict[str, list[UUID]]) -> None:
    newly = set(fleet["newly"])
    by_name = walk({"newlyHighRisk": "true", "sortBy": "organizationName", "order": "desc"})
    assert set(ids(by_name)) == newly
    assert len(by_name) == NEWLY
    names = [(item["organizationName"], item["organizationId"]) for item in by_name]
    assert names == sorted(names, reverse=True)
    assert set(ids(walk({"newlyHighRisk": "true", "sortBy": "calculatedAt"}))) == newly

    declining = walk({"newlyHighRisk": "true", "trend": "DECLINING"})
    assert set(ids(declining)) == set(fleet["newly"][::2])
    banded = walk({"newlyHighRisk": "true", "minScore": 12, "maxScore": 14})
    assert {item["overallScore"] for item in banded} == {12, 13, 14}
    assert set(ids(banded)) < newly
    assert set(ids(walk({"newlyHighRisk": "true", "riskLevel": "HIGH"}))) == newly
    assert walk({"newlyHighRisk": "true", "riskLevel": "LOW"}) == []
    assert len(walk({"newlyHighRisk": "false"})) == len(walk({})) == NEWLY + 9


def put_override(org_id: UUID, risk_level: str, expires_at: datetime) -> None:
    body = {"riskLevel": risk_level, "reason": "Executive sponsor left", "expiresAt": expires_at.isoformat()}
    status, answer = request("PUT /scores/{organizationId}/override", path={"organizationId": org_id}, body=body)
    assert status == 200, answer


def test_overrides_make_and_unmake_newly_high_risk(conn: DbConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    raised = tenant(conn, "LOW", "LOW", 70)  # override to HIGH: newly high
    lowered = tenant(conn, "LOW", "HIGH", 20)  # newly high by the formula, override to LOW: not
    lapsed_high = tenant(conn, "LOW", "LOW", 72)  # an override to HIGH that has lapsed: not
    lapsed_low = tenant(conn, "MEDIUM", "HIGH", 25)  # an override to LOW that has lapsed: newly high again
    kept_high = tenant(conn, "HIGH", "MEDIUM", 60)  # override to HIGH, but yesterday was HIGH: not
    in_a_week = datetime.now(UTC) + timedelta(days=7)
    put_override(raised, "HIGH", in_a_week)
    put_override(lowered, "LOW", in_a_week)
    put_override(kept_high, "HIGH", in_a_week)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    monkeypatch.setattr(service, "utc_now", lambda: two_hours_ago)
    put_override(lapsed_high, "HIGH", two_hours_ago + timedelta(hours=1))
    put_override(lapsed_low, "LOW", two_hours_ago + timedelta(hours=1))
    monkeypatch.undo()

    body = summary()
    listed = walk({"newlyHighRisk": "true", "sortBy": "overallScore"}, limit=1)

    assert ids(body["newlyHighRisk"]) == ids(listed) == [lapsed_low, raised]  # lowest score first
    assert body["newlyHighRiskCount"] == 2
    assert [(item["riskLevel"], item["computedRiskLevel"]) for item in listed] == [("HIGH", "HIGH"), ("HIGH", "LOW")]
    assert listed[1]["override"]["riskLevel"] == "HIGH"
    assert listed[0]["override"] is None


def test_a_walk_through_the_filter_keeps_its_snapshot_while_scores_change(conn: DbConnection) -> None:
    newly = [tenant(conn, "LOW", "HIGH", 30 + i) for i in range(6)]
    status, first = request("GET /scores", query={"newlyHighRisk": "true", "limit": 3})
    assert status == 200, first
    # After the snapshot: the next page's tenants scored again, HIGH after HIGH (no longer newly high),
    # and a new one newly high; the walk sees the fleet as it was.
    for org_id in newly[3:]:
        add_score(conn, org_id, TODAY + timedelta(days=1), 31, risk_level="HIGH")
    late = tenant(conn, "LOW", "HIGH", 1)

    status, second = request("GET /scores", query={"newlyHighRisk": "true", "limit": 3, "cursor": first["nextCursor"]})

    assert status == 200, second
    assert ids(first["items"]) + ids(second["items"]) == newly
    assert second["nextCursor"] is None
    assert ids(summary()["newlyHighRisk"]) == [late, *newly[:3]]  # now: the rescored ones are not newly high
    assert summary()["newlyHighRiskCount"] == 4
