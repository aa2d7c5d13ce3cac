"""Each active tenant's latest stored score with the inputs it was computed from, and the score before it.

What re-scores a fleet from its stored inputs (the preview's reference, tenant by tenant): per tenant
two backward probes of the scores' primary key. The inputs document's fields are read out in SQL
(numbers as columns): decoding 10,000 JSON documents in Python would cost more than the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from healthscore.core.scoring import PreviousScore, UsageInputs
from healthscore.dal.connection import DbConnection
from healthscore.dal.scores import PREVIOUS_COLUMNS, PREVIOUS_SCORE_SQL, previous_score
from healthscore.dal.usage import usage_inputs

LATEST_INPUTS_SQL = f"""
SELECT o.id AS organization_id, o.name AS organization_name, o.created_at,
       s.overall_score, s.previous_score, s.risk_level, s.as_of,
       (s.inputs->>'totalUsers')::int AS total_users,
       (s.inputs->>'activeUsers')::int AS active_users,
       (s.inputs->>'casesClosed')::int AS cases_closed,
       (s.inputs->>'casesOnTime')::int AS cases_on_time,
       (s.inputs->>'campaignsCompleted')::int AS campaigns_completed,
       ARRAY(SELECT (pair->>0)::int FROM jsonb_array_elements(s.inputs->'campaignAssignments') pair)
           AS completed_assignments,
       ARRAY(SELECT (pair->>1)::int FROM jsonb_array_elements(s.inputs->'campaignAssignments') pair)
           AS total_assignments,
       (s.inputs->>'featuresEnabled')::int AS features_enabled,
       (s.inputs->>'featuresUsed')::int AS features_used,
       (s.inputs->>'tracksSupportTickets')::bool AS tracks_support_tickets,
       (s.inputs->>'ticketCount')::int AS ticket_count,
       {", ".join(f"p.{column} AS previous_{column}" for column in PREVIOUS_COLUMNS)}
FROM organizations o
CROSS JOIN LATERAL (
    SELECT t.score_date, t.overall_score, t.previous_score, t.risk_level, t.as_of, t.inputs
    FROM tenant_health_scores t
    WHERE t.organization_id = o.id
    ORDER BY t.score_date DESC
    LIMIT 1
) s
LEFT JOIN LATERAL ({PREVIOUS_SCORE_SQL.format(org="o.id", before="s.score_date")}) p ON true
WHERE o.status = 'ACTIVE'
"""  # noqa: S608 - constant fragments


@dataclass(frozen=True)
class LatestInputs:
    organization_id: UUID
    organization_name: str
    created_at: datetime | None
    overall_score: int
    previous_score: int | None
    risk_level: str
    as_of: datetime
    inputs: UsageInputs
    previous: PreviousScore | None  # the latest score of an earlier day, as computed


def latest_inputs(conn: DbConnection) -> list[LatestInputs]:
    return [_latest(row) for row in conn.execute(LATEST_INPUTS_SQL).fetchall()]


def _latest(row: dict[str, Any]) -> LatestInputs:
    previous = {column: row[f"previous_{column}"] for column in PREVIOUS_COLUMNS}
    return LatestInputs(
        row["organization_id"],
        row["organization_name"],
        row["created_at"],
        row["overall_score"],
        row["previous_score"],
        row["risk_level"],
        row["as_of"],
        usage_inputs(row),
        previous_score(previous) if previous["score_date"] else None,
    )
