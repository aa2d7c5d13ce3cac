"""Late scoring is exact: a calculate-score replayed days after its as_of scores the tenant's day.

`users.last_login_at` and the feature flags hold only their current value; record-metrics keeps
each tenant's login and feature inputs of its day, and a calculate-score of that day reads them.
The clock (the UTC day work is done on) is set by the test, never slept on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from api_support import request
from factories import add_case, add_feature, add_org, add_score, add_users
from handlers import lambda_context, load_handler
from pipeline_support import drain_through_scorer, message_body, published, sqs_event

from healthscore.aws.clients import sqs_client
from healthscore.dal.connection import DbConnection
from healthscore.logic import clock
from healthscore_dev.cli.main import main
from healthscore_dev.local.sqs_server import LocalQueues

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # day D's calculate-scores
RECORDED_AT = AS_OF - timedelta(hours=1)  # day D's record-metrics, at 01:00
D = AS_OF.date()
COMPONENTS = ("login_score", "feature_adoption_score")


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets the UTC day the service works on: today(D), today(D + 3 days)."""

    def set_today(day: date) -> None:
        monkeypatch.setattr(clock, "utc_today", lambda: day)

    set_today(D)
    return set_today


def add_tenant(conn: DbConnection) -> UUID:
    """7 of 10 users logged in during D's window, 2 of 3 enabled features used, one case on time.

    login 100, caseResolution 100, featureAdoption 67, supportTickets 100 (campaign missing): 94, LOW.
    """
    org = add_org(conn)
    add_users(conn, org, [AS_OF - timedelta(days=2)] * 7 + [None] * 3)
    add_case(conn, org, closed_at=AS_OF - timedelta(days=1), sla_breach_at=AS_OF)
    add_feature(conn, org, "reports", enabled=True, is_used=True)
    add_feature(conn, org, "sso", enabled=True, is_used=True)
    add_feature(conn, org, "api_access", enabled=True, is_used=False)
    return org


def move_past_d(conn: DbConnection, org: UUID) -> None:
    """What the days after D do to the current-value-only columns: logins move on, flags change."""
    conn.execute(
        "UPDATE users SET last_login_at = %s WHERE organization_id = %s AND last_login_at IS NOT NULL",
        (AS_OF + timedelta(days=2), org),
    )
    conn.execute("UPDATE organization_features SET is_used = false WHERE organization_id = %s", (org,))
    add_feature(conn, org, "mobile_app", enabled=True, is_used=False)


def run_scorer(*bodies: str) -> None:
    handler = load_handler("scorer").lambda_handler
    assert handler(sqs_event(list(bodies)), lambda_context()) == {"batchItemFailures": []}


def score_row(conn: DbConnection, org: UUID, day: date = D) -> dict[str, Any]:
    row = conn.execute(
        "SELECT * FROM tenant_health_scores WHERE organization_id = %s AND score_date = %s", (org, day)
    ).fetchone()
    assert row is not None
    return row


def daily_inputs(conn: DbConnection, org: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT input_date, total_users, active_users, features_enabled, features_used, as_of, run_id"
        " FROM tenant_daily_inputs WHERE organization_id = %s ORDER BY input_date",
        (org,),
    ).fetchall()


def test_a_score_replayed_days_later_equals_the_on_time_one_and_announces_nothing(
    conn: DbConnection, queues: LocalQueues, risk_events: str, today: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    org = add_tenant(conn)
    add_score(conn, org, D - timedelta(days=1), 94, risk_level="LOW")  # yesterday: LOW as well

    run_scorer(message_body(org, RECORDED_AT, "record-D", kind="record-metrics"))  # 01:00 on D
    assert daily_inputs(conn, org) == [
        {
            "input_date": D,
            "total_users": 10,
            "active_users": 7,
            "features_enabled": 3,
            "features_used": 2,
            "as_of": RECORDED_AT,
            "run_id": "record-D",
        }
    ]
    run_scorer(message_body(org, AS_OF, "score-D"))  # 02:00 on D: on time
    on_time = score_row(conn, org)
    assert {name: on_time[name] for name in COMPONENTS} == {"login_score": 100, "feature_adoption_score": 67}
    assert (on_time["overall_score"], on_time["risk_level"]) == (94, "LOW")
    assert on_time["inputs"]["sources"]["login"] == on_time["inputs"]["sources"]["featureAdoption"] == "recorded"
    assert published(risk_events) == []

    move_past_d(conn, org)
    today(D + timedelta(days=3))
    run_scorer(message_body(org, AS_OF, "score-D"))  # the same message, three days late
    late = score_row(conn, org)
    assert {name: late[name] for name in COMPONENTS} == {name: on_time[name] for name in COMPONENTS}
    assert (late["overall_score"], late["risk_level"], late["trend"]) == (94, "LOW", on_time["trend"])
    assert late["inputs"] == on_time["inputs"]
    assert late["inputs"]["recordedAsOf"] == RECORDED_AT.isoformat()
    assert (late["inputs"]["approximate"], late["inputs"]["unknownUsers"]) == (False, 0)

    # ... and through the dead-letter queue, as an operator replays it
    sqs_client().send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=message_body(org, AS_OF, "score-D"))
    assert main(["dlq", "replay", "--tenant", str(org)]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out
    assert drain_through_scorer(queues).stats.deleted == 1
    replayed = score_row(conn, org)
    assert {name: replayed[name] for name in COMPONENTS} == {name: on_time[name] for name in COMPONENTS}
    assert (replayed["overall_score"], replayed["risk_level"]) == (94, "LOW")
    assert published(risk_events) == []  # no change happened, none is announced

    # Without the record, the same replay reads today's values: the false drop the record prevents.
    conn.execute("DELETE FROM tenant_daily_inputs WHERE organization_id = %s", (org,))
    run_scorer(message_body(org, AS_OF, "score-D"))
    live = score_row(conn, org)
    assert (live["login_score"], live["feature_adoption_score"]) == (0, 0)
    assert live["inputs"]["sources"]["login"] == "live"
    assert (live["inputs"]["approximate"], live["inputs"]["unknownUsers"]) == (True, 7)
    [event] = published(risk_events)
    assert (event["detail"]["previousRiskLevel"], event["detail"]["riskLevel"]) == ("LOW", "HIGH")


def test_the_single_score_says_approximate_when_the_day_was_not_recorded(
    conn: DbConnection, queues: LocalQueues, today: Any
) -> None:
    on_time, late = add_tenant(conn), add_tenant(conn)
    run_scorer(message_body(on_time, AS_OF))  # on D, no record: read live, still D's values
    move_past_d(conn, late)
    today(D + timedelta(days=3))
    run_scorer(message_body(late, AS_OF))  # no record of D, three days on

    status, body = request("GET /scores/{organizationId}", path={"organizationId": on_time})
    assert status == 200
    assert body["approximate"] is False
    assert body["inputs"]["sources"]["login"] == "live"
    assert (body["inputs"]["activeUsers"], body["inputs"]["unknownUsers"]) == (7, 0)

    status, body = request("GET /scores/{organizationId}", path={"organizationId": late})
    assert status == 200
    assert body["approximate"] is True
    assert body["inputs"]["approximate"] is True
    assert (body["inputs"]["activeUsers"], body["inputs"]["unknownUsers"]) == (0, 7)  # 7 logged in after as_of
    assert body["inputs"]["sources"] == {
        "login": "live",
        "caseResolution": "live",
        "campaignCompletion": "live",
        "featureAdoption": "live",
        "supportTickets": "live",
    }


def test_record_metrics_keeps_the_days_inputs_once_and_never_from_a_late_read(
    conn: DbConnection, queues: LocalQueues, today: Any
) -> None:
    org = add_tenant(conn)
    today(D + timedelta(days=3))
    run_scorer(message_body(org, RECORDED_AT, "record-late", kind="record-metrics"))
    assert daily_inputs(conn, org) == []  # read three days late: no longer D's inputs
    metrics = conn.execute("SELECT count(*) AS n FROM usage_metrics WHERE organization_id = %s", (org,)).fetchone()
    assert metrics is not None
    assert metrics["n"] > 0  # the metrics themselves are still recorded

    today(D)
    run_scorer(message_body(org, RECORDED_AT, "record-D", kind="record-metrics"))
    [kept] = daily_inputs(conn, org)
    move_past_d(conn, org)
    run_scorer(message_body(org, RECORDED_AT + timedelta(hours=5), "record-again", kind="record-metrics"))
    assert daily_inputs(conn, org) == [kept]  # a re-record reads the record back: unchanged
    login_rate = conn.execute(
        "SELECT value FROM usage_metrics WHERE organization_id = %s AND metric_type = 'LOGIN_RATE'"
        " AND metric_date = %s",
        (org, D),
    ).fetchone()
    assert login_rate is not None
    assert login_rate["value"] == Decimal("0.700000")


def test_one_batch_mixes_recorded_and_live_tenants(conn: DbConnection, queues: LocalQueues, today: Any) -> None:
    recorded, unrecorded = add_tenant(conn), add_tenant(conn)
    run_scorer(message_body(recorded, RECORDED_AT, kind="record-metrics"))
    move_past_d(conn, recorded)
    move_past_d(conn, unrecorded)
    today(D + timedelta(days=1))
    run_scorer(message_body(recorded, AS_OF), message_body(unrecorded, AS_OF))
    assert (score_row(conn, recorded)["login_score"], score_row(conn, unrecorded)["login_score"]) == (100, 0)
    assert [score_row(conn, org)["inputs"]["approximate"] for org in (recorded, unrecorded)] == [False, True]
