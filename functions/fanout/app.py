"""Fan-out Lambda: one scoring-queue message per ACTIVE tenant (README: how it works)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthscore.config import get_settings
from healthscore.dal.connection import get_connection
from healthscore.logic.fanout import fan_out
from healthscore.models.messages import FanoutRequest

logger = Logger()
tracer = Tracer()
scoring_queue_url = get_settings().required("SCORING_QUEUE_URL")


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FanoutRequest.model_validate(event)
    summary = fan_out(get_connection(), request, scoring_queue_url)
    logger.info("run enqueued", extra=asdict(summary))
    return {
        "runId": summary.run_id,
        "job": summary.job,
        "asOf": summary.as_of.isoformat(),
        "tenantCount": summary.tenant_count,
        "enqueuedNow": summary.enqueued_now,
    }
