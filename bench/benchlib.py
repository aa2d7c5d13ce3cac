"""What the bench/ scripts share; the measurement code itself is the package's (healthscore_dev.bench).

The scripts run on the bench database of `healthscore bench` (healthscore_dev.bench.database:
its own embedded PostgreSQL under .local/bench unless DATABASE_URL is set), as of the start
of today, so that they and `make bench` share one seeded fleet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT / "layers" / "shared"), str(PROJECT_ROOT / "dev")]  # the layer as Lambda mounts it

from healthscore.dal.connection import DbConnection  # noqa: E402
from healthscore_dev.bench import database  # noqa: E402
from healthscore_dev.bench.api_latency import percentile  # noqa: E402
from healthscore_dev.bench.database import active_ids, batches_of, peak_rss_mb, quiet_powertools  # noqa: E402
from healthscore_dev.bench.report import print_table  # noqa: E402
from healthscore_dev.cli.bench import DEFAULT_TENANTS  # noqa: E402

__all__ = ["active_ids", "batches_of", "peak_rss_mb", "print_table", "quiet_powertools"]

BENCH_AS_OF = database.bench_as_of()


def parser(description: str) -> argparse.ArgumentParser:
    args = argparse.ArgumentParser(description=description)
    args.add_argument(
        "--tenants",
        type=int,
        default=DEFAULT_TENANTS,
        help=f"demo tenants in the bench database (default {DEFAULT_TENANTS:,}, as `make bench`); the bench's own "
        "embedded database is reseeded when it holds another number",
    )
    return args


def bench_database(tenants: int) -> DbConnection:
    conn, _ = database.bench_database(tenants, BENCH_AS_OF)
    return conn


def summary_ms(seconds: Sequence[float]) -> tuple[float, float, float]:
    """Mean, median and p95 in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return statistics.fmean(ms), statistics.median(ms), percentile(ms, 0.95)
