"""A profile change is never mistaken for a change in the customer (docs/scoring.md, "One model across time").

One tenant with unchanged usage is scored three days running by the real scorer handler, under
three versions of the default profile: the trend compares with the previous score restated under
each new version, so it stays STABLE, and a risk level moved only by the weights is announced with
`"source": "profile"`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api_support import request
from factories import add_case, add_feature, add_org, add_users
from handlers import lambda_context, load_handler
from pipeline_support import message_body, published, sqs_event

from healthscore.core.profiles import ProfileDocument
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection
from healthscore.logic.active_profiles import load_active_profiles

DAY_1 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def save_default(conn: DbConnection, login: str, case: str, campaign: str, feature: str, tickets: str) -> None:
    weights = {"login": login, "caseResolution": case, "campaignCompletion": campaign}
    weights |= {"featureAdoption": feature, "supportTickets": tickets}
    profiles.save_profile(conn, "default", ProfileDocument.model_validate({"priority": 1000, "weights": weights}), "t")


def score(conn: DbConnection, org: UUID, day: int) -> dict[str, Any]:
    as_of = DAY_1 + timedelta(days=day - 1)
    handler = load_handler("scorer").lambda_handler  # a new execution environment: profiles read afresh
    assert handler(sqs_event([message_body(org, as_of)]), lambda_context()) == {"batchItemFailures": []}
    row = conn.execute(
        "SELECT * FROM tenant_health_scores WHERE organization_id = %s AND score_date = %s", (org, as_of.date())
    ).fetchone()
    assert row is not None
    return row


def test_unchanged_usage_stays_stable_across_versions_and_risk_moved_by_weights_says_profile(
    conn: DbConnection, risk_events: str
) -> None:
    org = add_org(conn)
    add_users(conn, org, [None] * 10)  # nobody logged in: login 0
    add_case(conn, org, closed_at=DAY_1 - timedelta(days=1), sla_breach_at=DAY_1)  # case 100
    add_feature(conn, org, "reports", enabled=True, is_used=True)  # feature 100; tickets 100; no campaign
    load_active_profiles(conn, None)

    first = score(conn, org, 1)  # default v1: (0 + 25 + 15 + 10) / 0.8 = 62.5
    assert (first["overall_score"], first["trend"], first["risk_level"]) == (63, "STABLE", "MEDIUM")

    save_default(conn, "0.40", "0.20", "0.20", "0.10", "0.10")  # v2: (0 + 20 + 10 + 10) / 0.8 = 50
    second = score(conn, org, 2)
    # Against 63 as computed this read DECLINING, and HIGH through highIfDeclining (50 < 60).
    assert (second["overall_score"], second["previous_score"], second["trend"]) == (50, 50, "STABLE")
    assert second["risk_level"] == "MEDIUM"
    assert (second["previous_score_as_computed"], second["previous_profile_id"]) == (63, "default")
    assert (second["previous_profile_version"], second["profile_version"]) == (1, 2)
    assert second["explanation"]["previousContributions"] == second["explanation"]["contributions"]
    assert published(risk_events) == []  # MEDIUM both days: no news

    save_default(conn, "0.05", "0.30", "0.20", "0.35", "0.10")  # v3: (0 + 30 + 35 + 10) / 0.8 = 93.75
    third = score(conn, org, 3)
    assert (third["overall_score"], third["previous_score"], third["trend"], third["risk_level"]) == (
        94,
        94,
        "STABLE",
        "LOW",
    )
    [event] = published(risk_events)
    detail = event["detail"]
    assert (detail["previousRiskLevel"], detail["riskLevel"], detail["source"]) == ("MEDIUM", "LOW", "profile")
    assert (detail["previousProfileId"], detail["previousProfileVersion"]) == ("default", 2)
    assert (detail["previousScore"], detail["overallScore"]) == (94, 94)
    assert set(detail["drivers"].values()) == {0.0}  # the usage did not move

    # The API's score object carries the restated and the as-computed previous score.
    status, body = request("GET /scores/{organizationId}", path={"organizationId": str(org)})
    assert status == 200, body
    assert (body["previousScore"], body["previousScoreAsComputed"]) == (94, 50)
    assert (body["previousProfileId"], body["previousProfileVersion"], body["profileVersion"]) == ("default", 2, 3)
    assert body["change"]["delta"] == 0
