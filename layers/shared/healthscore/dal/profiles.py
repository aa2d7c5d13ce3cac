"""`scoring_profiles` and their immutable `scoring_profile_versions`.

Saving locks the profile's row (`FOR UPDATE`) before numbering the new version, so two
administrators saving the same profile at the same moment get two versions, one after
the other, and neither is lost.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from healthscore.core.profiles import ProfileDocument, ScoringProfile, new_version
from healthscore.dal.connection import DbConnection

ACTIVE_SQL = """
SELECT p.profile_id, v.version, v.document
FROM scoring_profiles p
JOIN scoring_profile_versions v ON v.profile_id = p.profile_id AND v.version = p.active_version
WHERE p.deleted_at IS NULL
ORDER BY p.profile_id
"""

VERSION_SQL = """
SELECT profile_id, version, document FROM scoring_profile_versions WHERE profile_id = %s AND version = %s
"""

# A placeholder version 0 for a new profile: the deferred foreign key is checked at commit, by then it is real.
CLAIM_SQL = """
INSERT INTO scoring_profiles (profile_id, active_version) VALUES (%(id)s, 0) ON CONFLICT (profile_id) DO NOTHING
"""
LOCK_SQL = "SELECT 1 FROM scoring_profiles WHERE profile_id = %(id)s FOR UPDATE"
# A statement of its own after the lock: its snapshot then sees the version the lock waited for.
LATEST_SQL = "SELECT coalesce(max(version), 0) AS latest FROM scoring_profile_versions WHERE profile_id = %(id)s"
INSERT_VERSION_SQL = """
INSERT INTO scoring_profile_versions (profile_id, version, document, created_by)
VALUES (%(id)s, %(version)s, %(document)s, %(created_by)s)
"""
ACTIVATE_SQL = """
UPDATE scoring_profiles SET active_version = %(version)s, deleted_at = NULL, updated_at = now()
WHERE profile_id = %(id)s
"""
DELETE_SQL = """
UPDATE scoring_profiles SET deleted_at = now(), updated_at = now() WHERE profile_id = %s AND deleted_at IS NULL
"""


def active_profiles(conn: DbConnection) -> list[ScoringProfile]:
    """The active version of every profile not deleted."""
    return [_profile(row) for row in conn.execute(ACTIVE_SQL).fetchall()]


def profile_version(conn: DbConnection, profile_id: str, version: int) -> ScoringProfile | None:
    row = conn.execute(VERSION_SQL, (profile_id, version)).fetchone()
    return _profile(row) if row else None


def save_profile(
    conn: DbConnection, profile_id: str, document: ProfileDocument, created_by: str, *, only_if_new: bool = False
) -> ScoringProfile | None:
    """Store `document` as the profile's next version and make it active.

    With `only_if_new`, nothing is written (None is returned) when the profile already has a version:
    how concurrent start-ups seed `default` once.
    """
    with conn.transaction():
        conn.execute(CLAIM_SQL, {"id": profile_id})
        conn.execute(LOCK_SQL, {"id": profile_id})
        row = conn.execute(LATEST_SQL, {"id": profile_id}).fetchone()
        latest = int(row["latest"]) if row else 0
        if only_if_new and latest:
            return None
        profile = new_version(profile_id, document, latest + 1)
        params = {
            "id": profile_id,
            "version": profile.version,
            "document": Jsonb(profile.document()),
            "created_by": created_by,
        }
        conn.execute(INSERT_VERSION_SQL, params)
        conn.execute(ACTIVATE_SQL, params)
    return profile


def delete_profile(conn: DbConnection, profile_id: str) -> bool:
    """Stop the profile scoring; False when there was no active profile of that id."""
    return conn.execute(DELETE_SQL, (profile_id,)).rowcount > 0


def _profile(row: dict[str, Any]) -> ScoringProfile:
    return ScoringProfile.model_validate({**row["document"], "profileId": row["profile_id"], "version": row["version"]})
