"""`healthscore run nightly`: the nightly pipeline on the local stack (README: local mode)."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from healthscore.config import get_settings
from healthscore.dal import organizations, runs
from healthscore.dal.connection import DbConnection, connect
from healthscore.dal.migrate import migrate
from healthscore.logic.active_profiles import configured_health_weights, load_active_profiles
from healthscore.models.messages import Job
from healthscore_dev.demo.load import DEMO_SEED, DEMO_TENANTS, organization_count, seed_fleet
from healthscore_dev.local.embedded_db import local_dir, use_local_database
from healthscore_dev.local.history import score_recorded_history
from healthscore_dev.local.lambda_context import use_local_powertools
from healthscore_dev.local.pipeline import NIGHTLY_JOBS, JobResult, run_job
from healthscore_dev.local.progress import ProgressBar
from healthscore_dev.local.sqs_server import LocalQueues, start_local_sqs
from healthscore_dev.local.template_settings import queue_settings

RISKIEST_SHOWN = 15
MOVERS_SHOWN = 10
MAX_LOCAL_CONCURRENCY = 50


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a job locally").add_subparsers(required=True)
    parser = run.add_parser(
        "nightly",
        help="the nightly pipeline on the local stack: schedule -> fan-out -> queue -> scorer",
        description="Record metrics, then score every ACTIVE tenant, through the real handlers on an "
        "embedded PostgreSQL (unless DATABASE_URL is set) and a local SQS endpoint. "
        "An empty database is seeded with a demo fleet first, and the recorded past days without a "
        "score (a new demo fleet has 30) are scored before the nightly jobs.",
    )
    parser.add_argument(
        "--tenants",
        type=_bounded(1, 1_000_000),
        default=None,
        help=f"demo tenants to seed when the database has none (default {DEMO_TENANTS})",
    )
    parser.add_argument(
        "--concurrency",
        type=_bounded(1, MAX_LOCAL_CONCURRENCY),
        default=None,
        help="concurrent scorer invocations (default: the template's MaxScorerConcurrency)",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="do not score the recorded past days that have no score first (a fresh demo fleet has 30)",
    )
    parser.set_defaults(handler=run_nightly)


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def run_nightly(args: argparse.Namespace) -> int:
    use_local_powertools()
    started = time.perf_counter()
    with connect(use_local_database()) as conn:
        migrate(conn)
        _ensure_fleet(conn, args.tenants)
        if not args.no_history:
            _score_history(conn)
        settings = queue_settings()
        concurrency = args.concurrency or settings.max_concurrency
        queues = start_local_sqs(settings)
        print(f"local stack: SQS at {queues.endpoint_url}, batch size {settings.batch_size}, concurrency {concurrency}")
        handler_log = local_dir() / "logs" / f"nightly-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
        handler_log.parent.mkdir(parents=True, exist_ok=True)
        # The handlers' JSON logs and EMF metrics go where CloudWatch would have them.
        with handler_log.open("w") as log, contextlib.redirect_stdout(log):
            results = [_run_with_progress(conn, job, queues, concurrency) for job in NIGHTLY_JOBS]
        print(f"handler logs and metrics: {handler_log}")
        tenants = organization_count(conn)
        for result in results:
            print(_describe(result, tenants, runs.skip_reasons(conn, result.run_id)))
        print_risk_table(conn, results[-1].run_id)
        print_movers(conn, results[-1].run_id)
    print(f"nightly pipeline finished in {time.perf_counter() - started:.1f} s")
    return 1 if any(r.progress.get("failed") for r in results) else 0


def _ensure_fleet(conn: DbConnection, tenants: int | None) -> None:
    existing = organization_count(conn)
    if existing == 0:
        count = tenants or DEMO_TENANTS
        seeding = time.perf_counter()
        seed_fleet(conn, count, DEMO_SEED, datetime.now(UTC), replace=False)
        print(f"seeded a demo fleet of {count:,} tenants in {time.perf_counter() - seeding:.1f} s")
    elif tenants and tenants != existing:
        print(
            f"the database already holds {existing:,} organizations: scoring those "
            f"(healthscore seed-demo --tenants {tenants} --replace to change the fleet)"
        )


def _score_history(conn: DbConnection) -> None:
    profiles = load_active_profiles(conn, configured_health_weights(get_settings()))
    history = score_recorded_history(conn, profiles)
    if history.days:
        print(
            f"scored {history.days} recorded past days first ({history.scores:,} scores, in-process) "
            f"in {history.seconds:.1f} s"
        )


def _run_with_progress(conn: DbConnection, job: Job, queues: LocalQueues, concurrency: int) -> JobResult:
    bar = ProgressBar(job, total=organizations.count_active(conn))
    try:
        return run_job(conn, job, queues, concurrency, bar.update)
    finally:
        bar.close()


def _describe(result: JobResult, tenants: int, skip_reasons: list[dict[str, Any]]) -> str:
    """The run's counts, saying why they are not the fleet's: only ACTIVE tenants are enqueued, and why skipped."""
    p = result.progress
    rate = (p.get("done", 0) + p.get("skipped", 0)) / max(result.seconds, 1e-6)
    why = ", ".join(f"{row['reason']}: {row['tenants']:,}" for row in skip_reasons)
    return (
        f"{result.job}: run {result.run_id}: {p.get('tenant_count', 0):,} enqueued (the ACTIVE ones of "
        f"{tenants:,} tenants), {p.get('done', 0):,} done, {p.get('skipped', 0):,} skipped"
        + (f" ({why})" if why else "")
        + f", {p.get('failed', 0):,} failed in {result.seconds:.1f} s "
        f"({rate:,.0f} tenants/s, {result.source.invocations:,} scorer invocations)"
    )


def print_risk_table(conn: DbConnection, run_id: str) -> None:
    """The run's tenants by effective risk and trend, then the riskiest; `*` marks an override's level."""
    counts = runs.risk_counts(conn, run_id)
    trends = ("IMPROVING", "STABLE", "DECLINING")
    print(f"\n{'risk':<8}{'tenants':>9}" + "".join(f"{t.lower():>11}" for t in trends) + f"{'overridden':>12}")
    for risk in ("HIGH", "MEDIUM", "LOW"):
        rows = [row for row in counts if row["risk_level"] == risk]
        by_trend = {row["trend"]: row["tenants"] for row in rows}
        overridden = sum(row["overridden"] for row in rows)
        print(
            f"{risk:<8}{sum(by_trend.values()):>9,}"
            + "".join(f"{by_trend.get(t, 0):>11,}" for t in trends)
            + f"{overridden:>12,}"
        )
    rows = runs.riskiest_scores(conn, run_id, RISKIEST_SHOWN)
    if not rows:
        return
    print(f"\nhighest risk first ({len(rows)} shown)")
    header = f"{'organization':<30}{'score':>6}{'prev':>6} {'trend':<10}{'risk':<7}login  case  camp  feat  tick"
    print(header)
    for row in rows:
        components = (
            row["login_score"],
            row["case_resolution_score"],
            row["campaign_completion_score"],
            row["feature_adoption_score"],
            row["support_ticket_score"],
        )
        previous = "-" if row["previous_score"] is None else row["previous_score"]
        risk = row["effective_risk_level"] + ("*" if row["effective_risk_level"] != row["risk_level"] else "")
        print(
            f"{row['name'][:29]:<30}{row['overall_score']:>6}{previous:>6} {row['trend']:<10}{risk:<7}"
            + "".join(f"{'-' if c is None else c:>5} " for c in components)
        )
    if any(row["effective_risk_level"] != row["risk_level"] for row in rows):
        print("* overridden by hand (GET /scores/{organizationId} shows the computedRiskLevel and the override)")


def print_movers(conn: DbConnection, run_id: str) -> None:
    rows = runs.biggest_movers(conn, run_id, MOVERS_SHOWN)
    if not rows:
        return
    newly_high = rows[0]["newly_high"]
    print(f"\nmovers since the previous score ({len(rows)} shown): {newly_high:,} newly HIGH, listed first")
    print(f"{'organization':<30}{'prev':>6}{'score':>6}{'change':>8}  risk")
    for row in rows:
        change = row["overall_score"] - row["previous_score"]
        print(
            f"{row['name'][:29]:<30}{row['previous_score']:>6}{row['overall_score']:>6}{change:>+8}  "
            f"{row['previous_risk_level']} -> {row['risk_level']}"
        )
