"""The scorer handler on SQS-shaped batches, at the event source's maximum concurrency.

`concurrency` worker processes (as Lambda runs that many execution environments), each
loading functions/scorer/app.py once and invoking its `lambda_handler` with events of
`sqs_event` (the local event source's shape) built from real scoring messages, one batch
of `batch_size` tenants after another. The batches are dealt round-robin in fan-out order.
Tenants/s is the whole fleet over the wall time from the first worker's first batch to the
last worker's last; each worker also reports its peak RSS and database round trips.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.pq import Trace

from healthscore.dal.connection import DbConnection
from healthscore.models.messages import MessageType, ScoringMessage

RUN_ID = "bench-scorer"
DUMMY_QUEUE_URL = "http://127.0.0.1:9/000000000000/healthscore-scoring"  # the scorer never calls SQS here


@dataclass(frozen=True)
class ScorerRun:
    tenants: int  # timed: every worker's first batch is its untimed warm-up
    batch_size: int
    concurrency: int
    invocations: int
    wall_seconds: float
    failures: int
    round_trips_per_tenant: float
    peak_rss_mb: float  # the largest of the workers'
    import_ms: float  # the median worker's handler import

    @property
    def tenants_per_second(self) -> float:
        return self.tenants / self.wall_seconds


def run_scorer(batches: list[list[UUID]], as_of: datetime, concurrency: int, batch_size: int) -> ScorerRun:
    """Score every batch through the scorer handler in `concurrency` processes."""
    shares = [batches[worker::concurrency] for worker in range(concurrency)]
    jobs = [([[str(i) for i in batch] for batch in share], as_of.isoformat()) for share in shares if share]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.starmap(_worker, jobs)
    tenants = sum(r["timed_tenants"] for r in results)
    trips = sum(r["round_trips"] for r in results)
    traced = sum(r["traced_tenants"] for r in results)
    return ScorerRun(
        tenants=tenants,
        batch_size=batch_size,
        concurrency=len(jobs),
        invocations=len(batches),
        wall_seconds=max(r["end"] for r in results) - min(r["start"] for r in results),
        failures=sum(r["failures"] for r in results),
        round_trips_per_tenant=trips / max(1, traced),
        peak_rss_mb=max(r["rss_mb"] for r in results),
        import_ms=sorted(r["import_ms"] for r in results)[len(results) // 2],
    )


def _worker(batches: list[list[str]], as_of: str) -> dict[str, Any]:
    """One execution environment: import the handler, then work its batches in order."""
    from healthscore_dev.bench.database import peak_rss_mb, quiet_powertools
    from healthscore_dev.local.event_source import sqs_event
    from healthscore_dev.local.handlers import load_handler
    from healthscore_dev.local.lambda_context import LocalLambdaContext

    quiet_powertools()
    os.environ.setdefault("DEAD_LETTER_QUEUE_URL", DUMMY_QUEUE_URL.replace("scoring", "scoring-dlq"))
    started = time.perf_counter()
    handler = load_handler("scorer").lambda_handler
    import_ms = (time.perf_counter() - started) * 1000
    events = [sqs_event([sqs_message(UUID(i), as_of) for i in batch], DUMMY_QUEUE_URL) for batch in batches]

    def invoke(event: dict[str, Any]) -> int:
        answer = handler(event, LocalLambdaContext("ScorerFunction", timeout_seconds=60))
        return len(answer.get("batchItemFailures", []))

    # The first batch opens the connection (once per environment, as in Lambda) and is traced:
    # a warm-up, outside the timing. The others are timed, unless it is the only one.
    # Powertools' Metrics prints its EMF lines whenever 100 values pile up, disabled or not.
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        round_trips = _traced(lambda: invoke(events[0]))
        timed = events[1:] or events
        start = time.time()
        failures = sum(invoke(event) for event in timed)
        end = time.time()
    return {
        "start": start,
        "end": end,
        "timed_tenants": sum(len(event["Records"]) for event in timed),
        "failures": failures,
        "round_trips": round_trips,
        "traced_tenants": len(batches[0]),
        "rss_mb": peak_rss_mb(),
        "import_ms": import_ms,
    }


def _traced(work: Callable[[], object]) -> int:
    """Round trips that `work` sends on this execution environment's connection."""
    from healthscore.dal.connection import get_connection

    return protocol_counts(get_connection(), work)["round trips"]


def protocol_counts(conn: DbConnection, work: Callable[[], object]) -> Counter[str]:
    """Statements (simple queries and executes) and round trips (queries and syncs) that `work` sends,
    read from libpq's protocol trace."""
    with tempfile.TemporaryFile() as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            work()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        counts: Counter[str] = Counter()
        for line in trace.read().decode(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] == "F":
                message = parts[2].split(" ", 1)[0].strip()
                counts["statements"] += message in ("Query", "Execute")
                counts["round trips"] += message in ("Query", "Sync")
    return counts


def sqs_message(org_id: UUID, as_of: str, job: MessageType = "calculate-score", run_id: str = RUN_ID) -> dict[str, Any]:
    """One received SQS message of the scoring queue, as the event source passes it on."""
    body = ScoringMessage.model_validate(
        {"type": job, "organizationId": str(org_id), "asOf": as_of, "runId": run_id}
    ).body()
    return received_message(body)


def received_message(body: str) -> dict[str, Any]:
    """A message of the scoring queue with this body, as the event source passes it on."""
    now_ms = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": f"bench-{uuid.uuid4()}",
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "000000000000",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
    }
