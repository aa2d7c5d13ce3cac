"""Apply the SQL files of `dal/migrations` in order, each in one transaction.

Applied files are recorded in `schema_migrations` with their checksum, so a re-run
is a no-op and an edited, already-applied file is refused rather than silently
ignored. An advisory lock keeps two deployments from migrating at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from healthscore.config import get_settings

MIGRATIONS_PACKAGE = "healthscore.dal.migrations"
# The platform's own tables: a deployment against the platform's database, where another
# role owns them, skips this file (it is recorded as applied without being run).
SOURCE_TABLES_MIGRATION = "0001_source_tables.sql"
LOCK_ID = 7_412_001  # pg_advisory_lock key for migrations


class MigrationError(RuntimeError):
    """A migration could not be applied; names the file and the database's reason."""


@dataclass(frozen=True)
class Migration:
    version: str  # the file name, e.g. 0001_source_tables.sql
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def bundled_migrations() -> list[Migration]:
    files = resources.files(MIGRATIONS_PACKAGE).iterdir()
    return sorted(
        (Migration(f.name, f.read_text()) for f in files if f.name.endswith(".sql")),
        key=lambda m: m.version,
    )


def migrations_in(folder: Path) -> list[Migration]:
    return [Migration(p.name, p.read_text()) for p in sorted(folder.glob("*.sql"))]


def migrate(
    conn: psycopg.Connection[Any], migrations: list[Migration] | None = None, skip: frozenset[str] = frozenset()
) -> list[str]:
    """Apply what is not applied yet; return the versions applied now.

    A version in `skip` is recorded as applied without being run (and not returned).
    """
    pending = bundled_migrations() if migrations is None else migrations
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied_now: list[str] = []
    for migration in pending:
        try:
            with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
                # Checked under the lock, so a concurrent migrate waits and then skips.
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
                cur.execute("SELECT checksum FROM schema_migrations WHERE version = %s", (migration.version,))
                row = cur.fetchone()
                if row is not None:
                    if row[0] != migration.checksum:
                        raise MigrationError(f"{migration.version}: already applied, but the file has changed since")
                    continue
                if migration.version not in skip:
                    cur.execute(migration.sql.encode())
                cur.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                    (migration.version, migration.checksum),
                )
        except psycopg.Error as exc:
            reason = exc.diag.message_primary or str(exc)
            raise MigrationError(f"{migration.version}: {reason}; nothing of it was applied") from exc
        if migration.version not in skip:
            applied_now.append(migration.version)
    return applied_now


def migrations_to_skip(skip_source_tables: bool = False) -> frozenset[str]:
    """What this deployment skips: the source tables, when asked or configured."""
    if skip_source_tables or get_settings().skip_source_tables_migration:
        return frozenset({SOURCE_TABLES_MIGRATION})
    return frozenset()
