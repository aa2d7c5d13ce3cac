"""Use case: publish `HealthRiskChanged` events to EventBridge for scores whose risk changed."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools import Logger

from healthscore.aws.clients import events_client
from healthscore.core.risk_change import contribution_deltas, is_risk_change, profile_changed
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
    explanation = row["explanation"]
    detail = {
        "organizationId": str(row["organization_id"]),
        "scoreDate": row["score_date"].isoformat(),
        "runId": row["run_id"],
        "previousRiskLevel": outcome.previous_risk,
        "riskLevel": row["risk_level"],
        "previousScore": row["previous_score"],
        "overallScore": row["overall_score"],
        "trend": row["trend"],
        "drivers": contribution_deltas(explanation["contributions"], explanation["previousContributions"]),
        "source": "score",
    }
    if profile_changed(row):
        detail |= {
            "source": "profile",
            "previousProfileId": row["previous_profile_id"],
            "previousProfileVersion": row["previous_profile_version"],
        }
    return detail


def override_change_detail(
    organization_id: UUID,
    previous_risk: str,
    risk: str,
    score: dict[str, Any] | None,
    override: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The event detail of an override set, cleared or lapsed, if it changed the effective risk."""
    if previous_risk == risk:
        return None
    return {
        "organizationId": str(organization_id),
        "scoreDate": score["score_date"].isoformat() if score else None,
        "previousRiskLevel": previous_risk,
        "riskLevel": risk,
        "computedRiskLevel": score["risk_level"] if score else None,
        "overallScore": score["overall_score"] if score else None,
        "override": None
        if override is None
        else {
            "riskLevel": override["risk_level"],
            "reason": override["reason"],
            "setBy": override["set_by"],
            "expiresAt": override["expires_at"].isoformat(),
        },
        "source": "override",
    }


def lapse_detail(outcome: TenantOutcome) -> dict[str, Any] | None:
    """The event of an override whose lapse the scorer found, if the lapse changed the effective risk."""
    lapse = outcome.lapse
    if lapse is None:
        return None
    return override_change_detail(
        lapse.organization_id, lapse.override_risk_level, lapse.effective_risk_level, outcome.row, None
    )


def publish_risk_changes(bus_name: str, outcomes: list[TenantOutcome]) -> int:
    """Put one event per risk change of the scores and per lapsed override; return how many were published."""
    details = [
        detail for outcome in outcomes for detail in (risk_change_detail(outcome), lapse_detail(outcome)) if detail
    ]
    return publish_details(bus_name, details)


def publish_details(bus_name: str, details: list[dict[str, Any]]) -> int:
    """Put one `HealthRiskChanged` event per detail; return how many were published.

    What they announce is already stored: a failure to publish is logged, never raised.
    """
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
