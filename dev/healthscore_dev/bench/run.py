"""One bench run: every path side by side, one table of tenants/s and ratios, bench/results/latest.json.

    healthscore bench [--tenants N]      (make bench [TENANTS=N])

In order: the bench database (demo fleet + 90 days of history, set-based); the seed-style
path on a sample; the scorer handler over the whole fleet at the template's BatchSize and
maximum concurrency; the floor (one SQL statement), checked equal to the scorer's scores
tenant by tenant; the batch-size study; the API routes; each handler's cold start.
Timings share the machine with whatever else runs: compare the ratios of one run.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from healthscore.config import get_settings
from healthscore.core.profiles import ScoringProfile
from healthscore.dal.connection import DbConnection
from healthscore_dev.bench import api_latency, batch_size, cold_start, floor, restatement, seed_style
from healthscore_dev.bench.database import (
    active_ids,
    batches_of,
    bench_as_of,
    bench_database,
    bench_profile,
    database_size_mb,
    quiet_powertools,
)
from healthscore_dev.bench.report import print_table, ratio, write_json
from healthscore_dev.bench.scorer_run import ScorerRun, run_scorer

RESTATE_DAYS = 30  # POST /profiles/{profileId}/restate's 30 days, the issue's target
RESULTS_FILE = cold_start.PROJECT_ROOT / "bench" / "results" / "latest.json"


def run_bench(
    tenants: int,
    *,
    seed_style_sample: int = 1000,
    per_batch_sample: int = 2000,
    study_sample: int = 20_000,
    api_calls: int = 1000,
    preview_calls: int = 20,
    cold_start_repeat: int = 7,
    batch_sizes: bool = True,
    output: str | None = str(RESULTS_FILE),
) -> dict[str, Any]:
    from healthscore_dev.local.template_settings import queue_settings

    quiet_powertools()
    settings = queue_settings()
    as_of = bench_as_of()
    started = time.perf_counter()
    conn, database = bench_database(tenants, as_of)
    profile = bench_profile(conn)
    ids = active_ids(conn)
    weights = get_settings().health_weights
    fleet = len(ids)

    print(f"seed-style path: {min(fleet, seed_style_sample):,} tenants one at a time ...", flush=True)
    seed = seed_style.run_seed_style(conn, ids[:seed_style_sample], as_of, weights)

    print(
        f"scorer handler: {fleet:,} tenants, BatchSize {settings.batch_size}, {settings.max_concurrency} workers ...",
        flush=True,
    )
    scorer = run_scorer(batches_of(ids, settings.batch_size), as_of, settings.max_concurrency, settings.batch_size)

    print("floor: one statement ...", flush=True)
    floor_started = time.perf_counter()
    floor_rows = floor.floor_scores(conn, as_of, profile)
    floor_seconds = time.perf_counter() - floor_started
    check = floor.check_against_stored(conn, floor_rows, as_of)

    # Per batch, one connection each: the scorer in one execution environment against the floor's
    # statement restricted to the same batches (what the scorer could at best do per batch).
    # At the template's BatchSize and at 10 (SendMessageBatch's size, the issue's target).
    per_batch = {
        size: _per_batch(conn, ids[:per_batch_sample], as_of, profile, size) for size in (10, settings.batch_size)
    }
    one_environment, floor_batch_tenants, floor_batch_seconds = per_batch[settings.batch_size]

    print(f"restatement: {RESTATE_DAYS} days of {fleet:,} tenants through the scorer handler ...", flush=True)
    restated = restatement.measure_restatement(
        conn, ids, as_of.date() - timedelta(days=1), RESTATE_DAYS, settings.max_concurrency, settings.batch_size
    )

    study: list[batch_size.BatchSizePoint] = []
    if batch_sizes:
        # A sample of the fleet: a batch's cost does not grow with the fleet (index range scans), and at
        # 100,000 tenants three more whole passes would double the bench's time.
        studied = ids[:study_sample]
        print(f"batch sizes {batch_size.BATCH_SIZES}, {len(studied):,} tenants each ...", flush=True)
        study = batch_size.study(studied, as_of, settings.max_concurrency)

    print(f"API routes: {api_calls:,} calls each, the what-if preview {preview_calls:,} ...", flush=True)
    routes = api_latency.measure_routes(ids, api_calls, preview_calls)

    print(f"cold starts: median of {cold_start_repeat} fresh interpreters per handler ...", flush=True)
    colds = cold_start.measure_cold_starts(repeat=cold_start_repeat, tracing=("as deployed",))

    results = _results(locals() | {"size_mb": database_size_mb(conn), "total_seconds": time.perf_counter() - started})
    conn.close()
    _print(results)
    if output:
        write_json(Path(output), results)
        if Path(output) == RESULTS_FILE:  # and one file per fleet size, that bench/curve.py puts side by side
            write_json(RESULTS_FILE.with_name(f"tenants-{tenants}.json"), results)
        print(f"\nwritten: {output}")
    return results


def _per_batch(
    conn: DbConnection, ids: list[UUID], as_of: datetime, profile: ScoringProfile, size: int
) -> tuple[ScorerRun, int, float]:
    """The scorer in one execution environment, and the floor restricted to the same batches (its first one,
    the scorer's untimed warm-up, left out of both), on one connection each."""
    sample = batches_of(ids, size)
    print(f"per batch of {size}, one connection: {sum(map(len, sample)):,} tenants ...", flush=True)
    one_environment = run_scorer(sample, as_of, 1, size)
    started = time.perf_counter()
    tenants = sum(len(floor.floor_scores(conn, as_of, profile, batch)) for batch in sample[1:] or sample)
    return one_environment, tenants, time.perf_counter() - started


def _results(v: dict[str, Any]) -> dict[str, Any]:
    seed: seed_style.SeedStyleResult = v["seed"]
    scorer: ScorerRun = v["scorer"]
    fleet: int = v["fleet"]
    floor_rate = len(v["floor_rows"]) / v["floor_seconds"]
    sleep_rate = 1 / (1 / seed.tenants_per_second + seed_style.SEED_SLEEP_SECONDS)
    return {
        "measuredAt": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "load1": os.getloadavg()[0], "python": platform.python_version()},
        "tenants": fleet,
        "database": asdict(v["database"]) | {"sizeMb": round(v["size_mb"], 1)},
        "asOf": v["as_of"].isoformat(),
        "template": {"batchSize": v["settings"].batch_size, "maxConcurrency": v["settings"].max_concurrency},
        "paths": {
            "seedStyle": {
                "tenants": seed.tenants,
                "seconds": seed.seconds,
                "tenantsPerSecond": seed.tenants_per_second,
                "queriesPerTenant": seed.queries_per_tenant,
                "sleepSecondsForFleet": seed.sleep_seconds(fleet),
                "tenantsPerSecondWithSleep": sleep_rate,
            },
            "scorer": asdict(scorer) | {"tenantsPerSecond": scorer.tenants_per_second},
            "floor": {"tenants": len(v["floor_rows"]), "seconds": v["floor_seconds"], "tenantsPerSecond": floor_rate},
            "scorerOneEnvironment": asdict(v["one_environment"])
            | {"tenantsPerSecond": v["one_environment"].tenants_per_second},
            "floorPerBatch": {
                "batchSize": v["settings"].batch_size,
                "tenants": v["floor_batch_tenants"],
                "seconds": v["floor_batch_seconds"],
                "tenantsPerSecond": v["floor_batch_tenants"] / v["floor_batch_seconds"],
            },
        },
        "perBatch": [
            {
                "batchSize": size,
                "scorerTenantsPerSecond": scorer_run.tenants_per_second,
                "scorerMsPerBatch": 1000 * scorer_run.wall_seconds * size / scorer_run.tenants,
                "roundTripsPerBatch": scorer_run.round_trips_per_tenant * size,
                "floorTenantsPerSecond": floor_tenants / floor_seconds,
                "floorMsPerBatch": 1000 * floor_seconds * size / floor_tenants,
                "scorerVsFloor": scorer_run.tenants_per_second / (floor_tenants / floor_seconds),
            }
            for size, (scorer_run, floor_tenants, floor_seconds) in v["per_batch"].items()
        ],
        "restatement": asdict(v["restated"]) | {"rowsPerSecond": v["restated"].rows_per_second},
        "floorCheck": asdict(v["check"]),
        "batchSizes": [
            asdict(p.run)
            | {"tenantsPerSecond": p.run.tenants_per_second, "invocationsPerNight": p.invocations_per_night(fleet)}
            for p in v["study"]
        ],
        # A night writes a new day's rows, as the first pass does.
        "nightlyScoringSeconds": fleet / scorer.tenants_per_second,
        "batchSizeSample": len(v["ids"][: v["study_sample"]]),
        "api": [asdict(r) for r in v["routes"]],
        "coldStarts": [asdict(c) for c in v["colds"]],
        "scorerPeakRssMb": scorer.peak_rss_mb,
        "totalSeconds": v["total_seconds"],
    }


def _print(r: dict[str, Any]) -> None:
    paths = r["paths"]
    seed, scorer, floor_ = paths["seedStyle"], paths["scorer"], paths["floor"]

    def row(label: str, path: dict[str, Any]) -> list[object]:
        rate = path["tenantsPerSecond"]
        seconds = path.get("wall_seconds", path.get("seconds"))
        return [label, path["tenants"], seconds, rate, ratio(rate, seed["tenantsPerSecond"]), ratio(rate, floor_rate)]

    floor_rate = floor_["tenantsPerSecond"]
    one, per_batch = paths["scorerOneEnvironment"], paths["floorPerBatch"]
    sleep_row = {"tenants": seed["tenants"], "tenantsPerSecond": seed["tenantsPerSecondWithSleep"]}
    sleep_row["seconds"] = seed["tenants"] / seed["tenantsPerSecondWithSleep"]
    print_table(
        f"scoring {r['tenants']:,} tenants as of {r['asOf'][:10]} (load average {r['machine']['load1']:.1f} on"
        f" {r['machine']['cpus']} CPUs)",
        ["path", "tenants", "seconds", "tenants/s", "vs seed-style", "vs floor"],
        [
            row(f"seed-style: per tenant, ~{seed['queriesPerTenant']:.0f} queries, sequential", seed),
            row("seed-style with its 100 ms sleep", sleep_row),
            row(f"scorer, first pass (inserts today's rows), {scorer['concurrency']} workers", scorer),
            *[row(f"scorer, BatchSize {p['batch_size']}, {p['concurrency']} workers", p) for p in r["batchSizes"]],
            row(f"scorer, BatchSize {one['batch_size']}, 1 worker", one),
            row(f"floor per batch of {per_batch['batchSize']}, 1 connection", per_batch),
            row("floor: one set-based statement", floor_),
        ],
    )
    for p in r["perBatch"]:
        print(
            f"per batch of {p['batchSize']} on one connection, the scorer runs at"
            f" {ratio(p['scorerTenantsPerSecond'], p['floorTenantsPerSecond'])} the floor's pace"
            f" ({p['scorerMsPerBatch']:.1f} ms vs {p['floorMsPerBatch']:.1f} ms a batch,"
            f" {p['roundTripsPerBatch']:.0f} round trips)"
        )
    restated = r["restatement"]
    print(
        f"restatement of {restated['days']} days x {restated['tenants']:,} tenants through the scorer handler:"
        f" {restated['rows']:,} scores in {restated['seconds']:.1f} s ({restated['rowsPerSecond']:,.0f}/s,"
        f" {restated['messages']} messages, {restated['concurrency']} workers, {restated['failures']} failed)"
    )
    check = r["floorCheck"]
    print(
        f"the seed's sleep alone: {r['tenants']:,} tenants x 0.1 s = {seed['sleepSecondsForFleet']:,.0f} s a night;"
        f" a nightly scoring at the scorer's pace: {r['nightlyScoringSeconds']:,.1f} s"
    )
    print(
        f"floor = scorer, tenant by tenant: {check['compared']:,} compared, {check['mismatch_count']} differ,"
        f" {check['missing']} scored by only one"
    )
    if r["batchSizes"]:
        print_table(
            f"batch size, {r['batchSizeSample']:,} tenants each (MaximumBatchingWindowInSeconds fills the batches)",
            ["BatchSize", "tenants/s", "ratio", "round trips/tenant", "invocations/night", "peak RSS MB"],
            [
                [
                    p["batch_size"],
                    p["tenantsPerSecond"],
                    ratio(p["tenantsPerSecond"], r["batchSizes"][0]["tenantsPerSecond"]),
                    p["round_trips_per_tenant"],
                    p["invocationsPerNight"],
                    p["peak_rss_mb"],
                ]
                for p in r["batchSizes"]
            ],
        )
    print_table(
        "API routes, real handler in-process (ms)",
        ["route", "calls", "p50", "p95", "p99", "errors"],
        [[a["name"], a["calls"], a["p50_ms"], a["p95_ms"], a["p99_ms"], a["errors"]] for a in r["api"]],
    )
    print_table(
        "cold start: handler import, fresh interpreters, with bytecode, Lambda's environment (ms)",
        ["handler", "median", "runs", "heaviest packages (cumulative ms, python -X importtime)"],
        [
            [c["handler"], c["median_ms"], len(c["runs_ms"]), ", ".join(f"{m} {ms:.0f}" for m, ms in c["top_imports"])]
            for c in r["coldStarts"]
        ],
    )
    print(
        f"\nscorer peak RSS: {r['scorerPeakRssMb']:.0f} MB; database {r['database']['sizeMb']:,.0f} MB;"
        f" bench {r['totalSeconds']:.0f} s in all"
    )
