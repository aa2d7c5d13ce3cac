"""Restatement (docs/scoring.md, "One model across time"): POST /profiles/{profileId}/restate, end to end.

The demo fleet (500 tenants) is scored on 30 days under `default` v1; v2 (the issue's weight change) is
applied and the 30 days restated through the API handler, the real (moto) scoring queue and the scorer
handler. Compared with the same 30 days scored with v2 active from the start, on a database whose scores
were wiped first: 0 differences in score, trend or risk. Restating twice gives the same rows; the
as-computed scores, the latest rows and the summary are untouched, and no event is published.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from api_support import request
from factories import DEFAULT_REWEIGHTED, add_org, add_score
from handlers import lambda_context, load_handler
from pipeline_support import drain, drain_through_scorer, published, sqs_event

from healthscore.core.profile_matching import ProfileSet
from healthscore.dal.connection import DbConnection
from healthscore.logic.active_profiles import load_active_profiles
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.demo.load import seed_fleet
from healthscore_dev.local.sqs_server import LocalQueues

TENANTS = 500
DAYS = 30
LAST_DAY = datetime.now(UTC).date() - timedelta(days=1)
FIRST_DAY = LAST_DAY - timedelta(days=DAYS - 1)
V2 = DEFAULT_REWEIGHTED
ADMIN = "PLATFORM_ADMIN"


def as_of(day: date) -> datetime:
    return datetime.combine(day, time(2), tzinfo=UTC)


def score_days(conn: DbConnection, active: ProfileSet) -> None:
    """Every ACTIVE tenant on the day before the 30 days (what the first one's trend compares with), then on
    each of them, oldest first, set-based (as `run nightly`'s past days)."""
    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id")]
    for offset in range(-1, DAYS):
        moment = as_of(FIRST_DAY + timedelta(days=offset))
        score_tenants(conn, [TenantRequest(org, moment, f"day-{offset}") for org in ids], active)


def restated_rows(conn: DbConnection) -> dict[tuple[UUID, date], tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT organization_id, score_date, overall_score, previous_score, trend, risk_level, profile_id,"
        " profile_version FROM tenant_restated_scores"
    )
    return {(r["organization_id"], r["score_date"]): tuple(r.values())[2:] for r in rows}


def computed(conn: DbConnection) -> dict[tuple[UUID, date], tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT organization_id, score_date, overall_score, previous_score, trend, risk_level, profile_id,"
        " profile_version, calculated_at FROM tenant_health_scores"
    )
    return {(r["organization_id"], r["score_date"]): tuple(r.values())[2:] for r in rows}


def latest_rows(conn: DbConnection) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM tenant_latest_scores ORDER BY organization_id").fetchall()


def restate(queues: LocalQueues) -> str:
    status, body = request(
        "POST /profiles/{profileId}/restate",
        path={"profileId": "default"},
        body={"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()},
        roles=ADMIN,
    )
    assert status == 202, body
    assert (body["profileId"], body["profileVersion"]) == ("default", 2)
    drain_through_scorer(queues)
    status, progress = request("GET /runs/{runId}", path={"runId": body["runId"]})
    assert status == 200, progress
    assert (progress["job"], progress["complete"], progress["scored"]) == ("restate", True, body["tenants"])
    return str(body["runId"])


def test_restating_30_days_equals_scoring_them_under_the_profile_from_the_start(
    conn: DbConnection, queues: LocalQueues, risk_events: str
) -> None:
    seed_fleet(conn, TENANTS, seed=3, as_of=as_of(LAST_DAY), replace=False)
    v1 = load_active_profiles(conn, None)
    score_days(conn, v1)
    as_computed, latest = computed(conn), latest_rows(conn)
    _, summary = request("GET /summary")
    status, saved = request("PUT /profiles/{profileId}", path={"profileId": "default"}, body=V2, roles=ADMIN)
    assert (status, saved["version"]) == (200, 2)
    published(risk_events)

    restate(queues)
    first = restated_rows(conn)
    restate(queues)  # a later restatement replaces the rows: with the same values
    assert restated_rows(conn) == first
    assert computed(conn) == as_computed
    assert latest_rows(conn) == latest
    assert request("GET /summary")[1] == summary
    assert published(risk_events) == []

    # The same 30 days scored with v2 active from the start.
    conn.execute("DELETE FROM tenant_latest_scores")
    conn.execute("DELETE FROM tenant_health_scores")
    score_days(conn, load_active_profiles(conn, None))
    fresh = {
        key: (row[0], row[1], row[2], row[3], "default", 2)
        for key, row in computed(conn).items()
        if key[1] >= FIRST_DAY
    }
    assert len(fresh) == len(first) > 400 * DAYS  # the scored tenants (some have no users) on every day
    assert [key for key in fresh if fresh[key] != first.get(key)] == []
    # The weight change moved scores: the restatement is not the as-computed series again.
    assert sum(first[key][0] != row[0] for key, row in as_computed.items() if key in first) > 100
    assert any(first[key][1] is not None for key in first if key[1] == FIRST_DAY)  # its previous: the day before


def test_history_marks_each_point_restated_or_computed(conn: DbConnection, queues: LocalQueues) -> None:
    seed_fleet(conn, 20, seed=5, as_of=as_of(LAST_DAY), replace=False)
    score_days(conn, load_active_profiles(conn, None))
    assert request("PUT /profiles/{profileId}", path={"profileId": "default"}, body=V2, roles=ADMIN)[0] == 200
    status, body = request(
        "POST /profiles/{profileId}/restate",
        path={"profileId": "default"},
        body={"from": (LAST_DAY - timedelta(days=4)).isoformat(), "to": LAST_DAY.isoformat()},
        roles=ADMIN,
    )
    assert status == 202, body
    drain_through_scorer(queues)
    [org] = conn.execute("SELECT organization_id FROM tenant_latest_scores LIMIT 1").fetchall()
    path = {"organizationId": str(org["organization_id"])}
    _, computed_history = request("GET /scores/{organizationId}/history", path=path, query={"days": "10"})
    _, restated_history = request(
        "GET /scores/{organizationId}/history", path=path, query={"days": "10", "basis": "restated"}
    )
    assert [p["basis"] for p in computed_history["items"]] == ["computed"] * 9  # today is not scored
    assert [(p["basis"], p["profileVersion"]) for p in restated_history["items"]] == [("computed", 1)] * 4 + [
        ("restated", 2)
    ] * 5
    assert [p["date"] for p in restated_history["items"]] == [p["date"] for p in computed_history["items"]]


def test_an_interrupted_restatement_finishes_on_redelivery_with_the_same_rows(
    conn: DbConnection, queues: LocalQueues
) -> None:
    seed_fleet(conn, 450, seed=9, as_of=as_of(LAST_DAY), replace=False)
    score_days(conn, load_active_profiles(conn, None))
    assert request("PUT /profiles/{profileId}", path={"profileId": "default"}, body=V2, roles=ADMIN)[0] == 200
    days = {"from": FIRST_DAY.isoformat(), "to": LAST_DAY.isoformat()}
    status, body = request("POST /profiles/{profileId}/restate", path={"profileId": "default"}, body=days, roles=ADMIN)
    assert status == 202, body
    messages = [message["Body"] for message in drain(queues.scoring_queue_url)]
    assert 400 < body["tenants"] <= 450  # the tenants with a score
    assert len(messages) == 2  # 30 days: 266 tenants a message (8,000 scores)
    first = len(json.loads(messages[0])["organizationIds"])

    scorer = load_handler("scorer").lambda_handler
    assert scorer(sqs_event(messages[:1]), lambda_context()) == {"batchItemFailures": []}  # then interrupted
    status, progress = request("GET /runs/{runId}", path={"runId": body["runId"]})
    assert (progress["complete"], progress["scored"], progress["pending"]) == (False, first, body["tenants"] - first)
    again = request("POST /profiles/{profileId}/restate", path={"profileId": "default"}, body=days, roles=ADMIN)
    assert again == (409, {**again[1], "runId": body["runId"]})  # one restatement of a profile at a time
    partial = restated_rows(conn)

    assert scorer(sqs_event(messages), lambda_context()) == {"batchItemFailures": []}  # redelivered, both
    status, progress = request("GET /runs/{runId}", path={"runId": body["runId"]})
    assert (progress["complete"], progress["scored"], progress["pending"]) == (True, body["tenants"], 0)
    done = restated_rows(conn)
    assert all(done[key] == row for key, row in partial.items())
    conn.execute("DELETE FROM tenant_restated_scores")
    assert scorer(sqs_event(messages), lambda_context()) == {"batchItemFailures": []}  # one uninterrupted pass
    assert restated_rows(conn) == done


def test_a_restatement_is_for_administrators_of_a_known_profile_over_past_days(
    conn: DbConnection, queues: LocalQueues
) -> None:
    load_active_profiles(conn, None)
    path = {"profileId": "default"}
    today = datetime.now(UTC).date()
    body = {"from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat()}
    assert request("POST /profiles/{profileId}/restate", path=path, body=body)[0] == 403
    assert request("POST /profiles/{profileId}/restate", path={"profileId": "gone"}, body=body, roles=ADMIN)[0] == 404
    for bad, field in [
        ({**body, "to": (today + timedelta(days=1)).isoformat()}, "to"),
        ({**body, "from": (today - timedelta(days=400)).isoformat()}, "from"),
        ({**body, "from": (today + timedelta(days=1)).isoformat()}, "to"),
        ({"from": body["from"]}, "to"),
        ({**body, "to": "yesterday"}, "to"),
    ]:
        status, answer = request("POST /profiles/{profileId}/restate", path=path, body=bad, roles=ADMIN)
        assert status == 422, (bad, answer)
        assert field in str(answer), (bad, answer)
    status, answer = request("POST /profiles/{profileId}/restate", path=path, body=body, roles=ADMIN)
    assert (status, answer["tenants"]) == (202, 0)  # nothing scored yet: nothing to restate, done at once
    status, progress = request("GET /runs/{runId}", path={"runId": answer["runId"]})
    assert (status, progress["complete"]) == (200, True)
    assert request("POST /profiles/{profileId}/restate", path=path, body=body, roles=ADMIN)[0] == 202


def test_a_restate_message_of_the_wrong_shape_is_poison_naming_the_field(
    conn: DbConnection, queues: LocalQueues
) -> None:
    tenant = "00000000-0000-4000-8000-000000000001"
    good: dict[str, Any] = {"type": "restate", "runId": "restate:default:x", "profileId": "default"}
    good |= {"profileVersion": 1, "from": "2026-01-01", "to": "2026-01-30", "organizationIds": [tenant]}
    bad = [
        ({**good, "organizationIds": []}, "organizationIds"),
        ({**good, "from": "2026-02-01"}, "to must be on or after from"),
        ({**good, "profileId": "Not A Slug"}, "profileId"),
        ({**good, "organizationIds": [tenant] * 267}, "at most 266 tenants for 30 days"),
    ]
    scorer = load_handler("scorer").lambda_handler
    event = sqs_event([json.dumps(body) for body, _ in bad])
    assert scorer(event, lambda_context()) == {"batchItemFailures": []}
    dead = drain(queues.dead_letter_queue_url)
    reasons = {d["Body"]: d["MessageAttributes"]["PoisonReason"]["StringValue"] for d in dead}
    for body, field in bad:
        assert field in reasons[json.dumps(body)], reasons


def test_the_example_event_restates_its_range(conn: DbConnection, queues: LocalQueues, events_dir: Path) -> None:
    event = json.loads((events_dir / "sqs_restate_batch.json").read_text())
    message = json.loads(event["Records"][0]["body"])
    for org in message["organizationIds"]:
        add_org(conn, org_id=UUID(org))
        for day in (date(2026, 11, 6), date(2026, 12, 1)):
            add_score(conn, UUID(org), day, 50, components={"login_score": 50})
    load_active_profiles(conn, None)
    assert request("PUT /profiles/{profileId}", path={"profileId": "default"}, body=V2, roles=ADMIN)[0] == 200
    assert load_handler("scorer").lambda_handler(event, lambda_context()) == {"batchItemFailures": []}
    rows = restated_rows(conn)
    assert sorted(rows) == sorted((UUID(org), date(2026, 12, 1)) for org in message["organizationIds"])
    # login 50 (0.15) and tickets 50 (0.10) weigh 50 under v2 too; the day before, restated, is the previous
    assert set(rows.values()) == {(50, 50, "STABLE", "MEDIUM", "default", 2)}
