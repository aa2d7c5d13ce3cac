"""`tenant_latest_scores`: each tenant's latest score with its override, behind GET /scores and /summary.

A row is rewritten in the transaction that writes the tenant's newest score or sets or clears
its override. An override past its expiry stops applying without a write: every read compares
`override_expires_at` with its time (the page's snapshot, or now()).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from psycopg import sql

from healthscore.dal.connection import DbConnection

# The overall score and its five components, as tenant_health_scores and tenant_latest_scores both name them.
SCORE_NUMBER_COLUMNS: Final = (
    "overall_score",
    "login_score",
    "case_resolution_score",
    "campaign_completion_score",
    "feature_adoption_score",
    "support_ticket_score",
)
# A score's values, likewise.
SCORE_VALUE_COLUMNS: Final = ("score_date", *SCORE_NUMBER_COLUMNS, "previous_score", "trend", "risk_level")
# What the previous score was as computed, and under which profile version (its restatement under the
# score's own version is previous_score, what the trend compares with).
PREVIOUS_PROFILE_COLUMNS: Final = ("previous_score_as_computed", "previous_profile_id", "previous_profile_version")
# The previous score's components, kept on the latest row for the what-if preview (dal/profile_preview.py).
PREVIOUS_COMPONENT_COLUMNS: Final = tuple(f"previous_{column}" for column in SCORE_NUMBER_COLUMNS[1:])
LIST_COLUMNS: Final = (
    "organization_id",
    "organization_name",
    *SCORE_VALUE_COLUMNS,
    "calculated_at",
    "profile_id",
    "profile_version",
    *PREVIOUS_PROFILE_COLUMNS,
)

# The tenants' active overrides, at `now` (a parameter or now()).
ACTIVE_OVERRIDE_SQL: Final = """
    SELECT r.override_id, r.risk_level, r.expires_at FROM risk_overrides r
    WHERE r.organization_id = {org} AND r.cleared_at IS NULL AND r.expires_at > {now}
    ORDER BY r.set_at DESC LIMIT 1
"""

# The scorer's batch statement (dal/score_writes.py) embeds the next two as CTEs: `lapsed` reads the
# batch's tenants whose override had lapsed, `latest` rewrites their latest rows from `written`, the
# scores the statement upserted (RETURNING every column read here).
LAPSED_SQL = """
SELECT organization_id, override_risk_level FROM tenant_latest_scores
WHERE organization_id = ANY(%(organization_id)b::uuid[]) AND override_expires_at <= now()
FOR UPDATE
"""

# Its InitPlan reads `lapsed` whole before the first row is rewritten: a row this statement had
# already rewritten would not be locked (nor read) again, and its lapse would go unannounced.
REFRESH_FROM_WRITTEN_SQL = f"""
INSERT INTO tenant_latest_scores AS l (
    {", ".join(LIST_COLUMNS[:10])}, previous_risk_level, trend, risk_level, calculated_at, profile_id,
    profile_version, {", ".join(PREVIOUS_PROFILE_COLUMNS)}, as_of, total_users, {", ".join(PREVIOUS_COMPONENT_COLUMNS)},
    override_id, override_risk_level, override_expires_at, effective_risk_level, changed_at)
SELECT s.organization_id, o.name, s.score_date, s.overall_score, s.login_score, s.case_resolution_score,
       s.campaign_completion_score, s.feature_adoption_score, s.support_ticket_score, s.previous_score,
       p.risk_level, s.trend, s.risk_level, s.calculated_at, s.profile_id, s.profile_version,
       {", ".join(f"s.{c}" for c in PREVIOUS_PROFILE_COLUMNS)}, s.as_of, s.total_users,
       {", ".join(f"p.{c}" for c in SCORE_NUMBER_COLUMNS[1:])},
       v.override_id, v.risk_level, v.expires_at, coalesce(v.risk_level, s.risk_level), now()
FROM written s
JOIN organizations o ON o.id = s.organization_id
LEFT JOIN LATERAL (
    SELECT t.risk_level, {", ".join(f"t.{c}" for c in SCORE_NUMBER_COLUMNS[1:])} FROM tenant_health_scores t
    WHERE t.organization_id = s.organization_id AND t.score_date < s.score_date
    ORDER BY t.score_date DESC LIMIT 1
) p ON true
LEFT JOIN LATERAL ({ACTIVE_OVERRIDE_SQL.format(org="s.organization_id", now="now()")}) v ON true
WHERE (SELECT count(*) FROM lapsed) >= 0
ON CONFLICT (organization_id) DO UPDATE SET
{", ".join(f"{c} = EXCLUDED.{c}" for c in (*LIST_COLUMNS[1:], "as_of", "total_users", *PREVIOUS_COMPONENT_COLUMNS))},
    previous_risk_level = EXCLUDED.previous_risk_level,
    override_id = EXCLUDED.override_id, override_risk_level = EXCLUDED.override_risk_level,
    override_expires_at = EXCLUDED.override_expires_at, effective_risk_level = EXCLUDED.effective_risk_level,
    changed_at = EXCLUDED.changed_at
WHERE EXCLUDED.score_date >= l.score_date
RETURNING l.organization_id, l.effective_risk_level
"""  # noqa: S608 - column names are constants; every value is a parameter


# A score written late, for a day between a tenant's latest score and the one before it (a replayed
# night), is the previous score from now on: what re-scoring the latest day compares with, so the
# preview's previous components follow it. `written` holds one row a tenant (a batch's scores share
# one day); those `latest` did not take are the late ones. The statement's snapshot does not see
# `written`, so "nothing stored between" is checked against the scores stored before it.
# previous_risk_level stays the one the latest score was written with (newlyHighRisk's meaning).
REFRESH_PREVIOUS_FROM_LATE_SQL = f"""
UPDATE tenant_latest_scores l
SET {", ".join(f"previous_{c} = w.{c}" for c in SCORE_NUMBER_COLUMNS[1:])}
FROM written w
WHERE w.organization_id NOT IN (SELECT organization_id FROM latest)
  AND l.organization_id = w.organization_id AND w.score_date < l.score_date
  AND NOT EXISTS (
      SELECT 1 FROM tenant_health_scores t
      WHERE t.organization_id = w.organization_id AND t.score_date > w.score_date AND t.score_date < l.score_date
  )
"""  # noqa: S608 - column names are constants

REFRESH_OVERRIDE_SQL = f"""
UPDATE tenant_latest_scores l
SET override_id = v.override_id, override_risk_level = v.risk_level, override_expires_at = v.expires_at,
    effective_risk_level = coalesce(v.risk_level, l.risk_level), changed_at = now()
FROM (SELECT %(id)s::uuid AS organization_id) k
LEFT JOIN LATERAL ({ACTIVE_OVERRIDE_SQL.format(org="k.organization_id", now="%(now)s")}) v ON true
WHERE l.organization_id = k.organization_id
"""  # noqa: S608 - a constant fragment; every value is a parameter


def refresh_override(conn: DbConnection, organization_id: UUID, now: datetime) -> None:
    """Copy the tenant's override active at `now` (or none) into its latest row, if it has one."""
    conn.execute(REFRESH_OVERRIDE_SQL, {"id": organization_id, "now": now})


# The list's sort keys: a whitelist, so input never reaches the SQL text.
SORT_KEYS: Final = frozenset({"overall_score", "organization_name", "calculated_at"})


@dataclass(frozen=True)
class ScoreFilters:
    risk_level: str | None = None  # the effective level
    trend: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    newly_high_risk: bool = False  # only the tenants HIGH now (effective) whose previous score was not


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: just after the row with this sort value and organization id."""

    value: Any
    organization_id: UUID


def _filters(alias: str, after: Keyset | None, descending: bool, sort: str) -> sql.Composable:
    """The trend, score and keyset conditions on `alias`'s columns (the risk level is per branch)."""
    t = sql.Identifier(alias)
    parts = [
        sql.SQL("(%(trend)s::text IS NULL OR {t}.trend = %(trend)s::text)"),
        sql.SQL("(%(min_score)s::int IS NULL OR {t}.overall_score >= %(min_score)s::int)"),
        sql.SQL("(%(max_score)s::int IS NULL OR {t}.overall_score <= %(max_score)s::int)"),
    ]
    if after is not None:
        comparison = "<" if descending else ">"
        parts.append(sql.SQL(f"({{t}}.{{c}}, {{t}}.organization_id) {comparison} (%(after_value)s, %(after_id)s)"))
    return sql.SQL(" AND ").join(part.format(t=t, c=sql.Identifier(sort)) for part in parts)


def _order(alias: str | None, sort: str, descending: bool) -> sql.Composable:
    direction = sql.SQL("DESC" if descending else "ASC")
    column = sql.Identifier(alias, sort) if alias else sql.Identifier(sort)
    tiebreak = sql.Identifier(alias, "organization_id") if alias else sql.Identifier("organization_id")
    return sql.SQL("ORDER BY {c} {d}, {t} {d}").format(c=column, t=tiebreak, d=direction)


_LATEST_COLUMNS = sql.SQL(", ").join(sql.Identifier("l", c) for c in LIST_COLUMNS)

# Rows unchanged since the snapshot are as they were then, the override's expiry aside, which is
# compared with the snapshot. The risk filter reads the effective-risk index; rows whose override
# had lapsed by the snapshot have their own branch (few: the index of rows with an override).
CURRENT_BRANCH = sql.SQL("""(
SELECT {columns},
       CASE WHEN l.override_expires_at > %(snapshot)s THEN l.override_risk_level ELSE l.risk_level END
           AS effective_risk_level,
       CASE WHEN l.override_expires_at > %(snapshot)s THEN l.override_id END AS active_override_id
FROM tenant_latest_scores l
WHERE l.changed_at <= %(snapshot)s AND {risk} AND {filters}
{order} LIMIT %(limit)s
)""")
RISK_NOT_LAPSED = sql.SQL(
    "l.effective_risk_level = %(risk_level)s"
    " AND (l.override_expires_at IS NULL OR l.override_expires_at > %(snapshot)s)"
)
RISK_LAPSED = sql.SQL("l.override_expires_at <= %(snapshot)s AND l.risk_level = %(risk_level)s")
# Newly high: HIGH at the snapshot, the previous score's risk another level. The literals match the
# partial indexes of migration 0011; a riskLevel filter other than HIGH leaves nothing.
NEWLY_HIGH = "l.previous_risk_level <> 'HIGH' AND (%(risk_level)s::text IS NULL OR %(risk_level)s::text = 'HIGH')"
NEWLY_HIGH_NOT_LAPSED = sql.SQL(
    "l.effective_risk_level = 'HIGH' AND "
    + NEWLY_HIGH
    + " AND (l.override_expires_at IS NULL OR l.override_expires_at > %(snapshot)s)"
)
NEWLY_HIGH_LAPSED = sql.SQL("l.override_expires_at <= %(snapshot)s AND l.risk_level = 'HIGH' AND " + NEWLY_HIGH)
# The changed branch's: the snapshot's effective risk, and the risk of the score before its score.
CHANGED_NEWLY_HIGH = sql.SQL("""AND coalesce(v.risk_level, s.risk_level) = 'HIGH' AND EXISTS (
        SELECT 1 FROM (
            SELECT t.risk_level FROM tenant_health_scores t
            WHERE t.organization_id = l.organization_id AND t.score_date < s.score_date
            ORDER BY t.score_date DESC LIMIT 1
        ) p WHERE p.risk_level <> 'HIGH'
    )""")

# Rows written after the snapshot (by a nightly run while a client pages): each as it was at the
# snapshot, from the score history and the override history.
CHANGED_BRANCH = sql.SQL("""(
SELECT * FROM (
    SELECT l.organization_id, l.organization_name, s.score_date, s.overall_score, s.login_score,
           s.case_resolution_score, s.campaign_completion_score, s.feature_adoption_score,
           s.support_ticket_score, s.previous_score, s.trend, s.risk_level, s.calculated_at, s.profile_id,
           s.profile_version, s.previous_score_as_computed, s.previous_profile_id, s.previous_profile_version,
           coalesce(v.risk_level, s.risk_level) AS effective_risk_level,
           v.override_id AS active_override_id
    FROM tenant_latest_scores l
    CROSS JOIN LATERAL (
        SELECT * FROM tenant_health_scores t
        WHERE t.organization_id = l.organization_id AND t.calculated_at <= %(snapshot)s
        ORDER BY t.score_date DESC LIMIT 1
    ) s
    LEFT JOIN LATERAL (
        SELECT r.override_id, r.risk_level FROM risk_overrides r
        WHERE r.organization_id = l.organization_id AND r.set_at <= %(snapshot)s
          AND r.expires_at > %(snapshot)s AND (r.cleared_at IS NULL OR r.cleared_at > %(snapshot)s)
        ORDER BY r.set_at DESC LIMIT 1
    ) v ON true
    WHERE l.changed_at > %(snapshot)s {newly}
) x
WHERE (%(risk_level)s::text IS NULL OR x.effective_risk_level = %(risk_level)s::text) AND {filters}
{order} LIMIT %(limit)s
)""")

PAGE_SQL = sql.SQL("""
SELECT page.*, r.reason AS override_reason, r.set_by AS override_set_by, r.set_at AS override_set_at,
       r.expires_at AS override_expires_at, r.risk_level AS override_risk_level
FROM ({branches}) page
LEFT JOIN risk_overrides r ON r.override_id = page.active_override_id
{order} LIMIT %(limit)s
""")


@dataclass(frozen=True)
class PageRequest:
    sort: str  # one of SORT_KEYS
    descending: bool
    limit: int
    filters: ScoreFilters
    snapshot: datetime  # rows as they were at this time
    after: Keyset | None = None


def latest_scores_page(conn: DbConnection, page: PageRequest) -> list[dict[str, Any]]:
    """One page of each tenant's latest score as of the snapshot, ordered by (sort, organization id)."""
    query, params = page_query(page)
    return conn.execute(query, params).fetchall()


def page_query(page: PageRequest) -> tuple[sql.Composed, dict[str, Any]]:
    """The statement and parameters of `latest_scores_page` (bench/api_list.py explains them)."""
    sort, descending, after, filters = page.sort, page.descending, page.after, page.filters
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort key {sort}")
    current = {"columns": _LATEST_COLUMNS, "filters": _filters("l", after, descending, sort)}
    current["order"] = _order("l", sort, descending)
    if filters.newly_high_risk:
        risks = [NEWLY_HIGH_NOT_LAPSED, NEWLY_HIGH_LAPSED]
    elif filters.risk_level is not None:
        risks = [RISK_NOT_LAPSED, RISK_LAPSED]
    else:
        risks = [sql.SQL("true")]
    branches = [CURRENT_BRANCH.format(risk=risk, **current) for risk in risks]
    branches.append(
        CHANGED_BRANCH.format(
            filters=_filters("x", after, descending, sort),
            order=_order("x", sort, descending),
            newly=CHANGED_NEWLY_HIGH if filters.newly_high_risk else sql.SQL(""),
        )
    )
    query = PAGE_SQL.format(branches=sql.SQL(" UNION ALL ").join(branches), order=_order(None, sort, descending))
    params = {
        **asdict(filters),
        "snapshot": page.snapshot,
        "limit": page.limit,
        "after_value": after.value if after else None,
        "after_id": after.organization_id if after else None,
    }
    return query, params


# The portfolio at `now` from the counters the trigger keeps (migrations 0008, 0011), corrected for
# overrides that have lapsed since their row was written: those count at the formula's level.
NEWLY_HIGH_NOW: Final = "coalesce({risk} = 'HIGH' AND l.previous_risk_level <> 'HIGH', false)::int"
SUMMARY_SQL = f"""
SELECT c.effective_risk_level AS risk_level, c.trend, c.tenants, c.score_sum, c.newly_high FROM tenant_score_counts c
UNION ALL
SELECT l.effective_risk_level, l.trend, -1, 0, -{NEWLY_HIGH_NOW.format(risk="l.effective_risk_level")}
FROM tenant_latest_scores l WHERE l.override_expires_at <= %(now)s
UNION ALL
SELECT l.risk_level, l.trend, 1, 0, {NEWLY_HIGH_NOW.format(risk="l.risk_level")}
FROM tenant_latest_scores l WHERE l.override_expires_at <= %(now)s
"""  # noqa: S608 - constant expressions


@dataclass(frozen=True)
class Portfolio:
    tenants: int
    by_risk: dict[str, int]
    by_trend: dict[str, int]
    score_sum: int
    newly_high: int  # effective risk HIGH at `now`, previous score's risk not HIGH


def portfolio(conn: DbConnection, now: datetime) -> Portfolio:
    """Counts by effective risk at `now` and by trend, the sum of scores, and the newly high, over every latest row."""
    by_risk: Counter[str] = Counter()
    by_trend: Counter[str] = Counter()
    score_sum = newly_high = 0
    for row in conn.execute(SUMMARY_SQL, {"now": now}):
        by_risk[row["risk_level"]] += row["tenants"]
        by_trend[row["trend"]] += row["tenants"]
        score_sum += row["score_sum"]
        newly_high += row["newly_high"]
    return Portfolio(sum(by_risk.values()), dict(by_risk), dict(by_trend), score_sum, newly_high)


def newly_high_risk(conn: DbConnection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The first `limit` rows newly high at `now`, lowest score first (GET /scores?newlyHighRisk=true's order).

    A tenant's first score has no previous score, so it is not newly high risk.
    """
    page = PageRequest("overall_score", False, limit, ScoreFilters(newly_high_risk=True), snapshot=now)
    return latest_scores_page(conn, page)
