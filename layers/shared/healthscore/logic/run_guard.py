"""Use case: start a fleet run unless one of the same job is still in progress (one click too many).

Race-free: the check and the new run's row happen in one transaction holding the job's
advisory lock, so of ten concurrent starts exactly one inserts its run and the nine others,
waiting on the lock, then see it. A run counts as in progress until every tenant it enqueued
has an outcome, but only for RUN_IN_PROGRESS_HOURS after it started: a run whose fan-out
died, or whose last tenants were lost, must not block the next one forever. The bound is above
the nightly run's expected length (the NightlyRunLateAlarm deadline is 4 hours after 02:00).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from healthscore.dal import runs
from healthscore.dal.connection import DbConnection
from healthscore.models.messages import RunJob

RUN_IN_PROGRESS_HOURS: Final = 6


class RunInProgressError(Exception):
    """A run of the job is still in progress; `run_id` names it."""

    def __init__(self, job: RunJob, run_id: str) -> None:
        super().__init__(f"A {job} run is still in progress: {run_id}; follow it with GET /runs/{run_id}")
        self.run_id = run_id


def start_run_unless_running(
    conn: DbConnection, run_id: str, job: RunJob, as_of: datetime, *, prefix: str = ""
) -> None:
    """Record run `run_id`; RunInProgressError naming the running one when a run of `job` (whose id starts
    with `prefix`: a restatement's profile) is in progress."""
    with conn.transaction():
        runs.lock_job(conn, job + prefix)
        running = runs.run_in_progress(conn, job, RUN_IN_PROGRESS_HOURS, prefix)
        if running is not None:
            raise RunInProgressError(job, running)
        runs.start_run(conn, run_id, job, as_of)
