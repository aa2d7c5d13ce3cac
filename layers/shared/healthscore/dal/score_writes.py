"""A scoring batch's writes as one statement: its scores, the tenants' latest rows, the run's outcomes.

One statement is its own transaction (the connection is in autocommit): no BEGIN and COMMIT round
trips, and one statement to plan instead of four. Each part is its aggregate's SQL, composed as
data-modifying CTEs that see the same snapshot:
- `written`: the scores' upsert (dal/scores.py), returning the rows as written;
- `lapsed` and `latest`: the tenants' latest rows rewritten from `written`, and which of them had an
  override that had lapsed (dal/latest_scores.py);
- `outcomes`: the run's outcome of each tenant of the batch, scored or not (dal/runs.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from healthscore.dal import latest_scores, runs, scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import Lapse

WRITTEN_COLUMNS = (
    "organization_id",
    *latest_scores.SCORE_VALUE_COLUMNS,
    "calculated_at",
    "profile_id",
    "profile_version",
    *latest_scores.PREVIOUS_PROFILE_COLUMNS,
)

BATCH_SQL = f"""
WITH written AS (
    {scores.UPSERT_SQL} RETURNING {", ".join(WRITTEN_COLUMNS)}, as_of, (inputs->>'totalUsers')::int AS total_users
),
lapsed AS ({latest_scores.LAPSED_SQL}),
latest AS ({latest_scores.REFRESH_FROM_WRITTEN_SQL}),
outcomes AS ({runs.UPSERT_OUTCOME_SQL})
SELECT latest.organization_id, lapsed.override_risk_level, latest.effective_risk_level
FROM latest JOIN lapsed ON lapsed.organization_id = latest.organization_id
"""  # noqa: S608 - constant fragments; every value is a parameter


def write_scores(
    conn: DbConnection, rows: list[dict[str, Any]], outcomes: Sequence[tuple[str, UUID, str, str | None]] = ()
) -> list[Lapse]:
    """Write a batch's scores (one row per tenant and day), make each its tenant's latest row unless a later
    day is stored, and record the run outcomes `(run_id, organization_id, outcome, reason)`: all or nothing.

    Returns the overrides found lapsed on the latest rows rewritten (their lapse is announced now).
    """
    if not rows and not outcomes:
        return []
    params = {
        column: [Jsonb(row[column]) for row in rows] if column in scores.JSON_COLUMNS else [row[column] for row in rows]
        for column in scores.SCORE_COLUMNS
    }
    found = conn.execute(BATCH_SQL, params | runs.outcome_params(outcomes)).fetchall()
    return [Lapse(row["organization_id"], row["override_risk_level"], row["effective_risk_level"]) for row in found]
