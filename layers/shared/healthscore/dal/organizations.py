"""Reads of `organizations` that are not usage: the fan-out's list of active tenants."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from healthscore.dal.connection import DbConnection

ACTIVE_PAGE_SQL = """
SELECT id FROM organizations
WHERE status = 'ACTIVE' AND (%(after)s::uuid IS NULL OR id > %(after)s::uuid)
ORDER BY id
LIMIT %(limit)s
"""


def active_organization_pages(conn: DbConnection, page_size: int) -> Iterator[list[UUID]]:
    """ACTIVE organization ids in pages, by keyset on id: never all ids in memory."""
    after: UUID | None = None
    while True:
        rows = conn.execute(ACTIVE_PAGE_SQL, {"after": after, "limit": page_size}).fetchall()
        if not rows:
            return
        page = [row["id"] for row in rows]
        yield page
        after = page[-1]


def count_active(conn: DbConnection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM organizations WHERE status = 'ACTIVE'").fetchone()
    return int(row["n"]) if row else 0


def organization_exists(conn: DbConnection, organization_id: UUID) -> bool:
    """Whether the organization exists (the API answers 404 for an unknown one)."""
    return conn.execute("SELECT 1 FROM organizations WHERE id = %s", (organization_id,)).fetchone() is not None
