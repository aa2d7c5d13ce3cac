"""Scorer Lambda: works SQS batches of scoring messages (README: how it works)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthscore import tracing
from healthscore.config import get_settings
from healthscore.logic.active_profiles import ProfileCache, configured_health_weights
from healthscore.logic.scoring_batch import BatchSettings, work_batch

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

_settings = get_settings()
batch_settings = BatchSettings(
    # HEALTH_WEIGHTS seeds the default profile the first time; where set and different later, it is reported.
    profiles=ProfileCache(configured_health_weights(_settings)),
    dead_letter_queue_url=_settings.required("DEAD_LETTER_QUEUE_URL"),
    risk_event_bus_name=_settings.risk_event_bus_name,
    scoring_queue_url=_settings.scoring_queue_url,
)
METRIC_NAMES = {
    "scored": "TenantsScored",
    "recorded": "TenantsRecorded",
    "skipped": "TenantsSkipped",
    "failed": "TenantsFailed",
    "poison": "PoisonMessages",
    "restated": "DaysRestated",
}


@logger.inject_lambda_context
@tracing.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    report = work_batch(list(SQSEvent(event).records), batch_settings, context.get_remaining_time_in_millis)
    for outcome, count in report.counts.items():
        metrics.add_metric(name=METRIC_NAMES[outcome], unit=MetricUnit.Count, value=count)
    for risk_level, count in report.risk_levels.items():  # the score distribution by risk
        metrics.add_metric(name=f"Scored{risk_level.title()}Risk", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="RiskChangeEvents", unit=MetricUnit.Count, value=report.risk_events)
    if batch_settings.risk_event_bus_name:  # the outbox's backlog after this batch published (0 normally)
        metrics.add_metric(name="EventsUnpublished", unit=MetricUnit.Count, value=report.events_unpublished)
    metrics.add_metric(name="BatchDuration", unit=MetricUnit.Milliseconds, value=report.duration_ms)
    return process_partial_response(
        event=event, record_handler=report.raise_if_failed, processor=processor, context=context
    )
