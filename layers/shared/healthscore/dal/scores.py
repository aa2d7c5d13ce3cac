"""`tenant_health_scores`: one row per tenant per UTC day, replaced on re-scoring."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

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

UPSERT_SQL = f"""
INSERT INTO tenant_health_scores ({", ".join(SCORE_COLUMNS)}, calculated_at)
VALUES ({", ".join(f"%({column})s" for column in SCORE_COLUMNS)}, now())
ON CONFLICT (organization_id, score_date) DO UPDATE SET
{", ".join(f"{column} = EXCLUDED.{column}" for column in SCORE_COLUMNS[2:])}, calculated_at = now()
"""  # noqa: S608 - column names are constants; every value is a parameter

SCORES_BEFORE_SQL = """
SELECT DISTINCT ON (organization_id) organization_id, score_date, overall_score, risk_level, explanation
FROM tenant_health_scores
WHERE organization_id = ANY(%(ids)s) AND score_date < %(score_date)s
ORDER BY organization_id, score_date DESC
"""

SCORES_ON_SQL = """
SELECT organization_id, score_date, overall_score, risk_level, explanation
FROM tenant_health_scores
WHERE organization_id = ANY(%(ids)s) AND score_date = %(score_date)s
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
    """Write a batch of scores, and the tenants' latest rows, in one transaction (pipelined by executemany).

    Returns the overrides found lapsed on the rows rewritten (their lapse is announced now).
    """
    if not rows:
        return []
    params = [{k: Jsonb(v) if k in JSON_COLUMNS else v for k, v in row.items()} for row in rows]
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(UPSERT_SQL, params)
        return latest_scores.refresh_from_scores(conn, [(row["organization_id"], row["score_date"]) for row in rows])


def scores_before(conn: DbConnection, ids: list[UUID], score_date: date) -> dict[UUID, dict[str, Any]]:
    """Each tenant's latest score from a day before `score_date` (what the trend compares to)."""
    rows = conn.execute(SCORES_BEFORE_SQL, {"ids": ids, "score_date": score_date}).fetchall()
    return {row["organization_id"]: row for row in rows}


def scores_on(conn: DbConnection, ids: list[UUID], score_date: date) -> dict[UUID, dict[str, Any]]:
    """The tenants' scores of `score_date` already written (a re-score replaces them)."""
    rows = conn.execute(SCORES_ON_SQL, {"ids": ids, "score_date": score_date}).fetchall()
    return {row["organization_id"]: row for row in rows}


def latest_score(conn: DbConnection, organization_id: UUID) -> dict[str, Any] | None:
    return conn.execute(LATEST_SQL, {"id": organization_id}).fetchone()


def score_history(conn: DbConnection, organization_id: UUID, days: int, until: date) -> list[dict[str, Any]]:
    """Scores of the `days` days ending at `until`, oldest first."""
    return conn.execute(HISTORY_SQL, {"id": organization_id, "days": days, "until": until}).fetchall()


def database_now(conn: DbConnection) -> datetime:
    """The database's clock, which stamps `calculated_at` (a snapshot must compare with it)."""
    return conn.execute("SELECT now() AS now").fetchall()[0]["now"]
