"""Reads of the source tables: one tenant set's usage inputs in one set-based query.

Each lateral subquery is an index range scan on (organization_id, <window column>)
of its table; see migration 0001.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from healthscore.core.scoring import UsageInputs
from healthscore.dal.connection import DbConnection

WINDOW = timedelta(days=30)

USAGE_INPUTS_SQL = """
SELECT o.id, o.name, o.status, o.tracks_support_tickets, o.created_at,
       u.total_users, u.active_users,
       c.cases_closed, c.cases_on_time,
       cp.campaigns_completed, cp.completed_assignments, cp.total_assignments,
       f.features_enabled, f.features_used,
       t.ticket_count
FROM organizations o
CROSS JOIN LATERAL (
    SELECT count(*) AS total_users,
           count(*) FILTER (WHERE last_login_at BETWEEN %(since)s AND %(as_of)s) AS active_users
    FROM users WHERE organization_id = o.id
) u
CROSS JOIN LATERAL (
    SELECT count(*) AS cases_closed,
           count(*) FILTER (WHERE sla_breach_at IS NULL OR closed_at <= sla_breach_at) AS cases_on_time
    FROM cases WHERE organization_id = o.id AND closed_at BETWEEN %(since)s AND %(as_of)s
) c
CROSS JOIN LATERAL (
    SELECT count(*) AS campaigns_completed,
           array_agg(completed_assignments ORDER BY id) FILTER (WHERE total_assignments > 0) AS completed_assignments,
           array_agg(total_assignments ORDER BY id) FILTER (WHERE total_assignments > 0) AS total_assignments
    FROM campaigns WHERE organization_id = o.id AND completed_at BETWEEN %(since)s AND %(as_of)s
) cp
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE enabled) AS features_enabled,
           count(*) FILTER (WHERE enabled AND is_used) AS features_used
    FROM organization_features WHERE organization_id = o.id
) f
CROSS JOIN LATERAL (
    SELECT count(*) AS ticket_count
    FROM support_tickets
    WHERE o.tracks_support_tickets AND organization_id = o.id AND created_at BETWEEN %(since)s AND %(as_of)s
) t
WHERE o.id = ANY(%(ids)s)
"""


@dataclass(frozen=True)
class TenantUsage:
    organization_id: UUID
    name: str
    status: str
    inputs: UsageInputs
    created_at: datetime | None = None  # the organization's: profile segments ask for its age


def window_start(as_of: datetime) -> datetime:
    return as_of - WINDOW


def fetch_usage(conn: DbConnection, organization_ids: list[UUID], as_of: datetime) -> dict[UUID, TenantUsage]:
    """Usage inputs over `[as_of - 30 days, as_of]` of the given tenants that exist."""
    rows = conn.execute(
        USAGE_INPUTS_SQL, {"ids": organization_ids, "since": window_start(as_of), "as_of": as_of}
    ).fetchall()
    return {row["id"]: _tenant_usage(row) for row in rows}


def _tenant_usage(row: dict[str, Any]) -> TenantUsage:
    return TenantUsage(row["id"], row["name"], row["status"], usage_inputs(row), row["created_at"])


def usage_inputs(row: dict[str, Any]) -> UsageInputs:
    """A row of USAGE_INPUTS_SQL's input columns (or of a stored inputs document read out the same way)."""
    tracked = row["tracks_support_tickets"]
    return UsageInputs(
        total_users=row["total_users"],
        active_users=row["active_users"],
        cases_closed=row["cases_closed"],
        cases_on_time=row["cases_on_time"],
        campaigns_completed=row["campaigns_completed"],
        campaign_assignments=tuple(
            zip(row["completed_assignments"] or (), row["total_assignments"] or (), strict=True)
        ),
        features_enabled=row["features_enabled"],
        features_used=row["features_used"],
        tracks_support_tickets=tracked,
        ticket_count=row["ticket_count"] if tracked else None,
    )
