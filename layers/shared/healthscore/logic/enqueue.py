"""Use case: put scoring messages on the queue, SendMessageBatch ten at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from healthscore.aws.clients import sqs_client
from healthscore.models.messages import QueueMessage

SQS_BATCH_SIZE = 10  # SendMessageBatch's limit
SEND_ATTEMPTS = 4
PARALLEL_SENDS = 8


class EnqueueError(RuntimeError):
    """Some messages could not be put on the queue after retries."""

    def __init__(self, failed: list[tuple[QueueMessage, str]]) -> None:
        self.failed = failed
        sample = "; ".join(f"{m.organization_id}: {reason}" for m, reason in failed[:5])
        super().__init__(f"{len(failed)} message(s) could not be enqueued ({sample})")


def send_batch(queue_url: str, messages: list[QueueMessage]) -> list[tuple[QueueMessage, str]]:
    """Send up to ten messages, retrying the entries SQS reports as failed; return what still failed."""
    pending = dict(enumerate(messages))
    reasons: dict[int, str] = {}
    for _ in range(SEND_ATTEMPTS):
        entries = [{"Id": str(i), "MessageBody": m.body()} for i, m in pending.items()]
        response = sqs_client().send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        for entry in response.get("Successful", []):
            pending.pop(int(entry["Id"]))
        reasons = {int(entry["Id"]): entry.get("Message", entry["Code"]) for entry in response.get("Failed", [])}
        if not pending:
            return []
    return [(pending[i], reasons.get(i, "not sent")) for i in pending]


def _send_or_fail(queue_url: str, messages: list[QueueMessage]) -> list[tuple[QueueMessage, str]]:
    """A batch whose call itself failed (throttled, queue gone, network) fails as a whole, but
    only it: the caller learns exactly which tenants are not on the queue."""
    try:
        return send_batch(queue_url, messages)
    except Exception as exc:
        return [(message, f"{type(exc).__name__}: {exc}") for message in messages]


def chunks(messages: Iterable[QueueMessage], size: int = SQS_BATCH_SIZE) -> Iterator[list[QueueMessage]]:
    iterator = iter(messages)
    while chunk := list(islice(iterator, size)):
        yield chunk


def enqueue_messages(queue_url: str, messages: Iterable[QueueMessage]) -> int:
    """Enqueue every message (batches sent in parallel); raise EnqueueError if any failed."""
    sent = 0
    failed: list[tuple[QueueMessage, str]] = []
    with ThreadPoolExecutor(max_workers=PARALLEL_SENDS) as pool:
        batches = list(chunks(messages))
        for batch, batch_failed in zip(batches, pool.map(lambda b: _send_or_fail(queue_url, b), batches), strict=True):
            sent += len(batch) - len(batch_failed)
            failed.extend(batch_failed)
    if failed:
        raise EnqueueError(failed)
    return sent
