"""The HTTP API's request and response bodies (README: the HTTP API; openapi.json): JSON in camelCase."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from healthscore.core.metrics import MetricType
from healthscore.core.scoring import RiskLevel, Trend
from healthscore.core.text import StoredText
from healthscore.core.weights import Component
from healthscore.models.messages import RunJob

SortBy = Literal["overallScore", "organizationName", "calculatedAt"]
SortOrder = Literal["asc", "desc"]


class ApiModel(BaseModel):
    """Python names in snake_case, JSON names in camelCase."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class RiskOverride(ApiModel):
    """A CSM's risk level for the tenant, applying until `expiresAt`."""

    risk_level: RiskLevel
    reason: str
    set_by: str = Field(description="The principal who set it")
    set_at: datetime
    expires_at: datetime


class ScoreSummary(ApiModel):
    """A score object, with the portal's field names; `riskLevel` is the effective level."""

    organization_id: UUID
    organization_name: str
    score_date: date
    overall_score: int
    login_score: int | None = Field(description="Null: no data for the component")
    case_resolution_score: int | None
    campaign_completion_score: int | None
    feature_adoption_score: int | None
    support_ticket_score: int | None
    previous_score: int | None = Field(
        description="The previous score restated under this score's profile version: what the trend compares with"
    )
    trend: Trend
    risk_level: RiskLevel = Field(description="The override's level while one is active, else computedRiskLevel")
    computed_risk_level: RiskLevel = Field(description="The level the score's formula gives")
    override: RiskOverride | None = Field(description="The active override; null when none")
    calculated_at: datetime
    profile_id: str = Field(description="The scoring profile that produced the score")
    profile_version: int
    previous_score_as_computed: int | None = Field(
        description="The previous score as it was computed and shown, under previousProfileId's version"
    )
    previous_profile_id: str | None = Field(description="The profile that computed the previous score")
    previous_profile_version: int | None


class ScoreList(ApiModel):
    items: list[ScoreSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class ContributionChange(ApiModel):
    """One component's share of the overall score, in points, now and at the previous score."""

    component: Component
    previous: float
    current: float
    delta: float


class ScoreChange(ApiModel):
    """What drove the change since the previous score, largest movement first."""

    previous_score: int
    previous_score_date: date | None
    delta: int
    contributions: list[ContributionChange]


class ScoreDetail(ScoreSummary):
    weights: dict[Component, float]
    contributions: dict[Component, float] = Field(description="Points each component adds to the overall score")
    missing_components: list[Component] = Field(description="Components without data, left out of the weighting")
    inputs: dict[str, Any] = Field(description="The raw inputs over the scoring window")
    approximate: bool = Field(
        description="True when login and feature adoption were read after as_of's UTC day with no record of "
        "that day: their current values stand in for the day's (inputs.unknownUsers says how many users it affects)"
    )
    run_id: str
    as_of: datetime
    change: ScoreChange | None = Field(description="Null for a tenant's first score")


class OverrideRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    risk_level: RiskLevel
    reason: StoredText = Field(min_length=1, max_length=500, description="Why (1-500 characters)")
    expires_at: datetime = Field(description="In the future, at most 90 days ahead; without a time zone it is UTC")


class OverrideRecord(RiskOverride):
    """An override as recorded: cleared by hand (`clearedAt`, `clearedBy`) or not."""

    cleared_at: datetime | None
    cleared_by: str | None


class OverrideHistory(ApiModel):
    organization_id: UUID
    items: list[OverrideRecord] = Field(description="Newest first")


class RiskCounts(ApiModel):
    model_config = ConfigDict(alias_generator=None, populate_by_name=True, frozen=True)

    LOW: int
    MEDIUM: int
    HIGH: int


class TrendCounts(ApiModel):
    model_config = ConfigDict(alias_generator=None, populate_by_name=True, frozen=True)

    IMPROVING: int
    STABLE: int
    DECLINING: int


# GET /summary lists at most this many newly high tenants (the most urgent); newlyHighRiskCount
# counts them all and GET /scores?newlyHighRisk=true pages through them. Uncapped, a fleet of
# 100,000 with a 15% flip rate answers ~8 MB, above Lambda's 6 MB response payload limit.
NEWLY_HIGH_RISK_LIMIT: Final = 100


class PortfolioSummary(ApiModel):
    tenants: int = Field(description="Tenants with a score")
    by_risk: RiskCounts = Field(description="By effective risk level")
    by_trend: TrendCounts
    average_score: float | None = Field(description="Mean latest overall score; null with no scores")
    newly_high_risk: list[ScoreSummary] = Field(
        description="The most urgent of the tenants newly high risk (effective risk HIGH now, previous score's risk"
        f" not HIGH): at most {NEWLY_HIGH_RISK_LIMIT}, lowest overall score first, then organizationId; all of"
        " them are GET /scores?newlyHighRisk=true (these are its first page with sortBy=overallScore&order=asc)"
    )
    newly_high_risk_count: int = Field(description="How many tenants are newly high risk in all")


HistoryBasis = Literal["computed", "restated"]


class HistoryPoint(ApiModel):
    date: date
    overall_score: int
    trend: Trend
    risk_level: RiskLevel
    basis: HistoryBasis = Field(description="restated: under a restatement's profile version; computed: as scored")
    profile_id: str
    profile_version: int


class RestateRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    first_day: date = Field(alias="from", description="The first day to restate (YYYY-MM-DD)")
    last_day: date = Field(alias="to", description="The last day to restate: not in the future, at most 400 days on")


class RestatementStarted(ApiModel):
    message: str
    run_id: str = Field(description="Follow it with GET /runs/{runId}")
    profile_id: str
    profile_version: int = Field(description="The active version, under which the days are restated")
    tenants: int = Field(description="The tenants the profile scores today, whose stored days are restated")


class ScoreHistory(ApiModel):
    organization_id: UUID
    items: list[HistoryPoint]


class MetricPoint(ApiModel):
    date: date
    value: float
    change_pct: float | None


class MetricHistory(ApiModel):
    organization_id: UUID
    metric_type: MetricType
    items: list[MetricPoint]


class FeatureUsage(ApiModel):
    feature_key: str
    enabled: bool
    is_used: bool
    last_used_at: datetime | None


class Adoption(ApiModel):
    organization_id: UUID
    enabled_count: int
    used_count: int
    adoption_rate: float | None = Field(description="usedCount / enabledCount (0-1); null with no enabled feature")
    features: list[FeatureUsage]


class RecalculationQueued(ApiModel):
    message: str
    organization_id: UUID
    run_id: str
    as_of: datetime


class RunStarted(ApiModel):
    message: str
    run_id: str
    as_of: datetime


class RunProgress(ApiModel):
    run_id: str
    job: RunJob
    as_of: datetime
    tenant_count: int | None = Field(description="Tenants enqueued; null until the fan-out has finished enqueuing")
    scored: int = Field(description="Tenants done: scored (or, for record-metrics, recorded)")
    skipped: int
    failed: int
    pending: int | None = Field(description="tenantCount - scored - skipped - failed; null while tenantCount is")
    complete: bool
    started_at: datetime
    enqueued_at: datetime | None
    last_update_at: datetime | None


class FieldError(ApiModel):
    field: str
    location: str = Field(description="query, path or body")
    message: str
    type: str


class ErrorBody(ApiModel):
    message: str
    errors: list[FieldError] | None = None
    correlation_id: str | None = Field(None, description="The request id to quote when reporting a 500")


class RunInProgress(ApiModel):
    """409: a run of the same job is still in progress, so none was started."""

    message: str
    run_id: str = Field(description="The run still in progress; follow it with GET /runs/{runId}")
