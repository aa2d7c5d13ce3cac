"""`score_tenants` against a real PostgreSQL: hand-built tenants, every component checked.

The window is `[AS_OF - 30 days, AS_OF]`, both ends included (docs/scoring.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from factories import add_campaign, add_case, add_feature, add_org, add_score, add_tickets, add_users

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.core.weights import HEALTH_WEIGHTS, HealthWeights
from healthscore.dal.connection import DbConnection
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantOutcome, TenantRequest
from healthscore_dev.bench.scorer_run import protocol_counts

AS_OF = datetime(2024, 6, 15, 2, 0, tzinfo=UTC)
TODAY = AS_OF.date()
WINDOW_START = AS_OF - timedelta(days=30)
DAY = timedelta(days=1)
RUN = "run-2024-06-15"

FULL = UUID("00000000-0000-4000-8000-000000000001")
UNTRACKED = UUID("00000000-0000-4000-8000-000000000002")
NO_USERS = UUID("00000000-0000-4000-8000-000000000003")
SUSPENDED = UUID("00000000-0000-4000-8000-000000000004")
CHURNED = UUID("00000000-0000-4000-8000-000000000005")
UNKNOWN = UUID("00000000-0000-4000-8000-0000000000ff")
SMALL = UUID("00000000-0000-4000-8000-000000000006")


def score(
    conn: DbConnection,
    *org_ids: UUID,
    as_of: datetime = AS_OF,
    run_id: str = RUN,
    weights: HealthWeights = HEALTH_WEIGHTS,
) -> list[TenantOutcome]:
    profiles = ProfileSet([default_profile(weights)])
    return score_tenants(conn, [TenantRequest(org_id, as_of, run_id) for org_id in org_ids], profiles)


def stored(conn: DbConnection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM tenant_health_scores WHERE organization_id = %s ORDER BY score_date", (org_id,)
    ).fetchall()


def only_row(conn: DbConnection, org_id: UUID, score_date: date = TODAY) -> dict[str, Any]:
    rows = [row for row in stored(conn, org_id) if row["score_date"] == score_date]
    assert len(rows) == 1
    return rows[0]


def outcomes(conn: DbConnection, run_id: str = RUN) -> dict[UUID, tuple[str, str | None]]:
    rows = conn.execute(
        "SELECT organization_id, outcome, reason FROM run_tenant_outcomes WHERE run_id = %s", (run_id,)
    ).fetchall()
    return {row["organization_id"]: (row["outcome"], row["reason"]) for row in rows}


def build_full_tenant(conn: DbConnection, org_id: UUID = FULL) -> None:
    """A tenant with data for every component, and rows just outside the window for each.

    login 86, caseResolution 75, campaignCompletion 46, featureAdoption 67, supportTickets 50;
    overall 86*.30 + 75*.25 + 46*.20 + 67*.15 + 50*.10 = 68.8 -> 69.
    """
    add_org(conn, org_id=org_id, name="Full Co")
    add_users(
        conn,
        org_id,
        logins=[
            WINDOW_START,  # exactly 30 days before: counts
            AS_OF,  # exactly at as_of: counts
            AS_OF - DAY,
            AS_OF - 2 * DAY,
            AS_OF - 10 * DAY,
            AS_OF - 29 * DAY,
            AS_OF - 31 * DAY,  # 31 days before: does not count
            WINDOW_START - timedelta(seconds=1),  # just before the window
            AS_OF + timedelta(minutes=1),  # after as_of: does not count
            None,  # never logged in
        ],
    )  # 6 active of 10: 0.6 / 0.7 * 100 = 85.71 -> 86
    add_case(conn, org_id, closed_at=AS_OF - DAY)  # no SLA: on time
    add_case(conn, org_id, closed_at=AS_OF - 2 * DAY, sla_breach_at=AS_OF - 3 * DAY)  # closed after SLA: late
    add_case(conn, org_id, closed_at=AS_OF - 5 * DAY, sla_breach_at=AS_OF - 5 * DAY)  # closed at the breach: on time
    add_case(conn, org_id, closed_at=WINDOW_START, sla_breach_at=AS_OF)  # on the window's edge, on time
    add_case(conn, org_id, closed_at=AS_OF - 31 * DAY)  # outside the window
    add_case(conn, org_id, closed_at=AS_OF + timedelta(hours=1), sla_breach_at=AS_OF - 40 * DAY)  # after as_of
    add_case(conn, org_id, closed_at=None, sla_breach_at=AS_OF - 3 * DAY)  # still open
    # 3 of 4 on time -> 75
    add_campaign(conn, org_id, completed_at=AS_OF - DAY, total_assignments=4, completed_assignments=1)  # 1/4
    add_campaign(conn, org_id, completed_at=AS_OF - 2 * DAY, total_assignments=3, completed_assignments=2)  # 2/3
    add_campaign(conn, org_id, completed_at=AS_OF - 3 * DAY, total_assignments=0, completed_assignments=0)  # ignored
    add_campaign(conn, org_id, completed_at=AS_OF - 40 * DAY, total_assignments=10, completed_assignments=10)
    add_campaign(conn, org_id, completed_at=None, total_assignments=10, completed_assignments=5)  # not completed
    # (1/4 + 2/3) / 2 = 11/24 = 45.83 -> 46
    add_feature(conn, org_id, "reports", enabled=True, is_used=True, last_used_at=AS_OF - DAY)
    add_feature(conn, org_id, "campaigns", enabled=True, is_used=True)
    add_feature(conn, org_id, "sso", enabled=True, is_used=False)
    add_feature(conn, org_id, "legacy-export", enabled=False, is_used=True)  # disabled: ignored even if used
    add_feature(conn, org_id, "beta", enabled=False, is_used=False)
    # 2 used of 3 enabled -> 67
    add_tickets(conn, org_id, created=[AS_OF - DAY, WINDOW_START, AS_OF - 31 * DAY, AS_OF + DAY])
    # 2 in the window; 10 users -> baseline 1; round(100 * 1 / 2) = 50


FULL_COMPONENTS = {
    "login_score": 86,
    "case_resolution_score": 75,
    "campaign_completion_score": 46,
    "feature_adoption_score": 67,
    "support_ticket_score": 50,
}


# --- one tenant, every component -------------------------------------------------------------------


def test_every_component_of_a_hand_built_tenant(conn: DbConnection) -> None:
    build_full_tenant(conn)
    [result] = score(conn, FULL)
    assert (result.organization_id, result.outcome, result.reason, result.run_id) == (FULL, "scored", None, RUN)

    row = only_row(conn, FULL)
    assert {name: row[name] for name in FULL_COMPONENTS} == FULL_COMPONENTS
    assert row["overall_score"] == 69
    assert (row["previous_score"], row["trend"], row["risk_level"]) == (None, "STABLE", "MEDIUM")
    assert (row["run_id"], row["as_of"], row["score_date"]) == (RUN, AS_OF, TODAY)
    inputs = dict(row["inputs"])
    assert sorted(inputs.pop("campaignAssignments")) == [[1, 4], [2, 3]]  # (completed, total), in no set order
    assert inputs == {
        "windowStart": WINDOW_START.isoformat(),
        "windowEnd": AS_OF.isoformat(),
        "totalUsers": 10,
        "activeUsers": 6,
        "casesClosed": 4,
        "casesOnTime": 3,
        "campaignsCompleted": 3,  # the zero-assignment one is completed, just not averaged
        "featuresEnabled": 3,
        "featuresUsed": 2,
        "tracksSupportTickets": True,
        "ticketCount": 2,
        "baselineTickets": 1,
        # 2024's day scored today without a record of it: login and features read live stand in
        "sources": {
            "login": "live",
            "caseResolution": "live",
            "campaignCompletion": "live",
            "featureAdoption": "live",
            "supportTickets": "live",
        },
        "recordedAsOf": None,
        "approximate": True,
        "unknownUsers": 1,  # the user who logged in a minute after as_of
    }
    # what the function returned is what was stored
    assert result.row is not None
    assert {k: result.row[k] for k in ("overall_score", *FULL_COMPONENTS)} == {
        k: row[k] for k in ("overall_score", *FULL_COMPONENTS)
    }
    assert outcomes(conn) == {FULL: ("scored", None)}


def test_the_stored_weights_and_explanation_explain_the_score(conn: DbConnection) -> None:
    build_full_tenant(conn)
    score(conn, FULL)
    row = only_row(conn, FULL)
    assert row["weights"] == {
        "login": "0.30",
        "caseResolution": "0.25",
        "campaignCompletion": "0.20",
        "featureAdoption": "0.15",
        "supportTickets": "0.10",
    }
    explanation = row["explanation"]
    assert explanation["missingComponents"] == []
    assert explanation["previousScoreDate"] is None
    assert explanation["contributions"] == pytest.approx(
        {
            "login": 25.8,
            "caseResolution": 18.75,
            "campaignCompletion": 9.2,
            "featureAdoption": 10.05,
            "supportTickets": 5,
        }
    )
    assert sum(explanation["contributions"].values()) == pytest.approx(68.8)
    assert abs(sum(explanation["contributions"].values()) - row["overall_score"]) <= 0.5


def test_missing_components_are_null_named_and_the_rest_renormalized(conn: DbConnection) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[AS_OF - DAY] * 5 + [None] * 5)  # 50% -> 71.43 -> 71
    add_case(conn, SMALL, closed_at=None)  # open only: no case closed in the window
    add_campaign(conn, SMALL, completed_at=AS_OF - DAY, total_assignments=0, completed_assignments=0)
    add_feature(conn, SMALL, "reports", enabled=False, is_used=True)
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert row["login_score"] == 71
    assert row["case_resolution_score"] is None
    assert row["campaign_completion_score"] is None  # zero-assignment campaign: ignored
    assert row["feature_adoption_score"] is None  # the only feature is disabled
    assert row["support_ticket_score"] == 100  # no tickets, baseline 1
    # (71 * .30 + 100 * .10) / .40 = 78.25 -> 78
    assert row["overall_score"] == 78
    explanation = row["explanation"]
    assert explanation["missingComponents"] == ["caseResolution", "campaignCompletion", "featureAdoption"]
    assert set(explanation["contributions"]) == {"login", "supportTickets"}
    assert sum(explanation["contributions"].values()) == pytest.approx(78.25)
    assert row["inputs"]["campaignsCompleted"] == 1
    assert row["inputs"]["campaignAssignments"] == []


# --- window edges, one component at a time ---------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "counts"),
    [
        (AS_OF - timedelta(days=31), False),
        (WINDOW_START - timedelta(microseconds=1), False),
        (WINDOW_START, True),  # exactly 30 days before as_of
        (AS_OF, True),
        (AS_OF + timedelta(microseconds=1), False),
        (None, False),
    ],
)
def test_login_window_edges(conn: DbConnection, login: datetime | None, counts: bool) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[login])
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert row["inputs"]["activeUsers"] == int(counts)
    assert row["login_score"] == (100 if counts else 0)


@pytest.mark.parametrize(
    ("closed_at", "sla_breach_at", "closed", "on_time"),
    [
        (AS_OF - DAY, None, 1, 1),  # no SLA: on time
        (AS_OF - DAY, AS_OF - 2 * DAY, 1, 0),  # closed after its breach time: late
        (AS_OF - DAY, AS_OF - DAY, 1, 1),  # closed exactly at the breach time: on time
        (AS_OF - DAY, AS_OF - DAY - timedelta(microseconds=1), 1, 0),
        (AS_OF - 31 * DAY, None, 0, 0),  # closed before the window
        (WINDOW_START, None, 1, 1),
        (AS_OF + timedelta(seconds=1), None, 0, 0),  # closed after as_of
        (None, None, 0, 0),  # open
    ],
)
def test_case_resolution_window_and_sla(
    conn: DbConnection, closed_at: datetime | None, sla_breach_at: datetime | None, closed: int, on_time: int
) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[AS_OF])
    add_case(conn, SMALL, closed_at=closed_at, sla_breach_at=sla_breach_at)
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert (row["inputs"]["casesClosed"], row["inputs"]["casesOnTime"]) == (closed, on_time)
    assert row["case_resolution_score"] == (None if closed == 0 else 100 * on_time)
    assert ("caseResolution" in row["explanation"]["missingComponents"]) == (closed == 0)


def test_campaign_average_is_exact_and_ignores_zero_assignment_and_out_of_window_campaigns(
    conn: DbConnection,
) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[AS_OF])
    add_campaign(conn, SMALL, completed_at=AS_OF, total_assignments=3, completed_assignments=1)
    add_campaign(conn, SMALL, completed_at=WINDOW_START, total_assignments=300, completed_assignments=203)
    add_campaign(conn, SMALL, completed_at=AS_OF - DAY, total_assignments=0, completed_assignments=0)
    add_campaign(conn, SMALL, completed_at=AS_OF + DAY, total_assignments=2, completed_assignments=0)
    add_campaign(conn, SMALL, completed_at=AS_OF - 31 * DAY, total_assignments=2, completed_assignments=0)
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    # (1/3 + 203/300) / 2 = 0.505 exactly -> 50.5 -> 51 (floats give 50.49999...)
    assert row["campaign_completion_score"] == 51
    assert row["inputs"]["campaignsCompleted"] == 3
    assert sorted(row["inputs"]["campaignAssignments"]) == [[1, 3], [203, 300]]


def test_tickets_window_and_baseline_of_30_users(conn: DbConnection) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[AS_OF] * 30)  # baseline ceil(30 / 10) = 3
    add_tickets(conn, SMALL, created=[AS_OF, WINDOW_START, AS_OF - DAY, AS_OF - 2 * DAY])  # 4 in the window
    add_tickets(conn, SMALL, created=[WINDOW_START - timedelta(seconds=1), AS_OF + timedelta(seconds=1)])
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert (row["inputs"]["ticketCount"], row["inputs"]["baselineTickets"]) == (4, 3)
    assert row["support_ticket_score"] == 75  # round(100 * 3 / 4)


def test_untracked_support_tickets_score_100(conn: DbConnection) -> None:
    add_org(conn, org_id=UNTRACKED, tracks_support_tickets=False)
    add_users(conn, UNTRACKED, logins=[AS_OF - DAY])
    add_tickets(conn, UNTRACKED, created=[AS_OF - DAY] * 20)
    score(conn, UNTRACKED)
    row = only_row(conn, UNTRACKED)
    assert row["support_ticket_score"] == 100
    assert (row["inputs"]["tracksSupportTickets"], row["inputs"]["ticketCount"]) == (False, None)
    assert row["overall_score"] == 100


# --- skipped tenants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_id", "status", "reason"),
    [
        (NO_USERS, "ACTIVE", "organization has no users"),
        (SUSPENDED, "SUSPENDED", "organization is SUSPENDED"),
        (CHURNED, "CHURNED", "organization is CHURNED"),
        (UNKNOWN, None, "unknown organization"),
    ],
)
def test_tenants_that_are_not_scored_are_skipped_with_a_reason_and_nothing_is_written(
    conn: DbConnection, org_id: UUID, status: str | None, reason: str
) -> None:
    if status is not None:
        add_org(conn, org_id=org_id, status=status)
        if org_id != NO_USERS:
            add_users(conn, org_id, logins=[AS_OF - DAY])
            add_tickets(conn, org_id, created=[AS_OF - DAY])
    [result] = score(conn, org_id)
    assert (result.organization_id, result.outcome, result.reason, result.row) == (org_id, "skipped", reason, None)
    assert stored(conn, org_id) == []
    assert conn.execute("SELECT count(*) AS n FROM tenant_health_scores").fetchone() == {"n": 0}
    assert outcomes(conn) == {org_id: ("skipped", reason)}


# --- re-scoring and the trend ----------------------------------------------------------------------


def test_rescoring_the_same_day_keeps_one_row_with_the_same_values(conn: DbConnection) -> None:
    build_full_tenant(conn)
    [first] = score(conn, FULL, run_id="first")
    before = only_row(conn, FULL)
    [second] = score(conn, FULL, run_id="replay")
    after = only_row(conn, FULL)
    assert len(stored(conn, FULL)) == 1
    volatile = {"run_id", "calculated_at"}
    assert {k: v for k, v in after.items() if k not in volatile} == {
        k: v for k, v in before.items() if k not in volatile
    }
    assert after["run_id"] == "replay"
    assert after["calculated_at"] >= before["calculated_at"]
    assert second.replaced_risk == before["risk_level"]
    assert first.replaced_risk is None


def build_simple_tenant(conn: DbConnection, org_id: UUID = SMALL) -> None:
    """10 users all active for days before AS_OF, nothing else: login 100, supportTickets 100, overall 100."""
    add_org(conn, org_id=org_id)
    add_users(conn, org_id, logins=[AS_OF - 2 * DAY] * 10)


def test_rescoring_later_the_same_day_replaces_the_row_and_compares_with_the_earlier_day(conn: DbConnection) -> None:
    build_simple_tenant(conn)
    add_score(conn, SMALL, TODAY - DAY, 90, risk_level="LOW")
    [first] = score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert (row["overall_score"], row["previous_score"], row["trend"], row["risk_level"]) == (
        100,
        90,
        "IMPROVING",
        "LOW",
    )
    # tickets later that day; the re-score replaces today's row and still compares with yesterday (90), not
    # with the row it replaces (100)
    later = AS_OF + timedelta(hours=3)
    add_tickets(conn, SMALL, created=[AS_OF + timedelta(hours=1)] * 4)
    [second] = score(conn, SMALL, as_of=later, run_id="later")
    assert len(stored(conn, SMALL)) == 2  # yesterday and today
    row = only_row(conn, SMALL)
    assert row["support_ticket_score"] == 25  # 4 tickets, baseline 1
    assert row["overall_score"] == 81  # (100 * .30 + 25 * .10) / .40 = 81.25
    assert (row["previous_score"], row["trend"], row["risk_level"]) == (90, "DECLINING", "MEDIUM")
    assert (row["run_id"], row["as_of"]) == ("later", later)
    assert row["explanation"]["previousScoreDate"] == (TODAY - DAY).isoformat()
    assert (first.previous_risk, first.replaced_risk) == ("LOW", None)
    assert (second.previous_risk, second.replaced_risk) == ("LOW", "LOW")


def test_yesterdays_score_from_a_run_drives_declining_today(conn: DbConnection) -> None:
    build_simple_tenant(conn)
    [yesterday] = score(conn, SMALL, as_of=AS_OF - DAY, run_id="yesterday")
    assert yesterday.row is not None
    assert (yesterday.row["overall_score"], yesterday.row["risk_level"]) == (100, "LOW")
    add_tickets(conn, SMALL, created=[AS_OF - timedelta(hours=12)] * 4)  # after yesterday's as_of
    [today] = score(conn, SMALL)
    rows = stored(conn, SMALL)
    assert [(r["score_date"], r["overall_score"], r["trend"], r["risk_level"]) for r in rows] == [
        (TODAY - DAY, 100, "STABLE", "LOW"),
        (TODAY, 81, "DECLINING", "MEDIUM"),  # 81 would be LOW, but it is declining
    ]
    assert rows[1]["previous_score"] == 100
    assert today.previous_risk == "LOW"


def test_a_previous_days_score_drives_declining_and_the_risk_level(conn: DbConnection) -> None:
    build_full_tenant(conn)  # 69 today
    add_score(conn, FULL, TODAY - 5 * DAY, 40)  # older: not the previous one
    add_score(conn, FULL, TODAY - 2 * DAY, 75)  # the latest earlier day
    add_score(conn, FULL, TODAY + DAY, 10)  # a later day is never the previous one
    [result] = score(conn, FULL)
    row = only_row(conn, FULL)
    assert row["overall_score"] == 69
    assert (row["previous_score"], row["trend"]) == (75, "DECLINING")  # -6
    assert row["risk_level"] == "MEDIUM"
    assert row["explanation"]["previousScoreDate"] == (TODAY - 2 * DAY).isoformat()
    assert result.previous_risk == "LOW"


@pytest.mark.parametrize(
    ("previous", "trend", "risk"),
    [
        (None, "STABLE", "MEDIUM"),  # 50 alone is MEDIUM
        (55, "STABLE", "MEDIUM"),  # delta exactly -5
        (56, "DECLINING", "HIGH"),  # delta -6: under 60 and declining is HIGH
        (45, "STABLE", "MEDIUM"),  # delta exactly +5
        (44, "IMPROVING", "MEDIUM"),
    ],
)
def test_the_trend_against_the_previous_day_sets_the_risk(
    conn: DbConnection, previous: int | None, trend: str, risk: str
) -> None:
    add_org(conn, org_id=SMALL)
    add_users(conn, SMALL, logins=[AS_OF - DAY] * 7 + [None] * 13)  # 7/20 / .7 = 50
    add_tickets(conn, SMALL, created=[AS_OF - DAY] * 4)  # baseline 2: round(100 * 2 / 4) = 50
    if previous is not None:
        add_score(conn, SMALL, TODAY - DAY, previous)
    score(conn, SMALL)
    row = only_row(conn, SMALL)
    assert (row["login_score"], row["support_ticket_score"], row["overall_score"]) == (50, 50, 50)
    assert (row["previous_score"], row["trend"], row["risk_level"]) == (previous, trend, risk)


# --- a batch ---------------------------------------------------------------------------------------


def test_a_batch_of_tenants_is_scored_together_in_one_call(conn: DbConnection) -> None:
    build_full_tenant(conn, FULL)
    build_simple_tenant(conn, SMALL)
    add_org(conn, org_id=UNTRACKED, tracks_support_tickets=False)
    add_users(conn, UNTRACKED, logins=[AS_OF - DAY, None])  # 50% -> 71; support 100 -> (21.3 + 10) / .4 = 78.25
    add_org(conn, org_id=NO_USERS)
    add_org(conn, org_id=SUSPENDED, status="SUSPENDED")
    add_users(conn, SUSPENDED, logins=[AS_OF - DAY])
    add_score(conn, SMALL, TODAY - DAY, 50)

    requested = [FULL, NO_USERS, SMALL, UNKNOWN, UNTRACKED, SUSPENDED, FULL]  # FULL twice (redelivery)
    results = score(conn, *requested)

    assert [(r.organization_id, r.outcome, r.reason) for r in results] == [
        (FULL, "scored", None),
        (NO_USERS, "skipped", "organization has no users"),
        (SMALL, "scored", None),
        (UNKNOWN, "skipped", "unknown organization"),
        (UNTRACKED, "scored", None),
        (SUSPENDED, "skipped", "organization is SUSPENDED"),
        (FULL, "scored", None),
    ]
    rows = conn.execute(
        "SELECT organization_id, overall_score, previous_score, trend, risk_level, run_id FROM tenant_health_scores"
        " WHERE score_date = %s ORDER BY organization_id",
        (TODAY,),
    ).fetchall()
    assert [tuple(row.values()) for row in rows] == [
        (FULL, 69, None, "STABLE", "MEDIUM", RUN),
        (UNTRACKED, 78, None, "STABLE", "LOW", RUN),
        (SMALL, 100, 50, "IMPROVING", "LOW", RUN),
    ]
    full = only_row(conn, FULL)
    assert {name: full[name] for name in FULL_COMPONENTS} == FULL_COMPONENTS
    untracked = only_row(conn, UNTRACKED)
    assert (untracked["login_score"], untracked["support_ticket_score"]) == (71, 100)
    assert stored(conn, NO_USERS) == stored(conn, SUSPENDED) == stored(conn, UNKNOWN) == []
    assert outcomes(conn) == {
        FULL: ("scored", None),
        SMALL: ("scored", None),
        UNTRACKED: ("scored", None),
        NO_USERS: ("skipped", "organization has no users"),
        SUSPENDED: ("skipped", "organization is SUSPENDED"),
        UNKNOWN: ("skipped", "unknown organization"),
    }


def test_a_batch_reads_in_one_statement_and_writes_in_one(conn: DbConnection) -> None:
    build_full_tenant(conn, FULL)
    build_simple_tenant(conn, SMALL)
    add_score(conn, SMALL, TODAY - DAY, 50)

    sent = protocol_counts(conn, lambda: score(conn, FULL, SMALL, NO_USERS))

    assert sent["statements"] == 2  # the usage and scores read, then scores + latest rows + outcomes
    assert len(stored(conn, FULL)) == len(stored(conn, SMALL)) - 1 == 1
    assert set(outcomes(conn)) == {FULL, SMALL, NO_USERS}  # skipped (unknown) is an outcome too


def test_a_batch_whose_outcomes_cannot_be_written_writes_no_score_either(conn: DbConnection) -> None:
    """The scores, the latest rows and the outcomes are one statement: all of it or none."""
    build_full_tenant(conn, FULL)
    add_score(conn, FULL, TODAY - DAY, 50)
    latest_before = conn.execute("SELECT * FROM tenant_latest_scores").fetchall()
    conn.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'outcomes refused'; END $$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON run_tenant_outcomes FOR EACH ROW EXECUTE FUNCTION refuse()"
    )

    with pytest.raises(psycopg.errors.RaiseException, match="outcomes refused"):
        score(conn, FULL)

    assert [row["score_date"] for row in stored(conn, FULL)] == [TODAY - DAY]
    assert conn.execute("SELECT * FROM tenant_latest_scores").fetchall() == latest_before
    assert outcomes(conn) == {}


def test_the_weights_given_are_used_and_stored(conn: DbConnection) -> None:
    build_full_tenant(conn)
    weights = HealthWeights(
        login=Decimal("0.5"),
        caseResolution=Decimal("0"),
        campaignCompletion=Decimal("0"),
        featureAdoption=Decimal("0"),
        supportTickets=Decimal("0.5"),
    )
    score(conn, FULL, weights=weights)
    row = only_row(conn, FULL)
    assert row["overall_score"] == 68  # (86 + 50) / 2
    assert {name: row[name] for name in FULL_COMPONENTS} == FULL_COMPONENTS  # zero weight, still scored
    assert row["weights"]["login"] == "0.5"
    assert row["explanation"]["missingComponents"] == []
    assert row["explanation"]["contributions"]["caseResolution"] == 0
