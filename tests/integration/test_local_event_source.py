"""The local event source delivers batches above SQS's 10 messages a call, as Lambda's batching window does."""

from __future__ import annotations

from typing import Any

import pytest
from pipeline_support import DRAIN_TIMEOUT_SECONDS

from healthscore.aws.clients import sqs_client
from healthscore_dev.local.event_source import LocalEventSource
from healthscore_dev.local.pipeline import queue_is_empty
from healthscore_dev.local.sqs_server import LocalQueues


def send(queue_url: str, count: int) -> None:
    for start in range(0, count, 10):
        sqs_client().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(min(10, count - start))],
        )


def test_a_batch_of_25_is_one_invocation_and_every_record_is_deleted(queues: LocalQueues) -> None:
    send(queues.scoring_queue_url, 25)
    batches: list[list[str]] = []

    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        batches.append(sorted(record["body"] for record in event["Records"]))
        return {"batchItemFailures": []}

    source = LocalEventSource(
        queues.scoring_queue_url, lambda _: handler, function_name="ScorerFunction", batch_size=25, max_concurrency=1
    )
    stats = source.run(until=lambda: queue_is_empty(queues.scoring_queue_url), timeout_seconds=DRAIN_TIMEOUT_SECONDS)
    assert sorted(body for batch in batches for body in batch) == sorted(f"m{i}" for i in range(25))
    assert batches[0] == sorted(f"m{i}" for i in range(25))  # all waiting messages in the first invocation
    assert (stats.records, stats.deleted, stats.returned) == (25, 25, 0)


def test_twelve_failed_records_all_go_back_to_the_queue(queues: LocalQueues) -> None:
    send(queues.scoring_queue_url, 12)
    calls = 0

    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first delivery fails every record; the second succeeds
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        return {"batchItemFailures": []}

    source = LocalEventSource(
        queues.scoring_queue_url,
        lambda _: handler,
        function_name="ScorerFunction",
        batch_size=50,
        max_concurrency=1,
        retry_delay_seconds=0,
    )
    stats = source.run(until=lambda: queue_is_empty(queues.scoring_queue_url), timeout_seconds=DRAIN_TIMEOUT_SECONDS)
    assert stats.returned == 12
    assert stats.deleted == 12


def test_a_deadline_ends_the_polling_with_an_error_instead_of_polling_forever(queues: LocalQueues) -> None:
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        return {"batchItemFailures": []}

    source = LocalEventSource(
        queues.scoring_queue_url, lambda _: handler, function_name="ScorerFunction", batch_size=10, max_concurrency=2
    )
    with pytest.raises(TimeoutError, match=r"within 0\.5 s"):
        source.run(until=lambda: False, timeout_seconds=0.5)  # never done
