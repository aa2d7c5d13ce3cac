"""The scorer at maximum concurrency never holds more database connections than that.

The local event source runs the template's MaximumConcurrency environments of the real
scorer over a queue of scoring messages while a sampler counts this database's client
backends in pg_stat_activity (not autovacuum's; its own and the test's excluded).
CONNECTION_BUDGET_TENANTS sets the fleet (`make check-reliability` runs a larger one).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import psycopg
from reliability_report import record

from healthscore.dal.connection import DbConnection
from healthscore.dal.organizations import active_organization_pages
from healthscore.logic.enqueue import enqueue_messages
from healthscore.models.messages import ScoringMessage
from healthscore_dev.demo.load import seed_fleet
from healthscore_dev.local.event_source import LocalEventSource
from healthscore_dev.local.pipeline import queue_is_empty
from healthscore_dev.local.sqs_server import LocalQueues

TENANTS = int(os.environ.get("CONNECTION_BUDGET_TENANTS", "150"))
AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
DEADLINE_SECONDS = 60 + TENANTS * 0.5  # the fleet takes seconds per hundred tenants; a hang fails, not hangs


class BackendSampler(threading.Thread):
    """Counts the database's other backends until stopped; `peak` is the most seen at once."""

    def __init__(self, database_url: str, ignore_pid: int) -> None:
        super().__init__(name="backend-sampler", daemon=True)
        self.url, self.ignore_pid = database_url, ignore_pid
        self.peak, self.samples = 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as sampler:
            while not self.stop.wait(0.005):
                row = sampler.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> %s",
                    (self.ignore_pid,),
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)
                self.samples += 1


def with_users(conn: DbConnection) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM organizations o"
        " WHERE o.status = 'ACTIVE' AND EXISTS (SELECT 1 FROM users u WHERE u.organization_id = o.id)"
    ).fetchone()
    assert row is not None
    return int(row["n"])


def test_the_scorer_holds_at_most_max_concurrency_connections(
    conn: DbConnection, queues: LocalQueues, database_url: str
) -> None:
    seed_fleet(conn, TENANTS, 11, AS_OF, replace=False)
    ids = [org_id for page in active_organization_pages(conn, 1000) for org_id in page]
    messages = [ScoringMessage(type="calculate-score", organization_id=i, as_of=AS_OF, run_id="budget") for i in ids]
    enqueue_messages(queues.scoring_queue_url, messages)
    limit = queues.settings.max_concurrency
    sampler = BackendSampler(database_url, ignore_pid=conn.info.backend_pid)
    sampler.start()
    source = LocalEventSource.for_scorer(queues.scoring_queue_url, queues.settings.batch_size, limit)
    stats = source.run(until=lambda: queue_is_empty(queues.scoring_queue_url), timeout_seconds=DEADLINE_SECONDS)
    sampler.stop.set()
    sampler.join()

    scored = conn.execute("SELECT count(*) AS n FROM tenant_health_scores WHERE run_id = 'budget'").fetchall()[0]["n"]
    record("connection budget", cases=sampler.samples, failures=int(sampler.peak > limit))
    print(f"peak {sampler.peak} connections for MaximumConcurrency {limit} over {sampler.samples} samples")
    assert stats.invocations >= limit  # every environment had work
    assert 1 <= sampler.peak <= limit
    assert scored == with_users(conn) > 0  # every tenant with users, none dropped (those without are skipped)
