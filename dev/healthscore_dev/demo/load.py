"""Writes a demo fleet into the six source tables, and its recorded history, with COPY, in one transaction.

Tenants are written in chunks, one COPY per table per chunk (parents first, so the
foreign keys hold), which keeps memory flat however large the fleet is; a failure
anywhere rolls the whole seed back and leaves the previous data as it was.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import sql

from healthscore.dal.connection import DbConnection
from healthscore_dev.demo.fleet import COLUMNS, TABLES, Tenant, generate_fleet

SOURCE_TABLES = tuple(COLUMNS)
HISTORY_TABLE = "tenant_daily_inputs"  # what record-metrics kept on the fleet's past days
CHUNK_TENANTS = 500
# The demo fleet of `seed-demo` and of `run nightly` on an empty database, unless --tenants says otherwise
# (`make run` passes its TENANTS, also 500 by default).
DEMO_TENANTS = 500
DEMO_SEED = 42

# Binary COPY needs each column's type; it spares both sides formatting and parsing text.
COLUMN_TYPES = {
    "id": "uuid",
    "organization_id": "uuid",
    "name": "text",
    "status": "text",
    "email": "text",
    "feature_key": "text",
    "tracks_support_tickets": "bool",
    "enabled": "bool",
    "is_used": "bool",
    "total_assignments": "int4",
    "completed_assignments": "int4",
    "created_at": "timestamptz",
    "last_login_at": "timestamptz",
    "closed_at": "timestamptz",
    "sla_breach_at": "timestamptz",
    "completed_at": "timestamptz",
    "last_used_at": "timestamptz",
    "input_date": "date",
    "total_users": "int4",
    "active_users": "int4",
    "features_enabled": "int4",
    "features_used": "int4",
    "as_of": "timestamptz",
    "run_id": "text",
    "recorded_at": "timestamptz",
}


class FleetAlreadySeededError(RuntimeError):
    """The organizations table has rows and replacing them was not asked for."""


@dataclass
class SeedSummary:
    profiles: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)


def seed_fleet(conn: DbConnection, tenants: int, seed: int, as_of: datetime, replace: bool) -> SeedSummary:
    """Generate and write the fleet; refuse (FleetAlreadySeededError) if organizations has rows, unless `replace`."""
    with conn.transaction():
        existing = organization_count(conn)
        if existing and not replace:
            raise FleetAlreadySeededError(f"organizations already has {existing} row(s)")
        if replace:
            truncate_source_tables(conn)
        return write_fleet(conn, generate_fleet(tenants, seed, as_of))


def organization_count(conn: DbConnection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM organizations").fetchone()
    return int(row["n"]) if row else 0


def truncate_source_tables(conn: DbConnection) -> None:
    tables = sql.SQL(", ").join(sql.Identifier(table) for table in (*SOURCE_TABLES, HISTORY_TABLE))
    conn.execute(sql.SQL("TRUNCATE {}").format(tables))


def write_fleet(conn: DbConnection, fleet: Iterable[Tenant]) -> SeedSummary:
    summary = SeedSummary()
    for chunk in itertools.batched(fleet, CHUNK_TENANTS):
        summary.profiles.update(tenant.profile for tenant in chunk)
        for table, columns in TABLES.items():
            summary.rows[table] += copy_rows(conn, table, columns, chunk)
    return summary


def copy_rows(conn: DbConnection, table: str, columns: tuple[str, ...], chunk: Iterable[Tenant]) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    written = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([COLUMN_TYPES[column] for column in columns])
        for tenant in chunk:
            for row in tenant.rows_by_table()[table]:
                copy.write_row(row)
                written += 1
    return written
