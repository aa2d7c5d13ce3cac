"""A 100-tenant run of `healthscore bench`: every section is measured and the floor equals the scorer.

No timing is asserted (speed is what the bench reports, not what a test checks).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from healthscore_dev.bench.api_latency import ROUTE_CASES, available
from healthscore_dev.bench.batch_size import BATCH_SIZES
from healthscore_dev.bench.cold_start import HANDLERS, PROJECT_ROOT
from healthscore_dev.bench.database import QUIET_POWERTOOLS_ENV
from healthscore_dev.bench.run import run_bench
from healthscore_dev.bench.score_history import HISTORY_DAYS


def test_a_100_tenant_bench_run_measures_every_path(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in QUIET_POWERTOOLS_ENV.items():  # set here, so that they are undone after the test
        monkeypatch.setenv(name, value)
    output = tmp_path / "latest.json"
    results = run_bench(
        100, seed_style_sample=10, api_calls=20, preview_calls=3, cold_start_repeat=1, output=str(output)
    )

    assert json.loads(output.read_text())["tenants"] == results["tenants"] == results["database"]["active"]
    assert results["database"]["history_rows"] == results["tenants"] * HISTORY_DAYS
    check = results["floorCheck"]
    assert check["compared"] == results["paths"]["floor"]["tenants"] > 0
    assert (check["mismatch_count"], check["missing"]) == (0, 0), check["mismatches"]
    assert results["paths"]["seedStyle"]["tenants"] == 10
    assert results["paths"]["seedStyle"]["sleepSecondsForFleet"] == results["tenants"] * 0.1
    assert [point["batch_size"] for point in results["batchSizes"]] == list(BATCH_SIZES)
    assert all(point["failures"] == 0 and point["round_trips_per_tenant"] > 0 for point in results["batchSizes"])
    assert [point["batchSize"] for point in results["perBatch"]] == [10, results["template"]["batchSize"]]
    assert all(point["floorTenantsPerSecond"] > 0 and point["roundTripsPerBatch"] > 0 for point in results["perBatch"])
    assert results["scorerPeakRssMb"] > 0
    routes = {route["name"]: route for route in results["api"]}
    assert set(routes) == {case.name for case in ROUTE_CASES if available(case)}
    assert {"POST /profiles/everyone/preview", "GET /scores?newlyHighRisk=true&limit=50", "GET /summary"} <= set(routes)
    assert {name: route["calls"] for name, route in routes.items()} == {
        case.name: 3 if case.costly else 20 for case in ROUTE_CASES
    }
    assert all(route["errors"] == 0 and route["p99_ms"] >= route["p50_ms"] > 0 for route in routes.values())
    assert {cold["handler"] for cold in results["coldStarts"]} == set(HANDLERS)
    assert all(len(cold["top_imports"]) == 5 for cold in results["coldStarts"])


def test_scorer_ab_measures_both_trees_in_alternate_turns(database_url: str, tmp_path: Path) -> None:
    """bench/scorer_ab.py against HEAD: the base checked out, both sides measured, the ratio printed."""
    worktrees = tmp_path / "ab"
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "scorer_ab.py"), "HEAD", "--worktrees", str(worktrees)]
    command += ["--tenants", "60", "--sample", "40", "--batch-size", "10", "--rounds", "2", "--reps", "1"]
    env = os.environ | {"DATABASE_URL": database_url} | QUIET_POWERTOOLS_ENV
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        turns = [line.split(":")[1].split()[0] for line in done.stdout.splitlines() if line.startswith("round ")]
        assert turns == ["base", "this", "this", "base"]  # neither side always first
        assert re.search(r"base HEAD: [\d.]+ ms +this tree: [\d.]+ ms +this / base: \d\.\d{3}", done.stdout)
        assert (worktrees / next(worktrees.iterdir()).name / "functions" / "scorer" / "app.py").exists()
    finally:
        for tree in worktrees.iterdir() if worktrees.exists() else ():
            subprocess.run(["git", "-C", str(PROJECT_ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    bad = subprocess.run([*command[:2], "no-such-revision"], capture_output=True, text=True, env=env, check=False)
    assert "not a revision of this repository: no-such-revision" in bad.stderr
