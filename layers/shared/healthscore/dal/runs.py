"""`scoring_runs` and `run_tenant_outcomes`: a run and what happened to each of its tenants."""

from __future__ import annotations

from datetime import datetime
from typing import Any
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


START_RUN_SQL = """
INSERT INTO scoring_runs (run_id, job, as_of, started_at) VALUES (%s, %s, %s, now())
ON CONFLICT (run_id) DO UPDATE SET job = EXCLUDED.job, as_of = EXCLUDED.as_of
RETURNING tenant_count, enqueued_at
"""

FINISH_ENQUEUE_SQL = "UPDATE scoring_runs SET tenant_count = %s, enqueued_at = now() WHERE run_id = %s"

NOT_YET_ENQUEUED_SQL = """
SELECT page.id FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS page(id, position)
WHERE NOT EXISTS (SELECT 1 FROM run_enqueued_tenants e WHERE e.run_id = %(run_id)s AND e.organization_id = page.id)
ORDER BY page.position
"""

RECORD_ENQUEUED_SQL = """
INSERT INTO run_enqueued_tenants (run_id, organization_id) SELECT %(run_id)s, unnest(%(ids)s::uuid[])
ON CONFLICT DO NOTHING
"""

PROGRESS_SQL = """
SELECT r.run_id, r.job, r.as_of, r.tenant_count, r.started_at, r.enqueued_at,
       count(*) FILTER (WHERE o.outcome IN ('scored', 'recorded')) AS done,
       count(*) FILTER (WHERE o.outcome = 'skipped') AS skipped,
       count(*) FILTER (WHERE o.outcome = 'failed') AS failed,
       max(o.updated_at) AS last_update
FROM scoring_runs r LEFT JOIN run_tenant_outcomes o ON o.run_id = r.run_id
WHERE r.run_id = %s
GROUP BY r.run_id
"""


def start_run(conn: DbConnection, run_id: str, job: str, as_of: datetime) -> dict[str, Any]:
    """Record the run (again, for a retry); its `tenant_count` and `enqueued_at` so far."""
    row = conn.execute(START_RUN_SQL, (run_id, job, as_of)).fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


def finish_enqueue(conn: DbConnection, run_id: str, tenant_count: int) -> None:
    """The run's tenants are all on the queue: record it, and forget the fan-out's ledger of it."""
    with conn.transaction():
        conn.execute(FINISH_ENQUEUE_SQL, (tenant_count, run_id))
        conn.execute("DELETE FROM run_enqueued_tenants WHERE run_id = %s", (run_id,))


def set_tenant_count(conn: DbConnection, run_id: str, tenant_count: int) -> None:
    """A partly enqueued run: its size for progress, the ledger kept for the re-run."""
    conn.execute("UPDATE scoring_runs SET tenant_count = %s WHERE run_id = %s", (tenant_count, run_id))


def not_yet_enqueued(conn: DbConnection, run_id: str, organization_ids: list[UUID]) -> list[UUID]:
    """The ids of a page that no earlier attempt of the run has put on the queue, in order."""
    rows = conn.execute(NOT_YET_ENQUEUED_SQL, {"ids": organization_ids, "run_id": run_id}).fetchall()
    return [row["id"] for row in rows]


def record_enqueued(conn: DbConnection, run_id: str, organization_ids: list[UUID]) -> None:
    if organization_ids:
        conn.execute(RECORD_ENQUEUED_SQL, {"ids": organization_ids, "run_id": run_id})


def run_progress(conn: DbConnection, run_id: str) -> dict[str, Any] | None:
    """The run with counts of its tenants by outcome (done = scored or recorded)."""
    return conn.execute(PROGRESS_SQL, (run_id,)).fetchone()


# A run's scores with the effective risk: an active override's level where the tenant has one.
RUN_SCORES_SQL = """
SELECT s.*, l.override_risk_level AS override_risk_level,
       CASE WHEN l.override_expires_at > now() THEN l.override_risk_level ELSE s.risk_level END AS effective_risk_level
FROM tenant_health_scores s
LEFT JOIN tenant_latest_scores l ON l.organization_id = s.organization_id AND l.score_date = s.score_date
WHERE s.run_id = %s
"""

RISK_COUNTS_SQL = f"""
SELECT r.effective_risk_level AS risk_level, r.trend, count(*) AS tenants,
       count(*) FILTER (WHERE r.effective_risk_level <> r.risk_level) AS overridden
FROM ({RUN_SCORES_SQL}) r
GROUP BY r.effective_risk_level, r.trend
"""  # noqa: S608 - a constant subquery

RISKIEST_SQL = f"""
SELECT o.name, r.overall_score, r.previous_score, r.trend, r.effective_risk_level, r.risk_level,
       r.login_score, r.case_resolution_score, r.campaign_completion_score,
       r.feature_adoption_score, r.support_ticket_score
FROM ({RUN_SCORES_SQL}) r JOIN organizations o ON o.id = r.organization_id
ORDER BY CASE r.effective_risk_level WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END, r.overall_score, o.name
LIMIT %s
"""  # noqa: S608 - a constant subquery


def risk_counts(conn: DbConnection, run_id: str) -> list[dict[str, Any]]:
    """How many of a run's tenants landed in each effective risk level and trend (and how many by override)."""
    return conn.execute(RISK_COUNTS_SQL, (run_id,)).fetchall()


def riskiest_scores(conn: DbConnection, run_id: str, limit: int) -> list[dict[str, Any]]:
    """A run's scores, highest effective risk and lowest score first (`risk_level`: the formula's)."""
    return conn.execute(RISKIEST_SQL, (run_id, limit)).fetchall()
