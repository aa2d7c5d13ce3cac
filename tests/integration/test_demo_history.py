"""The demo fleet's 30 days of recorded inputs, and scoring them before the first nightly run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.record_metrics import record_metrics
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.cli.main import main
from healthscore_dev.demo.fleet import RECORDED_DAYS
from healthscore_dev.local.history import score_recorded_history

TENANTS = 80

# Each recorded day against the source rows: what they still tell of that day must hold.
INCONSISTENT_DAYS_SQL = """
SELECT count(*) AS n
FROM tenant_daily_inputs d
JOIN organizations o ON o.id = d.organization_id
CROSS JOIN LATERAL (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE last_login_at BETWEEN d.as_of - interval '30 days' AND d.as_of) AS surely_active,
           count(*) FILTER (WHERE last_login_at > d.as_of) AS logged_in_since
    FROM users WHERE organization_id = d.organization_id
) u
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE enabled) AS enabled,
           count(*) FILTER (WHERE enabled AND is_used) AS used_now,
           count(*) FILTER (WHERE enabled AND NOT is_used AND last_used_at > d.as_of) AS dropped_since
    FROM organization_features WHERE organization_id = d.organization_id
) f
WHERE o.status <> 'ACTIVE' OR d.as_of < o.created_at OR d.input_date <> (d.as_of AT TIME ZONE 'UTC')::date
   OR d.total_users <> u.total
   OR d.active_users NOT BETWEEN u.surely_active AND u.surely_active + u.logged_in_since
   OR d.features_enabled <> f.enabled
   OR d.features_used NOT BETWEEN f.used_now AND f.used_now + f.dropped_since
"""


def seed(as_of: datetime) -> None:
    assert main(["seed-demo", "--tenants", str(TENANTS), "--seed", "7", "--as-of", as_of.isoformat()]) == 0


def count(conn: DbConnection, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row["n"])


def test_seed_demo_records_30_days_consistent_with_the_source_rows(conn: DbConnection) -> None:
    as_of = datetime(2025, 6, 1, 3, tzinfo=UTC)
    seed(as_of)
    days = conn.execute(
        "SELECT input_date, count(*) AS tenants FROM tenant_daily_inputs GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [row["input_date"] for row in days] == [(as_of - timedelta(days=k)).date() for k in range(30, 0, -1)]
    active = count(conn, "SELECT count(*) AS n FROM organizations WHERE status = 'ACTIVE'")
    assert days[-1]["tenants"] == active  # yesterday every ACTIVE tenant existed
    assert days[0]["tenants"] < active  # 30 days ago the new ones did not
    assert count(conn, INCONSISTENT_DAYS_SQL) == 0
    # The history is not flat: logins came and went.
    assert count(conn, "SELECT count(DISTINCT (organization_id, active_users)) AS n FROM tenant_daily_inputs") > active


def test_scoring_the_recorded_days_first_gives_the_first_night_trends_and_newly_high_tenants(
    conn: DbConnection,
) -> None:
    now = datetime.now(UTC)
    seed(now)

    history = score_recorded_history(conn, ProfileSet([default_profile()]))
    assert history.days == RECORDED_DAYS
    assert history.scores > 0
    assert count(conn, "SELECT count(DISTINCT score_date) AS n FROM tenant_health_scores") == RECORDED_DAYS
    assert count(conn, "SELECT count(*) AS n FROM tenant_health_scores WHERE (inputs->>'approximate')::bool") == 0
    assert (
        count(conn, "SELECT count(*) AS n FROM tenant_health_scores WHERE inputs->'sources'->>'login' <> 'recorded'")
        == 0
    )
    assert count(conn, "SELECT count(*) AS n FROM tenant_health_scores WHERE trend <> 'STABLE'") > 0
    assert score_recorded_history(conn, ProfileSet([default_profile()])).days == 0  # nothing left to score

    # Tonight's jobs, as the nightly run does them: the day moves on from yesterday's score.
    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE'")]
    record_metrics(conn, [TenantRequest(org_id, now, "record-tonight") for org_id in ids])
    score_tenants(
        conn, [TenantRequest(org_id, now, "score-tonight") for org_id in ids], ProfileSet([default_profile()])
    )
    tonight = conn.execute("SELECT * FROM tenant_health_scores WHERE run_id = 'score-tonight'").fetchall()
    assert all(row["previous_score"] is not None for row in tonight)  # every tenant has yesterday's score
    [mover, *_] = runs.biggest_movers(conn, "score-tonight", 10)
    assert mover["newly_high"] >= 1
    assert (mover["previous_risk_level"], mover["risk_level"]) != ("HIGH", "HIGH")
    assert mover["risk_level"] == "HIGH"
