"""`tenant_health_scores`: one row per tenant per UTC day, replaced on re-scoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from healthscore.core.scoring import ComponentScores, PreviousScore
from healthscore.dal import latest_scores, usage
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import TenantUsage

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
    *latest_scores.PREVIOUS_PROFILE_COLUMNS,
)
JSON_COLUMNS = {"weights", "inputs", "explanation"}

# The array type of each column: a batch is written by one INSERT ... SELECT FROM unnest(...)
# (one statement and one index pass for the batch, where executemany ran one statement per row).
COLUMN_TYPES: Final = {
    "organization_id": "uuid",
    "score_date": "date",
    **dict.fromkeys(
        (
            *latest_scores.SCORE_NUMBER_COLUMNS,
            "previous_score",
            "previous_score_as_computed",
            "previous_profile_version",
        ),
        "int",
    ),
    "trend": "text",
    "risk_level": "text",
    "run_id": "text",
    "as_of": "timestamptz",
    **dict.fromkeys(JSON_COLUMNS, "jsonb"),
    "profile_id": "text",
    "profile_version": "int",
    "previous_profile_id": "text",
}

UPSERT_SQL = f"""
INSERT INTO tenant_health_scores ({", ".join(SCORE_COLUMNS)}, calculated_at)
SELECT {", ".join(f"r.{column}" for column in SCORE_COLUMNS)}, now()
FROM unnest({", ".join(f"%({column})b::{COLUMN_TYPES[column]}[]" for column in SCORE_COLUMNS)})
     AS r ({", ".join(SCORE_COLUMNS)})
ON CONFLICT (organization_id, score_date) DO UPDATE SET
{", ".join(f"{column} = EXCLUDED.{column}" for column in SCORE_COLUMNS[2:])}, calculated_at = now()
"""  # noqa: S608 - column names are constants; every value is a parameter

# A tenant's latest score from a day before {before}, one backward probe of the primary key: its
# component scores and profile version, what restates it under another profile version (core/scoring.py).
PREVIOUS_SCORE_SQL = """
SELECT t.score_date, t.overall_score, t.risk_level, t.login_score, t.case_resolution_score,
       t.campaign_completion_score, t.feature_adoption_score, t.support_ticket_score, t.profile_id, t.profile_version
FROM tenant_health_scores t
WHERE t.organization_id = {org} AND t.score_date < {before}
ORDER BY t.score_date DESC LIMIT 1
"""
PREVIOUS_COLUMNS = (
    "score_date",
    "overall_score",
    "risk_level",
    *latest_scores.SCORE_NUMBER_COLUMNS[1:],
    "profile_id",
    "profile_version",
)

# With the contributions stored in its explanation, as it was shown.
SCORES_BEFORE_SQL = f"""
SELECT k.organization_id, p.*, coalesce(e.explanation->'contributions', '{{}}') AS contributions
FROM unnest(%(ids)s::uuid[]) AS k (organization_id)
CROSS JOIN LATERAL ({PREVIOUS_SCORE_SQL.format(org="k.organization_id", before="%(score_date)s")}) p
JOIN tenant_health_scores e ON e.organization_id = k.organization_id AND e.score_date = p.score_date
"""  # noqa: S608 - a constant fragment

# What scoring a batch reads, in one statement: each tenant's usage inputs, its previous score (what the
# trend compares to) and the risk of the same day's score if one is stored (what a re-score replaces).
SCORING_READ_SQL = f"""
SELECT u.*, {", ".join(f"p.{column} AS previous_{column}" for column in PREVIOUS_COLUMNS)},
       d.risk_level AS replaced_risk_level
FROM ({usage.USAGE_INPUTS_SQL}) u
LEFT JOIN LATERAL ({PREVIOUS_SCORE_SQL.format(org="u.id", before="%(score_date)s")}) p ON true
LEFT JOIN tenant_health_scores d ON d.organization_id = u.id AND d.score_date = %(score_date)s
"""  # noqa: S608 - constant fragments


@dataclass(frozen=True)
class ScoringRead:
    """A tenant's usage and the scores around the day it is scored for."""

    usage: TenantUsage
    previous: dict[str, Any] | None  # PREVIOUS_COLUMNS of the latest earlier day
    replaced_risk: str | None  # the risk of the same day's stored score


LATEST_SQL = """
SELECT s.*, o.name AS organization_name
FROM tenant_health_scores s JOIN organizations o ON o.id = s.organization_id
WHERE s.organization_id = %(id)s
ORDER BY s.score_date DESC
LIMIT 1
"""


def scores_before(conn: DbConnection, ids: list[UUID], score_date: date) -> dict[UUID, dict[str, Any]]:
    """Each tenant's latest score from a day before `score_date` (PREVIOUS_COLUMNS and its contributions)."""
    rows = conn.execute(SCORES_BEFORE_SQL, {"ids": ids, "score_date": score_date})
    return {row["organization_id"]: row for row in rows}


def scoring_read(conn: DbConnection, ids: list[UUID], as_of: datetime) -> dict[UUID, ScoringRead]:
    """Usage over `[as_of - 30 days, as_of]` of the tenants that exist, with their scores around as_of's day."""
    params = usage.usage_params(ids, as_of) | {"score_date": as_of.date()}
    return {row["id"]: _scoring_read(row) for row in conn.execute(SCORING_READ_SQL, params)}


def _scoring_read(row: dict[str, Any]) -> ScoringRead:
    previous = {column: row[f"previous_{column}"] for column in PREVIOUS_COLUMNS}
    return ScoringRead(
        usage.tenant_usage(row), previous if previous["score_date"] else None, row["replaced_risk_level"]
    )


def previous_score(previous: dict[str, Any]) -> PreviousScore:
    """A row of PREVIOUS_COLUMNS as the score that core/scoring.py restates."""
    return PreviousScore(
        previous["overall_score"],
        ComponentScores(
            login=previous["login_score"],
            caseResolution=previous["case_resolution_score"],
            campaignCompletion=previous["campaign_completion_score"],
            featureAdoption=previous["feature_adoption_score"],
            supportTickets=previous["support_ticket_score"],
        ),
        previous["profile_id"],
        previous["profile_version"],
    )


def latest_score(conn: DbConnection, organization_id: UUID) -> dict[str, Any] | None:
    return conn.execute(LATEST_SQL, {"id": organization_id}).fetchone()


def database_now(conn: DbConnection) -> datetime:
    """The database's clock, which stamps `calculated_at` (a snapshot must compare with it)."""
    return conn.execute("SELECT now() AS now").fetchall()[0]["now"]
