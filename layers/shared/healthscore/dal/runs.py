"""`scoring_runs` and `run_tenant_outcomes`: a run and what happened to each of its tenants."""

from __future__ import annotations

from uuid import UUID

from healthscore.dal.connection import DbConnection

UPSERT_OUTCOME_SQL = """
INSERT INTO run_tenant_outcomes (run_id, organization_id, outcome, reason, updated_at)
VALUES (%s, %s, %s, %s, now())
ON CONFLICT (run_id, organization_id) DO UPDATE
SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, updated_at = now()
"""


def record_outcomes(conn: DbConnection, outcomes: list[tuple[str, UUID, str, str | None]]) -> None:
    """Upsert (run_id, organization_id, outcome, reason) rows; the latest attempt wins."""
    if outcomes:
        with conn.cursor() as cur:
            cur.executemany(UPSERT_OUTCOME_SQL, outcomes)
