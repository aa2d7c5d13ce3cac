"""Event sweep Lambda: every 5 minutes, publishes what the risk-event outbox still holds.

The scorer and the API publish their events right after their commit; the sweep publishes what they
could not (EventBridge unreachable, an invocation that ended first) and reports the outbox's backlog:
`EventsUnpublished` and `OldestUnpublishedEventAge`, which an alarm watches (docs/deploy.md).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthscore.config import get_settings
from healthscore.dal.connection import get_connection
from healthscore.logic.risk_events import publish_outbox

logger = Logger()
metrics = Metrics()
bus_name = get_settings().required("RISK_EVENT_BUS_NAME")
SWEEP_ROUNDS = 50  # up to 5,000 events an invocation, in rounds of 100


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    published, left = publish_outbox(get_connection(), bus_name, rounds=SWEEP_ROUNDS)
    metrics.add_metric(name="RiskChangeEvents", unit=MetricUnit.Count, value=published)
    metrics.add_metric(name="EventsUnpublished", unit=MetricUnit.Count, value=left.unpublished)
    metrics.add_metric(name="OldestUnpublishedEventAge", unit=MetricUnit.Seconds, value=left.oldest_age_seconds)
    return {"published": published, "unpublished": left.unpublished}
