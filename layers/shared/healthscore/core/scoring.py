"""The health score, exactly as docs/scoring.md defines it. Pure: no I/O.

Every ratio, average and weighted sum is an exact `Fraction`; `round_half_up` is
applied to the exact value, so a weighted sum of exactly 58.5 rounds to 59, which
binary floating point gets wrong for some tenants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from healthscore.core.weights import COMPONENTS, Component, HealthWeights

Trend = Literal["IMPROVING", "STABLE", "DECLINING"]
RiskLevel = Literal["LOW", "MEDIUM", "HIGH"]

FULL_LOGIN_RATE = Fraction(7, 10)  # 70% of users active in the window scores 100
TREND_THRESHOLD = 5
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
    # Each component's contribution to the overall, in points (score * renormalized weight).
    contributions: dict[Component, Fraction]
    missing: tuple[Component, ...]  # components with no data, left out of the weighting


def round_half_up(value: Fraction) -> int:
    """floor(x + 0.5) on the exact value, like JavaScript's Math.round."""
    return math.floor(value + Fraction(1, 2))


def percent(ratio: Fraction) -> int:
    return round_half_up(ratio * 100)


def login_score(total_users: int, active_users: int) -> int | None:
    if total_users == 0:
        return None
    return min(100, percent(Fraction(active_users, total_users) / FULL_LOGIN_RATE))


def case_resolution_score(cases_closed: int, cases_on_time: int) -> int | None:
    return percent(Fraction(cases_on_time, cases_closed)) if cases_closed else None


def campaign_completion_score(average: Fraction | None) -> int | None:
    return None if average is None else percent(average)


def feature_adoption_score(enabled: int, used: int) -> int | None:
    return percent(Fraction(used, enabled)) if enabled else None


def support_ticket_score(ticket_count: int | None, baseline_tickets: int) -> int:
    """100 when tickets are untracked or at most the baseline; inverse above it."""
    if ticket_count is None or ticket_count <= baseline_tickets:
        return 100
    return percent(Fraction(baseline_tickets, ticket_count))


def component_scores(inputs: UsageInputs) -> ComponentScores:
    return ComponentScores(
        login=login_score(inputs.total_users, inputs.active_users),
        caseResolution=case_resolution_score(inputs.cases_closed, inputs.cases_on_time),
        campaignCompletion=campaign_completion_score(inputs.campaign_completion_average),
        featureAdoption=feature_adoption_score(inputs.features_enabled, inputs.features_used),
        supportTickets=support_ticket_score(
            inputs.ticket_count if inputs.tracks_support_tickets else None, inputs.baseline_tickets
        ),
    )


def weighted_overall(components: ComponentScores, weights: HealthWeights) -> HealthScore:
    """round(sum(score_i * w_i) / sum(w_i)) over the components that have data."""
    present = {name: score for name, score in components.of().items() if score is not None}
    weight_of = {name: Fraction(weights.of()[name]) for name in present}
    total_weight = sum(weight_of.values(), Fraction(0))
    if total_weight == 0:
        raise ValueError("every component with data has weight 0; nothing to weigh")
    contributions = {name: score * weight_of[name] / total_weight for name, score in present.items()}
    return HealthScore(
        overall=round_half_up(sum(contributions.values(), Fraction(0))),
        components=components,
        contributions=contributions,
        missing=tuple(name for name in COMPONENTS if name not in present),
    )


def health_score(inputs: UsageInputs, weights: HealthWeights) -> HealthScore:
    return weighted_overall(component_scores(inputs), weights)


def trend(current: int, previous: int | None) -> Trend:
    if previous is None:
        return "STABLE"
    delta = current - previous
    if delta > TREND_THRESHOLD:
        return "IMPROVING"
    if delta < -TREND_THRESHOLD:
        return "DECLINING"
    return "STABLE"


def risk_level(score: int, trend_: Trend) -> RiskLevel:
    declining = trend_ == "DECLINING"
    if score < 40 or (score < 60 and declining):
        return "HIGH"
    if score < 70 or declining:
        return "MEDIUM"
    return "LOW"
