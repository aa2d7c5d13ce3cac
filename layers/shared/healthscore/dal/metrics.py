"""`usage_metrics`: one row per tenant, metric type and day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from healthscore.dal.connection import DbConnection

PREVIOUS_VALUES_SQL = """
SELECT DISTINCT ON (organization_id, metric_type) organization_id, metric_type, value
FROM usage_metrics
WHERE organization_id = ANY(%(ids)s) AND metric_date < %(metric_date)s
ORDER BY organization_id, metric_type, metric_date DESC
"""

UPSERT_SQL = """
INSERT INTO usage_metrics
    (organization_id, metric_type, metric_date, value, previous_value, change_pct, run_id, recorded_at)
VALUES (%(organization_id)s, %(metric_type)s, %(metric_date)s, %(value)s, %(previous_value)s, %(change_pct)s,
        %(run_id)s, now())
ON CONFLICT (organization_id, metric_type, metric_date) DO UPDATE SET
    value = EXCLUDED.value, previous_value = EXCLUDED.previous_value, change_pct = EXCLUDED.change_pct,
    run_id = EXCLUDED.run_id, recorded_at = now()
"""

HISTORY_SQL = """
SELECT metric_date, value, previous_value, change_pct
FROM usage_metrics
WHERE organization_id = %(id)s AND metric_type = %(metric_type)s AND metric_date > %(until)s - %(days)s::int
ORDER BY metric_date
"""


def previous_values(conn: DbConnection, ids: list[UUID], metric_date: date) -> dict[tuple[UUID, str], Decimal]:
    """Each tenant's and metric's value of the latest day before `metric_date`."""
    rows = conn.execute(PREVIOUS_VALUES_SQL, {"ids": ids, "metric_date": metric_date}).fetchall()
    return {(row["organization_id"], row["metric_type"]): row["value"] for row in rows}


def upsert_metrics(conn: DbConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        with conn.cursor() as cur:
            cur.executemany(UPSERT_SQL, rows)


def metric_history(
    conn: DbConnection, organization_id: UUID, metric_type: str, days: int, until: date
) -> list[dict[str, Any]]:
    """One metric of one tenant over the `days` days ending at `until`, oldest first."""
    params = {"id": organization_id, "metric_type": metric_type, "days": days, "until": until}
    return conn.execute(HISTORY_SQL, params).fetchall()
