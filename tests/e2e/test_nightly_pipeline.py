"""`healthscore run nightly` end to end: embedded fleet, local SQS, fan-out, scorer, report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from healthscore.dal import runs
from healthscore.dal.connection import DbConnection

PROJECT = Path(__file__).resolve().parents[2]


def test_the_nightly_run_scores_every_active_tenant_with_users(
    conn: DbConnection, database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "HEALTHSCORE_LOCAL_DIR": str(tmp_path)}
    for name in ("SCORING_QUEUE_URL", "DEAD_LETTER_QUEUE_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        env.pop(name, None)
    healthscore = str(Path(sys.executable).with_name("healthscore"))
    result = subprocess.run(
        [healthscore, "run", "nightly", "--tenants", "60", "--concurrency", "3"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "seeded a demo fleet of 60 tenants" in result.stdout
    assert "risk      tenants" in result.stdout
    assert "scored 30 recorded past days first" in result.stdout  # the demo fleet's history, before tonight
    assert "newly HIGH" in result.stdout
    # The summary says why its counts are not the fleet's: only ACTIVE tenants are enqueued, and why any is skipped.
    [summary] = [line for line in result.stdout.splitlines() if line.startswith("calculate-scores: run ")]
    assert "enqueued (the ACTIVE ones of 60 tenants)" in summary
    assert re.search(r" (\d+) skipped \(organization has no users: \1\)", summary), summary

    expected = conn.execute(
        "SELECT o.id FROM organizations o WHERE o.status = 'ACTIVE' "
        "AND EXISTS (SELECT 1 FROM users u WHERE u.organization_id = o.id) ORDER BY o.id"
    ).fetchall()
    tonight = {}
    for job, outcome in (("calculate-scores", "scored"), ("record-metrics", "recorded")):
        # The latest run of each job is tonight's; the history's runs are older.
        [run] = conn.execute(
            "SELECT run_id FROM scoring_runs WHERE job = %s ORDER BY as_of DESC LIMIT 1", (job,)
        ).fetchall()
        tonight[job] = run["run_id"]
        progress = runs.run_progress(conn, run["run_id"])
        assert progress is not None
        assert progress["failed"] == 0
        assert progress["done"] + progress["skipped"] == progress["tenant_count"]  # nothing pending
        done = conn.execute(
            "SELECT organization_id AS id FROM run_tenant_outcomes WHERE run_id = %s AND outcome = %s ORDER BY 1",
            (run["run_id"], outcome),
        ).fetchall()
        assert len(done) == progress["done"]
    scored = conn.execute(
        "SELECT organization_id AS id FROM tenant_health_scores WHERE run_id = %s ORDER BY 1",
        (tonight["calculate-scores"],),
    ).fetchall()
    assert scored == expected
    with_previous = conn.execute(
        "SELECT count(*) AS n FROM tenant_health_scores WHERE run_id = %s AND previous_score IS NOT NULL",
        (tonight["calculate-scores"],),
    ).fetchone()
    assert with_previous is not None
    assert with_previous["n"] == len(expected)  # every tenant tonight has a score of yesterday to compare with
    assert f"{len(expected)} done" in result.stdout.replace(",", "")
