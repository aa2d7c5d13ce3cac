"""`tenant_health_scores`: one row per tenant per UTC day, replaced on re-scoring."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from healthscore.dal.connection import DbConnection

SCORE_COLUMNS = (
    "organization_id",
    "score_date",
    "overall_score",
    "login_score",
    "case_resolution_score",
    "campaign_completion_score",
    "feature_adoption_score",
    "support_ticket_score",
    "previous_score",
    "trend",
    "risk_level",
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


def upsert_scores(conn: DbConnection, rows: list[dict[str, Any]]) -> None:
    """Write a batch of scores in one transaction (pipelined by executemany)."""
    if not rows:
        return
    params = [{k: Jsonb(v) if k in JSON_COLUMNS else v for k, v in row.items()} for row in rows]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(UPSERT_SQL, params)


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


# The list's sort keys: a whitelist, so input never reaches the SQL text.
SORT_COLUMNS: dict[str, sql.Composable] = {
    "overall_score": sql.Identifier("s", "overall_score"),
    "organization_name": sql.Identifier("o", "name"),
    "calculated_at": sql.Identifier("s", "calculated_at"),
}

# Per tenant, the latest score written by `snapshot` (a LATERAL backward scan of the primary
# key), filtered, then a keyset page: ORDER BY (sort column, id) from just after the last row.
LATEST_PAGE_SQL = sql.SQL("""
SELECT o.id AS organization_id, o.name AS organization_name, s.score_date, s.overall_score,
       s.login_score, s.case_resolution_score, s.campaign_completion_score, s.feature_adoption_score,
       s.support_ticket_score, s.previous_score, s.trend, s.risk_level, s.calculated_at
FROM organizations o
CROSS JOIN LATERAL (
    SELECT * FROM tenant_health_scores t
    WHERE t.organization_id = o.id AND t.calculated_at <= %(snapshot)s
    ORDER BY t.score_date DESC
    LIMIT 1
) s
WHERE (%(risk_level)s::text IS NULL OR s.risk_level = %(risk_level)s::text)
  AND (%(trend)s::text IS NULL OR s.trend = %(trend)s::text)
  AND (%(min_score)s::int IS NULL OR s.overall_score >= %(min_score)s::int)
  AND (%(max_score)s::int IS NULL OR s.overall_score <= %(max_score)s::int)
  {keyset}
ORDER BY {column} {direction}, o.id {direction}
LIMIT %(limit)s
""")
KEYSET_SQL = sql.SQL("AND ({column}, o.id) {comparison} (%(after_value)s, %(after_id)s)")


@dataclass(frozen=True)
class ScoreFilters:
    risk_level: str | None = None
    trend: str | None = None
    min_score: int | None = None
    max_score: int | None = None


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: just after the row with this sort value and organization id."""

    value: Any
    organization_id: UUID


def latest_scores_page(
    conn: DbConnection,
    *,
    sort: str,
    descending: bool,
    limit: int,
    filters: ScoreFilters,
    snapshot: datetime,
    after: Keyset | None = None,
) -> list[dict[str, Any]]:
    """One page of each tenant's latest score as of `snapshot`, ordered by (`sort`, organization id)."""
    column = SORT_COLUMNS[sort]
    keyset: sql.Composable = sql.SQL("")
    if after is not None:
        comparison = sql.SQL("<" if descending else ">")
        keyset = KEYSET_SQL.format(column=column, comparison=comparison)
    query = LATEST_PAGE_SQL.format(keyset=keyset, column=column, direction=sql.SQL("DESC" if descending else "ASC"))
    params = {
        **asdict(filters),
        "snapshot": snapshot,
        "limit": limit,
        "after_value": after.value if after else None,
        "after_id": after.organization_id if after else None,
    }
    return conn.execute(query, params).fetchall()


def database_now(conn: DbConnection) -> datetime:
    """The database's clock, which stamps `calculated_at` (a snapshot must compare with it)."""
    return conn.execute("SELECT now() AS now").fetchall()[0]["now"]
