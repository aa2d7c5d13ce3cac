"""The health score, exactly as docs/scoring.md defines it. Pure: no I/O.

Every ratio, average and weighted sum is an exact `Fraction`; `round_half_up` is
applied to the exact value, so a weighted sum of exactly 58.5 rounds to 59, which
binary floating point gets wrong for some tenants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

from healthscore.core.profiles import RiskThresholds, ScoringProfile
from healthscore.core.weights import COMPONENTS, Component

Trend = Literal["IMPROVING", "STABLE", "DECLINING"]
RiskLevel = Literal["LOW", "MEDIUM", "HIGH"]

FULL_LOGIN_RATE = Fraction(7, 10)  # 70% of users active in the window scores 100
TREND_THRESHOLD = 5
DEFAULT_RISK_THRESHOLDS = RiskThresholds()
USERS_PER_NORMAL_TICKET = 10  # one ticket per ten users a month is normal
POINTS_PLACES = 4  # contributions, in points, are stored and compared to 4 decimal places


@dataclass(frozen=True)
class UsageInputs:
    """One tenant's raw inputs over the window `[as_of - 30 days, as_of]`."""

    total_users: int
    active_users: int
    cases_closed: int
    cases_on_time: int
    campaigns_completed: int  # every campaign completed in the window
    # (completed_assignments, total_assignments) of each campaign completed in the
    # window with total_assignments > 0; kept as pairs so the average stays exact.
    campaign_assignments: tuple[tuple[int, int], ...]
    features_enabled: int
    features_used: int
    tracks_support_tickets: bool
    ticket_count: int | None  # None when tickets are not tracked

    @property
    def campaign_completion_average(self) -> Fraction | None:
        if not self.campaign_assignments:
            return None
        ratios = [Fraction(done, total) for done, total in self.campaign_assignments]
        return sum(ratios, Fraction(0)) / len(ratios)

    @property
    def baseline_tickets(self) -> int:
        return max(1, -(-self.total_users // USERS_PER_NORMAL_TICKET))


@dataclass(frozen=True)
class ComponentScores:
    login: int | None
    caseResolution: int | None  # noqa: N815 - names of HEALTH_WEIGHTS
    campaignCompletion: int | None  # noqa: N815
    featureAdoption: int | None  # noqa: N815
    supportTickets: int  # noqa: N815 - always has data

    def of(self) -> dict[Component, int | None]:
        return {name: getattr(self, name) for name in COMPONENTS}


@dataclass(frozen=True)
class HealthScore:
    overall: int
    components: ComponentScores
    missing: tuple[Component, ...]  # components with no data
    # The scores weighed (a component without data at the profile's neutralScore when its missingData
    # is `neutral`; left out when `renormalize`) and their weights, as integers over one denominator.
    weighed: dict[Component, int]
    weight_units: dict[Component, int]

    @property
    def contributions(self) -> dict[Component, Fraction]:
        """Each weighed component's contribution to the overall, in points (score * renormalized weight)."""
        total = sum(self.weight_units[name] for name in self.weighed)
        return {name: Fraction(score * self.weight_units[name], total) for name, score in self.weighed.items()}

    def contribution_points(self) -> dict[Component, float]:
        """`contributions` as stored, rounded to POINTS_PLACES: the same floats, since int / int is correctly
        rounded as float(Fraction) is, without a Fraction per component (the scorer stores two sets a tenant)."""
        units = self.weight_units
        total = sum(units[name] for name in self.weighed)
        return {name: round(score * units[name] / total, POINTS_PLACES) for name, score in self.weighed.items()}


@dataclass(frozen=True)
class Evaluation:
    """A tenant's score under a profile, with its trend and risk against the previous score."""

    score: HealthScore
    trend: Trend
    risk_level: RiskLevel


def rounded_ratio(numerator: int, denominator: int) -> int:
    """round_half_up(numerator / denominator) for a positive denominator, in integers: floor((2n + d) / 2d)."""
    return (2 * numerator + denominator) // (2 * denominator)


def round_half_up(value: Fraction) -> int:
    """floor(x + 0.5) on the exact value, like JavaScript's Math.round."""
    return rounded_ratio(value.numerator, value.denominator)


def percent(ratio: Fraction) -> int:
    return round_half_up(ratio * 100)


# The components' ratios are rounded in integer arithmetic: exact like Fraction, without its cost per tenant.
def login_score(total_users: int, active_users: int) -> int | None:
    if total_users == 0:
        return None
    full = FULL_LOGIN_RATE
    return min(100, rounded_ratio(active_users * 100 * full.denominator, total_users * full.numerator))


def case_resolution_score(cases_closed: int, cases_on_time: int) -> int | None:
    return rounded_ratio(cases_on_time * 100, cases_closed) if cases_closed else None


def campaign_completion_score(average: Fraction | None) -> int | None:
    return None if average is None else percent(average)


def _campaign_percent(assignments: tuple[tuple[int, int], ...]) -> int | None:
    """campaign_completion_score(average), the average taken over the totals' least common multiple."""
    if not assignments:
        return None
    common = math.lcm(*(total for _, total in assignments))
    done = sum(completed * (common // total) for completed, total in assignments)
    return rounded_ratio(done * 100, common * len(assignments))


def feature_adoption_score(enabled: int, used: int) -> int | None:
    return rounded_ratio(used * 100, enabled) if enabled else None


def support_ticket_score(ticket_count: int | None, baseline_tickets: int) -> int:
    """100 when tickets are untracked or at most the baseline; inverse above it."""
    if ticket_count is None or ticket_count <= baseline_tickets:
        return 100
    return rounded_ratio(100 * baseline_tickets, ticket_count)


def component_scores(inputs: UsageInputs) -> ComponentScores:
    return ComponentScores(
        login=login_score(inputs.total_users, inputs.active_users),
        caseResolution=case_resolution_score(inputs.cases_closed, inputs.cases_on_time),
        campaignCompletion=_campaign_percent(inputs.campaign_assignments),
        featureAdoption=feature_adoption_score(inputs.features_enabled, inputs.features_used),
        supportTickets=support_ticket_score(
            inputs.ticket_count if inputs.tracks_support_tickets else None, inputs.baseline_tickets
        ),
    )


def weighted_overall(components: ComponentScores, profile: ScoringProfile) -> HealthScore:
    """round(sum(score_i * w_i) / sum(w_i)) over the components weighed.

    `renormalize` weighs the components with data (their weights renormalized); `neutral` weighs
    every component, scoring one without data at `neutralScore`, so the others keep their shares.
    """
    # One pass, no generators: the scorer weighs two sets of components a tenant (the score and its
    # restated previous score), so this is on its hot path.
    neutral = profile.neutral_score if profile.missing_data == "neutral" else None
    units = profile.weight_units
    weighed: dict[Component, int] = {}
    missing: list[Component] = []
    points = total_units = 0
    for name, score in components.of().items():
        if score is None:
            missing.append(name)
            if neutral is None:
                continue
            score = neutral
        weighed[name] = score
        points += score * units[name]
        total_units += units[name]
    if total_units == 0:
        raise ValueError("every component with data has weight 0; nothing to weigh")
    return HealthScore(
        overall=rounded_ratio(points, total_units),
        components=components,
        missing=tuple(missing),
        weighed=weighed,
        weight_units=units,
    )


def health_score(inputs: UsageInputs, profile: ScoringProfile) -> HealthScore:
    return weighted_overall(component_scores(inputs), profile)


@dataclass(frozen=True)
class PreviousScore:
    """A tenant's stored score of an earlier day, as computed under its own profile version."""

    overall: int
    components: ComponentScores
    profile_id: str
    profile_version: int

    def restated(self, profile: ScoringProfile) -> HealthScore:
        """This score re-evaluated under `profile`: exact, since a profile only changes how the integer
        components combine. Under its own version that is the stored overall itself."""
        again = weighted_overall(self.components, profile)
        same_version = (self.profile_id, self.profile_version) == (profile.profile_id, profile.version)
        return replace(again, overall=self.overall) if same_version and again.overall != self.overall else again


def evaluate(inputs: UsageInputs, previous_score: int | None, profile: ScoringProfile) -> Evaluation:
    """The one scoring function: the scorer stores it, the what-if preview reports it."""
    result = health_score(inputs, profile)
    trend_ = trend(result.overall, previous_score, profile.trend_threshold)
    return Evaluation(result, trend_, risk_level(result.overall, trend_, profile.risk_thresholds))


def trend(current: int, previous: int | None, threshold: int = TREND_THRESHOLD) -> Trend:
    if previous is None:
        return "STABLE"
    delta = current - previous
    if delta > threshold:
        return "IMPROVING"
    if delta < -threshold:
        return "DECLINING"
    return "STABLE"


def risk_level(score: int, trend_: Trend, thresholds: RiskThresholds = DEFAULT_RISK_THRESHOLDS) -> RiskLevel:
    declining = trend_ == "DECLINING"
    if score < thresholds.high or (score < thresholds.high_if_declining and declining):
        return "HIGH"
    if score < thresholds.medium or declining:
        return "MEDIUM"
    return "LOW"
