"""The profile routes through the real API handler, profile storage, and the default profile's seeding."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from api_support import PROFILE_WEIGHTS as WEIGHTS
from api_support import add_scored_tenants, api_event, call_api, request
from psycopg.rows import dict_row

from healthscore.core.profiles import ProfileDocument
from healthscore.core.weights import HealthWeights
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection
from healthscore.logic.active_profiles import ProfileCache, load_active_profiles

ADMIN = "PLATFORM_ADMIN"
ONBOARDING = {"priority": 10, "segment": {"tenantAgeDaysBelow": 90}, "weights": WEIGHTS, "missingData": "neutral"}


def put(profile_id: str, body: dict[str, Any], roles: str = ADMIN) -> tuple[int, Any]:
    return request("PUT /profiles/{profileId}", path={"profileId": profile_id}, body=body, roles=roles)


def test_get_profiles_seeds_the_default_from_section_4(conn: DbConnection) -> None:
    status, body = request("GET /profiles")
    assert status == 200
    (default,) = body["items"]
    assert default["profileId"] == "default"
    assert default["version"] == 1
    assert default["weights"] == {
        "login": 0.3,
        "caseResolution": 0.25,
        "campaignCompletion": 0.2,
        "featureAdoption": 0.15,
        "supportTickets": 0.1,
    }
    assert default["riskThresholds"] == {"high": 40, "highIfDeclining": 60, "medium": 70}
    assert (default["missingData"], default["neutralScore"], default["trendThreshold"]) == ("renormalize", 50, 5)


def test_put_saves_a_new_version_each_time_and_get_lists_the_active_one(conn: DbConnection) -> None:
    status, saved = put("onboarding", ONBOARDING)
    assert status == 200
    assert (saved["profileId"], saved["version"], saved["name"]) == ("onboarding", 1, "onboarding")
    assert saved["weights"]["campaignCompletion"] == 0.35
    status, again = put("onboarding", {**ONBOARDING, "name": "Onboarding", "neutralScore": 60})
    assert (status, again["version"], again["neutralScore"]) == (200, 2, 60)
    _, listed = request("GET /profiles", roles="CLIENT_SUCCESS")
    assert [(p["profileId"], p["version"]) for p in listed["items"]] == [("default", 1), ("onboarding", 2)]
    row = conn.execute(
        "SELECT created_by FROM scoring_profile_versions WHERE profile_id = 'onboarding' AND version = 2"
    )
    assert row.fetchone() == {"created_by": "csm-1"}  # the caller's subject


def test_writing_needs_platform_admin(conn: DbConnection) -> None:
    status, body = put("onboarding", ONBOARDING, roles="CLIENT_SUCCESS")
    assert status == 403
    assert "PLATFORM_ADMIN" in body["message"]
    status, body = put("onboarding", {"priority": "x"}, roles="CLIENT_SUCCESS")  # no role: no validation detail
    assert status == 403
    assert "PLATFORM_ADMIN" in body["message"]
    status, body = request("DELETE /profiles/{profileId}", path={"profileId": "onboarding"}, roles="CLIENT_SUCCESS")
    assert status == 403
    assert "PLATFORM_ADMIN" in body["message"]
    assert request("GET /profiles", roles=None)[0] == 401


@pytest.mark.parametrize(
    ("profile_id", "body", "field"),
    [
        ("onboarding", {**ONBOARDING, "weights": {**WEIGHTS, "login": 0.3}}, "weights"),
        ("onboarding", {**ONBOARDING, "weights": {**WEIGHTS, "nps": 0}}, "weights.nps"),
        ("onboarding", {**ONBOARDING, "riskThresholds": {"high": 80}}, "riskThresholds"),
        ("onboarding", {**ONBOARDING, "segment": {"minUsers": 9, "maxUsers": 3}}, "segment.maxUsers"),
        ("onboarding", {**ONBOARDING, "segment": {"region": "EU"}}, "segment.region"),
        ("Onboarding!", ONBOARDING, "profileId"),
        ("default", {"priority": 1, "weights": WEIGHTS, "segment": {"minUsers": 1}}, "segment"),
        ("onboarding", {"weights": WEIGHTS}, "priority"),
    ],
)
def test_a_bad_profile_is_a_422_naming_the_field(conn: DbConnection, profile_id: str, body: Any, field: str) -> None:
    status, answer = put(profile_id, body)
    assert status == 422, answer
    assert field in [error["field"] for error in answer["errors"]], answer
    assert conn.execute(
        "SELECT count(*) AS n FROM scoring_profile_versions WHERE profile_id <> 'default'"
    ).fetchone() == {"n": 0}


def test_delete_stops_a_profile_and_default_cannot_be_deleted(conn: DbConnection) -> None:
    put("onboarding", ONBOARDING)
    status, body = request("DELETE /profiles/{profileId}", path={"profileId": "onboarding"}, roles=ADMIN)
    assert (status, body) == (204, None)
    _, listed = request("GET /profiles")
    assert [p["profileId"] for p in listed["items"]] == ["default"]
    assert request("DELETE /profiles/{profileId}", path={"profileId": "onboarding"}, roles=ADMIN)[0] == 404
    status, body = request("DELETE /profiles/{profileId}", path={"profileId": "default"}, roles=ADMIN)
    assert status == 409
    assert "default" in body["message"]
    # saved again, it comes back with a version after the deleted one (which scores may still name)
    assert put("onboarding", ONBOARDING)[1]["version"] == 2


def test_two_administrators_saving_at_once_get_two_versions(conn: DbConnection, database_url: str) -> None:
    document = ProfileDocument.model_validate(ONBOARDING)
    profiles.save_profile(conn, "onboarding", document, "setup")
    saves = 8
    barrier = threading.Barrier(saves)
    versions: list[int] = []
    errors: list[BaseException] = []

    def save(who: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
                barrier.wait()
                saved = profiles.save_profile(own, "onboarding", document, f"admin-{who}")
                assert saved is not None
                versions.append(saved.version)
        except BaseException as exc:  # reported below: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(who,)) for who in range(saves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(versions) == list(range(2, 2 + saves))
    stored = conn.execute("SELECT count(DISTINCT created_by) AS n FROM scoring_profile_versions WHERE version > 1")
    assert stored.fetchone() == {"n": saves}


def test_concurrent_first_loads_seed_one_default(conn: DbConnection, database_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def load() -> None:
        try:
            with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
                barrier.wait()
                load_active_profiles(own, None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert conn.execute("SELECT count(*) AS n FROM scoring_profile_versions").fetchone() == {"n": 1}


def test_health_weights_seed_the_default_once_then_a_difference_is_reported(
    conn: DbConnection, caplog: pytest.LogCaptureFixture
) -> None:
    configured = HealthWeights.model_validate(
        {
            "login": "0.4",
            "caseResolution": "0.2",
            "campaignCompletion": "0.2",
            "featureAdoption": "0.1",
            "supportTickets": "0.1",
        }
    )
    seeded = load_active_profiles(conn, configured).get("default")
    assert seeded is not None
    assert seeded.weights.of() == configured.of()
    caplog.clear()
    later = HealthWeights()  # section 4's: differs from the stored default
    cache = ProfileCache(later)
    assert cache.get(conn).get("default") == seeded  # the database wins
    cache.get(conn)
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert [getattr(w, "variable", None) for w in warnings] == ["HEALTH_WEIGHTS"]  # once: at start-up
    assert "HEALTH_WEIGHTS" in warnings[0].getMessage()


def test_the_cache_reloads_after_60_seconds_only(conn: DbConnection) -> None:
    now = [0.0]
    cache = ProfileCache(None, clock=lambda: now[0])
    assert [p.profile_id for p in cache.get(conn).ordered] == ["default"]
    profiles.save_profile(conn, "onboarding", ProfileDocument.model_validate(ONBOARDING), "admin")
    now[0] = 59.9
    assert [p.profile_id for p in cache.get(conn).ordered] == ["default"]
    now[0] = 60.0
    assert [p.profile_id for p in cache.get(conn).ordered] == ["onboarding", "default"]


def test_preview_reports_tenants_changes_transitions_and_movers(conn: DbConnection) -> None:
    add_scored_tenants(conn, 8)
    stored_before = conn.execute("SELECT count(*) AS n FROM tenant_health_scores").fetchone()
    every = {
        "priority": 1,
        "weights": {**WEIGHTS, "login": 0.9, "caseResolution": 0, "campaignCompletion": 0, "featureAdoption": 0.05},
    }
    status, body = request("POST /profiles/{profileId}/preview", path={"profileId": "logins"}, body=every)
    assert status == 200, body
    assert body["tenants"] == 8
    assert sum(n for to in body["riskTransitions"].values() for n in to.values()) == 8
    assert 0 < body["changed"] <= 8
    assert len(body["movers"]) == body["changed"]
    changes = [abs(m["to"] - m["from"]) for m in body["movers"]]
    assert changes == sorted(changes, reverse=True)
    assert set(body["movers"][0]) == {"organizationId", "organizationName", "from", "to", "riskFrom", "riskTo"}
    assert conn.execute("SELECT count(*) AS n FROM tenant_health_scores").fetchone() == stored_before
    assert conn.execute("SELECT count(*) AS n FROM scoring_profiles WHERE profile_id = 'logins'").fetchone() == {"n": 0}
    # a segment nobody is in previews nobody; a bad body is a 422 naming the field
    nobody = {**every, "segment": {"minUsers": 1000}}
    _, empty = request("POST /profiles/{profileId}/preview", path={"profileId": "logins"}, body=nobody)
    assert (empty["tenants"], empty["changed"], empty["movers"], empty["riskTransitions"]) == (0, 0, [], {})
    status, bad = request("POST /profiles/{profileId}/preview", path={"profileId": "logins"}, body={"priority": 1})
    assert status == 422
    assert [e["field"] for e in bad["errors"]] == ["weights"]


def test_example_profile_file_applies(conn: DbConnection, events_dir: Path) -> None:
    document = json.loads((events_dir / "profile_onboarding.json").read_text())
    profile_id = document.pop("profileId")
    status, saved = put(profile_id, document)
    assert (status, saved["profileId"], saved["segment"]["tenantAgeDaysBelow"]) == (200, "onboarding", 90)


def test_a_profile_as_get_shows_it_round_trips_through_put_and_preview(conn: DbConnection) -> None:
    _, saved = put("onboarding", ONBOARDING)
    shown = next(p for p in request("GET /profiles")[1]["items"] if p["profileId"] == "onboarding")
    assert (shown["profileId"], shown["version"]) == ("onboarding", 1)  # what `profiles show` writes to a file

    status, again = put("onboarding", shown)  # profileId and version included: the version is ignored
    assert (status, again["version"]) == (200, 2)
    assert {k: v for k, v in again.items() if k != "version"} == {k: v for k, v in saved.items() if k != "version"}
    preview = request("POST /profiles/{profileId}/preview", path={"profileId": "onboarding"}, body=shown)
    assert preview[0] == 200

    status, body = put("enterprise", shown)  # another profile's file: refused, both ids named
    assert status == 422
    assert body["message"] == "profileId: the body's profileId 'onboarding' is not the path's 'enterprise'"
    assert body["errors"][0]["field"] == "profileId"
    assert not conn.execute("SELECT 1 FROM scoring_profiles WHERE profile_id = 'enterprise'").fetchall()


def test_a_put_missing_a_field_says_that_put_replaces_the_whole_profile(conn: DbConnection) -> None:
    status, body = put("onboarding", {"priority": 10})
    assert status == 422
    assert body["message"] == (
        "weights: Field required (PUT replaces the whole profile: send all of it, as GET /profiles shows it)"
    )
    status, body = put("onboarding", {**ONBOARDING, "weights": {**WEIGHTS, "login": 0.9}})  # not a missing field
    assert status == 422
    assert "PUT replaces" not in body["message"]


def _raw_body(body: str, content_type: str | None, roles: str = ADMIN) -> tuple[int, Any]:
    event = api_event("PUT /profiles/{profileId}", path={"profileId": "onboarding"}, roles=roles)
    event.update(body=body, isBase64Encoded=False)
    event.setdefault("headers", {}).pop("content-type", None)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    return call_api(event)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_a_json_body_sent_as_another_type_is_told_to_send_json(conn: DbConnection, content_type: str) -> None:
    """curl --data sends application/x-www-form-urlencoded: its JSON would be read as a form's field names."""
    status, body = _raw_body(json.dumps(ONBOARDING), content_type)
    assert (status, body) == (
        415,
        {"message": "The body must be JSON: send it with the header Content-Type: application/json"},
    )
    # The caller's role is checked first, as for every refusal.
    assert _raw_body(json.dumps(ONBOARDING), content_type, roles="CLIENT_SUCCESS")[0] == 403
    assert _raw_body(json.dumps(ONBOARDING), None)[0] == 200  # no Content-Type at all: read as JSON


def test_a_body_that_is_not_json_is_told_where(conn: DbConnection) -> None:
    status, body = _raw_body('{"priority": 10,\n "weights": {"login": 1}', "application/json; charset=utf-8")
    assert status == 422
    assert body["message"] == "The body is not valid JSON: Expecting ',' delimiter at line 2 column 25"
    assert body["errors"] == [{"field": "body", "location": "body", "message": body["message"], "type": "json_invalid"}]
