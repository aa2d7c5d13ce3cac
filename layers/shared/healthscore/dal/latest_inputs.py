"""Each active tenant's latest stored score with the inputs it was computed from, in one query.

What the what-if preview re-scores: per tenant one backward scan of the scores' primary key.
"""

from __future__ import annotations

from typing import Any

from healthscore.dal.connection import DbConnection

LATEST_INPUTS_SQL = """
SELECT o.id AS organization_id, o.name AS organization_name, o.created_at,
       s.overall_score, s.previous_score, s.risk_level, s.as_of, s.inputs
FROM organizations o
CROSS JOIN LATERAL (
    SELECT t.overall_score, t.previous_score, t.risk_level, t.as_of, t.inputs
    FROM tenant_health_scores t
    WHERE t.organization_id = o.id
    ORDER BY t.score_date DESC
    LIMIT 1
) s
WHERE o.status = 'ACTIVE'
"""


def latest_inputs(conn: DbConnection) -> list[dict[str, Any]]:
    """organization_id, organization_name, created_at, overall_score, previous_score, risk_level, as_of, inputs."""
    return conn.execute(LATEST_INPUTS_SQL).fetchall()
