"""`risk_event_outbox`: HealthRiskChanged events written with the change they announce, until published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from healthscore.dal.connection import DbConnection

# A CTE of the scoring batch's statement (dal/score_writes.py): the batch's risk changes, given as
# parameters, then the lapses the statement itself found (`lapsed`, `latest`, `written`), whose detail
# is the one logic/risk_events.py's override_change_detail builds for a lapse (no override left).
INSERT_FROM_BATCH_SQL = """
INSERT INTO risk_event_outbox (organization_id, detail)
SELECT organization_id, detail FROM (
    SELECT e.organization_id, e.detail, 0 AS part, e.ord
    FROM unnest(%(event_organization_id)s::uuid[], %(event_detail)s::jsonb[])
        WITH ORDINALITY AS e(organization_id, detail, ord)
    UNION ALL
    SELECT latest.organization_id, jsonb_build_object(
        'organizationId', latest.organization_id, 'scoreDate', w.score_date,
        'previousRiskLevel', lapsed.override_risk_level, 'riskLevel', latest.effective_risk_level,
        'computedRiskLevel', w.risk_level, 'overallScore', w.overall_score, 'override', NULL, 'source', 'override'
    ), 1, 0
    FROM latest JOIN lapsed ON lapsed.organization_id = latest.organization_id
    JOIN written w ON w.organization_id = latest.organization_id
    WHERE %(announce_lapses)s AND lapsed.override_risk_level IS DISTINCT FROM latest.effective_risk_level
) events
ORDER BY part, ord
RETURNING position
"""

INSERT_SQL = "INSERT INTO risk_event_outbox (organization_id, detail) VALUES (%(id)s, %(detail)s)"

# One publisher at a time, so that a tenant's events reach the bus in the order they were written.
PUBLISHER_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtextextended('risk_event_outbox:publisher', 0)) AS held"

UNPUBLISHED_SQL = """
SELECT position, event_id, detail FROM risk_event_outbox
WHERE published_at IS NULL ORDER BY position LIMIT %(limit)s
"""

MARK_PUBLISHED_SQL = "UPDATE risk_event_outbox SET published_at = now() WHERE position = ANY(%(positions)s)"

BACKLOG_SQL = """
SELECT count(*) AS unpublished, extract(epoch FROM now() - min(created_at)) AS oldest_age_seconds
FROM risk_event_outbox WHERE published_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class Backlog:
    unpublished: int
    oldest_age_seconds: float  # 0 when nothing waits


def batch_params(events: Sequence[tuple[UUID, dict[str, Any]]], *, announce_lapses: bool) -> dict[str, Any]:
    """The parameters of INSERT_FROM_BATCH_SQL: `(organization_id, detail)` in the order to publish them."""
    return {
        "event_organization_id": [organization_id for organization_id, _ in events],
        "event_detail": [Jsonb(detail) for _, detail in events],
        "announce_lapses": announce_lapses,
    }


def insert_event(conn: DbConnection, organization_id: UUID, detail: dict[str, Any]) -> None:
    conn.execute(INSERT_SQL, {"id": organization_id, "detail": Jsonb(detail)})


def try_lock_publisher(conn: DbConnection) -> bool:
    """Whether this transaction is the publisher (another one publishing: False at once)."""
    row = conn.execute(PUBLISHER_LOCK_SQL).fetchone()
    return bool(row and row["held"])


def unpublished(conn: DbConnection, limit: int) -> list[dict[str, Any]]:
    return conn.execute(UNPUBLISHED_SQL, {"limit": limit}).fetchall()


def mark_published(conn: DbConnection, positions: list[int]) -> None:
    if positions:
        conn.execute(MARK_PUBLISHED_SQL, {"positions": positions})


def backlog(conn: DbConnection) -> Backlog:
    row = conn.execute(BACKLOG_SQL).fetchone()
    assert row is not None  # an aggregate returns a row
    return Backlog(int(row["unpublished"]), float(row["oldest_age_seconds"] or 0))
