"""A two-hour database outage, then recovery: every tenant scored once, the dead-letter queue empty.

The queue is moto's SQS in-process, so that its clock is the test's: two hours pass in seconds, and
the visibility timeouts the scorer sets (logic/scoring_batch.py) and the template's maxReceiveCount
act on that clock. The event source is Lambda's: a batch of up to BatchSize messages, the handler's
failed records left as they are (Lambda does not touch their visibility), the others deleted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import moto.sqs.models as moto_sqs
import psycopg
import pytest
from handlers import lambda_context, load_handler
from moto import mock_aws
from pipeline_support import add_scorable_tenant, message_body

from healthscore.aws.clients import reset_clients, sqs_client
from healthscore.config import get_settings
from healthscore.dal.connection import DbConnection, reset_connection
from healthscore_dev.local.event_source import sqs_event
from healthscore_dev.local.sqs_server import create_queues, free_port
from healthscore_dev.local.template_settings import QueueSettings, queue_settings

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
OUTAGE_SECONDS = 2 * 3600
TICK_SECONDS = 30  # how often the event source polls, on the controlled clock


class Clock:
    """Real time plus what the test has advanced."""

    def __init__(self) -> None:
        self.advanced = 0.0

    def now(self) -> float:
        return time.time() + self.advanced

    def now_ms(self) -> float:
        return self.now() * 1000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """moto's SQS, in-process, on a controlled clock."""
    controlled = Clock()
    monkeypatch.setattr(moto_sqs, "unix_time", controlled.now)
    monkeypatch.setattr(moto_sqs, "unix_time_millis", controlled.now_ms)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        reset_clients()
        yield controlled
    reset_clients()


def work_once(scorer: object, queue_url: str, settings: QueueSettings) -> int:
    """One invocation as Lambda's SQS event source makes it; how many messages it received."""
    messages: list[dict[str, Any]] = []
    while len(messages) < settings.batch_size:
        received = (
            sqs_client()
            .receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        messages += [dict(message) for message in received]
        if not received:
            break
    if not messages:
        return 0
    try:
        answer = scorer(sqs_event(messages, queue_url), lambda_context())  # type: ignore[operator]
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    except Exception:  # every record failed: Powertools raises, Lambda returns the whole batch
        failed = {message["MessageId"] for message in messages}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs_client().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def visible_and_in_flight(queue_url: str) -> int:
    attributes = sqs_client().get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_two_hour_database_outage_scores_every_tenant_once_and_dead_letters_nothing(
    conn: DbConnection, database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = queue_settings()  # the template's: visibility timeout, maxReceiveCount, batch size
    scoring_url, dead_letter_url = create_queues(settings, name="outage")
    tenants = [add_scorable_tenant(conn, AS_OF) for _ in range(12)]
    for org in tenants:
        sqs_client().send_message(QueueUrl=scoring_url, MessageBody=message_body(org, AS_OF))
    monkeypatch.setenv("SCORING_QUEUE_URL", scoring_url)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", dead_letter_url)
    nowhere = psycopg.conninfo.make_conninfo(database_url, host="127.0.0.1", port=free_port())
    monkeypatch.setenv("DATABASE_URL", nowhere)  # the outage: nothing answers at the database's address
    get_settings.cache_clear()
    reset_connection()
    scorer = load_handler("scorer").lambda_handler

    receives_in_outage = 0
    while clock.advanced < OUTAGE_SECONDS:
        receives_in_outage += work_once(scorer, scoring_url, settings)
        clock.advanced += TICK_SECONDS
    assert conn.execute("SELECT count(*) AS n FROM tenant_health_scores").fetchone() == {"n": 0}
    # Each message was received at most once per backoff: 12 receives each in 2 h, under maxReceiveCount.
    assert len(tenants) * 5 < receives_in_outage <= len(tenants) * 12

    monkeypatch.setenv("DATABASE_URL", database_url)  # the database is back
    get_settings.cache_clear()
    reset_connection()
    for _ in range(2 * 900 // TICK_SECONDS):  # at most two full backoffs
        if not visible_and_in_flight(scoring_url):
            break
        work_once(scorer, scoring_url, settings)
        clock.advanced += TICK_SECONDS
    assert visible_and_in_flight(scoring_url) == 0

    scored = conn.execute("SELECT organization_id, count(*) AS n FROM tenant_health_scores GROUP BY 1").fetchall()
    assert {row["organization_id"]: row["n"] for row in scored} == dict.fromkeys(tenants, 1)
    assert visible_and_in_flight(dead_letter_url) == 0
