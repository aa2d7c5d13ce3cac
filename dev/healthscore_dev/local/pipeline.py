"""The nightly pipeline, locally: schedule event -> fan-out -> queue -> scorer, as in AWS.

The fan-out handler runs in its own thread while the local event source consumes, so
the queue stays short (moto's SQS slows down per message as its queue grows).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from healthscore.aws.clients import sqs_client
from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.fanout import new_run_id
from healthscore.models.messages import Job
from healthscore_dev.local.event_source import EventSourceStats, LocalEventSource
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LocalLambdaContext
from healthscore_dev.local.sqs_server import LocalQueues

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeFilterType

NIGHTLY_JOBS: tuple[Job, ...] = ("record-metrics", "calculate-scores")  # 01:00 and 02:00 UTC
BACKLOG_CHECK_SECONDS = 0.1
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class JobResult:
    job: Job
    run_id: str
    progress: dict[str, Any]  # the run's counts from the database
    seconds: float
    source: EventSourceStats


class FanoutThread(threading.Thread):
    """Invokes the fan-out handler with the schedule's event; keeps its error, if any."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__(name="fanout", daemon=True)
        self.event = event
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            load_handler("fanout").lambda_handler(self.event, LocalLambdaContext("FanoutFunction"))
        except BaseException as exc:
            self.error = exc


def queued_messages(queue_url: str, *, in_flight: bool) -> int:
    """Messages waiting on the queue, and with `in_flight` those received but not yet settled."""
    names: list[QueueAttributeFilterType] = ["ApproximateNumberOfMessages"]
    if in_flight:
        names.append("ApproximateNumberOfMessagesNotVisible")
    attributes = sqs_client().get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, "0")) for name in attributes)


def queue_is_empty(queue_url: str) -> bool:
    return queued_messages(queue_url, in_flight=True) == 0


def hold_sends_while_backlogged(queue_url: str, high_water: int) -> Callable[[], None]:
    """Make SendMessageBatch wait while the queue holds more than `high_water` messages.

    AWS SQS takes any backlog; moto's SQS slows down per message as its queue grows, so
    locally the fan-out is paced by the scorers, as the consumers' backpressure. It hooks
    the shared boto3 client, so the fan-out handler's code is the one that runs in AWS.
    Returns the function that removes the hook.
    """

    one_checker = threading.Lock()  # the fan-out sends from several threads: one asks, the others queue

    def wait_for_room(**_: Any) -> None:
        with one_checker:
            while queued_messages(queue_url, in_flight=False) > high_water:
                time.sleep(BACKLOG_CHECK_SECONDS)

    events = sqs_client().meta.events
    events.register("before-call.sqs.SendMessageBatch", wait_for_room, unique_id="local-backpressure")
    return lambda: events.unregister("before-call.sqs.SendMessageBatch", unique_id="local-backpressure")


def run_job(conn: DbConnection, job: Job, queues: LocalQueues, concurrency: int, progress: Progress) -> JobResult:
    """One scheduled job end to end; returns when every message is settled."""
    started = time.perf_counter()
    as_of = datetime.now(UTC)
    run_id = new_run_id(job, as_of)
    fanout = FanoutThread({"job": job, "asOf": as_of.isoformat(), "runId": run_id})
    source = LocalEventSource.for_scorer(queues.scoring_queue_url, queues.settings.batch_size, concurrency)

    def finished() -> bool:
        state = runs.run_progress(conn, run_id)
        if state:
            progress(state)
        return not fanout.is_alive() and queue_is_empty(queues.scoring_queue_url)

    # Enough waiting work for every poller to get a full batch, and no more.
    release_hook = hold_sends_while_backlogged(queues.scoring_queue_url, 2 * concurrency * queues.settings.batch_size)
    fanout.start()
    try:
        stats = source.run(until=finished)
        fanout.join()
    finally:
        release_hook()
    if fanout.error is not None:
        raise fanout.error
    final = runs.run_progress(conn, run_id) or {}
    progress(final)
    return JobResult(job, run_id, final, time.perf_counter() - started, stats)
