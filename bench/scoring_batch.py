"""Scoring a batch of 10 tenants set-based vs one call per tenant, and the cost of exact arithmetic.

    .venv/bin/python bench/scoring_batch.py [--tenants 2000] [--batches 100]

1. `score_tenants` with the 10 requests of a batch (what the scorer does: one set-based read of
   the usage and the scores around the day, and one write statement) against 10 calls of
   `score_tenants` with one request each, over the same batches, interleaved and alternating
   which goes first. A warm-up pass has already written every row, so both sides replace rows.
   Statements and round trips are counted with libpq's protocol trace in a separate, untimed pass.
2. Where a batch's time goes: the read, the scoring in Python and the write, each timed on its own,
   beside the floor's statement (`healthscore_dev.bench.floor`) for the same 10 tenants.
3. `core.scoring.health_score` (exact: integer arithmetic) against a float reimplementation of the same
   formulas, over every tenant's real inputs: the cost of correctness, and how many overalls
   the float version gets wrong.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from uuid import UUID

from benchlib import BENCH_AS_OF, active_ids, batches_of, bench_database, parser, print_table, summary_ms

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.core.scoring import UsageInputs, health_score
from healthscore.core.weights import HEALTH_WEIGHTS, Component, HealthWeights
from healthscore.dal import score_writes, scores
from healthscore.dal.connection import DbConnection
from healthscore.dal.usage import fetch_usage
from healthscore.logic.score_tenants import score_row, score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.bench import floor
from healthscore_dev.bench.scorer_run import protocol_counts

BATCH_SIZE = 10  # SendMessageBatch's size, the smallest batch the scorer gets
SET_RUN_ID = "bench-set-based"
SINGLE_RUN_ID = "bench-per-tenant"
PHASES_RUN_ID = "bench-phases"
PHASES = ("read", "score", "write", "floor")
PROFILE = default_profile()  # section 4: what the scorer uses on a fresh database
PROFILES = ProfileSet([PROFILE])


def set_based(conn: DbConnection, batch: list[UUID], run_id: str = SET_RUN_ID) -> None:
    score_tenants(conn, [TenantRequest(org_id, BENCH_AS_OF, run_id) for org_id in batch], PROFILES)


def per_tenant(conn: DbConnection, batch: list[UUID], run_id: str = SINGLE_RUN_ID) -> None:
    for org_id in batch:
        score_tenants(conn, [TenantRequest(org_id, BENCH_AS_OF, run_id)], PROFILES)


def phase_seconds(conn: DbConnection, batch: list[UUID]) -> dict[str, float]:
    """One batch the way `score_tenants` works it, each phase timed, then the floor on the same tenants."""
    clock = [time.perf_counter()]
    reads = scores.scoring_read(conn, batch, BENCH_AS_OF)
    clock.append(time.perf_counter())
    rows = [
        score_row(read.usage, TenantRequest(org_id, BENCH_AS_OF, PHASES_RUN_ID), PROFILES, read.previous)
        for org_id, read in reads.items()
        if read.usage.inputs.total_users
    ]
    clock.append(time.perf_counter())
    score_writes.write_scores(conn, rows, [(PHASES_RUN_ID, row["organization_id"], "scored", None) for row in rows])
    clock.append(time.perf_counter())
    floor.floor_scores(conn, BENCH_AS_OF, PROFILE, batch)
    clock.append(time.perf_counter())
    return {name: clock[i + 1] - clock[i] for i, name in enumerate(PHASES)}


# ----------------------------------------------------------------------------- float reimplementation
def _round(x: float) -> int:
    return math.floor(x + 0.5)


def float_overall(inputs: UsageInputs, weights: dict[Component, float]) -> int:
    """The formulas of docs/scoring.md in binary floating point (what it forbids)."""
    scores: dict[Component, int] = {}
    if inputs.total_users:
        scores["login"] = min(100, _round(inputs.active_users / inputs.total_users / 0.7 * 100))
    if inputs.cases_closed:
        scores["caseResolution"] = _round(inputs.cases_on_time / inputs.cases_closed * 100)
    if inputs.campaign_assignments:
        ratios = [done / total for done, total in inputs.campaign_assignments]
        scores["campaignCompletion"] = _round(sum(ratios) / len(ratios) * 100)
    if inputs.features_enabled:
        scores["featureAdoption"] = _round(inputs.features_used / inputs.features_enabled * 100)
    tickets = inputs.ticket_count if inputs.tracks_support_tickets else None
    baseline = inputs.baseline_tickets
    scores["supportTickets"] = 100 if tickets is None or tickets <= baseline else _round(100 * baseline / tickets)
    total_weight = sum(weights[name] for name in scores)
    return _round(sum(score * weights[name] for name, score in scores.items()) / total_weight)


def time_per_call(function: Callable[[UsageInputs], object], inputs: list[UsageInputs], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for tenant in inputs:
            function(tenant)
    return (time.perf_counter() - started) / (rounds * len(inputs))


def arithmetic(conn: DbConnection, weights: HealthWeights, budget_seconds: float) -> tuple[float, float, int, int]:
    """Seconds per tenant exact and float, tenants compared, and overalls on which they disagree."""
    ids = active_ids(conn)
    inputs = [t.inputs for t in fetch_usage(conn, ids, BENCH_AS_OF).values() if t.inputs.total_users]
    float_weights = {name: float(value) for name, value in weights.of().items()}
    profile = default_profile(weights)
    disagree = sum(health_score(i, profile).overall != float_overall(i, float_weights) for i in inputs)
    probe = time_per_call(lambda i: health_score(i, profile), inputs, 1)
    rounds = max(1, int(budget_seconds / 2 / (probe * len(inputs))))
    exact = time_per_call(lambda i: health_score(i, profile), inputs, rounds)
    binary = time_per_call(lambda i: float_overall(i, float_weights), inputs, rounds)
    return exact, binary, len(inputs), disagree


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--batches", type=int, default=100, help="batches of 10 tenants (default 100)")
    args.add_argument(
        "--rtt-ms",
        type=float,
        default=0.5,
        help="network round trip to add per round trip for the estimate column (default 0.5 ms, e.g. Lambda to "
        "RDS in one region; the embedded database is on loopback)",
    )
    options = args.parse_args()
    conn = bench_database(options.tenants)
    batches = batches_of(active_ids(conn), BATCH_SIZE, options.batches)

    for batch in batches:  # warm-up: every row written once, plans cached, pages in memory
        set_based(conn, batch)
        per_tenant(conn, batch)

    timings: dict[str, list[float]] = {"set-based": [], "per-tenant": []}
    modes = (("set-based", set_based), ("per-tenant", per_tenant))
    for number, batch in enumerate(batches):
        for name, work in modes if number % 2 == 0 else reversed(modes):
            started = time.perf_counter()
            work(conn, batch)
            timings[name].append(time.perf_counter() - started)

    sample = batches[0]
    counts = {
        "set-based": protocol_counts(conn, lambda: set_based(conn, sample)),
        "per-tenant": protocol_counts(conn, lambda: per_tenant(conn, sample)),
    }
    set_mean = summary_ms(timings["set-based"])[0]
    set_remote = set_mean + counts["set-based"]["round trips"] * options.rtt_ms
    rows: list[list[object]] = []
    for name in ("set-based", "per-tenant"):
        mean, median, p95 = summary_ms(timings[name])
        remote = mean + counts[name]["round trips"] * options.rtt_ms
        rows.append(
            [
                f"{name} ({'1 call' if name == 'set-based' else '10 calls'})",
                mean,
                median,
                p95,
                mean / BATCH_SIZE,
                f"{mean / set_mean:.2f}x",
                counts[name]["statements"],
                counts[name]["round trips"],
                remote,
                f"{remote / set_remote:.2f}x",
            ]
        )
    print_table(
        f"scoring a batch of {BATCH_SIZE} tenants ({options.batches} batches of score_tenants, as of {BENCH_AS_OF:%F})",
        [
            "mode",
            "ms/batch",
            "p50",
            "p95",
            "ms/tenant",
            "ratio",
            "statements",
            "round trips",
            f"ms +{options.rtt_ms:g} ms/RTT",
            "ratio",
        ],
        rows,
    )
    print(
        f"(the last two columns add {options.rtt_ms:g} ms per round trip: an estimate for a database across a network)"
    )

    for batch in batches:  # warm-up of the phases' own run id
        phase_seconds(conn, batch)
    spent = [phase_seconds(conn, batch) for batch in batches]
    means = {name: summary_ms([s[name] for s in spent])[0] for name in PHASES}
    scorer_ms = means["read"] + means["score"] + means["write"]
    print_table(
        f"a batch of {BATCH_SIZE}, phase by phase (ms, mean of {len(spent)} batches), beside the floor",
        [*PHASES, "read + score + write", "vs floor"],
        [[*means.values(), scorer_ms, f"{means['floor'] / scorer_ms:.2f}x"]],
    )

    exact, binary, compared, disagree = arithmetic(conn, HEALTH_WEIGHTS, budget_seconds=6.0)
    print_table(
        f"health_score arithmetic per tenant ({compared:,} tenants' real inputs)",
        ["arithmetic", "us/tenant", "us/batch of 10", "share of a set-based batch", "ratio"],
        [
            [
                "Fraction (exact, the spec)",
                exact * 1e6,
                exact * 1e6 * 10,
                f"{exact * BATCH_SIZE * 1000 / set_mean:.1%}",
                "",
            ],
            ["float (forbidden)", binary * 1e6, binary * 1e6 * 10, f"{binary * BATCH_SIZE * 1000 / set_mean:.1%}", ""],
            ["exact / float", "", "", "", f"{exact / binary:.1f}x"],
        ],
    )
    print(f"float gets {disagree} of {compared:,} overall scores wrong")


if __name__ == "__main__":
    main()
