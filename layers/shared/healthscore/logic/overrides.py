"""Use case: set and clear a tenant's manual risk override, and announce what that changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from aws_lambda_powertools import Logger

from healthscore.core.overrides import checked_expiry, checked_reason, is_active
from healthscore.dal import latest_scores, overrides, risk_event_outbox, scores
from healthscore.dal.connection import DbConnection
from healthscore.logic.risk_events import override_change_detail, publish_outbox

logger = Logger(child=True)


@dataclass(frozen=True)
class NewOverride:
    risk_level: str
    reason: str
    expires_at: datetime  # a time without a zone is UTC


class NoActiveOverrideError(LookupError):
    """The tenant has no override that applies now."""


def active_override(conn: DbConnection, organization_id: UUID, now: datetime) -> dict[str, Any] | None:
    """The tenant's override that applies at `now`, if any."""
    row = overrides.newest_uncleared(conn, organization_id)
    return row if row is not None and is_active(row["expires_at"], now) else None


def set_override(
    conn: DbConnection,
    organization_id: UUID,
    new: NewOverride,
    *,
    set_by: str,
    now: datetime,
    bus_name: str | None,
) -> dict[str, Any]:
    """Record the override (replacing the active one, cleared by `set_by`); return it as stored.

    The tenant must exist (the caller checks). Raises OverrideRuleError for a bad reason or expiry.
    """
    reason, expires_at = checked_reason(new.reason), checked_expiry(new.expires_at, now)
    with conn.transaction():
        overrides.lock_tenant(conn, organization_id)
        replaced = active_override(conn, organization_id, now)
        if replaced is not None:
            overrides.clear_override(conn, replaced["override_id"], set_by, now)
        row = overrides.insert_override(
            conn,
            organization_id,
            risk_level=new.risk_level,
            reason=reason,
            set_by=set_by,
            set_at=now,
            expires_at=expires_at,
        )
        latest_scores.refresh_override(conn, organization_id, now)
        _announce(conn, organization_id, replaced, row, bus_name)
    _publish(conn, bus_name)
    return row


def clear_override(
    conn: DbConnection, organization_id: UUID, *, cleared_by: str, now: datetime, bus_name: str | None
) -> None:
    """Clear the tenant's active override; NoActiveOverrideError when none applies."""
    with conn.transaction():
        overrides.lock_tenant(conn, organization_id)
        active = active_override(conn, organization_id, now)
        if active is None:
            raise NoActiveOverrideError(f"Organization {organization_id} has no active override")
        overrides.clear_override(conn, active["override_id"], cleared_by, now)
        latest_scores.refresh_override(conn, organization_id, now)
        _announce(conn, organization_id, active, None, bus_name)
    _publish(conn, bus_name)


def _announce(
    conn: DbConnection,
    organization_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    bus_name: str | None,
) -> None:
    """HealthRiskChanged (source "override") into the outbox, in the override's transaction, when the
    effective risk moved; a tenant without a score has none."""
    if not bus_name:
        return
    score = scores.latest_score(conn, organization_id)
    if score is None:
        return
    previous = before["risk_level"] if before else score["risk_level"]
    current = after["risk_level"] if after else score["risk_level"]
    detail = override_change_detail(organization_id, previous, current, score, after)
    if detail is not None:
        risk_event_outbox.insert_event(conn, organization_id, detail)


def _publish(conn: DbConnection, bus_name: str | None) -> None:
    """After the commit: the outbox's events, this one and any left before (failures are logged, never raised)."""
    if not bus_name:
        return
    try:
        publish_outbox(conn, bus_name)
    except psycopg.Error as exc:  # the override and its event are stored: the next batch or the sweep publishes
        logger.warning("risk-change event not published now; the outbox keeps it", extra={"error": str(exc)})
