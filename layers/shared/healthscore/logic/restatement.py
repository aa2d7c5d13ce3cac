"""Use case: restate a profile's tenants' stored history under its active version (POST /profiles/{profileId}/restate).

The request records a run, puts one `restate` message per range of tenants on the scoring queue
and answers at once; the scorer restates each range set-based (dal/restated_scores.py), recording
its tenants' outcomes so that GET /runs/{runId} shows progress. One restatement of a profile at a
time: its runs are told apart from other profiles' by their id's prefix. Nothing here publishes an
event or touches an as-computed score, a latest row or the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import batched
from uuid import uuid4

from healthscore.config import get_settings
from healthscore.core.profile_matching import ProfileSet
from healthscore.dal import profile_preview, profiles, restated_scores, runs
from healthscore.dal.connection import DbConnection
from healthscore.logic.enqueue import enqueue_messages
from healthscore.logic.preview import tried_before
from healthscore.logic.run_guard import start_run_unless_running
from healthscore.models.messages import RestateMessage, restate_tenants_per_message


class UnknownProfileError(LookupError):
    """No active profile of that id (or, for a message, no such version)."""


@dataclass(frozen=True, slots=True)
class RequestedRestatement:
    run_id: str
    profile_id: str
    profile_version: int
    tenants: int


def run_prefix(profile_id: str) -> str:
    """Every restatement run of the profile starts with this (a slug never holds a colon)."""
    return f"restate:{profile_id}:"


def start_restatement(
    conn: DbConnection, active: ProfileSet, profile_id: str, first_day: date, last_day: date
) -> RequestedRestatement:
    """RunInProgressError while a restatement of the profile is in progress; UnknownProfileError."""
    profile = active.get(profile_id)
    if profile is None:
        raise UnknownProfileError(f"Profile {profile_id} not found")
    queue_url = get_settings().required("SCORING_QUEUE_URL")
    run_id = f"{run_prefix(profile_id)}{uuid4()}"
    start_run_unless_running(conn, run_id, "restate", datetime.now(UTC), prefix=run_prefix(profile_id))
    try:
        tenants = profile_preview.scored_by(conn, profile, tried_before(profile, active))
        messages = [
            RestateMessage(
                type="restate",
                run_id=run_id,
                profile_id=profile_id,
                profile_version=profile.version,
                first_day=first_day,
                last_day=last_day,
                organization_ids=list(ids),
            )
            for ids in batched(tenants, restate_tenants_per_message((last_day - first_day).days + 1))
        ]
        enqueue_messages(queue_url, messages)
    except Exception:
        runs.forget_run(conn, run_id)  # nothing (or not all) on the queue: a new request starts afresh
        raise
    runs.finish_enqueue(conn, run_id, len(tenants))
    return RequestedRestatement(run_id, profile_id, profile.version, len(tenants))


def restate_range(conn: DbConnection, message: RestateMessage) -> int:
    """Work one restate message; how many days it restated. UnknownProfileError for a version never saved."""
    profile = profiles.profile_version(conn, message.profile_id, message.profile_version)
    if profile is None:
        raise UnknownProfileError(f"Profile {message.profile_id} has no version {message.profile_version}")
    return restated_scores.restate(
        conn, message.run_id, profile, message.organization_ids, message.first_day, message.last_day
    )
