"""Use case: fan a job out to one scoring-queue message per ACTIVE tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from healthscore.dal import organizations, runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.enqueue import EnqueueError, enqueue_messages
from healthscore.models.messages import MESSAGE_TYPE_OF_JOB, FanoutRequest, Job, ScoringMessage

PAGE_SIZE = 1000


@dataclass(frozen=True)
class FanoutSummary:
    run_id: str
    job: Job
    as_of: datetime
    tenant_count: int


def new_run_id(job: Job, as_of: datetime) -> str:
    return f"{job}-{as_of:%Y%m%dT%H%M%SZ}-{uuid4().hex[:8]}"


def fan_out(conn: DbConnection, request: FanoutRequest, queue_url: str) -> FanoutSummary:
    """Record the run, enqueue every ACTIVE tenant, and fail loudly if any was not enqueued.

    A re-run with the same runId is safe: scoring is idempotent per tenant and day.
    """
    as_of = request.as_of or datetime.now(UTC)
    run_id = request.run_id or new_run_id(request.job, as_of)
    runs.start_run(conn, run_id, request.job, as_of)
    message_type = MESSAGE_TYPE_OF_JOB[request.job]
    sent = 0
    failed: list[tuple[ScoringMessage, str]] = []
    for page in organizations.active_organization_pages(conn, PAGE_SIZE):
        messages = [
            ScoringMessage(type=message_type, organization_id=org_id, as_of=as_of, run_id=run_id) for org_id in page
        ]
        try:
            sent += enqueue_messages(queue_url, messages)
        except EnqueueError as exc:  # keep going: every other tenant still gets its message
            sent += len(messages) - len(exc.failed)
            failed.extend(exc.failed)
    runs.finish_enqueue(conn, run_id, sent + len(failed))
    if failed:
        raise EnqueueError(failed)
    return FanoutSummary(run_id, request.job, as_of, sent)
