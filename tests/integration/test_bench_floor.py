"""The bench's floor scores under the scorer's rules: equal to what the scorer handler stores, column by column,
after a profile change (the previous score restated under the new version, the trend and the risk from it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import DEFAULT_REWEIGHTED
from handlers import lambda_context, load_handler
from pipeline_support import message_body, sqs_event

from healthscore.core.profiles import ProfileDocument
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection
from healthscore_dev.bench import floor
from healthscore_dev.bench.database import bench_profile
from healthscore_dev.demo.load import seed_fleet

AS_OF = datetime(2026, 1, 15, 2, tzinfo=UTC)
WEEK_BEFORE = AS_OF - timedelta(days=7)


def score_fleet(conn: DbConnection, as_of: datetime, run_id: str) -> None:
    """Every active tenant through a new scorer execution environment, in batches of 50."""
    ids = [row["id"] for row in conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id")]
    handler = load_handler("scorer").lambda_handler
    for start in range(0, len(ids), 50):
        event = sqs_event([message_body(org, as_of, run_id) for org in ids[start : start + 50]])
        assert handler(event, lambda_context()) == {"batchItemFailures": []}


def test_the_floor_equals_the_scorer_after_a_profile_change(conn: DbConnection, queues: object) -> None:
    seed_fleet(conn, 200, seed=7, as_of=AS_OF, replace=False)
    assert bench_profile(conn).version == 1  # created as the scorer creates it
    score_fleet(conn, WEEK_BEFORE, "week-before")
    profiles.save_profile(conn, "default", ProfileDocument.model_validate(DEFAULT_REWEIGHTED), "test")
    score_fleet(conn, AS_OF, "after-change")
    profile = bench_profile(conn)
    assert profile.version == 2

    rows = floor.floor_scores(conn, AS_OF, profile)
    check = floor.check_against_stored(conn, rows, AS_OF)
    assert (check.compared, check.mismatch_count, check.missing) == (len(rows), 0, 0), check.mismatches
    # The rule was in play: previous scores restated (unlike as computed), and every trend and risk level.
    restated = conn.execute(
        "SELECT organization_id FROM tenant_health_scores WHERE score_date = %s"
        " AND previous_score <> previous_score_as_computed",
        (AS_OF.date(),),
    ).fetchall()
    assert len(restated) > 10
    assert {row["trend"] for row in rows.values()} == {"IMPROVING", "DECLINING", "STABLE"}
    assert {row["risk_level"] for row in rows.values()} == {"LOW", "MEDIUM", "HIGH"}
