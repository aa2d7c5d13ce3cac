"""Use case: fan a job out to one scoring-queue message per ACTIVE tenant.

A run is named by its job and asOf: the schedules pass the scheduler's scheduled time as
`asOf`, so Lambda's async retries, a scheduler retry or an operator's re-run of the same
event are the same run, and the fan-out's ledger (`run_enqueued_tenants`) makes them
enqueue only the tenants an earlier attempt did not. A run whose enqueue completed is not
enqueued again at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from healthscore.dal import organizations, runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.enqueue import EnqueueError, enqueue_messages
from healthscore.models.messages import MESSAGE_TYPE_OF_JOB, FanoutRequest, Job, QueueMessage, ScoringMessage

PAGE_SIZE = 1000


@dataclass(frozen=True)
class FanoutSummary:
    run_id: str
    job: Job
    as_of: datetime
    tenant_count: int
    enqueued_now: int  # 0 for a re-run of a run that was complete already


def new_run_id(job: Job, as_of: datetime) -> str:
    """The run of a job at an instant: the same for every retry of the same event."""
    return f"{job}-{as_of.astimezone(UTC):%Y%m%dT%H%M%S}Z"


def fan_out(conn: DbConnection, request: FanoutRequest, queue_url: str) -> FanoutSummary:
    """Record the run, enqueue every ACTIVE tenant not yet enqueued for it, and fail loudly
    if any could not be (the ledger keeps what was sent, so the retry sends the rest)."""
    as_of = request.as_of or datetime.now(UTC)
    run_id = request.run_id or new_run_id(request.job, as_of)
    run = runs.start_run(conn, run_id, request.job, as_of)
    if run["enqueued_at"] is not None:
        return FanoutSummary(run_id, request.job, as_of, run["tenant_count"] or 0, 0)
    message_type = MESSAGE_TYPE_OF_JOB[request.job]
    tenants = sent = 0
    failed: list[tuple[QueueMessage, str]] = []
    for page in organizations.active_organization_pages(conn, PAGE_SIZE):
        tenants += len(page)
        missing = runs.not_yet_enqueued(conn, run_id, page)
        messages = [
            ScoringMessage(type=message_type, organization_id=org_id, as_of=as_of, run_id=run_id) for org_id in missing
        ]
        try:
            page_failed: list[tuple[QueueMessage, str]] = []
            sent += enqueue_messages(queue_url, messages)
        except EnqueueError as exc:  # keep going: every other tenant still gets its message
            page_failed = exc.failed
            sent += len(messages) - len(page_failed)
        not_sent = {message.organization_id for message, _ in page_failed}
        runs.record_enqueued(conn, run_id, [org_id for org_id in missing if org_id not in not_sent])
        failed.extend(page_failed)
    if failed:
        runs.set_tenant_count(conn, run_id, tenants)
        raise EnqueueError(failed)
    runs.finish_enqueue(conn, run_id, tenants)
    return FanoutSummary(run_id, request.job, as_of, tenants, sent)
