"""Restatement through the scorer handler: a profile's stored days re-scored under its active version.

The bench's fleet (its 90 days of history) is restated over `days` days as POST .../restate would:
one run, one restate message per range of tenants (restate_tenants_per_message), delivered to the scorer
handler in events of the template's BatchSize by `concurrency` execution environments (threads:
the work is the database's). Timed from the first event to the last answer.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import batched
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

from healthscore.config import get_settings
from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.active_profiles import load_active_profiles
from healthscore.logic.restatement import run_prefix
from healthscore.models.messages import RestateMessage, restate_tenants_per_message
from healthscore_dev.bench.scorer_run import DUMMY_QUEUE_URL, received_message
from healthscore_dev.local.event_source import sqs_event
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LocalLambdaContext


@dataclass(frozen=True)
class RestatementRun:
    tenants: int
    days: int
    rows: int  # restated scores written
    messages: int
    concurrency: int
    seconds: float
    failures: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def measure_restatement(
    conn: DbConnection, ids: list[UUID], last_day: date, days: int, concurrency: int, batch_size: int
) -> RestatementRun:
    profile = load_active_profiles(conn, None).ordered[-1]  # default: the bench's fleet is all its
    run_id = f"{run_prefix(profile.profile_id)}bench-{uuid4()}"
    runs.start_run(conn, run_id, "restate", datetime.now(UTC))
    bodies = [
        RestateMessage(
            type="restate",
            run_id=run_id,
            profile_id=profile.profile_id,
            profile_version=profile.version,
            first_day=last_day - timedelta(days=days - 1),
            last_day=last_day,
            organization_ids=list(chunk),
        ).body()
        for chunk in batched(ids, restate_tenants_per_message(days))
    ]
    runs.finish_enqueue(conn, run_id, len(ids))
    events = [sqs_event([received_message(b) for b in chunk], DUMMY_QUEUE_URL) for chunk in batched(bodies, batch_size)]
    with _dead_letter_queue_named():
        seconds, failures = _deliver(events, concurrency)
    row = conn.execute("SELECT count(*) AS n FROM tenant_restated_scores WHERE run_id = %s", (run_id,)).fetchone()
    return RestatementRun(len(ids), days, int(row["n"]) if row else 0, len(bodies), concurrency, seconds, failures)


@contextlib.contextmanager
def _dead_letter_queue_named() -> Iterator[None]:
    """The scorer's settings require a DEAD_LETTER_QUEUE_URL; it never calls SQS here."""
    if "DEAD_LETTER_QUEUE_URL" in os.environ:
        yield
        return
    os.environ["DEAD_LETTER_QUEUE_URL"] = DUMMY_QUEUE_URL.replace("scoring", "scoring-dlq")
    get_settings.cache_clear()
    try:
        yield
    finally:
        del os.environ["DEAD_LETTER_QUEUE_URL"]
        get_settings.cache_clear()


def _deliver(events: list[dict[str, Any]], concurrency: int) -> tuple[float, int]:
    """Every event to the scorer handler, `concurrency` at a time; the seconds it took and the failed records."""
    # Execution environments of their own (apart from other benches'), imported before the clock starts.
    idle = [load_handler("scorer", number) for number in range(1000, 1000 + concurrency)]
    environments = threading.local()
    lock = threading.Lock()

    def invoke(event: dict[str, Any]) -> int:
        handler: ModuleType | None = getattr(environments, "handler", None)
        if handler is None:
            with lock:
                handler = environments.handler = idle.pop()
        answer = handler.lambda_handler(event, LocalLambdaContext("ScorerFunction", timeout_seconds=60))
        return len(answer.get("batchItemFailures", []))

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):  # EMF lines
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            failures = sum(pool.map(invoke, events))
        return time.perf_counter() - started, failures
