"""`risk_overrides`: every manual risk override ever set on a tenant, with who set and cleared it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from healthscore.dal.connection import DbConnection

OVERRIDE_COLUMNS = (
    "override_id, organization_id, risk_level, reason, set_by, set_at, expires_at, cleared_at, cleared_by"
)

# Writers of one tenant's overrides take turns (two CSMs saving at once must not leave two active).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('risk_overrides:' || %(id)s::text, 0))"

NEWEST_UNCLEARED_SQL = f"""
SELECT {OVERRIDE_COLUMNS} FROM risk_overrides
WHERE organization_id = %(id)s AND cleared_at IS NULL
ORDER BY set_at DESC, override_id DESC LIMIT 1
"""  # noqa: S608 - a constant column list

INSERT_SQL = f"""
INSERT INTO risk_overrides (organization_id, risk_level, reason, set_by, set_at, expires_at)
VALUES (%(id)s, %(risk_level)s, %(reason)s, %(set_by)s, %(set_at)s, %(expires_at)s)
RETURNING {OVERRIDE_COLUMNS}
"""  # noqa: S608 - a constant column list

CLEAR_SQL = "UPDATE risk_overrides SET cleared_at = %(at)s, cleared_by = %(by)s WHERE override_id = %(override_id)s"

HISTORY_SQL = f"""
SELECT {OVERRIDE_COLUMNS} FROM risk_overrides WHERE organization_id = %(id)s ORDER BY set_at DESC, override_id DESC
"""  # noqa: S608 - a constant column list


def lock_tenant(conn: DbConnection, organization_id: UUID) -> None:
    """Serialize override writes of this tenant until the transaction ends."""
    conn.execute(LOCK_SQL, {"id": organization_id})


def newest_uncleared(conn: DbConnection, organization_id: UUID) -> dict[str, Any] | None:
    """The tenant's override set last and not cleared by hand (it may have expired).

    Setting an override clears the one that still applies, so an older uncleared one has lapsed.
    """
    return conn.execute(NEWEST_UNCLEARED_SQL, {"id": organization_id}).fetchone()


def insert_override(
    conn: DbConnection,
    organization_id: UUID,
    *,
    risk_level: str,
    reason: str,
    set_by: str,
    set_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    params = {
        "id": organization_id,
        "risk_level": risk_level,
        "reason": reason,
        "set_by": set_by,
        "set_at": set_at,
        "expires_at": expires_at,
    }
    row = conn.execute(INSERT_SQL, params).fetchone()
    assert row is not None  # INSERT ... RETURNING returns the row
    return row


def clear_override(conn: DbConnection, override_id: int, cleared_by: str, cleared_at: datetime) -> None:
    conn.execute(CLEAR_SQL, {"override_id": override_id, "by": cleared_by, "at": cleared_at})


def override_history(conn: DbConnection, organization_id: UUID) -> list[dict[str, Any]]:
    """Every override of the tenant, newest first."""
    return conn.execute(HISTORY_SQL, {"id": organization_id}).fetchall()
