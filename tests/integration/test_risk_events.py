"""HealthRiskChanged events on a real EventBridge endpoint (moto server), read back through SQS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from api_support import request
from factories import add_case, add_org, add_score, add_users
from fault_proxy import fault_proxy
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, message_body, published, sqs_event

from healthscore.aws.clients import reset_clients
from healthscore.dal.connection import DbConnection
from healthscore.dal.risk_event_outbox import backlog
from healthscore.logic.overrides import NewOverride, set_override
from healthscore_dev.local.sqs_server import LocalQueues

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


def test_eventbridge_down_for_a_whole_run_loses_no_event_and_publishes_each_once_in_order(
    conn: DbConnection, queues: LocalQueues, risk_events: str, events_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = []
    for _ in range(12):  # each: HIGH yesterday, LOW today (a score event), then a CSM's override (a second event)
        org = add_scorable_tenant(conn, AS_OF)
        add_score(conn, org, (AS_OF - timedelta(days=1)).date(), 50, risk_level="HIGH")
        tenants.append(org)
    expires = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    scorer = load_handler("scorer").lambda_handler

    with fault_proxy(queues.endpoint_url, lambda action, seen: action == "PutEvents") as eventbridge:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", eventbridge.url)
        reset_clients()
        for batch in (tenants[:6], tenants[6:]):
            answer = scorer(sqs_event([message_body(org, AS_OF) for org in batch]), lambda_context())
            assert answer == {"batchItemFailures": []}  # the scores are stored all the same
        for org in tenants:
            path = {"organizationId": org}
            assert (
                request("PUT /scores/{organizationId}/override", path=path, body=override_body("HIGH", expires))[0]
                == 200
            )
        assert eventbridge.count("PutEvents", failed=True) > 0
        assert eventbridge.count("PutEvents", failed=False) == 0
    monkeypatch.delenv("AWS_ENDPOINT_URL_EVENTBRIDGE")
    reset_clients()
    assert published(risk_events) == []
    assert backlog(conn).unpublished == 24

    # EventBridge is back: the sweep publishes what the run left; the next batch finds nothing left.
    sweep = load_handler("event_sweep").lambda_handler
    assert sweep(json.loads((events_dir / "schedule_event_sweep.json").read_text()), lambda_context()) == {
        "published": 24,
        "unpublished": 0,
    }
    assert sweep({}, lambda_context()) == {"published": 0, "unpublished": 0}
    events = [event["detail"] for event in published(risk_events)]
    stored = conn.execute("SELECT event_id FROM risk_event_outbox ORDER BY position").fetchall()
    assert [event["eventId"] for event in events] == [str(row["event_id"]) for row in stored]  # each once, in order
    for org in tenants:  # in order per tenant: the score's change, then the override's
        mine = [(event["source"], event["riskLevel"]) for event in events if event["organizationId"] == str(org)]
        assert mine == [("score", "LOW"), ("override", "HIGH")]

    # The normal path: a change is published by its own batch, at once, exactly once.
    rescored = add_scorable_tenant(conn, AS_OF)
    add_score(conn, rescored, (AS_OF - timedelta(days=1)).date(), 50, risk_level="HIGH")
    assert scorer(sqs_event([message_body(rescored, AS_OF)]), lambda_context()) == {"batchItemFailures": []}
    assert [event["detail"]["organizationId"] for event in published(risk_events)] == [str(rescored)]
    assert backlog(conn).unpublished == 0
