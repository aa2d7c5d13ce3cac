"""A database that stops taking connections for a while, for the tests of what callers see then.

Import with `from database_faults import ...` (pytest puts `tests/` on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


@contextmanager
def database_refusing_connections(admin_url: str, database_url: str, keep: psycopg.Connection[Any]) -> Iterator[None]:
    """The database stops taking connections and drops the open ones but `keep`, until the block ends."""
    dbname = str(psycopg.conninfo.conninfo_to_dict(database_url)["dbname"])
    name = psycopg.sql.Identifier(dbname)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (dbname, keep.info.backend_pid),
        )
        try:
            yield
        finally:
            admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
