"""Faults on purpose: the database down or slow, SQS and EventBridge failing, a replay cut short.

Real PostgreSQL and a real moto server throughout; AWS failures come from `fault_proxy`
(HTTP 500 on chosen actions), database failures from the server itself (connections
refused or terminated, a closed port, a lock that outlasts `statement_timeout`).
The scorer's "database down, then back" case is test_scorer.py's
test_database_down_fails_the_records_and_the_next_invocation_scores_them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from api_support import CONTEXT, add_scored_tenants, api_event
from database_faults import database_refusing_connections
from factories import add_case, add_org, add_users
from fault_proxy import FaultProxy, fault_proxy
from handlers import lambda_context, load_handler
from pipeline_support import add_scorable_tenant, drain, message_body, sqs_event

from healthscore.aws.clients import reset_clients, sqs_client
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, reset_connection
from healthscore.logic import dead_letters
from healthscore_dev.cli.main import main
from healthscore_dev.local.lambda_context import LocalLambdaContext
from healthscore_dev.local.pipeline import queued_messages
from healthscore_dev.local.sqs_server import LocalQueues, free_port

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
# Far below the lock a test holds (until it releases it, at most 20 s), and far above any statement that is not
# blocked, even on a loaded machine: only the blocked statement times out.
STATEMENT_TIMEOUT_MS = 2000
# How long messages a cut-short replay received may take to come back; they are due after 1 s.
REDELIVERY_DEADLINE_SECONDS = 30


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    reset_connection()


def use_statement_timeout(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """DB_STATEMENT_TIMEOUT_MS, which every connection of the service applies."""
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", str(STATEMENT_TIMEOUT_MS))
    use_database(monkeypatch, url)


@contextmanager
def failing(
    queues: LocalQueues, service: str, fails: Callable[[str, int], bool], *, max_attempts: int | None = None
) -> Iterator[FaultProxy]:
    """boto3's `service` calls go through a fault proxy in the block, then straight to moto again."""
    with fault_proxy(queues.endpoint_url, fails) as proxy, pytest.MonkeyPatch.context() as patch:
        patch.setenv(f"AWS_ENDPOINT_URL_{service}", proxy.url)
        if max_attempts:
            patch.setenv("AWS_MAX_ATTEMPTS", str(max_attempts))
        reset_clients()
        try:
            yield proxy
        finally:
            reset_clients()
    reset_clients()


LOCK_SCORE_ROW = "SELECT 1 FROM tenant_health_scores WHERE organization_id = %s FOR UPDATE"


@contextmanager
def holding(database_url: str, lock: str, params: tuple[Any, ...] = ()) -> Iterator[None]:
    """Another session holds `lock` in an open transaction during the block.

    The server ends that session after 20 s: if the service ignored its statement timeout, the
    blocked call then succeeds and the test fails instead of hanging.
    """
    with psycopg.connect(database_url) as locker:
        locker.execute("SET idle_in_transaction_session_timeout = '20s'")
        locker.execute(lock, params)
        yield
        locker.rollback()


@pytest.fixture
def api() -> Any:
    return load_handler("api").lambda_handler


def get(api: Any, route: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    response = api(api_event(route, **kwargs), CONTEXT)
    return response["statusCode"], response.get("headers") or {}, json.loads(response["body"])


def assert_unavailable(answer: tuple[int, dict[str, str], Any]) -> None:
    status, headers, body = answer
    assert status == 503, body
    assert int(headers["Retry-After"]) > 0
    assert body["message"].startswith("The database is unavailable for now; retry in")
    assert "password" not in json.dumps(body).lower()


@pytest.fixture
def tenants(conn: DbConnection) -> list[UUID]:
    return add_scored_tenants(conn, 3)


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_answers_503_while_the_database_is_down_and_200_once_it_is_back(
    api: Any, conn: DbConnection, tenants: list[UUID], database_url: str, pg_admin_url: str
) -> None:
    assert get(api, "GET /scores")[0] == 200  # a warm connection, about to be terminated
    with database_refusing_connections(pg_admin_url, database_url, keep=conn):
        assert_unavailable(get(api, "GET /scores"))  # the warm connection was dropped
        assert_unavailable(get(api, "GET /scores/{organizationId}", path={"organizationId": tenants[0]}))  # refused
    status, _, body = get(api, "GET /scores")
    assert status == 200
    assert len(body["items"]) == 3


def test_the_api_answers_503_when_nothing_listens_at_the_database_address(
    api: Any, tenants: list[UUID], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = psycopg.conninfo.make_conninfo(database_url, host="127.0.0.1", port=str(free_port()))
    use_database(monkeypatch, closed)
    assert_unavailable(get(api, "GET /scores"))
    use_database(monkeypatch, database_url)
    assert get(api, "GET /scores")[0] == 200


def test_a_query_stopped_by_the_statement_timeout_is_a_503_not_a_500(
    api: Any, tenants: list[UUID], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_statement_timeout(monkeypatch, database_url)
    with holding(database_url, "LOCK TABLE organizations, tenant_latest_scores IN ACCESS EXCLUSIVE MODE"):
        assert_unavailable(get(api, "GET /scores"))
        assert_unavailable(get(api, "GET /scores/{organizationId}", path={"organizationId": tenants[0]}))
    assert get(api, "GET /scores")[0] == 200  # the same connection, fine once the lock is gone


# --- the scorer ------------------------------------------------------------------------------------


def test_a_slow_tenant_fails_only_itself_at_the_statement_timeout(
    conn: DbConnection, queues: LocalQueues, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = [add_scorable_tenant(conn, AS_OF) for _ in range(4)]
    handler = load_handler("scorer").lambda_handler
    assert handler(sqs_event([message_body(org, AS_OF) for org in orgs]), lambda_context()) == {"batchItemFailures": []}
    use_statement_timeout(monkeypatch, database_url)
    slow = orgs[2]
    event = sqs_event([message_body(org, AS_OF, run_id="run-again") for org in orgs])
    with holding(database_url, LOCK_SCORE_ROW, (slow,)):  # the slow tenant's score row stays locked
        answer = handler(event, lambda_context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]}
    rows = conn.execute("SELECT organization_id, run_id FROM tenant_health_scores").fetchall()
    runs = {row["organization_id"]: row["run_id"] for row in rows}
    assert runs == {org: ("run-test" if org == slow else "run-again") for org in orgs}
    [outcome] = conn.execute(
        "SELECT outcome, reason FROM run_tenant_outcomes WHERE run_id = 'run-again' AND organization_id = %s", (slow,)
    ).fetchall()
    assert outcome["outcome"] == "failed"
    assert "statement timeout" in outcome["reason"]
    # SQS delivers it again; with the lock gone it is scored.
    assert handler(sqs_event([message_body(slow, AS_OF, run_id="run-again")]), lambda_context()) == {
        "batchItemFailures": []
    }


# --- SQS during the fan-out ------------------------------------------------------------------------


def test_the_fan_out_retries_a_failing_sqs_endpoint_and_enqueues_each_tenant_once(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    orgs = {add_org(conn) for _ in range(25)}  # three SendMessageBatch calls
    with failing(queues, "SQS", lambda action, seen: action == "SendMessageBatch" and seen < 2) as proxy:
        answer = load_handler("fanout").lambda_handler({"job": "calculate-scores"}, lambda_context())
    assert proxy.count("SendMessageBatch", failed=True) == 2
    assert answer["tenantCount"] == 25
    bodies = [json.loads(m["Body"]) for m in drain(queues.scoring_queue_url)]
    assert sorted(b["organizationId"] for b in bodies) == sorted(str(org) for org in orgs)


def test_the_fan_out_fails_loudly_once_its_retries_are_spent(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_org(conn)
    with (
        failing(queues, "SQS", lambda action, seen: action == "SendMessageBatch", max_attempts=3) as proxy,
        pytest.raises(Exception, match="InternalFailure"),
    ):
        load_handler("fanout").lambda_handler({"job": "calculate-scores"}, lambda_context())
    assert proxy.count("SendMessageBatch") == 3  # boto3 tried three times before giving up
    assert drain(queues.scoring_queue_url) == []


# --- EventBridge -----------------------------------------------------------------------------------


def test_eventbridge_failing_keeps_the_score_and_fails_no_record(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    at_risk = add_org(conn)  # a first score that is HIGH: news for EventBridge
    add_users(conn, at_risk, [None] * 5)
    add_case(conn, at_risk, closed_at=AS_OF - timedelta(days=1), sla_breach_at=AS_OF - timedelta(days=2))
    monkeypatch.setenv("RISK_EVENT_BUS_NAME", "risk-bus")
    get_settings.cache_clear()
    with failing(queues, "EVENTBRIDGE", lambda action, seen: action == "PutEvents", max_attempts=2) as proxy:
        answer = load_handler("scorer").lambda_handler(sqs_event([message_body(at_risk, AS_OF)]), lambda_context())

    assert answer == {"batchItemFailures": []}
    assert proxy.count("PutEvents", failed=True) == 2
    stored = conn.execute("SELECT risk_level FROM tenant_health_scores WHERE organization_id = %s", (at_risk,))
    assert stored.fetchall() == [{"risk_level": "HIGH"}]
    assert "risk-change events not published" in caplog.text


# --- a replay cut short ----------------------------------------------------------------------------


def test_a_replay_interrupted_halfway_loses_nothing_and_a_message_seen_twice_scores_once(
    conn: DbConnection, queues: LocalQueues, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    orgs = [add_scorable_tenant(conn, AS_OF) for _ in range(6)]
    for org in orgs:
        sqs_client().send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=message_body(org, AS_OF))
    # Messages received by the cut-short replay come back after this long, as after a crash.
    monkeypatch.setattr(dead_letters, "RECEIVE_VISIBILITY_SECONDS", 1)

    # The third DeleteMessage fails: its message is on the scoring queue and still in the dead-letter queue.
    with failing(queues, "SQS", lambda action, seen: action == "DeleteMessage" and seen >= 2, max_attempts=1) as proxy:
        assert main(["dlq", "replay"]) == 1
    assert proxy.count("DeleteMessage", failed=True) == 1
    assert "InternalFailure" in capsys.readouterr().err

    deadline = time.monotonic() + REDELIVERY_DEADLINE_SECONDS
    while queued_messages(queues.dead_letter_queue_url, in_flight=False) < 4:  # 3 never moved + 1 not deleted
        assert time.monotonic() < deadline, "the received messages did not come back to the dead-letter queue"
        time.sleep(0.2)
    assert main(["dlq", "replay"]) == 0
    bodies = [m["Body"] for m in drain(queues.scoring_queue_url)]
    assert queued_messages(queues.dead_letter_queue_url, in_flight=True) == 0

    assert sorted(json.loads(b)["organizationId"] for b in set(bodies)) == sorted(str(org) for org in orgs)
    assert len(bodies) == 7  # one message was seen twice
    assert load_handler("scorer").lambda_handler(sqs_event(bodies), lambda_context()) == {"batchItemFailures": []}
    rows = conn.execute("SELECT organization_id, count(*) AS n FROM tenant_health_scores GROUP BY 1").fetchall()
    assert {row["organization_id"]: row["n"] for row in rows} == dict.fromkeys(orgs, 1)


def test_a_batch_without_time_left_for_one_by_one_retries_returns_its_records(
    conn: DbConnection, queues: LocalQueues, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry that could outlast the invocation is not tried: a timed-out invocation fails its whole batch."""
    orgs = [add_scorable_tenant(conn, AS_OF) for _ in range(3)]
    handler = load_handler("scorer").lambda_handler
    handler(sqs_event([message_body(org, AS_OF) for org in orgs]), lambda_context())
    use_statement_timeout(monkeypatch, database_url)
    with holding(database_url, LOCK_SCORE_ROW, (orgs[1],)):
        out_of_time = LocalLambdaContext("ScorerFunction", timeout_seconds=0)
        with pytest.raises(Exception, match="All records failed"):  # every record returns to the queue
            handler(sqs_event([message_body(org, AS_OF, run_id="run-late") for org in orgs]), out_of_time)
    reasons = conn.execute("SELECT reason FROM run_tenant_outcomes WHERE run_id = 'run-late'").fetchall()
    assert [row["reason"] for row in reasons] == ["TimeoutError: not retried alone: too little time left"] * 3
