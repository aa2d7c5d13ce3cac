"""Use case: inspect and replay the dead-letter queue (the operator's `healthscore dlq`).

SQS has no peek: messages are received with a short visibility timeout, and the ones
not replayed are made visible again at the end. Replay is receive, send to the
scoring queue, then delete: a message never leaves the dead-letter queue before its
copy is on the scoring queue (moto has no StartMessageMoveTask, and filtering needs
to see each message anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from healthscore.aws.clients import sqs_client
from healthscore.logic.scoring_batch import POISON_REASON_ATTRIBUTE
from healthscore.models.messages import ScoringMessage

RECEIVE_VISIBILITY_SECONDS = 60  # long enough to inspect or move a page of messages
EXHAUSTED_RETRIES = "failed maxReceiveCount times (redriven by SQS)"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    reason: str
    receive_count: int
    sent_at: datetime
    message: ScoringMessage | None  # None for a poison body

    @property
    def organization_id(self) -> str | None:
        return str(self.message.organization_id) if self.message else None

    @property
    def type(self) -> str | None:
        return self.message.type if self.message else None

    def age_seconds(self, now: datetime) -> int:
        return int((now - self.sent_at).total_seconds())

    def summary(self, now: datetime) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "organizationId": self.organization_id,
            "type": self.type,
            "runId": self.message.run_id if self.message else None,
            "reason": self.reason,
            "receiveCount": self.receive_count,
            "ageSeconds": self.age_seconds(now),
        }


@dataclass(frozen=True)
class ReplayFilter:
    organization_id: str | None = None
    type: str | None = None
    reason: str | None = None  # a case-insensitive substring of the reason

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.organization_id is None or letter.organization_id == self.organization_id)
            and (self.type is None or letter.type == self.type)
            and (self.reason is None or self.reason.lower() in letter.reason.lower())
        )


@dataclass
class ReplayReport:
    replayed: list[DeadLetter]
    skipped_poison: list[DeadLetter]  # matched, but a poison body would only come back
    left: int  # messages still in the dead-letter queue: not matched, poison, or all of them on a dry run


def _dead_letter(raw: dict[str, Any]) -> DeadLetter:
    attributes = raw.get("Attributes", {})
    reason_attribute = raw.get("MessageAttributes", {}).get(POISON_REASON_ATTRIBUTE, {})
    try:
        message: ScoringMessage | None = ScoringMessage.model_validate_json(raw["Body"])
    except ValidationError:
        message = None
    return DeadLetter(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw["Body"],
        reason=reason_attribute.get("StringValue") or EXHAUSTED_RETRIES,
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        sent_at=datetime.fromtimestamp(int(attributes.get("SentTimestamp", 0)) / 1000, UTC),
        message=message,
    )


def receive_all(queue_url: str) -> Iterator[DeadLetter]:
    """Every message of the queue once (until a receive brings nothing new)."""
    seen: set[str] = set()
    while True:
        response = sqs_client().receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            return
        for raw in fresh:
            seen.add(raw["MessageId"])
            yield _dead_letter(dict(raw))


def release(queue_url: str, letters: list[DeadLetter]) -> None:
    """Make received messages visible again at once."""
    for start in range(0, len(letters), 10):
        sqs_client().change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for i, letter in enumerate(letters[start : start + 10])
            ],
        )


def list_dead_letters(queue_url: str) -> list[DeadLetter]:
    letters = list(receive_all(queue_url))
    release(queue_url, letters)
    return letters


def replay_dead_letters(
    dead_letter_queue_url: str,
    scoring_queue_url: str,
    selection: ReplayFilter,
    *,
    max_messages: int | None = None,
    dry_run: bool = False,
    as_of_now: bool = False,
) -> ReplayReport:
    """Move the matching messages back to the scoring queue (send, then delete)."""
    report = ReplayReport([], [], 0)
    held: list[DeadLetter] = []  # received but staying in the dead-letter queue
    for letter in receive_all(dead_letter_queue_url):
        if not selection.matches(letter) or (max_messages is not None and len(report.replayed) >= max_messages):
            held.append(letter)
        elif letter.message is None:
            report.skipped_poison.append(letter)
            held.append(letter)
        else:
            if not dry_run:
                _move(letter, letter.message, dead_letter_queue_url, scoring_queue_url, as_of_now)
            else:
                held.append(letter)
            report.replayed.append(letter)
    release(dead_letter_queue_url, held)
    report.left = len(held)
    return report


def _move(letter: DeadLetter, message: ScoringMessage, dlq_url: str, scoring_url: str, as_of_now: bool) -> None:
    body = message.model_copy(update={"as_of": datetime.now(UTC)}).body() if as_of_now else letter.body
    sqs_client().send_message(QueueUrl=scoring_url, MessageBody=body)
    sqs_client().delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)


def purge_dead_letters(queue_url: str) -> None:
    sqs_client().purge_queue(QueueUrl=queue_url)
