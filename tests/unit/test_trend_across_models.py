"""Unchanged usage reads STABLE across any change of model (docs/scoring.md, "One model across time").

Random fleets and random valid profiles: each tenant is scored one day under one set of profiles, and
the next day, with the same usage, after a profile change, a segment move (it ages out of an
onboarding segment) and a version bump of `default`. Its previous score is restated under the new
day's profile version, exactly as the scorer does; every trend must be STABLE.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import usage_inputs

from healthscore.core import scoring
from healthscore.core.profile_matching import ProfileSet, TenantFacts
from healthscore.core.profiles import ProfileDocument, ScoringProfile, new_version
from healthscore.core.scoring import PreviousScore, UsageInputs
from healthscore.core.weights import COMPONENTS

DAY_1 = datetime(2026, 3, 1, 2, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)


@st.composite
def profile_documents(draw: st.DrawFn, **fixed: Any) -> ProfileDocument:
    """A valid profile: weights cut from 1 at random thousandths, either missingData rule, any thresholds."""
    cuts = sorted(draw(st.lists(st.integers(0, 1000), min_size=4, max_size=4)))
    parts = [Decimal(b - a) / 1000 for a, b in itertools.pairwise([0, *cuts, 1000])]
    weights = dict(zip(COMPONENTS, parts, strict=True))
    missing = draw(st.sampled_from(["renormalize", "neutral"]))
    if missing == "renormalize" and weights["login"] == weights["supportTickets"] == 0:
        weights["login"], weights["caseResolution"] = weights["caseResolution"], Decimal(0)
        if weights["login"] == 0:
            missing = "neutral"
    high, if_declining, medium = sorted(draw(st.lists(st.integers(0, 100), min_size=3, max_size=3)))
    return ProfileDocument.model_validate(
        {
            "priority": draw(st.integers(0, 100)),
            "weights": weights,
            "missingData": missing,
            "neutralScore": draw(st.integers(0, 100)),
            "riskThresholds": {"high": high, "highIfDeclining": if_declining, "medium": medium},
            "trendThreshold": draw(st.integers(0, 20)),
            **fixed,
        }
    )


def score_day(inputs: UsageInputs, previous: PreviousScore | None, profile: ScoringProfile) -> scoring.Evaluation:
    """What the scorer stores (logic/score_tenants.py): the trend against the previous score restated."""
    return scoring.evaluate(inputs, previous.restated(profile).overall if previous else None, profile)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(usage_inputs(min_users=1), st.sampled_from([10, 89.9, 90.5, 400])), min_size=1, max_size=30),
    profile_documents(segment={"tenantAgeDaysBelow": 90}),
    profile_documents(segment={"tenantAgeDaysBelow": 90}),
    profile_documents(),
    profile_documents(),
)
def test_unchanged_usage_is_stable_across_profile_change_segment_move_and_version_bump(
    fleet: list[tuple[UsageInputs, float]],
    onboarding_1: ProfileDocument,
    onboarding_2: ProfileDocument,
    default_1: ProfileDocument,
    default_2: ProfileDocument,
) -> None:
    day_1 = ProfileSet([new_version("onboarding", onboarding_1, 1), new_version("default", default_1, 1)])
    day_2 = ProfileSet([new_version("onboarding", onboarding_2, 2), new_version("default", default_2, 2)])
    moved = 0
    for inputs, age_days in fleet:
        facts = TenantFacts(uuid4(), inputs.total_users, DAY_1 - timedelta(days=age_days))
        first_profile, second_profile = day_1.profile_for(facts, DAY_1), day_2.profile_for(facts, DAY_2)
        moved += first_profile.profile_id != second_profile.profile_id  # 89.9 days old: 90.9 the next day
        first = score_day(inputs, None, first_profile)
        components = first.score.components
        previous = PreviousScore(first.score.overall, components, first_profile.profile_id, first_profile.version)
        second = score_day(inputs, previous, second_profile)
        assert second.trend == "STABLE"
        assert second.score.overall == previous.restated(second_profile).overall
    assert moved == sum(1 for _, age in fleet if age == 89.9)


def test_the_restated_previous_under_its_own_version_is_the_stored_number() -> None:
    profile = new_version("default", ProfileDocument.model_validate({"priority": 1000, "weights": WEIGHTS}), 3)
    components = scoring.ComponentScores(
        login=88, caseResolution=43, campaignCompletion=14, featureAdoption=57, supportTickets=100
    )
    assert PreviousScore(59, components, "default", 3).restated(profile).overall == 59
    assert PreviousScore(61, components, "default", 2).restated(profile).overall == 59  # 58.5 rounds half up


WEIGHTS = {
    "login": "0.3",
    "caseResolution": "0.25",
    "campaignCompletion": "0.2",
    "featureAdoption": "0.15",
    "supportTickets": "0.1",
}
