"""Use case: work one SQS batch of scoring messages (the scorer Lambda's whole job).

Poison records (not JSON, or not a ScoringMessage) go straight to the dead-letter
queue with the reason, not through five retries. The valid ones are worked together,
set-based, per message type; if a group fails, its tenants are retried one by one so
that only the failing record is reported back to SQS (`batchItemFailures`), as long as
the invocation has time left for another retry: a timed-out invocation would return its
whole batch, so the records it cannot retry in time are failed (and redelivered) instead.

With the database unreachable, the batch's records go back to the queue with a visibility timeout
that grows with their receive count (1, 2, 4, 8, then 15 minutes: `backoff_seconds`), so a long
outage spends a receive every 15 minutes, not every 6: with the template's maxReceiveCount of 15
an outage of up to 2 h 45 min dead-letters nothing (docs/deploy.md).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from healthscore.dal.connection import DbConnection, get_connection
from healthscore.logic.active_profiles import ProfileCache
from healthscore.logic.record_metrics import record_metrics
from healthscore.logic.restatement import restate_range
from healthscore.logic.risk_events import publish_outbox
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantOutcome, TenantRequest, record_outcomes
from healthscore.models.messages import MessageType, QueueMessage, RestateMessage, ScoringMessage

logger = Logger(child=True)

POISON_REASON_ATTRIBUTE = "PoisonReason"
SOURCE_MESSAGE_ID_ATTRIBUTE = "SourceMessageId"
REASON_LIMIT = 1000  # characters of a validation error kept as the reason
RETRY_MARGIN_MS = 1000  # left after the last one-by-one retry, to answer the batch
FIRST_BACKOFF_SECONDS = 60  # a record's visibility after its first receive finds the database down
MAX_BACKOFF_SECONDS = 900
SQS_BATCH_LIMIT = 10  # entries of ChangeMessageVisibilityBatch


class PoisonMessageError(ValueError):
    """A record that can never be processed: its body is not a valid scoring message."""


class RecordFailedError(RuntimeError):
    """A record whose work failed; SQS delivers it again (and redrives it after N tries)."""


@dataclass
class BatchReport:
    """What became of each record of a batch, and counts for metrics."""

    failures: dict[str, str] = field(default_factory=dict)  # message id -> reason
    counts: Counter[str] = field(default_factory=Counter)  # scored/recorded/skipped/failed/poison
    risk_levels: Counter[str] = field(default_factory=Counter)  # of the scores written
    risk_events: int = 0  # published by this invocation (its own, and any an earlier one left)
    events_unpublished: int = 0  # left in the outbox after it
    duration_ms: float = 0.0

    def raise_if_failed(self, record: SQSRecord) -> None:
        """Record handler for Powertools' BatchProcessor: re-raise this record's failure."""
        if record.message_id in self.failures:
            raise RecordFailedError(self.failures[record.message_id])


@dataclass(frozen=True)
class BatchSettings:
    profiles: ProfileCache  # the execution environment's
    dead_letter_queue_url: str
    risk_event_bus_name: str | None
    scoring_queue_url: str | None = None  # where the records come from: their visibility backs off


def parse_message(body: str) -> QueueMessage:
    """A restate message (its "type" says so), else a scoring message."""
    try:
        return _message_model(body).model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise PoisonMessageError(problems[:REASON_LIMIT]) from None


def _message_model(body: str) -> type[ScoringMessage] | type[RestateMessage]:
    try:
        restate = json.loads(body).get("type") == "restate"
    except (ValueError, AttributeError):  # not JSON, or not an object: the scoring message's errors say so
        restate = False
    return RestateMessage if restate else ScoringMessage


def move_to_dead_letter_queue(record: SQSRecord, reason: str, dead_letter_queue_url: str) -> None:
    from healthscore.aws.clients import sqs_client  # boto3 only when a poison message shows up

    sqs_client().send_message(
        QueueUrl=dead_letter_queue_url,
        MessageBody=record.body,
        MessageAttributes={
            POISON_REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason},
            SOURCE_MESSAGE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": record.message_id},
        },
    )


def work_batch(
    records: Sequence[SQSRecord], settings: BatchSettings, remaining_ms: Callable[[], int] | None = None
) -> BatchReport:
    """`remaining_ms`: the invocation's time left (Lambda context's get_remaining_time_in_millis)."""
    started = time.perf_counter()
    report = _work_batch(records, settings, remaining_ms)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


def _work_batch(
    records: Sequence[SQSRecord], settings: BatchSettings, remaining_ms: Callable[[], int] | None
) -> BatchReport:
    report = BatchReport()
    valid: dict[MessageType, list[tuple[str, ScoringMessage]]] = {"calculate-score": [], "record-metrics": []}
    restates: list[tuple[str, RestateMessage]] = []
    for record in records:
        try:
            message = parse_message(record.body)
        except PoisonMessageError as exc:
            _divert_poison(record, str(exc), settings, report)
            continue
        if isinstance(message, RestateMessage):
            restates.append((record.message_id, message))
        else:
            valid[message.type].append((record.message_id, message))
    try:
        conn = get_connection()
    except psycopg.OperationalError as exc:
        logger.error("database unavailable; the batch's records return to the queue", extra={"error": str(exc)})
        returned: list[tuple[str, QueueMessage]] = [*valid["calculate-score"], *valid["record-metrics"], *restates]
        _fail_all(returned, f"database unavailable: {exc}", report)
        if settings.scoring_queue_url:
            ids = {message_id for message_id, _ in returned}
            _back_off([r for r in records if r.message_id in ids], settings.scoring_queue_url)
        return report
    for message_id, restate in restates:
        _restate(conn, message_id, restate, report)
    scored: list[TenantOutcome] = []
    if valid["calculate-score"]:
        try:
            profiles = settings.profiles.get(conn)  # once per batch: one set of profiles scores all of it
        except psycopg.Error as exc:
            logger.error("scoring profiles unavailable; the batch's scores return", extra={"error": str(exc)})
            _fail_all(valid["calculate-score"], f"scoring profiles unavailable: {exc}", report)
        else:
            scored = _work_group(
                conn,
                valid["calculate-score"],
                lambda c, rs: score_tenants(c, rs, profiles, announce=bool(settings.risk_event_bus_name)),
                report,
                remaining_ms,
            )
    _work_group(conn, valid["record-metrics"], record_metrics, report, remaining_ms)
    report.risk_levels.update(outcome.row["risk_level"] for outcome in scored if outcome.row is not None)
    if settings.risk_event_bus_name:
        _publish_risk_events(settings.risk_event_bus_name, report)
    return report


def _publish_risk_events(bus_name: str, report: BatchReport) -> None:
    """After the batch's commit, the outbox's events: this batch's, and any an earlier one left unpublished."""
    try:
        report.risk_events, left = publish_outbox(get_connection(), bus_name)
    except psycopg.Error as exc:  # the scores and their events are stored: a later batch or the sweep publishes
        logger.warning("risk-change events not published now; the outbox keeps them", extra={"error": str(exc)})
        return
    report.events_unpublished = left.unpublished


def backoff_seconds(receive_count: int) -> int:
    """The visibility timeout of a record received `receive_count` times while the database is down."""
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** max(0, min(receive_count - 1, 10)))


def _back_off(records: list[SQSRecord], queue_url: str) -> None:
    """Keep the records out of sight for their backoff (best effort: else the queue's own timeout applies)."""
    from healthscore.aws.clients import sqs_client  # boto3 only when the database is down

    for start in range(0, len(records), SQS_BATCH_LIMIT):
        entries = [
            {
                "Id": str(index),
                "ReceiptHandle": record.receipt_handle,
                "VisibilityTimeout": backoff_seconds(int(record.attributes.approximate_receive_count or 1)),
            }
            for index, record in enumerate(records[start : start + SQS_BATCH_LIMIT])
        ]
        try:
            sqs_client().change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        except Exception:
            logger.exception(
                "visibility not backed off; the queue's own timeout applies", extra={"records": len(entries)}
            )


def _restate(conn: DbConnection, message_id: str, message: RestateMessage, report: BatchReport) -> None:
    """One range of tenants restated in one statement; on failure the record returns to the queue alone."""
    try:
        report.counts["restated"] += restate_range(conn, message)
    except Exception as exc:
        logger.exception("restatement failed", extra={"runId": message.run_id, "messageId": message_id})
        report.failures[message_id] = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
        report.counts["failed"] += 1


def _fail_all(items: Sequence[tuple[str, QueueMessage]], reason: str, report: BatchReport) -> None:
    for message_id, _ in items:
        report.failures[message_id] = reason[:REASON_LIMIT]
        report.counts["failed"] += 1


def _divert_poison(record: SQSRecord, reason: str, settings: BatchSettings, report: BatchReport) -> None:
    logger.warning("poison message to the dead-letter queue", extra={"messageId": record.message_id, "reason": reason})
    try:
        move_to_dead_letter_queue(record, reason, settings.dead_letter_queue_url)
        report.counts["poison"] += 1
    except Exception as exc:  # not lost: SQS retries it and redrives it in the end
        logger.exception("poison message could not be moved", extra={"messageId": record.message_id})
        report.failures[record.message_id] = f"poison ({reason}); moving it failed: {exc}"


def _work_group(
    conn: DbConnection,
    items: list[tuple[str, ScoringMessage]],
    work: Callable[[DbConnection, list[TenantRequest]], list[TenantOutcome]],
    report: BatchReport,
    remaining_ms: Callable[[], int] | None,
) -> list[TenantOutcome]:
    """Work a group set-based; on failure, one by one so that only the bad records fail."""
    if not items:
        return []
    started = time.perf_counter()
    try:
        outcomes = work(conn, [_request(message) for _, message in items])
    except Exception as exc:
        # One tenant alone may take as long as the failed attempt did (e.g. a statement timeout).
        retry_ms = (time.perf_counter() - started) * 1000 + RETRY_MARGIN_MS
        logger.exception("set-based work failed; retrying its tenants one by one", extra={"records": len(items)})
        outcomes = []
        for message_id, message in items:
            if isinstance(exc, psycopg.OperationalError):
                # The connection may have died under the attempt (a failover, a dropped path found by
                # tcp_user_timeout): each retry gets the environment's live one, replaced if dead.
                try:
                    conn = get_connection()
                except psycopg.OperationalError as down:
                    exc = down
                    _fail(conn, message_id, message, down, report)
                    continue
            if remaining_ms is not None and remaining_ms() < retry_ms:
                _fail(conn, message_id, message, TimeoutError("not retried alone: too little time left"), report)
                continue
            try:
                outcomes.extend(work(conn, [_request(message)]))
            except Exception as failed:
                exc = failed
                _fail(conn, message_id, message, failed, report)
    for outcome in outcomes:
        report.counts[outcome.outcome] += 1
        if outcome.outcome == "skipped":
            logger.info(
                "tenant skipped",
                extra={
                    "organizationId": str(outcome.organization_id),
                    "runId": outcome.run_id,
                    "reason": outcome.reason,
                },
            )
    return outcomes


def _fail(conn: DbConnection, message_id: str, message: ScoringMessage, exc: Exception, report: BatchReport) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
    logger.error(
        "tenant failed",
        extra={"organizationId": str(message.organization_id), "runId": message.run_id, "reason": reason},
    )
    report.failures[message_id] = reason
    report.counts["failed"] += 1
    failed = TenantOutcome(message.organization_id, message.run_id, "failed", reason)
    try:  # best effort: with the database down, progress just shows the tenant as pending
        record_outcomes(conn, [failed])
    except Exception:
        logger.warning("failed outcome not recorded", extra={"organizationId": str(message.organization_id)})


def _request(message: ScoringMessage) -> TenantRequest:
    return TenantRequest(message.organization_id, message.as_of, message.run_id)
