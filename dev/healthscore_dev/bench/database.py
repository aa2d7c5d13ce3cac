"""The bench database: the demo fleet at a fixed as-of, with 90 days of score history.

The bench runs on the embedded PostgreSQL of local mode in a data folder of its own
(`.local/bench/`), seeded when it is empty and reseeded when it holds another number of
tenants than asked for. DATABASE_URL, or another HEALTHSCORE_LOCAL_DIR, when set, is used
instead; such a database is seeded only if it has no organizations and is never replaced.

Everything is as of the start of today (UTC), `bench_as_of()`, with fixed run ids, so a rerun
replaces the rows of the previous one instead of adding new ones. Today, because the API's
history route counts its days back from today. The bench's own database is reseeded when it
was seeded for another day (its history does not end the day before).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from healthscore.config import get_settings
from healthscore.core.profiles import ScoringProfile
from healthscore.dal.connection import DbConnection, connect
from healthscore.dal.migrate import migrate
from healthscore.logic.active_profiles import configured_health_weights, load_active_profiles
from healthscore_dev.bench.cold_start import PROJECT_ROOT
from healthscore_dev.bench.score_history import HISTORY_DAYS, history_end, history_rows, seed_score_history
from healthscore_dev.demo.load import DEMO_SEED, organization_count, seed_fleet
from healthscore_dev.local.embedded_db import LOCAL_DIR_ENV, use_local_database

BENCH_LOCAL_DIR = PROJECT_ROOT / ".local" / "bench"

# What the local runtime sets for handlers run in-process (healthscore_dev.cli.run): JSON logs only
# from WARNING, no metrics flushed to stdout, no X-Ray.
QUIET_POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "healthscore",
    "POWERTOOLS_METRICS_NAMESPACE": "HealthScore",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class BenchDatabase:
    where: str
    organizations: int
    active: int
    history_rows: int
    seed_seconds: float | None  # None: already seeded
    history_seconds: float | None


def bench_as_of() -> datetime:
    """The moment the bench scores as of: the start of today, UTC (the seeded activity leads up to it)."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def quiet_powertools() -> None:
    for name, value in QUIET_POWERTOOLS_ENV.items():
        os.environ.setdefault(name, value)


def bench_database(tenants: int, as_of: datetime) -> tuple[DbConnection, BenchDatabase]:
    """Connect to the bench database (started if need be), migrated, seeded with `tenants` and their history."""
    if os.environ.get("DATABASE_URL"):
        where = "the PostgreSQL of DATABASE_URL"
    elif os.environ.get(LOCAL_DIR_ENV):
        where = f"the embedded PostgreSQL of {LOCAL_DIR_ENV}"
    else:
        where = "embedded PostgreSQL (.local/bench)"
        os.environ[LOCAL_DIR_ENV] = str(BENCH_LOCAL_DIR)
    own_database = where.endswith("(.local/bench)")  # the only one ever reseeded
    conn = connect(use_local_database())
    # This connection seeds millions of rows and runs the floor over the fleet: the runtime's
    # statement timeout (DB_STATEMENT_TIMEOUT_MS) is for requests, not for them.
    conn.execute("SET statement_timeout = 0")
    migrate(conn)
    existing = organization_count(conn)
    seed_seconds = history_seconds = None
    another_day = history_end(conn) not in (None, as_of.date() - timedelta(days=1))
    if existing == 0 or (own_database and (existing != tenants or another_day)):
        started = time.perf_counter()
        if own_database:
            conn.execute("TRUNCATE tenant_health_scores")  # scores of a fleet that is no longer there
            conn.execute("DELETE FROM tenant_latest_scores")  # and their latest rows (the trigger zeroes the counters)
            conn.execute("TRUNCATE risk_overrides")
        seed_fleet(conn, tenants, DEMO_SEED, as_of, replace=existing > 0)
        seed_seconds = time.perf_counter() - started
        print(f"seeded {tenants:,} demo tenants (COPY) in {seed_seconds:.1f} s", flush=True)
    elif existing != tenants:
        print(f"the database holds {existing:,} organizations: benchmarking those (not the bench's own: not reseeded)")
    active = len(active_ids(conn))
    if history_rows(conn, as_of) < active * HISTORY_DAYS:
        started = time.perf_counter()
        seed_score_history(conn, as_of)
        history_seconds = time.perf_counter() - started
        print(f"wrote {HISTORY_DAYS} days of score history (one INSERT ... SELECT) in {history_seconds:.1f} s")
    conn.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as a database in service has
    info = BenchDatabase(
        where, organization_count(conn), active, history_rows(conn, as_of), seed_seconds, history_seconds
    )
    print(
        f"database: {where}, {info.organizations:,} organizations, {info.active:,} ACTIVE,"
        f" {info.history_rows:,} history rows"
    )
    return conn, info


def bench_profile(conn: DbConnection) -> ScoringProfile:
    """The one active profile that scores the bench fleet, `default`, created if need be as the scorer creates
    it: so that no measured batch includes that once-per-database work (8 round trips), and the floor
    scores with the same version."""
    active = load_active_profiles(conn, configured_health_weights(get_settings())).ordered
    if len(active) != 1:
        names = ", ".join(f"{p.profile_id} v{p.version}" for p in active)
        raise SystemExit(f"the floor scores with one profile; the bench database has {len(active)} active: {names}")
    return active[0]


def database_size_mb(conn: DbConnection) -> float:
    row = conn.execute("SELECT pg_database_size(current_database()) AS size").fetchone()
    return int(row["size"]) / 1024 / 1024 if row else 0.0


def active_ids(conn: DbConnection) -> list[UUID]:
    rows = conn.execute("SELECT id FROM organizations WHERE status = 'ACTIVE' ORDER BY id").fetchall()
    return [row["id"] for row in rows]


def batches_of(ids: Sequence[UUID], size: int, count: int | None = None) -> list[list[UUID]]:
    """Batches of `size` ids in fan-out (id) order: the whole fleet, or `count` wrapping around."""
    if not ids:
        raise SystemExit("the bench database has no ACTIVE organization")
    if count is None:
        return [list(ids[start : start + size]) for start in range(0, len(ids), size)]
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
