"""The floor: every tenant's scores from one set-based SQL statement, in exact integer/numeric arithmetic.

What the database alone needs to compute the same scores as the scorer, with no Python
per tenant and no round trip per batch: the lower bound the scorer is compared with. It scores
with one profile (the bench's `default`), under the scorer's rules: the previous score (the latest
of an earlier day) restated under that profile version, which the trend compares with, and the risk
from score and trend (core/scoring.py). The overall, the restated previous score, the trend and the
risk are the what-if preview's SQL (dal/profile_preview.py: `weighted_overall_sql`, `JUDGED_SQL`).
Each `round(x)` of docs/scoring.md (half up) is `floor(x + 1/2)`, written as an integer
division `div(2p + q, 2q)` of the exact fraction p/q, so no division is ever rounded:
- login: min(100, round(active / total / 0.7 * 100)) = div(2000 active + 7 total, 14 total)
- campaigns: the average of completed/total is folded into one fraction by a recursive CTE
  (numeric multiplication and addition are exact), then rounded by the same division;
- overall: sum(score x weight unit) / sum(weight unit) over the profile's integer weight units, rounded
  likewise;
- the previous score restated: its stored overall under the same profile version, else its stored
  components weighed likewise (as `PreviousScore.restated` does).
Then the scores, the restated previous, trend and risk are checked equal, tenant by tenant, to the
rows the scorer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from healthscore.core.profiles import ScoringProfile
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import SCORE_NUMBER_COLUMNS
from healthscore.dal.profile_preview import JUDGED_SQL, thresholds, weighted_overall_sql
from healthscore.dal.usage import window_start

FLOOR_SQL = sql.SQL("""
WITH RECURSIVE
tenants AS (
    SELECT id, tracks_support_tickets FROM organizations
    WHERE status = 'ACTIVE' AND (%(ids)s::uuid[] IS NULL OR id = ANY(%(ids)s::uuid[]))
),
user_counts AS (
    SELECT organization_id, count(*) AS total,
           count(*) FILTER (WHERE last_login_at BETWEEN %(since)s AND %(as_of)s) AS active
    FROM users WHERE organization_id IN (SELECT id FROM tenants) GROUP BY organization_id
),
case_counts AS (
    SELECT organization_id, count(*) AS closed,
           count(*) FILTER (WHERE sla_breach_at IS NULL OR closed_at <= sla_breach_at) AS on_time
    FROM cases
    WHERE organization_id IN (SELECT id FROM tenants) AND closed_at BETWEEN %(since)s AND %(as_of)s
    GROUP BY organization_id
),
campaign_rows AS (
    SELECT organization_id, completed_assignments::numeric AS done, total_assignments::numeric AS total,
           row_number() OVER (PARTITION BY organization_id ORDER BY id) AS n
    FROM campaigns
    WHERE organization_id IN (SELECT id FROM tenants)
      AND completed_at BETWEEN %(since)s AND %(as_of)s AND total_assignments > 0
),
campaign_sum (organization_id, n, num, den) AS (  -- sum of done/total as one exact fraction num/den
    SELECT organization_id, n, done, total FROM campaign_rows WHERE n = 1
    UNION ALL
    SELECT s.organization_id, r.n, s.num * r.total + r.done * s.den, s.den * r.total
    FROM campaign_sum s JOIN campaign_rows r ON r.organization_id = s.organization_id AND r.n = s.n + 1
),
campaign_fractions AS (
    SELECT DISTINCT ON (organization_id) organization_id, n, num, den
    FROM campaign_sum ORDER BY organization_id, n DESC
),
feature_counts AS (
    SELECT organization_id, count(*) FILTER (WHERE enabled) AS enabled,
           count(*) FILTER (WHERE enabled AND is_used) AS used
    FROM organization_features WHERE organization_id IN (SELECT id FROM tenants) GROUP BY organization_id
),
ticket_counts AS (
    SELECT organization_id, count(*) AS tickets
    FROM support_tickets
    WHERE organization_id IN (SELECT id FROM tenants) AND created_at BETWEEN %(since)s AND %(as_of)s
    GROUP BY organization_id
),
components AS (
    SELECT t.id AS organization_id,
           least(100, div(2000 * u.active + 7 * u.total, 14 * u.total))::int AS login_score,
           CASE WHEN c.closed > 0 THEN div(200 * c.on_time + c.closed, 2 * c.closed)::int END AS case_resolution_score,
           CASE WHEN cp.n > 0 THEN div(200 * cp.num + cp.den * cp.n, 2 * cp.den * cp.n)::int END
               AS campaign_completion_score,
           CASE WHEN f.enabled > 0 THEN div(200 * f.used + f.enabled, 2 * f.enabled)::int END AS feature_adoption_score,
           CASE WHEN NOT t.tracks_support_tickets OR coalesce(k.tickets, 0) <= greatest(1, (u.total + 9) / 10) THEN 100
                ELSE div(200 * greatest(1, (u.total + 9) / 10) + k.tickets, 2 * k.tickets)::int
           END AS support_ticket_score
    FROM tenants t
    JOIN user_counts u ON u.organization_id = t.id  -- a tenant without users is not scored
    LEFT JOIN case_counts c ON c.organization_id = t.id
    LEFT JOIN campaign_fractions cp ON cp.organization_id = t.id
    LEFT JOIN feature_counts f ON f.organization_id = t.id
    LEFT JOIN ticket_counts k ON k.organization_id = t.id
    WHERE u.total > 0
),
previous AS (  -- the latest score of an earlier day: one backward probe of the primary key, as the scorer's
    SELECT c.organization_id, p.*
    FROM components c
    CROSS JOIN LATERAL (
        SELECT t.overall_score AS stored, t.profile_id, t.profile_version, t.login_score,
               t.case_resolution_score, t.campaign_completion_score, t.feature_adoption_score, t.support_ticket_score
        FROM tenant_health_scores t
        WHERE t.organization_id = c.organization_id AND t.score_date < %(score_date)s
        ORDER BY t.score_date DESC LIMIT 1
    ) p
),
scored AS (
    SELECT c.*, {overall} AS score_to,
           CASE WHEN p.organization_id IS NULL THEN NULL
                WHEN p.profile_id = %(profile_id)s AND p.profile_version = %(profile_version)s THEN p.stored
                ELSE {previous} END AS previous_to
    FROM components c
    LEFT JOIN previous p ON p.organization_id = c.organization_id
)
SELECT organization_id, score_to AS overall_score, login_score, case_resolution_score, campaign_completion_score,
       feature_adoption_score, support_ticket_score, previous_to AS previous_score, trend_to AS trend,
       risk_to AS risk_level
FROM ({judged}) judged
""")
# What is compared with the scorer's rows.
CHECKED_COLUMNS = (*SCORE_NUMBER_COLUMNS, "previous_score", "trend", "risk_level")


@dataclass(frozen=True)
class FloorCheck:
    compared: int
    mismatch_count: int
    mismatches: list[dict[str, Any]]  # the first few tenants whose scores differ
    missing: int  # tenants the floor scored and the scorer did not (or the reverse)


def floor_scores(
    conn: DbConnection, as_of: datetime, profile: ScoringProfile, ids: list[UUID] | None = None
) -> dict[UUID, dict[str, Any]]:
    """The scores, restated previous score, trend and risk of every ACTIVE tenant with users (or of those of
    `ids`) under `profile`, as of `as_of`, in one statement."""
    overall, overall_params = weighted_overall_sql("c", profile, "now_")
    previous, previous_params = weighted_overall_sql("p", profile, "before_")
    statement = FLOOR_SQL.format(
        overall=overall, previous=previous, judged=JUDGED_SQL.format(scored=sql.SQL("SELECT * FROM scored"))
    )
    params = {
        "ids": ids,
        "since": window_start(as_of),
        "as_of": as_of,
        "score_date": as_of.date(),
        "profile_id": profile.profile_id,
        "profile_version": profile.version,
    }
    params |= overall_params | previous_params | thresholds(profile)
    return {row["organization_id"]: row for row in conn.execute(statement, params).fetchall()}


def check_against_stored(conn: DbConnection, floor: dict[UUID, dict[str, Any]], as_of: datetime) -> FloorCheck:
    """Compare the floor's rows with the stored scores of `as_of`'s day, tenant by tenant."""
    rows = conn.execute(
        f"SELECT organization_id, {', '.join(CHECKED_COLUMNS)} FROM tenant_health_scores WHERE score_date = %s",  # noqa: S608 - constant columns
        (as_of.date(),),
    ).fetchall()
    stored = {row["organization_id"]: row for row in rows}
    mismatches = [
        {"organizationId": str(org_id), "floor": dict(expected), "scorer": dict(stored[org_id])}
        for org_id, expected in floor.items()
        if org_id in stored and any(expected[c] != stored[org_id][c] for c in CHECKED_COLUMNS)
    ]
    missing = len(floor.keys() ^ stored.keys())
    return FloorCheck(len(floor.keys() & stored.keys()), len(mismatches), mismatches[:5], missing)
