"""The what-if preview is exact: after applying the same profile, the real scorer gives every `to`.

A demo fleet is scored by the real scorer handler on two days a week apart (so that trends, and risk
from `highIfDeclining`, are in play), a candidate profile is previewed through the API handler,
applied through the API, and the last day scored again (same as-of: same inputs, same previous
scores, restated under the candidate). Every tenant's new score and risk must equal the preview's,
with 0 differences; and the preview's set-based SQL equals `scoring.evaluate` tenant by tenant.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from api_support import request
from factories import DEFAULT_REWEIGHTED
from handlers import lambda_context, load_handler
from pipeline_support import message_body, sqs_event

from healthscore.core import scoring
from healthscore.core.profile_matching import ProfileSet, TenantFacts
from healthscore.core.profiles import ProfileDocument, ScoringProfile, new_version
from healthscore.dal import profile_preview, profiles
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_inputs import latest_inputs
from healthscore.logic.active_profiles import load_active_profiles
from healthscore.logic.preview import Mover, tried_before
from healthscore_dev.demo.load import seed_fleet

AS_OF = datetime(2026, 1, 15, 2, tzinfo=UTC)
WEEK_BEFORE = AS_OF - timedelta(days=7)
TENANTS = 300


def score_fleet(conn: DbConnection, run_id: str, as_of: datetime = AS_OF) -> None:
    """Every active tenant through a new scorer execution environment, in the template's batches of 10."""
    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id")]
    handler = load_handler("scorer").lambda_handler
    for start in range(0, len(ids), 10):
        event = sqs_event([message_body(org, as_of, run_id) for org in ids[start : start + 10]])
        assert handler(event, lambda_context()) == {"batchItemFailures": []}


def score_two_days(conn: DbConnection, young_decline: bool = False) -> dict[UUID, dict[str, object]]:
    """The fleet scored a week before AS_OF and on AS_OF; AS_OF's rows, which must exercise the trend rules.

    `young_decline`: in between, every other tenant younger than 90 days (the onboarding profile's segment)
    loses its logins of the week, so its score falls: the demo's young tenants otherwise only improve."""
    score_fleet(conn, "run-week-before", WEEK_BEFORE)
    if young_decline:
        conn.execute(
            "UPDATE users SET last_login_at = %(before)s WHERE last_login_at > %(before)s AND organization_id IN ("
            " SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organizations"
            " WHERE created_at > %(young)s) young WHERE n %% 2 = 0)",
            {"before": WEEK_BEFORE - timedelta(days=30), "young": AS_OF - timedelta(days=90)},
        )
    score_fleet(conn, "run-before")
    before = latest(conn)
    trends = Counter(str(row["trend"]) for row in before.values())
    assert trends["IMPROVING"] > 0, trends
    assert trends["DECLINING"] > 0, trends
    # HIGH only because declining: at or above `high` (40), below `highIfDeclining` (60).
    assert any(r["risk_level"] == "HIGH" and 40 <= int(str(r["overall_score"])) < 60 for r in before.values())
    return before


def previewed(conn: DbConnection, candidate: ScoringProfile, active: ProfileSet) -> list[Mover]:
    """Every tenant the preview counts, as the preview's one statement scores it."""
    rows = profile_preview.previewed_tenants(conn, candidate, tried_before(candidate, active))
    return [
        Mover(
            r["organization_id"], r["organization_name"], r["score_from"], r["score_to"], r["risk_from"], r["risk_to"]
        )
        for r in rows
    ]


def evaluated(conn: DbConnection, candidate: ScoringProfile, active: ProfileSet) -> dict[UUID, tuple[int, str]]:
    """What `scoring.evaluate` gives each tenant the candidate would score, from its stored inputs, against
    its previous score restated under the candidate: the preview's reference."""
    with_candidate = active.with_candidate(candidate)
    reference: dict[UUID, tuple[int, str]] = {}
    for row in latest_inputs(conn):
        facts = TenantFacts(row.organization_id, row.inputs.total_users, row.created_at)
        if with_candidate.profile_for(facts, row.as_of).profile_id == candidate.profile_id:
            restated = row.previous.restated(candidate).overall if row.previous else None
            evaluation = scoring.evaluate(row.inputs, restated, candidate)
            reference[row.organization_id] = (evaluation.score.overall, evaluation.risk_level)
    return reference


def latest(conn: DbConnection) -> dict[UUID, dict[str, object]]:
    rows = conn.execute(
        "SELECT organization_id, overall_score, trend, risk_level, profile_id, profile_version"
        " FROM tenant_health_scores WHERE score_date = %s",
        (AS_OF.date(),),
    )
    return {row["organization_id"]: row for row in rows}


def test_preview_equals_the_scores_after_apply_with_zero_differences(
    conn: DbConnection, queues: object, events_dir: Path
) -> None:
    seed_fleet(conn, TENANTS, seed=7, as_of=AS_OF, replace=False)
    before = score_two_days(conn, young_decline=True)
    assert {row["profile_id"] for row in before.values()} == {"default"}

    document = json.loads((events_dir / "profile_onboarding.json").read_text())
    profile_id = document.pop("profileId")
    status, answer = request("POST /profiles/{profileId}/preview", path={"profileId": profile_id}, body=document)
    assert status == 200, answer
    candidate = new_version(profile_id, ProfileDocument.model_validate(document), 1)
    active = load_active_profiles(conn, None)
    full = previewed(conn, candidate, active)
    assert (len(full), sum(m.score_from != m.score_to for m in full)) == (answer["tenants"], answer["changed"])
    assert 10 <= len(full) < len(before)  # the onboarding tenants only, and some of them
    assert answer["changed"] > 0

    status, saved = request(
        "PUT /profiles/{profileId}", path={"profileId": profile_id}, body=document, roles="PLATFORM_ADMIN"
    )
    assert (status, saved["version"]) == (200, 1)
    score_fleet(conn, "run-after")  # a new execution environment: its profile cache starts empty
    after = latest(conn)

    differences = [
        m
        for m in full
        if (after[m.organization_id]["overall_score"], after[m.organization_id]["risk_level"])
        != (m.score_to, m.risk_to)
    ]
    assert differences == []
    previewed_ids = {m.organization_id for m in full}
    assert {org for org, row in after.items() if row["profile_id"] == "onboarding"} == previewed_ids
    assert all(after[org]["profile_version"] == 1 for org in previewed_ids)
    # The candidate's trend was in play for the tenants it scores, and it moved risk: a declining tenant at or
    # above `medium` (65) is MEDIUM only because it declines, one in [high, highIfDeclining) (35-54) HIGH.
    assert {after[org]["trend"] for org in previewed_ids} == {"IMPROVING", "DECLINING", "STABLE"}
    declining = [after[org] for org in previewed_ids if after[org]["trend"] == "DECLINING"]
    assert any(
        (row["risk_level"], int(str(row["overall_score"])) >= 65) == ("MEDIUM", True)
        or (row["risk_level"] == "HIGH" and 35 <= int(str(row["overall_score"])) < 55)
        for row in declining
    ), declining
    assert all(after[org] == before[org] for org in after if org not in previewed_ids)  # the others untouched
    for mover in answer["movers"]:
        row = after[UUID(mover["organizationId"])]
        assert (row["overall_score"], row["risk_level"]) == (mover["to"], mover["riskTo"])
        assert before[UUID(mover["organizationId"])]["overall_score"] == mover["from"]
    transitions: dict[str, dict[str, int]] = {}
    for org in previewed_ids:
        old, new = str(before[org]["risk_level"]), str(after[org]["risk_level"])
        transitions.setdefault(old, {}).setdefault(new, 0)
        transitions[old][new] += 1
    assert answer["riskTransitions"] == transitions


def test_every_stored_score_is_reproducible_from_its_inputs_and_profile_version(
    conn: DbConnection, queues: object, events_dir: Path
) -> None:
    seed_fleet(conn, 120, seed=11, as_of=AS_OF, replace=False)
    document = json.loads((events_dir / "profile_onboarding.json").read_text())
    document.pop("profileId")
    load_active_profiles(conn, None)
    profiles.save_profile(conn, "onboarding", ProfileDocument.model_validate(document), "test")
    score_fleet(conn, "run-1")
    rows = conn.execute(
        "SELECT organization_id, overall_score, previous_score, trend, risk_level, explanation, profile_id,"
        " profile_version FROM tenant_health_scores"
    ).fetchall()
    assert {row["profile_id"] for row in rows} == {"default", "onboarding"}
    stored_inputs = {latest.organization_id: latest.inputs for latest in latest_inputs(conn)}  # one day scored
    assert set(stored_inputs) == {row["organization_id"] for row in rows}
    for row in rows:
        version = profiles.profile_version(conn, row["profile_id"], row["profile_version"])
        assert version is not None
        assert row["explanation"]["profile"] == version.rules
        again = scoring.evaluate(stored_inputs[row["organization_id"]], row["previous_score"], version)
        assert (again.score.overall, again.trend, again.risk_level) == (
            row["overall_score"],
            row["trend"],
            row["risk_level"],
        )


def test_a_default_weight_change_previews_exactly_and_trends_compare_like_with_like(
    conn: DbConnection, queues: object
) -> None:
    """The issue's case: default's login 0.30 -> 0.15, feature adoption 0.15 -> 0.30, on a fleet with trends."""
    seed_fleet(conn, TENANTS, seed=7, as_of=AS_OF, replace=False)
    before = score_two_days(conn)
    document = DEFAULT_REWEIGHTED
    status, answer = request("POST /profiles/{profileId}/preview", path={"profileId": "default"}, body=document)
    assert status == 200, answer
    active = load_active_profiles(conn, None)
    candidate = new_version("default", ProfileDocument.model_validate(document), 2)
    full = {m.organization_id: m for m in previewed(conn, candidate, active)}
    assert len(full) == answer["tenants"] == len(before)

    # The preview's SQL equals scoring.evaluate, tenant by tenant, from the stored inputs and previous score.
    assert {org: (m.score_to, m.risk_to) for org, m in full.items()} == evaluated(conn, candidate, active)

    status, saved = request(
        "PUT /profiles/{profileId}", path={"profileId": "default"}, body=document, roles="PLATFORM_ADMIN"
    )
    assert (status, saved["version"]) == (200, 2)
    score_fleet(conn, "run-after")
    after = latest(conn)
    assert [
        org
        for org, m in full.items()
        if (after[org]["overall_score"], after[org]["risk_level"]) != (m.score_to, m.risk_to)
    ] == []
    stored = conn.execute(
        "SELECT previous_score, previous_score_as_computed, previous_profile_id, previous_profile_version, trend"
        " FROM tenant_health_scores WHERE score_date = %s",
        (AS_OF.date(),),
    ).fetchall()
    assert {(r["previous_profile_id"], r["previous_profile_version"]) for r in stored} == {("default", 1)}
    # The previous score is restated (what the trend compared with), its as-computed value kept beside it.
    assert any(r["previous_score"] != r["previous_score_as_computed"] for r in stored)


def test_the_preview_equals_evaluate_with_weights_too_precise_for_bigint(conn: DbConnection, queues: object) -> None:
    """Weights of 19 decimals: the statement weighs in numeric (their units overflow bigint), still exactly."""
    seed_fleet(conn, 120, seed=13, as_of=AS_OF, replace=False)
    score_fleet(conn, "run-week-before", WEEK_BEFORE)
    score_fleet(conn, "run-before")
    weights = {"login": "0.1234567890123456789", "caseResolution": "0.2765432109876543211"}
    weights |= {"campaignCompletion": "0.2", "featureAdoption": "0.3", "supportTickets": "0.1"}
    document = {"priority": 5, "segment": {"minUsers": 10}, "missingData": "neutral", "weights": weights}
    candidate = new_version("precise", ProfileDocument.model_validate(document), 1)
    assert 200 * sum(candidate.weight_units.values()) >= 2**62
    active = load_active_profiles(conn, None)
    previewed_rows = {m.organization_id: (m.score_to, m.risk_to) for m in previewed(conn, candidate, active)}
    assert len(previewed_rows) > 20
    assert previewed_rows == evaluated(conn, candidate, active)


def test_a_day_scored_late_before_the_latest_is_the_previous_score_the_preview_restates(
    conn: DbConnection, queues: object
) -> None:
    """A replayed night: a day scored after a later one, between the latest score and the one before it. Re-scoring
    the latest day compares with that day from then on, and so must the preview."""
    seed_fleet(conn, TENANTS, seed=7, as_of=AS_OF, replace=False)
    three_weeks_before, late_day = AS_OF - timedelta(days=21), AS_OF - timedelta(days=3)
    score_fleet(conn, "run-three-weeks-before", three_weeks_before)
    score_fleet(conn, "run-before")
    active = load_active_profiles(conn, None)
    candidate = new_version("default", ProfileDocument.model_validate(DEFAULT_REWEIGHTED), 2)
    stale = {m.organization_id: (m.score_to, m.risk_to) for m in previewed(conn, candidate, active)}
    score_fleet(conn, "run-late", late_day)  # the night that failed, replayed
    score_fleet(conn, "run-older-late", late_day - timedelta(days=7))  # older than the previous: changes nothing
    assert {row["score_date"] for row in latest_rows(conn).values()} == {AS_OF.date()}  # still the latest day

    full = {m.organization_id: (m.score_to, m.risk_to) for m in previewed(conn, candidate, active)}
    assert full == evaluated(conn, candidate, active)  # the reference reads the late day as the previous score
    assert sum(full[org] != stale[org] for org in full) > 0  # and it changes some tenants' preview
    status, saved = request(
        "PUT /profiles/{profileId}", path={"profileId": "default"}, body=DEFAULT_REWEIGHTED, roles="PLATFORM_ADMIN"
    )
    assert (status, saved["version"]) == (200, 2)
    score_fleet(conn, "run-after")
    after = latest(conn)
    assert [org for org, to in full.items() if (after[org]["overall_score"], after[org]["risk_level"]) != to] == []


def latest_rows(conn: DbConnection) -> dict[UUID, dict[str, object]]:
    return {row["organization_id"]: row for row in conn.execute("SELECT * FROM tenant_latest_scores")}
