"""`healthscore seed-demo`: a varied synthetic fleet in the source tables."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from healthscore.dal.connection import connect
from healthscore.dal.migrate import MigrationError, migrate
from healthscore_dev.demo.load import DEMO_SEED, DEMO_TENANTS, FleetAlreadySeededError, SeedSummary, seed_fleet
from healthscore_dev.demo.profiles import PROFILES
from healthscore_dev.local.embedded_db import use_local_database


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "seed-demo",
        help="fill the source tables with a synthetic fleet of tenants",
        description="Generate a varied, deterministic demo fleet (120 days of activity before --as-of).",
    )
    parser.add_argument(
        "--tenants", type=positive_int, default=DEMO_TENANTS, help=f"organizations (default {DEMO_TENANTS})"
    )
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    parser.add_argument(
        "--as-of",
        type=utc_timestamp,
        default=None,
        help="ISO-8601 time the activity leads up to (default now, UTC; naive times are UTC)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="delete the data of the six source tables first if there is any"
    )
    parser.set_defaults(handler=run_seed_demo)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def utc_timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_seed_demo(args: argparse.Namespace) -> int:
    as_of: datetime = args.as_of or datetime.now(UTC)
    with connect(use_local_database()) as conn:
        try:
            migrate(conn)
        except MigrationError as exc:
            print(f"healthscore seed-demo: {exc}", file=sys.stderr)
            return 1
        started = time.perf_counter()
        try:
            summary = seed_fleet(conn, args.tenants, args.seed, as_of, replace=args.replace)
        except FleetAlreadySeededError as exc:
            print(
                f"healthscore seed-demo: {exc}; pass --replace to delete the source data and seed again",
                file=sys.stderr,
            )
            return 1
    print(describe(summary, args.tenants, time.perf_counter() - started))
    return 0


def describe(summary: SeedSummary, tenants: int, seconds: float) -> str:
    profiles = ", ".join(f"{profile.name} {summary.profiles[profile.name]}" for profile in PROFILES)
    rows = ", ".join(f"{table} {count:,}" for table, count in summary.rows.items())
    return f"seeded {tenants:,} tenants in {seconds:.1f} s: {profiles} ({sum(summary.rows.values()):,} rows: {rows})"
