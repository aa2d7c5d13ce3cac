"""Use case: publish `HealthRiskChanged` events to EventBridge for scores whose risk changed."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from healthscore.aws.clients import events_client
from healthscore.core.risk_change import contribution_deltas, is_risk_change
from healthscore.logic.tenant_requests import TenantOutcome

logger = Logger(child=True)

EVENT_SOURCE = "healthscore"
DETAIL_TYPE = "HealthRiskChanged"
PUT_EVENTS_LIMIT = 10


def risk_change_detail(outcome: TenantOutcome) -> dict[str, Any] | None:
    """The event detail for a scored tenant whose risk level is news, else None."""
    row = outcome.row
    if row is None or not is_risk_change(row["risk_level"], outcome.previous_risk, outcome.replaced_risk):
        return None
    previous_contributions = outcome.previous["explanation"]["contributions"] if outcome.previous else None
    return {
        "organizationId": str(row["organization_id"]),
        "scoreDate": row["score_date"].isoformat(),
        "runId": row["run_id"],
        "previousRiskLevel": outcome.previous_risk,
        "riskLevel": row["risk_level"],
        "previousScore": row["previous_score"],
        "overallScore": row["overall_score"],
        "trend": row["trend"],
        "drivers": contribution_deltas(row["explanation"]["contributions"], previous_contributions),
    }


def publish_risk_changes(bus_name: str, outcomes: list[TenantOutcome]) -> int:
    """Put one event per risk change; return how many were published.

    The scores are already stored: a failure to publish is logged, never raised.
    """
    details = [detail for outcome in outcomes if (detail := risk_change_detail(outcome)) is not None]
    published = 0
    for start in range(0, len(details), PUT_EVENTS_LIMIT):
        chunk = details[start : start + PUT_EVENTS_LIMIT]
        entries = [
            {"Source": EVENT_SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(d), "EventBusName": bus_name}
            for d in chunk
        ]
        try:
            response = events_client().put_events(Entries=entries)  # type: ignore[arg-type]
        except Exception:
            logger.exception("risk-change events not published", extra={"count": len(chunk)})
            continue
        failed = response.get("FailedEntryCount", 0)
        if failed:
            logger.error("some risk-change events not published", extra={"failed": failed})
        published += len(chunk) - failed
    return published
