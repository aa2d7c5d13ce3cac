"""Reads of the source tables: one tenant set's usage inputs in one set-based query.

Each lateral subquery is an index range scan on (organization_id, <window column>)
of its table; see migration 0001. Login and feature adoption come from the day's row of
`tenant_daily_inputs` when record-metrics kept one (users.last_login_at and the feature
flags hold only their current value); only without it are users and features read live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from healthscore.core.scoring import UsageInputs
from healthscore.dal.connection import DbConnection

WINDOW = timedelta(days=30)

USAGE_INPUTS_SQL = """
SELECT o.id, o.name, o.status, o.tracks_support_tickets, o.created_at,
       coalesce(d.total_users, u.total_users) AS total_users,
       coalesce(d.active_users, u.active_users) AS active_users,
       u.unknown_users,
       c.cases_closed, c.cases_on_time,
       cp.campaigns_completed, cp.completed_assignments, cp.total_assignments,
       coalesce(d.features_enabled, f.features_enabled) AS features_enabled,
       coalesce(d.features_used, f.features_used) AS features_used,
       t.ticket_count,
       d.as_of AS recorded_as_of
FROM organizations o
LEFT JOIN tenant_daily_inputs d ON d.organization_id = o.id AND d.input_date = %(as_of_date)s
CROSS JOIN LATERAL (
    -- Not read at all when the day was recorded.
    SELECT count(*) AS total_users,
           count(*) FILTER (WHERE last_login_at BETWEEN %(since)s AND %(as_of)s) AS active_users,
           -- Logged in since as_of: whether they also did within the window is no longer known.
           count(*) FILTER (WHERE last_login_at > %(as_of)s) AS unknown_users
    FROM users WHERE organization_id = o.id AND d.organization_id IS NULL
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
    FROM organization_features WHERE organization_id = o.id AND d.organization_id IS NULL
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
    # Where login and feature adoption came from: the as_of of the day's recorded inputs,
    # or None when they were read live; then `unknown_users` logged in after as_of.
    recorded_as_of: datetime | None = None
    unknown_users: int = 0


def window_start(as_of: datetime) -> datetime:
    return as_of - WINDOW


def utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def fetch_usage(conn: DbConnection, organization_ids: list[UUID], as_of: datetime) -> dict[UUID, TenantUsage]:
    """Usage inputs over `[as_of - 30 days, as_of]` of the given tenants that exist.

    Login and feature adoption are those recorded for as_of's UTC date when there are any.
    """
    rows = conn.execute(USAGE_INPUTS_SQL, usage_params(organization_ids, as_of)).fetchall()
    return {row["id"]: tenant_usage(row) for row in rows}


def usage_params(organization_ids: list[UUID], as_of: datetime) -> dict[str, Any]:
    return {"ids": organization_ids, "since": window_start(as_of), "as_of": as_of, "as_of_date": utc_date(as_of)}


def tenant_usage(row: dict[str, Any]) -> TenantUsage:
    return TenantUsage(
        row["id"],
        row["name"],
        row["status"],
        usage_inputs(row),
        row["created_at"],
        row["recorded_as_of"],
        row["unknown_users"],
    )


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
