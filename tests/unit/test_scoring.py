"""The score of docs/scoring.md: table-driven cases and properties (hypothesis).

The properties compare the scoring core with an independent reference written here
with `decimal.Decimal` straight from the spec table. Each reference value is one
Decimal division of exact integers/decimals at 60 significant digits, so it is
exact whenever the true value terminates (every x.5 does) and otherwise too far
from .5 for its last-digit rounding to matter.
"""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import usage_inputs

from healthscore.core.metrics import change_pct, daily_metrics
from healthscore.core.profiles import default_profile
from healthscore.core.scoring import (
    POINTS_PLACES,
    ComponentScores,
    RiskLevel,
    Trend,
    UsageInputs,
    campaign_completion_score,
    case_resolution_score,
    component_scores,
    feature_adoption_score,
    health_score,
    login_score,
    risk_level,
    round_half_up,
    support_ticket_score,
    trend,
    weighted_overall,
)
from healthscore.core.weights import COMPONENTS, HEALTH_WEIGHTS, Component, HealthWeights

KEY_EXAMPLES = 200
TRENDS: tuple[Trend, ...] = ("IMPROVING", "STABLE", "DECLINING")


def usage(
    *,
    total_users: int = 10,
    active_users: int = 7,
    cases_closed: int = 0,
    cases_on_time: int = 0,
    campaign_assignments: tuple[tuple[int, int], ...] = (),
    campaigns_completed: int | None = None,
    features_enabled: int = 0,
    features_used: int = 0,
    tracks_support_tickets: bool = True,
    ticket_count: int | None = 0,
) -> UsageInputs:
    return UsageInputs(
        total_users=total_users,
        active_users=active_users,
        cases_closed=cases_closed,
        cases_on_time=cases_on_time,
        campaigns_completed=len(campaign_assignments) if campaigns_completed is None else campaigns_completed,
        campaign_assignments=campaign_assignments,
        features_enabled=features_enabled,
        features_used=features_used,
        tracks_support_tickets=tracks_support_tickets,
        ticket_count=ticket_count if tracks_support_tickets else None,
    )


def components(
    login: int | None = None,
    case: int | None = None,
    campaign: int | None = None,
    feature: int | None = None,
    support: int = 100,
) -> ComponentScores:
    return ComponentScores(
        login=login, caseResolution=case, campaignCompletion=campaign, featureAdoption=feature, supportTickets=support
    )


def weights(login: str, case: str, campaign: str, feature: str, support: str) -> HealthWeights:
    return HealthWeights(
        login=Decimal(login),
        caseResolution=Decimal(case),
        campaignCompletion=Decimal(campaign),
        featureAdoption=Decimal(feature),
        supportTickets=Decimal(support),
    )


# --- the independent Decimal reference ------------------------------------------------------------


def ref_round(value: Decimal) -> int:
    """round-half-up of an (exact) Decimal."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def ref_div(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(numerator) / Decimal(denominator)


def ref_components(inputs: UsageInputs) -> dict[Component, int | None]:
    login = (
        None
        if inputs.total_users == 0
        else min(100, ref_round(ref_div(inputs.active_users * 100, inputs.total_users * Decimal("0.7"))))
    )
    case = None if inputs.cases_closed == 0 else ref_round(ref_div(inputs.cases_on_time * 100, inputs.cases_closed))
    campaign: int | None = None
    if inputs.campaign_assignments:
        # average of done_i / total_i over a common denominator: one exact division
        common = math.lcm(*(total for _, total in inputs.campaign_assignments))
        numerator = sum(done * (common // total) for done, total in inputs.campaign_assignments)
        campaign = ref_round(ref_div(numerator * 100, common * len(inputs.campaign_assignments)))
    feature = (
        None
        if inputs.features_enabled == 0
        else ref_round(ref_div(inputs.features_used * 100, inputs.features_enabled))
    )
    if not inputs.tracks_support_tickets:
        support = 100
    else:
        assert inputs.ticket_count is not None
        baseline = max(1, math.ceil(Decimal(inputs.total_users) / 10))
        support = 100 if inputs.ticket_count <= baseline else ref_round(ref_div(100 * baseline, inputs.ticket_count))
    return {
        "login": login,
        "caseResolution": case,
        "campaignCompletion": campaign,
        "featureAdoption": feature,
        "supportTickets": support,
    }


def ref_overall(scores: dict[Component, int | None], health_weights: HealthWeights) -> int:
    w = health_weights.of()
    present = [name for name in COMPONENTS if scores[name] is not None]
    weighted = sum((Decimal(scores[name] or 0) * w[name] for name in present), Decimal(0))
    return ref_round(ref_div(weighted, sum((w[name] for name in present), Decimal(0))))


def float_overall(scores: dict[Component, int | None], health_weights: HealthWeights) -> int:
    """What a binary floating point implementation would compute (the thing not to do)."""
    w = {name: float(value) for name, value in health_weights.of().items()}
    weighted = total = 0.0
    for name in COMPONENTS:  # a plain loop: Python 3.12's sum() of floats is compensated
        if scores[name] is not None:
            weighted += (scores[name] or 0) * w[name]
            total += w[name]
    return math.floor(weighted / total + 0.5)


# --- strategies -----------------------------------------------------------------------------------


@st.composite
def weight_sets(draw: st.DrawFn) -> HealthWeights:
    """Weights in thousandths that sum to exactly 1 (login + supportTickets > 0, as validated)."""
    cuts = sorted(draw(st.lists(st.integers(0, 1000), min_size=4, max_size=4)))
    parts = [b - a for a, b in itertools.pairwise([0, *cuts, 1000])]
    if parts[0] + parts[4] == 0:
        parts[0], parts[1] = parts[1], parts[0]  # keep the draw, make login the non-zero one
    if parts[0] + parts[4] == 0:
        parts[0], parts[2] = parts[2], parts[0]
    if parts[0] + parts[4] == 0:
        parts[0], parts[3] = parts[3], parts[0]
    return HealthWeights(**{name: Decimal(p) / 1000 for name, p in zip(COMPONENTS, parts, strict=True)})


scores_or_none = st.one_of(st.none(), st.integers(0, 100))


# --- round half up --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(25, 2), 13),  # 12.5, where Python's round() gives 12
        (Fraction(125, 2), 63),  # 62.5, where Python's round() gives 62
        (Fraction(117, 2), 59),  # 58.5
        (Fraction(1, 2), 1),
        (Fraction(0), 0),
        (Fraction(100), 100),
        (Fraction(199, 2), 100),  # 99.5
        (Fraction(12499, 1000), 12),
        (Fraction(12501, 1000), 13),
        (Fraction(1, 3), 0),
        (Fraction(2, 3), 1),
    ],
)
def test_round_half_up(value: Fraction, expected: int) -> None:
    assert round_half_up(value) == expected


def test_round_half_up_is_not_pythons_bankers_rounding() -> None:
    assert (round(12.5), round(62.5)) == (12, 62)
    assert (round_half_up(Fraction(25, 2)), round_half_up(Fraction(125, 2))) == (13, 63)


@given(st.integers(0, 10_000), st.integers(1, 10_000))  # scores are never negative
def test_round_half_up_matches_decimal_round_half_up(numerator: int, denominator: int) -> None:
    assert round_half_up(Fraction(numerator, denominator)) == ref_round(ref_div(numerator, denominator))


# --- the weighted overall: the 58.5 case, and why floats are not trusted --------------------------


def test_components_weighing_exactly_58_5_round_to_59() -> None:
    result = weighted_overall(components(88, 43, 14, 57, 100), default_profile(HEALTH_WEIGHTS))
    assert sum(result.contributions.values()) == Fraction(117, 2)
    assert result.overall == 59
    # binary floating point lands just below .5 and would store 58
    assert 88 * 0.30 + 43 * 0.25 + 14 * 0.20 + 57 * 0.15 + 100 * 0.10 < 58.5
    assert float_overall(result.components.of(), HEALTH_WEIGHTS) == 58


def test_float_arithmetic_gets_some_of_a_grid_wrong_where_the_core_matches_the_exact_reference() -> None:
    float_wrong = 0
    checked = 0
    for login, case, campaign, feature in itertools.product(range(0, 101, 9), range(0, 101, 7), (14, 57), (43, 57)):
        scores = components(login, case, campaign, feature, 100)
        exact = ref_overall(scores.of(), HEALTH_WEIGHTS)
        assert weighted_overall(scores, default_profile(HEALTH_WEIGHTS)).overall == exact
        float_wrong += float_overall(scores.of(), HEALTH_WEIGHTS) != exact
        checked += 1
    assert checked == 12 * 15 * 4
    assert float_wrong > 0  # the reason the core computes with fractions


@settings(max_examples=KEY_EXAMPLES)
@given(scores_or_none, scores_or_none, scores_or_none, scores_or_none, st.integers(0, 100), weight_sets())
def test_weighted_overall_matches_the_decimal_reference(
    login: int | None,
    case: int | None,
    campaign: int | None,
    feature: int | None,
    support: int,
    health_weights: HealthWeights,
) -> None:
    scores = components(login, case, campaign, feature, support)
    present = [value for value in scores.of().values() if value is not None]
    w = health_weights.of()
    if sum(w[name] for name, value in scores.of().items() if value is not None) == 0:
        with pytest.raises(ValueError, match="weight 0"):
            weighted_overall(scores, default_profile(health_weights))
        return
    result = weighted_overall(scores, default_profile(health_weights))
    assert result.overall == ref_overall(scores.of(), health_weights)
    assert 0 <= result.overall <= 100
    assert min(present) <= result.overall <= max(present)  # a weighted average of the present scores
    assert set(result.contributions) == {name for name, value in scores.of().items() if value is not None}
    assert result.missing == tuple(name for name, value in scores.of().items() if value is None)
    assert round_half_up(sum(result.contributions.values(), Fraction(0))) == result.overall
    # What a score stores: each exact contribution rounded to 4 places, without building Fractions.
    exact = {name: round(float(points), POINTS_PLACES) for name, points in result.contributions.items()}
    assert result.contribution_points() == exact


# --- every component and the overall from raw inputs ----------------------------------------------


@settings(max_examples=KEY_EXAMPLES)
@given(usage_inputs(), weight_sets())
def test_health_score_matches_the_decimal_reference(inputs: UsageInputs, health_weights: HealthWeights) -> None:
    expected = ref_components(inputs)
    w = health_weights.of()
    if sum(w[name] for name, value in expected.items() if value is not None) == 0:
        with pytest.raises(ValueError, match="weight 0"):
            health_score(inputs, default_profile(health_weights))
        return
    result = health_score(inputs, default_profile(health_weights))
    assert result.components.of() == expected
    assert result.overall == ref_overall(expected, health_weights)


@settings(max_examples=KEY_EXAMPLES)
@given(usage_inputs())
def test_every_component_and_the_overall_are_within_0_and_100(inputs: UsageInputs) -> None:
    result = health_score(inputs, default_profile(HEALTH_WEIGHTS))
    for name, value in result.components.of().items():
        assert value is None or 0 <= value <= 100, name
    assert 0 <= result.overall <= 100
    assert result.components.supportTickets is not None  # never without data


@given(usage_inputs(), st.integers(1, 50))
def test_more_activity_never_lowers_login_and_more_tickets_never_raise_support(inputs: UsageInputs, more: int) -> None:
    base = component_scores(inputs)
    more_active = min(inputs.total_users, inputs.active_users + more)
    assert (login_score(inputs.total_users, more_active) or 0) >= (base.login or 0)
    if inputs.ticket_count is not None:
        assert support_ticket_score(inputs.ticket_count + more, inputs.baseline_tickets) <= base.supportTickets


# --- login -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "active", "expected"),
    [
        (10, 7, 100),  # 70% active scores 100
        (10, 10, 100),  # 100% active: 143 capped at 100
        (100, 71, 100),  # just over 70%: capped
        (100, 69, 99),  # 98.57
        (10, 0, 0),
        (10, 5, 71),  # 71.43
        (80, 7, 13),  # 7/80 / 0.7 * 100 = 12.5 exactly -> 13
        (16, 7, 63),  # 7/16 / 0.7 * 100 = 62.5 exactly -> 63
        (3, 1, 48),  # 47.62
        (1, 1, 100),
        (0, 0, None),  # no users: no data
    ],
)
def test_login_score(total: int, active: int, expected: int | None) -> None:
    assert login_score(total, active) == expected


# --- case resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed", "on_time", "expected"),
    [
        (4, 3, 75),
        (4, 4, 100),
        (4, 0, 0),
        (8, 1, 13),  # 12.5 -> 13
        (8, 5, 63),  # 62.5 -> 63
        (3, 1, 33),
        (3, 2, 67),
        (0, 0, None),  # no case closed in the window
    ],
)
def test_case_resolution_score(closed: int, on_time: int, expected: int | None) -> None:
    assert case_resolution_score(closed, on_time) == expected


# --- campaign completion: the exact average of ratios ----------------------------------------------


@pytest.mark.parametrize(
    ("assignments", "average", "expected"),
    [
        (((1, 3), (2, 3)), Fraction(1, 2), 50),  # 1/3 and 2/3 average to exactly 1/2
        (((1, 3),), Fraction(1, 3), 33),
        (((2, 3),), Fraction(2, 3), 67),
        (((1, 2), (1, 4)), Fraction(3, 8), 38),  # average of ratios (37.5), not ratio of sums (2/6 = 33)
        (((1, 3), (203, 300)), Fraction(101, 200), 51),  # non-terminating ratios averaging exactly 50.5
        (((1, 8),), Fraction(1, 8), 13),  # 12.5
        (((5, 8),), Fraction(5, 8), 63),  # 62.5
        (((0, 5), (5, 5)), Fraction(1, 2), 50),
        ((), None, None),  # no campaign with assignments: no data
    ],
)
def test_campaign_completion(
    assignments: tuple[tuple[int, int], ...], average: Fraction | None, expected: int | None
) -> None:
    inputs = usage(campaign_assignments=assignments)
    assert inputs.campaign_completion_average == average
    assert campaign_completion_score(inputs.campaign_completion_average) == expected
    assert component_scores(inputs).campaignCompletion == expected


def test_campaigns_completed_without_assignments_do_not_count_in_the_average() -> None:
    inputs = usage(campaign_assignments=((1, 4),), campaigns_completed=3)  # two with total_assignments = 0
    assert component_scores(inputs).campaignCompletion == 25


# --- feature adoption ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enabled", "used", "expected"),
    [(3, 2, 67), (3, 1, 33), (8, 5, 63), (8, 1, 13), (4, 4, 100), (4, 0, 0), (0, 0, None)],
)
def test_feature_adoption_score(enabled: int, used: int, expected: int | None) -> None:
    assert feature_adoption_score(enabled, used) == expected


# --- support tickets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "baseline"),
    [(0, 1), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2), (21, 3), (30, 3), (31, 4), (100, 10), (101, 11)],
)
def test_ticket_baseline_is_one_per_ten_users_rounded_up_and_at_least_one(users: int, baseline: int) -> None:
    assert usage(total_users=users, active_users=0).baseline_tickets == baseline


@pytest.mark.parametrize(
    ("tickets", "baseline", "expected"),
    [
        (0, 3, 100),
        (3, 3, 100),  # at the baseline
        (4, 3, 75),  # above it: round(100 * 3 / 4)
        (7, 3, 43),  # 42.86
        (8, 1, 13),  # 12.5 -> 13
        (8, 5, 63),  # 62.5 -> 63
        (300, 1, 0),  # 0.33 -> 0
        (200, 1, 1),  # 0.5 -> 1
        (None, 1, 100),  # untracked
    ],
)
def test_support_ticket_score(tickets: int | None, baseline: int, expected: int) -> None:
    assert support_ticket_score(tickets, baseline) == expected


def test_thirty_users_have_a_baseline_of_three_tickets() -> None:
    assert component_scores(usage(total_users=30, active_users=21, ticket_count=3)).supportTickets == 100
    assert component_scores(usage(total_users=30, active_users=21, ticket_count=4)).supportTickets == 75
    assert component_scores(usage(total_users=30, active_users=21, ticket_count=6)).supportTickets == 50


def test_untracked_support_tickets_score_100_whatever_the_count() -> None:
    untracked = UsageInputs(
        total_users=10,
        active_users=7,
        cases_closed=0,
        cases_on_time=0,
        campaigns_completed=0,
        campaign_assignments=(),
        features_enabled=0,
        features_used=0,
        tracks_support_tickets=False,
        ticket_count=None,
    )
    assert component_scores(untracked).supportTickets == 100


# --- renormalization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "overall", "missing"),
    [
        # only login and support: (80 * .30 + 100 * .10) / .40 = 85
        (components(80, None, None, None, 100), 85, ("caseResolution", "campaignCompletion", "featureAdoption")),
        # (50 * .30 + 100 * .10) / .40 = 62.5 -> 63, not 25 (unnormalized) nor 62
        (components(50, None, None, None, 100), 63, ("caseResolution", "campaignCompletion", "featureAdoption")),
        # (50 * .30 + 100 * .20 + 100 * .10) / .60 = 75
        (components(50, None, 100, None, 100), 75, ("caseResolution", "featureAdoption")),
        # no users: support alone
        (
            components(None, None, None, None, 40),
            40,
            ("login", "caseResolution", "campaignCompletion", "featureAdoption"),
        ),
        # every component present: no renormalization
        (components(88, 43, 14, 57, 100), 59, ()),
    ],
)
def test_renormalization_over_the_components_with_data(
    scores: ComponentScores, overall: int, missing: tuple[Component, ...]
) -> None:
    result = weighted_overall(scores, default_profile(HEALTH_WEIGHTS))
    assert result.overall == overall
    assert result.missing == missing
    assert not set(missing) & set(result.contributions)
    present_weight = sum(HEALTH_WEIGHTS.of()[name] for name in result.contributions)
    for name, points in result.contributions.items():
        assert points == Fraction(scores.of()[name] or 0) * Fraction(HEALTH_WEIGHTS.of()[name]) / Fraction(
            present_weight
        )


def test_a_component_with_no_data_is_none_and_named_missing() -> None:
    result = health_score(usage(total_users=20, active_users=14, ticket_count=1), default_profile(HEALTH_WEIGHTS))
    assert result.components == components(100, None, None, None, 100)
    assert result.missing == ("caseResolution", "campaignCompletion", "featureAdoption")
    assert result.overall == 100


def test_custom_weights_are_used() -> None:
    scores = components(88, 43, 14, 57, 100)
    assert weighted_overall(scores, default_profile(weights("1", "0", "0", "0", "0"))).overall == 88
    assert weighted_overall(scores, default_profile(weights("0.5", "0", "0", "0", "0.5"))).overall == 94
    # a zero-weight component with data is still present (not missing) and contributes 0 points
    result = weighted_overall(scores, default_profile(weights("0.5", "0.5", "0", "0", "0")))
    assert result.overall == round_half_up(Fraction(131, 2))  # 65.5 -> 66
    assert result.contributions["campaignCompletion"] == 0
    assert result.missing == ()


# --- trend -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (50, None, "STABLE"),  # no previous score
        (0, None, "STABLE"),
        (50, 50, "STABLE"),
        (55, 50, "STABLE"),  # delta exactly +5
        (45, 50, "STABLE"),  # delta exactly -5
        (56, 50, "IMPROVING"),  # +6
        (44, 50, "DECLINING"),  # -6
        (100, 0, "IMPROVING"),
        (0, 100, "DECLINING"),
    ],
)
def test_trend(current: int, previous: int | None, expected: Trend) -> None:
    assert trend(current, previous) == expected


@given(st.integers(0, 100), st.integers(0, 100))
def test_trend_is_antisymmetric(current: int, previous: int) -> None:
    flipped = {"IMPROVING": "DECLINING", "DECLINING": "IMPROVING", "STABLE": "STABLE"}
    assert trend(previous, current) == flipped[trend(current, previous)]


# --- risk ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "trend_", "expected"),
    [
        (0, "STABLE", "HIGH"),
        (39, "STABLE", "HIGH"),
        (40, "STABLE", "MEDIUM"),
        (59, "STABLE", "MEDIUM"),
        (60, "STABLE", "MEDIUM"),
        (69, "STABLE", "MEDIUM"),
        (70, "STABLE", "LOW"),
        (100, "STABLE", "LOW"),
        (39, "DECLINING", "HIGH"),
        (40, "DECLINING", "HIGH"),  # < 60 and declining
        (59, "DECLINING", "HIGH"),
        (60, "DECLINING", "MEDIUM"),
        (69, "DECLINING", "MEDIUM"),
        (70, "DECLINING", "MEDIUM"),  # declining is never LOW
        (100, "DECLINING", "MEDIUM"),
        (39, "IMPROVING", "HIGH"),
        (40, "IMPROVING", "MEDIUM"),
        (59, "IMPROVING", "MEDIUM"),
        (60, "IMPROVING", "MEDIUM"),
        (69, "IMPROVING", "MEDIUM"),
        (70, "IMPROVING", "LOW"),
        (100, "IMPROVING", "LOW"),
    ],
)
def test_risk_level(score: int, trend_: Trend, expected: RiskLevel) -> None:
    assert risk_level(score, trend_) == expected


@given(st.integers(0, 99), st.sampled_from(TRENDS))
def test_risk_never_decreases_as_the_score_drops_or_the_trend_turns_declining(score: int, trend_: Trend) -> None:
    order = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
    assert order[risk_level(score, trend_)] >= order[risk_level(score + 1, trend_)]
    assert order[risk_level(score, "DECLINING")] >= order[risk_level(score, trend_)]


# --- daily metrics ---------------------------------------------------------------------------------


def test_daily_metrics_omit_rates_without_a_denominator() -> None:
    inputs = usage(
        total_users=0,
        active_users=0,
        campaign_assignments=(),
        campaigns_completed=2,  # completed, but none with assignments
        tracks_support_tickets=False,
    )
    assert daily_metrics(inputs) == {
        "ACTIVE_USERS": 0,
        "TOTAL_USERS": 0,
        "CASES_CLOSED": 0,
        "CAMPAIGNS_COMPLETED": 2,
    }


def test_daily_metrics_rates_are_fractions_and_counts_are_counts() -> None:
    inputs = usage(
        total_users=10,
        active_users=7,
        cases_closed=3,
        cases_on_time=2,
        campaign_assignments=((1, 3), (2, 3)),
        campaigns_completed=3,
        features_enabled=3,
        features_used=1,
        ticket_count=0,
    )
    metrics = daily_metrics(inputs)
    assert metrics == {
        "LOGIN_RATE": Decimal("0.7"),
        "ACTIVE_USERS": 7,
        "TOTAL_USERS": 10,
        "CASES_CLOSED": 3,
        "CASE_ON_TIME_RATE": Decimal("0.666667"),
        "CAMPAIGNS_COMPLETED": 3,
        "CAMPAIGN_COMPLETION_RATE": Decimal("0.5"),
        "FEATURE_ADOPTION_RATE": Decimal("0.333333"),
        "SUPPORT_TICKETS": 0,  # tracked: zero tickets is a count
    }
    assert all(isinstance(value, Decimal) for value in metrics.values())


@given(usage_inputs())
def test_daily_metric_rates_are_between_0_and_1(inputs: UsageInputs) -> None:
    for name, value in daily_metrics(inputs).items():
        if name.endswith("_RATE"):
            assert 0 <= value <= 1, name


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        (Decimal(110), None, None),  # no previous value
        (Decimal(110), Decimal(0), None),  # previous 0: undefined
        (Decimal(0), Decimal(0), None),
        (Decimal(110), Decimal(100), Decimal("10.00")),
        (Decimal(90), Decimal(100), Decimal("-10.00")),
        (Decimal(0), Decimal(5), Decimal("-100.00")),
        (Decimal("0.35"), Decimal("0.7"), Decimal("-50.00")),
        (Decimal(1), Decimal(3), Decimal("-66.67")),
        (Decimal(2), Decimal(3), Decimal("-33.33")),
        (Decimal(4), Decimal(3), Decimal("33.33")),
        (Decimal(5), Decimal(5), Decimal(0)),
    ],
)
def test_change_pct(value: Decimal, previous: Decimal | None, expected: Decimal | None) -> None:
    assert change_pct(value, previous) == expected
