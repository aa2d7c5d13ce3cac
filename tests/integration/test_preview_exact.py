"""The what-if preview is exact: after applying the same profile, the real scorer gives every `to`.

A demo fleet is scored by the real scorer handler, a candidate profile is previewed through the
API handler, applied through the API, and the fleet scored again (same as-of: same inputs, same
previous scores). Every tenant's new score and risk must equal the preview's, with 0 differences.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from api_support import request
from handlers import lambda_context, load_handler
from pipeline_support import message_body, sqs_event

from healthscore.core import scoring
from healthscore.core.profiles import ProfileDocument, new_version
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection
from healthscore.dal.latest_inputs import latest_inputs
from healthscore.logic.active_profiles import load_active_profiles
from healthscore.logic.preview import preview
from healthscore_dev.demo.load import seed_fleet

AS_OF = datetime(2026, 1, 15, 2, tzinfo=UTC)
TENANTS = 300


def score_fleet(conn: DbConnection, run_id: str) -> None:
    """Every active tenant through a new scorer execution environment, in the template's batches of 10."""
    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id")]
    handler = load_handler("scorer").lambda_handler
    for start in range(0, len(ids), 10):
        event = sqs_event([message_body(org, AS_OF, run_id) for org in ids[start : start + 10]])
        assert handler(event, lambda_context()) == {"batchItemFailures": []}


def latest(conn: DbConnection) -> dict[UUID, dict[str, object]]:
    rows = conn.execute(
        "SELECT organization_id, overall_score, risk_level, profile_id, profile_version FROM tenant_health_scores"
        " WHERE score_date = %s",
        (AS_OF.date(),),
    )
    return {row["organization_id"]: row for row in rows}


def test_preview_equals_the_scores_after_apply_with_zero_differences(
    conn: DbConnection, queues: object, events_dir: Path
) -> None:
    seed_fleet(conn, TENANTS, seed=7, as_of=AS_OF, replace=False)
    score_fleet(conn, "run-before")
    before = latest(conn)
    assert {row["profile_id"] for row in before.values()} == {"default"}

    document = json.loads((events_dir / "profile_onboarding.json").read_text())
    profile_id = document.pop("profileId")
    status, answer = request("POST /profiles/{profileId}/preview", path={"profileId": profile_id}, body=document)
    assert status == 200, answer
    candidate = new_version(profile_id, ProfileDocument.model_validate(document), 1)
    full = preview(conn, candidate, load_active_profiles(conn, None))
    assert (full.tenants, full.changed) == (answer["tenants"], answer["changed"])
    assert 10 <= full.tenants < len(before)  # the onboarding tenants only, and some of them
    assert full.changed > 0

    status, saved = request(
        "PUT /profiles/{profileId}", path={"profileId": profile_id}, body=document, roles="PLATFORM_ADMIN"
    )
    assert (status, saved["version"]) == (200, 1)
    score_fleet(conn, "run-after")  # a new execution environment: its profile cache starts empty
    after = latest(conn)

    differences = [
        m
        for m in full.scored
        if (after[m.organization_id]["overall_score"], after[m.organization_id]["risk_level"])
        != (m.score_to, m.risk_to)
    ]
    assert differences == []
    previewed = {m.organization_id for m in full.scored}
    assert {org for org, row in after.items() if row["profile_id"] == "onboarding"} == previewed
    assert all(after[org]["profile_version"] == 1 for org in previewed)
    assert all(after[org] == before[org] for org in after if org not in previewed)  # the others untouched
    for mover in answer["movers"]:
        row = after[UUID(mover["organizationId"])]
        assert (row["overall_score"], row["risk_level"]) == (mover["to"], mover["riskTo"])
        assert before[UUID(mover["organizationId"])]["overall_score"] == mover["from"]
    transitions: dict[str, dict[str, int]] = {}
    for org in previewed:
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
        assert row["explanation"]["profile"] == version.rules()
        again = scoring.evaluate(stored_inputs[row["organization_id"]], row["previous_score"], version)
        assert (again.score.overall, again.trend, again.risk_level) == (
            row["overall_score"],
            row["trend"],
            row["risk_level"],
        )
