"""`tenant_daily_inputs`: each tenant's login and feature inputs as record-metrics read them on their day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from healthscore.dal.connection import DbConnection

# One statement for the whole set. A row already there stays: it was read on its day, and a
# re-record reads it back anyway (dal/usage.py), so re-recording is idempotent.
INSERT_SQL = """
INSERT INTO tenant_daily_inputs
    (organization_id, input_date, total_users, active_users, features_enabled, features_used, as_of, run_id,
     recorded_at)
SELECT r.organization_id, r.input_date, r.total_users, r.active_users, r.features_enabled, r.features_used,
       r.as_of, r.run_id, coalesce(r.recorded_at, now())
FROM unnest(%(organization_id)s::uuid[], %(input_date)s::date[], %(total_users)s::int[], %(active_users)s::int[],
            %(features_enabled)s::int[], %(features_used)s::int[], %(as_of)s::timestamptz[], %(run_id)s::text[],
            %(recorded_at)s::timestamptz[])
     AS r (organization_id, input_date, total_users, active_users, features_enabled, features_used, as_of, run_id,
           recorded_at)
ON CONFLICT (organization_id, input_date) DO NOTHING
"""


@dataclass(frozen=True)
class DailyInputs:
    organization_id: UUID
    input_date: date
    total_users: int
    active_users: int
    features_enabled: int
    features_used: int
    as_of: datetime
    run_id: str
    recorded_at: datetime | None = None  # None: the database's now()


def insert_daily_inputs(conn: DbConnection, rows: list[DailyInputs]) -> None:
    """Keep the rows of tenants and days that have none yet."""
    if not rows:
        return
    columns = DailyInputs.__dataclass_fields__
    conn.execute(INSERT_SQL, {name: [getattr(row, name) for row in rows] for name in columns})


# Per (tenant, day) the score's primary key answers whether it was scored. Tenants the scorer
# would skip (no users, no longer ACTIVE) are left out, or their days would never be done.
UNSCORED_DAYS_SQL = """
SELECT d.input_date, min(d.as_of) AS as_of, array_agg(d.organization_id ORDER BY d.organization_id) AS ids
FROM tenant_daily_inputs d
JOIN organizations o ON o.id = d.organization_id AND o.status = 'ACTIVE'
WHERE d.input_date < %(before)s AND d.total_users > 0
  AND NOT EXISTS (
      SELECT 1 FROM tenant_health_scores s WHERE s.organization_id = d.organization_id AND s.score_date = d.input_date
  )
GROUP BY d.input_date
ORDER BY d.input_date
"""


@dataclass(frozen=True)
class UnscoredDay:
    input_date: date
    as_of: datetime  # the day's recorded as_of (the earliest, if tenants were recorded at different times)
    organization_ids: list[UUID]


def unscored_days(conn: DbConnection, before: date) -> list[UnscoredDay]:
    """The recorded days before `before`, oldest first, with the scorable tenants that have no score that day."""
    rows = conn.execute(UNSCORED_DAYS_SQL, {"before": before}).fetchall()
    return [UnscoredDay(row["input_date"], row["as_of"], row["ids"]) for row in rows]
