"""HealthRiskChanged events on a real EventBridge endpoint (moto server), read back through SQS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from api_support import request
from factories import add_case, add_org, add_score, add_users
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, message_body, published, sqs_event

from healthscore.dal.connection import DbConnection
from healthscore.logic.overrides import NewOverride, set_override

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def score(org: UUID, as_of: datetime = AS_OF) -> None:
    handler = load_handler("scorer").lambda_handler
    assert handler(sqs_event([message_body(org, as_of)]), lambda_context()) == {"batchItemFailures": []}


def test_a_risk_change_publishes_exactly_one_event(conn: DbConnection, risk_events: str) -> None:
    org = add_scorable_tenant(conn, AS_OF)  # scores 100: LOW
    # Yesterday 50: login 50 (15 points), case 100 (25), campaign 0, feature 0, tickets 100 (10).
    components = {"login_score": 50, "case_resolution_score": 100, "campaign_completion_score": 0}
    components |= {"feature_adoption_score": 0, "support_ticket_score": 100}
    add_score(conn, org, (AS_OF - timedelta(days=1)).date(), 50, risk_level="HIGH", components=components)

    score(org)
    score(org)  # duplicate delivery: already announced today

    [event] = published(risk_events)
    assert event["detail-type"] == "HealthRiskChanged"
    assert event["source"] == "healthscore"
    detail = event["detail"]
    assert detail["organizationId"] == str(org)
    assert (detail["previousRiskLevel"], detail["riskLevel"]) == ("HIGH", "LOW")
    assert (detail["previousScore"], detail["overallScore"]) == (50, 100)
    # 100 today (login 30, case 25, feature 15, tickets 10, campaign missing: renormalized by 0.8)
    assert detail["drivers"] == {
        "login": 22.5,
        "featureAdoption": 18.75,
        "caseResolution": 6.25,
        "supportTickets": 2.5,
        "campaignCompletion": 0.0,
    }


def test_no_change_publishes_nothing(conn: DbConnection, risk_events: str) -> None:
    org = add_scorable_tenant(conn, AS_OF)
    add_score(conn, org, (AS_OF - timedelta(days=1)).date(), overall_score=98, risk_level="LOW")
    score(org)
    assert published(risk_events) == []


def test_a_first_score_is_news_only_when_high(conn: DbConnection, risk_events: str) -> None:
    healthy = add_scorable_tenant(conn, AS_OF)
    at_risk = add_org(conn)  # nobody logged in, a late case: login 0, case 0, tickets 100 -> 18
    add_users(conn, at_risk, [None] * 5)
    add_case(conn, at_risk, closed_at=AS_OF - timedelta(days=1), sla_breach_at=AS_OF - timedelta(days=2))
    score(healthy)
    score(at_risk)
    events = published(risk_events)
    assert [e["detail"]["organizationId"] for e in events] == [str(at_risk)]
    assert events[0]["detail"]["previousRiskLevel"] is None


def test_setting_and_clearing_an_override_announce_the_effective_risk(conn: DbConnection, risk_events: str) -> None:
    org = add_org(conn)
    add_score(conn, org, AS_OF.date(), 90, risk_level="LOW")
    path = {"organizationId": org}
    expires = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    assert request("PUT /scores/{organizationId}/override", path=path, body=override_body("HIGH", expires))[0] == 200
    assert request("PUT /scores/{organizationId}/override", path=path, body=override_body("HIGH", expires))[0] == 200
    assert request("DELETE /scores/{organizationId}/override", path=path)[0] == 204

    set_event, cleared_event = (event["detail"] for event in published(risk_events))  # the repeat changed nothing
    assert (set_event["source"], set_event["previousRiskLevel"], set_event["riskLevel"]) == ("override", "LOW", "HIGH")
    assert set_event["computedRiskLevel"] == "LOW"
    assert set_event["override"]["reason"] == "Executive sponsor left"
    assert (cleared_event["previousRiskLevel"], cleared_event["riskLevel"], cleared_event["override"]) == (
        "HIGH",
        "LOW",
        None,
    )


def test_a_lapsed_override_is_announced_when_the_tenant_is_next_scored(conn: DbConnection, risk_events: str) -> None:
    org = add_scorable_tenant(conn, AS_OF)  # scores 100: LOW
    add_score(conn, org, (AS_OF - timedelta(days=1)).date(), 98, risk_level="LOW")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    new = NewOverride("HIGH", "Sponsor left", two_hours_ago + timedelta(hours=1))
    set_override(conn, org, new, set_by="csm-1", now=two_hours_ago, bus_name=None)  # lapsed an hour ago

    score(org)
    score(org)  # announced once

    [event] = published(risk_events)
    detail = event["detail"]
    assert (detail["source"], detail["previousRiskLevel"], detail["riskLevel"]) == ("override", "HIGH", "LOW")
    assert conn.execute(
        "SELECT override_id, effective_risk_level FROM tenant_latest_scores WHERE organization_id = %s", (org,)
    ).fetchone() == {"override_id": None, "effective_risk_level": "LOW"}


def override_body(risk_level: str, expires_at: str) -> dict[str, str]:
    return {"riskLevel": risk_level, "reason": "Executive sponsor left", "expiresAt": expires_at}
