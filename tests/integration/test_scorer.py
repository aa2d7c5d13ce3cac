"""The scorer handler with real SQS event shapes, a real queue and a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from database_faults import database_refusing_connections
from factories import add_tickets
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, drain, message_body, sqs_event

from healthscore.dal.connection import DbConnection
from healthscore_dev.local.pipeline import queued_messages
from healthscore_dev.local.sqs_server import LocalQueues

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def scores(conn: DbConnection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT organization_id, score_date, overall_score, login_score, trend, risk_level, run_id, inputs "
        "FROM tenant_health_scores ORDER BY organization_id, score_date"
    ).fetchall()


def score_of(conn: DbConnection, org_id: UUID) -> dict[str, Any]:
    [row] = conn.execute(
        "SELECT calculated_at, support_ticket_score FROM tenant_health_scores WHERE organization_id = %s", (org_id,)
    ).fetchall()
    return row


def test_poison_and_unknown_records_do_not_fail_the_good_ones(conn: DbConnection, queues: LocalQueues) -> None:
    good = [add_scorable_tenant(conn, AS_OF) for _ in range(8)]
    unknown = uuid4()
    poison = "calculate-score for everyone, please"
    event = sqs_event([message_body(org, AS_OF) for org in good] + [poison, message_body(unknown, AS_OF)])

    answer = load_handler("scorer").lambda_handler(event, lambda_context())

    assert answer == {"batchItemFailures": []}  # nothing retried
    assert sorted(row["organization_id"] for row in scores(conn)) == sorted(good)
    [dead] = drain(queues.dead_letter_queue_url)
    assert dead["Body"] == poison
    assert dead["MessageAttributes"]["PoisonReason"]["StringValue"].startswith("body: Invalid JSON")
    assert dead["MessageAttributes"]["SourceMessageId"]["StringValue"] == event["Records"][8]["messageId"]
    outcomes = conn.execute("SELECT outcome, reason FROM run_tenant_outcomes WHERE organization_id = %s", (unknown,))
    assert outcomes.fetchall() == [{"outcome": "skipped", "reason": "unknown organization"}]


def test_a_body_of_the_wrong_shape_is_poison_naming_the_field(conn: DbConnection, queues: LocalQueues) -> None:
    body = json.dumps({"type": "calculate-score", "organizationId": "not-a-uuid", "asOf": AS_OF.isoformat()})
    answer = load_handler("scorer").lambda_handler(sqs_event([body]), lambda_context())
    assert answer == {"batchItemFailures": []}
    [dead] = drain(queues.dead_letter_queue_url)
    reason = dead["MessageAttributes"]["PoisonReason"]["StringValue"]
    assert "organizationId" in reason
    assert "runId: Field required" in reason


def test_duplicate_delivery_leaves_one_row_with_the_same_values(conn: DbConnection, queues: LocalQueues) -> None:
    org = add_scorable_tenant(conn, AS_OF)
    handler = load_handler("scorer").lambda_handler
    body = message_body(org, AS_OF)
    handler(sqs_event([body]), lambda_context())
    first = scores(conn)
    handler(sqs_event([body, body]), lambda_context())  # again, and twice in one batch
    assert scores(conn) == first
    assert len(first) == 1


def test_a_tenant_without_users_is_skipped_and_nothing_is_written(conn: DbConnection, queues: LocalQueues) -> None:
    from factories import add_org

    org = add_org(conn)
    answer = load_handler("scorer").lambda_handler(sqs_event([message_body(org, AS_OF)]), lambda_context())
    assert answer == {"batchItemFailures": []}
    assert scores(conn) == []


def test_database_down_fails_the_records_and_the_next_invocation_scores_them(
    conn: DbConnection, queues: LocalQueues, database_url: str, pg_admin_url: str
) -> None:
    orgs = [add_scorable_tenant(conn, AS_OF) for _ in range(3)]
    handler = load_handler("scorer").lambda_handler
    event = sqs_event([message_body(org, AS_OF) for org in orgs])
    handler(sqs_event([message_body(orgs[0], AS_OF - timedelta(days=1))]), lambda_context())  # warm connection
    # The whole batch fails: Powertools raises, and Lambda returns every record to the queue.
    with (
        database_refusing_connections(pg_admin_url, database_url, keep=conn),
        pytest.raises(Exception, match="All records failed"),
    ):
        handler(event, lambda_context())

    assert handler(event, lambda_context()) == {"batchItemFailures": []}
    scored = conn.execute("SELECT organization_id FROM tenant_health_scores WHERE score_date = %s", (AS_OF.date(),))
    assert sorted(row["organization_id"] for row in scored.fetchall()) == sorted(orgs)


def test_one_failing_tenant_fails_only_its_record(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = add_scorable_tenant(conn, AS_OF), add_scorable_tenant(conn, AS_OF)
    from healthscore.logic import score_tenants as module

    real_score_row = module.score_row

    def score_row_failing_for_bad(tenant: Any, *args: Any) -> dict[str, Any]:
        if tenant.organization_id == bad:
            raise RuntimeError("corrupt source data")
        return real_score_row(tenant, *args)

    monkeypatch.setattr(module, "score_row", score_row_failing_for_bad)
    event = sqs_event([message_body(good, AS_OF), message_body(bad, AS_OF)])
    answer = load_handler("scorer").lambda_handler(event, lambda_context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert [row["organization_id"] for row in scores(conn)] == [good]
    outcome = conn.execute("SELECT outcome, reason FROM run_tenant_outcomes WHERE organization_id = %s", (bad,))
    assert outcome.fetchone() == {"outcome": "failed", "reason": "RuntimeError: corrupt source data"}


def test_record_metrics_messages_write_usage_metrics(conn: DbConnection, queues: LocalQueues) -> None:
    org = add_scorable_tenant(conn, AS_OF, active=7, total=10)
    body = message_body(org, AS_OF, kind="record-metrics")
    assert load_handler("scorer").lambda_handler(sqs_event([body]), lambda_context()) == {"batchItemFailures": []}
    rows = conn.execute(
        "SELECT metric_type, value FROM usage_metrics WHERE organization_id = %s AND metric_date = %s",
        (org, AS_OF.date()),
    ).fetchall()
    values = {row["metric_type"]: row["value"] for row in rows}
    assert values["LOGIN_RATE"] == Decimal("0.7")
    assert values["TOTAL_USERS"] == 10
    assert values["ACTIVE_USERS"] == 7
    assert scores(conn) == []


def test_the_poison_message_is_kept_when_the_dead_letter_queue_is_unreachable(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queues.dead_letter_queue_url + "-gone")
    from healthscore.config import get_settings

    get_settings.cache_clear()
    good = add_scorable_tenant(conn, AS_OF)
    event = sqs_event(["not json", message_body(good, AS_OF)])
    answer = load_handler("scorer").lambda_handler(event, lambda_context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert queued_messages(queues.dead_letter_queue_url, in_flight=False) == 0


def test_the_batch_publishes_its_counts_and_duration_as_metrics(
    conn: DbConnection, queues: LocalQueues, capsys: pytest.CaptureFixture[str]
) -> None:
    from factories import add_org

    scored, no_users = add_scorable_tenant(conn, AS_OF), add_org(conn)
    capsys.readouterr()
    event = sqs_event([message_body(scored, AS_OF), message_body(no_users, AS_OF), "poison"])
    load_handler("scorer").lambda_handler(event, lambda_context())

    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"CloudWatchMetrics"' in line]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HealthScore"
    assert (emf["TenantsScored"], emf["TenantsSkipped"], emf["PoisonMessages"]) == ([1.0], [1.0], [1.0])
    assert emf["ScoredLowRisk"] == [1.0]
    assert emf["BatchDuration"][0] > 0


def test_the_sample_events_score_their_tenants_and_divert_their_poison(
    conn: DbConnection, queues: LocalQueues, events_dir: Path
) -> None:
    """events/sqs_scoring_batch.json and events/sqs_dlq_replay.json, as `sam local invoke -e` sends them."""
    batch = json.loads((events_dir / "sqs_scoring_batch.json").read_text())
    replay = json.loads((events_dir / "sqs_dlq_replay.json").read_text())
    bodies = [json.loads(r["body"]) for r in batch["Records"] + replay["Records"] if r["body"].startswith("{")]
    tenants = {UUID(body["organizationId"]) for body in bodies}
    for org in tenants:
        add_scorable_tenant(conn, AS_OF, org_id=org)
    handler = load_handler("scorer").lambda_handler

    assert handler(batch, lambda_context()) == {"batchItemFailures": []}
    [replayed] = {UUID(json.loads(r["body"])["organizationId"]) for r in replay["Records"]}
    first = score_of(conn, replayed)
    add_tickets(conn, replayed, [AS_OF - timedelta(hours=2)] * 10)  # the day's data changed since
    assert handler(replay, lambda_context()) == {"batchItemFailures": []}  # a replayed message: same row again

    again = score_of(conn, replayed)
    assert again["calculated_at"] > first["calculated_at"]  # scored again, not skipped as already done
    assert again["support_ticket_score"] < first["support_ticket_score"]  # from the data as it is now
    rows = scores(conn)
    assert {row["organization_id"] for row in rows} == tenants
    assert {(row["score_date"], row["run_id"]) for row in rows} == {(AS_OF.date(), bodies[0]["runId"])}
    [dead] = drain(queues.dead_letter_queue_url)
    assert dead["Body"] == batch["Records"][2]["body"]
