"""Batch size study: the scorer handler at BatchSize 10, 50 and 100 on the same tenants and concurrency.

For each size: tenants/s, database round trips per tenant (libpq protocol trace of one
batch) and Lambda invocations per night. A night is two jobs (record-metrics, then
calculate-scores), each one invocation per full batch: with MaximumBatchingWindowInSeconds
set, the event source waits up to that long to fill a batch, and a fan-out that sends
thousands of messages a second fills any of these sizes well within the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from healthscore_dev.bench.database import batches_of
from healthscore_dev.bench.scorer_run import ScorerRun, run_scorer

BATCH_SIZES = (10, 50, 100)
NIGHTLY_JOBS = 2  # record-metrics and calculate-scores


@dataclass(frozen=True)
class BatchSizePoint:
    run: ScorerRun

    def invocations_per_night(self, fleet: int) -> int:
        return NIGHTLY_JOBS * math.ceil(fleet / self.run.batch_size)


def study(ids: list[UUID], as_of: datetime, concurrency: int) -> list[BatchSizePoint]:
    """One scorer run per size in BATCH_SIZES, each over `ids`, after a first pass has written today's
    rows (so that every size replaces rows, none pays for inserting them)."""
    return [BatchSizePoint(run_scorer(batches_of(ids, size), as_of, concurrency, size)) for size in BATCH_SIZES]
