"""Use case: `HealthRiskChanged` events, for scores whose risk changed and overrides that changed the effective
risk: their detail (built here), and their publication from the outbox (dal/risk_event_outbox.py), where
each was written with the change it announces.
"""

from __future__ import annotations

import json
from itertools import takewhile
from typing import Any
from uuid import UUID

from aws_lambda_powertools import Logger

from healthscore.aws.clients import events_client
from healthscore.core.risk_change import contribution_deltas, is_risk_change, profile_changed
from healthscore.dal import risk_event_outbox
from healthscore.dal.connection import DbConnection
from healthscore.logic.tenant_requests import TenantOutcome

logger = Logger(child=True)

EVENT_SOURCE = "healthscore"
DETAIL_TYPE = "HealthRiskChanged"
PUT_EVENTS_LIMIT = 10
PUBLISH_LIMIT = 100  # events a scoring batch or a request publishes after its commit; the sweep loops


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


def publish_pending(conn: DbConnection, bus_name: str, limit: int = PUBLISH_LIMIT) -> int:
    """Publish the outbox's unpublished events, oldest first, up to `limit`; return how many were published.

    One publisher at a time (another one busy: nothing to do, it or the next call publishes). Each
    PutEvents' accepted entries are marked published in the same transaction; the first failure stops
    the pass, so that a tenant's later events never overtake an earlier one: they wait for the next
    batch or the sweep. A failure is logged, never raised: what the events announce is stored.
    """
    published = 0
    with conn.transaction():
        if not risk_event_outbox.try_lock_publisher(conn):
            return 0
        pending = risk_event_outbox.unpublished(conn, limit)
        for start in range(0, len(pending), PUT_EVENTS_LIMIT):
            chunk = pending[start : start + PUT_EVENTS_LIMIT]
            entries = [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps({"eventId": str(event["event_id"]), **event["detail"]}),
                    "EventBusName": bus_name,
                }
                for event in chunk
            ]
            try:
                results = events_client().put_events(Entries=entries)["Entries"]  # type: ignore[arg-type]
            except Exception:
                logger.exception(
                    "risk-change events not published; they stay in the outbox", extra={"count": len(chunk)}
                )
                break
            accepted = list(takewhile(lambda result: "EventId" in result, results))
            risk_event_outbox.mark_published(conn, [event["position"] for event in chunk[: len(accepted)]])
            published += len(accepted)
            if len(accepted) < len(chunk):
                logger.error(
                    "some risk-change events not published; they stay in the outbox",
                    extra={"failed": len(chunk) - len(accepted)},
                )
                break
    return published


def publish_outbox(conn: DbConnection, bus_name: str, rounds: int = 1) -> tuple[int, risk_event_outbox.Backlog]:
    """Publish what the outbox holds (up to `rounds` x PUBLISH_LIMIT events); return how many were
    published and what is left. One round trip when nothing waits, as after most batches."""
    left = risk_event_outbox.backlog(conn)
    published = 0
    for _ in range(rounds):
        if not left.unpublished:
            break
        done = publish_pending(conn, bus_name)
        published += done
        left = risk_event_outbox.backlog(conn)
        if not done:
            break
    return published, left
