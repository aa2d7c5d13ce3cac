"""HealthRiskChanged events on a real EventBridge endpoint (moto server), read back through SQS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from factories import add_case, add_org, add_score, add_users
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, message_body, published, sqs_event

from healthscore.dal.connection import DbConnection

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def score(org: UUID, as_of: datetime = AS_OF) -> None:
    handler = load_handler("scorer").lambda_handler
    assert handler(sqs_event([message_body(org, as_of)]), lambda_context()) == {"batchItemFailures": []}


def test_a_risk_change_publishes_exactly_one_event(conn: DbConnection, risk_events: str) -> None:
    org = add_scorable_tenant(conn, AS_OF)  # scores 100: LOW
    yesterday = {"contributions": {"login": 15.0, "caseResolution": 25.0, "supportTickets": 10.0}}
    add_score(conn, org, (AS_OF - timedelta(days=1)).date(), 50, risk_level="HIGH", explanation=yesterday)

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
