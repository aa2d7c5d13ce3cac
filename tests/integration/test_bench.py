"""A 100-tenant run of `healthscore bench`: every section is measured and the floor equals the scorer.

No timing is asserted (speed is what the bench reports, not what a test checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthscore_dev.bench.api_latency import ROUTE_CASES, available
from healthscore_dev.bench.batch_size import BATCH_SIZES
from healthscore_dev.bench.cold_start import HANDLERS
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
