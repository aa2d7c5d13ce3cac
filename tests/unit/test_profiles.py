"""Scoring profiles: validation naming the field, defaults, matching, and scoring under a profile."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from healthscore.core.profile_matching import ProfileSet, TenantFacts, segment_matches
from healthscore.core.profiles import (
    DEFAULT_PROFILE_ID,
    ProfileDocument,
    ProfileError,
    ScoringProfile,
    Segment,
    default_profile,
    new_version,
)
from healthscore.core.scoring import (
    ComponentScores,
    UsageInputs,
    evaluate,
    risk_level,
    round_half_up,
    trend,
    weighted_overall,
)
from healthscore.core.weights import COMPONENTS, HealthWeights

EVENTS = Path(__file__).resolve().parents[2] / "events"
AS_OF = datetime(2026, 1, 15, 2, tzinfo=UTC)
WEIGHTS = {
    "login": 0.3,
    "caseResolution": 0.25,
    "campaignCompletion": 0.2,
    "featureAdoption": 0.15,
    "supportTickets": 0.1,
}


def body(**changes: Any) -> dict[str, Any]:
    return {"priority": 10, "weights": dict(WEIGHTS), **changes}


def fields_refused(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        ProfileDocument.model_validate(document)
    return [".".join(str(part) for part in error["loc"]) for error in raised.value.errors()]


def profile(profile_id: str = "p", **changes: Any) -> ScoringProfile:
    return new_version(profile_id, ProfileDocument.model_validate(body(**changes)), 1)


# --- validation: a 422 names the field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (body(weights={**WEIGHTS, "login": -0.3, "caseResolution": 0.85}), "weights.login"),
        (body(weights={**WEIGHTS, "login": 0.31}), "weights"),  # sums to 1.01
        (body(weights={k: v for k, v in WEIGHTS.items() if k != "featureAdoption"}), "weights.featureAdoption"),
        (body(weights={**WEIGHTS, "nps": 0}), "weights.nps"),
        (
            body(weights={**WEIGHTS, "login": 0, "supportTickets": 0, "caseResolution": 0.65}),
            "weights",
        ),  # renormalize could weigh nothing
        (body(riskThresholds={"high": 101}), "riskThresholds.high"),
        (body(riskThresholds={"medium": -1}), "riskThresholds.medium"),
        (body(riskThresholds={"high": 65, "highIfDeclining": 60, "medium": 70}), "riskThresholds"),
        (body(riskThresholds={"high": 40, "highIfDeclining": 75, "medium": 70}), "riskThresholds"),
        (body(segment={"minUsers": 10, "maxUsers": 5}), "segment.maxUsers"),
        (body(segment={"tenantAge": 90}), "segment.tenantAge"),
        (body(missingData="ignore"), "missingData"),
        (body(neutralScore=101), "neutralScore"),
        (body(trendThreshold=-1), "trendThreshold"),
        ({"weights": WEIGHTS}, "priority"),
        ({"priority": 1}, "weights"),
        (body(profileId="x"), "profileId"),  # the id is the path's, not the body's
        (body(version=3), "version"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(document: dict[str, Any], field: str) -> None:
    assert field in fields_refused(document)


def test_weights_must_sum_exactly_to_one_in_decimals() -> None:
    thirds = dict.fromkeys(COMPONENTS, "0.2")
    ProfileDocument.model_validate(body(weights=thirds))
    assert "weights" in fields_refused(body(weights={**thirds, "login": "0.2000000000000000001"}))
    # 0.1 + 0.2 is 0.30000000000000004 in floats; as decimals it is exactly 0.3
    ProfileDocument.model_validate(
        body(weights={**WEIGHTS, "login": 0.1, "featureAdoption": 0.2, "caseResolution": 0.4})
    )


def test_neutral_may_weigh_login_and_support_tickets_at_zero() -> None:
    weights = {**WEIGHTS, "login": 0, "supportTickets": 0, "caseResolution": 0.65}
    document = ProfileDocument.model_validate(body(weights=weights, missingData="neutral"))
    assert document.weights.login == 0


@pytest.mark.parametrize("profile_id", ["onboarding", "a", "x" * 64, "tier-2"])
def test_slug_ids_are_accepted(profile_id: str) -> None:
    assert profile(profile_id).profile_id == profile_id


@pytest.mark.parametrize("profile_id", ["", "Onboarding", "x" * 65, "a_b", "a b", "é"])
def test_ids_that_are_not_slugs_are_refused(profile_id: str) -> None:
    with pytest.raises(ValidationError) as raised:
        profile(profile_id)
    assert ("profileId",) in [error["loc"] for error in raised.value.errors()]


def test_the_default_profile_cannot_have_a_segment() -> None:
    document = ProfileDocument.model_validate(body(segment={"minUsers": 5}))
    with pytest.raises(ProfileError) as raised:
        new_version(DEFAULT_PROFILE_ID, document, 2)
    assert raised.value.field == "segment"


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_are_those_of_section_11() -> None:
    saved = profile("onboarding")
    assert saved.name == "onboarding"
    assert saved.segment == Segment()
    assert saved.missing_data == "renormalize"
    assert saved.neutral_score == 50
    assert (saved.risk_thresholds.high, saved.risk_thresholds.high_if_declining, saved.risk_thresholds.medium) == (
        40,
        60,
        70,
    )
    assert saved.trend_threshold == 5
    assert saved.document()["segment"] == {}


def test_the_default_profile_is_section_4_or_health_weights() -> None:
    seeded = default_profile()
    assert (seeded.profile_id, seeded.version) == ("default", 1)
    assert seeded.weights.of() == HealthWeights().of()
    custom = HealthWeights.model_validate({**WEIGHTS, "login": "0.5", "caseResolution": "0.05"})
    assert default_profile(custom).weights.of() == custom.of()


def test_a_stored_document_reads_back_as_the_same_profile() -> None:
    saved = profile("onboarding", segment={"tenantAgeDaysBelow": 90}, missingData="neutral")
    again = ScoringProfile.model_validate(
        {**json.loads(json.dumps(saved.document())), "profileId": "onboarding", "version": 1}
    )
    assert again == saved


@pytest.mark.parametrize("name", ["profile_onboarding.json", "profile_enterprise.json"])
def test_the_example_profile_files_are_valid(name: str) -> None:
    document = json.loads((EVENTS / name).read_text())
    profile_id = document.pop("profileId")
    assert new_version(profile_id, ProfileDocument.model_validate(document), 1).profile_id == profile_id


# --- scoring under a profile ---------------------------------------------------------------------


def components(*scores: int | None) -> ComponentScores:
    login, case, campaign, feature, support = scores
    assert support is not None
    return ComponentScores(login, case, campaign, feature, support)


def test_neutral_scores_a_component_without_data_at_neutral_score() -> None:
    neutral = profile(missingData="neutral", neutralScore=50)
    result = weighted_overall(components(88, None, 14, None, 100), neutral)
    # 88*0.3 + 50*0.25 + 14*0.2 + 50*0.15 + 100*0.1 = 59.2: the others keep their shares
    assert result.overall == 59
    assert result.contributions["caseResolution"] == Fraction(25, 2)
    assert result.missing == ("caseResolution", "featureAdoption")
    renormalized = weighted_overall(components(88, None, 14, None, 100), profile())
    # (26.4 + 2.8 + 10) / 0.6 = 65.33...
    assert renormalized.overall == 65
    assert "caseResolution" not in renormalized.contributions


def test_neutral_rounds_half_up_exactly() -> None:
    # 90*0.5 + 50*0.5 with neutralScore 51 weighs 70.5 exactly: 71, not 70
    weights = {"login": 0.5, "caseResolution": 0.5, "campaignCompletion": 0, "featureAdoption": 0, "supportTickets": 0}
    neutral = profile(weights=weights, missingData="neutral", neutralScore=51)
    assert weighted_overall(components(90, None, None, None, 100), neutral).overall == 71


@settings(max_examples=300)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=4, max_size=4),
    st.integers(0, 100),
    st.integers(0, 100),
    st.lists(st.integers(0, 1000), min_size=4, max_size=4),
)
def test_neutral_equals_the_decimal_reference(
    scores: list[int | None], support: int, neutral_score: int, cuts: list[int]
) -> None:
    edges = [0, *sorted(cuts), 1000]
    parts = [Decimal(b - a) / 1000 for a, b in itertools.pairwise(edges)]
    weights = dict(zip(COMPONENTS, parts, strict=True))
    neutral = profile(weights=weights, missingData="neutral", neutralScore=neutral_score)
    filled = [neutral_score if s is None else s for s in [*scores, support]]
    exact = sum((Decimal(s) * w for s, w in zip(filled, parts, strict=True)), Decimal(0))
    assert weighted_overall(components(*scores, support), neutral).overall == round_half_up(Fraction(exact))


def test_trend_and_risk_use_the_profile_thresholds() -> None:
    strict = profile(riskThresholds={"high": 50, "highIfDeclining": 75, "medium": 80}, trendThreshold=2)
    assert trend(60, 57, strict.trend_threshold) == "IMPROVING"
    assert trend(60, 57) == "STABLE"
    assert risk_level(49, "STABLE", strict.risk_thresholds) == "HIGH"
    assert risk_level(74, "DECLINING", strict.risk_thresholds) == "HIGH"
    assert risk_level(79, "STABLE", strict.risk_thresholds) == "MEDIUM"
    assert risk_level(80, "STABLE", strict.risk_thresholds) == "LOW"
    assert risk_level(49, "STABLE") == "MEDIUM"


def test_evaluate_is_score_then_trend_then_risk() -> None:
    inputs = UsageInputs(
        total_users=10,
        active_users=7,
        cases_closed=4,
        cases_on_time=1,
        campaigns_completed=0,
        campaign_assignments=(),
        features_enabled=4,
        features_used=1,
        tracks_support_tickets=True,
        ticket_count=0,
    )
    result = evaluate(inputs, 80, profile())
    # login 100, case 25, feature 25, tickets 100: (30 + 6.25 + 3.75 + 10) / 0.8 = 62.5 -> 63
    assert result.score.overall == 63
    assert (result.trend, result.risk_level) == ("DECLINING", "MEDIUM")
    assert evaluate(inputs, 80, profile(trendThreshold=20)).trend == "STABLE"


# --- matching ------------------------------------------------------------------------------------


def tenant(users: int = 10, age_days: float | None = 400, organization_id: UUID | None = None) -> TenantFacts:
    created = None if age_days is None else AS_OF - timedelta(days=age_days)
    return TenantFacts(organization_id or uuid4(), users, created)


def test_each_segment_key_must_hold() -> None:
    young = Segment(tenant_age_days_below=90)
    assert segment_matches(young, tenant(age_days=89.99), AS_OF)
    assert not segment_matches(young, tenant(age_days=90), AS_OF)  # less than N days
    assert not segment_matches(young, tenant(age_days=None), AS_OF)
    sized = Segment(min_users=5, max_users=10)
    assert segment_matches(sized, tenant(users=5), AS_OF)
    assert segment_matches(sized, tenant(users=10), AS_OF)
    assert not segment_matches(sized, tenant(users=4), AS_OF)
    assert not segment_matches(sized, tenant(users=11), AS_OF)
    chosen = uuid4()
    listed = Segment(organization_ids=[chosen], min_users=5)
    assert segment_matches(listed, tenant(organization_id=chosen), AS_OF)
    assert not segment_matches(listed, tenant(organization_id=chosen, users=1), AS_OF)
    assert not segment_matches(listed, tenant(), AS_OF)
    assert segment_matches(Segment(), tenant(), AS_OF)


def test_the_lowest_priority_wins_then_the_smaller_id_and_default_comes_last() -> None:
    everyone: dict[str, Any] = {"segment": {}}
    profiles = ProfileSet(
        [
            default_profile().model_copy(update={"priority": -5}),  # still last
            profile("zeta", priority=1, **everyone),
            profile("alpha", priority=1, **everyone),
            profile("early", priority=0, segment={"tenantAgeDaysBelow": 90}),
        ]
    )
    assert [p.profile_id for p in profiles.ordered] == ["early", "alpha", "zeta", "default"]
    assert profiles.profile_for(tenant(age_days=10), AS_OF).profile_id == "early"
    assert profiles.profile_for(tenant(age_days=100), AS_OF).profile_id == "alpha"
    only_default = ProfileSet([default_profile(), profile("big", segment={"minUsers": 100})])
    assert only_default.profile_for(tenant(users=10), AS_OF).profile_id == "default"


def test_a_candidate_stands_in_for_the_profile_of_its_id() -> None:
    active = ProfileSet([default_profile(), profile("big", priority=1, segment={"minUsers": 100})])
    candidate = profile("big", priority=1, segment={"minUsers": 5})
    swapped = active.with_candidate(candidate)
    assert [p.profile_id for p in swapped.ordered] == ["big", "default"]
    assert swapped.profile_for(tenant(users=10), AS_OF) is candidate


def test_profiles_without_default_are_refused() -> None:
    with pytest.raises(ValueError, match="default"):
        ProfileSet([profile("alone")])
