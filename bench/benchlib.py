"""What the benchmarks share: the bench database, a fixed as-of, timing and tables.

The benchmarks run on the embedded PostgreSQL of local mode, in a data folder of
their own (`.local/bench/`), seeded with the demo fleet when it is empty and reseeded
when it holds another number of tenants than --tenants. DATABASE_URL, or another
HEALTHSCORE_LOCAL_DIR, when set, is used instead; such a database is seeded only if it
has no organizations and is never replaced.

Every bench scores as of one fixed moment (BENCH_AS_OF) with fixed run ids, so a
rerun replaces the rows of the previous one instead of adding new ones, and the
windows hold the same data whatever the day.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "layers" / "shared"))  # as Lambda mounts the layer

from healthscore.dal.connection import DbConnection, connect  # noqa: E402
from healthscore.dal.migrate import migrate  # noqa: E402
from healthscore.demo.load import organization_count, seed_fleet  # noqa: E402
from healthscore.local.embedded_db import LOCAL_DIR_ENV, use_local_database  # noqa: E402

BENCH_LOCAL_DIR = PROJECT_ROOT / ".local" / "bench"
BENCH_AS_OF = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # the seeded activity leads up to this moment
DEMO_SEED = 42
DEFAULT_TENANTS = 2000

# What the local runtime sets for handlers run in-process (healthscore.cli.run): JSON logs only
# from WARNING, no metrics flushed to stdout, no X-Ray.
QUIET_POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "healthscore",
    "POWERTOOLS_METRICS_NAMESPACE": "HealthScore",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def parser(description: str) -> argparse.ArgumentParser:
    args = argparse.ArgumentParser(description=description)
    args.add_argument(
        "--tenants",
        type=int,
        default=DEFAULT_TENANTS,
        help=f"demo tenants in the bench database (default {DEFAULT_TENANTS}); the bench's own embedded "
        "database is reseeded when it holds another number",
    )
    return args


def quiet_powertools() -> None:
    for name, value in QUIET_POWERTOOLS_ENV.items():
        os.environ.setdefault(name, value)


def bench_database(tenants: int) -> DbConnection:
    """Connect to the bench database (started if need be), migrated and seeded with `tenants` tenants."""
    if os.environ.get("DATABASE_URL"):
        where = "the PostgreSQL of DATABASE_URL"
    elif os.environ.get(LOCAL_DIR_ENV):
        where = f"the embedded PostgreSQL of {LOCAL_DIR_ENV}"
    else:
        where = "embedded PostgreSQL (.local/bench)"
        os.environ[LOCAL_DIR_ENV] = str(BENCH_LOCAL_DIR)
    own_database = where.endswith("(.local/bench)")  # the only one ever reseeded
    url = use_local_database()
    conn = connect(url)
    migrate(conn)
    existing = organization_count(conn)
    if existing == 0 or (own_database and existing != tenants):
        started = time.perf_counter()
        seed_fleet(conn, tenants, DEMO_SEED, BENCH_AS_OF, replace=existing > 0)
        print(f"seeded {tenants:,} demo tenants in {time.perf_counter() - started:.1f} s")
    elif existing != tenants:
        print(f"the database holds {existing:,} organizations: benchmarking those (not the bench's own: not reseeded)")
    print(f"database: {where}, {organization_count(conn):,} organizations, {len(active_ids(conn)):,} ACTIVE")
    return conn


def active_ids(conn: DbConnection) -> list[UUID]:
    rows = conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id").fetchall()
    return [row["id"] for row in rows]


def batches_of(ids: Sequence[UUID], size: int, count: int) -> list[list[UUID]]:
    """`count` batches of `size` ids in fan-out (id) order, wrapping around when the fleet is smaller."""
    if not ids:
        raise SystemExit("the bench database has no ACTIVE organization")
    return [[ids[(b * size + i) % len(ids)] for i in range(size)] for b in range(count)]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    On Linux, VmHWM of /proc/self/status: getrusage's ru_maxrss survives fork and exec, so a
    child process would report its parent's peak whenever that is higher than its own.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary_ms(seconds: Sequence[float]) -> tuple[float, float, float]:
    """Mean, median and p95 in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return statistics.fmean(ms), statistics.median(ms), percentile(ms, 0.95)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
