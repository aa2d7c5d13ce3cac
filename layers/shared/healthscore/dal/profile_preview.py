"""The what-if preview as one set-based statement over the stored integer component scores.

A profile changes only how a score's integer components combine (core/scoring.py, `weighted_overall`), so
a tenant's latest stored components give, exactly, its overall under a candidate, and its previous score's
components the previous score restated under it: what the trend compares with. Each `round` is an exact
`div(2p + q, 2q)` of numerics, as in integers `rounded_ratio`; no value is computed in floating point.

It reads each tenant's row of `tenant_latest_scores`, which keeps the previous score's components, the
score's as-of and its total users beside the latest score (written with it): one row a tenant in one
pass, where probing the scores' primary key twice a tenant cost 8 buffer pages a tenant. A score
written late, for a day between a tenant's latest score and the one before it, becomes the previous
components of that row in the statement that writes it (dal/score_writes.py), as re-scoring the latest
day would compare with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from psycopg import sql

from healthscore.core.profiles import ScoringProfile
from healthscore.core.weights import COMPONENTS
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import SCORE_NUMBER_COLUMNS

COMPONENT_COLUMNS: Final = dict(zip(COMPONENTS, SCORE_NUMBER_COLUMNS[1:], strict=True))
MOVERS: Final = 20

# Each ACTIVE tenant's latest score and the previous score's components, from its latest row (one row a
# tenant, read in one pass: no probe of the scores per tenant).
SCORED_SQL = sql.SQL("""
SELECT o.id AS organization_id, o.name AS organization_name, s.overall_score AS score_from,
       s.risk_level AS risk_from, {overall} AS score_to, {previous} AS previous_to
FROM tenant_latest_scores s
JOIN organizations o ON o.id = s.organization_id
WHERE o.status = 'ACTIVE' AND {matches}
""")

# Trend and risk (core/scoring.py's `trend` and `risk_level`) of `score_to` against `previous_to` under a
# profile's thresholds (`thresholds`' parameters).
JUDGED_SQL = sql.SQL("""
SELECT x.*, CASE
    WHEN x.score_to < %(high)s OR (x.score_to < %(high_if_declining)s AND x.declining) THEN 'HIGH'
    WHEN x.score_to < %(medium)s OR x.declining THEN 'MEDIUM'
    ELSE 'LOW' END AS risk_to,
    CASE WHEN x.declining THEN 'DECLINING'
         WHEN x.score_to - x.previous_to > %(trend_threshold)s THEN 'IMPROVING'
         ELSE 'STABLE' END AS trend_to
FROM (
    SELECT y.*, coalesce(y.score_to - y.previous_to < -%(trend_threshold)s, false) AS declining
    FROM ({scored}) y
) x
""")


def thresholds(profile: ScoringProfile) -> dict[str, int]:
    """JUDGED_SQL's parameters."""
    risk = profile.risk_thresholds
    return {
        "high": risk.high,
        "high_if_declining": risk.high_if_declining,
        "medium": risk.medium,
        "trend_threshold": profile.trend_threshold,
    }


PREVIEW_SQL = sql.SQL("""
WITH judged AS MATERIALIZED ({judged})
SELECT risk_from, risk_to, count(*) AS tenants, count(*) FILTER (WHERE score_from <> score_to) AS changed,
       NULL::uuid AS organization_id, NULL::text AS organization_name, NULL::int AS score_from, NULL::int AS score_to
FROM judged GROUP BY risk_from, risk_to
UNION ALL (
    SELECT risk_from, risk_to, NULL, NULL, organization_id, organization_name, score_from, score_to
    FROM judged WHERE score_from <> score_to OR risk_from <> risk_to
    ORDER BY abs(score_to - score_from) DESC, risk_from = risk_to, organization_id
    LIMIT %(movers)s
)
""")


@dataclass(frozen=True)
class PreviewRows:
    transitions: list[dict[str, Any]]  # risk_from, risk_to, tenants, changed
    movers: list[dict[str, Any]]  # largest absolute change first


def weighted_overall_sql(
    alias: str, profile: ScoringProfile, prefix: str, columns: str = ""
) -> tuple[sql.Composable, dict[str, Any]]:
    """`weighted_overall` of `alias`'s stored components (named `columns` + the component's column) under
    `profile`, with its parameters.

    In bigint where every sum fits (weights of a few decimals: units of at most millions), whose integer
    division of non-negative values is the floor, several times faster than numeric; in numeric otherwise.
    """
    units = profile.weight_units
    small = 200 * sum(units.values()) < 2**62
    exact = sql.SQL("bigint" if small else "numeric")
    params: dict[str, Any] = {f"{prefix}neutral": profile.neutral_score}
    points, weights = [], []
    for name, column in COMPONENT_COLUMNS.items():
        unit = sql.SQL("{}::{}").format(sql.Placeholder(f"{prefix}{name}"), exact)
        params[f"{prefix}{name}"] = units[name]
        score = sql.Identifier(alias, columns + column)
        if profile.missing_data == "neutral":
            neutral = sql.SQL("{}::{}").format(sql.Placeholder(f"{prefix}neutral"), exact)
            points.append(sql.SQL("coalesce({s}, {n}) * {u}").format(s=score, n=neutral, u=unit))
            weights.append(unit)
        else:
            points.append(sql.SQL("coalesce({s} * {u}, 0)").format(s=score, u=unit))
            weights.append(sql.SQL("CASE WHEN {s} IS NULL THEN 0 ELSE {u} END").format(s=score, u=unit))
    p, q = sql.SQL(" + ").join(points), sql.SQL(" + ").join(weights)
    # NULL where nothing can be weighed (a row stored without components): never the case of a scorer's row.
    division = "(2 * ({p}) + ({q})) / nullif(2 * ({q}), 0)" if small else "div(2 * ({p}) + ({q}), nullif(2 * ({q}), 0))"
    return sql.SQL("(" + division + ")::int").format(p=p, q=q), params


def _segment(profile: ScoringProfile, index: int) -> tuple[sql.Composable, dict[str, Any]]:
    """core/profile_matching.py's `segment_matches` on (o, s): the tenant as of its latest score (s, its row of
    tenant_latest_scores: as_of and total_users)."""
    segment, conditions = profile.segment, []
    params: dict[str, Any] = {}
    key = f"segment{index}_"
    if segment.tenant_age_days_below is not None:
        params[key + "age"] = segment.tenant_age_days_below
        conditions.append(
            sql.SQL("(o.created_at IS NOT NULL AND s.as_of - o.created_at < make_interval(days => {}))").format(
                sql.Placeholder(key + "age")
            )
        )
    if segment.min_users is not None:
        params[key + "min"] = segment.min_users
        conditions.append(sql.SQL("s.total_users >= {}").format(sql.Placeholder(key + "min")))
    if segment.max_users is not None:
        params[key + "max"] = segment.max_users
        conditions.append(sql.SQL("s.total_users <= {}").format(sql.Placeholder(key + "max")))
    if segment.organization_ids is not None:
        params[key + "ids"] = list(segment.organization_ids)
        conditions.append(sql.SQL("o.id = ANY({}::uuid[])").format(sql.Placeholder(key + "ids")))
    if not conditions:
        return sql.SQL("true"), {}
    return sql.SQL("({})").format(sql.SQL(" AND ").join(conditions)), params


def _judged(candidate: ScoringProfile, earlier: list[ScoringProfile]) -> tuple[sql.Composed, dict[str, Any]]:
    """Every tenant the candidate scores (it matches, no profile tried before it does), judged under it."""
    overall, params = weighted_overall_sql("s", candidate, "to_")
    previous, previous_params = weighted_overall_sql("s", candidate, "previous_", "previous_")
    matches, match_params = _matches(candidate, earlier)
    scored = SCORED_SQL.format(
        overall=overall,
        previous=sql.SQL("CASE WHEN s.previous_support_ticket_score IS NULL THEN NULL ELSE {} END").format(previous),
        matches=matches,
    )
    return JUDGED_SQL.format(scored=scored), params | previous_params | match_params | thresholds(candidate)


MATCHED_SQL = sql.SQL("""
SELECT o.id FROM tenant_latest_scores s JOIN organizations o ON o.id = s.organization_id
WHERE o.status = 'ACTIVE' AND {matches}
ORDER BY o.id
""")


def _matches(profile: ScoringProfile, earlier: list[ScoringProfile]) -> tuple[sql.Composable, dict[str, Any]]:
    """The profile's segment holds and no earlier profile's does."""
    matches, params = _segment(profile, 0)
    excluded = []
    for index, other in enumerate(earlier, start=1):
        condition, condition_params = _segment(other, index)
        excluded.append(sql.SQL("NOT {}").format(condition))
        params |= condition_params
    return sql.SQL(" AND ").join([matches, *excluded]), params


def scored_by(conn: DbConnection, profile: ScoringProfile, earlier: list[ScoringProfile]) -> list[Any]:
    """The ACTIVE tenants with a score that `profile` scores, as of their latest score (the preview's tenants)."""
    matches, params = _matches(profile, earlier)
    return [row["id"] for row in conn.execute(MATCHED_SQL.format(matches=matches), params)]


def preview_rows(conn: DbConnection, candidate: ScoringProfile, earlier: list[ScoringProfile]) -> PreviewRows:
    """Risk transitions (with counts of changed scores) and the movers, `earlier`: the profiles tried first."""
    judged, params = _judged(candidate, earlier)
    rows = conn.execute(PREVIEW_SQL.format(judged=judged), params | {"movers": MOVERS}).fetchall()
    return PreviewRows(
        transitions=[row for row in rows if row["tenants"] is not None],
        movers=[row for row in rows if row["tenants"] is None],
    )


def previewed_tenants(
    conn: DbConnection, candidate: ScoringProfile, earlier: list[ScoringProfile]
) -> list[dict[str, Any]]:
    """Every tenant the preview counts, with its score and risk from and to (what it aggregates)."""
    judged, params = _judged(candidate, earlier)
    return conn.execute(judged, params).fetchall()
