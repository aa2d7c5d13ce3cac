"""`scoring_runs` and `run_tenant_outcomes`: a run and what happened to each of its tenants."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from healthscore.dal.connection import DbConnection

# One statement for a batch's outcomes (binary arrays: no per-row statement, no text escaping). Its
# parameters are named for the scorer's batch statement (dal/score_writes.py), which embeds it.
UPSERT_OUTCOME_SQL = """
INSERT INTO run_tenant_outcomes (run_id, organization_id, outcome, reason, updated_at)
SELECT r.run_id, r.organization_id, r.outcome, r.reason, now()
FROM unnest(%(outcome_run_ids)b::text[], %(outcome_organization_ids)b::uuid[], %(outcomes)b::text[],
            %(outcome_reasons)b::text[]) AS r (run_id, organization_id, outcome, reason)
ON CONFLICT (run_id, organization_id) DO UPDATE
SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, updated_at = now()
"""


def outcome_params(outcomes: Iterable[tuple[str, UUID, str, str | None]]) -> dict[str, list[Any]]:
    """UPSERT_OUTCOME_SQL's parameters: one row per (run, tenant), the last attempt's (a statement may not
    upsert a row twice)."""
    latest = {(run_id, org_id): (run_id, org_id, outcome, reason) for run_id, org_id, outcome, reason in outcomes}
    names = ("outcome_run_ids", "outcome_organization_ids", "outcomes", "outcome_reasons")
    return {name: [row[i] for row in latest.values()] for i, name in enumerate(names)}


def record_outcomes(conn: DbConnection, outcomes: list[tuple[str, UUID, str, str | None]]) -> None:
    """Upsert (run_id, organization_id, outcome, reason) rows; the latest attempt wins."""
    if outcomes:
        conn.execute(UPSERT_OUTCOME_SQL, outcome_params(outcomes))


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


# One tenant's recalculation is a run of its own (so GET /runs follows it), not a fleet run.
RECALCULATION_RUN_PREFIX = "recalc-"

LOCK_JOB_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"

# In progress: not every enqueued tenant has an outcome yet (or the fan-out has not finished
# enqueuing), and started less than `hours` ago (database clock), so that a run that died does not
# count forever.
RUN_IN_PROGRESS_SQL = """
SELECT r.run_id
FROM scoring_runs r
WHERE r.job = %(job)s
  AND r.started_at > now() - make_interval(hours => %(hours)s)
  AND left(r.run_id, length(%(recalculation)s)) <> %(recalculation)s
  AND left(r.run_id, length(%(prefix)s)) = %(prefix)s
  AND (r.tenant_count IS NULL
       OR r.tenant_count > (SELECT count(*) FROM run_tenant_outcomes o WHERE o.run_id = r.run_id))
ORDER BY r.started_at DESC
LIMIT 1
"""

FORGET_RUN_SQL = "DELETE FROM scoring_runs r WHERE r.run_id = %s AND r.enqueued_at IS NULL"


def lock_job(conn: DbConnection, job: str) -> None:
    """Hold the job's lock until the current transaction ends: one starter of that job at a time."""
    conn.execute(LOCK_JOB_SQL, (f"scoring_runs:{job}",))


def run_in_progress(conn: DbConnection, job: str, hours: int, prefix: str = "") -> str | None:
    """The id of the latest fleet run of `job` (whose id starts with `prefix`) started less than `hours` ago
    and still in progress, if any."""
    params = {"job": job, "hours": hours, "recalculation": RECALCULATION_RUN_PREFIX, "prefix": prefix}
    row = conn.execute(RUN_IN_PROGRESS_SQL, params).fetchone()
    return None if row is None else str(row["run_id"])


def forget_run(conn: DbConnection, run_id: str) -> None:
    """Delete a run nothing was enqueued for (its fan-out could not be started)."""
    conn.execute(FORGET_RUN_SQL, (run_id,))


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


SKIP_REASONS_SQL = """
SELECT coalesce(reason, 'no reason recorded') AS reason, count(*) AS tenants
FROM run_tenant_outcomes WHERE run_id = %s AND outcome = 'skipped'
GROUP BY 1 ORDER BY 2 DESC, 1
"""


def skip_reasons(conn: DbConnection, run_id: str) -> list[dict[str, Any]]:
    """Why a run's skipped tenants were skipped: each reason and how many, most frequent first."""
    return conn.execute(SKIP_REASONS_SQL, (run_id,)).fetchall()


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


# A run's scores next to each tenant's previous score's risk (a backward scan of the primary key).
MOVERS_SQL = """
SELECT o.name, s.overall_score, s.previous_score, s.trend, s.risk_level, p.risk_level AS previous_risk_level,
       count(*) FILTER (WHERE s.risk_level = 'HIGH' AND p.risk_level <> 'HIGH') OVER () AS newly_high
FROM tenant_health_scores s
JOIN organizations o ON o.id = s.organization_id
CROSS JOIN LATERAL (
    SELECT t.risk_level FROM tenant_health_scores t
    WHERE t.organization_id = s.organization_id AND t.score_date < s.score_date
    ORDER BY t.score_date DESC
    LIMIT 1
) p
WHERE s.run_id = %s
ORDER BY s.risk_level = 'HIGH' AND p.risk_level <> 'HIGH' DESC, abs(s.overall_score - s.previous_score) DESC, o.name
LIMIT %s
"""


def biggest_movers(conn: DbConnection, run_id: str, limit: int) -> list[dict[str, Any]]:
    """A run's scores that had a previous one: newly HIGH first, then by how far they moved.

    Each row carries `newly_high`, how many of the run's tenants became HIGH.
    """
    return conn.execute(MOVERS_SQL, (run_id, limit)).fetchall()
