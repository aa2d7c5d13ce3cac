"""A scoring batch's writes as one statement: its scores, the tenants' latest rows, the run's outcomes.

One statement is its own transaction (the connection is in autocommit): no BEGIN and COMMIT round
trips, and one statement to plan instead of four. Each part is its aggregate's SQL, composed as
data-modifying CTEs that see the same snapshot:
- `written`: the scores' upsert (dal/scores.py), returning the rows as written;
- `lapsed` and `latest`: the tenants' latest rows rewritten from `written`, and which of them had an
  override that had lapsed (dal/latest_scores.py), announced by `events`;
- `late`: a score written late, for a day before its tenant's latest one, becomes the previous score
  that the latest row keeps for the what-if preview (dal/latest_scores.py);
- `outcomes`: the run's outcome of each tenant of the batch, scored or not (dal/runs.py);
- `events`: the HealthRiskChanged events the batch announces, its risk changes and the lapses it
  found, into the outbox (dal/risk_event_outbox.py): published after the commit, never lost before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from healthscore.dal import latest_scores, risk_event_outbox, runs, scores
from healthscore.dal.connection import DbConnection

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
late AS ({latest_scores.REFRESH_PREVIOUS_FROM_LATE_SQL}),
outcomes AS ({runs.UPSERT_OUTCOME_SQL}),
events AS ({risk_event_outbox.INSERT_FROM_BATCH_SQL})
SELECT count(*) AS events FROM events
"""  # noqa: S608 - constant fragments; every value is a parameter


def write_scores(
    conn: DbConnection,
    rows: list[dict[str, Any]],
    outcomes: Sequence[tuple[str, UUID, str, str | None]] = (),
    events: Sequence[tuple[UUID, dict[str, Any]]] = (),
    *,
    announce_lapses: bool = False,
) -> int:
    """Write a batch's scores (one row per tenant and day), make each its tenant's latest row unless a later
    day is stored, record the run outcomes `(run_id, organization_id, outcome, reason)` and put the `events`
    `(organization_id, detail)`, then the found lapses' (with `announce_lapses`), in the outbox: all or nothing.

    Returns how many events it put in the outbox.
    """
    if not rows and not outcomes:
        return 0
    params = {
        column: [Jsonb(row[column]) for row in rows] if column in scores.JSON_COLUMNS else [row[column] for row in rows]
        for column in scores.SCORE_COLUMNS
    }
    events_params = risk_event_outbox.batch_params(events, announce_lapses=announce_lapses)
    found = conn.execute(BATCH_SQL, params | runs.outcome_params(outcomes) | events_params).fetchone()
    return int(found["events"]) if found else 0
