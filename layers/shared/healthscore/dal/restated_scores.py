"""`tenant_restated_scores`: stored days re-scored under one profile version, beside the as-computed scores.

One statement restates a range of tenants over a range of days: each stored day's integer components
combined under the version (dal/profile_preview.py's exact `weighted_overall_sql`), the trend against
the restated day before (the last stored day before the range, restated likewise, for its first day),
so a restated day is what the scorer stores for that day when the version is the active one. The rows
replace any earlier restatement of those days, and the tenants' run outcomes are recorded with them:
a redelivered message writes the same rows again.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from healthscore.core.profiles import ScoringProfile
from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.dal.profile_preview import JUDGED_SQL, thresholds, weighted_overall_sql

RESTATE_SQL = sql.SQL("""
WITH restated AS (
    SELECT t.organization_id, t.score_date, {overall} AS score_to
    FROM tenant_health_scores t
    WHERE t.organization_id = ANY(%(ids)s::uuid[]) AND t.score_date BETWEEN %(first_day)s AND %(last_day)s
    UNION ALL
    SELECT t.organization_id, t.score_date, {overall}
    FROM unnest(%(ids)s::uuid[]) AS k (id)
    CROSS JOIN LATERAL (
        SELECT * FROM tenant_health_scores b
        WHERE b.organization_id = k.id AND b.score_date < %(first_day)s ORDER BY b.score_date DESC LIMIT 1
    ) t
),
written AS (
    INSERT INTO tenant_restated_scores AS r (organization_id, score_date, overall_score, previous_score, trend,
        risk_level, profile_id, profile_version, run_id, restated_at)
    SELECT j.organization_id, j.score_date, j.score_to, j.previous_to, j.trend_to, j.risk_to, %(profile_id)s,
           %(profile_version)s, %(run_id)s, now()
    FROM ({judged}) j
    WHERE j.score_date >= %(first_day)s AND j.score_to IS NOT NULL
    ON CONFLICT (organization_id, score_date) DO UPDATE SET
        overall_score = EXCLUDED.overall_score, previous_score = EXCLUDED.previous_score, trend = EXCLUDED.trend,
        risk_level = EXCLUDED.risk_level, profile_id = EXCLUDED.profile_id,
        profile_version = EXCLUDED.profile_version, run_id = EXCLUDED.run_id, restated_at = EXCLUDED.restated_at
    RETURNING 1
),
outcomes AS ({outcomes})
SELECT count(*) AS restated FROM written
""")

SERIES_SQL = sql.SQL(
    "SELECT r.*, lag(r.score_to) OVER (PARTITION BY r.organization_id ORDER BY r.score_date) AS previous_to"
    " FROM restated r"
)


def restate(
    conn: DbConnection, run_id: str, profile: ScoringProfile, ids: list[UUID], first_day: date, last_day: date
) -> int:
    """Restate the tenants' stored days from `first_day` to `last_day` under `profile`; how many days were."""
    overall, params = weighted_overall_sql("t", profile, "w_")
    query = RESTATE_SQL.format(
        overall=overall,
        judged=JUDGED_SQL.format(scored=SERIES_SQL),
        outcomes=sql.SQL(runs.UPSERT_OUTCOME_SQL),
    )
    outcomes = runs.outcome_params([(run_id, org, "scored", None) for org in ids])
    params |= thresholds(profile) | outcomes
    params |= {"ids": ids, "first_day": first_day, "last_day": last_day, "run_id": run_id}
    params |= {"profile_id": profile.profile_id, "profile_version": profile.version}
    row = conn.execute(query, params).fetchone()
    return int(row["restated"]) if row else 0


HISTORY_SQL = """
SELECT s.score_date, coalesce(r.overall_score, s.overall_score) AS overall_score,
       coalesce(r.trend, s.trend) AS trend, coalesce(r.risk_level, s.risk_level) AS risk_level,
       CASE WHEN r.organization_id IS NULL THEN 'computed' ELSE 'restated' END AS basis,
       coalesce(r.profile_id, s.profile_id) AS profile_id, coalesce(r.profile_version, s.profile_version)
           AS profile_version
FROM tenant_health_scores s
LEFT JOIN tenant_restated_scores r
    ON %(restated)s AND r.organization_id = s.organization_id AND r.score_date = s.score_date
WHERE s.organization_id = %(id)s AND s.score_date > %(until)s - %(days)s::int
ORDER BY s.score_date
"""


def score_history(
    conn: DbConnection, organization_id: UUID, days: int, until: date, *, restated: bool
) -> list[dict[str, Any]]:
    """Scores of the `days` days ending at `until`, oldest first: each day's restated point where one exists
    (when `restated`), else the as-computed one, with its basis, profile and version."""
    params = {"id": organization_id, "days": days, "until": until, "restated": restated}
    return conn.execute(HISTORY_SQL, params).fetchall()
