"""A local SQS event source mapping: polls the queue and invokes the scorer like Lambda does.

Batches of the template's BatchSize, at most MaximumConcurrency invocations at once,
each a real SQS event. Records named in `batchItemFailures` (or the whole batch if the
handler raises) return to the queue; the others are deleted. A failed record comes back
after `retry_delay` seconds rather than the full visibility timeout, so a local run does
not idle for minutes; moto's redrive still moves it to the dead-letter queue after
maxReceiveCount receives.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from healthscore.aws.clients import sqs_client
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LOCAL_ACCOUNT, LOCAL_REGION, LocalLambdaContext

# The local endpoint serves one request at a time, so pollers short-poll and pause when
# the queue is empty rather than hold the server in a long poll. Lambda's batching
# window is not emulated: a poller takes what is there, up to the batch size.
IDLE_POLL_SECONDS = 0.2
SQS_BATCH_LIMIT = 10  # messages per ReceiveMessage, entries per DeleteMessageBatch / ChangeMessageVisibilityBatch

Handler = Callable[[dict[str, Any], Any], Any]
HandlerFactory = Callable[[int], Handler]  # environment number -> that environment's handler


@dataclass
class EventSourceStats:
    invocations: int = 0
    records: int = 0
    deleted: int = 0
    returned: int = 0  # records that failed and went back to the queue
    handler_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, records: int, deleted: int, returned: int, handler_error: bool) -> None:
        with self.lock:
            self.invocations += 1
            self.records += records
            self.deleted += deleted
            self.returned += returned
            self.handler_errors += handler_error


def queue_arn(queue_url: str) -> str:
    return f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{queue_url.rsplit('/', 1)[-1]}"


def sqs_event(messages: list[dict[str, Any]], queue_url: str) -> dict[str, Any]:
    """The event Lambda's SQS event source delivers for received messages."""
    return {"Records": [_record(message, queue_url) for message in messages]}


def _record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn(queue_url),
        "awsRegion": LOCAL_REGION,
    }


class LocalEventSource:
    def __init__(
        self,
        queue_url: str,
        handler_factory: HandlerFactory,
        *,
        function_name: str,
        batch_size: int,
        max_concurrency: int,
        retry_delay_seconds: int = 1,
    ) -> None:
        self.queue_url = queue_url
        self.handler_factory = handler_factory
        self.function_name = function_name
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.retry_delay_seconds = retry_delay_seconds
        self.stats = EventSourceStats()
        self._stop = threading.Event()

    @classmethod
    def for_scorer(cls, queue_url: str, batch_size: int, max_concurrency: int) -> LocalEventSource:
        """The scorer's event source mapping, each environment its own copy of the handler."""
        return cls(
            queue_url,
            lambda environment: load_handler("scorer", environment).lambda_handler,
            function_name="ScorerFunction",
            batch_size=batch_size,
            max_concurrency=max_concurrency,
        )

    def run(self, until: Callable[[], bool], *, timeout_seconds: float | None = None) -> EventSourceStats:
        """Poll with `max_concurrency` pollers until `until()` is true; TimeoutError if it is not within
        `timeout_seconds` (a test's deadline: a regression fails instead of polling forever)."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="poller") as pool:
            pollers = [pool.submit(self._poll, environment) for environment in range(self.max_concurrency)]
            try:
                while not until():
                    if any(p.done() for p in pollers):
                        break  # a poller died: surface its exception below
                    if deadline is not None and time.monotonic() > deadline:
                        raise TimeoutError(f"the queue was not worked off within {timeout_seconds} s")
                    time.sleep(0.2)
            finally:
                self._stop.set()  # the pollers stop, so leaving the pool does not wait forever
            for poller in pollers:
                poller.result()
        return self.stats

    def _poll(self, environment: int) -> None:
        """One emulated execution environment: one invocation at a time."""
        handler = self.handler_factory(environment)
        while not self._stop.is_set():
            messages = self._receive()
            if messages:
                self.invoke(handler, messages)
            else:
                self._stop.wait(IDLE_POLL_SECONDS)

    def _receive(self) -> list[dict[str, Any]]:
        """Up to `batch_size` messages: ReceiveMessage returns at most 10 a call, so a larger batch is
        gathered call after call while the queue has more, as the batching window gathers it in Lambda."""
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            response = sqs_client().receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_BATCH_LIMIT, self.batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = [dict(message) for message in response.get("Messages", [])]
            messages += received
            if not received:
                break
        return messages

    def invoke(self, handler: Handler, messages: list[dict[str, Any]]) -> None:
        """Invoke the handler with one batch and settle its records as Lambda would."""
        event = sqs_event(messages, self.queue_url)
        try:
            response = handler(event, LocalLambdaContext(self.function_name))
            failed_ids = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            handler_error = False
        except Exception:  # Lambda: the whole batch returns to the queue
            failed_ids = {m["MessageId"] for m in messages}
            handler_error = True
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        for chunk in itertools.batched(done, SQS_BATCH_LIMIT):  # the batch APIs take 10 entries a call
            sqs_client().delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for chunk in itertools.batched(failed, SQS_BATCH_LIMIT):
            sqs_client().change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay_seconds}
                    for i, m in enumerate(chunk)
                ],
            )
        self.stats.add(len(messages), len(done), len(failed), handler_error)
