"""The floor: every tenant's scores from one set-based SQL statement, in exact integer/numeric arithmetic.

What the database alone needs to compute the same scores as the scorer, with no Python
per tenant and no round trip per batch: the lower bound the scorer is compared with.
Each `round(x)` of docs/scoring.md (half up) is `floor(x + 1/2)`, written as an integer
division `div(2p + q, 2q)` of the exact fraction p/q, so no division is ever rounded:
- login: min(100, round(active / total / 0.7 * 100)) = div(2000 active + 7 total, 14 total)
- campaigns: the average of completed/total is folded into one fraction by a recursive CTE
  (numeric multiplication and addition are exact), then rounded by the same division;
- overall: weights are numeric parameters, sum(score x weight) / sum(weight) rounded likewise.
Then the scores are checked equal, tenant by tenant, to the rows the scorer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from healthscore.core.weights import HealthWeights
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import SCORE_NUMBER_COLUMNS
from healthscore.dal.usage import window_start

FLOOR_SQL = """
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
weighed AS (
    SELECT *,
           coalesce(login_score * %(w_login)s, 0) + coalesce(case_resolution_score * %(w_case)s, 0)
             + coalesce(campaign_completion_score * %(w_campaign)s, 0)
             + coalesce(feature_adoption_score * %(w_feature)s, 0) + support_ticket_score * %(w_support)s AS points,
           %(w_login)s + %(w_support)s
             + CASE WHEN case_resolution_score IS NULL THEN 0 ELSE %(w_case)s END
             + CASE WHEN campaign_completion_score IS NULL THEN 0 ELSE %(w_campaign)s END
             + CASE WHEN feature_adoption_score IS NULL THEN 0 ELSE %(w_feature)s END AS weight
    FROM components
)
SELECT organization_id, div(2 * points + weight, 2 * weight)::int AS overall_score,
       login_score, case_resolution_score, campaign_completion_score, feature_adoption_score, support_ticket_score
FROM weighed
"""


@dataclass(frozen=True)
class FloorCheck:
    compared: int
    mismatch_count: int
    mismatches: list[dict[str, Any]]  # the first few tenants whose scores differ
    missing: int  # tenants the floor scored and the scorer did not (or the reverse)


def floor_scores(
    conn: DbConnection, as_of: datetime, weights: HealthWeights, ids: list[UUID] | None = None
) -> dict[UUID, dict[str, Any]]:
    """The six scores of every ACTIVE tenant with users (or of those of `ids`), as of `as_of`, in one statement."""
    w = weights.of()
    params = {
        "ids": ids,
        "since": window_start(as_of),
        "as_of": as_of,
        "w_login": w["login"],
        "w_case": w["caseResolution"],
        "w_campaign": w["campaignCompletion"],
        "w_feature": w["featureAdoption"],
        "w_support": w["supportTickets"],
    }
    return {row["organization_id"]: row for row in conn.execute(FLOOR_SQL, params).fetchall()}


def check_against_stored(conn: DbConnection, floor: dict[UUID, dict[str, Any]], as_of: datetime) -> FloorCheck:
    """Compare the floor's scores with the stored scores of `as_of`'s day, tenant by tenant."""
    rows = conn.execute(
        f"SELECT organization_id, {', '.join(SCORE_NUMBER_COLUMNS)} FROM tenant_health_scores WHERE score_date = %s",  # noqa: S608 - constant columns
        (as_of.date(),),
    ).fetchall()
    stored = {row["organization_id"]: row for row in rows}
    mismatches = [
        {"organizationId": str(org_id), "floor": dict(expected), "scorer": dict(stored[org_id])}
        for org_id, expected in floor.items()
        if org_id in stored and any(expected[c] != stored[org_id][c] for c in SCORE_NUMBER_COLUMNS)
    ]
    missing = len(floor.keys() ^ stored.keys())
    return FloorCheck(len(floor.keys() & stored.keys()), len(mismatches), mismatches[:5], missing)
