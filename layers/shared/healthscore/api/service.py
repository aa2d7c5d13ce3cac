"""The API's use cases: read and shape scores, metrics, adoption and runs; queue work.

Each function takes the connection and validated parameters and returns a response
model, raising a `problems` error for what the caller got wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

from healthscore.api.cursor import Cursor, decode_cursor
from healthscore.api.problems import BadBodyError, BadParameterError, ResourceNotFoundError
from healthscore.config import get_settings
from healthscore.core.metrics import MetricType, rate
from healthscore.core.overrides import OverrideRuleError
from healthscore.core.risk_change import contribution_deltas
from healthscore.core.weights import COMPONENTS
from healthscore.dal import features, latest_scores, metrics, organizations, overrides, restated_scores, runs, scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_scores import LIST_COLUMNS, Keyset, PageRequest, ScoreFilters
from healthscore.logic import overrides as override_use_cases
from healthscore.logic import run_requests
from healthscore.models.api import (
    NEWLY_HIGH_RISK_LIMIT,
    Adoption,
    ContributionChange,
    FeatureUsage,
    HistoryBasis,
    HistoryPoint,
    MetricHistory,
    MetricPoint,
    OverrideHistory,
    OverrideRecord,
    OverrideRequest,
    PortfolioSummary,
    RecalculationQueued,
    RiskCounts,
    RiskOverride,
    RunProgress,
    RunStarted,
    ScoreChange,
    ScoreDetail,
    ScoreHistory,
    ScoreList,
    ScoreSummary,
    SortBy,
    SortOrder,
    TrendCounts,
)

SORT_COLUMNS: Final[dict[SortBy, str]] = {
    "overallScore": "overall_score",
    "organizationName": "organization_name",
    "calculatedAt": "calculated_at",
}


@dataclass(frozen=True)
class ScoreListQuery:
    filters: ScoreFilters
    sort_by: SortBy
    order: SortOrder
    limit: int
    cursor: str | None


def list_scores(conn: DbConnection, query: ScoreListQuery) -> ScoreList:
    """A page of every tenant's latest score; `nextCursor` continues it at the same snapshot."""
    low, high = query.filters.min_score, query.filters.max_score
    if low is not None and high is not None and low > high:
        raise BadParameterError("minScore", f"{low} is above maxScore {high}")
    cursor = decode_cursor(query.cursor, query.sort_by, query.order) if query.cursor else None
    snapshot = cursor.snapshot if cursor else scores.database_now(conn)
    column = SORT_COLUMNS[query.sort_by]
    page_request = PageRequest(
        sort=column,
        descending=query.order == "desc",
        limit=query.limit + 1,  # one more than asked tells whether another page exists
        filters=query.filters,
        snapshot=snapshot,
        after=Keyset(cursor.value, cursor.organization_id) if cursor else None,
    )
    rows = latest_scores.latest_scores_page(conn, page_request)
    page = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = page[-1]
        next_cursor = Cursor(
            sort_by=query.sort_by,
            order=query.order,
            value=last[column],
            organization_id=last["organization_id"],
            snapshot=snapshot,
        ).encode()
    return ScoreList(items=[_score_object(row) for row in page], next_cursor=next_cursor)


def _score_object(row: dict[str, Any]) -> ScoreSummary:
    """A row of the latest-score listing (with its effective risk and active override's columns).

    Built without validation: the columns' types are the model's (a page of 200, or a summary's
    newlyHighRisk of a large fleet, spent most of its time validating them again).
    """
    override = _override_of(row, prefix="override_", trusted=True)
    return ScoreSummary.model_construct(**_score_fields(row, override))


def _score_fields(row: dict[str, Any], override: RiskOverride | None) -> dict[str, Any]:
    return {
        **{column: row[column] for column in LIST_COLUMNS},
        "risk_level": override.risk_level if override else row["risk_level"],
        "computed_risk_level": row["risk_level"],
        "override": override,
    }


def _override_of(row: dict[str, Any] | None, prefix: str = "", *, trusted: bool = False) -> RiskOverride | None:
    if row is None or row[f"{prefix}set_at"] is None:
        return None
    fields = {name: row[prefix + name] for name in RiskOverride.model_fields}
    return RiskOverride.model_construct(**fields) if trusted else RiskOverride.model_validate(fields)


def score_detail(conn: DbConnection, organization_id: UUID) -> ScoreDetail:
    """The tenant's latest score, what it is made of, and what moved it since the previous one."""
    row = scores.latest_score(conn, organization_id)
    if row is None:
        require_organization(conn, organization_id)
        raise ResourceNotFoundError(f"Organization {organization_id} has no score yet")
    active = _override_of(override_use_cases.active_override(conn, organization_id, utc_now()))
    explanation = row["explanation"]
    contributions = _by_component(explanation.get("contributions", {}))
    return ScoreDetail.model_validate(
        {
            **_score_fields(row, active),
            "weights": _by_component({name: float(weight) for name, weight in row["weights"].items()}),
            "contributions": contributions,
            "missing_components": explanation.get("missingComponents", []),
            "inputs": row["inputs"],
            "approximate": bool(row["inputs"].get("approximate", False)),  # absent before late scoring existed
            "run_id": row["run_id"],
            "as_of": row["as_of"],
            "change": _change(conn, row, contributions),
        }
    )


def _by_component(values: dict[str, float]) -> dict[str, float]:
    """In the components' usual order (JSONB keeps its own)."""
    return {name: values[name] for name in COMPONENTS if name in values}


def _change(conn: DbConnection, row: dict[str, Any], contributions: dict[str, float]) -> ScoreChange | None:
    """Against the previous score restated under this score's profile version (stored with the score);
    a score stored before restating existed compares with the previous score's own contributions."""
    if row["previous_score"] is None:
        return None
    explanation = row["explanation"]
    before = explanation.get("previousContributions")
    previous_date = explanation.get("previousScoreDate")
    if before is None:
        organization_id = row["organization_id"]
        previous = scores.scores_before(conn, [organization_id], row["score_date"]).get(organization_id)
        before = previous["contributions"] if previous else {}
        previous_date = previous["score_date"].isoformat() if previous else None
    changes = [
        ContributionChange(
            component=name, previous=before.get(name, 0), current=contributions.get(name, 0), delta=delta
        )
        for name, delta in contribution_deltas(contributions, before).items()
    ]
    return ScoreChange(
        previous_score=row["previous_score"],
        previous_score_date=date.fromisoformat(previous_date) if previous_date else None,
        delta=row["overall_score"] - row["previous_score"],
        contributions=changes,  # biggest movement first
    )


def score_history(conn: DbConnection, organization_id: UUID, days: int, basis: HistoryBasis) -> ScoreHistory:
    require_organization(conn, organization_id)
    rows = restated_scores.score_history(conn, organization_id, days, until=_today(), restated=basis == "restated")
    items = [HistoryPoint.model_validate({**row, "date": row["score_date"]}) for row in rows]
    return ScoreHistory(organization_id=organization_id, items=items)


def metric_history(conn: DbConnection, organization_id: UUID, metric_type: MetricType, days: int) -> MetricHistory:
    require_organization(conn, organization_id)
    rows = metrics.metric_history(conn, organization_id, metric_type, days, until=_today())
    items = [MetricPoint(date=row["metric_date"], value=row["value"], change_pct=row["change_pct"]) for row in rows]
    return MetricHistory(organization_id=organization_id, metric_type=metric_type, items=items)


def adoption(conn: DbConnection, organization_id: UUID) -> Adoption:
    """Enabled and used features, counted as the featureAdoption component counts them."""
    require_organization(conn, organization_id)
    rows = features.organization_features(conn, organization_id)
    enabled = sum(1 for row in rows if row["enabled"])
    used = sum(1 for row in rows if row["enabled"] and row["is_used"])
    adoption_rate = rate(used, enabled)  # as FEATURE_ADOPTION_RATE is recorded
    return Adoption(
        organization_id=organization_id,
        enabled_count=enabled,
        used_count=used,
        adoption_rate=None if adoption_rate is None else float(adoption_rate),
        features=[FeatureUsage.model_validate(row) for row in rows],
    )


def recalculate(conn: DbConnection, organization_id: UUID) -> RecalculationQueued:
    require_organization(conn, organization_id)
    run = run_requests.queue_recalculation(conn, organization_id)
    return RecalculationQueued(
        message="Recalculation queued", organization_id=organization_id, run_id=run.run_id, as_of=run.as_of
    )


def calculate_all(conn: DbConnection) -> RunStarted:
    """RunInProgressError (409) while another calculate-scores run is in progress."""
    run = run_requests.start_calculate_all(conn)
    return RunStarted(message="Score calculation started for every active tenant", run_id=run.run_id, as_of=run.as_of)


def run_progress(conn: DbConnection, run_id: str) -> RunProgress:
    row = runs.run_progress(conn, run_id)
    if row is None:
        raise ResourceNotFoundError(f"Run {run_id} not found")
    settled = row["done"] + row["skipped"] + row["failed"]
    pending = None if row["tenant_count"] is None else max(0, row["tenant_count"] - settled)
    return RunProgress(
        run_id=row["run_id"],
        job=row["job"],
        as_of=row["as_of"],
        tenant_count=row["tenant_count"],
        scored=row["done"],
        skipped=row["skipped"],
        failed=row["failed"],
        pending=pending,
        complete=pending == 0,
        started_at=row["started_at"],
        enqueued_at=row["enqueued_at"],
        last_update_at=row["last_update"],
    )


def set_override(conn: DbConnection, organization_id: UUID, body: OverrideRequest, set_by: str) -> RiskOverride:
    """Set the tenant's risk override (replacing the active one); the tenant may have no score yet."""
    require_organization(conn, organization_id)
    new = override_use_cases.NewOverride(body.risk_level, body.reason, body.expires_at)
    try:
        row = override_use_cases.set_override(
            conn, organization_id, new, set_by=set_by, now=utc_now(), bus_name=get_settings().risk_event_bus_name
        )
    except OverrideRuleError as exc:
        raise BadBodyError(exc.field, exc.problem) from None
    override = _override_of(row)
    assert override is not None
    return override


def clear_override(conn: DbConnection, organization_id: UUID, cleared_by: str) -> None:
    require_organization(conn, organization_id)
    try:
        override_use_cases.clear_override(
            conn, organization_id, cleared_by=cleared_by, now=utc_now(), bus_name=get_settings().risk_event_bus_name
        )
    except override_use_cases.NoActiveOverrideError as exc:
        raise ResourceNotFoundError(str(exc)) from None


def override_history(conn: DbConnection, organization_id: UUID) -> OverrideHistory:
    require_organization(conn, organization_id)
    rows = overrides.override_history(conn, organization_id)
    return OverrideHistory(organization_id=organization_id, items=[OverrideRecord.model_validate(r) for r in rows])


def summary(conn: DbConnection) -> PortfolioSummary:
    """The portfolio over each tenant's latest score, by effective risk, at one database time."""
    now = scores.database_now(conn)
    counts = latest_scores.portfolio(conn, now)
    risk, trend = counts.by_risk, counts.by_trend
    return PortfolioSummary(
        tenants=counts.tenants,
        by_risk=RiskCounts(LOW=risk.get("LOW", 0), MEDIUM=risk.get("MEDIUM", 0), HIGH=risk.get("HIGH", 0)),
        by_trend=TrendCounts(
            IMPROVING=trend.get("IMPROVING", 0), STABLE=trend.get("STABLE", 0), DECLINING=trend.get("DECLINING", 0)
        ),
        average_score=round(counts.score_sum / counts.tenants, 2) if counts.tenants else None,
        newly_high_risk=[_score_object(row) for row in latest_scores.newly_high_risk(conn, now, NEWLY_HIGH_RISK_LIMIT)],
        newly_high_risk_count=counts.newly_high,
    )


def require_organization(conn: DbConnection, organization_id: UUID) -> None:
    if not organizations.organization_exists(conn, organization_id):
        raise ResourceNotFoundError(f"Organization {organization_id} not found")


def utc_now() -> datetime:
    """The API's clock (tests replace it to set overrides in the past)."""
    return datetime.now(UTC)


def _today() -> date:
    return utc_now().date()
