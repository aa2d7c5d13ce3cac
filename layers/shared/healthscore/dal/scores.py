"""`tenant_health_scores`: one row per tenant per UTC day, replaced on re-scoring."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from healthscore.dal import latest_scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import Lapse

SCORE_COLUMNS = (
    "organization_id",
    *latest_scores.SCORE_VALUE_COLUMNS,
    "run_id",
    "as_of",
    "weights",
    "inputs",
    "explanation",
    "profile_id",
    "profile_version",
)
JSON_COLUMNS = {"weights", "inputs", "explanation"}

# The array type of each column: a batch is written by one INSERT ... SELECT FROM unnest(...)
# (one statement and one index pass for the batch, where executemany ran one statement per row).
COLUMN_TYPES: Final = {
    "organization_id": "uuid",
    "score_date": "date",
    **dict.fromkeys((*latest_scores.SCORE_NUMBER_COLUMNS, "previous_score"), "int"),
    "trend": "text",
    "risk_level": "text",
    "run_id": "text",
    "as_of": "timestamptz",
    **dict.fromkeys(JSON_COLUMNS, "jsonb"),
    "profile_id": "text",
    "profile_version": "int",
}

UPSERT_SQL = f"""
INSERT INTO tenant_health_scores ({", ".join(SCORE_COLUMNS)}, calculated_at)
SELECT {", ".join(f"r.{column}" for column in SCORE_COLUMNS)}, now()
FROM unnest({", ".join(f"%({column})b::{COLUMN_TYPES[column]}[]" for column in SCORE_COLUMNS)})
     AS r ({", ".join(SCORE_COLUMNS)})
ON CONFLICT (organization_id, score_date) DO UPDATE SET
{", ".join(f"{column} = EXCLUDED.{column}" for column in SCORE_COLUMNS[2:])}, calculated_at = now()
"""  # noqa: S608 - column names are constants; every value is a parameter

# Per tenant its latest earlier day and its same-day row, each one probe of the primary key
# (DISTINCT ON over the ids' whole history read every stored day of each tenant).
SCORES_AROUND_SQL = """
SELECT s.organization_id, s.score_date, s.overall_score, s.risk_level, s.explanation
FROM unnest(%(ids)s::uuid[]) AS k (organization_id)
CROSS JOIN LATERAL (
    (SELECT t.organization_id, t.score_date, t.overall_score, t.risk_level, t.explanation
     FROM tenant_health_scores t
     WHERE t.organization_id = k.organization_id AND t.score_date < %(score_date)s
     ORDER BY t.score_date DESC LIMIT 1)
    UNION ALL
    (SELECT t.organization_id, t.score_date, t.overall_score, t.risk_level, t.explanation
     FROM tenant_health_scores t
     WHERE t.organization_id = k.organization_id AND t.score_date = %(score_date)s)
) s
"""

LATEST_SQL = """
SELECT s.*, o.name AS organization_name
FROM tenant_health_scores s JOIN organizations o ON o.id = s.organization_id
WHERE s.organization_id = %(id)s
ORDER BY s.score_date DESC
LIMIT 1
"""

HISTORY_SQL = """
SELECT score_date, overall_score, trend, risk_level
FROM tenant_health_scores
WHERE organization_id = %(id)s AND score_date > %(until)s - %(days)s::int
ORDER BY score_date
"""


def upsert_scores(conn: DbConnection, rows: list[dict[str, Any]]) -> list[Lapse]:
    """Write a batch of scores (one row per tenant and day), and the tenants' latest rows, in one transaction.

    Returns the overrides found lapsed on the rows rewritten (their lapse is announced now).
    """
    if not rows:
        return []
    params = {
        column: [Jsonb(row[column]) for row in rows] if column in JSON_COLUMNS else [row[column] for row in rows]
        for column in SCORE_COLUMNS
    }
    with _transaction(conn):
        conn.execute(UPSERT_SQL, params)
        return latest_scores.refresh_from_scores(conn, [(row["organization_id"], row["score_date"]) for row in rows])


def _transaction(conn: DbConnection) -> AbstractContextManager[object]:
    """A transaction, unless the caller's is open: a savepoint would cost two more round trips."""
    return nullcontext() if conn.info.transaction_status == TransactionStatus.INTRANS else conn.transaction()


def scores_before(conn: DbConnection, ids: list[UUID], score_date: date) -> dict[UUID, dict[str, Any]]:
    """Each tenant's latest score from a day before `score_date` (what the trend compares to)."""
    return scores_around(conn, ids, score_date)[0]


def scores_around(
    conn: DbConnection, ids: list[UUID], score_date: date
) -> tuple[dict[UUID, dict[str, Any]], dict[UUID, dict[str, Any]]]:
    """In one statement, each tenant's latest score from a day before `score_date` (what the trend compares
    to) and its score of `score_date` already written (a re-score replaces it)."""
    before: dict[UUID, dict[str, Any]] = {}
    same_day: dict[UUID, dict[str, Any]] = {}
    for row in conn.execute(SCORES_AROUND_SQL, {"ids": ids, "score_date": score_date}):
        (same_day if row["score_date"] == score_date else before)[row["organization_id"]] = row
    return before, same_day


def latest_score(conn: DbConnection, organization_id: UUID) -> dict[str, Any] | None:
    return conn.execute(LATEST_SQL, {"id": organization_id}).fetchone()


def score_history(conn: DbConnection, organization_id: UUID, days: int, until: date) -> list[dict[str, Any]]:
    """Scores of the `days` days ending at `until`, oldest first."""
    return conn.execute(HISTORY_SQL, {"id": organization_id, "days": days, "until": until}).fetchall()


def database_now(conn: DbConnection) -> datetime:
    """The database's clock, which stamps `calculated_at` (a snapshot must compare with it)."""
    return conn.execute("SELECT now() AS now").fetchall()[0]["now"]
