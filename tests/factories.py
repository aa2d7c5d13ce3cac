"""Small insertion helpers for hand-built tenants: one function per source table.

Every helper takes explicit values (ids, timestamps) so a test reads as the data it
builds; ids default to fresh uuid4s. Timestamps should be timezone-aware (UTC).
Import with `from factories import ...` (pytest puts `tests/` on sys.path).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID, uuid4

from healthscore.core.weights import HEALTH_WEIGHTS
from healthscore.dal import score_writes
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import PREVIOUS_PROFILE_COLUMNS

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_sequence = itertools.count(1)


def add_org(
    conn: DbConnection,
    *,
    org_id: UUID | None = None,
    name: str | None = None,
    status: str = "ACTIVE",
    tracks_support_tickets: bool = True,
    created_at: datetime = EPOCH,
) -> UUID:
    """One row of `organizations`; returns its id."""
    org_id = org_id or uuid4()
    conn.execute(
        "INSERT INTO organizations (id, name, status, tracks_support_tickets, created_at) VALUES (%s, %s, %s, %s, %s)",
        (org_id, name or f"Org {next(_sequence)}", status, tracks_support_tickets, created_at),
    )
    return org_id


def add_users(conn: DbConnection, org_id: UUID, logins: Iterable[datetime | None]) -> list[UUID]:
    """One user per entry of `logins` (its `last_login_at`; None: never logged in)."""
    rows = [(uuid4(), org_id, f"user{next(_sequence)}@example.com", login) for login in logins]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO users (id, organization_id, email, last_login_at) VALUES (%s, %s, %s, %s)", rows)
    return [row[0] for row in rows]


def add_case(
    conn: DbConnection,
    org_id: UUID,
    *,
    closed_at: datetime | None,
    sla_breach_at: datetime | None = None,
    created_at: datetime = EPOCH,
    case_id: UUID | None = None,
) -> UUID:
    """One row of `cases` (closed_at None: still open; sla_breach_at None: no SLA)."""
    case_id = case_id or uuid4()
    conn.execute(
        "INSERT INTO cases (id, organization_id, created_at, closed_at, sla_breach_at) VALUES (%s, %s, %s, %s, %s)",
        (case_id, org_id, created_at, closed_at, sla_breach_at),
    )
    return case_id


def add_campaign(
    conn: DbConnection,
    org_id: UUID,
    *,
    completed_at: datetime | None,
    total_assignments: int,
    completed_assignments: int,
    campaign_id: UUID | None = None,
) -> UUID:
    """One row of `campaigns` (completed_at None: not completed)."""
    campaign_id = campaign_id or uuid4()
    conn.execute(
        "INSERT INTO campaigns (id, organization_id, completed_at, total_assignments, completed_assignments)"
        " VALUES (%s, %s, %s, %s, %s)",
        (campaign_id, org_id, completed_at, total_assignments, completed_assignments),
    )
    return campaign_id


def add_feature(
    conn: DbConnection,
    org_id: UUID,
    feature_key: str,
    *,
    enabled: bool,
    is_used: bool,
    last_used_at: datetime | None = None,
) -> None:
    """One row of `organization_features`."""
    conn.execute(
        "INSERT INTO organization_features (organization_id, feature_key, enabled, is_used, last_used_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (org_id, feature_key, enabled, is_used, last_used_at),
    )


def add_tickets(conn: DbConnection, org_id: UUID, created: Iterable[datetime]) -> list[UUID]:
    """One support ticket per entry of `created` (its `created_at`)."""
    rows = [(uuid4(), org_id, created_at) for created_at in created]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO support_tickets (id, organization_id, created_at) VALUES (%s, %s, %s)", rows)
    return [row[0] for row in rows]


# The default profile with login 0.30 -> 0.15 and feature adoption 0.15 -> 0.30: a PUT body.
DEFAULT_REWEIGHTED: Final = {
    "priority": 1000,
    "weights": {
        "login": "0.15",
        "caseResolution": "0.25",
        "campaignCompletion": "0.20",
        "featureAdoption": "0.30",
        "supportTickets": "0.10",
    },
}


def add_score(
    conn: DbConnection,
    org_id: UUID,
    score_date: date,
    overall_score: int,
    *,
    trend: str = "STABLE",
    risk_level: str = "LOW",
    run_id: str = "factory-run",
    components: Mapping[str, int | None] | None = None,
    explanation: Mapping[str, Any] | None = None,
) -> None:
    """A stored score of an earlier run in `tenant_health_scores` (e.g. yesterday's, for the trend).

    The tenant's latest row follows when `score_date` is its newest day, as with the scorer's writes.
    """
    columns = {
        "login_score": None,
        "case_resolution_score": None,
        "campaign_completion_score": None,
        "feature_adoption_score": None,
        "support_ticket_score": overall_score,
        **(components or {}),
    }
    row = {
        "organization_id": org_id,
        "score_date": score_date,
        "overall_score": overall_score,
        **columns,
        "previous_score": None,
        "trend": trend,
        "risk_level": risk_level,
        "run_id": run_id,
        "as_of": datetime.combine(score_date, datetime.min.time(), tzinfo=UTC),
        "weights": {name: str(value) for name, value in HEALTH_WEIGHTS.of().items()},
        "inputs": {},
        "explanation": dict(explanation or {"contributions": {}, "missingComponents": []}),
        "profile_id": "default",
        "profile_version": 1,
        **dict.fromkeys(PREVIOUS_PROFILE_COLUMNS),
    }
    score_writes.write_scores(conn, [row])  # the scorer's write: the latest row follows
