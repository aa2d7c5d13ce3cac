"""90 days of score history before the bench's as-of, written by one set-based statement.

Row by row, 100,000 tenants x 90 days is 9 million round trips; one INSERT ... SELECT over
organizations x generate_series writes them inside the database. The scores are
deterministic (a hash of tenant and day) and each day's trend and risk follow from the
day before, as the scorer would have set them; the explanation is minimal, since the API
shows only the latest score in full and the history as (date, score, trend, risk). The score is
also its one component (support tickets), which a restatement combines.
"""

from __future__ import annotations

from datetime import date, datetime

from healthscore.dal.connection import DbConnection

HISTORY_DAYS = 90
HISTORY_RUN_ID = "bench-history"

# The inputs of a tenant without activity: a history row is the latest score of a tenant the scorer
# skips today, and the what-if preview re-scores every tenant's latest score from its inputs.
IDLE_INPUTS = (
    '{"totalUsers": 0, "activeUsers": 0, "casesClosed": 0, "casesOnTime": 0, "campaignsCompleted": 0,'
    ' "campaignAssignments": [], "featuresEnabled": 0, "featuresUsed": 0, "tracksSupportTickets": false,'
    ' "ticketCount": null}'
)

HISTORY_SQL = """
INSERT INTO tenant_health_scores (
    organization_id, score_date, overall_score, support_ticket_score, previous_score, trend, risk_level,
    run_id, as_of, weights, inputs, explanation)
SELECT organization_id, score_date, overall, overall, previous,
       trend, CASE WHEN overall < 40 OR (overall < 60 AND trend = 'DECLINING') THEN 'HIGH'
                   WHEN overall < 70 OR trend = 'DECLINING' THEN 'MEDIUM' ELSE 'LOW' END,
       %(run_id)s, score_date + time '02:00', '{}'::jsonb, %(inputs)s::jsonb,
       '{"contributions": {}, "missingComponents": []}'::jsonb
FROM (
    SELECT organization_id, score_date, overall, previous,
           CASE WHEN previous IS NULL THEN 'STABLE' WHEN overall - previous > 5 THEN 'IMPROVING'
                WHEN overall - previous < -5 THEN 'DECLINING' ELSE 'STABLE' END AS trend
    FROM (
        SELECT organization_id, score_date, overall,
               lag(overall) OVER (PARTITION BY organization_id ORDER BY score_date) AS previous
        FROM (
            SELECT o.id AS organization_id, d::date AS score_date,
                   -- a tenant's level (its hash) plus a daily wobble of +-10
                   least(100, greatest(0, 20 + abs(hashtext(o.id::text)) %% 70
                                          + abs(hashtext(o.id::text || d::date::text)) %% 21 - 10)) AS overall
            FROM organizations o
            CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
            WHERE o.status = 'ACTIVE'
        ) days
    ) with_previous
) with_trend
ON CONFLICT (organization_id, score_date) DO NOTHING
"""


def seed_score_history(conn: DbConnection, as_of: datetime) -> int:
    """Write the HISTORY_DAYS days before `as_of` for every ACTIVE tenant; the number of rows written."""
    last = as_of.date().toordinal() - 1
    with conn.transaction():
        cursor = conn.execute(
            HISTORY_SQL,
            {
                "run_id": HISTORY_RUN_ID,
                "inputs": IDLE_INPUTS,
                "first": datetime.fromordinal(last - HISTORY_DAYS + 1).date(),
                "last": datetime.fromordinal(last).date(),
            },
        )
    return cursor.rowcount


def history_rows(conn: DbConnection, as_of: datetime) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM tenant_health_scores WHERE run_id = %(run_id)s AND score_date < %(day)s",
        {"run_id": HISTORY_RUN_ID, "day": as_of.date()},
    ).fetchone()
    return int(row["n"]) if row else 0


def history_end(conn: DbConnection) -> date | None:
    """The last day of the bench's history in the database, if any."""
    row = conn.execute(
        "SELECT max(score_date) AS last FROM tenant_health_scores WHERE run_id = %(run_id)s", {"run_id": HISTORY_RUN_ID}
    ).fetchone()
    return row["last"] if row else None
