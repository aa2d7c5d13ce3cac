"""Use cases: runs asked for over the API, one tenant's recalculation and a whole-fleet calculate-scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from healthscore.aws.clients import lambda_client
from healthscore.config import get_settings
from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.enqueue import enqueue_messages
from healthscore.logic.fanout import new_run_id
from healthscore.logic.run_guard import start_run_unless_running
from healthscore.models.messages import FanoutRequest, ScoringMessage


@dataclass(frozen=True, slots=True)
class RequestedRun:
    run_id: str
    as_of: datetime


def queue_recalculation(conn: DbConnection, organization_id: UUID) -> RequestedRun:
    """Put one calculate-score message for the tenant on the scoring queue, as a run of its own."""
    queue_url = get_settings().required("SCORING_QUEUE_URL")
    as_of = datetime.now(UTC)
    run_id = f"{runs.RECALCULATION_RUN_PREFIX}{uuid4()}"
    runs.start_run(conn, run_id, "calculate-scores", as_of)  # so that GET /runs/{runId} follows it
    message = ScoringMessage(type="calculate-score", organization_id=organization_id, as_of=as_of, run_id=run_id)
    enqueue_messages(queue_url, [message])
    runs.finish_enqueue(conn, run_id, 1)
    return RequestedRun(run_id, as_of)


def start_calculate_all(conn: DbConnection) -> RequestedRun:
    """Start a calculate-scores run: record it, then invoke the fan-out asynchronously.

    RunInProgressError while another calculate-scores run is in progress.
    """
    function_name = get_settings().required("FANOUT_FUNCTION_NAME")
    as_of = datetime.now(UTC)
    run_id = new_run_id("calculate-scores", as_of)
    start_run_unless_running(conn, run_id, "calculate-scores", as_of)  # GET /runs/{runId} answers at once
    request = FanoutRequest(job="calculate-scores", as_of=as_of, run_id=run_id)
    try:
        lambda_client().invoke(
            FunctionName=function_name, InvocationType="Event", Payload=request.model_dump_json(by_alias=True)
        )
    except Exception:
        runs.forget_run(conn, run_id)  # a run that never started must not hold off the next one
        raise
    return RequestedRun(run_id, as_of)
