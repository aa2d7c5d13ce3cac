"""The profile routes' use cases: list, save a new version, delete, and preview a candidate.

Each takes the connection and validated parameters and returns a response model, raising a
`problems` error for what the caller got wrong.
"""

from __future__ import annotations

from datetime import date

from healthscore.api.problems import BadBodyError, ConflictError, ResourceNotFoundError
from healthscore.config import get_settings
from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import DEFAULT_PROFILE_ID, ProfileDocument, ProfileError, new_version
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection
from healthscore.logic.active_profiles import configured_health_weights, load_active_profiles
from healthscore.logic.preview import preview
from healthscore.logic.restatement import UnknownProfileError, start_restatement
from healthscore.models.api import RestatementStarted, RestateRequest
from healthscore.models.messages import RESTATE_MAX_DAYS
from healthscore.models.profiles import PreviewMover, ProfileBody, ProfileList, ProfileOut, ProfilePreview


def _active(conn: DbConnection) -> ProfileSet:
    return load_active_profiles(conn, configured_health_weights(get_settings()))


def body_document(profile_id: str, body: ProfileBody) -> ProfileDocument:
    """The profile a PUT or preview body describes; a profileId in it must be the path's."""
    if body.profile_id is not None and body.profile_id != profile_id:
        raise BadBodyError("profileId", f"the body's profileId {body.profile_id!r} is not the path's {profile_id!r}")
    return body.document()


def list_profiles(conn: DbConnection) -> ProfileList:
    ordered = sorted(_active(conn).ordered, key=lambda p: p.profile_id)
    return ProfileList(items=[ProfileOut.model_validate(p.model_dump()) for p in ordered])


def save_profile(conn: DbConnection, profile_id: str, document: ProfileDocument, created_by: str) -> ProfileOut:
    _active(conn)  # the default profile exists before any other is saved
    try:
        saved = profiles.save_profile(conn, profile_id, document, created_by)
    except ProfileError as exc:
        raise BadBodyError(exc.field, exc.problem) from None
    assert saved is not None
    return ProfileOut.model_validate(saved.model_dump())


def delete_profile(conn: DbConnection, profile_id: str) -> None:
    if profile_id == DEFAULT_PROFILE_ID:
        raise ConflictError("The default profile scores every tenant no other profile matches; it cannot be deleted")
    if not profiles.delete_profile(conn, profile_id):
        raise ResourceNotFoundError(f"Profile {profile_id} not found")


def preview_profile(conn: DbConnection, profile_id: str, document: ProfileDocument) -> ProfilePreview:
    active = _active(conn)
    current = active.get(profile_id)
    try:
        candidate = new_version(profile_id, document, current.version + 1 if current else 1)
    except ProfileError as exc:
        raise BadBodyError(exc.field, exc.problem) from None
    result = preview(conn, candidate, active)
    return ProfilePreview(
        tenants=result.tenants,
        changed=result.changed,
        risk_transitions=result.risk_transitions,
        movers=[
            PreviewMover(
                organization_id=m.organization_id,
                organization_name=m.organization_name,
                score_from=m.score_from,
                score_to=m.score_to,
                risk_from=m.risk_from,
                risk_to=m.risk_to,
            )
            for m in result.movers
        ],
    )


def restate_profile(conn: DbConnection, profile_id: str, days: RestateRequest, today: date) -> RestatementStarted:
    """Start restating the profile's tenants' days; RunInProgressError (409) while one of it runs."""
    if days.last_day > today:
        raise BadBodyError("to", f"{days.last_day} is in the future (today is {today} UTC)")
    if days.last_day < days.first_day:
        raise BadBodyError("to", f"{days.last_day} is before from {days.first_day}")
    if (days.last_day - days.first_day).days >= RESTATE_MAX_DAYS:
        raise BadBodyError("from", f"at most {RESTATE_MAX_DAYS} days may be restated at once")
    try:
        run = start_restatement(conn, _active(conn), profile_id, days.first_day, days.last_day)
    except UnknownProfileError as exc:
        raise ResourceNotFoundError(str(exc)) from None
    return RestatementStarted(
        message=f"Restating {run.tenants} tenant(s) from {days.first_day} to {days.last_day}",
        run_id=run.run_id,
        profile_id=run.profile_id,
        profile_version=run.profile_version,
        tenants=run.tenants,
    )
